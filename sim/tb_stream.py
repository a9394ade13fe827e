"""cocotb tests of ``pbit_stream`` (hw/stream.py): every decision (logit steps and merges: index,
bit, forced, field, LUT entry, draw, M) and every token compared with
:func:`pysampler.engines.stream.stream_draw` on the same quantized row and generator state, the
logits driven with random back-pressure on ``valid``."""

from __future__ import annotations

import os

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core, CoreMap, Err
from pysampler.contract.rng import derive_state
from pysampler.contract.stream_format import merge_order, stream_clocks, stream_format
from pysampler.engines.stream import StreamRow, stream_draw, stream_quantize, stream_tables

from .compare import CompareError
from .env import env_config, env_int, report_updates
from .tb import TB

TRACE_NAMES = ("merge", "index", "bit", "forced", "field", "lut", "u", "m")


class StreamTB(TB):
    """The stream core: N_ACTIVE, a logit driver with back-pressure on ``valid``, one token per
    start."""

    inputs = ("start", "logit__valid", "logit__data", "logit__last")

    def __init__(self, dut, cfg: HwConfig):
        super().__init__(dut, cfg, Core.STREAM)
        self.fmt = stream_format(cfg)
        # the stream core's map is built for its format (N_ACTIVE up to max_vocab)
        self.regmap = self.bus.regmap = CoreMap.of(Core.STREAM, self.fmt.acc)
        self.tables = stream_tables(self.fmt)

    async def draw(self, q: np.ndarray, rng: np.random.Generator, p_valid: float = 1.0,
                   last_at: int | None = None, n_beats: int | None = None):
        """Start a run and stream ``q`` (``last`` on beat ``last_at``, default the final one;
        ``n_beats`` beats offered, default all); returns (trace beats, token, clocks, beats
        taken)."""
        dut = self.dut
        last_at = q.size - 1 if last_at is None else last_at
        n_beats = q.size if n_beats is None else n_beats
        dut.start.value = 1
        await FallingEdge(dut.clk)
        dut.start.value = 0
        beats, clocks, sent = [], 1, 0
        while True:
            if int(dut.trace__valid.value):
                unresolved = [name for name in TRACE_NAMES
                              if not getattr(dut, f"trace__{name}").value.is_resolvable]
                if unresolved:
                    raise CompareError(f"trace beat {len(beats)}: unresolved {unresolved}")
                beats.append(tuple(
                    getattr(dut, f"trace__{name}").value.to_signed()
                    if name in ("field", "m") else int(getattr(dut, f"trace__{name}").value)
                    for name in TRACE_NAMES))
            if int(dut.done.value) and not int(dut.busy.value):
                break
            offer = sent < n_beats and rng.random() < p_valid
            dut.logit__valid.value = int(offer)
            dut.logit__data.value = int(q[sent]) if offer else 0
            dut.logit__last.value = int(offer and sent == last_at)
            ready = int(dut.logit__ready.value)
            await FallingEdge(dut.clk)
            if offer and ready:
                sent += 1
            clocks += 1
            if clocks > 4 * q.size + 64 + 10 * self.fmt.reservoirs:
                raise CompareError("stream run did not finish")
        dut.logit__valid.value = 0
        dut.logit__last.value = 0
        return beats, int(dut.token.value), clocks, sent


