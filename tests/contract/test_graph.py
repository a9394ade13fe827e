"""Graph programs: one program from a dense array, scipy.sparse or networkx; the conventions
(spins, threshold, beta rule, schedule codes); the colouring; and every bad input refused by name."""

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import (BETA_EXP_MAX, BETA_MANT_BITS, GraphTopology, beta_code,
                                      check_colouring, graph_program, lattice_edges, scale_field)
from pysampler.contract.program import SaturationError, spin_to_qubo
from pysampler.contract.regmap import Core, CoreMap

CFG = HwConfig(weight_bits=10, frac_bits=4)


def _ring(n=6, w=0.5):
    J = np.zeros((n, n))
    for i in range(n):
        J[i, (i + 1) % n] = J[(i + 1) % n, i] = w * (1 + i % 3)
    return J


def test_dense_sparse_and_networkx_give_the_same_program():
    J, h = _ring(), np.linspace(-0.5, 0.5, 6)
    g = nx.from_numpy_array(J)
    for v in g.nodes:
        g.nodes[v]["h"] = h[v]
    programs = [graph_program(J, h, CFG), graph_program(sp.csr_matrix(J), h, CFG),
                graph_program(g, None, CFG)]
    for p in programs[1:]:
        assert np.array_equal(p.h, programs[0].h) and np.array_equal(p.J, programs[0].J)
        assert np.array_equal(p.topology.edges, programs[0].topology.edges)


def test_spin_program_is_spin_to_qubo_scaled_by_the_beta_rule():
    J, h = _ring(), np.linspace(-0.5, 0.5, 6)
    cfg = CFG.replace(beta=2.0)
    p = graph_program(J, h, cfg, beta=0.5)
    Jq, hq, const = spin_to_qubo(J, h)
    scale = 0.5 / 2.0 * 2 ** cfg.frac_bits
    assert np.array_equal(p.h, np.rint(hq * scale).astype(int))
    e = p.topology.edges
    assert np.array_equal(p.J, np.rint(Jq[e[:, 0], e[:, 1]] * scale).astype(int))
    assert p.offset == pytest.approx(const)
    y = np.array(np.meshgrid(*[[0, 1]] * 6)).reshape(6, -1).T
    m = 2 * y - 1
    e_spin = -(m @ h) - 0.5 * np.einsum("si,ij,sj->s", m, J, m)
    assert np.allclose(p.energy(y), e_spin)
    # the integer program's energy is the same model up to quantization
    assert np.max(np.abs(p.energy(y, quantized=True) - e_spin)) < 0.2


def test_threshold_drops_small_couplings_and_counts_them():
    J = _ring(6, 0.1)          # weights 0.1, 0.2, 0.3
    p = graph_program(J, None, CFG, theta=0.2)
    assert p.n_dropped == 4 and p.topology.n_edges == 2


def test_topology_slots_colours_and_lanes():
    edges = lattice_edges(4, 4)
    p = graph_program(_from_edges(16, edges), None, CFG)
    top = p.topology
    assert top.n_colours == 2 and top.lanes == 8 and top.max_degree == 4
    assert (top.degree == 4).all()
    for i in range(16):
        nb = top.neighbours[i]
        assert sorted(nb.tolist()) == nb.tolist()
        for d, j in enumerate(nb):
            a, b = top.edges[top.edge_slots[i, d]]
            assert {a, b} == {i, j}
    assert [c.tolist() for c in top.classes()] == [
        np.flatnonzero(top.colours == c).tolist() for c in range(2)]


def _from_edges(n, edges, w=1.0):
    J = np.zeros((n, n))
    J[edges[:, 0], edges[:, 1]] = w
    return J + J.T


def test_colourings_are_proper_and_a_bad_one_is_refused():
    rng = np.random.default_rng(0)
    g = nx.gnp_random_graph(40, 0.15, seed=1)
    J = nx.to_numpy_array(g) * rng.choice([-1, 1], (40, 40))
    J = np.triu(J, 1) + np.triu(J, 1).T
    for method in ("dsatur", "greedy"):
        p = graph_program(J, None, CFG, colouring=method)
        e = p.topology.edges
        assert (p.topology.colours[e[:, 0]] != p.topology.colours[e[:, 1]]).all()
    with pytest.raises(ValueError, match="colouring is not proper: units 0 and 1"):
        graph_program(_ring(), None, CFG, colouring=[0, 0, 1, 0, 1, 0])
    with pytest.raises(ValueError, match="one colour per unit"):
        check_colouring([0, 1], 3, np.zeros((0, 2), int))
    with pytest.raises(ValueError, match="colouring must be one of"):
        graph_program(_ring(), None, CFG, colouring="rainbow")


