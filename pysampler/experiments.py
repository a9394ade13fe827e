"""Experiments: softmax match of the token samplers, and Ising convergence of the array.

Both write Markdown and CSV tables under a results folder; ``python -m pysampler.experiments``
and the ``pysampler`` CLI run them.
"""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from tqdm import tqdm

from .config import HwConfig
from .exact import exact_over_sweeps
from .logitsets import random_ising, synthetic_logits
from .metrics import empirical_distribution, ess_ips, kl_divergence, total_variation, tv_noise_floor
from .model import BitAccurateModel
from .fixedpoint import dequantize
from .program import ising_program, qubo_to_spin
from .reference import ising_energy, ising_exact, ising_gibbs, state_codes
from .samplers import GibbsSampler, HardwareSampler

__all__ = [
    "MatchRow", "softmax_match", "recommend_lambda", "IsingRow", "ising_convergence",
    "write_table", "write_csv", "markdown_table", "MATCH_LAMS", "MATCH_SWEEPS", "MATCH_VOCAB_SIZES",
]

MATCH_VOCAB_SIZES = (16, 32, 64)
MATCH_LAMS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
MATCH_SWEEPS = (10, 20, 40, 80)
SAMPLER_KINDS = ("gibbs", "hw")


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


def _make_sampler(kind: str, lam: float, sweeps: int, cfg: HwConfig, seed: int):
    if kind == "gibbs":
        return GibbsSampler(lam=lam, sweeps=sweeps, seed=seed)
    if kind == "hw":
        return HardwareSampler(cfg, lam=lam, sweeps=sweeps, seed=seed)
    raise ValueError(f"sampler must be one of {SAMPLER_KINDS}, got {kind!r}")


def softmax_match(vocab_sizes: Sequence[int] = MATCH_VOCAB_SIZES,
                  lams: Sequence[float] = MATCH_LAMS, sweeps_grid: Sequence[int] = MATCH_SWEEPS,
                  samplers: Sequence[str] = SAMPLER_KINDS, cfg: HwConfig | None = None,
                  mc_tokens: int = 1000, seed: int = 0, progress: bool = True) -> list[MatchRow]:
    """Exact and Monte Carlo agreement with softmax over a (V, lambda, sweeps) grid.

    Logits: :func:`pysampler.logitsets.synthetic_logits` (Normal(0, 2**2), seed ``seed``).
    Exact figures use one propagation per (sampler, V, lambda) read out at every sweep count.
    """
    cfg = HwConfig() if cfg is None else cfg
    rows: list[MatchRow] = []
    jobs = [(kind, v, lam) for v in vocab_sizes for kind in samplers for lam in lams]
    for kind, v, lam in tqdm(jobs, desc="softmax match", disable=not progress):
        logits = synthetic_logits(v, seed)
        probe = _make_sampler(kind, lam, max(sweeps_grid), cfg, seed)
        for sweeps, exact in zip(sweeps_grid, exact_over_sweeps(probe, logits, sweeps_grid)):
            sampler = _make_sampler(kind, lam, sweeps, cfg, seed)
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


@dataclass(frozen=True)
class IsingRow:
    """Exact Boltzmann distribution vs a sampler on one Ising model."""

    sampler: str
    n_spins: int
    samples: int
    tv: float               # TV(exact law of the program the sampler runs, empirical)
    kl: float               # KL(that exact law || empirical), nats
    noise_floor: float      # expected TV of that many independent exact samples
    ess: float              # ESS of the energy trace (initial positive sequence, all chains)
    tv_to_float: float      # TV(exact float Boltzmann, empirical): adds the quantization bias
    tv_quantization: float  # TV(exact float law, exact law of the quantized program); 0 for float


def _ising_model_codes(J, h, cfg: HwConfig, n_chains: int, sweeps: int, burn_in: int, seed: int
                       ) -> np.ndarray:
    program = ising_program(J, h, cfg)
    model = BitAccurateModel(program, n_chains, seed=seed, init="zeros")
    if burn_in:
        model.run(burn_in)
    codes = np.empty((n_chains, sweeps), dtype=np.int64)
    for t in range(sweeps):
        model.run(1)
        codes[:, t] = state_codes(model.y)
    return codes


def ising_convergence(sizes: Sequence[int] = (8, 12), cfg: HwConfig | None = None,
                      n_chains: int = 2048, sweeps: int = 2000, burn_in: int = 100,
                      seed: int = 0, progress: bool = True) -> list[IsingRow]:
    """Float Gibbs and the bit-accurate model against exact enumeration on random Ising models
    (:func:`pysampler.logitsets.random_ising`), beta = cfg.beta."""
    cfg = HwConfig() if cfg is None else cfg
    rows = []
    for n in tqdm(sizes, desc="ising", disable=not progress):
        J, h = random_ising(n, seed)
        exact, _ = ising_exact(J, h, cfg.beta)
        program = ising_program(J, h, cfg)
        Jq, hq, _ = qubo_to_spin(dequantize(program.J, cfg.frac_bits),
                                 dequantize(program.h, cfg.frac_bits))
        exact_q, _ = ising_exact(Jq, hq, cfg.beta)
        all_codes = np.arange(1 << n)
        spins = 2.0 * ((all_codes[:, None] >> np.arange(n)) & 1) - 1.0
        energy_of_code = ising_energy(spins, J, h)
        runs = {
            "gibbs": ising_gibbs(J, h, beta=cfg.beta, sweeps=sweeps, n_chains=n_chains,
                                 rng=np.random.default_rng([seed, n]), burn_in=burn_in),
            "hw": _ising_model_codes(J, h, cfg, n_chains, sweeps, burn_in, seed),
        }
        for kind, codes in runs.items():
            emp = empirical_distribution(codes, 1 << n)
            law = exact_q if kind == "hw" else exact
            rows.append(IsingRow(
                kind, n, codes.size, total_variation(law, emp), kl_divergence(law, emp),
                tv_noise_floor(law, codes.size), ess_ips(energy_of_code[codes]),
                total_variation(exact, emp), total_variation(exact, law)))
    return rows


def markdown_table(rows: Sequence, formats: dict[str, str] | None = None) -> str:
    """A Markdown table of dataclass rows (floats with 4 significant digits by default)."""
    if not rows:
        return "(no rows)\n"
    names = [f.name for f in fields(rows[0])]
    formats = formats or {}
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        cells = []
        for name, value in asdict(row).items():
            if isinstance(value, float):
                cells.append(format(value, formats.get(name, ".4g")))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence, path: Path) -> Path:
    """Dataclass rows as CSV (a header of field names, one line per row); creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(rows[0])])
        for row in rows:
            writer.writerow(list(asdict(row).values()))
    return path


def write_table(rows: Sequence, out_dir: Path, stem: str, header: str = "") -> tuple[Path, Path]:
    """Write ``stem.csv`` and ``stem.md`` under ``out_dir``; returns their paths."""
    csv_path, md_path = write_csv(rows, out_dir / f"{stem}.csv"), out_dir / f"{stem}.md"
    md_path.write_text(header + markdown_table(rows))
    return csv_path, md_path


if __name__ == "__main__":
    from .cli import main

    main()
