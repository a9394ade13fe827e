"""Evaluate a sampler on one row at any vocabulary size: exact where its law allows, Monte Carlo
with the real generator beyond that, in bounded time.

Every sampler states how far its exact law reaches (:attr:`TokenSampler.exact_limit`: softmax, the
tree and samplers whose law is a closed form have none; the p-bit chains propagate their state law
up to 64 kept tokens). Within it, :func:`evaluate_row` scores :meth:`TokenSampler.law` against the
softmax of the kept logits. Beyond it, the sampler draws tokens with its real generator, in
batches of the row repeated (:meth:`TokenSampler.sample_kept_batch`, lanes 0 .. B-1, each
generator running on from batch to batch; B fixed by V, so the draws do not depend on the
machine's speed, only how many of them there are) until ``mc_tokens`` tokens or ``mc_seconds``
seconds, whichever comes first, and the empirical law is
scored with the noise floor of that many samples beside it (:func:`.metrics.tv_noise_floor`: the
expected TV of as many exact samples, so a TV at the floor says nothing beyond "within noise").
The evaluator never asks what type a sampler is.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..samplers.base import TokenSampler
from ..samplers.filtering import KeptBatch, KeptVocab
from .exact import score_law
from .metrics import empirical_distribution, total_variation, tv_noise_floor

__all__ = ["RowEvaluation", "evaluate_row", "EXACT", "MONTE_CARLO", "MC_TOKENS", "MC_SECONDS"]

EXACT, MONTE_CARLO = "exact", "monte carlo"
MC_TOKENS = 2000
MC_SECONDS = 10.0
MC_BATCH_LOGITS = 1 << 21  # logits per Monte Carlo batch (B x V, 16 MB of float64)


@dataclass(frozen=True)
class RowEvaluation:
    """One sampler on one row.

    Attributes
    ----------
    method : "exact" or "monte carlo"
    tv : float
        TV to the softmax of the kept logits: exact (ideal randomness), or of the empirical law of
        ``tokens`` draws with the real generator.
    kl : float
        KL(softmax || law) in nats; NaN for Monte Carlo (an unseen token makes it infinite).
    noise_floor : float
        Expected TV of ``tokens`` exact samples (0 for exact): a Monte Carlo TV within it is noise.
    tokens : int
        Monte Carlo draws (0 for exact).
    fallback, invalid_per_attempt, expected_attempts : float
        Per token, per chain run, chain runs per token (exact, or the measured frequencies).
    work_per_token : float
        In the sampler's ``work_unit`` (p-bit updates, decisions).
    rtl_clocks : float or None
        RTL clock cycles per token (None: the sampler has no core).
    truncation_bound : float
        TV bound of the exact evaluation's truncation (0 when exact or Monte Carlo).
    seconds : float
        Wall time of the evaluation.
    """

    method: str
    tv: float
    kl: float
    noise_floor: float
    tokens: int
    fallback: float
    invalid_per_attempt: float
    expected_attempts: float
    work_per_token: float
    rtl_clocks: float | None
    truncation_bound: float
    seconds: float


def _exact(sampler: TokenSampler, kept: KeptVocab, start: float) -> RowEvaluation:
    r = score_law(kept, sampler.law(kept))
    return RowEvaluation(EXACT, r.tv, r.kl, 0.0, 0, r.fallback, r.invalid_per_attempt,
                         r.expected_attempts, r.expected_updates, r.rtl_clocks,
                         r.truncation_bound, time.perf_counter() - start)


def _monte_carlo(sampler: TokenSampler, kept: KeptVocab, mc_tokens: int, mc_seconds: float,
                 start: float) -> RowEvaluation:
    sampler.reset_stats()
    width = int(np.clip(MC_BATCH_LOGITS // kept.size, 1, 256))
    draws: list[np.ndarray] = []
    n = 0
    while n < mc_tokens and (not n or time.perf_counter() - start < mc_seconds):
        rows = min(width, mc_tokens - n)
        batch = KeptBatch(np.broadcast_to(kept.logits, (rows, kept.size)),
                          np.ones((rows, kept.size), dtype=bool))
        draws.append(sampler.sample_kept_batch(batch))  # positions in kept, 0 .. size-1
        n += rows
    index = np.concatenate(draws)
    target = kept.target()
    stats = sampler.stats
    work = stats.updates / n
    attempts = stats.attempts / n
    return RowEvaluation(MONTE_CARLO, total_variation(target, empirical_distribution(index,
                                                                                     kept.size)),
                         float("nan"), tv_noise_floor(target, n), n, stats.fallbacks / n,
                         stats.invalid_attempts / max(stats.attempts, 1), attempts, work,
                         sampler.rtl_clocks(kept, work, attempts), 0.0,
                         time.perf_counter() - start)


def evaluate_row(sampler: TokenSampler, kept: KeptVocab, *, mc_tokens: int = MC_TOKENS,
                 mc_seconds: float = MC_SECONDS, seed: int | None = None) -> RowEvaluation:
    """``sampler`` on the reduced vocabulary ``kept``: its exact law where ``kept.size`` is within
    ``sampler.exact_limit``, else Monte Carlo with the real generator (at most ``mc_tokens``
    tokens; no new batch after ``mc_seconds``; at least one batch).

    Monte Carlo resets the sampler's statistics, and reseeds it first when ``seed`` is given.
    """
    if mc_tokens < 1 or not mc_seconds > 0:
        raise ValueError(f"mc_tokens must be >= 1 and mc_seconds > 0, got {mc_tokens!r}, "
                         f"{mc_seconds!r}")
    start = time.perf_counter()
    limit = sampler.exact_limit
    if limit is None or kept.size <= limit:
        return _exact(sampler, kept, start)
    if seed is not None:
        sampler.reseed(seed)
    return _monte_carlo(sampler, kept, mc_tokens, mc_seconds, start)
