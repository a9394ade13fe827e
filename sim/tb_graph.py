"""cocotb tests of ``pbit_graph`` (hw/graph.py): every update compared with
:class:`pysampler.engines.chromatic.ChromaticModel` (index, bit; field, LUT entry and draw from
the debug trace), programmed with ``program.register_writes()``, the lane seeds and the STATE
registers through the programming port.

The topology comes from the runner (``PBIT_TOPOLOGY``: the ``topology.json`` exported beside
the Verilog). Tests: random programs (beta tables of up to 16 entries with holds of 1..3 sweeps,
clamps, random lane seeds or generators going on, init ZEROS, GIVEN and KEEP), edge programs
(both LUT ends, every unit clamped, the smallest beta ratio), refused accesses (values out of
range, addresses the map lacks, a zero seed, bad starts, writes and a start while busy; the
program stays intact, checked by the runs after them) and a reset during a run.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import INIT_CODES, Core, CoreMap, Err, Region
from pysampler.engines.array import Trace
from pysampler.engines.chromatic import ChromaticModel, lane_states

from .checks import expect_flag
from .compare import TRACE_FIELDS, CompareError
from .env import env_config, env_int, report_updates
from .graph_programs import (edge_graph_programs, random_graph_program, random_lane_states,
                             topology_from_json)
from .tb import TB

__all__ = ["GraphTB", "GraphRun", "compare_graph_run", "random_programs_test",
           "edge_programs_test", "bad_input_test", "reset_mid_run_test"]


class GraphRun:
    """What a run of the graph core showed: its updates as a model :class:`Trace` (one chain,
    sweep by sweep, colour by colour, lane slots in order), the colours of its beats and the
    clocks it was busy."""

    def __init__(self, trace: Trace, colours: list[int], cycles: int):
        self.trace, self.colours, self.cycles = trace, colours, cycles


def compare_graph_run(run: GraphRun, model: ChromaticModel, expected: Trace, label: str,
                      debug: bool) -> int:
    """Assert the RTL's updates equal the model's, update by update (index and bit; with
    ``debug`` the field, LUT entry and draw too), and the beats' colours are 0..C-1 in turn;
    returns the number of updates compared."""
    n_colours = model.program.topology.n_colours
    want_colours = [k % n_colours for k in range(len(run.colours))]
    if run.colours != want_colours:
        raise CompareError(f"{label}: beat colours {run.colours[:12]} != {want_colours[:12]}")
    if run.trace.index.shape != expected.index.shape:
        raise CompareError(f"{label}: {run.trace.index.size} updates, model "
                           f"{expected.index.size}")
    for name in TRACE_FIELDS if debug else ("index", "bit"):
        rtl, ref = getattr(run.trace, name)[0], getattr(expected, name)[0]
        diff = np.flatnonzero(rtl != ref)
        if diff.size:
            k = int(diff[0])
            raise CompareError(f"{label}: first difference at update {k}, unit "
                               f"{int(expected.index[0, k])}, {name}: RTL {int(rtl[k])} != "
                               f"model {int(ref[k])}")
    return int(expected.index.size)


class GraphTB(TB):
    """The graph core: its map (from the topology), programs, lane seeds, runs traced colour
    step by colour step, state read-out."""

    inputs = ("start", "sweeps", "init", "rd_addr")

    def __init__(self, dut, cfg: HwConfig, topology, beta_depth: int):
        self.topology, self.beta_depth = topology, beta_depth
        self.classes = topology.classes()
        super().__init__(dut, cfg, Core.GRAPH)
        self.n = topology.n
        self.regmap = CoreMap.of(Core.GRAPH, cfg, beta_depth, n_units=topology.n,
                                 n_edges=topology.n_edges)
        self.bus.regmap = self.regmap
        self.debug = hasattr(dut, "trace__field")
        from pysampler.contract.graph import graph_field_bits

        self.field_bits = graph_field_bits(cfg, topology.max_degree)

    async def program(self, program) -> None:
        await self.bus.write_many(program.register_writes())
        await FallingEdge(self.dut.clk)

    async def seed_lanes(self, states) -> None:
        """Load every unit's generator (its LANE_SEED words, the loading one last)."""
        writes = []
        for i, state in enumerate(states):
            writes += [((name, i), word) for name, word in self.regmap.seed_words(int(state))]
        await self.bus.write_many(writes)
        await FallingEdge(self.dut.clk)

    async def set_state(self, y) -> None:
        """The STATE registers (init = GIVEN)."""
        await self.bus.write_many([(("STATE", i), int(v)) for i, v in enumerate(y)])
        await FallingEdge(self.dut.clk)

    async def pulse_start(self, sweeps: int, init: str) -> None:
        self.dut.sweeps.value = sweeps
        self.dut.init.value = INIT_CODES[init]
        self.dut.start.value = 1
        await FallingEdge(self.dut.clk)
        self.dut.start.value = 0

    def _lanes(self, handle, width: int, signed: bool, count: int) -> list[int]:
        if not handle.value.is_resolvable:
            raise CompareError(f"{handle._name} has unresolved bits: {handle.value}")
        word = int(handle.value)
        out = []
        for s in range(count):
            v = (word >> (s * width)) & ((1 << width) - 1)
            out.append(v - (1 << width) if signed and v >> (width - 1) else v)
        return out

    async def run(self, sweeps: int, init: str) -> GraphRun:
        """Start a run and collect one beat per colour step until done."""
        dut, cfg = self.dut, self.cfg
        await self.pulse_start(sweeps, init)
        n_colours = len(self.classes)
        beats = sweeps * n_colours
        total = sweeps * self.n
        cols = {name: np.zeros(total, dtype=np.int64) for name in TRACE_FIELDS}
        colours, got, cycles = [], 0, 0
        while True:
            if int(dut.trace__valid.value):
                if len(colours) == beats:
                    raise CompareError(f"more than {beats} colour steps in {sweeps} sweeps")
                c = int(dut.trace__colour.value)
                colours.append(c)
                units = self.classes[c % n_colours]
                k = len(units)
                cols["index"][got:got + k] = units
                cols["bit"][got:got + k] = self._lanes(dut.trace__bits, 1, False, k)
                if self.debug:
                    cols["field"][got:got + k] = self._lanes(dut.trace__field, self.field_bits,
                                                             True, k)
                    cols["lut_value"][got:got + k] = self._lanes(dut.trace__lut,
                                                                 cfg.prob_bits + 1, False, k)
                    cols["u"][got:got + k] = self._lanes(dut.trace__u, cfg.prob_bits, False, k)
                got += k
            if int(dut.done.value) and not int(dut.busy.value):
                break
            cycles += 1
            if cycles > beats + 16:
                raise CompareError(f"run did not finish within {beats + 16} clocks")
            await FallingEdge(dut.clk)
        if len(colours) != beats:
            raise CompareError(f"{len(colours)} colour steps seen, expected {beats}")
        trace = Trace(*(cols[name].reshape(1, -1) for name in TRACE_FIELDS))
        return GraphRun(trace, colours, cycles)

    async def read_state(self) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.int64)
        for i in range(self.n):
            self.dut.rd_addr.value = i
            await FallingEdge(self.dut.clk)
            await FallingEdge(self.dut.clk)
            out[i] = int(self.dut.rd_data.value)
        return out


