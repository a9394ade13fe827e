"""Vocabulary reduction: temperature, top-k, top-p, min-p, as a *reduction* (no -inf out).

The filters are applied in the order of HF transformers' sampling processors: temperature, then
top-k, then top-p (on the softmax of what top-k kept), then min-p (on the softmax of what top-p kept).
The result is the kept, temperature-scaled logits and their original token ids, in ascending id
order; the p-bit array holds one unit per kept token.

One implementation serves a batch of rows (B, V) at once (:func:`reduce_batch`, numpy over the
whole batch) and a single row (:func:`reduce_vocab`, the same code on a batch of one), so the batch
path keeps exactly the tokens the per-row path keeps.

A ``-inf`` logit means "excluded" (transformers' processors write it for masked tokens: bad words,
forced tokens): the filters drop it, and a row with no finite logit is an error. NaN and ``+inf``
are errors.

Differences from HF, on purpose: top-k keeps exactly k tokens (ties broken towards the lower id;
HF keeps every token tied with the k-th), since the array has a fixed number of units.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike
from scipy.special import softmax

from ..contract.validation import check_int

__all__ = ["KeptVocab", "KeptBatch", "reduce_vocab", "reduce_batch", "check_filters"]


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


@dataclass(frozen=True)
class KeptBatch:
    """Kept tokens of B distributions over one vocabulary of V tokens.

    Attributes
    ----------
    logits : np.ndarray of float64, shape (B, V)
        Every logit divided by the temperature (-inf where the input was -inf).
    mask : np.ndarray of bool, shape (B, V)
        Kept tokens; each row keeps at least one.
    """

    logits: np.ndarray
    mask: np.ndarray

    @property
    def n_rows(self) -> int:
        return int(self.mask.shape[0])

    @property
    def sizes(self) -> np.ndarray:
        """Kept tokens per row, int64 (B,)."""
        return self.mask.sum(axis=1, dtype=np.int64)

    def row(self, b: int) -> KeptVocab:
        """Row ``b`` as a :class:`KeptVocab` (kept logits and ids, ascending)."""
        ids = np.flatnonzero(self.mask[b]).astype(np.int64)
        return KeptVocab(logits=self.logits[b, ids], ids=ids)

    def compact(self, width: int | None = None, fill: float = -np.inf
                ) -> tuple[np.ndarray, np.ndarray]:
        """The kept logits and ids of every row packed to the left, ascending ids:
        (logits (B, W), ids (B, W)), W = ``width`` or the largest kept size; the rest of each row
        is ``fill`` (logits) and -1 (ids). Read-only views when every token is kept."""
        sizes = self.sizes
        w = int(sizes.max()) if width is None else int(width)
        if w < sizes.max():
            raise ValueError(f"width must be >= the largest kept size {int(sizes.max())}, got {w}")
        if w == self.mask.shape[1] and sizes.min() == w:  # every token kept: nothing to move
            return self.logits, np.broadcast_to(np.arange(w, dtype=np.int64), (self.n_rows, w))
        logits = np.full((self.n_rows, w + 1), fill, dtype=np.float64)
        ids = np.full((self.n_rows, w + 1), -1, dtype=np.int64)
        kernel = _compact_parallel if self.mask.size >= PARALLEL_COMPACT else _compact_serial
        kernel(self.mask, self.logits, logits, ids, fill)
        return logits[:, :w], ids[:, :w]


# Threads over rows from this many logits per compaction on: below it, waking numba's thread pool
# costs more than it saves (3 rows of 2,048 logits, one step of the LM loop, took 8 ms threaded on
# a loaded 2-core machine and 0.004 ms serial; serial compaction runs at about 0.6 ns a logit, so
# this threshold is a few ms of work).
PARALLEL_COMPACT = 1 << 22


@njit(cache=True, inline="always")
def _compact_row(b, mask, z, logits, ids, fill):
    # branch-free: every logit is written at the next free slot, which only a kept one keeps; the
    # slot after a row's last kept token (column W at most: the buffer is one wider) is reset
    k = 0
    for j in range(mask.shape[1]):
        logits[b, k] = z[b, j]
        ids[b, k] = j
        k += np.int64(mask[b, j])
    logits[b, k] = fill
    ids[b, k] = -1


@njit(cache=True, nogil=True)
def _compact_serial(mask, z, logits, ids, fill):
    for b in range(mask.shape[0]):
        _compact_row(b, mask, z, logits, ids, fill)


@njit(cache=True, parallel=True)
def _compact_parallel(mask, z, logits, ids, fill):
    for b in prange(mask.shape[0]):
        _compact_row(b, mask, z, logits, ids, fill)


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


def _masked_softmax(z: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Softmax of each row over its kept entries (0 elsewhere), shape (B, V)."""
    shifted = np.where(mask, z, -np.inf)
    top = shifted.max(axis=1, keepdims=True)
    w = np.exp(shifted - top)
    return w / w.sum(axis=1, keepdims=True)


