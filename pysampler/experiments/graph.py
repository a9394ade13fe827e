"""The p-bit array as a general sampler, issue 20's report (``pysampler graph``, ``make graph``):
results/graph.md, graph.json and the plots graph_{exact,onsager,anneal,speed}.png.

Four sections, each its own function:

* ``exact``: small graph programs (n <= 12) whose laws are known exactly: the float chain against
  exp(-b E) / Z, the emulated core against the stationary law of its own sweep kernel (and that
  law against exp(-b E) / Z: the exact cost of fixed point), thrml where installed; each Monte
  Carlo TV beside the noise floor of as many independent samples. A once-stepped LFSR is the
  negative control (it must fail).
* ``onsager``: the 2-D ferromagnet's energy and |m| per spin against Onsager, float and emulated
  at several widths, with the couplings each width realises (:mod:`.onsager`).
* ``anneal``: residual energy per spin against sweeps on Max-Cut and 3-D spin glasses, the
  emulated core and its float reference beside simulated annealing (:mod:`.anneal`).
* ``speed``: flips per second on the 64x64 lattice (bench's :func:`graph_rates`, thrml beside
  ours where installed) against the published p-bit, GPU and thrml figures
  (/work/shared/ANCHORS.md).

A tqdm bar counts the planned flips (units x chains x sweeps) and, off a terminal, prints one
line at most every 30 s, so a log stays readable.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from tqdm import tqdm

from ..analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from ..contract.config import PRESETS, HwConfig
from ..contract.graph import graph_program, lattice_edges
from ..engines.chromatic import ChromaticFloat, ChromaticModel, boltzmann_law, exact_sweep_law
from ..engines.ground import ising_ground_state
from ..engines.reference import state_codes
from ..tsu.thrml_backend import ThrmlEngine, thrml_available
from .anneal import ANNEAL_CFG, AnnealCurves, anneal_curves
from .bench import graph_rates
from .instances import Instance, ea3d_instance, maxcut_instance
from .onsager import (BETA_C, LatticeEstimate, effective_coupling, lattice_estimate,
                      lattice_program, onsager_energy, onsager_magnetisation)
from .tables import markdown_table

__all__ = ["SECTIONS", "GraphPlan", "FULL", "QUICK", "ExactRow", "OnsagerRow", "AnnealRow",
           "SpeedRow", "ANCHORS", "exact_checks", "onsager_rows", "anneal_rows", "speed_rows",
           "graph_report", "parse_sections"]

SECTIONS = ("exact", "onsager", "anneal", "speed")


def parse_sections(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """Sections to run, from a comma-separated string or a sequence (None: all), in report
    order; an unknown or empty name is an error naming the allowed ones."""
    if text is None:
        return SECTIONS
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text)]
    bad = [s for s in names if s not in SECTIONS]
    if bad or not names:
        raise ValueError(f"sections must be a comma-separated subset of {','.join(SECTIONS)}, "
                         f"got {bad or names!r}")
    return tuple(s for s in SECTIONS if s in names)


@dataclass(frozen=True)
class GraphPlan:
    """The sizes of one report run (:data:`FULL` and :data:`QUICK`)."""

    exact_chains: int
    exact_sweeps: int
    onsager_side: int
    onsager_betas: tuple[float, ...]
    onsager_configs: tuple[tuple[str, HwConfig | None], ...]
    onsager_chains: int
    onsager_burn_in: int
    onsager_samples: int
    onsager_thin: int
    anneal_instances: tuple[tuple[str, tuple, float, float], ...]
    anneal_sweeps: tuple[int, ...]
    anneal_chains: int
    anneal_reference_sweeps: int
    speed_side: int
    speed_cases: tuple[tuple[int, int], ...]
    speed_repeats: int


# (name, HwConfig or None for float) of the Onsager rows
_WIDTHS = (("float", None),
           ("emulated default (10/4 bits, P=16)", HwConfig()),
           ("emulated frac_bits=2 (8/2 bits)", HwConfig(weight_bits=8, frac_bits=2)),
           ("emulated frac_bits=6 (12/6 bits)", HwConfig(weight_bits=12, frac_bits=6)),
           ("emulated prob_bits=8 (P=8, 8 steps)", HwConfig(prob_bits=8)),
           ("emulated LFSR stepped once a draw", HwConfig(rng_steps=1)))

FULL = GraphPlan(
    exact_chains=20_000, exact_sweeps=40,
    onsager_side=32, onsager_betas=(0.3, 0.4, 0.5, 0.6), onsager_configs=_WIDTHS,
    onsager_chains=128, onsager_burn_in=300, onsager_samples=200, onsager_thin=10,
    anneal_instances=(("maxcut", (20, 0.3), 0.05, 3.0), ("ea3d", (2, 2, 5), 0.1, 3.0),
                      ("ea3d", (6,), 0.1, 3.0), ("ea3d", (8,), 0.1, 3.0),
                      ("maxcut", (800, 0.05), 0.05, 3.0)),
    anneal_sweeps=(16, 64, 256, 1024, 4096), anneal_chains=32, anneal_reference_sweeps=16384,
    speed_side=64, speed_cases=((1024, 20), (64, 100)), speed_repeats=3)

QUICK = GraphPlan(
    exact_chains=2000, exact_sweeps=20,
    onsager_side=8, onsager_betas=(0.3, 0.5), onsager_configs=_WIDTHS[:2],
    onsager_chains=16, onsager_burn_in=50, onsager_samples=20, onsager_thin=2,
    anneal_instances=(("maxcut", (12, 0.4), 0.05, 3.0), ("ea3d", (2, 2, 3), 0.1, 3.0),
                      ("ea3d", (4,), 0.1, 3.0)),
    anneal_sweeps=(16, 64), anneal_chains=8, anneal_reference_sweeps=256,
    speed_side=16, speed_cases=((64, 5),), speed_repeats=1)


# --- the exact-law checks ------------------------------------------------------------------------
@dataclass(frozen=True)
class ExactRow:
    """One Monte Carlo law against an exact one (TV, and the noise floor of as many
    independent exact samples)."""

    case: str
    n: int
    colours: int
    engine: str
    exact_law: str
    chains: int
    tv: float
    noise_floor: float
    tv_over_floor: float


def _exact_cases(seed: int) -> list[tuple[str, object, float]]:
    """(name, program, target beta of the last schedule entry) of the exact checks."""
    rng = np.random.default_rng(seed)
    cases = []
    e = lattice_edges(3, 4)
    J = np.zeros((12, 12))
    J[e[:, 0], e[:, 1]] = rng.normal(0, 0.6, len(e))
    cases.append(("3x4 lattice, J ~ N(0, 0.6^2), h ~ N(0, 0.4^2)",
                  graph_program(J + J.T, rng.normal(0, 0.4, 12), HwConfig(), beta=1.0), 1.0))
    upper = np.triu(rng.normal(0, 0.7, (10, 10)) * (rng.random((10, 10)) < 0.4), 1)
    cases.append(("G(10, 0.4), unit 3 clamped to +1, beta 0.8",
                  graph_program(upper + upper.T, rng.normal(0, 0.3, 10), HwConfig(), beta=0.8,
                                clamp={3: 1}), 0.8))
    e = lattice_edges(2, 4)
    J = np.zeros((8, 8))
    J[e[:, 0], e[:, 1]] = rng.normal(0, 0.8, len(e))
    cases.append(("2x4 lattice, beta table (0.25, 1.0), hold 3: its last entry",
                  graph_program(J + J.T, rng.normal(0, 0.4, 8), HwConfig(), beta=(0.25, 1.0),
                                beta_hold=3), 1.0))
    e = lattice_edges(2, 3)
    J = np.zeros((6, 6))
    J[e[:, 0], e[:, 1]] = rng.normal(0, 0.6, len(e))
    cases.append(("negative control: 2x3 lattice, tiny preset, LFSR stepped once a draw",
                  graph_program(J + J.T, rng.normal(0, 0.4, 6),
                                PRESETS["tiny"].replace(rng_steps=1), beta=(0.5, 1.0)), 1.0))
    return cases


def exact_checks(chains: int, sweeps: int, *, seed: int = 0,
                 progress: Callable[[float], None] | None = None
                 ) -> tuple[list[ExactRow], list[dict]]:
    """The exact-law rows, and per case the exact cost of fixed point: TV between the emulated
    core's sweep-kernel law and exp(-b E) / Z of the float model."""
    rows, costs = [], []
    for k, (name, program, beta) in enumerate(_exact_cases(seed)):
        n = program.n
        boltzmann = boltzmann_law(program, beta * program.fit_scale)
        kernel = exact_sweep_law(program, entry=-1)
        engines = [("float", ChromaticFloat, boltzmann, "exp(-b E) / Z"),
                   ("emulated", ChromaticModel, kernel, "its sweep kernel's law")]
        if thrml_available():
            engines.append(("thrml", ThrmlEngine, boltzmann, "exp(-b E) / Z"))
        control = "negative control" in name
        for engine, make, law, law_name in engines:
            if control and engine != "emulated":
                continue
            model = make(program, chains, seed=seed + 17 * k)
            model.run(sweeps)
            tv = total_variation(empirical_distribution(state_codes(model.y), 1 << n), law)
            floor = tv_noise_floor(law, chains)
            rows.append(ExactRow(name, n, program.topology.n_colours, engine, law_name, chains,
                                 tv, floor, tv / floor))
            if progress is not None:
                progress(float(n * chains * sweeps))
        costs.append({"case": name, "tv_kernel_to_boltzmann": total_variation(kernel, boltzmann),
                      "realised_beta": float(program.realised_betas[-1])})
    return rows, costs


