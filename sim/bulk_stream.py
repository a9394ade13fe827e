"""Bulk co-simulation of the stream core (``pbit_stream``, any number of lanes): the core runs free
in a compiled Verilator harness (``sim/bulk_stream_main.cpp``) that drives the beats of every row
with back-pressure and writes every trace beat raw; the lanes are decoded and compared with the
bit-accurate model (:func:`pysampler.engines.stream.stream_draw`) in numpy, row by row, with no
Python awaited per clock. The long rows (V = 50,257 .. 262,144) run here.

A :class:`StreamScript` holds the stimulus and, step by step, what the model expects: every
decision (merge, index, bit, forced, field, LUT entry, draw, M), the token, the clocks, the beats
taken, the activity (ROM reads, draws) and the error flags. :class:`StreamCoverage` counts the
functional-coverage bins of the stream core from the compared runs.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut, lut_address, lut_span
from pysampler.contract.regmap import ERR_BITS, Err
from pysampler.contract.rng import derive_state, transition_matrix
from pysampler.contract.stream_format import (StreamFormat, merge_levels, stream_beats,
                                              stream_clocks, stream_format)
from pysampler.engines.stream import (StreamRow, stream_activity, stream_draw, stream_quantize,
                                      stream_tables)

from .bulk import BulkMismatch, CoverageBins, _gf2_solve, build_bulk, state_before

__all__ = ["StreamScript", "StreamCoverage", "StreamBulkResult", "run_stream_script",
           "run_stream_bulk", "stream_script", "state_with_draw", "STREAM_HARNESS"]

STREAM_HARNESS = Path(__file__).resolve().parent / "bulk_stream_main.cpp"
_OP_WRITE, _OP_RUN, _OP_ERR, _OP_START = 1, 2, 3, 4
_TAG_BEAT, _TAG_END, _TAG_ERR, _TAG_FAIL = 1, 2, 3, 5
#: back-pressure patterns of a run: none, a gap after every beat, gaps on 20 % / 70 % of clocks
GAPS = (0, 1, 20, 70)
_ERR_MASK = (1 << ERR_BITS) - 1


def _words(width: int) -> int:
    return -(-width // 32)


class _Layout:
    """The harness's record layout for a format: the trace ports' widths per lane and words."""

    PORTS = ("valid", "bit", "forced", "field", "lut", "u", "m")

    def __init__(self, fmt: StreamFormat):
        acc, n = fmt.acc, fmt.lanes
        self.lanes = n
        self.lane_bits = {"valid": 1, "bit": 1, "forced": 1, "field": acc.weight_bits + 1,
                          "lut": acc.prob_bits + 1, "u": acc.prob_bits, "m": acc.weight_bits}
        self.offsets, at = {}, 1
        for name in self.PORTS:
            self.offsets[name] = (at, _words(self.lane_bits[name] * n))
            at += _words(self.lane_bits[name] * n)
        self.record_words = max(at, 6)
        self.data_words = _words(fmt.logit.weight_bits * n)

    def lanes_of(self, records: np.ndarray, name: str) -> np.ndarray:
        """(records, L) int64 values of port ``name``'s lanes (two's complement for field, m)."""
        start, count = self.offsets[name]
        raw = np.ascontiguousarray(records[:, start:start + count]).astype("<u4")
        bits = np.unpackbits(raw.view(np.uint8).reshape(len(records), -1), axis=1,
                             bitorder="little")
        w = self.lane_bits[name]
        bits = bits[:, :w * self.lanes].reshape(len(records), self.lanes, w).astype(np.int64)
        values = (bits << np.arange(w, dtype=np.int64)).sum(axis=2)
        if name in ("field", "m"):
            values -= (values >> (w - 1)) << w
        return values


@dataclass
class StreamCoverage(CoverageBins):
    """Functional-coverage bins of the stream core (one configuration and L), from compared runs:
    the sigmoid LUT below, at and above its stored span and at both clamps, u equal to the LUT
    entry and one below it, the extreme entries, the log-add table's last entry, forced and
    decided takes and merges, every merge level, partial last beats, rows shorter than L, every
    back-pressure pattern, every error flag the core raises."""

    fmt: StreamFormat
    hits: Counter = field(default_factory=Counter)
    reachable: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)   # none written: every row's note is ""

    def __post_init__(self):
        acc = self.fmt.acc
        self.lo, self.hi, _, _, _ = lut_span(acc)
        self.half = acc.lut_size // 2
        names = ["lut index below the stored span", "lut index at the span's low end",
                 "lut index at the span's high end", "lut index above the stored span",
                 "lut index at the lower clamp", "lut index past the lower clamp",
                 "u = LUT entry (compare says 0)", "u = LUT entry - 1 (compare says 1)",
                 "LUT entry 0", f"LUT entry 2^{acc.prob_bits}", "log-add at its last entry",
                 "forced take (a reservoir's first logit)", "decided take", "decided keep",
                 "forced merge (an empty slot)", "decided merge"]
        names += [f"merge level {t}" for t in range(len(merge_levels(self.fmt.reservoirs)))]
        names += [f"back-pressure {g}" for g in ("none", "gap after every beat", "20 %", "70 %")]
        names += ["error flag VALUE", "error flag STREAM", "error flag BUSY_START"]
        for name in names:
            self.reachable[name] = True
            self.hits.setdefault(name, 0)
        if self.fmt.lanes > 1:
            for name in ("partial last beat", "row shorter than L"):
                self.reachable[name] = True
                self.hits.setdefault(name, 0)

    def add_run(self, row: StreamRow, trace, gap: int) -> None:
        acc, v, hit = self.fmt.acc, row.size, self.hits
        decided = ~trace.forced
        k = trace.field[decided] >> acc.lut_shift
        hit["lut index below the stored span"] += int(np.count_nonzero(k < self.lo))
        hit["lut index at the span's low end"] += int(np.count_nonzero(k == self.lo))
        hit["lut index at the span's high end"] += int(np.count_nonzero(k == self.hi))
        hit["lut index above the stored span"] += int(np.count_nonzero(k > self.hi))
        hit["lut index at the lower clamp"] += int(np.count_nonzero(k == -self.half))
        hit["lut index past the lower clamp"] += int(np.count_nonzero(k < -self.half))
        lut, u = trace.lut[decided], trace.u[decided]
        hit["u = LUT entry (compare says 0)"] += int(np.count_nonzero(u == lut))
        hit["u = LUT entry - 1 (compare says 1)"] += int(np.count_nonzero(u == lut - 1))
        hit["LUT entry 0"] += int(np.count_nonzero(lut == 0))
        hit[f"LUT entry 2^{acc.prob_bits}"] += int(np.count_nonzero(lut == 1 << acc.prob_bits))
        table = self.fmt.logadd().size
        hit["log-add at its last entry"] += int(np.count_nonzero(
            np.abs(trace.field[decided]) >> acc.lut_shift >= table - 1))
        steps, merges = slice(0, v), slice(v, None)
        bit = trace.bit.astype(bool)
        hit["forced take (a reservoir's first logit)"] += int(trace.forced[steps].sum())
        hit["decided take"] += int((decided[steps] & bit[steps]).sum())
        hit["decided keep"] += int((decided[steps] & ~bit[steps]).sum())
        hit["forced merge (an empty slot)"] += int(trace.forced[merges].sum())
        hit["decided merge"] += int(decided[merges].sum())
        for t, level in enumerate(merge_levels(self.fmt.reservoirs)):
            hit[f"merge level {t}"] += len(level)
        hit[f"back-pressure {('none', 'gap after every beat', '20 %', '70 %')[GAPS.index(gap)]}"] \
            += 1
        if self.fmt.lanes > 1:
            hit["partial last beat"] += int(v % self.fmt.lanes != 0)
            hit["row shorter than L"] += int(v < self.fmt.lanes)

    def add_flag(self, flags: int) -> None:
        for flag in (Err.VALUE, Err.STREAM, Err.BUSY_START):
            if flags & flag:
                self.hits[f"error flag {flag.name}"] += 1



class StreamScript:
    """A stimulus for the stream harness and, step by step, what the model expects."""

    def __init__(self, cfg: HwConfig, lanes: int, max_vocab: int | None = None):
        options = {} if max_vocab is None else {"max_vocab": max_vocab}
        self.cfg, self.fmt = cfg, stream_format(cfg, lanes=lanes, **options)
        self.layout = _Layout(self.fmt)
        self.regmap = self.fmt.regmap()
        self.tables = stream_tables(self.fmt)
        self._words: list[np.ndarray] = []
        self.steps: list[Callable] = []
        self.decisions = 0
        self.state = derive_state(0, 0, self.fmt.acc)  # the generator after reset

    def _emit(self, *words) -> None:
        self._words.append(np.asarray(words, dtype=np.uint64).astype("<u4"))

    def write(self, name: str, value: int) -> None:
        self._emit(_OP_WRITE, self.regmap.address(name), value & 0xFFFFFFFF)

    def seed(self, state: int) -> None:
        for name, value in self.regmap.seed_words(state):
            self.write(name, value)
        self.state = state

    def _beats(self, q: np.ndarray, n_beats: int, last_at: int, rng: np.random.Generator
               ) -> np.ndarray:
        """(n_beats, 1 + W) words: last, then the beat's lanes (junk past the row's end)."""
        lanes, wl = self.fmt.lanes, self.fmt.logit.weight_bits
        padded = rng.integers(0, 1 << wl, n_beats * lanes).astype(np.int64)
        n = min(q.size, n_beats * lanes)
        padded[:n] = q[:n] & ((1 << wl) - 1)
        bits = ((padded.reshape(n_beats, lanes, 1) >> np.arange(wl)) & 1).astype(np.uint8)
        bits = bits.reshape(n_beats, lanes * wl)
        words = self.layout.data_words
        bits = np.pad(bits, ((0, 0), (0, 32 * words - bits.shape[1])))
        data = np.packbits(bits, axis=1, bitorder="little").view("<u4")
        last = (np.arange(n_beats) == last_at).astype("<u4")[:, None]
        return np.hstack([last, data])

    def run(self, logits: np.ndarray, label: str, *, gap: int, rng: np.random.Generator,
            last_at: int | None = None, extra_beats: int = 0, busy_start: bool = False,
            flags: Err | int = 0) -> None:
        """A token of ``logits`` (N_ACTIVE written first) with back-pressure ``gap``; ``last_at``
        an early `last` (the row ends at that beat), ``extra_beats`` beats offered past the row's
        end (never taken), ``busy_start`` a start pulse one clock before (the run's own start is
        refused while busy); ``flags`` the error flags expected after it (then cleared)."""
        row = stream_quantize(logits, 1.0, self.fmt)
        lanes = self.fmt.lanes
        full = stream_beats(row.size, lanes)
        self.write("N_ACTIVE", row.size)
        taken = full if last_at is None else last_at + 1
        model_row = row if last_at is None else StreamRow(self.fmt, row.q[:taken * lanes], 0)
        offered = full + extra_beats
        beats = self._beats(np.r_[row.q, np.zeros(extra_beats * lanes, np.int64)], offered,
                            full - 1 + extra_beats if last_at is None and extra_beats
                            else (full - 1 if last_at is None else last_at), rng)
        if busy_start:
            self._emit(_OP_START)
        self._emit(_OP_RUN, offered, gap, int(rng.integers(1, 1 << 31)))
        self._words.append(beats.reshape(-1))
        token, state, trace = stream_draw(model_row, self.state, self.tables)
        self.state = state
        self.decisions += trace.u.size
        want_clocks = stream_clocks(model_row.size, self.fmt.reservoirs, lanes)
        activity = stream_activity(model_row, trace)
        layout = self.layout

        def step(reader, cov):
            n = trace.u.size
            records = reader.take_until_end(label)
            beats_rec, end = records[:-1], records[-1]
            _compare_decisions(layout, beats_rec, model_row, trace, label)
            got = {"token": int(end[1]), "beats taken": int(end[3])}
            want = {"token": token, "beats taken": taken}
            if not busy_start:
                got.update({"ROM reads": int(end[4]), "draws": int(end[5])})
                want.update({"ROM reads": activity.rom_reads, "draws": activity.draws})
                if gap == 0:  # done rises at edge stream_clocks - 1 (the start's is the first)
                    got["clocks"], want["clocks"] = int(end[2]), want_clocks - 1
            for name in got:
                if got[name] != want[name]:
                    raise BulkMismatch(f"{label}: {name}: RTL {got[name]} != model {want[name]}")
            if cov is not None:
                cov.add_run(model_row, trace, gap)
            return n
        self.steps.append(step)
        if flags or busy_start or last_at is not None or extra_beats:
            self.err_check(flags, label)

    def err_check(self, flags: Err | int, label: str) -> None:
        self._emit(_OP_ERR)
        self.write("CLEAR_ERR", 0)
        self._emit(_OP_ERR)

        def step(reader, cov):
            got = int(reader.take(_TAG_ERR, label)[0] & _ERR_MASK)
            if got != int(flags):
                raise BulkMismatch(f"{label}: err = {got:#x}, expected {int(flags):#x}")
            if cov is not None:
                cov.add_flag(got)
            if int(reader.take(_TAG_ERR, label)[0] & _ERR_MASK):
                raise BulkMismatch(f"{label}: CLEAR_ERR left flags set")
            return 0
        self.steps.append(step)

    def refused_write(self, name: str, value: int, label: str) -> None:
        self.write(name, value)
        self.err_check(Err.VALUE, label)

    def words(self) -> np.ndarray:
        return np.concatenate(self._words) if self._words else np.zeros(0, "<u4")


def _compare_decisions(layout: _Layout, records: np.ndarray, row: StreamRow, trace,
                       label: str) -> None:
    """Every lane decision of the run's beat records against the model's trace (in order)."""
    if len(records) == 0:
        raise BulkMismatch(f"{label}: no trace beats")
    valid = layout.lanes_of(records, "valid").astype(bool)
    merge = ((records[:, 0] >> 27) & 1).astype(np.int64)
    index = (records[:, 0] & 0x7FFFFFF).astype(np.int64)
    lanes = np.broadcast_to(np.arange(layout.lanes), valid.shape)
    got = {"merge": np.broadcast_to(merge[:, None], valid.shape)[valid],
           "index": (np.where(merge[:, None] == 1, index[:, None], index[:, None] + lanes))[valid]}
    for name in ("bit", "forced", "field", "lut", "u", "m"):
        got[name] = layout.lanes_of(records, name)[valid]
    v, n = row.size, trace.u.size
    if got["u"].size != n:
        raise BulkMismatch(f"{label}: {got['u'].size} decisions, model {n}")
    level = np.array([t for t, lv in enumerate(merge_levels(row.fmt.reservoirs)) for _ in lv],
                     dtype=np.int64)
    forced = trace.forced.astype(np.int64)
    want = {"merge": (np.arange(n) >= v).astype(np.int64),
            "index": np.r_[np.arange(v), level], "bit": trace.bit, "forced": forced,
            "field": trace.field, "lut": np.where(forced == 1, 0, trace.lut), "u": trace.u,
            "m": trace.m}
    for name, ref in want.items():
        diff = np.flatnonzero(got[name] != ref)
        if diff.size:
            d = int(diff[0])
            what = f"merge {d - v}" if d >= v else f"logit {d}"
            raise BulkMismatch(f"{label}: decision {d} ({what}) {name}: RTL {int(got[name][d])} "
                               f"!= model {int(ref[d])}")


class _Reader:
    """The harness's fixed-size records, read in chunks."""

    def __init__(self, stream, record_words: int):
        self.stream, self.r = stream, record_words
        self.buf = np.zeros((0, record_words), dtype="<u4")
        self.pos = 0

    def _more(self) -> bool:
        data = self.stream.read(4 * self.r * 4096)
        if not data:
            return False
        if len(data) % (4 * self.r):
            data += self.stream.read(4 * self.r - len(data) % (4 * self.r))
        arr = np.frombuffer(data, dtype="<u4").reshape(-1, self.r)
        self.buf = np.concatenate([self.buf[self.pos:], arr])
        self.pos = 0
        return True

    def take(self, tag: int, label: str) -> np.ndarray:
        while self.pos >= len(self.buf):
            if not self._more():
                raise BulkMismatch(f"{label}: the harness's output ended")
        rec = self.buf[self.pos]
        if rec[0] >> 28 != tag:
            raise BulkMismatch(f"{label}: record tag {int(rec[0] >> 28)}, expected {tag}"
                               + (" (run did not finish)" if rec[0] >> 28 == _TAG_FAIL else ""))
        self.pos += 1
        return rec

    def take_until_end(self, label: str) -> np.ndarray:
        """The beat records of a run and its END record (last row)."""
        while True:
            tags = self.buf[self.pos:, 0] >> 28
            ends = np.flatnonzero(tags != _TAG_BEAT)
            if ends.size:
                end = self.pos + int(ends[0])
                if self.buf[end, 0] >> 28 != _TAG_END:
                    raise BulkMismatch(f"{label}: record tag {int(self.buf[end, 0] >> 28)} "
                                       f"before the end of the run")
                out = self.buf[self.pos:end + 1]
                self.pos = end + 1
                return out
            if not self._more():
                raise BulkMismatch(f"{label}: the harness's output ended in a run")

    def rest(self) -> int:
        while self._more():
            pass
        return len(self.buf) - self.pos


