"""Float references: binary one-hot Gibbs, Ising Gibbs and exact Boltzmann enumeration.

These run in float64 with an ideal RNG (a ``numpy.random.Generator`` passed in, never global) and
the same sequential schedule as the hardware, so that comparing them with the bit-accurate model
isolates what fixed point, the LUT and the LFSR cost.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from ..contract.program import check_couplings, lambda_schedule, schedule_entries

__all__ = [
    "SCANS", "onehot_energy", "onehot_conditional", "onehot_gibbs", "onehot_init",
    "ising_energy", "ising_gibbs", "ising_exact", "state_codes", "MAX_EXACT_UNITS",
]

SCANS = ("systematic", "random")
MAX_EXACT_UNITS = 16


def onehot_energy(y: ArrayLike, z: ArrayLike, lam: float) -> np.ndarray:
    """E(y) = -sum_k z_k y_k + lam (sum_k y_k - 1)^2 for states y (..., V) (float64)."""
    y = np.asarray(y, dtype=np.float64)
    return -(y @ np.asarray(z, dtype=np.float64)) + lam * (y.sum(axis=-1) - 1.0) ** 2


def onehot_conditional(z: np.ndarray, lam: float, beta: float, others_on: ArrayLike) -> np.ndarray:
    """P(y_i = 1 | rest) = sigmoid(beta (z_i - lam (2 S_-i - 1))), S_-i = others_on, broadcast."""
    s = np.asarray(others_on, dtype=np.float64)
    return 1.0 / (1.0 + np.exp(-beta * (z - lam * (2.0 * s - 1.0))))


@njit(parallel=True, cache=True)
def _onehot_sweep(z, lam, beta, y, uniforms, order):
    n_chains, n = y.shape
    for b in prange(n_chains):
        pop = np.int64(0)
        for k in range(n):
            pop += y[b, k]
        for t in range(n):
            i = order[b, t] if order.shape[0] > 1 else t
            old = np.int64(y[b, i])
            s = pop - old
            p_on = 1.0 / (1.0 + np.exp(-beta * (z[i] - lam * (2.0 * s - 1.0))))
            new = np.int64(1) if uniforms[b, t] < p_on else np.int64(0)
            y[b, i] = new
            pop += new - old


def onehot_init(init: str | ArrayLike, n_chains: int, n: int, rng: np.random.Generator
                ) -> np.ndarray:
    """Initial states (B, V) uint8: ``"zeros"``, ``"random_onehot"`` (uniform unit) or an array."""
    y = np.zeros((n_chains, n), dtype=np.uint8)
    if isinstance(init, str):
        if init == "random_onehot":
            y[np.arange(n_chains), rng.integers(n, size=n_chains)] = 1
        elif init != "zeros":
            raise ValueError(f"init must be 'zeros', 'random_onehot' or a 0/1 array, got {init!r}")
        return y
    arr = np.asarray(init)
    if arr.shape not in ((n,), (n_chains, n)) or not np.isin(arr, (0, 1)).all():
        raise ValueError(f"init array must be 0/1 with shape ({n},) or ({n_chains}, {n}), "
                         f"got shape {arr.shape}")
    y[:] = arr
    return y


def onehot_gibbs(z: ArrayLike, lam: float | Sequence[float], *, sweeps: int, n_chains: int = 1,
                 rng: np.random.Generator, beta: float = 1.0, scan: str = "systematic",
                 init: str | ArrayLike = "zeros") -> np.ndarray:
    """Binary Gibbs on {0,1}^V with the one-hot penalty, float64, B chains at once.

    Parameters
    ----------
    z : array_like of float, shape (V,)
        Logits (already temperature-scaled and shifted as the caller wants).
    lam : float or sequence of float
        One-hot penalty > 0, or a per-sweep lambda table aligned with the end of the run
        (:func:`pysampler.contract.program.schedule_entries`).
    sweeps : int
        Sweeps of V updates each (>= 1), one run.
    rng : numpy.random.Generator
        Source of the uniforms (and of the unit order for ``scan="random"``).
    scan : "systematic" (units 0..V-1 in order) or "random" (V uniformly chosen units per sweep)

    Returns
    -------
    np.ndarray of uint8, shape (B, V): the states after the last sweep.
    """
    zf = np.ascontiguousarray(z, dtype=np.float64)
    if scan not in SCANS:
        raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
    if sweeps < 1:
        raise ValueError(f"sweeps must be >= 1, got {sweeps}")
    lams = lambda_schedule(lam)
    n = zf.size
    y = onehot_init(init, n_chains, n, rng)
    no_order = np.zeros((1, 1), dtype=np.int64)
    for entry in schedule_entries(len(lams), sweeps):
        order = rng.integers(n, size=(n_chains, n)) if scan == "random" else no_order
        _onehot_sweep(zf, lams[entry], float(beta), y, rng.random((n_chains, n)), order)
    return y


def state_codes(y: ArrayLike) -> np.ndarray:
    """Integer code of binary states (..., n): sum_i y_i 2**i (unit i is bit i)."""
    y = np.asarray(y, dtype=np.int64)
    return y @ (np.int64(1) << np.arange(y.shape[-1], dtype=np.int64))


def ising_energy(m: ArrayLike, J: np.ndarray, h: np.ndarray) -> np.ndarray:
    """E(m) = -h.m - 1/2 m^T J m for spins m (..., N) in {-1, +1} (float64)."""
    m = np.asarray(m, dtype=np.float64)
    return -(m @ h) - 0.5 * np.einsum("...i,ij,...j->...", m, J, m)


def ising_exact(J: ArrayLike, h: ArrayLike, beta: float = 1.0) -> tuple[np.ndarray, float]:
    """Exact Boltzmann distribution of an Ising model with N <= 16 spins.

    Returns
    -------
    probs : np.ndarray of float64, shape (2**N,)
        Indexed by :func:`state_codes` of y = (m + 1) / 2.
    log_z : float
        log of the partition function sum_m exp(-beta E(m)).
    """
    hf = np.asarray(h, dtype=np.float64)
    n = hf.size
    if not 1 <= n <= MAX_EXACT_UNITS:
        raise ValueError(f"exact enumeration needs 1 <= N <= {MAX_EXACT_UNITS}, got N={n}")
    Jf = check_couplings(np.asarray(J, dtype=np.float64), n, atol=1e-12)
    codes = np.arange(1 << n, dtype=np.int64)
    m = 2.0 * ((codes[:, None] >> np.arange(n)) & 1) - 1.0
    log_w = -beta * ising_energy(m, Jf, hf)
    top = log_w.max()
    w = np.exp(log_w - top)
    z = w.sum()
    return w / z, float(top + np.log(z))


@njit(parallel=True, cache=True)
def _ising_sweep(J, h, beta, m, uniforms):
    n_chains, n = m.shape
    for b in prange(n_chains):
        for i in range(n):
            field = h[i]
            for k in range(n):
                field += J[i, k] * m[b, k]
            p_up = 1.0 / (1.0 + np.exp(-2.0 * beta * field))
            m[b, i] = 1 if uniforms[b, i] < p_up else -1


def ising_gibbs(J: ArrayLike, h: ArrayLike, *, beta: float = 1.0, sweeps: int, n_chains: int,
                rng: np.random.Generator, burn_in: int = 0) -> np.ndarray:
    """Systematic-scan Gibbs on Ising spins, P(m_i = +1 | rest) = sigmoid(2 beta (h_i + J_i . m)).

    Chains start from uniformly random spins.

    Returns
    -------
    np.ndarray of int64, shape (B, sweeps)
        :func:`state_codes` of each chain after each sweep past ``burn_in``.
    """
    hf = np.ascontiguousarray(h, dtype=np.float64)
    Jf = np.ascontiguousarray(check_couplings(np.asarray(J, dtype=np.float64), hf.size, atol=1e-12))
    n = hf.size
    m = np.where(rng.random((n_chains, n)) < 0.5, 1, -1).astype(np.int64)
    codes = np.empty((n_chains, sweeps), dtype=np.int64)
    for t in range(burn_in + sweeps):
        _ising_sweep(Jf, hf, float(beta), m, rng.random((n_chains, n)))
        if t >= burn_in:
            codes[:, t - burn_in] = state_codes((m + 1) // 2)
    return codes
