"""The 2-D Ising ferromagnet against Onsager's exact solution: energy and magnetisation per spin
by Monte Carlo on the emulated graph core and in float, with error bars.

Exact values (J = 1, no field, the infinite square lattice, beta_c = ln(1 + sqrt 2) / 2):

* energy per spin u = -coth(2 beta) [1 + (2 / pi) (2 tanh^2(2 beta) - 1) K(k^2)],
  k = 2 sinh(2 beta) / cosh^2(2 beta), K the complete elliptic integral of the first kind
  (scipy's ``ellipk`` takes the parameter k^2);
* spontaneous magnetisation M = (1 - sinh(2 beta)^-4)^(1/8) below T_c, 0 above.

Monte Carlo: ``chains`` independent chains of an L x L periodic lattice (2 colours) start
ordered (all spins -1), run ``burn_in`` sweeps, then record e = E / n and |m| (m the mean spin:
a finite lattice has <m> = 0, and <|m|> tends to M below T_c and to 0, as L^-1, above) every
``thin`` sweeps for ``samples`` records. Each chain's time average is one independent replica;
the estimate is their mean and its error the standard error over chains, which holds whatever
the autocorrelation within a chain. ``tau`` reports the integrated autocorrelation time of e
(in records) from the batch-means ratio, for information.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
from scipy.special import ellipk

from ..contract.config import HwConfig
from ..contract.graph import graph_program, lattice_edges
from ..contract.validation import check_int
from ..engines.chromatic import ChromaticFloat, ChromaticModel

__all__ = ["BETA_C", "onsager_energy", "onsager_magnetisation", "LatticeEstimate",
           "lattice_estimate", "lattice_program", "effective_coupling", "MAX_LATTICE_SIDE"]

BETA_C = float(np.log(1 + np.sqrt(2)) / 2)
MAX_LATTICE_SIDE = 1024


def _betas(beta) -> np.ndarray:
    b = np.asarray(beta, dtype=np.float64)
    if not np.isfinite(b).all() or (b <= 0).any():
        raise ValueError(f"beta must be finite and > 0, got {beta!r}")
    return b


def onsager_energy(beta) -> np.ndarray:
    """Exact energy per spin of the infinite 2-D Ising ferromagnet (J = 1) at ``beta``."""
    b = _betas(beta)
    k = 2 * np.sinh(2 * b) / np.cosh(2 * b) ** 2
    K = ellipk(np.minimum(k * k, 1.0))
    c = 2 * np.tanh(2 * b) ** 2 - 1
    # at beta_c, k = 1 and K diverges (logarithmically) while c -> 0 linearly: the term is 0
    term = np.where(np.isfinite(K), c * np.where(np.isfinite(K), K, 0.0), 0.0)
    return -1 / np.tanh(2 * b) * (1 + 2 / np.pi * term)


def onsager_magnetisation(beta) -> np.ndarray:
    """Exact spontaneous magnetisation per spin (0 at and above T_c)."""
    b = _betas(beta)
    with np.errstate(divide="ignore", invalid="ignore"):
        m = (1 - np.sinh(2 * b) ** -4) ** 0.125
    return np.where(b > BETA_C, m, 0.0)


def lattice_program(side: int, beta: float, cfg: HwConfig):
    """The side x side periodic ferromagnet (J = 1, h = 0) as a graph program at ``beta``
    (spins, the 2-colour checkerboard), built strict: a saturating weight is an error. Its h' is
    -sum_j J'_q,ij / 2 of the rounded couplings (``graph_program``), so degree 4 leaves no
    field: an Ising model at the realised coupling."""
    side = check_int("side", side, 3, MAX_LATTICE_SIDE)
    n = side * side
    edges = lattice_edges(side, side)
    J = np.zeros((n, n))
    J[edges[:, 0], edges[:, 1]] = 1.0
    colours = (np.arange(n) // side + np.arange(n) % side) % 2 if side % 2 == 0 else "dsatur"
    return graph_program(J + J.T, None, cfg, beta=beta, colouring=colours, strict=True)


def effective_coupling(program) -> tuple[float, float]:
    """(beta_J, beta_h): what the integer program of a uniform ferromagnet realises, in spin
    units: beta_J = J'_q / 4 and the field beta_h = h'_q / 2 + degree * J'_q / 4 (each in
    logits: the integers times cfg.beta 2^-f). In exact arithmetic beta_J = beta and
    beta_h = 0; rounding h' = -2 D beta J and J' = 4 beta J independently leaves a field."""
    lsb = program.cfg.beta * program.cfg.lsb
    Jq = float(program.J[0]) * lsb
    degree = int(program.topology.degree[0])
    return Jq / 4, float(program.h[0]) * lsb / 2 + degree * Jq / 4


@dataclass(frozen=True)
class LatticeEstimate:
    """Monte Carlo estimates (mean, standard error over chains) of one run."""

    engine: str
    side: int
    beta: float
    energy: float
    energy_err: float
    abs_m: float
    abs_m_err: float
    tau: float
    chains: int
    records: int


def _batch_tau(series: np.ndarray) -> float:
    """Integrated autocorrelation time (records) of series (chains, T) from the variance of
    means over batches of T/8 against single records."""
    chains, T = series.shape
    size = max(1, T // 8)
    usable = (T // size) * size
    means = series[:, :usable].reshape(chains, -1, size).mean(axis=2)
    var = series.var(axis=1, ddof=1).mean()
    return float(size * means.var(axis=1, ddof=1).mean() / var) / 2 if var > 0 else 0.0


def lattice_estimate(side: int, beta: float, *, engine: str = "emulated",
                     cfg: HwConfig | None = None, chains: int = 128, burn_in: int = 300,
                     samples: int = 100, thin: int = 10, seed: int = 0,
                     progress: Callable[[float], None] | None = None) -> LatticeEstimate:
    """Energy and |m| per spin of the side x side lattice at ``beta`` on ``engine``
    ("emulated": the bit-accurate chromatic model with ``cfg``; "float": the float chromatic
    chain), module docstring for the method. ``progress`` is called with flips done."""
    cfg = HwConfig() if cfg is None else cfg
    if engine not in ("emulated", "float"):
        raise ValueError(f"engine must be 'emulated' or 'float', got {engine!r}")
    chains = check_int("chains", chains, 2)
    burn_in = check_int("burn_in", burn_in, 0)
    samples = check_int("samples", samples, 2)
    thin = check_int("thin", thin, 1)
    program = lattice_program(side, beta, cfg)
    n = program.n
    make = ChromaticModel if engine == "emulated" else ChromaticFloat
    model = make(program, chains, seed=seed)
    edges = program.topology.edges
    if burn_in:
        model.run(burn_in)
        if progress is not None:
            progress(float(n * chains * burn_in))
    e = np.empty((chains, samples))
    m = np.empty((chains, samples))
    for t in range(samples):
        model.run(thin)
        s = 2.0 * model.y - 1.0
        m[:, t] = np.abs(s.mean(axis=1))
        e[:, t] = -(s[:, edges[:, 0]] * s[:, edges[:, 1]]).sum(axis=1) / n
        if progress is not None:
            progress(float(n * chains * thin))
    per_e, per_m = e.mean(axis=1), m.mean(axis=1)
    root = np.sqrt(chains)
    return LatticeEstimate(engine, int(side), float(beta), float(per_e.mean()),
                           float(per_e.std(ddof=1) / root), float(per_m.mean()),
                           float(per_m.std(ddof=1) / root), _batch_tau(e), chains, samples)
