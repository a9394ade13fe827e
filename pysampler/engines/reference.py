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
    "SCANS", "onehot_energy", "onehot_conditional", "onehot_gibbs", "onehot_init", "onehot_draws",
    "onehot_sweeps",
    "ising_energy", "ising_gibbs", "ising_exact", "state_codes", "MAX_EXACT_UNITS",
]

SCANS = ("systematic", "random")
MAX_EXACT_UNITS = 16
_DRAW_BLOCK = 1 << 20  # uniforms drawn ahead by onehot_gibbs (8 MiB): sweeps per kernel call
_PARALLEL_UPDATES = 1 << 15  # chain updates from which onehot_sweeps runs on threads


def onehot_energy(y: ArrayLike, z: ArrayLike, lam: float) -> np.ndarray:
    """E(y) = -sum_k z_k y_k + lam (sum_k y_k - 1)^2 for states y (..., V) (float64)."""
    y = np.asarray(y, dtype=np.float64)
    return -(y @ np.asarray(z, dtype=np.float64)) + lam * (y.sum(axis=-1) - 1.0) ** 2


def onehot_conditional(z: np.ndarray, lam: float, beta: float, others_on: ArrayLike) -> np.ndarray:
    """P(y_i = 1 | rest) = sigmoid(beta (z_i - lam (2 S_-i - 1))), S_-i = others_on, broadcast."""
    s = np.asarray(others_on, dtype=np.float64)
    with np.errstate(over="ignore"):  # exp overflows to inf where p is 0 to double precision
        return 1.0 / (1.0 + np.exp(-beta * (z - lam * (2.0 * s - 1.0))))


@njit(cache=True, nogil=True)
def _onehot_chain(z, lams, beta, y, uniforms, orders, b):
    """S sweeps of chain b, in place.

    Parameters
    ----------
    z : float64 (B, n) or (1, n)
        Logits of each chain (one row: shared by every chain).
    lams : float64 (B, S) or (1, S)
        Lambda of each sweep of each chain (one row: shared).
    beta : float
    y : uint8 (B, n)
        States; row b is updated in place.
    uniforms : float64 (S, B, n)
        Uniform of update t of sweep s of chain b.
    orders : int64 (S, B, n), or (0, 0, 0) for the systematic scan
        Unit updated by update t of sweep s of chain b.
    b : int
    """
    n = y.shape[1]
    zb = 0 if z.shape[0] == 1 else b
    lb = 0 if lams.shape[0] == 1 else b
    random_scan = orders.shape[0] > 0
    pop = np.int64(0)
    for k in range(n):
        pop += y[b, k]
    for s in range(uniforms.shape[0]):
        lam = lams[lb, s]
        for t in range(n):
            i = orders[s, b, t] if random_scan else t
            old = np.int64(y[b, i])
            others = pop - old
            p_on = 1.0 / (1.0 + np.exp(-beta * (z[zb, i] - lam * (2.0 * others - 1.0))))
            new = np.int64(1) if uniforms[s, b, t] < p_on else np.int64(0)
            y[b, i] = new
            pop += new - old


@njit(cache=True, nogil=True)
def _onehot_sweeps_serial(z, lams, beta, y, uniforms, orders):
    """:func:`_onehot_chain` of every chain, one after the other."""
    for b in range(y.shape[0]):
        _onehot_chain(z, lams, beta, y, uniforms, orders, np.int64(b))


@njit(parallel=True, cache=True)
def _onehot_sweeps_parallel(z, lams, beta, y, uniforms, orders):
    """:func:`_onehot_chain` of every chain, threads over chains."""
    for b in prange(y.shape[0]):
        _onehot_chain(z, lams, beta, y, uniforms, orders, np.int64(b))


