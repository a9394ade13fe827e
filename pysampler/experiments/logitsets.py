"""Synthetic logit sets and Ising models with documented generators and fixed seeds."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..contract.rows import LOGIT_SCALE, synthetic_logits  # the one definition, below sim/

if TYPE_CHECKING:
    from ..contract.config import HwConfig

__all__ = ["synthetic_logits", "random_ising", "LOGIT_SCALE", "check_vocab_size"]



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


def random_ising(n: int, seed: int = 0, coupling_scale: float = 0.3, field_scale: float = 0.2
                 ) -> tuple[np.ndarray, np.ndarray]:
    """A random Ising model (J (n, n) symmetric, zero diagonal; h (n,)) in spin units.

    J_ij ~ Normal(0, coupling_scale**2) for i < j, h_i ~ Normal(0, field_scale**2), generator
    ``numpy.random.default_rng([seed, n, 7])``.
    """
    rng = np.random.default_rng([seed, n, 7])
    upper = np.triu(rng.normal(0.0, coupling_scale, (n, n)), 1)
    return upper + upper.T, rng.normal(0.0, field_scale, n)
