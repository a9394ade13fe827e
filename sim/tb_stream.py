"""cocotb tests of ``pbit_stream`` (hw/stream.py) with L lanes (PBIT_LANES): every decision (logit
steps and merges: index, bit, forced, field, LUT entry, draw, M) and every token compared with
:func:`pysampler.engines.stream.stream_draw` on the same quantized row and generator state, the
beats driven with back-pressure on ``valid`` (random, or a gap after every beat) and junk in the
empty lanes of a partial last beat."""

from __future__ import annotations

import os

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Err
from pysampler.contract.rng import derive_state
from pysampler.contract.stream_format import (merge_levels, stream_beats, stream_clocks,
                                              stream_format)
from pysampler.engines.stream import (StreamRow, decision_registers, decision_writes,
                                      register_toggles, stream_activity, stream_draw,
                                      stream_quantize, stream_tables)

from .compare import CompareError
from .env import env_config, env_int, report_updates
from .tb import TB

#: per-lane trace fields (one bit, or a slice of the port, per lane) and the shared ones
LANE_FIELDS = ("valid", "bit", "forced", "field", "lut", "u", "m")
DECISION_NAMES = ("merge", "index", "bit", "forced", "field", "lut", "u", "m")
#: back-pressure: valid on every clock, on 80 % or 30 % of them, or on every other clock (a gap
#: after every beat)
ALTERNATE = -1.0


class StreamTB(TB):
    """The stream core: N_ACTIVE, a beat driver with back-pressure on ``valid``, one token per
    start."""

    inputs = ("start", "logit__valid", "logit__data", "logit__last")

    def __init__(self, dut, cfg: HwConfig, lanes: int = 1):
        super().__init__(dut, cfg, "stream")
        self.fmt = stream_format(cfg, lanes=lanes)
        self.lanes = lanes
        # the stream core's map is built for its format (N_ACTIVE up to max_vocab)
        self.regmap = self.bus.regmap = self.fmt.regmap()
        self.tables = stream_tables(self.fmt)
        acc = self.fmt.acc
        self.widths = {"valid": 1, "bit": 1, "forced": 1, "field": acc.weight_bits + 1,
                       "lut": acc.prob_bits + 1, "u": acc.prob_bits, "m": acc.weight_bits}

    def pack(self, q: np.ndarray, beat: int, rng: np.random.Generator) -> int:
        """Beat ``beat`` of row ``q`` as the data word; the empty lanes past the row's end carry
        random junk (the core must ignore them)."""
        wl, mask = self.fmt.logit.weight_bits, (1 << self.fmt.logit.weight_bits) - 1
        word = 0
        for lane in range(self.lanes):
            k = beat * self.lanes + lane
            value = int(q[k]) if k < q.size else int(rng.integers(0, 1 << wl))
            word |= (value & mask) << (lane * wl)
        return word

    def decisions(self) -> list[tuple]:
        """This clock's trace beat as decisions, lane by lane: (merge, index, bit, forced, field,
        LUT entry, draw, M)."""
        dut = self.dut
        raw = {}
        for name in ("merge", "index") + LANE_FIELDS:
            value = getattr(dut, f"trace__{name}").value
            if not value.is_resolvable:
                raise CompareError(f"trace {name} unresolved: {value}")
            raw[name] = int(value)
        out = []
        for lane in range(self.lanes):
            got = {}
            for name in LANE_FIELDS:
                w = self.widths[name]
                v = (raw[name] >> (lane * w)) & ((1 << w) - 1)
                got[name] = v - (1 << w) if name in ("field", "m") and v >> (w - 1) else v
            if not got["valid"]:
                continue
            index = raw["index"] if raw["merge"] else raw["index"] + lane
            out.append((raw["merge"], index, got["bit"], got["forced"], got["field"], got["lut"],
                        got["u"], got["m"]))
        return out

    async def draw(self, q: np.ndarray, rng: np.random.Generator, p_valid: float = 1.0,
                   last_at: int | None = None, n_beats: int | None = None):
        """Start a run and stream ``q`` beat by beat (``last`` on beat ``last_at``, default the
        final one; ``n_beats`` beats offered, default all; ``p_valid``: the share of clocks
        with valid, or :data:`ALTERNATE`); returns (decisions, token, clocks, beats taken)."""
        dut = self.dut
        beats_in_row = stream_beats(q.size, self.lanes)
        last_at = beats_in_row - 1 if last_at is None else last_at
        n_beats = beats_in_row if n_beats is None else n_beats
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        decisions, clocks, sent = [], 1, 0
        self.activity = {"rom_reads": 0, "draws": 0}
        while True:
            self.activity["rom_reads"] += bin(int(dut.trace__rom_en.value)).count("1")
            self.activity["draws"] += int(dut.trace__draws.value)
            if int(dut.trace__valid.value):
                decisions += self.decisions()
            if int(dut.done.value) and not int(dut.busy.value):
                break
            gap = (clocks % 2 == 0) if p_valid == ALTERNATE else rng.random() >= p_valid
            offer = sent < n_beats and not gap
            dut.logit__valid.value = int(offer)
            dut.logit__data.value = self.pack(q, sent, rng) if offer else 0
            dut.logit__last.value = int(offer and sent == last_at)
            ready = int(dut.logit__ready.value)
            await FallingEdge(dut.clk)
            if offer and ready:
                sent += 1
            clocks += 1
            if clocks > 4 * n_beats + 64 + 10 * self.fmt.reservoirs:
                raise CompareError("stream run did not finish")
        dut.logit__valid.value = 0
        dut.logit__last.value = 0
        return decisions, int(dut.token.value), clocks, sent


