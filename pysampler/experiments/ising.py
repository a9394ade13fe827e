"""Ising convergence of the p-bit array: exact enumeration against float Gibbs and the
bit-accurate model on random Ising models (``make ising``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..analysis.metrics import (empirical_distribution, ess_ips, kl_divergence, total_variation,
                                tv_noise_floor)
from ..contract.config import HwConfig
from ..contract.validation import check_int
from ..contract.fixedpoint import dequantize
from ..contract.program import ising_program, qubo_to_spin
from ..engines.array import BitAccurateModel
from ..engines.reference import ising_energy, ising_exact, ising_gibbs, state_codes
from .logitsets import random_ising
from .tables import markdown_table, write_table

__all__ = ["IsingRow", "ising_convergence", "ising_report", "MAX_ISING_SPINS", "MAX_RECORDED"]

MAX_ISING_SPINS = 16  # exact enumeration
MAX_RECORDED = 1 << 27  # chains x sweeps states an Ising run keeps (1 GB of int64 codes)


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
    (:func:`pysampler.experiments.logitsets.random_ising`) at inverse temperature 1 (the program
    compensates the hardware's gain ``cfg.beta``). Every chain's state after every sweep is
    kept: ``n_chains x sweeps`` is bounded by :data:`MAX_RECORDED` (8 bytes each)."""
    cfg = HwConfig() if cfg is None else cfg
    for n in sizes:
        check_int(f"n (spins; exact enumeration takes at most {MAX_ISING_SPINS})", n, 1,
                  min(MAX_ISING_SPINS, cfg.n_pbits))
    if n_chains * sweeps > MAX_RECORDED:
        raise ValueError(f"chains x sweeps = {n_chains} x {sweeps} states recorded, more than "
                         f"{MAX_RECORDED:,}: fewer chains or sweeps")
    rows = []
    for n in tqdm(sizes, desc="ising", disable=not progress):
        J, h = random_ising(n, seed)
        exact, _ = ising_exact(J, h)
        program = ising_program(J, h, cfg)
        Jq, hq, _ = qubo_to_spin(dequantize(program.J, cfg.frac_bits),
                                 dequantize(program.h, cfg.frac_bits))
        exact_q, _ = ising_exact(Jq, hq, cfg.beta)  # the fields' law at the sigmoid's gain
        all_codes = np.arange(1 << n)
        spins = 2.0 * ((all_codes[:, None] >> np.arange(n)) & 1) - 1.0
        energy_of_code = ising_energy(spins, J, h)
        runs = {
            "gibbs": ising_gibbs(J, h, sweeps=sweeps, n_chains=n_chains,
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


def ising_report(out: Path, *, sizes: Sequence[int] = (8, 12), cfg: HwConfig | None = None,
                 config_name: str = "default", n_chains: int = 2048, sweeps: int = 2000,
                 seed: int = 0) -> str:
    """Run :func:`ising_convergence`, write ``out/ising.md`` and ``out/ising.csv``; returns the
    table as Markdown."""
    cfg = HwConfig() if cfg is None else cfg
    rows = ising_convergence(sizes, cfg, n_chains=n_chains, sweeps=sweeps, seed=seed)
    header = (f"# Ising convergence\n\nCommand: `pysampler ising` (`make ising`). Models: "
              f"`random_ising(n, seed={seed})`, beta = 1; HwConfig `{config_name}`; "
              f"{n_chains} chains x {sweeps} sweeps after 100 burn-in sweeps.\n\n")
    csv_path, md_path = write_table(rows, out, "ising", header)
    return header + markdown_table(rows) + f"\nwrote {md_path} and {csv_path}"
