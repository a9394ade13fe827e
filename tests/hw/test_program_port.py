"""The generated programming-port decoder (hw.control.program_port) against its one definition, the
register map: in Amaranth's simulator, every register of every core takes the values its check
accepts, refuses the others with the check's flag (and ``werr``), every address the map leaves free
and every read-only register is refused, every readable register reads back what the map says,
START starts a run, and exactly the map's keep_stale registers make the next KEEP start fail."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.dense import DenseCore
from hw.graph import GraphCore, graph_clocks
from hw.onehot import OnehotCore
from hw.stream import StreamCore
from hw.tree import TreeCore
from pysampler.contract.config import HwConfig
from pysampler.contract.graph import GraphTopology
from pysampler.contract.regmap import Core, CoreMap, Err, Init, Region, Storage, accepts_init


def _graph_core(cfg: HwConfig) -> GraphCore:
    """The graph core on a ring of cfg.n_pbits units with one chord (3 colours), 3 beta
    entries (the map's arrays past their first and last entries are alike)."""
    n = cfg.n_pbits
    edges = sorted({tuple(sorted((i, (i + 1) % n))) for i in range(n)} | {(0, 2)})
    colours = np.array([0, 1, 2] + [1 + (k % 2) for k in range(n - 3)])
    colours[-1] = 1 if colours[-2] != 1 else 2
    return GraphCore(cfg, GraphTopology(n, np.array(edges), colours, 3), beta_depth=3)


def _stream_core(cfg: HwConfig) -> StreamCore:
    """The stream core with coarse tables (every 2^-3 logit) and rows of up to 64 logits: the
    same register map, ROMs small enough for Amaranth's simulator (the default format's take
    about 40 s to simulate here)."""
    return StreamCore(cfg, lut_frac_bits=3, max_vocab=64)


# every core with RTL (the graph core on a small ring, :func:`_graph_core`)
CORES = {Core.ONEHOT: OnehotCore, Core.DENSE: DenseCore, Core.TREE: TreeCore,
         Core.STREAM: _stream_core, Core.GRAPH: _graph_core}
CONFIGS = [HwConfig(n_pbits=6, weight_bits=6, frac_bits=2, lut_addr_bits=6, prob_bits=8,
                    rng_bits=16),
           HwConfig(n_pbits=5, weight_bits=7, frac_bits=2, lut_addr_bits=6, prob_bits=8,
                    rng="xorshift", rng_bits=64)]   # two seed words


def _entries(regmap: CoreMap, reg):
    """The first and last index of an array (every index of a small one)."""
    indices = list(regmap.indices(reg))
    return indices if len(indices) <= 2 else [indices[0], indices[-1]]


def _cases(regmap: CoreMap):
    """(what, address, value, expected err) for every register entry and free address."""
    cases = []
    for reg in regmap.registers:
        if reg.storage is Storage.SEED or reg.name == "START":
            continue  # loads and starts are checked apart (their effect depends on the rest)
        if not reg.access.writable:
            cases.append((f"read-only {reg.label}", regmap.address(reg.name), 1, Err.ADDR))
            continue
        bounds = regmap.bounds(reg)
        for index in _entries(regmap, reg):
            address = regmap.address(reg.name if index is None else (reg.name, index))
            good = [0] if bounds is None else list(bounds)
            bad = [] if bounds is None else [bounds[0] - 1, bounds[1] + 1]
            cases += [(f"{reg.label} {index} = {v}", address, v, 0) for v in good]
            cases += [(f"{reg.label} {index} = {v}", address, v, reg.check.error) for v in bad
                      if -(1 << 31) <= v < 1 << 32]
    for region in Region:
        if region not in regmap.regions:
            cases.append((f"region {region.name}", regmap.raw_address(region, 0), 0, Err.ADDR))
        elif region is Region.REG:
            cases += [(f"free REG offset {k}", regmap.raw_address(region, k), 0, Err.ADDR)
                      for k in regmap.free_offsets(region)]
    return cases


def _simulate(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()


async def _write(ctx, dut, address: int, value: int) -> int:
    """One write; returns ``werr`` of its clock."""
    ctx.set(dut.prog.addr, address)
    ctx.set(dut.prog.data, value & 0xFFFFFFFF)
    ctx.set(dut.prog.we, 1)
    refused = ctx.get(dut.prog.werr)
    await ctx.tick()
    ctx.set(dut.prog.we, 0)
    return refused


async def _read(ctx, dut, address: int) -> tuple[int, int]:
    """(rdata, rerr) of ``address`` (combinational)."""
    ctx.set(dut.prog.raddr, address)
    await ctx.delay(1e-9)
    return ctx.get(dut.prog.rdata), ctx.get(dut.prog.rerr)


async def _start(ctx, dut, init: Init | None = None) -> None:
    """Pulse start (sweeps 1, init ``init`` on the sweep cores) and wait for the core to idle."""
    if init is not None:
        ctx.set(dut.sweeps, 1)
        ctx.set(dut.init, init)
    ctx.set(dut.start, 1)
    await ctx.tick()
    ctx.set(dut.start, 0)
    for _ in range(200):
        if not ctx.get(dut.busy):
            return
        await ctx.tick()
    raise AssertionError("the run did not end")


@pytest.mark.parametrize("cfg", CONFIGS, ids=["lfsr16", "xorshift64"])
@pytest.mark.parametrize("core", list(CORES), ids=[c.value for c in CORES])
def test_every_write_is_decoded_as_the_map_says(core, cfg):
    dut = CORES[core](cfg)
    regmap = dut.regmap
    clear = regmap.address("CLEAR_ERR")
    cases = _cases(regmap)
    seen = []

    async def bench(ctx):
        for what, address, value, expected in cases:
            refused = await _write(ctx, dut, address, value)
            seen.append((what, Err(ctx.get(dut.err)), Err(expected)))
            seen.append((f"werr of {what}", refused, int(expected != 0)))
            await _write(ctx, dut, clear, 0)
            assert ctx.get(dut.err) == 0, f"CLEAR_ERR after {what}"
        for state, expected in ((0, Err.SEED), (1, Err(0)), (1 << (cfg.rng_bits - 1), Err(0))):
            for name, word in regmap.seed_words(state):   # the graph core: unit 1's generator
                ref = (name, 1) if regmap[name].is_array else name
                await _write(ctx, dut, regmap.address(ref), word)
            seen.append((f"seed {state:#x}", Err(ctx.get(dut.err)), expected))
            await _write(ctx, dut, clear, 0)

    _simulate(dut, bench)
    wrong = [(what, got, want) for what, got, want in seen if got != want]
    assert not wrong, wrong
    assert len(seen) > 10


@pytest.mark.parametrize("core", [Core.ONEHOT, Core.DENSE, Core.GRAPH],
                         ids=["onehot", "dense", "graph"])
def test_init_codes_and_keep_staleness_follow_the_map(core):
    cfg = CONFIGS[0]
    dut = CORES[core](cfg)
    regmap = dut.regmap
    clear = regmap.address("CLEAR_ERR")
    seen = []

    async def bench(ctx):
        for code in sorted(Init, key=lambda code: code is not Init.KEEP):  # KEEP first
            await _start(ctx, dut, code)
            refused = bool(ctx.get(dut.err) & Err.BAD_START)
            # KEEP right after reset has no chain to keep
            seen.append((code.name, refused, not accepts_init(core, code) or code is Init.KEEP))
            await _write(ctx, dut, clear, 0)
        if not accepts_init(core, Init.KEEP):
            return
        await _start(ctx, dut, Init.ZEROS)
        await _start(ctx, dut, Init.KEEP)
        seen.append(("KEEP after a run", bool(ctx.get(dut.err)), False))
        for reg in regmap.registers:
            if reg.storage is Storage.SEED or reg.name in ("CLEAR_ERR", "START") \
                    or not reg.access.writable:
                continue
            for index in _entries(regmap, reg):
                await _start(ctx, dut, Init.ZEROS)
                value = 1 if regmap.bounds(reg) is None else regmap.bounds(reg)[1]
                await _write(ctx, dut, regmap.address(reg.name if index is None
                                                      else (reg.name, index)), value)
                await _start(ctx, dut, Init.KEEP)
                refused = bool(ctx.get(dut.err) & Err.BAD_START)
                seen.append((f"KEEP after {reg.label} {index}", refused, reg.keep_stale))
                await _write(ctx, dut, clear, 0)

    _simulate(dut, bench)
    wrong = [case for case in seen if case[1] != case[2]]
    assert not wrong, wrong


def _signed32(value: int) -> int:
    return value - (1 << 32) if value >> 31 else value


@pytest.mark.parametrize("core", list(CORES), ids=[c.value for c in CORES])
def test_every_read_is_decoded_as_the_map_says(core):
    """Control registers read back (signed ones sign-extended), seed words read the generator,
    constants and status read their values, anything else sets rerr; a START write runs the
    core: STATUS, RUNS and CYCLES follow; IRQ_ENABLE gates irq; a START while busy is refused
    with BUSY_START."""
    cfg = CONFIGS[1]
    dut = CORES[core](cfg)
    regmap = dut.regmap
    seen = []
    sweeps_core = core in (Core.ONEHOT, Core.DENSE, Core.GRAPH)

    async def bench(ctx):
        def check(what, got, want):
            seen.append((what, got, want))

        for reg in regmap.readable():
            for index in _entries(regmap, reg):
                ref = reg.name if index is None else (reg.name, index)
                address = regmap.address(ref)
                if reg.storage is Storage.FLOPS:
                    lo, hi = regmap.bounds(reg)
                    for value in (lo, hi):
                        await _write(ctx, dut, address, value)
                        data, rerr = await _read(ctx, dut, address)
                        check(f"{reg.label} {index} = {value}", (
                            _signed32(data) if reg.check.signed else data, rerr), (value, 0))
                elif reg.storage is Storage.CONST:
                    check(reg.label, await _read(ctx, dut, address), (regmap.value(reg), 0))
        if "SEED_LO" in regmap:   # the graph core's lane seeds are write-only
            for name, word in regmap.seed_words((0xDEAD << 32) | 0xBEEF1234):
                await _write(ctx, dut, regmap.address(name), word)
            check("SEED_LO reads the state",
                  (await _read(ctx, dut, regmap.address("SEED_LO")))[0], 0xBEEF1234)
            check("SEED_HI reads the state",
                  (await _read(ctx, dut, regmap.address("SEED_HI")))[0], 0xDEAD)
        for region in Region:  # memories and free offsets: rerr
            free = regmap.free_offsets(region) if region in regmap.regions else [0]
            for k in free[:2]:
                check(f"read {region.name} {k}",
                      (await _read(ctx, dut, regmap.raw_address(region, k)))[1], 1)
        if core is not Core.STREAM:
            check("read H", (await _read(ctx, dut, regmap.address(("H", 0))))[1], 1)
        status, runs = regmap.address("STATUS"), regmap.address("RUNS")
        check("STATUS after reset", (await _read(ctx, dut, status))[0], 0)
        if "N_ACTIVE" in regmap:
            await _write(ctx, dut, regmap.address("N_ACTIVE"), 3)
        if core is Core.TREE:
            await _write(ctx, dut, regmap.address(("H", 0)), 0)
        await _write(ctx, dut, regmap.address("IRQ_ENABLE"), 1)
        start = regmap.pack("START", SWEEPS=2, INIT=Init.ZEROS) if sweeps_core else 0
        check("START refused?", await _write(ctx, dut, regmap.address("START"), start), 0)
        check("busy after START", ctx.get(dut.busy), 1)
        check("START while busy", await _write(ctx, dut, regmap.address("START"), start), 1)
        check("its flag", Err(ctx.get(dut.err)), Err.BUSY_START)
        check("STATUS busy", (await _read(ctx, dut, status))[0] & 0b111, 0b101)
        if core is Core.STREAM:
            for k in range(3):
                ctx.set(dut.logit.valid, 1)
                ctx.set(dut.logit.last, k == 2)
                await ctx.tick()
            ctx.set(dut.logit.valid, 0)
        for _ in range(100):
            if not ctx.get(dut.busy):
                break
            await ctx.tick()
        await _write(ctx, dut, regmap.address("CLEAR_ERR"), 0)
        check("STATUS done", (await _read(ctx, dut, status))[0] & 0b111, 0b010)
        check("RUNS", (await _read(ctx, dut, runs))[0], 1)
        check("irq", ctx.get(dut.irq), 1)
        await _write(ctx, dut, regmap.address("IRQ_ENABLE"), 0)
        check("irq disabled", ctx.get(dut.irq), 0)
        cycles = (await _read(ctx, dut, regmap.address("CYCLES")))[0]
        expected = {Core.ONEHOT: 3 + 2 * 3, Core.DENSE: 3 + 2 * 3}.get(core)
        if core is Core.GRAPH:
            expected = graph_clocks(dut.topology, 2)
        if expected is not None:
            check("CYCLES", cycles, expected)
        else:
            check("CYCLES > 0", cycles > 0, True)
        if "TOKEN" in regmap:
            token = (await _read(ctx, dut, regmap.address("TOKEN")))[0]
            check("TOKEN is the token port", token, ctx.get(dut.token))

    _simulate(dut, bench)
    wrong = [case for case in seen if case[1] != case[2]]
    assert not wrong, wrong
    assert len(seen) > 20