def compare_activity(tb: StreamTB, decisions: list[tuple], row: StreamRow, trace,
                     label: str) -> None:
    """The RTL's activity in the run (ROM reads and draws counted from its enables on every
    clock, M toggles from the values its trace shows) against the engine's count
    (:func:`stream_activity`), which the energy model takes."""
    want = stream_activity(row, trace)
    _, toggles = register_toggles(decision_registers(row.fmt, row.size),
                                  np.array([d[7] for d in decisions], np.int64),
                                  row.fmt.acc.weight_bits, decision_writes(row.fmt, row.size))
    got = {"rom_reads": tb.activity["rom_reads"], "draws": tb.activity["draws"],
           "m_toggles": toggles}
    for name, value in got.items():
        if value != getattr(want, name):
            raise CompareError(f"{label}: activity {name}: RTL {value} != model "
                               f"{getattr(want, name)}")


def compare_stream(decisions: list[tuple], token: int, row: StreamRow, ref_token: int, trace,
                   label: str) -> int:
    """Assert every decision and the token equal the model's; returns the decisions compared."""
    merge_index = [t for t, level in enumerate(merge_levels(row.fmt.reservoirs)) for _ in level]
    if len(decisions) != trace.u.size:
        raise CompareError(f"{label}: {len(decisions)} decisions, model {trace.u.size}")
    for n, got in enumerate(decisions):
        forced = bool(trace.lut[n] < 0)
        is_merge = n >= row.size
        index = merge_index[n - row.size] if is_merge else n
        ref = (int(is_merge), index, int(trace.bit[n]), int(forced), int(trace.field[n]),
               0 if forced else int(trace.lut[n]), int(trace.u[n]), int(trace.m[n]))
        for name, rtl, want in zip(DECISION_NAMES, got, ref):
            if rtl != want:
                what = f"merge {n - row.size}" if is_merge else f"logit {n}"
                raise CompareError(f"{label}: decision {n} ({what}) {name}: RTL {rtl} != "
                                   f"model {want}")
    if token != ref_token:
        raise CompareError(f"{label}: token RTL {token} != model {ref_token}")
    return len(decisions)


def _flags(value: int) -> str:
    return Err(value).name or "0"


def random_row(rng: np.random.Generator, v: int) -> np.ndarray:
    """Flat, peaked, or heavy-tailed (Gumbel-distributed) logits."""
    kind = rng.integers(3)
    if kind == 0:
        return rng.normal(0.0, float(rng.choice([0.1, 1.0, 3.0])), v)
    if kind == 1:
        return rng.gumbel(0.0, float(rng.choice([1.0, 2.0])), v)
    return rng.normal(0.0, 12.0, v)  # wide: saturates at the bottom


async def _start_tb(dut) -> StreamTB:
    tb = StreamTB(dut, env_config(), env_int("PBIT_LANES", 1))
    await tb.start()
    return tb


async def _run_rows(tb: StreamTB, rows: list[np.ndarray], seed: int, label: str,
                    tokens_per_row: int = 2) -> int:
    rng = np.random.default_rng([seed, 1])
    decisions = 0
    for r, logits in enumerate(rows):
        row = stream_quantize(logits, 1.0, tb.fmt)
        state = derive_state(seed, r, tb.fmt.acc)
        await tb.seed(state)
        await tb.bus.write("N_ACTIVE", row.size)
        for t in range(tokens_per_row):  # the generator runs on from token to token
            p_valid = float(rng.choice([1.0, 0.8, 0.3, ALTERNATE]))
            token, state, trace = stream_draw(row, state, tb.tables)
            got, rtl_token, clocks, _ = await tb.draw(row.q, rng, p_valid)
            decisions += compare_stream(got, rtl_token, row, token, trace,
                                        f"{label} row {r} (V={row.size}) token {t}")
            compare_activity(tb, got, row, trace, f"{label} row {r} (V={row.size}) token {t}")
            # done rises at edge stream_clocks - 1, the start strobe's edge the first
            budget = stream_clocks(row.size, tb.fmt.reservoirs, tb.lanes) - 1
            if p_valid == 1.0 and clocks != budget:
                raise CompareError(f"{label} row {r}: {clocks} clocks, expected {budget}")
        if tb.err():
            raise CompareError(f"{label} row {r}: unexpected error flags {_flags(tb.err())}")
    return decisions


