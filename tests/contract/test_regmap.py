"""The register map as data: one address per register entry, resets and checks that agree, the
enums' codes, the address layout the RTL was built with, and docs/hardware.md generated from it."""

import subprocess
import sys

import pytest

from pysampler.contract import regmap as rm
from pysampler.contract.maps import core_map
from pysampler.contract.config import PRESETS, HwConfig
from pysampler.contract.regmap import (REGISTERS, Access, Core, CoreMap, Err, Init, Phase, Region,
                                       Storage, TreePhase)

BUILDS = [(core, cfg, depth) for cfg in [*PRESETS.values(), HwConfig(n_pbits=1),
                                         HwConfig(n_pbits=2), HwConfig(n_pbits=1024)]
          for core in Core if not (core is Core.DENSE and cfg.n_pbits > 64)
          for depth in ([1, rm.SCHEDULE_DEPTH] if core is Core.ONEHOT else [None])]


def _all_entries(regmap: CoreMap):
    for reg in regmap.registers:
        for index in regmap.indices(reg):
            yield reg, index, regmap.address(reg.name if index is None else (reg.name, index))


@pytest.mark.parametrize("core,cfg,depth", BUILDS)
def test_no_two_entries_share_an_address_and_all_fit_the_port(core, cfg, depth):
    regmap = CoreMap.of(core, cfg, depth)
    addresses = [address for _, _, address in _all_entries(regmap)]
    assert len(addresses) == len(set(addresses))
    assert all(0 <= a < 1 << regmap.addr_bits for a in addresses)
    # a memory region (the graph core: a page of it) holds one array, filling it from offset 0
    # (the decoder relies on it)
    for region in regmap.regions:
        for page in {reg.offsets.page for reg in regmap.in_region(region)}:
            held = [reg for reg in regmap.in_region(region) if reg.offsets.page == page]
            if any(reg.storage is Storage.CORE for reg in held):
                assert len(held) == 1 and held[0].offsets.base == 0


@pytest.mark.parametrize("core,cfg,depth", BUILDS)
def test_resets_widths_and_checks_agree(core, cfg, depth):
    regmap = CoreMap.of(core, cfg, depth)
    for reg in regmap.registers:
        width, reset, bounds = regmap.width(reg), regmap.reset(reg), regmap.bounds(reg)
        assert 0 <= width <= rm.DATA_BITS, reg.name
        if reg.storage is Storage.FLOPS:
            assert reset is not None and bounds is not None, reg.name
            assert bounds[0] <= reset <= bounds[1], reg.name
        if bounds is not None:  # every accepted value fits the register
            lo, hi = bounds
            if reg.check.signed:
                assert -(1 << (width - 1)) <= lo and hi < 1 << (width - 1), reg.name
            else:
                assert 0 <= lo and hi < 1 << width, reg.name
            assert regmap.accepts(reg.name, lo) and regmap.accepts(reg.name, hi)
            assert not regmap.accepts(reg.name, lo - 1) and not regmap.accepts(reg.name, hi + 1)
        if reg.access is Access.STROBE:  # its width: the fields its data word carries
            assert reg.storage is Storage.NONE, reg.name
            assert width == sum(f.width for f in reg.fields), reg.name
        assert reg.access.readable == (reg.storage in (Storage.FLOPS, Storage.SEED,
                                                       Storage.STATUS, Storage.CONST)
                                       and reg.access is not Access.W), reg.name
        if reg.storage in (Storage.STATUS, Storage.CONST):
            assert reg.access is Access.R and reg.region is Region.REG, reg.name
        for f in reg.fields:  # fields inside the register, not overlapping
            assert f.lsb + f.width <= width, (reg.name, f.name)
        assert sum(f.width for f in reg.fields) == bin(
            sum(f.mask for f in reg.fields)).count("1"), reg.name
        if reg.alias_of0:
            assert regmap[reg.alias_of0].check is reg.check
            assert regmap.reset(regmap[reg.alias_of0]) == reset
            assert regmap[reg.alias_of0].keep_stale == reg.keep_stale
    if "COUPLING" in regmap:
        assert regmap.bounds(regmap["COUPLING"]) == (cfg.weight_min, cfg.weight_max)
    lane_seeds = core is Core.GRAPH  # one generator per unit: LANE_SEED_* instead of SEED_*
    seed_bits = sum(regmap.width(reg) for reg in regmap.registers if reg.storage is Storage.SEED)
    assert seed_bits >= cfg.rng_bits and seed_bits - 32 < cfg.rng_bits
    assert ("SEED_LO" in regmap) != lane_seeds and ("LANE_SEED_LO" in regmap) == lane_seeds
    if not lane_seeds:
        assert regmap.reset(regmap["SEED_LO"]) == regmap.params.reset_state & 0xFFFFFFFF


