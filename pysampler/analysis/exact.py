"""The exact evaluator: the law of the token a sampler emits, against softmax, for one logit row.

Each sampler states its own law (:meth:`pysampler.samplers.base.TokenSampler.law`): the p-bit
chains by propagating the probability of every chain state through the sweep kernel under ideal
randomness (:mod:`pysampler.engines.propagate`, up to 64 kept tokens, with a stated truncation
bound), the tree as the product of its decisions' LUT probabilities, softmax as itself. This module
reduces the vocabulary, asks the sampler, and scores the result (TV, KL) against the exact softmax
of the kept logits; it never asks what type a sampler is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from ..engines.propagate import MAX_EXACT_VOCAB
from ..samplers.base import TokenLaw, TokenSampler, as_float_array
from ..samplers.filtering import KeptVocab, reduce_vocab
from .metrics import kl_divergence, total_variation

__all__ = ["MAX_EXACT_VOCAB", "ExactResult", "exact_token_distribution", "exact_over_sweeps",
           "score_law"]


@dataclass(frozen=True)
class ExactResult:
    """Exact law of the token a sampler emits for one logit row.

    Attributes
    ----------
    token_ids : (V,) int64, kept token ids
    probs : (V,) float64, P(emit token_ids[k]), argmax-fallback mass included; sums to 1
    target : (V,) float64, the softmax of the kept (temperature-scaled) logits
    tv, kl : TV(target, probs) and KL(target || probs) in nats
    invalid_per_attempt : P(one chain run reads out a non-one-hot state)
    fallback : P(all attempts invalid -> argmax)
    expected_attempts : expected chain runs per token
    expected_updates : expected work per token in the sampler's ``work_unit`` (p-bit updates,
        restarts included; p-bit decisions for the tree)
    rtl_clocks : expected RTL clock cycles per token (None: the sampler has no RTL core)
    truncation_bound : TV bound of the popcount truncation (0 when exact)
    """

    token_ids: np.ndarray
    probs: np.ndarray
    target: np.ndarray
    tv: float
    kl: float
    invalid_per_attempt: float
    fallback: float
    expected_attempts: float
    expected_updates: float
    truncation_bound: float
    rtl_clocks: float | None = None


def score_law(kept: KeptVocab, law: TokenLaw) -> ExactResult:
    """A sampler's law for ``kept`` scored against the softmax of the kept logits."""
    target = kept.target()
    return ExactResult(kept.ids, law.probs, target, total_variation(target, law.probs),
                       kl_divergence(target, law.probs), law.invalid_per_attempt, law.fallback,
                       law.expected_attempts, law.expected_work, law.truncation_bound,
                       law.rtl_clocks)


def _kept(logits: Any, filters: dict) -> KeptVocab:
    z, _ = as_float_array(logits)
    return reduce_vocab(z, **filters)


def exact_token_distribution(sampler: TokenSampler, logits: Any, *, temperature: float = 1.0,
                             top_k: int | None = None, top_p: float | None = None,
                             min_p: float | None = None, max_popcount: int | None = None
                             ) -> ExactResult:
    """Exact law of the token ``sampler.sample(logits, ...)`` emits, under ideal randomness.

    ``max_popcount`` (chain samplers only) truncates the tracked chain states; the bound is
    reported as ``truncation_bound``.
    """
    kept = _kept(logits, dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p))
    sampler.check_kept_size(kept.size)
    law = sampler.law(kept) if max_popcount is None else sampler.law(kept,
                                                                      max_popcount=max_popcount)
    return score_law(kept, law)


def exact_over_sweeps(sampler: TokenSampler, logits: Any, sweeps_grid: Sequence[int], *,
                      max_popcount: int | None = None, **filters: Any) -> list[ExactResult]:
    """:func:`exact_token_distribution` of a chain sampler with ``sweeps`` set to each value of
    ``sweeps_grid`` (read off one propagation where the policy allows it)."""
    kept = _kept(logits, filters)
    sampler.check_kept_size(kept.size)
    options = {} if max_popcount is None else {"max_popcount": max_popcount}
    return [score_law(kept, law)
            for law in sampler.laws_over_sweeps(kept, [int(s) for s in sweeps_grid], **options)]
