"""Bulk co-simulation of the graph core: ``pbit_graph`` runs free in a compiled Verilator harness
(``sim/bulk_graph_main.cpp``), its colour-step beats are compared with
:class:`~pysampler.engines.chromatic.ChromaticModel` in numpy, with coverage bins.

A :class:`GraphScript` holds the stimulus (programming writes, lane seeds, starts, waits, flag
reads, resets) and, per step, what the model expects; :func:`run_graph_script` runs the harness
once (records to a file) and checks the steps in order: every update's unit, bit, field, LUT
entry and draw, the clocks of every run, the flags. The first difference raises
:class:`~sim.bulk.BulkMismatch`. :class:`GraphCoverage` counts the bins of the graph core:
every colour step, every beta entry of a 16-entry table, clamped updates, both saturated LUT
ends and the LUT index past both clamps, the datapath's extreme fields (every neighbour on with
the extreme couplings), u against the LUT entry (equal, one below), every init policy and every
error flag. :class:`GraphHarness` is also what the RTL TSU backend (:mod:`sim.tsu_rtl`) drives.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import MAX_BETA_SCHEDULE, GraphTopology, graph_field_bits
from pysampler.contract.lut import build_lut
from pysampler.contract.regmap import INIT_CODES, Core, CoreMap, Err, Region
from pysampler.engines.array import Trace
from pysampler.engines.chromatic import ChromaticModel, lane_states

from .bulk import BulkMismatch, CoverageBins, build_bulk
from .graph_programs import (edge_graph_programs, graph_topology, random_graph_program,
                             random_lane_states)

__all__ = ["GraphHarness", "GraphScript", "GraphCoverage", "GraphBulkResult", "graph_harness",
           "run_graph_script", "run_graph_bulk", "graph_script", "GRAPH_HARNESS",
           "GRAPH_BULK_CASES", "graph_case_coverage", "graph_soak"]

GRAPH_HARNESS = Path(__file__).resolve().parent / "bulk_graph_main.cpp"
_OP_WRITE, _OP_START, _OP_WAIT, _OP_ERR, _OP_RESET, _OP_READ, _OP_IDLE, _OP_TRACE = range(1, 9)
_TAG_BEAT, _TAG_END, _TAG_ERR, _TAG_READ, _TAG_FAIL = range(1, 6)
#: the graph core's bulk cases on Verilator: (configuration, topology, random programs, long
#: runs, sweeps per long run); ``make test`` runs the first, ``make coverage`` and ``make soak``
#: all of them (``clamp``: a LUT that clamps inside the field range; ``wide``: xorshift64, two
#: seed words per unit, lut_shift 2; the 16 x 16 lattice: 128 lanes)
GRAPH_BULK_CASES = [("default", "random12", 200, 4, 2000), ("clamp", "lattice4", 100, 2, 1000),
                    ("wide", "random12", 100, 2, 1000), ("default", "lattice16", 20, 2, 100)]


def _words(bits: int) -> int:
    return (bits + 31) // 32


class GraphHarness:
    """The compiled harness of one graph core: its widths, and a run of a stimulus to records.

    Parameters
    ----------
    cfg, topology, beta_depth
        What the core was built for.
    binary : Path
        The harness (:func:`graph_harness`).
    """

    def __init__(self, cfg: HwConfig, topology: GraphTopology, beta_depth: int, binary: Path):
        self.cfg, self.topology, self.beta_depth, self.binary = cfg, topology, beta_depth, binary
        self.regmap = CoreMap.of(Core.GRAPH, cfg, beta_depth, n_units=topology.n,
                                 n_edges=topology.n_edges)
        lanes = topology.lanes
        self.field_bits = graph_field_bits(cfg, topology.max_degree)
        self.widths = (1, self.field_bits, cfg.prob_bits + 1, cfg.prob_bits)
        self.sig_words = [_words(lanes * w) for w in self.widths]
        self.record_words = max(1 + sum(self.sig_words), 1 + _words(topology.n), 2)

    def run(self, words: np.ndarray, work_dir: Path) -> np.ndarray:
        """Run a stimulus (uint32 words); returns the records, uint32 (count, record_words)."""
        work_dir.mkdir(parents=True, exist_ok=True)
        stim = work_dir / f"stimulus-{os.getpid()}.bin"
        trace = work_dir / f"records-{os.getpid()}.bin"
        stim.write_bytes(np.asarray(words, dtype=np.uint32).tobytes())
        try:
            # the longest run the core can be started for, and a margin: a core that does
            # not finish (a mutant) fails fast
            limit = 2 + 65535 * self.topology.n_colours + 64
            proc = subprocess.run([str(self.binary), str(stim), str(trace),
                                   str(self.record_words), *map(str, self.sig_words),
                                   str(limit)], capture_output=True, text=True)
            data = np.fromfile(trace, dtype=np.uint32) if trace.exists() else np.zeros(0,
                                                                                      np.uint32)
        finally:
            stim.unlink(missing_ok=True)
            trace.unlink(missing_ok=True)
        records = data.reshape(-1, self.record_words)
        if proc.returncode != 0:
            fail = records[(records[:, 0] >> 28) == _TAG_FAIL] if records.size else records
            raise BulkMismatch(f"the graph harness exited with {proc.returncode} "
                               f"(fail records {fail[:, :2].tolist()}): {proc.stderr[-2000:]}")
        return records

    def lanes_of(self, beats: np.ndarray) -> list[np.ndarray]:
        """(bits, field, lut, u), each int64 (beats, L), from beat records."""
        out, k = [], 1
        lanes = self.topology.lanes
        for width, nw, signed in zip(self.widths, self.sig_words, (False, True, False, False)):
            raw = np.ascontiguousarray(beats[:, k:k + nw])
            bits = np.unpackbits(raw.view(np.uint8), axis=1, bitorder="little")
            bits = bits[:, :lanes * width].reshape(len(beats), lanes, width).astype(np.int64)
            value = bits @ (np.int64(1) << np.arange(width, dtype=np.int64))
            if signed:
                value = np.where(value >> (width - 1), value - (np.int64(1) << width), value)
            out.append(value)
            k += nw
        return out

    def to_trace(self, beats: np.ndarray, sweeps: int) -> tuple[Trace, np.ndarray]:
        """The beats of one run as a model :class:`Trace` (sweep, colour, lane order) and their
        colours."""
        top = self.topology
        n_colours = top.n_colours
        colours = (beats[:, 0] & 0xFFFFFFF).astype(np.int64)
        bits, fields, luts, us = self.lanes_of(beats)
        total = sweeps * top.n
        cols = [np.zeros(total, dtype=np.int64) for _ in range(5)]
        for c, units in enumerate(top.classes()):
            rows = np.arange(c, len(beats), n_colours)
            k = len(units)
            pos = ((rows // n_colours * top.n)[:, None] + top.class_start[c]
                   + np.arange(k)).ravel()
            cols[0][pos] = np.broadcast_to(units, (len(rows), k)).ravel()
            for dst, src in zip(cols[1:], (bits, fields, luts, us)):
                dst[pos] = src[rows, :k].ravel()
        return Trace(*(c.reshape(1, -1) for c in cols)), colours


def _config_name(cfg: HwConfig) -> str:
    """The co-simulation's name of ``cfg`` (sim.runner.cosim_config), else a hash of it."""
    from .runner import cosim_config

    for name in ("tiny", "default", "wide", "clamp"):
        if cosim_config(name) == cfg:
            return name
    return "c" + hashlib.sha256(cfg.to_json().encode()).hexdigest()[:12]