class Chain:
    """The model of the one chain the core holds: its program, generators and state."""

    def __init__(self, tb: GraphTB):
        self.tb = tb
        self.states = lane_states(0, 1, tb.n, tb.cfg)[0]   # after reset: derive_state(0, i)
        self.y: np.ndarray | None = None                      # None: no run since reset
        self.given = np.zeros(tb.n, dtype=np.uint8)
        self.program = None
        self.runs = 0

    async def load(self, program) -> None:
        await self.tb.program(program)
        self.program = program

    async def seed(self, states) -> None:
        await self.tb.seed_lanes(states)
        self.states = np.asarray(states, dtype=np.uint64).copy()

    async def set_state(self, y) -> None:
        await self.tb.set_state(y)
        self.given = np.asarray(y, dtype=np.uint8).copy()

    async def run(self, sweeps: int, init: str, label: str, busy_writes: bool = False) -> int:
        """Run on the RTL and the model and compare; returns the updates compared."""
        tb = self.tb
        start = {"zeros": "zeros", "given": self.given, "keep": self.y}[init]
        model = ChromaticModel(self.program, 1, rng_states=[self.states], init=start)
        expected = model.run(sweeps, trace=True)
        pending = cocotb.start_soon(_busy_writes(tb)) if busy_writes else None
        result = await tb.run(sweeps, init)
        if pending is not None:
            await pending
        count = compare_graph_run(result, model, expected, label, tb.debug)
        self.y, self.states = model.y[0].copy(), model.rng_states[0].copy()
        self.runs += 1
        if tb.n <= 16:
            y = await tb.read_state()
            if not np.array_equal(y, self.y):
                raise CompareError(f"{label}: read-out {y.tolist()} != model {self.y.tolist()}")
        cycles = await tb.bus.read("CYCLES")
        want = 2 + sweeps * tb.topology.n_colours
        if cycles != want:
            raise CompareError(f"{label}: CYCLES {cycles}, expected {want}")
        status = await tb.bus.read("STATUS")
        if status & 0b11 != 0b10:
            raise CompareError(f"{label}: STATUS {status:#b} after the run (want done, idle)")
        if busy_writes:
            await expect_flag(tb, Err.BUSY_WRITE | Err.BUSY_START, f"{label}: busy accesses")
        elif tb.err():
            raise CompareError(f"{label}: unexpected error flags {tb.err():#x}")
        return count


