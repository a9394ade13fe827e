"""Synthetic logit rows with a documented generator: what the test benches, the bulk harness and
the experiments draw LM-like rows from (one definition, below ``sim/`` and the experiments)."""

from __future__ import annotations

import numpy as np

__all__ = ["synthetic_logits", "LOGIT_SCALE"]

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
