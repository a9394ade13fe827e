"""Distances between distributions, effective sample size, invalid rates and noise floors."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import binom

__all__ = [
    "KL_EPS", "total_variation", "kl_divergence", "empirical_distribution", "invalid_onehot_rate",
    "ess_ips", "ess_batch_means", "tv_noise_floor", "autocorrelation",
]

KL_EPS = 1e-12


def _distributions(p: ArrayLike, q: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(p, dtype=np.float64)
    q = np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def total_variation(p: ArrayLike, q: ArrayLike) -> float:
    """TV(p, q) = 1/2 sum |p - q| over the same support (both 1-D, same length)."""
    p, q = _distributions(p, q)
    return float(0.5 * np.abs(p - q).sum())


def kl_divergence(p: ArrayLike, q: ArrayLike, eps: float = KL_EPS) -> float:
    """KL(p || q) = sum_k p_k log(p_k / q_k) in nats.

    Eps policy: terms with p_k = 0 contribute 0; q_k is floored at ``eps`` (1e-12 by default) where
    p_k > 0, so a sampler that never emits a token of the target scores large but finite
    (about p_k * 27.6 nats for that token). Rounding can leave the sum a few 1e-13 below 0 for
    equal distributions; KL is never negative, so that is reported as 0.
    """
    p, q = _distributions(p, q)
    mask = p > 0
    return max(0.0, float(np.sum(p[mask] * (np.log(p[mask])
                                            - np.log(np.maximum(q[mask], eps))))))


def empirical_distribution(samples: ArrayLike, n_outcomes: int) -> np.ndarray:
    """Relative frequencies of integer samples in [0, n_outcomes), shape (n_outcomes,)."""
    s = np.asarray(samples, dtype=np.int64).reshape(-1)
    if s.size == 0:
        raise ValueError("samples is empty")
    if s.min() < 0 or s.max() >= n_outcomes:
        raise ValueError(f"samples must lie in [0, {n_outcomes}), got range "
                         f"[{s.min()}, {s.max()}]")
    return np.bincount(s, minlength=n_outcomes) / s.size


def invalid_onehot_rate(states: ArrayLike) -> float:
    """Fraction of binary states (N, V) that are not one-hot (popcount != 1)."""
    y = np.asarray(states)
    if y.ndim != 2:
        raise ValueError(f"states must be 2-D (N, V), got shape {y.shape}")
    return float(np.mean(y.sum(axis=1) != 1))


def tv_noise_floor(p: ArrayLike, n_samples: int) -> float:
    """Expected TV between ``p`` and the empirical distribution of ``n_samples`` draws from it.

    Exact: each count is Binomial(N, p_k), and E|X - Np| has de Moivre's closed form
    ``2 k (1 - p) Binom.pmf(k; N, p)`` with ``k = floor(N p) + 1``; TV = sum_k E|X_k - N p_k| / (2N).
    A measured TV at or below this figure is indistinguishable from sampling noise.
    """
    p = np.asarray(p, dtype=np.float64)
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    k = np.floor(n_samples * p) + 1
    mad = 2.0 * k * (1.0 - p) * binom.pmf(k, n_samples, p)
    return float(mad.sum() / (2.0 * n_samples))


def autocorrelation(x: ArrayLike) -> np.ndarray:
    """Normalised autocorrelation of a 1-D series at lags 0..N-1 (FFT, biased estimator)."""
    x = np.asarray(x, dtype=np.float64)
    n = x.size
    xc = x - x.mean()
    var = xc @ xc
    if var == 0:
        return np.concatenate([[1.0], np.zeros(n - 1)])
    f = np.fft.rfft(xc, 2 * n)
    return np.fft.irfft(f * np.conj(f))[:n] / var


def ess_ips(x: ArrayLike) -> float:
    """Effective sample size by Geyer's initial positive sequence estimator.

    ``x`` is (N,) for one chain or (C, N) for C chains (their autocorrelations averaged, ESS summed
    over chains). ESS = C N / (1 + 2 sum_t rho_t), truncated at the first non-positive sum of a pair
    of consecutive autocorrelations (rho_{2m} + rho_{2m+1}).
    """
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n_chains, n = arr.shape
    if n < 4:
        raise ValueError(f"need at least 4 samples per chain, got {n}")
    rho = np.mean([autocorrelation(c) for c in arr], axis=0)
    pairs = rho[: 2 * (n // 2)].reshape(-1, 2).sum(axis=1)
    nonpos = np.flatnonzero(pairs <= 0)
    m = nonpos[0] if nonpos.size else pairs.size
    tau = -1.0 + 2.0 * pairs[:m].sum()  # rho_0 = 1 is counted once
    return float(n_chains * n / max(tau, 1e-12))


def ess_batch_means(x: ArrayLike, n_batches: int | None = None) -> float:
    """ESS by batch means: N_total * var(x) / (b * var(batch means)), b = batch size.

    ``x`` is (N,) for one chain or (C, N) for C chains; each chain is cut into ``n_batches`` batches
    (default floor(sqrt(N))) and the batch means of all chains are pooled. For a chain with
    integrated autocorrelation time tau the estimate is biased high by about tau / b.
    """
    arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
    n_chains, n = arr.shape
    a = int(np.sqrt(n)) if n_batches is None else int(n_batches)
    if a < 2 or n // a < 1:
        raise ValueError(f"need at least 2 batches of >= 1 sample, got N={n}, n_batches={a}")
    b = n // a
    means = arr[:, : a * b].reshape(n_chains, a, b).mean(axis=2) - arr.mean(axis=1, keepdims=True)
    var_means = np.sum(means**2) / (n_chains * a - n_chains)
    var = arr.var(axis=1, ddof=1).mean()
    if var_means == 0:
        return float(n_chains * n)
    return float(n_chains * n * var / (b * var_means))
