"""The one-hot sampler core (``pbit_onehot``): h in memory, one coupling j, a popcount. Scales to
large V.

Field of unit i: ``h_i + d_e + j_e * (popcount - y_i)``, with (d_e, j_e) the bias offset and
coupling of the lambda-schedule entry e of the current sweep (SCHED_OFFSET[e], SCHED_COUPLING[e] of
:mod:`pysampler.contract.regmap`; one entry, d = 0, without a schedule). The core keeps
``cpop_e = j_e * popcount`` for every entry as registers that move by +-j_e when a unit flips, so
no multiplier sits in the update loop (and a new entry at a sweep boundary needs no product
either), and keeps y in a 1-bit-wide memory. During the first sweep of a run the old value of a
unit comes from the init policy (zeros, or the one unit random_onehot turned on), so no clearing
pass is needed. h is read three units ahead into a register (h memory does not change during a
run), so the field arithmetic starts from a flip-flop rather than from a block RAM's slow output.
"""

from __future__ import annotations

from types import SimpleNamespace

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib.memory import Memory

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core, Phase

from .control import PbitCore
from .lut import lut_rom_address

__all__ = ["OnehotCore"]


class OnehotCore(PbitCore):
    """One-hot token sampler core with ``cfg.n_pbits`` units (see :class:`hw.control.PbitCore`
    for the ports). Init policies: zeros, random_onehot and keep (go on from the last run's
    state).

    Parameters
    ----------
    cfg : HwConfig
    debug_trace : bool
        As :class:`hw.control.PbitCore`.
    schedule_depth : int
        Lambda-schedule entries the core holds, 1..``regmap.SCHEDULE_DEPTH`` (default:
        all); each costs a ``j_e * popcount`` register and its adder, so a core that needs no
        schedule is built with 1 (SCHED_LEN then accepts only 1).
    """

    core = Core.ONEHOT

    def __init__(self, cfg: HwConfig, *, debug_trace: bool = True,
                 schedule_depth: int = rm.SCHEDULE_DEPTH):
        if isinstance(schedule_depth, bool) or not isinstance(schedule_depth, int) \
                or not 1 <= schedule_depth <= rm.SCHEDULE_DEPTH:
            self._MustUse__silence = True  # never built: no "unused elaboratable" warning
            raise ValueError(f"schedule_depth must be an int in [1, {rm.SCHEDULE_DEPTH}], "
                             f"got {schedule_depth!r}")
        self.schedule_depth = schedule_depth
        super().__init__(cfg, debug_trace=debug_trace)

    def datapath(self, m: Module, c: SimpleNamespace) -> None:
        cfg, n = self.cfg, self.cfg.n_pbits
        h_mem = Memory(shape=unsigned(cfg.weight_bits), depth=n, init=[])
        y_mem = Memory(shape=unsigned(1), depth=n, init=[])
        m.submodules.h_mem, m.submodules.y_mem = h_mem, y_mem
        h_wr, h_rd = h_mem.write_port(), h_mem.read_port()
        y_wr = y_mem.write_port()
        y_rd = y_mem.read_port(transparent_for=(y_wr,))
        y_out = y_mem.read_port()

        depth = self.schedule_depth
        pop = Signal(range(n + 1))
        cpops = [Signal(signed(cfg.field_bits + 1), name=f"cpop{e}") for e in range(depth)]
        tok = Signal(self.idx_bits)
        yold_q = Signal()
        field_q = Signal(signed(cfg.field_bits))
        m.d.comb += [self.popcount.eq(pop), self.token.eq(tok), y_out.addr.eq(self.rd_addr),
                     self.rd_data.eq(y_out.data)]
        if self.debug_trace:
            m.d.comb += self.trace.field.eq(field_q)

        with m.If(c.written["H"]):
            m.d.comb += [h_wr.addr.eq(c.offset), h_wr.data.eq(c.data), h_wr.en.eq(1)]

        def init_value(unit):
            return c.init_onehot & (unit == c.k_init)

        def select(entry, name):
            """(cpop, coupling, bias offset) of schedule entry ``entry`` (a signal)."""
            out = [Signal(signed(cfg.field_bits + 1), name=f"{name}_cpop"),
                   Signal(signed(cfg.weight_bits), name=f"{name}_coupling"),
                   Signal(signed(cfg.weight_bits), name=f"{name}_offset")]
            with m.Switch(entry):
                for e in range(depth):
                    with m.Case(e):
                        m.d.comb += [out[0].eq(cpops[e]), out[1].eq(c.sched_couplings[e]),
                                     out[2].eq(c.sched_offsets[e])]
            return out

        # The schedule values of the unit whose field is formed in a clock are registered one
        # clock ahead (its entry is known from registers), so the field arithmetic starts from
        # flip-flops as without a schedule: hb_q = h + bias offset, sel_cp = j_e * popcount
        # (before this clock's decision), sel_j = j_e.
        hb_q = Signal(signed(cfg.weight_bits + 1))
        sel_cp = Signal(signed(cfg.field_bits + 1))
        sel_j = Signal(signed(cfg.weight_bits))
        h_now = h_rd.data.as_signed()
        with m.If((c.phase == Phase.INIT) & ~c.keep):  # keep: popcount and j_e * popcount stay
            m.d.sync += pop.eq(c.init_onehot)
            m.d.sync += [cpops[e].eq(Mux(c.init_onehot, c.sched_couplings[e], 0))
                         for e in range(depth)]
        # y is read from its memory into a register (y_pre_q) a clock before it is needed, so no
        # block-RAM output feeds the field logic. The one old value this misses, that of a unit
        # decided in the clock in between, happens only with two units: it is forwarded.
        y_pre_q = Signal()  # stored value of the unit whose field is formed this clock
        y0_q = Signal()     # stored value of unit 0 (keep)
        last_new_q = Signal()
        decided_q = Signal()  # a unit was decided in the previous clock
        m.d.sync += decided_q.eq(c.phase == Phase.RUN)
        with m.If(c.phase == Phase.INIT):
            m.d.comb += [h_rd.addr.eq(0), y_rd.addr.eq(0)]
        with m.If(c.phase == Phase.FILL):  # unit 0
            _, _, offset0 = select(c.entry_ahead[0], "fill")
            m.d.comb += [h_rd.addr.eq(c.nxt), y_rd.addr.eq(c.nxt)]
            m.d.sync += [hb_q.eq(h_now + offset0), y0_q.eq(y_rd.data)]
        with m.If(c.phase == Phase.PRIME):  # unit 0's field; registers for unit 1 (nxt)
            y0 = Mux(c.keep, y0_q, init_value(0))
            cpop, coupling, _ = select(c.entry_ahead[0], "prime0")
            field0 = Signal(signed(cfg.field_bits))
            m.d.comb += field0.eq(hb_q + cpop - Mux(y0, coupling, 0))
            address0 = lut_rom_address(m, field0, cfg)
            m.d.comb += [c.engine.address0.eq(address0), c.engine.address1.eq(address0),
                         h_rd.addr.eq(c.nxt2), y_rd.addr.eq(c.nxt2)]
            m.d.sync += y_pre_q.eq(y_rd.data)
            cp1, j1, off1 = select(Mux(c.last_unit, c.entry_ahead[1], c.entry_ahead[0]), "prime1")
            m.d.sync += [field_q.eq(field0), yold_q.eq(y0),
                         hb_q.eq(h_now + off1), sel_cp.eq(cp1), sel_j.eq(j1)]
            with m.If(~c.keep):
                m.d.sync += tok.eq(Mux(c.init_onehot, c.k_init, 0))
        with m.If(c.phase == Phase.RUN):
            # Everything for unit nxt is computed for both outcomes of this clock's decision; the
            # decision (c.new) only selects.
            cpop0 = Signal(signed(cfg.field_bits + 1))
            cpop1 = Signal(signed(cfg.field_bits + 1))
            m.d.comb += [cpop0.eq(Mux(yold_q, sel_cp - sel_j, sel_cp)),
                         cpop1.eq(Mux(yold_q, sel_cp, sel_cp + sel_j))]
            y_memory = Mux((c.n_active == 2) & decided_q, last_new_q, y_pre_q)
            y_stored = Signal()
            m.d.comb += y_stored.eq(Mux(c.first_sweep & ~c.last_unit, init_value(c.nxt), y_memory))
            single = c.n_active == 1  # unit nxt is unit idx: its old value is this decision
            y_next0, y_next1 = Signal(), Signal()
            m.d.comb += [y_next0.eq(~single & y_stored), y_next1.eq(single | y_stored)]
            # The old value of unit nxt comes out of the y memory late in the clock: all four
            # sums and their ROM addresses are formed first and it only selects.
            sums, addresses = {}, {}
            for name, base in (("0", cpop0), ("1", cpop1)):
                for y_on in (0, 1):
                    sums[name, y_on] = Signal(signed(cfg.field_bits), name=f"field{name}_y{y_on}")
                    m.d.comb += sums[name, y_on].eq(hb_q + base - (sel_j if y_on else 0))
                    addresses[name, y_on] = lut_rom_address(m, sums[name, y_on], cfg)
            field0, field1 = Signal(signed(cfg.field_bits)), Signal(signed(cfg.field_bits))
            m.d.comb += [field0.eq(Mux(y_next0, sums["0", 1], sums["0", 0])),
                         field1.eq(Mux(y_next1, sums["1", 1], sums["1", 0]))]
            new = c.new
            m.d.comb += [
                c.engine.address0.eq(Mux(y_next0, addresses["0", 1], addresses["0", 0])),
                c.engine.address1.eq(Mux(y_next1, addresses["1", 1], addresses["1", 0])),
                h_rd.addr.eq(c.nxt3), y_rd.addr.eq(c.nxt3),
                y_wr.addr.eq(c.idx), y_wr.data.eq(new), y_wr.en.eq(1),
            ]
            # Registers for unit nxt2 (next clock's nxt): its entry (0, 1 or 2 sweep ends
            # ahead), its values after this decision.
            nxt_last = c.nxt == c.n_active - 1
            entry2 = Mux(c.last_unit, Mux(nxt_last, c.entry_ahead[2], c.entry_ahead[1]),
                         Mux(nxt_last, c.entry_ahead[1], c.entry_ahead[0]))
            cp2, j2, off2 = select(entry2, "run2")
            m.d.sync += [hb_q.eq(h_now + off2), sel_j.eq(j2),
                         sel_cp.eq(Mux(new, Mux(yold_q, cp2, cp2 + j2),
                                       Mux(yold_q, cp2 - j2, cp2)))]
            flipped = new ^ yold_q
            for e in range(depth):  # every entry's j_e * popcount follows the flip
                step = c.sched_couplings[e]
                m.d.sync += cpops[e].eq(Mux(flipped, Mux(new, cpops[e] + step, cpops[e] - step),
                                            cpops[e]))
            m.d.sync += [
                y_pre_q.eq(y_rd.data), last_new_q.eq(new),
                field_q.eq(Mux(new, field1, field0)),
                yold_q.eq(Mux(new, y_next1, y_next0)),
                pop.eq(Mux(flipped, Mux(new, pop + 1, pop - 1), pop)),
                tok.eq(tok ^ Mux(flipped, c.idx, 0)),
            ]