# --- Onsager -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class OnsagerRow:
    """One (engine, beta) against Onsager: energy and |m| per spin (mean, standard error over
    chains), what the integer program realises (coupling beta_J, field beta_h, in logits), z =
    (MC - exact) / error for the energy at the target beta and, where the program has no field
    (so that it is an Ising model at beta_J), at the realised beta_J, and against the float
    chain run at beta_J with the same sizes (z over both errors); NaN where not defined."""

    engine: str
    beta: float
    T: float
    beta_J: float
    beta_h: float
    energy: float
    energy_err: float
    energy_exact: float
    z_energy: float
    energy_exact_at_beta_J: float
    z_at_beta_J: float
    energy_float_at_beta_J: float
    z_vs_float: float
    abs_m: float
    abs_m_err: float
    m_exact: float
    tau: float


def onsager_rows(plan: GraphPlan, *, seed: int = 0,
                 progress: Callable[[float], None] | None = None) -> list[OnsagerRow]:
    floats: dict[float, LatticeEstimate] = {}

    def estimate(beta: float, cfg: HwConfig | None) -> LatticeEstimate:
        return lattice_estimate(
            plan.onsager_side, beta, engine="float" if cfg is None else "emulated", cfg=cfg,
            chains=plan.onsager_chains, burn_in=plan.onsager_burn_in,
            samples=plan.onsager_samples, thin=plan.onsager_thin, seed=seed,
            progress=progress)

    rows = []
    nan = float("nan")
    for name, cfg in plan.onsager_configs:
        for beta in plan.onsager_betas:
            est = estimate(beta, cfg)
            if cfg is None:
                floats[beta] = est
                bj, bh = beta, 0.0
            else:
                bj, bh = effective_coupling(lattice_program(plan.onsager_side, beta, cfg))
            u = float(onsager_energy(beta))
            u_real, z_real, u_float, z_float = nan, nan, nan, nan
            if bh == 0:
                u_real = float(onsager_energy(bj))
                z_real = (est.energy - u_real) / est.energy_err
                if cfg is not None:
                    if bj not in floats:
                        floats[bj] = estimate(bj, None)
                    ref = floats[bj]
                    u_float = ref.energy
                    z_float = (est.energy - ref.energy) / np.hypot(est.energy_err,
                                                                   ref.energy_err)
            rows.append(OnsagerRow(name, beta, 1 / beta, bj, bh, est.energy, est.energy_err, u,
                                   (est.energy - u) / est.energy_err, u_real, z_real, u_float,
                                   float(z_float), est.abs_m, est.abs_m_err,
                                   float(onsager_magnetisation(beta)), est.tau))
    return rows