@pytest.mark.parametrize("ratio", [1.0, 0.93, 0.5, 0.3, 0.1, 2.0 ** -BETA_EXP_MAX])
def test_beta_code_is_within_its_stated_error(ratio):
    m, e = beta_code(ratio)
    assert 1 <= m <= 1 << BETA_MANT_BITS and 0 <= e <= BETA_EXP_MAX
    assert abs(m * 2.0 ** -(BETA_MANT_BITS + e) / ratio - 1) <= 2.0 ** -BETA_MANT_BITS


def test_scale_field_rounds_half_up_and_is_the_identity_at_ratio_one():
    f = np.arange(-600, 600)
    assert np.array_equal(scale_field(f, 1 << BETA_MANT_BITS, 0), f)
    m, e = 12, 1   # ratio 12 / 32
    exact = f * m / 2.0 ** (BETA_MANT_BITS + e)
    assert np.array_equal(scale_field(f, m, e), np.floor(exact + 0.5).astype(int))


def test_beta_schedule_is_coded_and_realised():
    p = graph_program(_ring(), None, CFG, beta=(0.1, 0.4, 1.0, 2.0), beta_hold=3)
    assert p.beta == 2.0 and p.schedule_length == 4
    assert np.allclose(p.realised_betas / np.array(p.betas), 1, atol=2.0 ** -BETA_MANT_BITS)
    assert p.realised_betas[-1] == 2.0
    assert p.schedule_entries(14).tolist() == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]


def test_register_writes_fit_the_graph_core_map():
    p = graph_program(_ring(), None, CFG, beta=(0.5, 1.0), clamp={2: -1, 4: 1})
    regmap = CoreMap.of(Core.GRAPH, CFG, n_units=p.n, n_edges=p.topology.n_edges)
    writes = p.register_writes()
    addresses = [regmap.address(ref) for ref, _ in writes]
    assert len(set(addresses)) == len(addresses)
    for ref, value in writes:
        name = ref if isinstance(ref, str) else ref[0]
        assert regmap.accepts(name, value), (ref, value)
    assert (("CLAMP", 2), 2) in writes and (("CLAMP", 4), 3) in writes and (("CLAMP", 0), 0) in writes
    assert ("BETA_LEN", 2) in writes and (("BETA_MANT", 1), 16) in writes


def test_saturation_is_reported_and_strict_raises_and_fit_scales():
    J = _ring(6, 20.0)
    p = graph_program(J, None, CFG)
    assert p.n_saturated > 0
    with pytest.raises(SaturationError, match="saturated"):
        graph_program(J, None, CFG, strict=True)
    scaled = graph_program(J, None, CFG, fit="scale", strict=True)
    assert scaled.n_saturated == 0 and 0 < scaled.fit_scale < 1
    assert np.abs(scaled.J).max() <= CFG.weight_max