def graph_harness(cfg: HwConfig, config_name: str | None = None,
                  topology_name: str | None = None, *, topology: GraphTopology | None = None,
                  verilog_dir: Path | None = None, build_dir: Path | None = None
                  ) -> GraphHarness:
    """Export (when a source changed) and build the harness for a named topology
    (:data:`sim.graph_programs.GRAPH_TOPOLOGIES`) or a given one (a given one equal to a named
    one shares its build; others are named by a hash); ``verilog_dir``: simulate the Verilog
    there as it is (a mutant). The core has the full 16-entry beta table."""
    from hw.export import topology_json

    from .graph_programs import GRAPH_TOPOLOGIES, same_topology
    from .runner import BUILD, ensure_graph_verilog

    if topology is None:
        topology = graph_topology(topology_name)
    else:
        topology_name = next((name for name in GRAPH_TOPOLOGIES
                              if same_topology(graph_topology(name), topology)), None) \
            or "t" + hashlib.sha256(topology_json(topology).encode()).hexdigest()[:12]
    name = f"{config_name or _config_name(cfg)}-{topology_name}"
    vdir = verilog_dir
    if vdir is None:
        vdir = BUILD / "verilog" / name
        ensure_graph_verilog(cfg, vdir, None, topology)
    build_dir = build_dir or BUILD / "bulk" / name / "graph"
    binary = build_bulk(vdir / "pbit_graph.v", "pbit_graph", build_dir, harness=GRAPH_HARNESS)
    return GraphHarness(cfg, topology, MAX_BETA_SCHEDULE, binary)


