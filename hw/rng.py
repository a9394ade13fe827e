"""Random number generator component: one draw per clock, leap-forward from the Python step."""

from __future__ import annotations

from amaranth import Module, Signal
from amaranth.hdl import Cat
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import derive_state, transition_matrix

__all__ = ["Rng"]


class Rng(wiring.Component):
    """The ``cfg.rng`` generator advanced ``cfg.rng_steps`` steps per clock.

    The next-state logic is the GF(2) matrix of ``rng_steps`` calls of
    :func:`pysampler.contract.rng.rng_step` (:func:`pysampler.contract.rng.transition_matrix`):
    each next-state bit is the XOR of the state bits its row selects. It is therefore the Python
    definition, applied to the basis states, and needs no second description of the generator.

    Parameters
    ----------
    cfg : HwConfig

    Attributes
    ----------
    advance : In(1)
        Step the generator (one draw) at the next clock edge.
    load : In(1)
        Load ``seed`` at the next clock edge (has priority over ``advance``). The caller never loads 0.
    seed : In(rng_bits)
    state : Out(rng_bits)
        Current state; after reset ``derive_state(0, 0, cfg)`` (never 0).
    u : Out(prob_bits)
        The draw that ``advance`` takes: the top prob_bits of the *next* state, combinational.
    """

    def __init__(self, cfg: HwConfig):
        self.cfg = cfg
        super().__init__({
            "advance": In(1), "load": In(1), "seed": In(cfg.rng_bits),
            "state": Out(cfg.rng_bits, init=derive_state(0, 0, cfg)), "u": Out(cfg.prob_bits),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        width = self.cfg.rng_bits
        columns = transition_matrix(self.cfg)
        nxt = Signal(width)
        bits = []
        for row in range(width):
            taps = [self.state[c] for c in range(width) if (columns[c] >> row) & 1]
            bit = 0
            for tap in taps:
                bit = bit ^ tap
            bits.append(bit)
        m.d.comb += nxt.eq(Cat(*bits))
        m.d.comb += self.u.eq(nxt[width - self.cfg.prob_bits:])
        with m.If(self.load):
            m.d.sync += self.state.eq(self.seed)
        with m.Elif(self.advance):
            m.d.sync += self.state.eq(nxt)
        return m
