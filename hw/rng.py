"""Random number generator component: draws per clock, leap-forward from the Python step."""

from __future__ import annotations

from amaranth import Module, Mux, Signal
from amaranth.hdl import Cat
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import derive_state, transition_matrix

__all__ = ["Rng", "one_draw_on"]


def _apply(columns: list[int], state: Signal, width: int) -> list:
    """The bits of the GF(2) matrix ``columns`` applied to ``state``: each bit the XOR of the
    state bits its row selects."""
    bits = []
    for row in range(width):
        bit = 0
        for c in range(width):
            if (columns[c] >> row) & 1:
                bit = bit ^ state[c]
        bits.append(bit)
    return bits


def _times(columns: list[int], vector: int) -> int:
    """The GF(2) matrix ``columns`` times ``vector`` (an int of bits)."""
    out, c = 0, 0
    while vector:
        if vector & 1:
            out ^= columns[c]
        vector >>= 1
        c += 1
    return out


def one_draw_on(cfg: HwConfig, state) -> list:
    """The bits of ``state`` (rng_bits) one draw (``cfg.rng_steps`` steps) on: the rows of
    :func:`pysampler.contract.rng.transition_matrix` applied to it, as :class:`Rng`'s
    ``ahead1`` (for a caller that keeps generator states in registers of its own)."""
    return _apply(transition_matrix(cfg, cfg.rng_steps), state, cfg.rng_bits)


class Rng(wiring.Component):
    """The ``cfg.rng`` generator: ``draws`` consecutive draws per clock, advanced by one of
    ``advances`` draws (``cfg.rng_steps`` steps each) when ``advance`` is high.

    Every next-state and draw bit is a row of the GF(2) matrix of ``j * rng_steps`` calls of
    :func:`pysampler.contract.rng.rng_step` (:func:`pysampler.contract.rng.transition_matrix`): the
    Python definition applied to the basis states, no second description of the generator. Draw j
    (0 .. draws - 1) is the top prob_bits of the state j + 1 draws ahead, so the L lanes of a
    stream beat take the draws the contract gives them in arrival order.

    Parameters
    ----------
    cfg : HwConfig
    draws : int
        Draws offered per clock (the stream core's lanes; 1 for the other cores).
    advances : tuple of int
        The draw counts an advance can take (``advance_by`` indexes them); default (1,).
    reset_state : int, optional
        The state after reset (default ``derive_state(0, 0, cfg)``; the graph core's unit i
        starts at ``derive_state(0, i, cfg)``), checked nonzero and within rng_bits.

    Attributes
    ----------
    advance : In(1)
        Step the generator by ``advances[advance_by]`` draws at the next clock edge.
    advance_by : In(range(len(advances)))
    load : In(1)
        Load ``seed`` at the next clock edge (has priority over ``advance``). The caller never loads 0.
    seed : In(rng_bits)
    state : Out(rng_bits)
        Current state; after reset ``reset_state`` (never 0).
    u : Out(prob_bits * draws)
        The draws, draw j in bits [j P, (j + 1) P): the top prob_bits of the state j + 1 draws
        ahead, combinational (``draw(j)``).
    """

    def __init__(self, cfg: HwConfig, *, draws: int = 1, advances: tuple[int, ...] = (1,),
                 reset_state: int | None = None):
        self.cfg, self.draws, self.advances = cfg, draws, tuple(advances)
        if reset_state is None:
            reset_state = derive_state(0, 0, cfg)
        if not 0 < reset_state < 1 << cfg.rng_bits:
            raise ValueError(f"reset_state must be in [1, 2**{cfg.rng_bits} - 1], got "
                             f"{reset_state!r}")
        super().__init__({
            "advance": In(1), "advance_by": In(range(max(len(self.advances), 2))),
            "load": In(1), "seed": In(cfg.rng_bits),
            "state": Out(cfg.rng_bits, init=reset_state),
            "u": Out(cfg.prob_bits * draws),
        })

    def draw(self, j: int):
        """Draw j of this clock (prob_bits)."""
        p = self.cfg.prob_bits
        return self.u[j * p:(j + 1) * p]

    def elaborate(self, platform) -> Module:
        m = Module()
        cfg = self.cfg
        width, steps = cfg.rng_bits, cfg.rng_steps
        one = transition_matrix(cfg, steps)  # one draw
        power = list(one)  # one draw, raised to the j-th power below (columns of M^j)
        ahead = {}  # draws ahead -> the state that many draws on
        for j in range(1, max(self.draws, *self.advances) + 1):
            if j > 1:
                power = [_times(one, col) for col in power]
            if j <= self.draws or j in self.advances:
                ahead[j] = Signal(width, name=f"ahead{j}")
                m.d.comb += ahead[j].eq(Cat(*_apply(power, self.state, width)))
        m.d.comb += self.u.eq(Cat(*(ahead[j + 1][width - cfg.prob_bits:]
                                    for j in range(self.draws))))
        nxt = ahead[self.advances[0]]
        for k, count in enumerate(self.advances[1:], start=1):
            nxt = Mux(self.advance_by == k, ahead[count], nxt)
        with m.If(self.load):
            m.d.sync += self.state.eq(self.seed)
        with m.Elif(self.advance):
            m.d.sync += self.state.eq(nxt)
        return m