def test_the_address_layout_is_the_one_the_rtl_was_built_with():
    """Pinned addresses: the map as data changed nothing a host or the Verilog sees."""
    v64 = HwConfig(n_pbits=64)
    onehot, tree = CoreMap.of(Core.ONEHOT, v64), CoreMap.of(Core.TREE, v64)
    assert onehot.offset_bits == tree.offset_bits == 6 and onehot.addr_bits == 8
    assert [onehot.address(name) for name in ("COUPLING", "N_ACTIVE", "SEED_LO", "CLEAR_ERR",
                                              "SCHED_LEN")] == [64, 65, 66, 68, 69]
    assert onehot.address(("SCHED_OFFSET", 0)) == 72 and onehot.address(("SCHED_COUPLING", 7)) == 87
    assert onehot.address(("H", 63)) == 63 and tree.address(("H", 5)) == 5
    assert CoreMap.of(Core.ONEHOT, HwConfig(n_pbits=16)).offset_bits == 5
    dense = CoreMap.of(Core.DENSE, HwConfig(n_pbits=16))
    assert dense.offset_bits == 8
    assert dense.address(("J", (3, 5))) == (3 << 8) | (3 << 4) | 5
    assert dense.address(("STATE", 2)) == (2 << 8) | 2 and dense.address("N_ACTIVE") == 257
    # the REG region holds 32 offsets on the shared layout (the status registers end at 31):
    # the dense core below 8 units has 5 offset bits (3 and 4 before the readable registers)
    assert CoreMap.of(Core.DENSE, HwConfig(n_pbits=2)).offset_bits == 5
    assert [onehot.address(name) for name in ("TOKEN", "POPCOUNT", "START", "IRQ_ENABLE",
                                              "STATUS", "ERR", "RUNS", "CYCLES", "CORE_ID",
                                              "CAPACITY")] == [70, 71, *range(88, 96)]
    wide = CoreMap.of(Core.ONEHOT, PRESETS["wide"])
    assert [name for name, _ in wide.seed_words(1)] == ["SEED_LO", "SEED_HI"]
    assert wide.seed_words((5 << 32) | 7) == [("SEED_LO", 7), ("SEED_HI", 5)]
    assert rm.address(Region.REG, 1, 64, False) == onehot.address("N_ACTIVE")


def test_the_map_refuses_what_a_core_does_not_have():
    cfg = HwConfig(n_pbits=16)
    onehot, dense = CoreMap.of(Core.ONEHOT, cfg), CoreMap.of(Core.DENSE, cfg)
    assert "J" not in onehot and "STATE" not in onehot and "SCHED_LEN" not in dense
    assert "SEED_HI" not in onehot and "SEED_HI" in CoreMap.of(Core.ONEHOT, PRESETS["wide"])
    assert len(list(CoreMap.of(Core.ONEHOT, cfg, 3).indices(onehot["SCHED_OFFSET"]))) == 3
    with pytest.raises(KeyError, match="J"):
        onehot.address(("J", (0, 0)))
    for bad in (("H", 16), ("H", -1), "H", ("N_ACTIVE", 0)):
        with pytest.raises(ValueError):
            onehot.address(bad)
    assert onehot.free_offsets(Region.REG) == [3]  # SEED_HI: only when rng_bits > 32


def test_enums_carry_the_port_codes():
    assert [(code.name, int(code)) for code in Init] == [
        ("ZEROS", 0), ("RANDOM_ONEHOT", 1), ("GIVEN", 2), ("KEEP", 3)]
    assert rm.INIT_CODES == {"zeros": 0, "random_onehot": 1, "given": 2, "keep": 3}
    assert max(Init).bit_length() == 2  # the init port is 2 bits wide
    assert [int(flag) for flag in Err] == [1 << k for k in range(rm.ERR_BITS)] and rm.ERR_BITS == 7
    assert set(rm.ERR_DOCS) == set(Err)
    for phases in (Phase, TreePhase):
        assert [int(p) for p in phases] == list(range(len(phases))) and phases.IDLE == 0
    assert [int(region) for region in Region] == list(range(1 << rm.REGION_BITS))
    assert {code: sorted(c.value for c in Core if rm.accepts_init(c, code)) for code in Init} == {
        Init.ZEROS: ["dense", "graph", "onehot"], Init.RANDOM_ONEHOT: ["dense", "onehot"],
        Init.GIVEN: ["dense", "graph"], Init.KEEP: ["graph", "onehot"]}
    assert not rm.accepts_init(Core.TREE, Init.ZEROS) and not rm.accepts_init(Core.ONEHOT, 7)
    assert [reg.name for reg in REGISTERS if reg.keep_stale] == ["COUPLING", "N_ACTIVE",
                                                                "SCHED_COUPLING"]
    assert Core.ONEHOT.top == "pbit_onehot"