# --- annealing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AnnealRow:
    """One point of a residual-energy curve (per spin, against the reference energy)."""

    instance: str
    n: int
    method: str
    sweeps: int
    residual: float
    stderr: float
    best: float
    p_ground: float
    reference: float
    exact: bool


def _instance(kind: str, args: tuple, seed: int) -> Instance:
    return maxcut_instance(*args, seed=seed) if kind == "maxcut" else ea3d_instance(*args,
                                                                                   seed=seed)


def anneal_rows(plan: GraphPlan, *, seed: int = 0,
                progress: Callable[[float], None] | None = None
                ) -> tuple[list[AnnealRow], list[AnnealCurves]]:
    rows, curves = [], []
    for kind, args, lo, hi in plan.anneal_instances:
        inst = _instance(kind, args, seed + 1)
        c = anneal_curves(inst, plan.anneal_sweeps, plan.anneal_chains, beta_min=lo,
                          beta_max=hi, seed=seed, reference_sweeps=plan.anneal_reference_sweeps,
                          progress=progress)
        curves.append(c)
        rows += [AnnealRow(inst.name, inst.n, p.method, p.sweeps, p.mean, p.stderr, p.best,
                           p.p_ground, c.reference, c.exact) for p in c.points]
    return rows, curves


# --- speed ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SpeedRow:
    """flips per second (and per ns), where from."""

    what: str
    flips_per_s: float
    flips_per_ns: float
    source: str


