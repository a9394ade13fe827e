"""The streaming sampler core (``pbit_stream``): L logits a clock in, a token out, no logit memory.

Contract: :mod:`pysampler.contract.stream_format` (the stream format ``stream_format``: the
logits' width, the accumulator, the sigmoid ROM and log-add table of the accumulator format, the
lanes, the reservoirs, the merge tree and the draw order); the model:
:mod:`pysampler.engines.stream`.

A run::

    IDLE --start--> STREAM (one beat of L logits a clock while ``logit.valid``: per lane two
                            interleaved reservoirs, a two-stage accumulator pipeline)
         --> DRAIN (1 clock: the last beat's second stage)
         --> LOOKUP, MERGE (2 clocks per merge level, ceil(log2 2L) levels) --> IDLE, done, token

Lane l takes logits k = bL + l (beat b) into its reservoir of phase b mod 2 (reservoir c = k mod
2L of the contract). Stage 1 (the clock a beat is taken), in every lane: the field
``d = (data_l << A) - M`` addresses the lane's sigmoid ROM and log-add ROM (both synchronous,
block RAM; two lanes share each ROM through its two read ports); ``max(x, M)`` and d are
registered. Stage 2 (the next clock): the lanes take the L draws of the clock (draw l, the
generator advancing L draws), decide ``u_l < LUT`` (forced on a reservoir's first logit), and
write ``M <- max + LOGADD`` and the held token. A lane's reservoir is read again two beats later,
so the loop closes in two stages and the port takes one beat every clock with no stall. The lanes
of a partial last beat (V not a multiple of L) are empty: they spend their draws and change
nothing. Merges (:func:`~pysampler.contract.stream_format.merge_levels`): level 0 merges each
lane's two reservoirs, every later level folds the upper half of the lanes onto the lower half;
each merge is done by the lane of its left slot, with that lane's ROMs and draw, a whole level in
one LOOKUP and one MERGE clock (the generator advancing as many draws as the level has merges).
A token costs ceil(V / L) + 2 ceil(log2 2L) + 3 clocks from the start strobe to ``done``
(:func:`~pysampler.contract.stream_format.stream_clocks`; V + 5 at L = 1).

The sigmoid ROM holds the LUT entries between its saturated runs only (the entries outside are
the table's first or last value, chosen by a compare), about half the table at the default
format; the log-add ROM holds the whole table (it ends at its first 0 entry).

The row length V is the N_ACTIVE register (1..max_vocab; 0 or more is refused with
``Err.VALUE``); every beat carries ``last``. ``last`` before the row's final beat ends the row
there (the token is drawn from what came) and ``last`` missing on the final beat means the source
has more, which the core does not take: both raise ``Err.STREAM``. The run phases are
:class:`~pysampler.contract.regmap.StreamPhase`.
"""

from __future__ import annotations

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out, Signature

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import lut_span
from pysampler.contract.regmap import Err, StreamPhase
from pysampler.contract import regmap as rm
from pysampler.contract.stream_format import (DEFAULT_LANES, StreamFormat, merge_levels,
                                              stream_format)

from .control import flag, program_port, prog_signature
from .rng import Rng

__all__ = ["StreamCore"]

#: lanes per ROM: a block RAM has two read ports
LANES_PER_ROM = 2


def _bits(value: int) -> int:
    return max(int(value).bit_length(), 1)