@dataclass
class StreamBulkResult:
    decisions: int
    seconds: float
    coverage: StreamCoverage | None


def run_stream_script(binary: Path, script: StreamScript, work_dir: Path, *,
                      coverage: StreamCoverage | None = None) -> StreamBulkResult:
    """Run ``script`` on the harness and check every step as its records arrive; raises
    :class:`~sim.bulk.BulkMismatch` at the first difference."""
    work_dir.mkdir(parents=True, exist_ok=True)
    stim = work_dir / f"stimulus-{os.getpid()}.bin"
    stim.write_bytes(script.words().tobytes())
    layout = script.layout
    start = time.perf_counter()
    proc = subprocess.Popen([str(binary), str(stim), "/dev/stdout", str(layout.record_words),
                             str(layout.data_words), str(1 << 24)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    compared = 0
    try:
        reader = _Reader(proc.stdout, layout.record_words)
        for step in script.steps:
            compared += step(reader, coverage)
        left = reader.rest()
        if left:
            raise BulkMismatch(f"the harness wrote {left} record(s) past the script's end")
        proc.stdout.close()
        code = proc.wait(timeout=60)
        if code != 0:
            raise BulkMismatch(f"the harness exited with {code}: {proc.stderr.read()[-2000:]!r}")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
        stim.unlink(missing_ok=True)
    return StreamBulkResult(compared, time.perf_counter() - start, coverage)


def state_with_draw(u: int, j: int, fmt: StreamFormat) -> int:
    """A generator state whose draw j (0 first) is ``u``: the state before ``u``
    (:func:`sim.bulk.state_before`) taken j draws back over GF(2)."""
    acc = fmt.acc
    target = state_before(u, acc)
    if j == 0:
        return target
    return _gf2_solve(transition_matrix(acc, j * acc.rng_steps), target, acc.rng_bits)


def _directed(script: StreamScript, rng: np.random.Generator) -> None:
    """Two-logit rows whose last merge (slot 1 into slot 0: field x_1 - x_0) addresses the
    sigmoid LUT at both ends of its stored span, and draws equal to that merge's LUT entry and
    one below it (the generator set so that the merge's draw is the wanted one)."""
    fmt = script.fmt
    acc, shift = fmt.acc, fmt.acc_shift
    lo, hi, _, _, _ = lut_span(acc)
    per_bucket = 1 << (acc.lut_shift - shift)  # logit LSBs per LUT entry
    step = 2.0 ** -fmt.logit.frac_bits
    for k in (lo, hi):
        d = k * per_bucket  # q_1 - q_0, in logit LSBs
        z = np.array([0.0, d * step]) if d < 0 else np.array([-d * step, 0.0])
        script.run(z, f"directed LUT index {k}", gap=0, rng=rng)
    row = stream_quantize(np.array([0.0, -1.0]), 1.0, fmt)
    level = int(build_lut(acc)[lut_address(int(row.x[1] - row.x[0]), acc)])
    j = stream_beats(2, fmt.lanes) * fmt.lanes + fmt.reservoirs - 2  # the last merge's draw
    for u in (level, level - 1):
        script.seed(state_with_draw(u, j, fmt))
        script.run(np.array([0.0, -1.0]), f"directed draw u = {u} against LUT {level}", gap=0,
                   rng=rng)


def stream_script(cfg: HwConfig, lanes: int, *, seed: int = 0, rows: int = 20,
                  long_rows: tuple[int, ...] = (), max_vocab: int | None = None) -> StreamScript:
    """Random rows (V 1 .. 300 L, flat, peaked, heavy-tailed, saturating) under every
    back-pressure pattern, edge rows (V = 1, shorter than L, one logit into a beat), bad input
    (N_ACTIVE out of range, an early `last`, beats after the last, a start while busy) and the
    ``long_rows`` (heavy-tailed rows of those V), two tokens per row with the generator running
    on."""
    script = StreamScript(cfg, lanes, max_vocab)
    rng = np.random.default_rng([seed, lanes, 17])
    script.seed(derive_state(seed, 0, script.fmt.acc))
    for r in range(rows):
        v = int(rng.integers(1, 300 * lanes + 1))
        kind = r % 4
        z = (rng.normal(0.0, 0.3, v) if kind == 0 else rng.gumbel(0.0, 2.0, v) if kind == 1
             else rng.normal(0.0, 12.0, v) if kind == 2 else np.r_[0.0, np.full(v - 1, -1e6)])
        for t in range(2):
            script.run(z, f"random row {r} (V={v}) token {t}", gap=GAPS[(r + t) % 4], rng=rng)
    for v in sorted({1, max(1, lanes - 1), lanes + 1, 2 * lanes + 1}):
        script.run(np.linspace(0.0, -6.0, v), f"edge row V={v}", gap=GAPS[v % 4], rng=rng)
    _directed(script, rng)
    script.refused_write("N_ACTIVE", 0, "N_ACTIVE = 0")
    script.refused_write("N_ACTIVE", script.fmt.max_vocab + 1, "N_ACTIVE = max_vocab + 1")
    z = rng.gumbel(0.0, 2.0, 40 * lanes)
    script.run(z, "early last", gap=1, rng=rng, last_at=24, flags=Err.STREAM)
    script.run(z, "beats after the last", gap=0, rng=rng, extra_beats=5, flags=Err.STREAM)
    script.run(z, "start while busy", gap=0, rng=rng, busy_start=True, flags=Err.BUSY_START)
    for n, v in enumerate(long_rows):
        script.run(rng.gumbel(0.0, 2.0, v), f"long row V={v}", gap=GAPS[n % 2], rng=rng)
    return script


def run_stream_bulk(config_name: str, cfg: HwConfig, lanes: int, script: StreamScript, *,
                    coverage: StreamCoverage | None = None) -> StreamBulkResult:
    """Export (when a generator source changed) and build the stream harness for ``cfg`` with
    ``lanes`` lanes (``max_vocab`` of the script's format), then run ``script``."""
    from hw.export import to_verilog

    from .runner import BUILD, _generator_fingerprint

    fmt = script.fmt
    name = f"{config_name}-L{lanes}-V{fmt.max_vocab}"
    vdir = BUILD / "verilog-stream" / name
    vdir.mkdir(parents=True, exist_ok=True)
    vfile, stamp = vdir / "pbit_stream.v", vdir / "generator.sha256"
    fingerprint = _generator_fingerprint(cfg, lanes) + f"-{fmt.max_vocab}"
    if not (vfile.exists() and stamp.exists() and stamp.read_text() == fingerprint):
        vfile.write_text(to_verilog(cfg, "stream", lanes=lanes, max_vocab=fmt.max_vocab))
        stamp.write_text(fingerprint)
    build_dir = BUILD / "bulk-stream" / name
    binary = build_bulk(vfile, "pbit_stream", build_dir, harness=STREAM_HARNESS)
    return run_stream_script(binary, script, build_dir, coverage=coverage)
