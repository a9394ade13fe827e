"""The streaming sampler core (``pbit_stream``): one logit a clock in, a token out, no logit memory.

Contract: :mod:`pysampler.contract.stream_format` (the stream format ``stream_format``: the
logits' width, the accumulator, the sigmoid ROM and log-add table of the accumulator format, the
reservoirs and the draw order); the model: :mod:`pysampler.engines.stream`.

A run::

    IDLE --start--> STREAM (one logit a clock while ``logit.valid``: C interleaved reservoirs,
                            a two-stage accumulator pipeline)
         --> DRAIN (1 clock: the last logit's second stage)
         --> LOOKUP, MERGE (2 clocks per merge, C - 1 merges) --> IDLE, done, token

Logit k goes to reservoir c = k mod C. Stage 1 (the clock the logit is taken): the field
``d = (data << A) - M_c`` addresses the sigmoid ROM and the log-add ROM (both synchronous, block
RAM); ``max(x, M_c)`` and d are registered. Stage 2 (the next clock): one draw, the decision
``u < LUT`` (forced on the reservoir's first logit), ``M_c <- max + LOGADD``, the held token. M_c
is read again at logit k + C, at least two clocks later, so C >= 2 makes the loop a two-stage
pipeline with no stall: one logit per clock sustained. A token costs V + 2 (C - 1) + 3 clocks from
the start strobe to ``done`` (:func:`~pysampler.contract.stream_format.stream_clocks`).

The row length V is the N_ACTIVE register (1..max_vocab; 0 or more is refused with
``Err.VALUE``); every beat carries ``last``. ``last`` before beat V - 1 ends the row there
(the token is drawn from what came) and ``last`` missing on beat V - 1 means the source has extra
logits, which the core does not take: both raise ``Err.STREAM``. The run phases are
:class:`~pysampler.contract.regmap.StreamPhase`.
"""

from __future__ import annotations

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core, Err, StreamPhase
from pysampler.contract.stream_format import StreamFormat, merge_order, stream_format

from .control import flag, program_port, prog_signature
from .lut import lut_rom, lut_rom_address
from .rng import Rng

__all__ = ["StreamCore"]


