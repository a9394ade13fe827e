"""Exact ground states of small Ising models by Gray-code enumeration.

Spins m in {-1, +1}^n, E(m) = -sum_i h_i m_i - sum_{i<j} J_ij m_i m_j (the TSU convention). The
enumerator walks the 2**(n-1) states with m_{n-1} = -1 in Gray-code order (one spin flips per
step, so the energy and the local fields update in O(n)), and where h = 0 the other half is the
mirror image (E(-m) = E(m)); with a field it walks both halves. Energies are float64 sums of the
given weights; the minimum is recomputed directly from its state, and the states within
``atol`` of it are counted (the degeneracy, mirror images included).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from numpy.typing import ArrayLike

__all__ = ["GroundState", "ising_ground_state", "ising_energies", "MAX_ENUM_UNITS"]

MAX_ENUM_UNITS = 24     # 2**24 states, about a second here


@dataclass(frozen=True)
class GroundState:
    """The exact minimum of an Ising energy.

    Attributes
    ----------
    energy : float
        min_m E(m) (float64, recomputed from ``spins``).
    spins : np.ndarray of int8, shape (n,)
        One ground state (the first in enumeration order).
    degeneracy : int
        States with E within ``atol`` of the minimum (both mirror images counted).
    """

    energy: float
    spins: np.ndarray
    degeneracy: int


@njit(cache=True, nogil=True)
def _gray_walk(J, h, start_bit, m, atol):
    """Walk the states of spins 0..start_bit-1 in Gray order from m (the other spins fixed):
    (min energy, its state code relative to m, count within atol of the running minimum)."""
    n = h.shape[0]
    local = h.copy()
    for i in range(n):
        for j in range(n):
            local[i] += J[i, j] * m[j]
    e = 0.0
    for i in range(n):
        e -= h[i] * m[i]
        for j in range(i + 1, n):
            e -= J[i, j] * m[i] * m[j]
    best = e
    best_code = 0
    count = 1
    code = 0
    for k in range(1, 1 << start_bit):
        b = 0
        while not (k >> b) & 1:    # the lowest set bit of k is the spin that flips
            b += 1
        e += 2.0 * m[b] * local[b]
        mb = m[b]
        m[b] = -mb
        code ^= 1 << b
        for j in range(n):
            local[j] -= 2.0 * J[j, b] * mb
        if e < best - atol:
            best = e
            best_code = code
            count = 1
        elif e <= best + atol:
            count += 1
    return best, best_code, count


def _check_model(J: ArrayLike, h: ArrayLike | None, max_units: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
    """(J dense float64, h float64) after checking shapes, finiteness and symmetry."""
    if max_units is not None and np.shape(J)[0] > max_units:
        raise ValueError(f"exact enumeration walks 2**n states: n must be <= {max_units}, "
                         f"got {np.shape(J)[0]}")
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
    return Jm, hv


def ising_energies(spins: ArrayLike, J: ArrayLike, h: ArrayLike | None = None) -> np.ndarray:
    """E(m) = -h.m - sum_{i<j} J_ij m_i m_j of spin states (..., n), float64."""
    Jm, hv = _check_model(J, h)
    m = np.asarray(spins, dtype=np.float64)
    if m.shape[-1:] != hv.shape:
        raise ValueError(f"spins must have shape (..., {len(hv)}), got {m.shape}")
    return -(m @ hv) - 0.5 * np.einsum("...i,ij,...j->...", m, Jm, m)


def ising_ground_state(J: ArrayLike, h: ArrayLike | None = None, *, atol: float = 1e-9
                       ) -> GroundState:
    """The exact ground state of E(m) = -h.m - sum_{i<j} J_ij m_i m_j, n <= MAX_ENUM_UNITS.

    Parameters
    ----------
    J : (n, n) array or scipy.sparse matrix, symmetric, zero diagonal
    h : (n,) array, optional (zeros)
    atol : float
        Energies within ``atol`` of the minimum count as degenerate (>= 0).
    """
    Jm, hv = _check_model(J, h, MAX_ENUM_UNITS)
    tol = float(atol)
    if not np.isfinite(tol) or tol < 0:
        raise ValueError(f"atol must be a finite number >= 0, got {atol!r}")
    n = len(hv)
    symmetric = not hv.any()
    halves = [np.full(n, -1.0)] if symmetric else [np.full(n, -1.0), np.r_[np.full(n - 1, -1.0),
                                                                             1.0]]
    best = None
    count = 0
    for start in halves:
        e, code, c = _gray_walk(Jm, hv, n - 1, start.copy(), tol)
        state = start.copy()
        state[(code >> np.arange(n)) & 1 == 1] *= -1
        if best is None or e < best[0] - tol:
            best, count = (e, state), c
        elif e <= best[0] + tol:
            count += c
    spins = best[1].astype(np.int8)
    energy = float(ising_energies(spins, Jm, hv))
    return GroundState(energy, spins, count * (2 if symmetric else 1))
