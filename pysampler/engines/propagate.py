"""Exact propagation of a one-hot chain's state law through the sweep kernel.

Under *ideal* randomness one chain run is a Markov chain on {0,1}^V; update i maps the mass of
each pair of states that differ in bit i to ``(1 - p, p)`` with p = P(y_i = 1 | rest). For the
one-hot program p depends only on unit i and the number S of other units on, so a table
``p_on[i, S]`` (float conditionals for float Gibbs, LUT entries / 2**P for the emulated hardware,
one table per lambda-schedule entry) is all the kernel needs. The token samplers
(:mod:`pysampler.samplers`) build those tables and combine the read-out law with their restart
policy; this module only propagates.

Truncation: only states with at most ``max_popcount`` units on are tracked. Mass that an update
would move above that is dropped and added up (``lost``); each run's outcome law is then within
``lost`` of the exact one in total variation. With the default choice every state is tracked for
V <= 16 (bound 0).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from math import comb
from typing import Sequence

import numpy as np
from numba import njit

from ..contract.program import schedule_entries

__all__ = ["MAX_EXACT_VOCAB", "MAX_TRACKED_STATES", "StateSpace", "default_max_popcount",
           "readout_masses", "onehot_init_counts"]

MAX_EXACT_VOCAB = 64
MAX_TRACKED_STATES = 70_000


def default_max_popcount(n: int, max_states: int = MAX_TRACKED_STATES) -> int:
    """Largest K such that the states of popcount <= K number at most ``max_states``."""
    total, k = 0, 0
    while k <= n and total + comb(n, k) <= max_states:
        total += comb(n, k)
        k += 1
    return max(k - 1, 1)


@dataclass(frozen=True)
class StateSpace:
    """States of n units with popcount <= K, ranked by (popcount, colex order).

    rank({c_0 < ... < c_{k-1}}) = offset[k] + sum_t C(c_t, t + 1); the empty state has rank 0 and
    the singleton {i} has rank 1 + i.
    """

    n: int
    max_popcount: int
    masks: np.ndarray    # uint64 (M,)
    pops: np.ndarray     # int64 (M,)
    binom: np.ndarray    # int64 (n + 1, K + 2): C(a, b)
    offsets: np.ndarray  # int64 (K + 2,)

    @classmethod
    def build(cls, n: int, max_popcount: int) -> "StateSpace":
        if not 1 <= n <= MAX_EXACT_VOCAB:
            raise ValueError(f"exact evaluation supports 1 <= V <= {MAX_EXACT_VOCAB} kept tokens, "
                             f"got V={n}")
        k_max = min(max_popcount, n)
        binom = np.array([[comb(a, b) for b in range(k_max + 2)] for a in range(n + 1)],
                         dtype=np.int64)
        offsets = np.concatenate([[0], np.cumsum([comb(n, k) for k in range(k_max + 1)])])
        masks = np.empty(int(offsets[-1]), dtype=np.uint64)
        pops = np.empty(masks.size, dtype=np.int64)
        for k in range(k_max + 1):
            for combo in combinations(range(n), k):
                rank = offsets[k] + sum(comb(c, t + 1) for t, c in enumerate(combo))
                masks[rank] = sum(1 << c for c in combo)
                pops[rank] = k
        return cls(n, k_max, masks, pops, binom, offsets.astype(np.int64))

    @property
    def size(self) -> int:
        return int(self.masks.size)


@njit(cache=True)
def _rank(mask, binom, offsets):
    r = np.int64(0)
    t = 0
    for c in range(64):
        if (mask >> np.uint64(c)) & np.uint64(1):
            r += binom[c, t + 1]
            t += 1
    return offsets[t] + r


@njit(cache=True)
def _update_unit(mass, i, p_on, masks, pops, binom, offsets, max_pop):
    """Apply the update of unit i in place; returns the mass dropped by the truncation."""
    lost = 0.0
    bit = np.uint64(1) << np.uint64(i)
    for r in range(masks.size):
        mask = masks[r]
        if mask & bit:
            continue
        pop = pops[r]
        p = p_on[i, pop]
        if pop < max_pop:
            q = _rank(mask | bit, binom, offsets)
            total = mass[r] + mass[q]
            mass[r] = (1.0 - p) * total
            mass[q] = p * total
        else:
            lost += p * mass[r]
            mass[r] = (1.0 - p) * mass[r]
    return lost


@njit(cache=True)
def _propagate(mass, p_tables, entries, masks, pops, binom, offsets, max_pop, checkpoints,
               random_scan, absorb):
    n = p_tables.shape[1]
    singles = np.zeros((checkpoints.size, n))
    lost_at = np.zeros(checkpoints.size)
    lost = 0.0
    c = 0
    sweep = 0
    while c < checkpoints.size:
        p_on = p_tables[entries[sweep]]
        if random_scan:  # each update is the mixture over the unit chosen uniformly
            for _ in range(n):
                acc = np.zeros_like(mass)
                for i in range(n):
                    trial = mass.copy()
                    lost += _update_unit(trial, i, p_on, masks, pops, binom, offsets, max_pop) / n
                    acc += trial
                mass[:] = acc / n
        else:
            for i in range(n):
                lost += _update_unit(mass, i, p_on, masks, pops, binom, offsets, max_pop)
        sweep += 1
        while c < checkpoints.size and checkpoints[c] == sweep:
            singles[c] = mass[1:n + 1]
            lost_at[c] = lost
            if absorb:  # a one-hot read-out ends the run: that mass leaves the chain
                mass[1:n + 1] = 0.0
            c += 1
    return singles, lost_at


def readout_masses(p_on: np.ndarray, init_probs: np.ndarray, sweeps: Sequence[int], *,
                   max_popcount: int | None = None, scan: str = "systematic",
                   absorb: bool = False, run_sweeps: int | None = None
                   ) -> tuple[np.ndarray, np.ndarray]:
    """Probability that one chain run reads out each one-hot state, after each sweep count.

    Parameters
    ----------
    p_on : np.ndarray, shape (V, V) or (T, V, V)
        p_on[i, s] = P(y_i = 1 | s other units on); with a lambda schedule, one table per
        schedule entry.
    init_probs : np.ndarray, shape (V + 1,)
        Initial law over the empty state (index 0) and the singletons (index 1 + i).
    sweeps : sequence of int
        Sweep counts (>= 1) at which to read out.
    scan : "systematic" or "random"
    absorb : bool
        A one-hot read-out at a checkpoint ends the run (the "continue" read-out policy): the
        masses returned are then those *emitted* at each checkpoint, not the state law.
    run_sweeps : int, optional
        Length of the run the schedule is aligned with (:func:`pysampler.contract.program.schedule_entries`);
        required when T > 1 (sweeps past it use the last entry).

    Returns
    -------
    valid : np.ndarray, shape (len(sweeps), V)
        P(read-out is the one-hot state of token k).
    lost : np.ndarray, shape (len(sweeps),)
        Truncated mass so far (see the module docstring).
    """
    p_tables = np.ascontiguousarray(p_on, dtype=np.float64)
    if p_tables.ndim == 2:
        p_tables = p_tables[None]
    if p_tables.ndim != 3 or p_tables.shape[1] != p_tables.shape[2]:
        raise ValueError(f"p_on must have shape (V, V) or (T, V, V), got {np.shape(p_on)}")
    n_entries, n = p_tables.shape[:2]
    checkpoints = np.array(sorted(set(int(s) for s in sweeps)), dtype=np.int64)
    if checkpoints.size == 0 or checkpoints[0] < 1:
        raise ValueError(f"sweeps must be >= 1, got {list(sweeps)}")
    if n_entries > 1 and run_sweeps is None:
        raise ValueError("run_sweeps is required with a lambda schedule (p_on of shape (T, V, V))")
    entries = schedule_entries(n_entries, int(run_sweeps or 1), int(checkpoints[-1]))
    space = StateSpace.build(n, default_max_popcount(n) if max_popcount is None else max_popcount)
    mass = np.zeros(space.size)
    mass[: n + 1] = init_probs
    singles, lost = _propagate(mass, p_tables, entries, space.masks, space.pops, space.binom,
                               space.offsets, space.max_popcount, checkpoints, scan == "random",
                               absorb)
    order = np.searchsorted(checkpoints, np.asarray(sweeps, dtype=np.int64))
    return singles[order], lost[order]


def onehot_init_counts(n: int, prob_bits: int) -> np.ndarray:
    """How many of the 2**P draws u give unit k under :func:`pysampler.engines.array.onehot_init_index`:
    floor(u n / 2^P) = k exactly for ceil(k 2^P / n) <= u < ceil((k + 1) 2^P / n)."""
    edges = [-((-k << prob_bits) // n) for k in range(n + 1)]  # ceil(k 2^P / n), exact ints
    return np.diff(np.array(edges, dtype=np.float64))