# --- coverage ------------------------------------------------------------------------------------
@dataclass
class GraphCoverage(CoverageBins):
    """Functional-coverage bins of the graph core for one configuration and topology."""

    cfg: HwConfig
    topology: GraphTopology
    beta_depth: int = MAX_BETA_SCHEDULE
    hits: Counter = field(default_factory=Counter)
    reachable: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)

    def __post_init__(self):
        cfg, top = self.cfg, self.topology
        half = cfg.lut_size // 2
        lut = build_lut(cfg)
        degree = int(top.degree.max())
        self.fmin = cfg.weight_min * (degree + 1)
        self.fmax = cfg.weight_max * (degree + 1)
        for c in range(top.n_colours):
            self._bin(f"colour {c}", True, f"{len(top.classes()[c])} lanes")
        for t in range(self.beta_depth):
            self._bin(f"beta entry {t}", True, "")
        self._bin("clamped update", True, "")
        self._bin("LUT entry 0", 0 in set(lut.tolist()), "saturated low end")
        self._bin(f"LUT entry 2^{cfg.prob_bits}", 1 << cfg.prob_bits in set(lut.tolist()),
                  "saturated high end")
        reach_lo = (self.fmin >> cfg.lut_shift) < -half
        reach_hi = (self.fmax >> cfg.lut_shift) > half - 1
        self._bin("lut index below the lower clamp", reach_lo, "")
        self._bin("lut index above the upper clamp", reach_hi, "")
        self._bin(f"field = lowest ({self.fmin})", True, f"h and {degree} couplings at the minimum")
        self._bin(f"field = highest ({self.fmax})", True, "")
        self._bin("u = LUT entry (compare says 0)", True, "")
        self._bin("u = LUT entry - 1 (compare says 1)", True, "")
        for name in ("zeros", "given", "keep"):
            self._bin(f"init {name}", True, "")
        for flag in (Err.ADDR, Err.VALUE, Err.SEED, Err.BUSY_WRITE, Err.BUSY_START,
                     Err.BAD_START):
            self._bin(f"flag {flag.name}", True, "")

    def add_run(self, trace: Trace, program, sweeps: int, init: str, colours) -> None:
        cfg = self.cfg
        for c in np.unique(colours):
            self.hits[f"colour {int(c)}"] += int((colours == c).sum())
        for t in np.unique(program.schedule_entries(sweeps)):
            self.hits[f"beta entry {int(t)}"] += 1
        idx = trace.index[0]
        self.hits["clamped update"] += int(program.clamped[idx].sum())
        lut = trace.lut_value[0]
        self.hits["LUT entry 0"] += int((lut == 0).sum())
        self.hits[f"LUT entry 2^{cfg.prob_bits}"] += int((lut == 1 << cfg.prob_bits).sum())
        half = cfg.lut_size // 2
        entries = program.schedule_entries(sweeps)
        per_update = np.repeat(entries, program.n)
        from pysampler.contract.graph import scale_field

        scaled = scale_field(trace.field[0], np.asarray(program.beta_mant)[per_update],
                             np.asarray(program.beta_exp)[per_update])
        shifted = scaled >> cfg.lut_shift
        self.hits["lut index below the lower clamp"] += int((shifted < -half).sum())
        self.hits["lut index above the upper clamp"] += int((shifted > half - 1).sum())
        f = trace.field[0]
        self.hits[f"field = lowest ({self.fmin})"] += int((f == self.fmin).sum())
        self.hits[f"field = highest ({self.fmax})"] += int((f == self.fmax).sum())
        free = ~program.clamped[idx]
        self.hits["u = LUT entry (compare says 0)"] += int(((trace.u[0] == lut) & free).sum())
        self.hits["u = LUT entry - 1 (compare says 1)"] += int(
            ((trace.u[0] == lut - 1) & free).sum())
        self.hits[f"init {init}"] += 1

    def add_flag(self, flags: int) -> None:
        for flag in Err:
            if flags & flag:
                self.hits[f"flag {flag.name}"] += 1



