"""Exact categorical sampling from the softmax of the kept logits: the reference every p-bit
sampler is measured against."""

from __future__ import annotations

import numpy as np

from .base import NumpyLanes, TokenLaw, TokenSampler
from .filtering import KeptVocab
from .registry import register_sampler

__all__ = ["SoftmaxSampler"]


@register_sampler("softmax", help="exact softmax (float64 inverse CDF): the reference")
class SoftmaxSampler(TokenSampler):
    """Exact categorical sampling from the softmax of the kept logits (inverse CDF, float64)."""

    def __init__(self, *, seed: int = 0):
        super().__init__(seed=seed)
        self._rngs = NumpyLanes()

    def _reset_streams(self) -> None:
        self._rngs.clear()

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        cdf = np.cumsum(kept.target())
        index = int(np.searchsorted(cdf, self._rngs.stream(self.seed, lane).random() * cdf[-1],
                                    side="right"))
        self.stats.tokens += 1
        self.stats.attempts += 1
        return min(index, kept.size - 1)

    def law(self, kept: KeptVocab) -> TokenLaw:
        return TokenLaw(kept.target())
