"""Uncertainty of an ensemble of stochastic forward passes (numpy): predictive entropy,
expected calibration error, the reliability diagram's bins, negative log-likelihood.

Conventions: ``probs`` (N, C) are class probabilities (rows summing to 1), ``labels`` (N,) ints in
0..C-1; the prediction of N stochastic passes (P, N, C) is their mean over passes (the Monte Carlo
estimate of the predictive distribution). ECE: equal-width confidence bins on (0, 1] (a
confidence c falls in bin ceil(c * n_bins) - 1), ECE = sum_b (n_b / N) |accuracy_b -
confidence_b| (Guo et al. 2017).
"""

from __future__ import annotations

import numpy as np

__all__ = ["predictive_entropy", "expected_calibration_error", "reliability_bins",
           "negative_log_likelihood", "ensemble_summary"]

_TINY = 1e-12


def _check(probs: np.ndarray, labels: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(f"probs must have shape (N, C) with C >= 2, got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any() or np.abs(p.sum(axis=1) - 1).max() > 1e-6:
        raise ValueError("probs must be finite, non-negative rows summing to 1")
    if labels is None:
        return p, np.zeros(0, dtype=np.int64)
    y = np.asarray(labels)
    if y.shape != (p.shape[0],) or not np.issubdtype(y.dtype, np.integer) \
            or (y < 0).any() or (y >= p.shape[1]).any():
        raise ValueError(f"labels must be ints in [0, {p.shape[1] - 1}] of shape "
                         f"({p.shape[0]},), got {y.dtype} {y.shape}")
    return p, y.astype(np.int64)


def predictive_entropy(probs: np.ndarray) -> np.ndarray:
    """-sum_c p_c ln p_c per row, nats (N,)."""
    p, _ = _check(probs)
    return -(p * np.log(np.maximum(p, _TINY))).sum(axis=1)


def reliability_bins(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10
                     ) -> dict[str, np.ndarray]:
    """Per confidence bin: ``edges`` (n_bins + 1,), ``count``, ``accuracy`` and ``confidence``
    (mean max-probability; NaN in an empty bin)."""
    p, y = _check(probs, labels)
    if isinstance(n_bins, bool) or not isinstance(n_bins, (int, np.integer)) or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1, got {n_bins!r}")
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    which = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(np.float64)
    with np.errstate(invalid="ignore"):
        acc = np.bincount(which, weights=correct, minlength=n_bins) / count
        mean_conf = np.bincount(which, weights=conf, minlength=n_bins) / count
    return {"edges": np.linspace(0.0, 1.0, n_bins + 1), "count": count, "accuracy": acc,
            "confidence": mean_conf}


def expected_calibration_error(probs: np.ndarray, labels: np.ndarray, n_bins: int = 10
                               ) -> float:
    """ECE over ``n_bins`` equal-width confidence bins (module docstring)."""
    bins = reliability_bins(probs, labels, n_bins)
    used = bins["count"] > 0
    gap = np.abs(bins["accuracy"][used] - bins["confidence"][used])
    return float((bins["count"][used] * gap).sum() / bins["count"].sum())


def negative_log_likelihood(probs: np.ndarray, labels: np.ndarray) -> float:
    """Mean -ln p(label), nats."""
    p, y = _check(probs, labels)
    return float(-np.log(np.maximum(p[np.arange(y.size), y], _TINY)).mean())


def ensemble_summary(pass_probs: np.ndarray, labels: np.ndarray, n_bins: int = 10
                     ) -> dict[str, float]:
    """Figures of P stochastic passes (P, N, C) against ``labels``: accuracy of the mean
    prediction, mean single-pass accuracy, NLL, mean predictive entropy (all, on errors, on
    correct answers), ECE."""
    passes = np.asarray(pass_probs, dtype=np.float64)
    if passes.ndim != 3:
        raise ValueError(f"pass_probs must have shape (P, N, C), got {passes.shape}")
    mean = passes.mean(axis=0)
    p, y = _check(mean, labels)
    correct = p.argmax(axis=1) == y
    entropy = predictive_entropy(p)
    single = float((passes.argmax(axis=2) == y[None]).mean())
    return {"accuracy": float(correct.mean()), "single_pass_accuracy": single,
            "nll": negative_log_likelihood(p, y), "entropy": float(entropy.mean()),
            "entropy_errors": float(entropy[~correct].mean()) if (~correct).any() else float("nan"),
            "entropy_correct": float(entropy[correct].mean()) if correct.any() else float("nan"),
            "ece": expected_calibration_error(p, y, n_bins), "passes": int(passes.shape[0])}