# --- scripts -------------------------------------------------------------------------------------
@dataclass
class _Chain:
    """The model's view of the one chain the core holds."""

    states: np.ndarray
    y: np.ndarray | None = None
    given: np.ndarray | None = None
    program: object = None


class GraphScript:
    """The stimulus of a bulk run of the graph core and, per step, the model's expectation."""

    def __init__(self, cfg: HwConfig, topology: GraphTopology,
                 beta_depth: int = MAX_BETA_SCHEDULE):
        self.cfg, self.topology, self.beta_depth = cfg, topology, beta_depth
        self.regmap = CoreMap.of(Core.GRAPH, cfg, beta_depth, n_units=topology.n,
                                 n_edges=topology.n_edges)
        self.ops: list[int] = []
        self.steps: list[Callable] = []   # step(records_iter, coverage) -> compared updates
        self.chain = _Chain(lane_states(0, 1, topology.n, cfg)[0].copy(),
                            given=np.zeros(topology.n, np.uint8))

    def _write(self, writes) -> None:
        for ref, value in writes:
            self.ops += [_OP_WRITE, self.regmap.address(ref), int(value) & 0xFFFFFFFF]

    def program(self, program) -> None:
        self._write(program.register_writes())
        self.chain.program = program

    def seed(self, states) -> None:
        writes = []
        for i, state in enumerate(states):
            writes += [((name, i), word) for name, word in self.regmap.seed_words(int(state))]
        self._write(writes)
        self.chain.states = np.asarray(states, dtype=np.uint64).copy()

    def set_state(self, y) -> None:
        self._write([(("STATE", i), int(v)) for i, v in enumerate(y)])
        self.chain.given = np.asarray(y, dtype=np.uint8).copy()

    def run(self, sweeps: int, init: str, label: str) -> None:
        chain, top = self.chain, self.topology
        start = {"zeros": "zeros", "given": chain.given, "keep": chain.y}[init]
        model = ChromaticModel(chain.program, 1, rng_states=[chain.states], init=start)
        expected = model.run(sweeps, trace=True)
        chain.y, chain.states = model.y[0].copy(), model.rng_states[0].copy()
        program = chain.program
        self.ops += [_OP_START, sweeps, INIT_CODES[init], _OP_WAIT]
        beats = sweeps * top.n_colours

        def step(records, harness, coverage):
            got = records.take(beats, _TAG_BEAT, label)
            trace, colours = harness.to_trace(got, sweeps)
            want_colours = np.arange(beats) % top.n_colours
            if not np.array_equal(colours, want_colours):
                raise BulkMismatch(f"{label}: beat colours {colours[:8]} != {want_colours[:8]}")
            for name in ("index", "bit", "field", "lut_value", "u"):
                rtl, ref = getattr(trace, name)[0], getattr(expected, name)[0]
                diff = np.flatnonzero(rtl != ref)
                if diff.size:
                    k = int(diff[0])
                    raise BulkMismatch(f"{label}: update {k} (sweep {k // top.n}), unit "
                                       f"{int(expected.index[0, k])}, {name}: RTL {int(rtl[k])}"
                                       f" != model {int(ref[k])}")
            end = records.take(1, _TAG_END, label)[0]
            # clocks from the start pulse's edge: the pulse, INIT, PRIME, one a colour step
            if end[0] & 0x7F or end[1] != 3 + beats:
                raise BulkMismatch(f"{label}: end of run err {int(end[0] & 0x7F):#x}, clocks "
                                   f"{int(end[1])} (want 0, {3 + beats})")
            if coverage is not None:
                coverage.add_run(expected, program, sweeps, init, colours)
            return int(expected.index.size)

        self.steps.append(step)

    def refused_write(self, address: int, value: int, flag: Err, label: str) -> None:
        self.ops += [_OP_WRITE, address, int(value) & 0xFFFFFFFF]
        self._expect_flag(flag, label)

    def refused_start(self, sweeps: int, init: str, label: str) -> None:
        self.ops += [_OP_START, sweeps, INIT_CODES[init]]
        self._expect_flag(Err.BAD_START, label)

    def _expect_flag(self, flag: Err, label: str) -> None:
        self.ops += [_OP_ERR]
        self._write([("CLEAR_ERR", 0)])

        def step(records, harness, coverage):
            got = int(records.take(1, _TAG_ERR, label)[0][0] & 0x7F)
            if got != int(flag):
                raise BulkMismatch(f"{label}: err {got:#x}, expected {int(flag):#x}")
            if coverage is not None:
                coverage.add_flag(got)
            return 0

        self.steps.append(step)

    def busy_run(self, sweeps: int, label: str) -> None:
        """A run whose clocks 2.. carry refused writes and a refused start (KEEP after it)."""
        chain = self.chain
        model = ChromaticModel(chain.program, 1, rng_states=[chain.states], init=chain.y)
        model.run(sweeps)
        chain.y, chain.states = model.y[0].copy(), model.rng_states[0].copy()
        self.ops += [_OP_TRACE, 0, _OP_START, sweeps, INIT_CODES["keep"], _OP_IDLE, 1]
        self._write([(("H", 0), 1)])
        self.ops += [_OP_START, 3, INIT_CODES["zeros"], _OP_WAIT, _OP_TRACE, 1]
        self.ops += [_OP_ERR]
        self._write([("CLEAR_ERR", 0)])
        y_after = chain.y.copy()
        self.ops += [_OP_READ, self.topology.n]

        def step(records, harness, coverage):
            records.take(1, _TAG_END, label)
            got = int(records.take(1, _TAG_ERR, label)[0][0] & 0x7F)
            want = int(Err.BUSY_WRITE | Err.BUSY_START)
            if got != want:
                raise BulkMismatch(f"{label}: err {got:#x}, expected {want:#x}")
            if coverage is not None:
                coverage.add_flag(got)
                coverage.hits["init keep"] += 1
            words = records.take(1, _TAG_READ, label)[0][1:]
            y = np.unpackbits(np.ascontiguousarray(words).view(np.uint8),
                              bitorder="little")[:len(y_after)]
            if not np.array_equal(y, y_after):
                raise BulkMismatch(f"{label}: read-out differs from the model")
            return 0

        self.steps.append(step)

    def reset(self) -> None:
        self.ops += [_OP_RESET]
        self.chain = _Chain(lane_states(0, 1, self.topology.n, self.cfg)[0].copy(),
                            given=self.chain.given, program=self.chain.program)
        self.chain.y = None

    def words(self) -> np.ndarray:
        return np.asarray(self.ops, dtype=np.uint32)


