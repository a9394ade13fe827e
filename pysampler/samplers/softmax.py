"""Exact categorical sampling from the softmax of the kept logits: the reference every p-bit
sampler is measured against."""

from __future__ import annotations

import numpy as np

from scipy.special import softmax

from .base import NumpyLanes, TokenLaw, TokenSampler
from .filtering import KeptBatch, KeptVocab
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

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """Rows of one kept size at once (their softmax, CDF and search as arrays; the same
        floating-point operations as row by row), one uniform from each row's lane
        (``lanes[b]``)."""
        sizes = kept.sizes
        out = np.empty(kept.n_rows, dtype=np.int64)
        for n in np.unique(sizes):
            rows = np.flatnonzero(sizes == n)
            logits, ids = KeptBatch(kept.logits[rows], kept.mask[rows]).compact(int(n))
            cdf = np.cumsum(softmax(logits, axis=1), axis=1)
            u = np.array([self._rngs.stream(self.seed, int(lanes[b])).random() for b in rows])
            index = (cdf <= (u * cdf[:, -1])[:, None]).sum(axis=1)  # searchsorted, side="right"
            out[rows] = ids[np.arange(rows.size), np.minimum(index, n - 1)]
        self.stats.tokens += kept.n_rows
        self.stats.attempts += kept.n_rows
        return out
