"""The topologies and programs the graph core's co-simulation runs, free of any simulator.

A graph core is built for one topology (docs/graph.md), so the co-simulation names a few:
:data:`GRAPH_TOPOLOGIES` (a 4 x 4 periodic lattice, 2 colours; an irregular random graph of 12
units with a triangle, so 3+ colours, and an isolated unit; a 16 x 16 lattice for the bulk mode).
Programs on a topology are drawn here with integer weights over the whole weight range
(:func:`random_graph_program`), beta tables of 1..beta_depth entries with holds of 1..3 sweeps and
random clamps; :func:`edge_graph_programs` gives the extremes (saturated LUT ends, the widest
fields, every unit clamped, the smallest beta ratio). A topology travels to the cocotb process as
JSON (:func:`hw.export.topology_json`, :func:`topology_from_json`).
"""

from __future__ import annotations

import json
from functools import lru_cache

import numpy as np

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import (BETA_EXP_MAX, BETA_MANT_BITS, MAX_BETA_SCHEDULE,
                                      GraphProgram, GraphTopology, colour_graph, lattice_edges)

__all__ = ["GRAPH_TOPOLOGIES", "graph_topology", "random_graph_program", "edge_graph_programs",
           "topology_from_json", "random_lane_states", "same_topology"]


def _random_graph(n: int, extra: int, seed: int) -> np.ndarray:
    """Edges of an irregular graph of ``n`` units: a triangle (0, 1, 2), ``extra`` random edges
    among units 0..n-2, unit n-1 isolated."""
    rng = np.random.default_rng(seed)
    pairs = {(0, 1), (0, 2), (1, 2)}
    while len(pairs) < 3 + extra:
        i, j = sorted(int(v) for v in rng.choice(n - 1, 2, replace=False))
        pairs.add((i, j))
    return np.array(sorted(pairs), dtype=np.int64)


#: name -> (units, edges builder); the colouring is DSATUR's
GRAPH_TOPOLOGIES = {
    "lattice4": (16, lambda: lattice_edges(4, 4)),
    "random12": (12, lambda: _random_graph(12, 16, 7)),
    "lattice16": (256, lambda: lattice_edges(16, 16)),
}


@lru_cache(maxsize=None)
def graph_topology(name: str) -> GraphTopology:
    """The named topology of :data:`GRAPH_TOPOLOGIES`."""
    if name not in GRAPH_TOPOLOGIES:
        raise ValueError(f"unknown graph topology {name!r}; choose one of "
                         f"{sorted(GRAPH_TOPOLOGIES)}")
    n, edges_of = GRAPH_TOPOLOGIES[name]
    edges = edges_of()
    degree = np.bincount(edges.ravel(), minlength=n)
    return GraphTopology(n, edges, colour_graph(n, edges), int(degree.max()))


def topology_from_json(text: str) -> tuple[GraphTopology, int]:
    """(topology, beta_depth) from the text of :func:`hw.export.topology_json`."""
    data = json.loads(text)
    edges = np.asarray(data["edges"], dtype=np.int64).reshape(-1, 2)
    return (GraphTopology(int(data["n"]), edges, np.asarray(data["colours"], dtype=np.int64),
                          int(data["max_degree"])), int(data["beta_depth"]))


def same_topology(a: GraphTopology, b: GraphTopology) -> bool:
    """Whether two topologies build the same core (units, edges, colours, degree)."""
    return (a.n == b.n and a.max_degree == b.max_degree and np.array_equal(a.edges, b.edges)
            and np.array_equal(a.colours, b.colours))


def _program(cfg: HwConfig, topology: GraphTopology, h, J, clamped, values, mant, expo,
             hold: int) -> GraphProgram:
    n, e = topology.n, topology.n_edges
    ratios = np.asarray(mant, dtype=np.float64) * 2.0 ** -(BETA_MANT_BITS + np.asarray(expo))
    return GraphProgram(cfg, topology, np.asarray(h, np.int64), np.asarray(J, np.int64),
                        np.asarray(clamped, bool), np.asarray(values, np.int64), tuple(mant),
                        tuple(expo), hold, 1.0, tuple(float(r) for r in ratios),
                        np.zeros(n), np.zeros(e), spins=False)


def random_graph_program(cfg: HwConfig, topology: GraphTopology, rng: np.random.Generator,
                         beta_depth: int = MAX_BETA_SCHEDULE) -> GraphProgram:
    """A random program on ``topology``: h and J uniform over a span of 4, 64 or the whole
    weight range, a beta table of 1..beta_depth random (m, e) codes (half of them 1 entry) held
    1..3 sweeps, a quarter of the units clamped in half of the programs."""
    n, e = topology.n, topology.n_edges
    span = int(rng.choice([4, 64, cfg.weight_max]))
    lo, hi = max(cfg.weight_min, -span), min(cfg.weight_max, span)
    t = 1 if rng.random() < 0.5 else int(rng.integers(2, beta_depth + 1))
    mant = [int(v) for v in rng.integers(1, (1 << BETA_MANT_BITS) + 1, t)]
    expo = [int(v) for v in rng.integers(0, BETA_EXP_MAX + 1, t)]
    if t == 1 and rng.random() < 0.5:
        mant, expo = [1 << BETA_MANT_BITS], [0]   # ratio 1: the field itself
    clamped = rng.random(n) < 0.25 if rng.random() < 0.5 else np.zeros(n, bool)
    values = np.where(clamped, rng.integers(0, 2, n), 0)
    return _program(cfg, topology, rng.integers(lo, hi + 1, n), rng.integers(lo, hi + 1, e),
                    clamped, values, mant, expo, int(rng.integers(1, 4)))


def edge_graph_programs(cfg: HwConfig, topology: GraphTopology,
                        beta_depth: int = MAX_BETA_SCHEDULE) -> list[GraphProgram]:
    """The extremes: all-zero, the widest positive and negative fields (both LUT ends), a
    frustrated program, every unit clamped, and the full table from ratio 1 down to the
    smallest (m = 1, e = 7)."""
    n, e = topology.n, topology.n_edges
    lo, hi = cfg.weight_min, cfg.weight_max
    free, none = np.zeros(n, bool), np.zeros(n, np.int64)
    one = ([1 << BETA_MANT_BITS], [0])
    depth = beta_depth
    table = ([(1 << BETA_MANT_BITS) >> (t % 5) or 1 for t in range(depth - 1)] + [1],
             [t % (BETA_EXP_MAX + 1) for t in range(depth - 1)] + [BETA_EXP_MAX])
    alternating = np.where(np.arange(n) % 2, lo, hi)
    return [
        _program(cfg, topology, np.zeros(n), np.zeros(e), free, none, *one, 1),
        _program(cfg, topology, np.full(n, hi), np.full(e, hi), free, none, *one, 1),
        _program(cfg, topology, np.full(n, lo), np.full(e, lo), free, none, *one, 1),
        _program(cfg, topology, np.full(n, hi), np.full(e, lo), free, none, *one, 2),
        _program(cfg, topology, alternating, np.full(e, hi), np.ones(n, bool),
                 np.arange(n) % 2, *one, 1),
        _program(cfg, topology, np.full(n, hi), np.full(e, hi), free, none, *table, 1),
        _program(cfg, topology, np.full(n, lo), np.full(e, hi), free, none, *table, 2),
    ]


def random_lane_states(cfg: HwConfig, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random generator states for the n units, uint64 in [1, 2**rng_bits - 1]."""
    top = (1 << cfg.rng_bits) - 1
    return np.array([int(rng.integers(1, top, endpoint=True, dtype=np.uint64))
                     for _ in range(n)], dtype=np.uint64)
