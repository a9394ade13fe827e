"""Ground-state search by annealing: residual energy per spin against sweeps, the emulated graph
core and its float reference (the same 16-entry beta table) beside simulated annealing in float
(Metropolis, a smooth per-sweep schedule).

For every run length S of ``sweeps``, each method anneals ``chains`` independent chains from
beta_min to beta_max over S sweeps and reports, over the chains, the residual energy per spin
(E - E_ref) / n (mean and its standard error, the chains being independent), the best one, and
the fraction of chains within 1e-9 of E_ref. E_ref is the exact ground-state energy (Gray-code
enumeration, :mod:`pysampler.engines.ground`) up to ``MAX_EXACT_UNITS`` spins; above it, the
lowest energy any run found, a long simulated anneal included (``reference_sweeps``): a
residual of 0 there means "as good as the best we found", not the ground state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np

from ..contract.config import HwConfig
from ..contract.graph import colour_graph
from ..contract.validation import check_int
from ..engines.ground import ising_energies, ising_ground_state
from ..engines.metropolis import metropolis_anneal
from ..tsu import EmulatedBackend, FloatBackend, anneal, anneal_schedule, sweep_betas
from .instances import Instance

__all__ = ["METHODS", "MAX_EXACT_UNITS", "ANNEAL_CFG", "CurvePoint", "AnnealCurves",
           "anneal_curves", "method_cost"]

METHODS = ("emulated", "float", "sa")
MAX_EXACT_UNITS = 20
# 14-bit weights at 4 fractional bits (LSB 1/16): the Max-Cut fields 2 * degree * beta_max
# (up to 342 at degree 57 and beta 3) fit without saturating (the programs are built strict)
ANNEAL_CFG = HwConfig(weight_bits=14)
_GROUND_TOL = 1e-9


@dataclass(frozen=True)
class CurvePoint:
    """One (method, run length) of a residual-energy curve (per spin, E_ref subtracted)."""

    method: str
    sweeps: int
    mean: float
    stderr: float
    best: float
    p_ground: float


@dataclass
class AnnealCurves:
    """An instance's curves: its reference energy, whether that is exact, and the points."""

    instance: Instance
    reference: float
    exact: bool
    points: list[CurvePoint] = field(default_factory=list)
    realised_betas: tuple[float, ...] = ()
    n_saturated: int = 0

    def curve(self, method: str) -> list[CurvePoint]:
        return [p for p in self.points if p.method == method]


def method_cost(method: str, instance: Instance, chains: int, sweeps: int) -> float:
    """Work of one run in flips (units x chains x sweeps), for the progress bar."""
    return float(instance.n * chains * sweeps)


def _energies(method: str, instance: Instance, sweeps: int, chains: int, beta_min: float,
              beta_max: float, cfg: HwConfig, seed: int, colours: np.ndarray
              ) -> tuple[np.ndarray, object]:
    if method == "sa":
        spins = metropolis_anneal(instance.J, None, sweep_betas(beta_min, beta_max, sweeps),
                                  chains, seed=seed)
        return ising_energies(spins, instance.J), None
    backend = EmulatedBackend(cfg, strict=True, colouring=colours) if method == "emulated" \
        else FloatBackend(cfg, colouring=colours)
    out = anneal(backend, instance.J, None, anneal_schedule(beta_min, beta_max, sweeps), chains,
                 seed=seed)
    return out.energies, out


def anneal_curves(instance: Instance, sweeps: Sequence[int], chains: int, *,
                  beta_min: float, beta_max: float, cfg: HwConfig = ANNEAL_CFG,
                  methods: Sequence[str] = METHODS, seed: int = 0,
                  reference_sweeps: int = 0,
                  progress: Callable[[float], None] | None = None) -> AnnealCurves:
    """Residual energy per spin against run length for each method (module docstring).

    Parameters
    ----------
    instance : Instance
    sweeps : sequence of int
        Run lengths, each >= 1.
    chains : int
        Independent chains per (method, run length), >= 2 (a standard error needs two).
    beta_min, beta_max : float
        The schedule's ends (``anneal_schedule`` checks them: 0 < beta_min <= beta_max,
        span <= 128).
    cfg : HwConfig
        The emulated core's widths (programs built with ``strict=True``: a saturating weight is
        an error, not a silent clip).
    methods : sequence of "emulated", "float", "sa"
    reference_sweeps : int
        Above MAX_EXACT_UNITS: the length of the long simulated anneal (8 chains) that joins the
        reference; 0 for none.
    progress : callable, optional
        Called with the flips of each finished run.
    """
    lengths = [check_int("sweeps", s, 1) for s in sweeps]
    if not lengths:
        raise ValueError("sweeps must name at least one run length")
    chains = check_int("chains", chains, 2)
    bad = [m for m in methods if m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {list(methods)}")
    reference_sweeps = check_int("reference_sweeps", reference_sweeps, 0)
    anneal_schedule(beta_min, beta_max, max(lengths))      # refuses a bad range before any run
    exact = instance.n <= MAX_EXACT_UNITS
    edges = np.argwhere(np.triu(instance.J, 1))
    colours = colour_graph(instance.n, edges, "dsatur")   # once: DSATUR takes seconds at n = 800
    runs = {}
    realised, saturated = (), 0
    for method in methods:
        for k, s in enumerate(lengths):
            energies, out = _energies(method, instance, s, chains, beta_min, beta_max, cfg,
                                      seed + 1000 * k, colours)
            runs[method, s] = energies
            if method == "emulated":
                realised, saturated = out.betas, out.n_saturated
            if progress is not None:
                progress(method_cost(method, instance, chains, s))
    if exact:
        reference = ising_ground_state(instance.J).energy
    else:
        reference = min(float(e.min()) for e in runs.values())
        if reference_sweeps:
            long = metropolis_anneal(instance.J, None,
                                     sweep_betas(beta_min, beta_max, reference_sweeps), 8,
                                     seed=seed + 7)
            reference = min(reference, float(ising_energies(long, instance.J).min()))
            if progress is not None:
                progress(method_cost("sa", instance, 8, reference_sweeps))
    curves = AnnealCurves(instance, reference, exact, realised_betas=tuple(realised),
                          n_saturated=saturated)
    n = instance.n
    for (method, s), energies in runs.items():
        r = (energies - reference) / n
        curves.points.append(CurvePoint(method, s, float(r.mean()),
                                        float(r.std(ddof=1) / np.sqrt(len(r))), float(r.min()),
                                        float((energies <= reference + _GROUND_TOL).mean())))
    return curves
