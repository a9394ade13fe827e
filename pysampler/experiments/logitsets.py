"""Synthetic logit sets and Ising models with documented generators and fixed seeds."""

from __future__ import annotations

import numpy as np

__all__ = ["synthetic_logits", "random_ising", "LOGIT_SCALE"]

LOGIT_SCALE = 2.0


def synthetic_logits(vocab_size: int, seed: int = 0, scale: float = LOGIT_SCALE) -> np.ndarray:
    """Logits z_k ~ Normal(0, scale**2) i.i.d., float64 (V,).

    Generator: ``numpy.random.default_rng([seed, vocab_size])`` (PCG64), so every V has its own
    fixed set. With scale 2 the softmax has a few dominant tokens and a long tail, like an LM's
    top-k distribution.
    """
    if vocab_size < 1:
        raise ValueError(f"vocab_size must be >= 1, got {vocab_size}")
    return np.random.default_rng([seed, vocab_size]).normal(0.0, scale, vocab_size)


def random_ising(n: int, seed: int = 0, coupling_scale: float = 0.3, field_scale: float = 0.2
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A random Ising model (J (n, n) symmetric, zero diagonal; h (n,)) in spin units.

    J_ij ~ Normal(0, coupling_scale**2) for i < j, h_i ~ Normal(0, field_scale**2), generator
    ``numpy.random.default_rng([seed, n, 7])``.
    """
    rng = np.random.default_rng([seed, n, 7])
    upper = np.triu(rng.normal(0.0, coupling_scale, (n, n)), 1)
    return upper + upper.T, rng.normal(0.0, field_scale, n)