# (what, flips per second, source) from /work/shared/ANCHORS.md and issue 20
ANCHORS = (
    ("FPGA p-computer, 2-colour lattice, 1,440 p-bits at 125 MHz (AWS F1)", 90e9,
     "Chowdhury, Camsari, Datta, Communications Physics (2023)"),
    ("FPGA p-computer, 4,264 p-bits (learning)", 64e9,
     "Niazi et al., Nature Electronics (2024): 50-64e9"),
    ("1,000,000 p-bits across FPGAs", 1e12, "Aadit et al., arXiv 2606.25313 (2026): > 1e12"),
    ("GPU 2-D Ising, 65,536^2 lattice, 2x V100", 766e9, "NVIDIA/ising-gpu (GitHub)"),
    ("thrml (JAX), one H200, 64x64 lattice, 1,024 chains", 43e9,
     "extropic-ai/thrml 0.1.4, measured 2026-11-29 (ANCHORS.md)"),
    ("thrml (JAX), this 2-core CPU, 64 chains", 7e7, "issue 20's figure"),
)


def speed_rows(plan: GraphPlan, *, progress: Callable[[float], None] | None = None
               ) -> tuple[list[SpeedRow], dict]:
    rates = graph_rates(plan.speed_repeats, side=plan.speed_side, cases=plan.speed_cases)
    rows = []
    for name, r in rates.items():
        rows.append(SpeedRow(name + " (wall)", r["flips_per_s"], r["flips_per_s"] / 1e9,
                             "this run, this 2-core CPU"))
        rows.append(SpeedRow(name + " (per CPU s)", r["flips_per_cpu_s"],
                             r["flips_per_cpu_s"] / 1e9, "this run: flips per CPU second"))
        if progress is not None:
            progress(float(r["n"] * r["chains"] * r["sweeps"] * (plan.speed_repeats + 1)))
    rows += [SpeedRow(what, v, v / 1e9, src) for what, v, src in ANCHORS]
    return rows, rates


