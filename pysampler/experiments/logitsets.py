"""Synthetic logit sets and Ising models with documented generators and fixed seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from ..contract.config import HwConfig

__all__ = ["synthetic_logits", "random_ising", "LOGIT_SCALE", "check_vocab_size"]

LOGIT_SCALE = 2.0


def check_vocab_size(vocab_size: int, cfg: "HwConfig") -> int:
    """A vocabulary size the exact studies (match, calibrate) can run: at most 64 tokens (exact
    evaluation of a chain) and at most the array's n_pbits; else a ValueError saying which."""
    from ..analysis.exact import MAX_EXACT_VOCAB
    from ..contract.validation import check_int

    high = min(MAX_EXACT_VOCAB, cfg.n_pbits)
    why = (f"the chains' exact evaluation takes at most {MAX_EXACT_VOCAB} tokens"
           if high == MAX_EXACT_VOCAB else f"the array has n_pbits = {cfg.n_pbits} units")
    try:
        return check_int("vocab_size", vocab_size, 1, high)
    except ValueError as err:
        raise ValueError(f"{err} ({why})") from None


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