def onehot_sweeps(z: np.ndarray, lams: np.ndarray, beta: float, y: np.ndarray,
                  uniforms: np.ndarray, orders: np.ndarray) -> None:
    """Run S sweeps of B one-hot chains on pre-drawn numbers (numba; threads over chains from
    ``_PARALLEL_UPDATES`` updates on, below which starting the threads costs more than it saves).

    Parameters
    ----------
    z : np.ndarray of float64, shape (B, n) or (1, n)
        Logits of each chain (already shifted); one row is shared by every chain.
    lams : np.ndarray of float64, shape (B, S) or (1, S)
        Lambda of each sweep of each chain; one row is shared by every chain.
    beta : float
        Inverse temperature.
    y : np.ndarray of uint8, shape (B, n)
        States, updated in place.
    uniforms, orders : np.ndarray
        :func:`onehot_draws` of the chains, (S, B, n) float64 and (S, B, n) int64 (random scan)
        or (0, 0, 0) int64 (systematic scan).
    """
    kernel = (_onehot_sweeps_parallel if y.shape[0] > 1 and uniforms.size >= _PARALLEL_UPDATES
              else _onehot_sweeps_serial)
    kernel(np.ascontiguousarray(z, dtype=np.float64),
           np.ascontiguousarray(lams, dtype=np.float64), float(beta), y,
           np.ascontiguousarray(uniforms, dtype=np.float64),
           np.ascontiguousarray(orders, dtype=np.int64))


def onehot_draws(rng: np.random.Generator, n_chains: int, n: int, sweeps: int, scan: str
                 ) -> tuple[np.ndarray, np.ndarray]:
    """The numbers ``sweeps`` sweeps of B chains of n units take from ``rng``, in order.

    Per sweep: the units to update (``scan="random"``: ``rng.integers(n, size=(B, n))``), then
    the uniforms (``rng.random((B, n))``). Under the systematic scan the S sweeps' uniforms are
    one call, ``rng.random((S, B, n))``: the same numbers as one call per sweep.

    Returns
    -------
    uniforms : np.ndarray of float64, shape (S, B, n)
    orders : np.ndarray of int64, shape (S, B, n), or (0, 0, 0) for the systematic scan
    """
    if scan == "systematic":
        return rng.random((sweeps, n_chains, n)), np.zeros((0, 0, 0), dtype=np.int64)
    uniforms = np.empty((sweeps, n_chains, n), dtype=np.float64)
    orders = np.empty((sweeps, n_chains, n), dtype=np.int64)
    for s in range(sweeps):
        orders[s] = rng.integers(n, size=(n_chains, n))
        uniforms[s] = rng.random((n_chains, n))
    return uniforms, orders


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
    init : "zeros", "random_onehot" or a 0/1 array (:func:`onehot_init`)

    Returns
    -------
    np.ndarray of uint8, shape (B, V): the states after the last sweep.

    Notes
    -----
    ``rng`` gives, in order, the start (:func:`onehot_init`; nothing for "zeros" or an array) and
    then each sweep's numbers (:func:`onehot_draws`), drawn a block of sweeps ahead of one kernel
    call (:func:`onehot_sweeps`): what a caller that draws the same calls from its own generator
    and runs the same kernel (:meth:`pysampler.samplers.gibbs.GibbsSampler._draw_kept_batch`)
    reproduces exactly.
    """
    zf = np.ascontiguousarray(z, dtype=np.float64)
    if scan not in SCANS:
        raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
    if sweeps < 1:
        raise ValueError(f"sweeps must be >= 1, got {sweeps}")
    table = lambda_schedule(lam)
    lams = np.array(table)[schedule_entries(len(table), sweeps)]
    n = zf.size
    y = onehot_init(init, n_chains, n, rng)
    block = max(1, min(sweeps, _DRAW_BLOCK // (n_chains * n)))
    for start in range(0, sweeps, block):
        stop = min(sweeps, start + block)
        uniforms, orders = onehot_draws(rng, n_chains, n, stop - start, scan)
        onehot_sweeps(zf[None, :], lams[None, start:stop], beta, y, uniforms, orders)
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