def _top_k_mask(z: np.ndarray, mask: np.ndarray, k: int) -> np.ndarray:
    """The k largest kept logits of each row, ties towards the lower id (all kept ones where a row
    keeps fewer): everything above the row's k-th largest value, then as many of the ties at that
    value as fit, lowest ids first. O(V) a row (a partition, no sort)."""
    key = np.where(mask, z, -np.inf)
    kth = -np.partition(-key, k - 1, axis=1)[:, k - 1:k]          # the k-th largest, (B, 1)
    above = mask & (key > kth)
    ties = mask & (key == kth)
    room = k - above.sum(axis=1, keepdims=True)
    return above | (ties & (np.cumsum(ties, axis=1) <= room))


# top-p looks at this many of a row's most probable tokens first; a row whose nucleus reaches
# past them is sorted in full (the same kept set either way, tested)
TOP_P_CANDIDATES = 1024


def _top_p_mask(probs: np.ndarray, mask: np.ndarray, top_p: float) -> np.ndarray:
    """The smallest high-probability set of each row whose mass reaches ``top_p``: tokens in
    descending probability, ties towards the lower id, kept while the mass before them is below
    top_p. Rows are first cut to their TOP_P_CANDIDATES most probable tokens (a partition); that
    gives the full sort's set wherever every kept token is strictly more probable than the least
    candidate (then all tokens up to the cut-off are candidates, in the same order, and the
    cumulative sums are the same floats); the other rows are sorted in full."""
    key = np.where(mask, -probs, np.inf)
    n_rows, vocab = probs.shape
    keep = np.zeros_like(mask)
    pending = np.arange(n_rows)
    m = TOP_P_CANDIDATES
    if m < vocab:
        cand = np.argpartition(key, m - 1, axis=1)[:, :m]
        cand_key = np.take_along_axis(key, cand, axis=1)
        order = np.take_along_axis(cand, np.lexsort((cand, cand_key), axis=1), axis=1)
        sorted_probs = np.take_along_axis(probs, order, axis=1)
        mass_before = np.cumsum(sorted_probs, axis=1) - sorted_probs
        kept = mass_before < top_p
        n_kept = kept.sum(axis=1)
        least = -cand_key.max(axis=1)                               # the least candidate's p
        last = sorted_probs[np.arange(n_rows), np.maximum(n_kept - 1, 0)]
        exact = (n_kept < m) & (last > least)
        np.put_along_axis(keep, order, kept & exact[:, None], axis=1)
        pending = np.flatnonzero(~exact)
    if pending.size:
        order = np.argsort(key[pending], axis=1, kind="stable")
        sorted_probs = np.take_along_axis(probs[pending], order, axis=1)
        mass_before = np.cumsum(sorted_probs, axis=1) - sorted_probs
        full = np.zeros((pending.size, vocab), dtype=bool)
        np.put_along_axis(full, order, mass_before < top_p, axis=1)
        keep[pending] = full
    return keep


def reduce_batch(logits: ArrayLike, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, min_p: float | None = None) -> KeptBatch:
    """Reduce rows of logits (B, V) to their kept tokens (arguments as :func:`reduce_vocab`)."""
    check_filters(temperature, top_k, top_p, min_p)
    raw = np.asarray(logits, dtype=np.float64)
    if raw.ndim != 2:
        raise ValueError(f"logits must be 2-D (B, V) for a batch, got shape {raw.shape}")
    if raw.shape[1] == 0:
        raise ValueError("logits is empty: the vocabulary must hold at least one token")
    mask = np.isfinite(raw)
    if not mask.all():
        bad = raw[~mask]
        if np.isnan(bad).any():
            raise ValueError("logits contain NaN")
        if (bad > 0).any():
            raise ValueError("logits contain +inf; a logit must be finite, or -inf to exclude "
                             "a token")
        empty = np.flatnonzero(~mask.any(axis=1))
        if empty.size:
            raise ValueError(f"logits row {int(empty[0])} has no finite logit (all -inf): nothing "
                             f"to sample")
    with np.errstate(over="ignore", invalid="ignore"):
        z = raw / temperature
        spans = np.where(mask, z, -np.inf).max(axis=1) - np.where(mask, z, np.inf).min(axis=1)
    if not np.isfinite(spans).all():
        b = int(np.flatnonzero(~np.isfinite(spans))[0])
        raise ValueError(f"logits row {b} over temperature = {temperature!r} spans more than "
                         f"float64 holds (max - min overflows): scale the logits or raise the "
                         f"temperature")
    vocab = z.shape[1]
    if top_k is not None and top_k < vocab:
        mask &= _top_k_mask(z, mask, top_k)
    if top_p is not None and top_p < 1.0:
        mask &= _top_p_mask(_masked_softmax(z, mask), mask, top_p)
    if min_p is not None and min_p > 0.0:
        probs = _masked_softmax(z, mask)
        mask &= probs >= min_p * probs.max(axis=1, keepdims=True)
    return KeptBatch(logits=z, mask=mask)


def reduce_vocab(logits: ArrayLike, *, temperature: float = 1.0, top_k: int | None = None,
                 top_p: float | None = None, min_p: float | None = None) -> KeptVocab:
    """Reduce one row of logits (V,) to the kept tokens.

    Parameters
    ----------
    logits : array_like of float, shape (V,)
        Finite logits, or -inf for an excluded token (at least one finite). NaN and +inf are
        errors.
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
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"logits must be 1-D (V,), got shape {z.shape}")
    return reduce_batch(z[None, :], temperature=temperature, top_k=top_k, top_p=top_p,
                        min_p=min_p).row(0)
