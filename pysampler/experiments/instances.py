"""Benchmark instances of the annealing experiments (spins, E(m) = -sum_{i<j} J_ij m_i m_j):
Max-Cut on a G-set-like random graph and 3-D Edwards-Anderson spin glasses with +-1 couplings.

Max-Cut of a graph with edge weights w: cut(m) = sum_{i<j} w_ij (1 - m_i m_j) / 2, so with
J = -w (and h = 0) E(m) = sum w_ij m_i m_j and cut(m) = (W - E(m)) / 2, W = sum of the weights:
the ground state is the maximum cut.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..contract.graph import MAX_DEGREE
from ..contract.validation import check_int

__all__ = ["Instance", "maxcut_instance", "ea3d_instance", "cubic_edges", "MAX_INSTANCE_UNITS"]

MAX_INSTANCE_UNITS = 1 << 16


@dataclass(frozen=True)
class Instance:
    """An Ising instance: name, J (n, n) float64 symmetric (h = 0), and what it is."""

    name: str
    J: np.ndarray
    kind: str
    description: str

    @property
    def n(self) -> int:
        return int(self.J.shape[0])

    @property
    def max_degree(self) -> int:
        return int((self.J != 0).sum(axis=1).max())

    def cut(self, energies: np.ndarray) -> np.ndarray:
        """Max-Cut value of states of these energies (W - E) / 2 (Max-Cut instances)."""
        return (-np.triu(self.J, 1).sum() - np.asarray(energies)) / 2


def cubic_edges(lx: int, ly: int, lz: int, *, periodic: bool = True) -> np.ndarray:
    """Edges (E, 2), i < j, of an lx x ly x lz cubic lattice, unit (x * ly + y) * lz + z
    (periodic: a torus; a side of 2 gives one edge, not two)."""
    sides = tuple(check_int(name, v, 1, MAX_INSTANCE_UNITS) for name, v in
                  (("lx", lx), ("ly", ly), ("lz", lz)))
    if np.prod(sides) > MAX_INSTANCE_UNITS:
        raise ValueError(f"lattice has {np.prod(sides)} units; allowed at most "
                         f"{MAX_INSTANCE_UNITS}")
    idx = np.arange(np.prod(sides)).reshape(sides)
    pairs = []
    for axis, side in enumerate(sides):
        if side == 1:
            continue
        nxt = np.roll(idx, -1, axis=axis)
        here = idx
        if not periodic:
            cut = [slice(None)] * 3
            cut[axis] = slice(0, side - 1)
            nxt, here = nxt[tuple(cut)], idx[tuple(cut)]
        pairs.append(np.stack([here.ravel(), nxt.ravel()], 1))
    e = np.sort(np.concatenate(pairs), axis=1) if pairs else np.zeros((0, 2), np.int64)
    return np.unique(e[e[:, 0] != e[:, 1]], axis=0)


def ea3d_instance(lx: int, ly: int | None = None, lz: int | None = None, *, seed: int = 0
                  ) -> Instance:
    """A 3-D Edwards-Anderson spin glass: a periodic lx x ly x lz lattice (a cube by default),
    couplings +-1 with probability 1/2 each (numpy's default_rng(seed)), no field."""
    ly = lx if ly is None else ly
    lz = lx if lz is None else lz
    edges = cubic_edges(lx, ly, lz)
    n = lx * ly * lz
    J = np.zeros((n, n))
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], len(edges))
    J[edges[:, 0], edges[:, 1]] = signs
    return Instance(f"EA 3-D {lx}x{ly}x{lz}", J + J.T, "ea3d",
                    f"periodic {lx}x{ly}x{lz} lattice, J = +-1, seed {seed}")


def maxcut_instance(n: int, density: float, *, seed: int = 0) -> Instance:
    """Max-Cut on a G-set-like random graph: G(n, density) (each pair an edge with probability
    ``density``, numpy's default_rng(seed)), unit weights, as J = -1 on every edge. The graph
    core's degree is at most MAX_DEGREE = 64: a denser draw is refused, naming its degree
    (G1 of the G-set is G(800, 0.06), whose degree passes 64; G(800, 0.05) fits)."""
    n = check_int("n", n, 2, MAX_INSTANCE_UNITS)
    p = float(density)
    if not np.isfinite(p) or not 0 < p <= 1:
        raise ValueError(f"density must be in (0, 1], got {density!r}")
    upper = np.triu(np.random.default_rng(seed).random((n, n)) < p, 1)
    W = (upper | upper.T).astype(np.float64)
    degree = int(W.sum(axis=1).max())
    if degree > MAX_DEGREE:
        raise ValueError(f"G({n}, {p}) drew a degree of {degree}, above the core's "
                         f"{MAX_DEGREE}: lower the density")
    return Instance(f"Max-Cut G({n}, {p:g})", -W, "maxcut",
                    f"G({n}, {p:g}) random graph, unit weights, seed {seed} "
                    f"({int(upper.sum())} edges, degree <= {degree})")