def compare_stream(beats: list[tuple], token: int, row: StreamRow, ref_token: int, trace,
                   label: str) -> int:
    """Assert every decision and the token equal the model's; returns the decisions compared."""
    merges = merge_order(row.fmt.reservoirs)
    if len(beats) != trace.u.size:
        raise CompareError(f"{label}: {len(beats)} decisions, model {trace.u.size}")
    for n, beat in enumerate(beats):
        forced = bool(trace.lut[n] < 0)
        is_merge = n >= row.size
        index = merges[n - row.size][0] if is_merge else n
        ref = (int(is_merge), index, int(trace.bit[n]), int(forced), int(trace.field[n]),
               0 if forced else int(trace.lut[n]), int(trace.u[n]), int(trace.m[n]))
        for name, rtl, want in zip(TRACE_NAMES, beat, ref):
            if rtl != want:
                what = f"merge {n - row.size}" if is_merge else f"logit {n}"
                raise CompareError(f"{label}: decision {n} ({what}) {name}: RTL {rtl} != "
                                   f"model {want}")
    if token != ref_token:
        raise CompareError(f"{label}: token RTL {token} != model {ref_token}")
    return len(beats)


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
    tb = StreamTB(dut, env_config())
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
            p_valid = float(rng.choice([1.0, 0.8, 0.3]))
            token, state, trace = stream_draw(row, state, tb.tables)
            beats, rtl_token, clocks, _ = await tb.draw(row.q, rng, p_valid)
            decisions += compare_stream(beats, rtl_token, row, token, trace,
                                        f"{label} row {r} (V={row.size}) token {t}")
            budget = stream_clocks(row.size, tb.fmt.reservoirs)
            if p_valid == 1.0 and clocks > budget:
                raise CompareError(f"{label} row {r}: {clocks} clocks, budget {budget}")
        if tb.err():
            raise CompareError(f"{label} row {r}: unexpected error flags {_flags(tb.err())}")
    return decisions


@cocotb.test()
async def stream_random_rows_test(dut):
    tb = await _start_tb(dut)
    seed = env_int("PBIT_SEED", 0)
    rng = np.random.default_rng([seed, 0])
    rows = [random_row(rng, int(rng.integers(1, 300))) for _ in range(env_int("PBIT_PROGRAMS", 40))]
    report_updates("stream_random", await _run_rows(tb, rows, seed, "random"))


@cocotb.test()
async def stream_edge_rows_test(dut):
    tb = await _start_tb(dut)
    low = -1e6
    rows = [np.zeros(1), np.zeros(2), np.array([0.0, -3.0, -1.0]), np.zeros(257),
            np.r_[np.full(100, -30.0), 0.0, np.full(100, -30.0)],  # one dominant
            np.r_[0.0, np.full(150, low)],                          # saturating: all at the floor
            np.r_[np.full(64, low), 0.0],
            np.linspace(-40.0, 0.0, 200)]
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
    fmt = tb.fmt
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
    row = stream_quantize(rng.normal(0.0, 2.0, 40), 1.0, fmt)
    state = derive_state(3, 3, fmt.acc)
    await tb.seed(state)
    await tb.bus.write("N_ACTIVE", row.size)
    # early end: `last` on beat 24 of 40: drawn from the 25 that came, flagged
    short = StreamRow(fmt, row.q[:25], 0)
    token, state, trace = stream_draw(short, state, tb.tables)
    beats, rtl_token, _, sent = await tb.draw(row.q, rng, 0.7, last_at=24)
    decisions += compare_stream(beats, rtl_token, short, token, trace, "early end")
    if sent != 25:
        raise CompareError(f"early end: the core took {sent} logits, expected 25")
    await expect(Err.STREAM, "early end")
    # extra logits: no `last` on beat 39 (the source offers 45): 40 taken, flagged
    extended = np.r_[row.q, row.q[:5]]
    token, state, trace = stream_draw(row, state, tb.tables)
    beats, rtl_token, _, sent = await tb.draw(extended, rng, 0.7, last_at=44)
    decisions += compare_stream(beats, rtl_token, row, token, trace, "extra logits")
    if sent != 40:
        raise CompareError(f"extra logits: the core took {sent} logits, expected 40")
    await expect(Err.STREAM, "extra logits")
    # start while busy: flagged, the run goes on
    dut = tb.dut
    token, state, trace = stream_draw(row, state, tb.tables)
    dut.start.value = 1
    await FallingEdge(dut.clk)
    beats, rtl_token, _, _ = await tb.draw(row.q, rng, 1.0)  # start held one more clock
    decisions += compare_stream(beats, rtl_token, row, token, trace, "start while busy")
    await expect(Err.BUSY_START, "start while busy")
    report_updates("stream_bad_input", decisions)