@pytest.mark.parametrize("build,message", [
    (lambda: graph_program(np.array([[0, 1.0], [0.5, 0]]), None, CFG), "symmetric"),
    (lambda: graph_program(np.array([[1.0, 1.0], [1.0, 0]]), None, CFG), "self-coupling"),
    (lambda: graph_program(sp.csr_matrix(np.array([[0, 1.0], [2.0, 0]])), None, CFG), "symmetric"),
    (lambda: graph_program(nx.DiGraph([(0, 1)]), None, CFG), "undirected"),
    (lambda: graph_program(np.zeros((0, 0)), None, CFG), "empty"),
    (lambda: graph_program(nx.Graph(), None, CFG), "empty"),
    (lambda: graph_program(np.array([[0, np.nan], [np.nan, 0]]), None, CFG), "NaN"),
    (lambda: graph_program(_ring(), np.full(6, np.inf), CFG), "h contains"),
    (lambda: graph_program(_ring(), np.zeros(5), CFG), r"h must have shape \(6,\)"),
    (lambda: graph_program(_ring(), None, CFG, max_degree=1), "degree 2, above the core's"),
    (lambda: graph_program(_ring(), None, CFG, beta=0.0), "beta must be a finite number > 0"),
    (lambda: graph_program(_ring(), None, CFG, beta=float("nan")), "beta must be"),
    (lambda: graph_program(_ring(), None, CFG, beta=(1.0, -1.0)), r"beta\[1\] must be"),
    (lambda: graph_program(_ring(), None, CFG, beta=[1.0] * 17), "1..16 entries"),
    (lambda: graph_program(_ring(), None, CFG, beta=(1.0, 1e-4)), "spans at most"),
    (lambda: graph_program(_ring(), None, CFG, clamp={6: 1}), "outside 0..5"),
    (lambda: graph_program(_ring(), None, CFG, clamp={-1: 1}), "outside 0..5"),
    (lambda: graph_program(_ring(), None, CFG, clamp={1: 0}), r"must be one of \(-1, 1\)"),
    (lambda: graph_program(_ring(), None, CFG, spins=False, clamp={1: 2}), r"\(0, 1\)"),
    (lambda: graph_program(_ring(), None, CFG, theta=-1), "theta"),
    (lambda: graph_program(_ring(), None, CFG, fit="squash"), "fit must be"),
    (lambda: graph_program(_ring(), None, CFG, beta_hold=0), "beta_hold"),
])
def test_bad_input_is_refused_by_name(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_topology_refuses_bad_edges():
    with pytest.raises(ValueError, match="i < j"):
        GraphTopology(3, np.array([[1, 0]]), np.array([0, 1, 0]), 2)
    with pytest.raises(ValueError, match="duplicates"):
        GraphTopology(3, np.array([[0, 1], [0, 1]]), np.array([0, 1, 0]), 2)
    with pytest.raises(ValueError, match="0..2"):
        GraphTopology(3, np.array([[0, 3]]), np.array([0, 1, 0]), 2)
    with pytest.raises(ValueError, match="max_degree"):
        GraphTopology(3, np.array([[0, 1]]), np.array([0, 1, 0]), 65)


def test_edge_free_graph_is_independent_units():
    p = graph_program(np.zeros((3, 3)), np.array([0.5, -0.5, 0.0]), CFG)
    assert p.topology.n_edges == 0 and p.topology.n_colours == 1 and p.topology.max_degree == 0
    assert p.fields(np.array([1, 1, 1])).tolist() == p.h.tolist()


@pytest.mark.parametrize("degree", [2, 3, 4, 5])
def test_the_spin_field_is_kept_within_a_quarter_lsb(degree):
    """h' comes from the rounded couplings: the spin model the integers realise, h_i = h'_i / 2
    + sum_j J'_ij / 4 (in LSBs), is b h_i / cfg.beta within a quarter LSB at every degree, and
    exactly 0 for a field-free model where the couplings' sum is even (rounding h' = -2 b sum_j J_ij on its own left up to
    1/4 + D/8 LSB: a ferromagnet then magnetised above T_c)."""
    rng = np.random.default_rng(degree)
    n = 24
    graph = nx.random_regular_graph(degree, n, seed=degree)
    J = np.zeros((n, n))
    for i, j in graph.edges:
        J[i, j] = J[j, i] = rng.choice([-1.0, 1.0]) * rng.uniform(0.2, 1.3)
    cfg = HwConfig()
    for h in (np.zeros(n), rng.normal(0.0, 0.7, n)):
        program = graph_program(J, h, cfg, beta=0.37, strict=True)
        edges = program.topology.edges
        row = np.bincount(edges.ravel(), weights=np.repeat(program.J, 2), minlength=n)
        realised = program.h / 2 + row / 4                    # spin field, LSBs
        target = 0.37 * h / cfg.beta * 2.0**cfg.frac_bits
        assert np.abs(realised - target).max() <= 0.25 + 1e-9
        if not h.any():   # no field wherever the rounded couplings sum to an even number
            assert not realised[row % 2 == 0].any()
