"""The graph core (hw/graph.py): elaboration and port widths from the topology, bad build
input, the export (lint clean, its topology.json), and the core against
:class:`~pysampler.engines.chromatic.ChromaticModel` in Amaranth's simulator on a small graph
(every colour step's bits, fields, LUT entries and draws), before any cocotb run."""

import json

import numpy as np
import pytest
from amaranth.sim import Simulator

from hw.export import build_core, export_graph
from hw.graph import GraphCore, check_topology, graph_clocks
from hw.lint import lint
from pysampler.contract.config import HwConfig, get_preset
from pysampler.contract.graph import GraphTopology, graph_field_bits, graph_program, lattice_edges
from pysampler.contract.regmap import Core, Init
from pysampler.engines.chromatic import ChromaticModel

CFG = HwConfig(n_pbits=5, weight_bits=6, frac_bits=2, lut_addr_bits=6, prob_bits=8,
               rng_bits=16, rng_steps=3)


def _triangle_and_pendant() -> GraphTopology:
    """Units 0, 1, 2 a triangle (3 colours), unit 3 hangs on 2, unit 4 is isolated."""
    edges = np.array([[0, 1], [0, 2], [1, 2], [2, 3]])
    return GraphTopology(5, edges, np.array([0, 1, 2, 0, 1]), 3)


def test_ports_follow_the_topology():
    top = _triangle_and_pendant()
    core = GraphCore(CFG, top, beta_depth=4)
    assert top.lanes == 2 and top.n_colours == 3
    fb = graph_field_bits(CFG, 3)
    assert len(core.trace.bits) == 2 and len(core.trace.field) == 2 * fb
    assert len(core.trace.lut) == 2 * (CFG.prob_bits + 1) and len(core.trace.u) == 2 * 8
    assert core.regmap.count(core.regmap["EDGE_J"]) == 4
    assert core.regmap.count(core.regmap["BETA_MANT"]) == 4
    assert "LANE_SEED_HI" not in core.regmap   # 16-bit generators: one seed word
    lean = GraphCore(CFG, top, debug_trace=False)
    assert not hasattr(lean.trace, "field")
    core._MustUse__silence = lean._MustUse__silence = True   # built to be looked at


def test_bad_build_input_is_refused():
    top = _triangle_and_pendant()
    for depth in (0, 17, True, 2.0):
        with pytest.raises(ValueError, match="beta_depth"):
            GraphCore(CFG, top, beta_depth=depth)
    for lanes in (-1, 3, True, 1.0):   # the triangle and pendant has 2 lanes
        with pytest.raises(ValueError, match="dsp_lanes"):
            GraphCore(CFG, top, dsp_lanes=lanes)
    with pytest.raises(ValueError, match="GraphTopology"):
        GraphCore(CFG, np.zeros((3, 3)))
    with pytest.raises(ValueError, match="units"):
        GraphCore(CFG, GraphTopology(5000, np.zeros((0, 2)), np.zeros(5000, np.int64), 0))
    with pytest.raises(ValueError, match="graph topology"):
        build_core(CFG, Core.GRAPH)


def test_a_program_must_match_the_core_topology():
    top = _triangle_and_pendant()
    check_topology(top, top)
    wider = GraphTopology(5, top.edges, top.colours, 4)   # same wires, larger D: fine
    check_topology(top, wider)
    extra = GraphTopology(5, np.array([[0, 1], [0, 2], [0, 3], [1, 2], [2, 3]]),
                          np.array([0, 1, 2, 1, 0]), 3)
    hub = GraphTopology(5, np.array([[0, 1], [0, 2], [0, 3], [0, 4]]),
                        np.array([0, 1, 1, 1, 1]), 4)
    cases = [(GraphTopology(4, top.edges, top.colours[:4], 3), "4 units"),
             (hub, "degree 4, above the core's max_degree=3"),
             (extra, "edges differ"),
             (GraphTopology(5, top.edges, np.array([1, 0, 2, 1, 0]), 3), "colouring")]
    for other, message in cases:
        with pytest.raises(ValueError, match=message):
            check_topology(top, other)


def test_export_lints_clean_with_its_topology(tmp_path):
    top = _triangle_and_pendant()
    written = export_graph(get_preset("tiny"), top, tmp_path, beta_depth=3)
    assert [p.name for p in written] == ["pbit_graph.v", "config.json", "topology.json"]
    data = json.loads((tmp_path / "topology.json").read_text())
    assert data == {"n": 5, "edges": top.edges.tolist(), "colours": top.colours.tolist(),
                    "max_degree": 3, "beta_depth": 3}
    result = lint(tmp_path / "pbit_graph.v")
    assert result.returncode == 0, result.stdout + result.stderr


def _lanes(word: int, width: int, count: int, signed: bool = False) -> list[int]:
    out = []
    for s in range(count):
        v = (word >> (s * width)) & ((1 << width) - 1)
        out.append(v - (1 << width) if signed and v >> (width - 1) else v)
    return out