class _Records:
    def __init__(self, records: np.ndarray):
        self.records, self.pos = records, 0

    def take(self, count: int, tag: int, label: str) -> np.ndarray:
        got = self.records[self.pos:self.pos + count]
        if len(got) < count or np.any((got[:, 0] >> 28) != tag):
            tags = sorted(set((got[:, 0] >> 28).tolist()))
            raise BulkMismatch(f"{label}: expected {count} record(s) of tag {tag}, got "
                               f"{len(got)} with tags {tags}")
        self.pos += count
        return got


@dataclass
class GraphBulkResult:
    updates: int
    seconds: float
    coverage: GraphCoverage | None


def run_graph_script(harness: GraphHarness, script: GraphScript, work_dir: Path, *,
                     coverage: GraphCoverage | None = None) -> GraphBulkResult:
    """Run ``script`` on ``harness`` and check every step (:class:`BulkMismatch` at the first
    difference or a record the script did not expect)."""
    start = time.perf_counter()
    records = _Records(harness.run(script.words(), work_dir))
    compared = sum(step(records, harness, coverage) for step in script.steps)
    if records.pos != len(records.records):
        raise BulkMismatch(f"the harness wrote {len(records.records) - records.pos} record(s) "
                           f"past the script's end")
    return GraphBulkResult(compared, time.perf_counter() - start, coverage)


