"""Vocabulary reduction: temperature, top-k, top-p, min-p, as a *reduction* (no -inf).

The filters are applied in the order of HF transformers' sampling processors: temperature, then
top-k, then top-p (on the softmax of what top-k kept), then min-p (on the softmax of what top-p kept).
The result is the kept, temperature-scaled logits and their original token ids, in ascending id
order; the p-bit array holds one unit per kept token.

Differences from HF, on purpose: top-k keeps exactly k tokens (ties broken towards the lower id;
HF keeps every token tied with the k-th), since the array has a fixed number of units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import softmax

from ..contract.validation import check_int

__all__ = ["KeptVocab", "reduce_vocab", "check_filters"]


@dataclass(frozen=True)
class KeptVocab:
    """Kept tokens of one distribution.

    Attributes
    ----------
    logits : np.ndarray of float64, shape (k,)
        Kept logits divided by the temperature (not shifted).
    ids : np.ndarray of int64, shape (k,)
        Their token ids in the full vocabulary, ascending.
    """

    logits: np.ndarray
    ids: np.ndarray

    @property
    def size(self) -> int:
        return int(self.ids.size)

    def target(self) -> np.ndarray:
        """Exact softmax of the kept logits: the distribution every sampler aims for."""
        return softmax(self.logits)


def check_filters(temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None,
                  min_p: float | None = None) -> None:
    """Validate the filter arguments; a ValueError names the parameter and its allowed range."""
    if not (isinstance(temperature, (int, float, np.floating)) and np.isfinite(temperature)
            and temperature > 0):
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if top_k is not None:
        check_int("top_k", top_k, 1)
    if top_p is not None and not (isinstance(top_p, (int, float, np.floating)) and 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1] (or None), got {top_p!r}")
    if min_p is not None and not (isinstance(min_p, (int, float, np.floating)) and 0 <= min_p < 1):
        raise ValueError(f"min_p must be in [0, 1) (or None), got {min_p!r}")


def reduce_vocab(logits: ArrayLike, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, min_p: float | None = None) -> KeptVocab:
    """Reduce one row of logits (V,) to the kept tokens.

    Parameters
    ----------
    logits : array_like of float, shape (V,)
        Finite logits (NaN or inf is an error).
    temperature : float
        > 0.
    top_k : int or None
        Keep the k largest (>= 1; k > V keeps all).
    top_p : float or None
        In (0, 1]: keep the smallest high-probability set whose mass reaches top_p (at least one
        token).
    min_p : float or None
        In [0, 1): drop tokens whose probability is below min_p times the largest.
    """
    check_filters(temperature, top_k, top_p, min_p)
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"logits must be 1-D (V,), got shape {z.shape}")
    if z.size == 0:
        raise ValueError("logits is empty: the vocabulary must hold at least one token")
    if np.isnan(z).any():
        raise ValueError("logits contain NaN")
    if np.isinf(z).any():
        raise ValueError("logits contain inf; mask tokens by filtering, not with -inf")
    z = z / temperature
    ids = np.arange(z.size, dtype=np.int64)
    if top_k is not None and top_k < z.size:
        order = np.argsort(-z, kind="stable")[:top_k]
        ids = np.sort(order)
    if top_p is not None and top_p < 1.0:
        probs = softmax(z[ids])
        order = np.argsort(-probs, kind="stable")
        mass_before = np.cumsum(probs[order]) - probs[order]
        ids = np.sort(ids[order[mass_before < top_p]])
    if min_p is not None and min_p > 0.0:
        probs = softmax(z[ids])
        ids = ids[probs >= min_p * probs.max()]
    if ids.size == 0:  # cannot happen with the rules above; guarded so that it is never silent
        raise ValueError("vocabulary is empty after filtering")
    return KeptVocab(logits=z[ids], ids=ids)