async def _busy_writes(tb: GraphTB) -> None:
    """Two clocks into a run: an h write, a coupling write, a lane seed and a start (all
    refused: BUSY_WRITE, BUSY_START)."""
    await FallingEdge(tb.dut.clk)
    await FallingEdge(tb.dut.clk)
    writes = [(("H", 0), 1), (("LANE_SEED_LO", 0), 12345), ("BETA_LEN", 1)]
    if tb.topology.n_edges:
        writes.append((("EDGE_J", 0), 3))
    await tb.bus.write_many(writes)
    await tb.pulse_start(9, "zeros")


async def start_tb(dut) -> GraphTB:
    topology, depth = topology_from_json(Path(os.environ["PBIT_TOPOLOGY"]).read_text())
    tb = GraphTB(dut, env_config(), topology, depth)
    await tb.start()
    return tb


async def random_programs(tb: GraphTB, count: int, seed: int, max_sweeps: int) -> int:
    """Random programs, lane seeds (new or going on), init ZEROS / GIVEN / KEEP."""
    rng = np.random.default_rng([seed, tb.n, tb.topology.n_edges])
    chain = Chain(tb)
    total = 0
    for k in range(count):
        program = random_graph_program(tb.cfg, tb.topology, rng, tb.beta_depth)
        await chain.load(program)
        if k == 0 or rng.random() < 0.7:
            await chain.seed(random_lane_states(tb.cfg, tb.n, rng))
        inits = ["zeros", "given"] + (["keep"] if chain.y is not None else [])
        init = inits[int(rng.integers(len(inits)))]
        if init == "given":
            await chain.set_state(rng.integers(0, 2, tb.n))
        hold, t = program.beta_hold, program.schedule_length
        sweeps = int(rng.integers(1, max(max_sweeps, min(hold * t + 1, 12)) + 1))
        total += await chain.run(sweeps, init, f"random program {k} ({init}, {sweeps} sweeps, "
                                               f"T={t}, hold={hold})")
    return total


async def edge_programs(tb: GraphTB, seed: int) -> int:
    rng = np.random.default_rng(seed + 5)
    chain = Chain(tb)
    total = 0
    for k, program in enumerate(edge_graph_programs(tb.cfg, tb.topology, tb.beta_depth)):
        await chain.load(program)
        await chain.seed(random_lane_states(tb.cfg, tb.n, rng))
        sweeps = max(3, program.schedule_length * program.beta_hold + 1)
        total += await chain.run(sweeps, "zeros" if k % 2 else "keep" if k else "zeros",
                                 f"edge program {k}")
    return total


def _refusals(tb: GraphTB) -> list[tuple[str, int, int, Err]]:
    """(what, address, value, flag) of writes the core must refuse."""
    rm, cfg = tb.regmap, tb.cfg
    n, e = tb.n, tb.topology.n_edges
    out = [("H above weight_bits", rm.address(("H", 0)), cfg.weight_max + 1, Err.VALUE),
           ("H below weight_bits", rm.address(("H", n - 1)), cfg.weight_min - 1, Err.VALUE),
           ("BETA_MANT 0", rm.address(("BETA_MANT", 0)), 0, Err.VALUE),
           ("BETA_MANT 17", rm.address(("BETA_MANT", 1)), 17, Err.VALUE),
           ("BETA_EXP 8", rm.address(("BETA_EXP", 0)), 8, Err.VALUE),
           ("BETA_LEN 0", rm.address("BETA_LEN"), 0, Err.VALUE),
           ("BETA_LEN past the table", rm.address("BETA_LEN"), tb.beta_depth + 1, Err.VALUE),
           ("BETA_HOLD 0", rm.address("BETA_HOLD"), 0, Err.VALUE),
           ("CLAMP 4", rm.address(("CLAMP", 0)), 4, Err.VALUE),
           ("STATE 2", rm.address(("STATE", 0)), 2, Err.VALUE),
           ("read-only STATUS", rm.address("STATUS"), 1, Err.ADDR),
           ("free REG offset", rm.raw_address(Region.REG, rm.free_offsets(Region.REG)[-1]), 0,
            Err.ADDR)]
    if e:
        out.append(("EDGE_J above weight_bits", rm.address(("EDGE_J", e - 1)),
                    cfg.weight_max + 1, Err.VALUE))
    if e < 1 << rm.offset_bits:
        out.append(("EDGE_J past the edges", rm.raw_address(Region.J, e), 0, Err.ADDR))
    if n < 1 << rm.offset_bits:
        out.append(("H past the units", rm.raw_address(Region.H, n), 0, Err.ADDR))
    ib = 1 << max(1, int(np.ceil(np.log2(n)))) if n > 1 else 2
    if n < ib:
        out.append(("CLAMP past the units", rm.raw_address(Region.STATE, ib | n), 2, Err.ADDR))
    pages = 4 if "LANE_SEED_HI" in rm else 3
    if pages * ib < 1 << rm.offset_bits:
        out.append(("STATE page past the seeds", rm.raw_address(Region.STATE, pages * ib), 1,
                    Err.ADDR))
    return out


