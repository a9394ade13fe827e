"""Softmax match of the p-bit chain samplers over a (V, lambda, sweeps) grid: exact evaluator and
Monte Carlo side by side (``make match``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from tqdm import tqdm

from ..analysis.exact import exact_over_sweeps
from ..analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from ..contract.config import HwConfig
from ..samplers.policy import ChainPolicy
from ..samplers.registry import make_sampler
from ..samplers.policy import DEFAULT_SWEEPS
from .logitsets import check_vocab_size, synthetic_logits
from .tables import markdown_table, write_table

__all__ = ["MatchRow", "softmax_match", "recommend_lambda", "MATCH_LAMS", "MATCH_SWEEPS",
           "MATCH_VOCAB_SIZES", "SAMPLER_KINDS", "match_report"]

MATCH_VOCAB_SIZES = (16, 32, 64)
MATCH_LAMS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
MATCH_SWEEPS = (10, 20, 40, 80)
SAMPLER_KINDS = ("gibbs", "hw")  # the chain samplers the grid varies


@dataclass(frozen=True)
class MatchRow:
    """One (sampler, V, lambda, sweeps) point of the softmax-match experiment."""

    sampler: str
    vocab_size: int
    lam: float
    sweeps: int
    tv: float                    # exact TV to softmax (ideal RNG)
    kl: float                    # exact KL(softmax || sampler), nats
    invalid_per_attempt: float   # P(a chain run reads out a non-one-hot state)
    fallback: float              # P(token fell back to argmax) = per-token invalid rate
    updates_per_token: float     # expected p-bit updates per token, restarts included
    truncation_bound: float      # TV bound of the exact evaluator's truncation
    mc_tv: float                 # TV of mc_tokens real samples (real RNG) to softmax
    mc_noise_floor: float        # expected TV of mc_tokens ideal samples of the exact law
    ms_per_token: float          # wall time per sampled token, this machine


def softmax_match(vocab_sizes: Sequence[int] = MATCH_VOCAB_SIZES,
                  lams: Sequence[float] = MATCH_LAMS, sweeps_grid: Sequence[int] = MATCH_SWEEPS,
                  samplers: Sequence[str] = SAMPLER_KINDS, cfg: HwConfig | None = None,
                  mc_tokens: int = 1000, seed: int = 0, progress: bool = True) -> list[MatchRow]:
    """Exact and Monte Carlo agreement with softmax over a (V, lambda, sweeps) grid.

    Logits: :func:`pysampler.experiments.logitsets.synthetic_logits` (Normal(0, 2**2), seed ``seed``).
    Exact figures use one propagation per (sampler, V, lambda) read out at every sweep count.
    """
    cfg = HwConfig() if cfg is None else cfg
    for v in vocab_sizes:
        check_vocab_size(v, cfg)
    rows: list[MatchRow] = []
    jobs = [(kind, v, lam) for v in vocab_sizes for kind in samplers for lam in lams]
    for kind, v, lam in tqdm(jobs, desc="softmax match", disable=not progress):
        logits = synthetic_logits(v, seed)
        probe = make_sampler(kind, cfg, ChainPolicy(lam=lam, sweeps=max(sweeps_grid)), seed=seed)
        for sweeps, exact in zip(sweeps_grid, exact_over_sweeps(probe, logits, sweeps_grid)):
            sampler = make_sampler(kind, cfg, ChainPolicy(lam=lam, sweeps=sweeps), seed=seed)
            sampler.sample(logits)  # compile / warm caches outside the timing
            sampler.reset_stats()
            start = time.perf_counter()
            draws = [sampler.sample(logits) for _ in range(mc_tokens)]
            elapsed = time.perf_counter() - start
            rows.append(MatchRow(
                kind, v, float(lam), int(sweeps), exact.tv, exact.kl, exact.invalid_per_attempt,
                exact.fallback, exact.expected_updates, exact.truncation_bound,
                total_variation(exact.target, empirical_distribution(draws, v)),
                tv_noise_floor(exact.probs, mc_tokens), 1e3 * elapsed / mc_tokens))
    return rows


def recommend_lambda(rows: Iterable[MatchRow], sweeps: int, max_fallback: float = 0.01
                     ) -> dict[tuple[str, int], MatchRow]:
    """Per (sampler, V): the row at ``sweeps`` with the smallest exact TV among those whose
    per-token fallback rate is below ``max_fallback``."""
    best: dict[tuple[str, int], MatchRow] = {}
    for row in rows:
        if row.sweeps != sweeps or row.fallback >= max_fallback:
            continue
        key = (row.sampler, row.vocab_size)
        if key not in best or row.tv < best[key].tv:
            best[key] = row
    return best


def match_report(out: Path, *, vocab_sizes: Sequence[int] = MATCH_VOCAB_SIZES,
                 cfg: HwConfig | None = None, config_name: str = "default",
                 mc_tokens: int = 1000, quick: bool = False, seed: int = 0) -> str:
    """Run the softmax match, write ``out/match.md`` and ``out/match.csv``; returns the summary
    (recommended lambda per V) as Markdown."""
    lams, sweeps = ((2.0, 3.0, 4.0), (20, 40)) if quick else (MATCH_LAMS, MATCH_SWEEPS)
    rows = softmax_match(tuple(vocab_sizes), lams, sweeps, cfg=cfg, mc_tokens=mc_tokens, seed=seed)
    at = DEFAULT_SWEEPS if DEFAULT_SWEEPS in sweeps else max(sweeps)
    best = sorted(recommend_lambda(rows, at).values(), key=lambda r: (r.vocab_size, r.sampler))
    header = (f"# Softmax match\n\nCommand: `pysampler match` (`make match`). Logits: "
              f"Normal(0, 2^2), seed {seed}. HwConfig: `{config_name}`. Exact figures assume "
              f"an ideal RNG; MC figures use {mc_tokens} tokens from the real sampler.\n\n"
              f"## Recommended lambda per V at {at} sweeps (smallest exact TV with per-token "
              f"fallback < 1%)\n\n{markdown_table(best)}\n## Full grid\n\n")
    csv_path, md_path = write_table(rows, out, "match", header)
    return header.split("## Full grid")[0] + f"\nwrote {md_path} and {csv_path}"