@pytest.mark.parametrize("init, dsp_lanes", [("zeros", None), ("given", 1)])
def test_core_matches_the_model_in_amaranths_simulator(init, dsp_lanes):
    """A program with a 3-entry beta table held 2 sweeps, a clamp and random lane seeds: every
    colour step's bits, fields, LUT entries and draws equal the model's, and CYCLES; with every
    lane scaling by a multiply, and with lane 0 by a multiply and lane 1 by shift-and-add."""
    top = _triangle_and_pendant()
    J = np.zeros((5, 5))
    for (i, j), w in zip(top.edges, (1.5, -2.0, 0.75, 3.0)):
        J[i, j] = J[j, i] = w
    program = graph_program(J, np.array([0.5, -1.0, 0.0, 2.0, -0.5]), CFG, beta=[0.3, 0.6, 1.2],
                            beta_hold=2, colouring=top.colours, max_degree=3, clamp={3: 1})
    assert program.schedule_length == 3 and program.clamped[3]
    core = GraphCore(CFG, top, beta_depth=4, dsp_lanes=dsp_lanes)
    assert core.lanes == 2
    rm, fb, p_bits = core.regmap, core.field_bits, CFG.prob_bits
    rng = np.random.default_rng(3)
    states = rng.integers(1, 1 << 16, 5)
    given = np.array([1, 0, 1, 0, 1])
    sweeps = 7
    model = ChromaticModel(program, 1, rng_states=[states],
                           init=given if init == "given" else "zeros")
    expected = model.run(sweeps, trace=True)
    seen = {"index": [], "bit": [], "field": [], "lut_value": [], "u": []}
    classes = top.classes()
    got = {}

    async def bench(ctx):
        writes = [(rm.address(ref), v) for ref, v in program.register_writes()]
        writes += [(rm.address(("LANE_SEED_LO", i)), int(s)) for i, s in enumerate(states)]
        writes += [(rm.address(("STATE", i)), int(v)) for i, v in enumerate(given)]
        for address, value in writes:
            ctx.set(core.prog.addr, address)
            ctx.set(core.prog.data, value & 0xFFFFFFFF)
            ctx.set(core.prog.we, 1)
            await ctx.tick()
        ctx.set(core.prog.we, 0)
        ctx.set(core.sweeps, sweeps)
        ctx.set(core.init, Init.GIVEN if init == "given" else Init.ZEROS)
        ctx.set(core.start, 1)
        await ctx.tick()
        ctx.set(core.start, 0)
        for _ in range(graph_clocks(top, sweeps) + 2):
            if ctx.get(core.trace.valid):
                c = ctx.get(core.trace.colour)
                units = classes[c]
                k = len(units)
                seen["index"] += units.tolist()
                seen["bit"] += _lanes(ctx.get(core.trace.bits), 1, k)
                seen["field"] += _lanes(ctx.get(core.trace.field), fb, k, True)
                seen["lut_value"] += _lanes(ctx.get(core.trace.lut), p_bits + 1, k)
                seen["u"] += _lanes(ctx.get(core.trace.u), p_bits, k)
            await ctx.tick()
        got["err"] = ctx.get(core.err)
        ctx.set(core.prog.raddr, rm.address("CYCLES"))
        got["cycles"] = ctx.get(core.prog.rdata)

    sim = Simulator(core)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == {"err": 0, "cycles": graph_clocks(top, sweeps)}
    for name, values in seen.items():
        assert values == getattr(expected, name)[0].tolist(), name
    assert len(seen["index"]) == sweeps * 5


def test_lattice_core_elaborates_with_one_rom_per_two_lanes():
    cfg = get_preset("tiny")
    e = lattice_edges(4, 4)
    top = GraphTopology(16, e, (np.arange(16) // 4 + np.arange(16) % 4) % 2, 4)
    core = GraphCore(cfg, top, debug_trace=False)
    assert core.lanes == 8 and core.field_bits == cfg.weight_bits + 3
    core._MustUse__silence = True


def test_both_beta_scalings_give_scale_field_bits():
    """The lane's two beta scalings (one multiply for a DSP block, shift-and-add in LUTs) equal
    scale_field for every mantissa the 5-bit register can hold, every exponent and fields at and
    between the extremes of the default build (13-bit fields)."""
    from amaranth import Module, Signal, signed

    from hw.graph import _scale_by_multiply, _scale_by_shift_and_add
    from pysampler.contract.graph import BETA_EXP_MAX, BETA_MANT_BITS, scale_field

    fb = graph_field_bits(get_preset("default"), 4)
    m = Module()
    field, mant = Signal(signed(fb)), Signal(BETA_MANT_BITS + 1)
    expo, flip = Signal(range(BETA_EXP_MAX + 1)), Signal(range(BETA_EXP_MAX + 1))
    mult = Signal(BETA_MANT_BITS + 1 + BETA_EXP_MAX)
    m.d.comb += [flip.eq(BETA_EXP_MAX - expo), mult.eq(mant << flip)]
    by_dsp = _scale_by_multiply(m, field, mult, 0)
    by_luts = _scale_by_shift_and_add(m, field, mant, expo, 1)
    lo, hi = -(1 << (fb - 1)), (1 << (fb - 1)) - 1
    fields = sorted({lo, lo + 1, -1, 0, 1, hi - 1, hi,
                     *np.random.default_rng(5).integers(lo, hi + 1, 12).tolist()})
    cases = [(f, mt, e) for f in fields for mt in range(1 << (BETA_MANT_BITS + 1))
             for e in range(BETA_EXP_MAX + 1)]
    got = []

    async def bench(ctx):
        for f, mt, e in cases:
            ctx.set(field, f)
            ctx.set(mant, mt)
            ctx.set(expo, e)
            got.append((ctx.get(by_dsp), ctx.get(by_luts)))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    f, mt, e = (np.array(c) for c in zip(*cases))
    want = scale_field(f, mt, e).tolist()
    assert [g[0] for g in got] == want
    assert [g[1] for g in got] == want