async def bad_input(tb: GraphTB, seed: int) -> int:
    """Every refused access with its flag and werr; the program written before them runs as
    the model says (nothing half-programmed), a busy run is left alone."""
    rng = np.random.default_rng(seed + 9)
    chain = Chain(tb)
    program = random_graph_program(tb.cfg, tb.topology, rng, tb.beta_depth)
    await chain.load(program)
    await chain.seed(random_lane_states(tb.cfg, tb.n, rng))
    await tb.pulse_start(1, "keep")                       # no chain to keep after reset
    await expect_flag(tb, Err.BAD_START, "KEEP right after reset")
    for sweeps, init in ((0, "zeros"), (1, "random_onehot")):
        await tb.pulse_start(sweeps, init)
        if int(tb.dut.busy.value):
            raise CompareError(f"start ({sweeps}, {init}) made the core busy")
        await expect_flag(tb, Err.BAD_START, f"start with sweeps={sweeps}, init={init}")
    for what, address, value, flag in _refusals(tb):
        tb.bus.addr.value, tb.bus.data.value, tb.bus.we.value = address, value & 0xFFFFFFFF, 1
        await FallingEdge(tb.dut.clk)
        tb.bus.we.value = 0
        await FallingEdge(tb.dut.clk)
        await expect_flag(tb, flag, what)
    zero_seed = [((name, tb.n - 1), 0) for name, _ in tb.regmap.seed_words(1)]
    await tb.bus.write_many(zero_seed)
    await FallingEdge(tb.dut.clk)
    await expect_flag(tb, Err.SEED, "a zero lane seed")
    total = await chain.run(4, "zeros", "after the refusals")
    total += await chain.run(3, "keep", "busy writes and start", busy_writes=True)
    total += await chain.run(2, "keep", "after the busy writes")
    return total


async def reset_mid_run(tb: GraphTB, seed: int) -> int:
    """Reset during a run: idle, no done, no flags, every generator back at derive_state(0, i);
    the clamps and beta registers at their reset values, h and J kept."""
    rng = np.random.default_rng(seed + 13)
    chain = Chain(tb)
    program = random_graph_program(tb.cfg, tb.topology, rng, tb.beta_depth)
    await chain.load(program)
    await chain.seed(random_lane_states(tb.cfg, tb.n, rng))
    await tb.pulse_start(20, "zeros")
    for _ in range(5):
        await FallingEdge(tb.dut.clk)
    await tb.bus.write(("H", 0), 1)                       # leave a flag set (busy)
    await tb.reset()
    if int(tb.dut.busy.value) or int(tb.dut.done.value) or tb.err():
        raise CompareError("reset did not leave the core idle with no done and no errors")
    fresh = Chain(tb)
    await fresh.load(program)                             # a whole program after reset
    return await fresh.run(3, "zeros", "first run after reset (no seed written)")


@cocotb.test()
async def random_programs_test(dut):
    tb = await start_tb(dut)
    report_updates("random_programs", await random_programs(
        tb, env_int("PBIT_PROGRAMS", 20), env_int("PBIT_SEED", 0), env_int("PBIT_MAX_SWEEPS", 3)))


@cocotb.test()
async def edge_programs_test(dut):
    tb = await start_tb(dut)
    report_updates("edge_programs", await edge_programs(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def bad_input_test(dut):
    tb = await start_tb(dut)
    report_updates("bad_input", await bad_input(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def reset_mid_run_test(dut):
    tb = await start_tb(dut)
    report_updates("reset_mid_run", await reset_mid_run(tb, env_int("PBIT_SEED", 0)))