def _refusals(script: GraphScript) -> list[tuple[str, int, int, Err]]:
    rm, cfg, n = script.regmap, script.cfg, script.topology.n
    e = script.topology.n_edges
    out = [("H above weight_bits", rm.address(("H", 0)), cfg.weight_max + 1, Err.VALUE),
           ("BETA_MANT 0", rm.address(("BETA_MANT", 0)), 0, Err.VALUE),
           ("BETA_EXP 8", rm.address(("BETA_EXP", 1)), 8, Err.VALUE),
           ("BETA_LEN past the table", rm.address("BETA_LEN"), script.beta_depth + 1, Err.VALUE),
           ("CLAMP 4", rm.address(("CLAMP", n - 1)), 4, Err.VALUE),
           ("read-only STATUS", rm.address("STATUS"), 1, Err.ADDR),
           ("free REG offset", rm.raw_address(Region.REG, rm.free_offsets(Region.REG)[-1]), 0,
            Err.ADDR)]
    if e < 1 << rm.offset_bits:
        out.append(("EDGE_J past the edges", rm.raw_address(Region.J, e), 0, Err.ADDR))
    return out


def graph_script(cfg: HwConfig, topology: GraphTopology, *, seed: int = 0, programs: int = 40,
                 long_runs: int = 2, long_sweeps: int = 200, max_sweeps: int = 12,
                 beta_depth: int = MAX_BETA_SCHEDULE) -> GraphScript:
    """The standard bulk script: the edge programs, random programs (lane seeds new or going
    on, init ZEROS / GIVEN / KEEP, beta tables with holds), directed u = LUT runs (generators
    chosen so a free unit draws its own LUT entry), the refusals with their flags, a busy run,
    a reset, and ``long_runs`` runs of ``long_sweeps`` sweeps."""
    from .bulk import state_before

    script = GraphScript(cfg, topology, beta_depth)
    rng = np.random.default_rng([seed, topology.n, topology.n_edges])
    n = topology.n
    script.refused_start(1, "keep", "KEEP right after reset")
    for k, program in enumerate(edge_graph_programs(cfg, topology, beta_depth)):
        script.program(program)
        script.seed(random_lane_states(cfg, n, rng))
        script.run(max(3, program.schedule_length * program.beta_hold + 1),
                   "keep" if k % 2 and k else "zeros", f"edge program {k}")
    ones = np.ones(n, dtype=np.int64)
    for k, program in enumerate(edge_graph_programs(cfg, topology, beta_depth)[1:3]):
        script.program(program)     # every neighbour on: the extreme fields of colour 0
        script.set_state(ones)
        script.run(1, "given", f"extreme fields {k}")
    for k in range(programs):
        program = random_graph_program(cfg, topology, rng, beta_depth)
        script.program(program)
        if k == 0 or rng.random() < 0.7:
            script.seed(random_lane_states(cfg, n, rng))
        init = ["zeros", "given", "keep"][k % 3]
        if init == "given":
            script.set_state(rng.integers(0, 2, n))
        sweeps = int(rng.integers(1, max_sweeps + 1))
        script.run(sweeps, init, f"random program {k} ({init}, {sweeps} sweeps)")
    # directed draws: every unit's first draw is its own LUT entry (or one below)
    for below in (0, 1):
        program = random_graph_program(cfg, topology, rng, beta_depth)
        script.program(program)
        model = ChromaticModel(program, 1, rng_states=[script.chain.states], init="zeros")
        levels = model.run(1, trace=True).lut_value[0]
        order = topology.order
        wanted = np.clip(levels - below, 0, (1 << cfg.prob_bits) - 1)
        states = np.array([state_before(int(u), cfg) for u in wanted[np.argsort(order)]],
                          dtype=np.uint64)
        script.seed(states)
        script.run(1, "zeros", f"directed draws u = LUT - {below}")
    for what, address, value, flag in _refusals(script):
        script.refused_write(address, value, flag, what)
    script.ops += [_OP_WRITE, script.regmap.address(("LANE_SEED_LO", 0)), 0]
    if "LANE_SEED_HI" in script.regmap:
        script.ops += [_OP_WRITE, script.regmap.address(("LANE_SEED_HI", 0)), 0]
    script._expect_flag(Err.SEED, "a zero lane seed")
    script.refused_start(0, "zeros", "sweeps = 0")
    script.run(2, "keep", "after the refusals (KEEP)")
    script.busy_run(5, "writes and a start while busy")
    script.reset()
    script.refused_start(1, "keep", "KEEP after a reset")
    script.program(random_graph_program(cfg, topology, rng, beta_depth))
    script.run(3, "zeros", "after a reset (generators at derive_state(0, i))")
    for k in range(long_runs):
        program = random_graph_program(cfg, topology, rng, beta_depth)
        script.program(program)
        script.seed(random_lane_states(cfg, n, rng))
        script.run(long_sweeps, "zeros" if k == 0 else "keep", f"long run {k}")
    return script