class StreamCore(wiring.Component):
    """Streaming sampler core for rows of up to ``max_vocab`` logits, L logits per beat.

    Parameters
    ----------
    cfg : HwConfig
        The hardware configuration; the core works in ``stream_format(cfg, lanes=lanes,
        **format_options)``.
    lanes : int
        L, logits per beat (1..64); the core has C = 2L reservoirs. L = 1 is the single-lane
        core.
    debug_trace : bool
        Put the field, LUT entry, draw and M of every decision on the trace port (simulation);
        False keeps (valid, merge, index, bit, forced) only, for FPGA builds (pin count).
    format_options
        :func:`pysampler.contract.stream_format.stream_format`'s options (``reservoirs``, if
        given, must be 2L).

    Attributes
    ----------
    regmap : CoreMap
        The stream core's map: N_ACTIVE (the row length V), the seed, CLEAR_ERR, COUPLING
        (ignored).
    prog, start, busy, done, irq, err
        As the other cores (``err`` adds ``Err.STREAM``; a START write starts as ``start``).
    logit : In(valid, ready, data, last)
        The logits of a row in vocabulary order, L per beat: ``data`` L x (weight_bits + G) bits,
        lane l in bits [l W, (l + 1) W), two's complement (the stream's logit format, <= 0);
        ``last`` on the row's final beat; a beat is taken when valid and ready; ``ready`` is high
        in STREAM. The lanes of a partial last beat past N_ACTIVE are ignored.
    token : Out(index_bits)
        The drawn token, valid from ``done``.
    trace : Out(valid, merge, index, bit, forced[, field, lut, u, m])
        One beat per clock with decisions: logit beats (merge = 0, index = bL: lane l's decision
        is logit bL + l) in stage 2, then merge levels (merge = 1, index = the level: lane l's
        merge is that level's l-th). ``valid``, ``bit``, ``forced``: one bit per lane; with
        ``debug_trace`` per lane also the field (acc_bits + 1, two's complement), the LUT entry
        (P' + 1 bits, 0 when forced), the draw (P' bits) and M after the step (acc_bits), lane l
        in the l-th slice, and the activity of every clock (with or without a decision): the
        lanes whose ROMs read in the last clock (``rom_en``: their data is out this clock) and
        the draws the generator takes at this clock's edge (``draws``).
    """

    def __init__(self, cfg: HwConfig, *, lanes: int = DEFAULT_LANES, debug_trace: bool = True,
                 **format_options):
        self.cfg = cfg
        self.debug_trace = debug_trace
        self.fmt: StreamFormat = stream_format(cfg, lanes=lanes, **format_options)
        if self.fmt.reservoirs != 2 * self.fmt.lanes:
            raise ValueError(f"the stream core has reservoirs = 2 lanes = {2 * self.fmt.lanes} "
                             f"(two per lane: its accumulator is a two-stage pipeline), got "
                             f"{self.fmt.reservoirs}")
        acc = self.fmt.acc
        self.regmap = self.fmt.regmap()
        n, ib = self.fmt.lanes, self.fmt.index_bits
        trace = {"valid": Out(n), "merge": Out(1), "index": Out(ib), "bit": Out(n),
                 "forced": Out(n)}
        if debug_trace:
            trace.update({"field": Out((acc.weight_bits + 1) * n),
                          "lut": Out((acc.prob_bits + 1) * n), "u": Out(acc.prob_bits * n),
                          "m": Out(acc.weight_bits * n),
                          # activity, every clock: the ROM ports read, draws the generator takes
                          "rom_en": Out(n), "draws": Out(range(2 * n + 1))})
        super().__init__({
            "prog": In(prog_signature(self.regmap)),
            "start": In(1), "busy": Out(1), "done": Out(1), "irq": Out(1),
            "err": Out(rm.ERR_BITS),
            "logit": In(Signature({"valid": Out(1), "ready": In(1),
                                   "data": Out(self.fmt.logit.weight_bits * n),
                                   "last": Out(1)})),
            "token": Out(ib),
            "trace": Out(Signature(trace)),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        fmt, acc = self.fmt, self.fmt.acc
        n_lanes, width, ib = fmt.lanes, acc.weight_bits, fmt.index_bits
        wl, p_bits = fmt.logit.weight_bits, acc.prob_bits
        levels = merge_levels(fmt.reservoirs)
        m.submodules.rng = rng = Rng(acc, draws=n_lanes,
                                     advances=(n_lanes,) + tuple(len(lv) for lv in levels))

        phase = Signal(StreamPhase, init=StreamPhase.IDLE)
        busy = phase != StreamPhase.IDLE
        port = program_port(m, self.prog, busy, self.regmap, rng, done=self.done,
                            status={"TOKEN": self.token})
        m.d.comb += [self.busy.eq(busy), self.err.eq(port.err), self.irq.eq(port.irq)]

        # --- the ROMs: two lanes per memory (two read ports) --------------------------------
        lo, hi, span, below, above = lut_span(acc)
        table = [int(v) for v in fmt.logadd()]
        sig_reads, la_reads = [], []
        for r in range(0, n_lanes, LANES_PER_ROM):
            ports = min(LANES_PER_ROM, n_lanes - r)
            sig = Memory(shape=unsigned(_bits(max(span))), depth=len(span), init=span)
            la = Memory(shape=unsigned(_bits(max(table))), depth=len(table), init=table)
            m.submodules[f"sigmoid{r // LANES_PER_ROM}"] = sig
            m.submodules[f"logadd{r // LANES_PER_ROM}"] = la
            sig_reads += [sig.read_port(domain="sync") for _ in range(ports)]
            la_reads += [la.read_port(domain="sync") for _ in range(ports)]
        # the sigmoid entry read this clock: the ROM, or a saturated run chosen last clock
        sig_side = [Signal(2, name=f"sig_side{lane}") for lane in range(n_lanes)]  # 1 below, 2 above
        lut_value = [Signal(p_bits + 1, name=f"lut{lane}") for lane in range(n_lanes)]
        for lane in range(n_lanes):
            m.d.comb += lut_value[lane].eq(Mux(sig_side[lane] == 1, below,
                                               Mux(sig_side[lane] == 2, above,
                                                   sig_reads[lane].data)))

        def table_addresses(lane: int, field) -> None:
            """Present ``field``'s sigmoid and log-add addresses to ``lane``'s ROMs (read next
            clock)."""
            shifted = Signal(signed(len(field)), name=f"shifted{lane}")
            distance = Signal(width + 1, name=f"distance{lane}")
            bucket = Signal(width + 1, name=f"bucket{lane}")
            m.d.comb += [shifted.eq(field >> acc.lut_shift),
                         distance.eq(Mux(field < 0, -field, field)),
                         bucket.eq(distance >> acc.lut_shift),
                         sig_reads[lane].addr.eq((shifted - lo)[:len(sig_reads[lane].addr)]),
                         la_reads[lane].addr.eq(Mux(bucket >= len(table), len(table) - 1,
                                                    bucket))]
            m.d.sync += sig_side[lane].eq(Mux(shifted < lo, 1, Mux(shifted > hi, 2, 0)))

        # --- reservoirs: (phase, lane); slot c of the contract is phase * L + lane ----------
        masses = [[Signal(signed(width), name=f"m{ph}_{lane}") for lane in range(n_lanes)]
                  for ph in range(2)]
        held = [[Signal(ib, name=f"held{ph}_{lane}") for lane in range(n_lanes)]
                for ph in range(2)]
        present = [[Signal(name=f"present{ph}_{lane}") for lane in range(n_lanes)]
                   for ph in range(2)]

        # --- start --------------------------------------------------------------------------
        k = Signal(ib + 1)  # logits taken (bL)
        beat_phase = Signal()  # b mod 2
        with m.If(self.start | port.start):
            with m.If(busy):
                flag(m, port.err_set, Err.BUSY_START)
            with m.Elif(port.n_active == 0):
                # never true (N_ACTIVE refuses 0); it also gives err bit BAD_START a driver that
                # depends on signals, which Icarus needs to leave the bit 0 rather than X
                flag(m, port.err_set, Err.BAD_START)
            with m.Else():
                m.d.sync += [phase.eq(StreamPhase.STREAM), self.done.eq(0), k.eq(0),
                             beat_phase.eq(0)]
                m.d.sync += [present[ph][lane].eq(0) for ph in range(2)
                             for lane in range(n_lanes)]

        # --- stage 1: take a beat -----------------------------------------------------------
        fire = Signal()
        m.d.comb += [self.logit.ready.eq(phase == StreamPhase.STREAM),
                     fire.eq(self.logit.valid & self.logit.ready)]
        remaining = Signal(ib + 1)  # logits of the row not yet taken
        m.d.comb += remaining.eq(port.n_active - k)
        s1_valid = Signal()  # a beat is in stage 2
        s1_phase = Signal()
        s1_k = Signal(ib)
        s1_lane = [Signal(name=f"s1_lane{lane}") for lane in range(n_lanes)]  # a logit, not empty
        s1_first = [Signal(name=f"s1_first{lane}") for lane in range(n_lanes)]
        s1_max = [Signal(signed(width), name=f"s1_max{lane}") for lane in range(n_lanes)]
        s1_field = [Signal(signed(width + 1), name=f"s1_field{lane}") for lane in range(n_lanes)]
        m.d.sync += s1_valid.eq(fire)
        for lane in range(n_lanes):
            x = Signal(signed(width), name=f"x{lane}")
            m.d.comb += x.eq(self.logit.data[lane * wl:(lane + 1) * wl].as_signed()
                             << fmt.acc_shift)
            m_old = Signal(signed(width), name=f"m_old{lane}")
            m.d.comb += m_old.eq(Mux(beat_phase, masses[1][lane], masses[0][lane]))
            field = Signal(signed(width + 1), name=f"field{lane}")
            m.d.comb += field.eq(x - m_old)
            with m.If(phase == StreamPhase.STREAM):
                table_addresses(lane, field)
            with m.If(fire):
                first = ~Mux(beat_phase, present[1][lane], present[0][lane])
                m.d.sync += [s1_lane[lane].eq(remaining > lane), s1_first[lane].eq(first),
                             s1_max[lane].eq(Mux(first | (x > m_old), x, m_old)),
                             s1_field[lane].eq(Mux(first, 0, field))]
        # the ROMs read only for a logit of a taken beat and a merging lane (no read on an idle
        # clock: the energy model counts one sigmoid and one log-add read per decision)
        rom_en = [Signal(name=f"rom_en{lane}") for lane in range(n_lanes)]
        for lane in range(n_lanes):
            m.d.comb += [sig_reads[lane].en.eq(rom_en[lane]), la_reads[lane].en.eq(rom_en[lane])]
            with m.If(fire & (remaining > lane)):
                m.d.comb += rom_en[lane].eq(1)
        with m.If(fire):
            m.d.sync += [s1_phase.eq(beat_phase), s1_k.eq(k[:ib]), k.eq(k + n_lanes),
                         beat_phase.eq(~beat_phase)]
            final = remaining <= n_lanes
            with m.If(self.logit.last | final):
                m.d.sync += phase.eq(StreamPhase.DRAIN)
                with m.If(self.logit.last != final):
                    flag(m, port.err_set, Err.STREAM)

        # --- stage 2: decide, accumulate ----------------------------------------------------
        take = [Signal(name=f"take{lane}") for lane in range(n_lanes)]
        m_new = [Signal(signed(width), name=f"m_new{lane}") for lane in range(n_lanes)]
        la_data = [la_reads[lane].data for lane in range(n_lanes)]
        with m.If(s1_valid):
            m.d.comb += [rng.advance.eq(1), rng.advance_by.eq(0)]
        for lane in range(n_lanes):
            m.d.comb += [take[lane].eq(s1_first[lane] | (rng.draw(lane) < lut_value[lane])),
                         m_new[lane].eq(s1_max[lane] + Mux(s1_first[lane], 0, la_data[lane]))]
            with m.If(s1_valid & s1_lane[lane]):
                for ph in range(2):
                    with m.If(s1_phase == ph):
                        m.d.sync += [masses[ph][lane].eq(m_new[lane]), present[ph][lane].eq(1)]
                        with m.If(take[lane]):
                            m.d.sync += held[ph][lane].eq(s1_k + lane)

        # --- merges: LOOKUP presents a level's fields, MERGE decides ------------------------
        level = Signal(range(max(len(levels), 2)))
        with m.If(phase == StreamPhase.DRAIN):
            m.d.sync += [phase.eq(StreamPhase.LOOKUP), level.eq(0)]
        in_lookup, in_merge = phase == StreamPhase.LOOKUP, phase == StreamPhase.MERGE
        merging = [Signal(name=f"merging{lane}") for lane in range(n_lanes)]  # lane merges now
        go_right = [Signal(name=f"go_right{lane}") for lane in range(n_lanes)]
        merged = [Signal(signed(width), name=f"merged{lane}") for lane in range(n_lanes)]
        g_both = [Signal(name=f"g_both{lane}") for lane in range(n_lanes)]
        g_any = [Signal(name=f"g_any{lane}") for lane in range(n_lanes)]
        g_field = [Signal(signed(width + 1), name=f"g_field{lane}") for lane in range(n_lanes)]
        held_right = [Signal(ib, name=f"held_right{lane}") for lane in range(n_lanes)]
        for lane in range(n_lanes):
            # the right slot of this lane's merge at each level (level 0: its own phase-1
            # reservoir; later levels: lane + h's phase-0 reservoir)
            rights = {t: (1, lane) if t == 0 else (0, lane + lv[0][1])
                      for t, lv in enumerate(levels) if lane < len(lv)}
            if not rights:
                continue
            m.d.comb += merging[lane].eq(Cat(*(level == t for t in rights)).any())

            def right_of(group):
                out = group[rights[min(rights)][0]][rights[min(rights)][1]]
                for t, (ph, j) in rights.items():
                    out = Mux(level == t, group[ph][j], out)
                return out

            m_left, m_right = masses[0][lane], Signal(signed(width), name=f"m_right{lane}")
            left_ok, right_ok = present[0][lane], Signal(name=f"right_ok{lane}")
            m.d.comb += [m_right.eq(right_of(masses)), right_ok.eq(right_of(present)),
                         held_right[lane].eq(right_of(held))]
            merge_field = Signal(signed(width + 1), name=f"merge_field{lane}")
            m.d.comb += merge_field.eq(m_right - m_left)
            g_left_ok, g_right_ok = Signal(name=f"g_left_ok{lane}"), Signal(name=f"g_right_ok{lane}")
            g_max = Signal(signed(width), name=f"g_max{lane}")
            with m.If(in_lookup & merging[lane]):
                m.d.comb += rom_en[lane].eq(1)
                table_addresses(lane, merge_field)
                m.d.sync += [g_left_ok.eq(left_ok), g_right_ok.eq(right_ok),
                             g_max.eq(Mux(m_right > m_left, m_right, m_left)),
                             g_field[lane].eq(Mux(left_ok & right_ok, merge_field, 0))]
            m.d.comb += [g_both[lane].eq(g_left_ok & g_right_ok),
                         g_any[lane].eq(g_left_ok | g_right_ok),
                         go_right[lane].eq(Mux(~g_right_ok, 0, Mux(~g_left_ok, 1,
                                               rng.draw(lane) < lut_value[lane]))),
                         merged[lane].eq(Mux(g_both[lane], g_max + la_data[lane],
                                             Mux(g_right_ok, m_right, m_left)))]
            with m.If(in_merge & merging[lane]):
                m.d.sync += [masses[0][lane].eq(merged[lane]),
                             present[0][lane].eq(g_any[lane])]
                with m.If(go_right[lane]):
                    m.d.sync += held[0][lane].eq(held_right[lane])
        with m.If(in_lookup):
            m.d.sync += phase.eq(StreamPhase.MERGE)
        with m.If(in_merge):
            m.d.comb += [rng.advance.eq(1), rng.advance_by.eq(level + 1)]
            with m.If(level == len(levels) - 1):
                m.d.sync += [phase.eq(StreamPhase.IDLE), self.done.eq(1),
                             self.token.eq(Mux(go_right[0], held_right[0], held[0][0]))]
            with m.Else():
                m.d.sync += [level.eq(level + 1), phase.eq(StreamPhase.LOOKUP)]

        # --- trace ----------------------------------------------------------------------------
        rom_read = Signal(n_lanes)  # the reads of the last clock (data out this clock)
        m.d.sync += rom_read.eq(Cat(*rom_en))
        draws_taken = Signal(range(2 * n_lanes + 1))
        counts = (n_lanes,) + tuple(len(lv) for lv in levels)
        m.d.comb += draws_taken.eq(counts[0])
        for i, count in enumerate(counts[1:], start=1):
            with m.If(rng.advance_by == i):
                m.d.comb += draws_taken.eq(count)
        # a lane with no decision this clock shows zeros (its ROM may not have been read yet)
        valid = [Mux(in_merge, merging[lane], s1_valid & s1_lane[lane]) for lane in range(n_lanes)]
        forced = [valid[lane] & Mux(in_merge, ~g_both[lane], s1_first[lane])
                  for lane in range(n_lanes)]
        m.d.comb += [
            self.trace.valid.eq(Cat(*valid)),
            self.trace.merge.eq(in_merge),
            self.trace.index.eq(Mux(in_merge, level, s1_k)),
            self.trace.bit.eq(Cat(*(valid[lane] & Mux(in_merge, go_right[lane], take[lane])
                                    for lane in range(n_lanes)))),
            self.trace.forced.eq(Cat(*forced)),
        ]
        if self.debug_trace:
            m.d.comb += [
                self.trace.field.eq(Cat(*(Mux(in_merge, g_field[lane], s1_field[lane])
                                          for lane in range(n_lanes)))),
                self.trace.lut.eq(Cat(*(Mux(forced[lane] | ~valid[lane], 0, lut_value[lane])
                                        for lane in range(n_lanes)))),
                self.trace.u.eq(rng.u),
                self.trace.rom_en.eq(rom_read),
                self.trace.draws.eq(Mux(rng.advance, draws_taken, 0)),
                # a merge of two empty slots (V < 2L) leaves a stale M, which no decision
                # reads; the trace shows 0, the model's M of a slot that never held a logit
                self.trace.m.eq(Cat(*(Mux(~valid[lane], 0,
                                          Mux(in_merge, Mux(g_any[lane], merged[lane], 0),
                                              m_new[lane])) for lane in range(n_lanes)))),
            ]
        return m
