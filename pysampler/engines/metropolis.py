"""Simulated annealing in float: single-spin Metropolis sweeps under a per-sweep beta schedule,
the CPU baseline of the annealing experiments.

Spins m in {-1, +1}, E(m) = -sum_i h_i m_i - sum_{i<j} J_ij m_i m_j (the TSU convention). A sweep
visits units 0..n-1 in order; flipping unit i changes the energy by dE = 2 m_i (h_i + sum_j
J_ij m_j) and is accepted when dE <= 0 or u < exp(-beta_s dE) (u uniform in [0, 1), float64).
Each replica draws from its own SplitMix64 stream (seeded from ``seed`` by numpy's SeedSequence),
so replicas run in parallel and results do not depend on the number of threads.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from ..contract.rng import check_seed
from ..contract.validation import check_int

__all__ = ["metropolis_anneal", "MAX_ANNEAL_WORK"]

MAX_ANNEAL_WORK = 1 << 40   # replicas x units x sweeps of one call (hours here): refused above

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _uniform(state):
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return state, (z >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(parallel=True, cache=True)
def _anneal(spins, nbr, wts, h, betas, streams):
    n = h.shape[0]
    D = nbr.shape[1]
    for b in prange(spins.shape[0]):
        m = spins[b]          # (n + 1,): m[n] = 0 serves the unused neighbour slots
        state = streams[b]
        for s in range(betas.shape[0]):
            beta = betas[s]
            for i in range(n):
                f = h[i]
                for d in range(D):
                    f += wts[i, d] * m[nbr[i, d]]
                de = 2.0 * m[i] * f
                if de <= 0.0:
                    m[i] = -m[i]
                else:
                    state, u = _uniform(state)
                    if u < np.exp(-beta * de):
                        m[i] = -m[i]
        streams[b] = state


def _neighbour_slots(J: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = J.shape[0]
    rows, cols = np.nonzero(J)
    degree = np.bincount(rows, minlength=n)
    D = int(degree.max(initial=0))
    nbr = np.full((n, max(D, 1)), n, dtype=np.int64)[:, :D]
    wts = np.zeros((n, max(D, 1)))[:, :D]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    nbr[rows, rank] = cols
    wts[rows, rank] = J[rows, cols]
    return nbr, wts


def metropolis_anneal(J: ArrayLike, h: ArrayLike | None, betas: ArrayLike, chains: int, *,
                      seed: int = 0, init: ArrayLike | None = None) -> np.ndarray:
    """Anneal ``chains`` replicas by Metropolis sweeps, sweep s at inverse temperature betas[s].

    Parameters
    ----------
    J : (n, n) array or scipy.sparse matrix
        Couplings, symmetric with a zero diagonal, finite.
    h : (n,) array, optional
        Fields (zeros).
    betas : (S,) array of float
        One inverse temperature per sweep, each finite and > 0.
    chains : int
        Replicas, >= 1.
    seed : int
        In [0, 2**64).
    init : (n,) or (chains, n) spins, optional
        Starting states (default: random, from the replica's stream's seed).

    Returns
    -------
    np.ndarray of int8, shape (chains, n): the final spins.
    """
    Jm = np.asarray(J.toarray() if hasattr(J, "toarray") else J, dtype=np.float64)
    if Jm.ndim != 2 or Jm.shape[0] != Jm.shape[1] or Jm.shape[0] == 0:
        raise ValueError(f"J must be a square (n, n) array with n >= 1, got shape {Jm.shape}")
    n = Jm.shape[0]
    hv = np.zeros(n) if h is None else np.asarray(h, dtype=np.float64)
    if hv.shape != (n,):
        raise ValueError(f"h must have shape ({n},), got {hv.shape}")
    if not (np.isfinite(Jm).all() and np.isfinite(hv).all()):
        raise ValueError("J and h must be finite (no NaN or inf)")
    if not np.array_equal(Jm, Jm.T) or np.any(np.diag(Jm) != 0):
        raise ValueError("J must be symmetric with a zero diagonal")
    b = np.asarray(betas, dtype=np.float64)
    if b.ndim != 1 or b.size == 0:
        raise ValueError(f"betas must be a 1-D array of at least one sweep, got shape {b.shape}")
    if not np.isfinite(b).all() or (b <= 0).any():
        raise ValueError("betas must be finite numbers > 0")
    chains = check_int("chains", chains, 1)
    seed = check_seed(seed)
    if chains * n * b.size > MAX_ANNEAL_WORK:
        raise ValueError(f"chains x n x sweeps = {chains * n * b.size} passes the limit "
                         f"{MAX_ANNEAL_WORK}")
    streams = np.random.SeedSequence(seed).generate_state(chains, np.uint64)
    spins = np.zeros((chains, n + 1))
    if init is None:
        rng = np.random.default_rng(seed)
        spins[:, :n] = rng.choice([-1.0, 1.0], (chains, n))
    else:
        arr = np.asarray(init)
        if arr.shape not in ((n,), (chains, n)) or not np.isin(arr, (-1, 1)).all():
            raise ValueError(f"init must hold spins -1/+1 with shape ({n},) or ({chains}, {n})")
        spins[:, :n] = arr
    nbr, wts = _neighbour_slots(Jm)
    _anneal(spins, nbr, wts, hv, b, streams)
    return spins[:, :n].astype(np.int8)