@cocotb.test()
async def stream_random_rows_test(dut):
    tb = await _start_tb(dut)
    seed = env_int("PBIT_SEED", 0)
    rng = np.random.default_rng([seed, 0])
    rows = [random_row(rng, int(rng.integers(1, 300 * tb.lanes)))
            for _ in range(env_int("PBIT_PROGRAMS", 40))]
    report_updates("stream_random", await _run_rows(tb, rows, seed, "random"))


@cocotb.test()
async def stream_edge_rows_test(dut):
    tb = await _start_tb(dut)
    low, lanes = -1e6, tb.lanes
    rows = [np.zeros(1), np.zeros(2), np.array([0.0, -3.0, -1.0]), np.zeros(257),
            np.r_[np.full(100, -30.0), 0.0, np.full(100, -30.0)],  # one dominant
            np.r_[0.0, np.full(150, low)],                          # saturating: all at the floor
            np.r_[np.full(64, low), 0.0],
            np.linspace(-40.0, 0.0, 200)]
    if lanes > 1:  # rows shorter than L, one lane short of full beats, one logit into a beat
        rows += [np.linspace(-3.0, 0.0, lanes - 1), np.zeros(3 * lanes - 1),
                 np.linspace(0.0, -5.0, 2 * lanes + 1)]
    report_updates("stream_edge", await _run_rows(tb, rows, env_int("PBIT_SEED", 0) + 7, "edge"))


@cocotb.test()
async def stream_long_row_test(dut):
    """One row of PBIT_STREAM_LONG logits (V = 50,257 on Verilator), heavy-tailed."""
    v = int(os.environ.get("PBIT_STREAM_LONG", "0"))
    if not v:
        return
    tb = await _start_tb(dut)
    rng = np.random.default_rng([env_int("PBIT_SEED", 0), v])
    report_updates("stream_long", await _run_rows(tb, [rng.gumbel(0.0, 2.0, v)], 11, "long", 1))


@cocotb.test()
async def stream_bad_input_test(dut):
    tb = await _start_tb(dut)
    fmt, lanes = tb.fmt, tb.lanes
    rng = np.random.default_rng(5)

    async def expect(flags: Err, what: str) -> None:
        if tb.err() != flags:
            raise CompareError(f"{what}: err = {_flags(tb.err())}, expected {flags.name}")
        await tb.clear_err()

    await tb.bus.write("N_ACTIVE", 0)
    await expect(Err.VALUE, "N_ACTIVE = 0 (an empty row)")
    await tb.bus.write("N_ACTIVE", fmt.max_vocab + 1)
    await expect(Err.VALUE, f"N_ACTIVE = max_vocab + 1 = {fmt.max_vocab + 1}")
    decisions = 0
    v = 40 * lanes - (lanes > 1)  # a partial last beat when L > 1
    row = stream_quantize(rng.normal(0.0, 2.0, v), 1.0, fmt)
    state = derive_state(3, 3, fmt.acc)
    await tb.seed(state)
    await tb.bus.write("N_ACTIVE", row.size)
    # early end: `last` on beat 24 of 40: drawn from the 25 beats that came, flagged
    short = StreamRow(fmt, row.q[:25 * lanes], 0)
    token, state, trace = stream_draw(short, state, tb.tables)
    got, rtl_token, _, sent = await tb.draw(row.q, rng, 0.7, last_at=24)
    decisions += compare_stream(got, rtl_token, short, token, trace, "early end")
    if sent != 25:
        raise CompareError(f"early end: the core took {sent} beats, expected 25")
    await expect(Err.STREAM, "early end")
    # logits after the last beat: no `last` on beat 39 (the source offers 45): 40 taken, flagged
    extended = np.r_[row.q, np.zeros(5 * lanes + 1, np.int64)]
    token, state, trace = stream_draw(row, state, tb.tables)
    got, rtl_token, _, sent = await tb.draw(extended, rng, 0.7, last_at=44, n_beats=45)
    decisions += compare_stream(got, rtl_token, row, token, trace, "extra logits")
    if sent != 40:
        raise CompareError(f"extra logits: the core took {sent} beats, expected 40")
    await expect(Err.STREAM, "extra logits")
    # start while busy: flagged, the run goes on
    dut = tb.dut
    token, state, trace = stream_draw(row, state, tb.tables)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    got, rtl_token, _, _ = await tb.draw(row.q, rng, ALTERNATE)  # start held one more clock
    decisions += compare_stream(got, rtl_token, row, token, trace, "start while busy")
    await expect(Err.BUSY_START, "start while busy")
    report_updates("stream_bad_input", decisions)