# --- plots ---------------------------------------------------------------------------------------
def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _plot_exact(rows: list[ExactRow], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(rows) + 1.2))
    labels = [f"{r.case.split(',')[0]} / {r.engine}" for r in rows]
    colours = ["tab:red" if r.tv_over_floor > 3 else "tab:blue" for r in rows]
    ax.barh(range(len(rows)), [r.tv_over_floor for r in rows], color=colours)
    ax.axvline(1, color="k", lw=0.8)
    ax.axvline(3, color="k", lw=0.8, ls="--")
    ax.set_yticks(range(len(rows)), labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("Monte Carlo TV / noise floor of as many exact samples (dashed: 3)")
    ax.set_title("Exact-law checks: each engine against its exact law")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_onsager(rows: list[OnsagerRow], path: Path) -> Path:
    plt = _pyplot()
    fig, (ax_e, ax_m) = plt.subplots(1, 2, figsize=(11, 4.2))
    T = np.linspace(1.4, 3.6, 300)
    ax_e.plot(T, onsager_energy(1 / T), "k-", lw=1, label="Onsager")
    ax_m.plot(T, onsager_magnetisation(1 / T), "k-", lw=1, label="Onsager (L = infinity)")
    for ax in (ax_e, ax_m):
        ax.axvline(1 / BETA_C, color="grey", lw=0.6, ls=":")
    engines = list(dict.fromkeys(r.engine for r in rows))
    for k, name in enumerate(engines):
        pts = [r for r in rows if r.engine == name]
        shift = (k - (len(engines) - 1) / 2) * 0.012
        ax_e.errorbar([r.T + shift for r in pts], [r.energy for r in pts],
                      [r.energy_err for r in pts], fmt="o", ms=3, label=name)
        ax_m.errorbar([r.T + shift for r in pts], [r.abs_m for r in pts],
                      [r.abs_m_err for r in pts], fmt="o", ms=3, label=name)
    ax_e.set(xlabel="T (J = 1)", ylabel="energy per spin", title="2-D Ising: energy")
    ax_m.set(xlabel="T (J = 1)", ylabel="<|m|>", title="2-D Ising: magnetisation")
    ax_m.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_anneal(curves: list[AnnealCurves], path: Path) -> Path:
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(curves), figsize=(3.6 * len(curves), 3.6), squeeze=False)
    styles = {"emulated": ("tab:red", "o"), "float": ("tab:blue", "s"), "sa": ("tab:green", "^")}
    names = {"emulated": "emulated core", "float": "float (same table)", "sa": "SA (Metropolis)"}
    for ax, c in zip(axes[0], curves):
        for method, (colour, marker) in styles.items():
            pts = c.curve(method)
            if not pts:
                continue
            x = [p.sweeps for p in pts]
            if c.exact:
                ax.plot(x, [p.p_ground for p in pts], marker=marker, color=colour,
                        label=names[method])
            else:
                ax.errorbar(x, [max(p.mean, 1e-5) for p in pts], [p.stderr for p in pts],
                            marker=marker, color=colour, label=names[method], capsize=2)
        ax.set_xscale("log")
        if c.exact:
            ax.set(ylabel="P(exact ground state)", ylim=(-0.02, 1.02))
        else:
            ax.set_yscale("log")
            ax.set(ylabel="residual energy per spin")
        ax.set(xlabel="sweeps", title=f"{c.instance.name} (n={c.instance.n})")
        ax.title.set_fontsize(8)
    axes[0][0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def _plot_speed(rows: list[SpeedRow], path: Path) -> Path:
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 0.38 * len(rows) + 1.2))
    colours = ["tab:red" if r.source.startswith("this run") else "tab:grey" for r in rows]
    ax.barh(range(len(rows)), [r.flips_per_s for r in rows], color=colours)
    ax.set_xscale("log")
    ax.set_yticks(range(len(rows)), [r.what for r in rows], fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("flips per second (red: this run; grey: published / measured elsewhere)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


# --- the report ----------------------------------------------------------------------------------
class _LogLines:
    """A file for tqdm off a terminal: each refresh becomes one line (no carriage returns)."""

    def write(self, text: str) -> None:
        text = text.replace("\r", "").strip()
        if text:
            sys.stderr.write(text + "\n")

    def flush(self) -> None:
        sys.stderr.flush()


def _planned_flips(plan: GraphPlan, sections: Sequence[str]) -> float:
    total = 0.0
    if "exact" in sections:      # units of the four cases, float + emulated (+ thrml)
        engines = 3 if thrml_available() else 2
        total += (12 + 10 + 8) * engines * plan.exact_chains * plan.exact_sweeps
        total += 6 * plan.exact_chains * plan.exact_sweeps
    if "onsager" in sections:
        per = plan.onsager_side ** 2 * plan.onsager_chains * (
            plan.onsager_burn_in + plan.onsager_samples * plan.onsager_thin)
        total += per * len(plan.onsager_betas) * (len(plan.onsager_configs) + 2)
    if "anneal" in sections:
        for kind, args, _, _ in plan.anneal_instances:
            n = args[0] if kind == "maxcut" else int(np.prod(args if len(args) == 3 else
                                                            args * 3))
            total += 3 * n * plan.anneal_chains * sum(plan.anneal_sweeps)
            if n > 20:
                total += n * 8 * plan.anneal_reference_sweeps
    if "speed" in sections:
        total += sum(plan.speed_side ** 2 * b * s * (plan.speed_repeats + 1)
                     for b, s in plan.speed_cases)
    return total


def graph_report(out: Path, *, quick: bool = False, seed: int = 0,
                 sections: Sequence[str] | None = None, progress: bool = True,
                 plots: bool = True) -> str:
    """Run the report (``quick``: the small plan, seconds) and write graph.md, graph.json and
    (``plots``) the plots under ``out``; returns a short summary. ``sections``: a subset of
    SECTIONS."""
    names = parse_sections(sections)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out must be a folder, got the file {out}")
    out.mkdir(parents=True, exist_ok=True)
    plan = QUICK if quick else FULL
    tty = sys.stderr.isatty()
    bar = tqdm(total=_planned_flips(plan, names) / 1e6, desc="graph", unit="Mflip",
               disable=not progress, mininterval=0.5 if tty else 30.0, ascii=not tty,
               file=sys.stderr if tty else _LogLines(), bar_format=None if tty else
               "{desc}: {percentage:3.0f}% {n:.0f}/{total:.0f} Mflip [{elapsed}<{remaining}]")

    def step(flips: float) -> None:
        if bar.n + flips / 1e6 > bar.total:     # the plan's estimate ran short: grow it
            bar.total = bar.n + flips / 1e6
        bar.update(flips / 1e6)

    start = time.perf_counter()
    data: dict = {"quick": quick, "seed": seed, "sections": list(names)}
    md = [f"# The p-bit array as a general sampler (issue 20)\n",
          f"Command: `pysampler graph{' --quick' if quick else ''}` (`make graph`), seed {seed}. "
          f"Figures from this repository's 2-core CPU, shared with other jobs while it ran.\n"]
    written = []
    if "exact" in names:
        rows, costs = exact_checks(plan.exact_chains, plan.exact_sweeps, seed=seed,
                                   progress=step)
        data["exact"] = [asdict(r) for r in rows]
        data["fixed_point_cost"] = costs
        if plots:
            written.append(_plot_exact(rows, out / "graph_exact.png"))
        md += [_exact_md(rows, costs, plan)]
    if "onsager" in names:
        rows = onsager_rows(plan, seed=seed, progress=step)
        data["onsager"] = [asdict(r) for r in rows]
        if plots:
            written.append(_plot_onsager(rows, out / "graph_onsager.png"))
        md += [_onsager_md(rows, plan)]
    if "anneal" in names:
        rows, curves = anneal_rows(plan, seed=seed, progress=step)
        data["anneal"] = [asdict(r) for r in rows]
        data["anneal_instances"] = [{"name": c.instance.name, "description":
                                     c.instance.description, "reference": c.reference,
                                     "exact": c.exact, "realised_betas": c.realised_betas,
                                     "n_saturated": c.n_saturated} for c in curves]
        if plots:
            written.append(_plot_anneal(curves, out / "graph_anneal.png"))
        md += [_anneal_md(rows, curves, plan)]
    if "speed" in names:
        rows, rates = speed_rows(plan, progress=step)
        data["speed"] = [asdict(r) for r in rows]
        if plots:
            written.append(_plot_speed(rows, out / "graph_speed.png"))
        md += [_speed_md(rows, rates, plan)]
    bar.close()
    minutes = (time.perf_counter() - start) / 60
    data["minutes"] = minutes
    md.insert(2, f"This run took {minutes:.1f} minutes.\n")
    (out / "graph.md").write_text("\n".join(md))
    (out / "graph.json").write_text(json.dumps(data, indent=1, default=float))
    written = [out / "graph.md", out / "graph.json"] + written
    return "\n".join(f"wrote {p}" for p in written) + f"\n({minutes:.1f} minutes)"


# --- Markdown --------------------------------------------------------------------------------
def _exact_md(rows: list[ExactRow], costs: list[dict], plan: GraphPlan) -> str:
    cost_lines = "\n".join(f"| {c['case']} | {c['realised_beta']:.4g} | "
                           f"{c['tv_kernel_to_boltzmann']:.4g} |" for c in costs)
    return (
        "## Exact laws of small graph programs\n\n"
        f"{plan.exact_chains:,} chains of {plan.exact_sweeps} sweeps from all zeros, the final "
        "states against the exact law (`engines.chromatic`: `boltzmann_law`, and "
        "`exact_sweep_law` = the stationary law of the emulated core's sweep kernel under an "
        "ideal generator, n <= 12). The noise floor is the expected TV of as many independent "
        "exact samples; a ratio near 1 means no distinguishable error, above 3 a real one. "
        "thrml rows appear where the [thrml] extra is installed. The negative control (an LFSR "
        "stepped once per draw: each unit's consecutive draws are shifted copies) must fail, "
        "and shows that these checks can.\n\n"
        + markdown_table(rows) +
        "\nThe exact cost of fixed point (default HwConfig, no Monte Carlo): TV between the "
        "emulated core's sweep-kernel law and exp(-b E) / Z of the float model at the target "
        "beta (the realised beta of the last entry beside it).\n\n"
        "| case | realised beta | TV(core's law, Boltzmann) |\n|---|---|---|\n"
        + cost_lines + "\n\n![exact-law checks](graph_exact.png)\n")


def _onsager_md(rows: list[OnsagerRow], plan: GraphPlan) -> str:
    return (
        "## The 2-D Ising ferromagnet against Onsager\n\n"
        f"Periodic {plan.onsager_side}x{plan.onsager_side} lattice, J = 1, no field, "
        f"{plan.onsager_chains} chains from all spins -1, {plan.onsager_burn_in} sweeps of "
        f"burn-in, then e and |m| every {plan.onsager_thin} sweeps for "
        f"{plan.onsager_samples} records (`experiments.onsager`). Error bars: standard error "
        "over the chains, each chain's time average one independent replica (valid whatever "
        "the autocorrelation; `tau` is e's integrated autocorrelation time in records, for "
        "information). z = (MC - Onsager) / error for the energy. Onsager's |m| is the infinite "
        f"lattice's (0 above T_c = {1 / BETA_C:.4f}); a finite lattice has <|m|> of order "
        "L^-1 there. `beta_J`, `beta_h`: the coupling and field (in logits, spin units) that "
        "the integer program of each width realises: unless 4 beta 2^f is an integer the "
        "rounded J' = 4 beta J is off by up to an eighth of an LSB in spin units; "
        "`graph_program` takes h' = -sum_j J'_q,ij / 2 from the rounded couplings, so the "
        "lattice (degree 4, h = 0) has no field (rounding h' = -2 D beta J on its own left a "
        "uniform field of up to 3/4 of an LSB, which broke the up-down symmetry). The program "
        "is then an Ising model at beta_J exactly (up to the LUT and the generator): "
        "`energy_exact_at_beta_J` and `z_at_beta_J` compare with Onsager there, which "
        "separates the rounding of the coupling (expected) from errors of the sampler. "
        "`energy_float_at_beta_J`, `z_vs_float`: the "
        "float chain run at the realised beta_J with the same sizes, and the emulated value's "
        "distance to it in combined standard errors: the cleanest test of the sampler itself, "
        "free of Onsager's infinite lattice (near T_c, at beta 0.4 and beyond, L = 32 and the "
        "burn-in leave the float chain itself a few errors below Onsager).\n\n"
        + markdown_table(rows, {"beta": ".3g", "T": ".4g", "beta_J": ".5g", "beta_h": ".4g",
                                "energy": ".5f", "energy_exact": ".5f", "abs_m": ".4f",
                                "energy_exact_at_beta_J": ".5f", "z_at_beta_J": ".2f",
                                "energy_float_at_beta_J": ".5f", "z_vs_float": ".2f",
                                "m_exact": ".4f", "z_energy": ".2f", "tau": ".2f"})
        + "\n![Onsager](graph_onsager.png)\n")


def _anneal_md(rows: list[AnnealRow], curves: list[AnnealCurves], plan: GraphPlan) -> str:
    lines = []
    for c in curves:
        ref = ("exact (Gray-code enumeration)" if c.exact else
               f"best found by any run, a {plan.anneal_reference_sweeps}-sweep anneal included")
        line = f"* {c.instance.name}: {c.instance.description}; E_ref = {c.reference:g} ({ref})"
        if c.realised_betas:
            line += (f"; emulated programs saturated {c.n_saturated} weights; the core's "
                     f"realised table runs {c.realised_betas[0]:.4g} .. "
                     f"{c.realised_betas[-1]:.4g}")
        lines.append(line)
    return (
        "## Annealing: residual energy per spin against sweeps\n\n"
        f"Each method anneals {plan.anneal_chains} independent chains for S sweeps, for each S "
        f"in {', '.join(map(str, plan.anneal_sweeps))}: `emulated` is the bit-accurate graph "
        "core (`EmulatedBackend`, HwConfig(weight_bits=14), frac_bits 4: wide enough that no "
        "weight saturates at beta_max, built strict) running a 16-entry geometric beta table "
        "(`tsu.anneal_schedule`, S/16 sweeps an entry, each entry realised by the core's "
        "mantissa-and-shift scaling), `float` the same table on the float chromatic chain, and "
        "`sa` simulated annealing in float (`engines.metropolis`: sequential Metropolis sweeps, "
        "a smooth geometric schedule, one beta per sweep). Residual = (E - E_ref) / n, mean "
        "over chains with its standard error; `p_ground`: fraction of chains at E_ref.\n\n"
        + "\n".join(lines) + "\n\n"
        + markdown_table(rows, {"residual": ".4g", "stderr": ".2g", "best": ".4g",
                                "p_ground": ".3g", "reference": ".6g"})
        + "\n![annealing](graph_anneal.png)\n")


def _speed_md(rows: list[SpeedRow], rates: dict, plan: GraphPlan) -> str:
    return (
        "## Speed: flips per second\n\n"
        f"The {plan.speed_side}x{plan.speed_side} periodic lattice (2 colours), J = 1 at beta "
        f"0.4, default HwConfig (`experiments.bench.graph_rates`, best of "
        f"{plan.speed_repeats}); thrml's Ising sampler on the same lattice (float32, colour "
        "blocks, chains vmapped) where the [thrml] extra is installed. Wall: what this shared "
        "machine gave; per CPU s: flips per second of CPU time on all cores (what an idle "
        "2-core machine would approach). Grey rows: published figures (ANCHORS.md), other "
        "hardware.\n\n"
        + markdown_table(rows, {"flips_per_s": ".3g", "flips_per_ns": ".3g"})
        + "\n![speed](graph_speed.png)\n")