class StreamCore(wiring.Component):
    """Streaming sampler core for rows of up to ``max_vocab`` logits.

    Parameters
    ----------
    cfg : HwConfig
        The hardware configuration; the core works in ``stream_format(cfg, **format_options)``.
    debug_trace : bool
        Put the field, LUT entry, draw and M of every decision on the trace port (simulation);
        False keeps (valid, merge, index, bit, forced) only, for FPGA builds (pin count).
    format_options
        :func:`pysampler.contract.stream_format.stream_format`'s options (``reservoirs`` >= 2).

    Attributes
    ----------
    regmap : CoreMap
        The stream core's map: N_ACTIVE (the row length V), the seed, CLEAR_ERR, COUPLING
        (ignored).
    prog, start, busy, done, irq, err
        As the other cores (``err`` adds ``Err.STREAM``; a START write starts as ``start``).
    logit : In(valid, ready, data, last)
        The logits of a row in vocabulary order: ``data`` signed weight_bits + G bits (the stream's
        logit format, <= 0), ``last`` on the row's final beat; a beat is taken when valid and
        ready; ``ready`` is high in STREAM.
    token : Out(index_bits)
        The drawn token, valid from ``done``.
    trace : Out(valid, merge, index, bit, forced[, field, lut, u, m])
        One beat per decision: logit steps (merge = 0, index = k) in stage 2, then merges (merge
        = 1, index = the left slot); with ``debug_trace`` also the field (acc_bits + 1 signed),
        the LUT entry (P' + 1 bits, 0 when forced), the draw (P' bits) and M of the reservoir or
        slot after the step.
    """

    def __init__(self, cfg: HwConfig, *, debug_trace: bool = True, **format_options):
        self.cfg = cfg
        self.debug_trace = debug_trace
        self.fmt: StreamFormat = stream_format(cfg, **format_options)
        if self.fmt.reservoirs < 2:
            raise ValueError(f"the stream core needs reservoirs >= 2 (its accumulator is a "
                             f"two-stage pipeline), got {self.fmt.reservoirs}")
        acc = self.fmt.acc
        self.regmap = rm.CoreMap.of(Core.STREAM, acc)
        ib = self.fmt.index_bits
        trace = {"valid": Out(1), "merge": Out(1), "index": Out(ib), "bit": Out(1),
                 "forced": Out(1)}
        if debug_trace:
            trace.update({"field": Out(signed(acc.weight_bits + 1)), "lut": Out(acc.prob_bits + 1),
                          "u": Out(acc.prob_bits), "m": Out(signed(acc.weight_bits))})
        super().__init__({
            "prog": In(prog_signature(self.regmap)),
            "start": In(1), "busy": Out(1), "done": Out(1), "irq": Out(1),
            "err": Out(rm.ERR_BITS),
            "logit": In(Signature({"valid": Out(1), "ready": In(1),
                                   "data": Out(signed(self.fmt.logit.weight_bits)),
                                   "last": Out(1)})),
            "token": Out(ib),
            "trace": Out(Signature(trace)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        fmt, acc = self.fmt, self.fmt.acc
        n_res, width, ib = fmt.reservoirs, acc.weight_bits, fmt.index_bits
        m.submodules.rng = rng = Rng(acc)
        m.submodules.rom = rom = lut_rom(acc)
        sig_rd = rom.read_port(domain="sync")
        table = [int(v) for v in fmt.logadd()]
        m.submodules.logadd = logadd_mem = Memory(shape=unsigned(max(max(table).bit_length(), 1)),
                                                  depth=len(table), init=table)
        la_rd = logadd_mem.read_port(domain="sync")

        phase = Signal(StreamPhase, init=StreamPhase.IDLE)
        busy = phase != StreamPhase.IDLE
        port = program_port(m, self.prog, busy, self.regmap, rng, done=self.done,
                            status={"TOKEN": self.token})
        m.d.comb += [self.busy.eq(busy), self.err.eq(port.err), self.irq.eq(port.irq)]

        masses = [Signal(signed(width), name=f"m{c}") for c in range(n_res)]
        held = [Signal(ib, name=f"held{c}") for c in range(n_res)]
        present = [Signal(name=f"present{c}") for c in range(n_res)]
        slot_bits = max(1, (n_res - 1).bit_length())

        def pick(values, index):
            """values[index] as a chain of Muxes: continuous assignments, which Icarus evaluates
            at time 0 (an Array read becomes an always @* block that stays X until its index
            changes)."""
            out = values[0]
            for c in range(1, len(values)):
                out = Mux(index == c, values[c], out)
            return out

        def table_addresses(field):
            """Sigmoid and log-add ROM addresses of a field (read in the next clock)."""
            distance = Signal(width + 1)
            bucket = Signal(width + 1)
            m.d.comb += [distance.eq(Mux(field < 0, -field, field)),
                         bucket.eq(distance >> acc.lut_shift),
                         sig_rd.addr.eq(lut_rom_address(m, field, acc)),
                         la_rd.addr.eq(Mux(bucket >= len(table), len(table) - 1, bucket))]

        # --- start --------------------------------------------------------------------------
        k = Signal(ib + 1)  # logits taken
        with m.If(self.start | port.start):
            with m.If(busy):
                flag(m, port.err_set, Err.BUSY_START)
            with m.Elif(port.n_active == 0):
                # never true (N_ACTIVE refuses 0); it also gives err bit BAD_START a driver that
                # depends on signals, which Icarus needs to leave the bit 0 rather than X
                flag(m, port.err_set, Err.BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(StreamPhase.STREAM), self.done.eq(0), k.eq(0)]
                m.d.sync += [present[c].eq(0) for c in range(n_res)]

        # --- stage 1: take a logit ----------------------------------------------------------
        fire = Signal()
        m.d.comb += [self.logit.ready.eq(phase == StreamPhase.STREAM),
                     fire.eq(self.logit.valid & self.logit.ready)]
        slot = Signal(slot_bits)
        m.d.comb += slot.eq(k[:slot_bits])
        x = Signal(signed(width))
        m.d.comb += x.eq(self.logit.data << fmt.acc_shift)
        m_old = Signal(signed(width))
        m.d.comb += m_old.eq(pick(masses, slot))
        field = Signal(signed(width + 1))
        m.d.comb += field.eq(x - m_old)
        s1_valid, s1_first = Signal(), Signal()
        s1_slot = Signal(slot_bits)
        s1_k = Signal(ib)
        s1_max = Signal(signed(width))
        s1_field = Signal(signed(width + 1))
        m.d.sync += s1_valid.eq(fire)
        with m.If(phase == StreamPhase.STREAM):
            table_addresses(field)
        with m.If(fire):
            first = ~pick(present, slot)
            m.d.sync += [s1_first.eq(first), s1_slot.eq(slot), s1_k.eq(k[:ib]),
                         s1_max.eq(Mux(first | (x > m_old), x, m_old)),
                         s1_field.eq(Mux(first, 0, field)), k.eq(k + 1)]
            final = k == port.n_active - 1
            with m.If(self.logit.last | final):
                m.d.sync += phase.eq(StreamPhase.DRAIN)
                with m.If(self.logit.last != final):
                    flag(m, port.err_set, Err.STREAM)

        # --- stage 2: decide, accumulate ----------------------------------------------------
        take = Signal()
        m_new = Signal(signed(width))
        m.d.comb += [take.eq(s1_first | (rng.u < sig_rd.data)),
                     m_new.eq(s1_max + Mux(s1_first, 0, la_rd.data))]
        with m.If(s1_valid):
            m.d.comb += rng.advance.eq(1)
            with m.Switch(s1_slot):
                for c in range(n_res):
                    with m.Case(c):
                        m.d.sync += [masses[c].eq(m_new), present[c].eq(1)]
                        with m.If(take):
                            m.d.sync += held[c].eq(s1_k)

        # --- merges: LOOKUP reads two slots, MERGE decides ---------------------------------
        merges = merge_order(n_res)
        step = Signal(range(max(len(merges), 2)))
        left, right = Signal(slot_bits), Signal(slot_bits)
        m.d.comb += [left.eq(pick([i for i, _ in merges], step)),
                     right.eq(pick([j for _, j in merges], step))]
        with m.If(phase == StreamPhase.DRAIN):
            m.d.sync += [phase.eq(StreamPhase.LOOKUP), step.eq(0)]
        m_left, m_right = Signal(signed(width)), Signal(signed(width))
        m.d.comb += [m_left.eq(pick(masses, left)), m_right.eq(pick(masses, right))]
        left_ok, right_ok = pick(present, left), pick(present, right)
        held_left, held_right = pick(held, left), pick(held, right)
        merge_field = Signal(signed(width + 1))
        m.d.comb += merge_field.eq(m_right - m_left)
        g_left_ok, g_right_ok = Signal(), Signal()
        g_max = Signal(signed(width))
        g_field = Signal(signed(width + 1))
        with m.If(phase == StreamPhase.LOOKUP):
            table_addresses(merge_field)
            m.d.sync += [g_left_ok.eq(left_ok), g_right_ok.eq(right_ok),
                         g_max.eq(Mux(m_right > m_left, m_right, m_left)),
                         g_field.eq(Mux(left_ok & right_ok, merge_field, 0)),
                         phase.eq(StreamPhase.MERGE)]
        go_right = Signal()
        merged = Signal(signed(width))
        both = g_left_ok & g_right_ok
        m.d.comb += [go_right.eq(Mux(~g_right_ok, 0, Mux(~g_left_ok, 1, rng.u < sig_rd.data))),
                     merged.eq(Mux(both, g_max + la_rd.data, Mux(g_right_ok, m_right, m_left)))]
        with m.If(phase == StreamPhase.MERGE):
            m.d.comb += rng.advance.eq(1)
            with m.Switch(left):
                for c in sorted({i for i, _ in merges}):
                    with m.Case(c):
                        m.d.sync += [masses[c].eq(merged), present[c].eq(g_left_ok | g_right_ok)]
                        with m.If(go_right):
                            m.d.sync += held[c].eq(held_right)
            with m.If(step == len(merges) - 1):
                m.d.sync += [phase.eq(StreamPhase.IDLE), self.done.eq(1),
                             self.token.eq(Mux(go_right, held_right, held_left))]
            with m.Else():
                m.d.sync += [step.eq(step + 1), phase.eq(StreamPhase.LOOKUP)]

        in_merge = phase == StreamPhase.MERGE
        forced = Mux(in_merge, ~both, s1_first)
        m.d.comb += [
            self.trace.valid.eq(s1_valid | in_merge), self.trace.merge.eq(in_merge),
            self.trace.index.eq(Mux(in_merge, left, s1_k)),
            self.trace.bit.eq(Mux(in_merge, go_right, take)), self.trace.forced.eq(forced),
        ]
        if self.debug_trace:
            m.d.comb += [self.trace.field.eq(Mux(in_merge, g_field, s1_field)),
                         self.trace.lut.eq(Mux(forced, 0, sig_rd.data)), self.trace.u.eq(rng.u),
                         self.trace.m.eq(Mux(in_merge, merged, m_new))]
        return m