def run_graph_bulk(config_name: str, cfg: HwConfig, topology_name: str, script: GraphScript, *,
                   verilog_dir: Path | None = None, build_dir: Path | None = None,
                   coverage: GraphCoverage | None = None) -> GraphBulkResult:
    """Build (when needed) the harness of the graph core for the named topology and run
    ``script`` (:func:`run_graph_script`)."""
    harness = graph_harness(cfg, config_name, topology_name, verilog_dir=verilog_dir,
                            build_dir=build_dir)
    return run_graph_script(harness, script, harness.binary.parent, coverage=coverage)


def graph_case_coverage(config: str, topology_name: str, programs: int, long_runs: int,
                        long_sweeps: int, *, seed: int = 0) -> tuple[GraphCoverage, int]:
    """Run one graph bulk case with coverage; returns (its coverage, compared updates)."""
    from .runner import cosim_config

    cfg, top = cosim_config(config), graph_topology(topology_name)
    coverage = GraphCoverage(cfg, top)
    script = graph_script(cfg, top, seed=seed, programs=programs, long_runs=long_runs,
                          long_sweeps=long_sweeps)
    result = run_graph_bulk(config, cfg, topology_name, script, coverage=coverage)
    return coverage, result.updates


def graph_soak(updates: int, *, seed: int, log=print) -> dict[str, int]:
    """About ``updates`` compared updates spread over :data:`GRAPH_BULK_CASES`, in batches of
    the standard script (random programs, long runs) each from a new seed derived from
    ``seed``; returns the compared updates per case (raises BulkMismatch at a difference)."""
    share = -(-updates // len(GRAPH_BULK_CASES))
    counts = {}
    for config, name, programs, long_runs, long_sweeps in GRAPH_BULK_CASES:
        done, batch, start = 0, 0, time.perf_counter()
        while done < share:
            done += graph_case_coverage(config, name, programs, long_runs, long_sweeps,
                                        seed=seed * 100_000 + batch)[1]
            batch += 1
        counts[f"{config}-graph-{name}"] = done
        log(f"{config}-graph-{name:9s} {done:12,d} updates compared in "
            f"{time.perf_counter() - start:6.1f} s")
    return counts