def test_the_graph_core_map_is_sized_by_its_topology():
    """The graph core's layout: H, EDGE_J per edge, STATE / CLAMP / LANE_SEED pages of the STATE
    region, the beta table in REG; the offset field grows with the units and the edges."""
    cfg = HwConfig()
    graph = CoreMap.of(Core.GRAPH, cfg, n_units=16, n_edges=32)
    assert graph.offset_bits == 6 and "N_ACTIVE" not in graph and "COUPLING" not in graph
    assert graph.address(("H", 15)) == 15 and graph.address(("EDGE_J", 31)) == (3 << 6) | 31
    assert graph.address(("STATE", 3)) == (2 << 6) | 3
    assert graph.address(("CLAMP", 3)) == (2 << 6) | (1 << 4) | 3
    assert graph.address(("LANE_SEED_LO", 3)) == (2 << 6) | (2 << 4) | 3
    assert graph.address(("BETA_MANT", 15)) == (1 << 6) | 62 and graph.address("BETA_LEN") == 70
    big = CoreMap.of(Core.GRAPH, cfg, n_units=4096, n_edges=8192)
    assert big.offset_bits == 14 and big.address(("EDGE_J", 8191)) == (3 << 14) | 8191
    assert "LANE_SEED_HI" in CoreMap.of(Core.GRAPH, PRESETS["wide"], n_units=4, n_edges=4)
    with pytest.raises(ValueError):
        graph.address(("EDGE_J", 32))
    assert graph.accepts("BETA_MANT", 16) and not graph.accepts("BETA_MANT", 17)
    assert not graph.accepts("BETA_EXP", 8) and not graph.accepts("BETA_LEN", 17)


def test_readable_registers_and_constants():
    """What a bus can read: every register but the memories and the strobes; the constants;
    START's fields; the core numbers in CORE_ID."""
    cfg = HwConfig(n_pbits=16)
    for core in Core:
        regmap = core_map(core, cfg)
        readable = {reg.name for reg in regmap.readable()}
        assert {"STATUS", "ERR", "RUNS", "CYCLES", "CORE_ID", "CAPACITY", "IRQ_ENABLE"} <= readable
        assert not readable & {"H", "J", "STATE", "CLEAR_ERR", "START"}
        assert ("POPCOUNT" in readable) == (core in (Core.ONEHOT, Core.DENSE))
        assert ("TOKEN" in readable) == (core is not Core.GRAPH)
        assert regmap.value(regmap["CORE_ID"]) == rm.core_id(core) == 0x50420100 | core.code
        assert regmap.value(regmap["CAPACITY"]) == regmap.params.n_pbits
        assert regmap.value(regmap["STATUS"]) is None
    assert len({core.code for core in Core}) == len(Core)
    assert core_map(Core.STREAM, cfg).params.n_pbits == 65_536  # the stream format's max_vocab
    onehot = CoreMap.of(Core.ONEHOT, cfg)
    assert onehot.pack("START", SWEEPS=20, INIT=Init.KEEP) == 20 | 3 << 16
    with pytest.raises(ValueError, match="SWEEPS"):
        onehot.pack("START", SWEEPS=1 << 16)
    with pytest.raises(KeyError):
        onehot.field("START", "NOPE")
    assert [f.name for f in onehot["ERR"].fields] == [flag.name for flag in Err]
    assert [f.name for f in onehot["STATUS"].fields] == [flag.name for flag in rm.Status]
    assert onehot["START"].busy_flag is Err.BUSY_START and onehot["H"].busy_flag is Err.BUSY_WRITE


def test_the_map_loads_without_amaranth_cocotb_or_the_rest_of_pysampler():
    code = ("import sys, pysampler.contract.regmap\n"
            "bad = sorted(m for m in sys.modules\n"
            "             if m.split('.')[0] in ('amaranth', 'cocotb', 'hw', 'sim', 'torch')\n"
            "             or m.startswith('pysampler.')\n"
            "             and not m.startswith('pysampler.contract'))\n"
            "print(bad)\n"
            "sys.exit(bool(bad))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
