"""The quantization study: what each bit of precision and each RNG choice costs, against float.

One knob at a time around the default HwConfig (the design's starting point):

* ``frac_bits`` (resolution: LSB = 2^-f logits; weight_bits = f + 6 keeps the range at +-32),
* ``weight_bits`` (range: frac_bits 4, so the range is +-2^(w-5) logits),
* ``lut_addr_bits`` a with ``lut_shift`` = max(0, 10 - a) (the LUT keeps covering +-32 logits with
  a coarser step),
* ``prob_bits`` P (LUT entries and draws),
* the generator: LFSR 32 with 1, 4 or 16 steps per draw, LFSR 16, xorshift32, xorshift64,
* two whole configurations with more precision (the ``wide`` preset, and a 16-bit / 2^14-entry one),
* and lambda x sweeps for float and fixed point.

Every point is evaluated on every logit set: synthetic sets (:func:`pysampler.experiments.logitsets.synthetic_logits`)
and next-token logits captured from the GPT-2 loop with top_k = 50. Per point: exact TV and KL to the
softmax (ideal RNG), per-run invalid and per-token fallback rates, saturation count, the float Gibbs
sampler's exact TV at the same lambda and sweeps, and Monte Carlo with the real generator (TV and its
noise floor) to expose RNG artefacts, which the exact figure cannot see.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..analysis.exact import exact_token_distribution
from ..analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from ..contract.config import HwConfig, get_preset
from ..samplers.filtering import reduce_vocab
from ..samplers.policy import DEFAULT_LAM, DEFAULT_SWEEPS, ChainPolicy
from ..samplers.registry import make_sampler
from .logitsets import synthetic_logits
from .rows import entropy, gaussian_row
from .tables import write_csv

__all__ = ["StudyPoint", "StudyRow", "study_points", "run_study", "write_study", "REFERENCE_N",
           "synthetic_sets", "lm_logit_sets", "logit_sets", "summarize", "finding", "study_report",
           "LM_PROMPTS", "FLAT_ROWS", "flat_sets"]

LM_PROMPTS = ("The function returns", "In this tutorial, we", "A module is", "The documentation")
REFERENCE_N = 10_000  # "within the noise floor": the expected TV of this many exact samples
# near-uniform benchmark rows (pysampler.experiments.rows): (V, entropy / ln V)
FLAT_ROWS = ((32, 0.995), (64, 0.95))


@dataclass(frozen=True)
class StudyPoint:
    parameter: str
    value: str
    cfg: HwConfig
    lam: float
    sweeps: int


@dataclass(frozen=True)
class StudyRow:
    logit_set: str
    vocab_size: int
    entropy: float            # nats, softmax of the kept logits
    parameter: str
    value: str
    weight_bits: int
    frac_bits: int
    lut_addr_bits: int
    lut_shift: int
    prob_bits: int
    rng: str
    rng_steps: int
    lam: float
    sweeps: int
    tv: float                 # exact, fixed point, ideal RNG
    kl: float
    tv_float: float           # exact, float Gibbs at the same lambda and sweeps
    invalid_per_run: float
    fallback: float           # per token
    saturated: int            # values clamped by the quantizer
    mc_tv: float              # real generator, mc_tokens samples
    mc_noise_floor: float     # expected TV of mc_tokens ideal samples of the exact law
    mc_fallback: float
    floor_ref: float          # expected TV of REFERENCE_N samples of softmax


def _base() -> HwConfig:
    return HwConfig()


def study_points(quick: bool = False) -> list[StudyPoint]:
    """The one-knob-at-a-time grid (a subset with ``quick``)."""
    base, lam, sweeps = _base(), DEFAULT_LAM, DEFAULT_SWEEPS
    pts = [StudyPoint("baseline", "default", base, lam, sweeps)]
    fracs = (2, 3, 4, 6) if quick else (1, 2, 3, 4, 5, 6, 8)
    pts += [StudyPoint("frac_bits", str(f), base.replace(frac_bits=f, weight_bits=f + 6), lam,
                       sweeps) for f in fracs if f != 4]
    widths = (7, 8) if quick else (6, 7, 8, 9, 12)
    pts += [StudyPoint("weight_bits", str(w), base.replace(weight_bits=w), lam, sweeps)
            for w in widths]
    addrs = (6, 8) if quick else (4, 5, 6, 7, 8, 12)
    pts += [StudyPoint("lut_addr_bits", str(a),
                       base.replace(lut_addr_bits=a, lut_shift=max(0, 10 - a)), lam, sweeps)
            for a in addrs]
    probs = (6, 10) if quick else (4, 6, 8, 10, 12, 20)
    pts += [StudyPoint("prob_bits", str(p), base.replace(prob_bits=p), lam, sweeps) for p in probs]
    rngs = {"lfsr32 x1": dict(rng="lfsr", rng_bits=32, rng_steps=1),
            "lfsr32 x4": dict(rng="lfsr", rng_bits=32, rng_steps=4),
            "lfsr16 x16": dict(rng="lfsr", rng_bits=16, rng_steps=16),
            "xorshift32": dict(rng="xorshift", rng_bits=32, rng_steps=1),
            "xorshift64": dict(rng="xorshift", rng_bits=64, rng_steps=1)}
    if quick:
        rngs = {k: rngs[k] for k in ("lfsr32 x1", "xorshift32")}
    pts += [StudyPoint("rng", name, base.replace(**kw), lam, sweeps) for name, kw in rngs.items()]
    if not quick:  # whole configurations beyond one knob: how much precision matching float costs
        pts += [StudyPoint("config", "wide preset", get_preset("wide"), lam, sweeps),
                StudyPoint("config", "hi-res 16/10, LUT 2^14 step 2^-8, P 20",
                           HwConfig(weight_bits=16, frac_bits=10, lut_addr_bits=14, lut_shift=2,
                                    prob_bits=20), lam, sweeps)]
    lams = (2.0, 4.0) if quick else (1.0, 1.5, 2.0, 2.5, 3.5, 4.0, 5.0)
    pts += [StudyPoint("lam", f"{l:g}", base, l, sweeps) for l in lams]
    sweep_grid = (10, 80) if quick else (5, 10, 20, 80, 160)
    pts += [StudyPoint("sweeps", str(s), base, lam, s) for s in sweep_grid]
    return pts


def _evaluate(name: str, logits: np.ndarray, point: StudyPoint, mc_tokens: int, seed: int,
              float_cache: dict) -> StudyRow:
    cfg = point.cfg.replace(n_pbits=max(point.cfg.n_pbits, logits.size))
    policy = ChainPolicy(lam=point.lam, sweeps=point.sweeps)
    hw = make_sampler("hw", cfg, policy, seed=seed)
    exact = exact_token_distribution(hw, logits)
    key = (name, point.lam, point.sweeps)
    if key not in float_cache:
        gibbs = make_sampler("gibbs", cfg, policy, seed=seed)
        float_cache[key] = exact_token_distribution(gibbs, logits).tv
    kept = reduce_vocab(logits)
    draws = [hw.sample_kept(kept) for _ in range(mc_tokens)]  # = hw.sample(logits), reduced once
    index = {int(t): k for k, t in enumerate(exact.token_ids)}
    emp = empirical_distribution([index[d] for d in draws], exact.token_ids.size)
    program = hw.program_for(kept)
    return StudyRow(
        name, int(logits.size), entropy(logits), point.parameter, point.value, cfg.weight_bits, cfg.frac_bits,
        cfg.lut_addr_bits, cfg.lut_shift, cfg.prob_bits, cfg.rng, cfg.rng_steps, point.lam,
        point.sweeps, exact.tv, exact.kl, float_cache[key], exact.invalid_per_attempt,
        exact.fallback, program.n_saturated, total_variation(exact.target, emp),
        tv_noise_floor(exact.probs, mc_tokens), hw.get_invalid_rate(),
        tv_noise_floor(exact.target, REFERENCE_N))


def synthetic_sets(sizes: Sequence[int] = (16, 32, 64), seed: int = 0) -> dict[str, np.ndarray]:
    """The synthetic logit sets, named ``synthetic-V<n>``."""
    return {f"synthetic-V{v}": synthetic_logits(v, seed) for v in sizes}


def flat_sets(rows: Sequence[tuple[int, float]] = FLAT_ROWS, seed: int = 0
              ) -> dict[str, np.ndarray]:
    """Near-uniform benchmark rows (:func:`pysampler.experiments.rows.gaussian_row`), named
    ``flat-V<n>-H<fraction>``: what an LM at temperature >= 1 or top-p on an uncertain context
    hands the sampler."""
    return {f"flat-V{v}-H{f:g}": gaussian_row(v, f, seed).logits for v, f in rows}


def lm_logit_sets(lm, prompts: Sequence[str], contexts: int, *, top_k: int = 50, seed: int = 0
                  ) -> dict[str, np.ndarray]:
    """Kept (top-k) next-token logits captured from the generation loop (exact softmax sampling),
    ``contexts`` steps spread over the prompts, named ``gpt2-top<k>-<i>``."""
    from ..llm import generate
    from ..samplers.softmax import SoftmaxSampler

    per_prompt = max(1, -(-contexts // len(prompts)))
    results = generate(lm, list(prompts), SoftmaxSampler(seed=seed), max_new_tokens=per_prompt,
                       top_k=top_k, capture_logits=True, stop_at_eos=False, seed=seed)
    kept = [k for r in results for k in r.kept][:contexts]
    return {f"gpt2-top{top_k}-{i}": k.logits for i, k in enumerate(kept)}


def run_study(logit_sets: dict[str, np.ndarray], points: Sequence[StudyPoint], *,
              mc_tokens: int = 2000, seed: int = 0, progress: bool = True) -> list[StudyRow]:
    """Evaluate every point on every logit set (each set: kept logits, at most 64)."""
    rows, cache = [], {}
    jobs = [(name, logits, p) for p in points for name, logits in logit_sets.items()]
    for name, logits, point in tqdm(jobs, desc="study", disable=not progress):
        rows.append(_evaluate(name, np.asarray(logits, dtype=np.float64), point, mc_tokens, seed,
                              cache))
    return rows


def _group(name: str) -> str:
    """Logit sets captured from the LM ("gpt2-..-k") are averaged together in tables and plots."""
    return name.rsplit("-", 1)[0] if name.startswith("gpt2") else name


def summarize(rows: Sequence[StudyRow]) -> list[dict]:
    """Rows averaged over the captured LM contexts (synthetic sets pass through)."""
    out: dict[tuple, list[StudyRow]] = {}
    for r in rows:
        out.setdefault((_group(r.logit_set), r.parameter, r.value), []).append(r)
    table = []
    for (group, parameter, value), rs in out.items():
        entry = asdict(rs[0])
        entry["logit_set"] = group
        entry["contexts"] = len(rs)
        for f in fields(StudyRow):
            if isinstance(getattr(rs[0], f.name), float):
                entry[f.name] = float(np.mean([getattr(r, f.name) for r in rs]))
        entry["saturated"] = int(np.sum([r.saturated for r in rs]))
        table.append(entry)
    return table


def finding(table: list[dict]) -> str:
    """One paragraph: the smallest widths that stay within the noise floor of float, and what the
    generator choice costs."""
    def within(entries):
        return all(abs(e["tv"] - e["tv_float"]) <= e["floor_ref"] for e in entries)

    parts = []
    smallest = {}
    for parameter in ("frac_bits", "weight_bits", "lut_addr_bits", "prob_bits"):
        values = sorted({int(e["value"]) for e in table if e["parameter"] == parameter})
        ok = [v for v in values if within([e for e in table if e["parameter"] == parameter
                                           and int(e["value"]) == v])]
        smallest[parameter] = min(ok) if ok else None
    base = [e for e in table if e["parameter"] == "baseline"]
    base_ok = within(base)
    desc = ", ".join(f"{k} = {v}" if v is not None else f"{k}: no tested value"
                     for k, v in smallest.items())
    parts.append(
        f"Against float Gibbs at the same lambda and sweeps, and counting a configuration as equal "
        f"when its exact TV is within the expected TV of {REFERENCE_N:,} exact samples (the noise "
        f"floor a user could measure), the smallest widths that pass on every logit set, one knob "
        f"at a time around the default, are: {desc}. The default configuration itself "
        f"{'passes' if base_ok else 'does not pass'} (mean exact TV "
        f"{np.mean([e['tv'] for e in base]):.4f} vs float {np.mean([e['tv_float'] for e in base]):.4f}).")
    rng_rows = [e for e in table if e["parameter"] in ("rng", "baseline")]
    if rng_rows:
        costs = {}
        for e in rng_rows:
            label = "lfsr32 x16 (default)" if e["parameter"] == "baseline" else e["value"]
            costs.setdefault(label, []).append((e["mc_tv"] - e["mc_noise_floor"]) /
                                               max(e["mc_noise_floor"], 1e-12))
        worst = {k: max(v) for k, v in costs.items()}
        text = "; ".join(f"{k}: {v:+.2f}" for k, v in sorted(worst.items(), key=lambda kv: kv[1]))
        parts.append(
            "The exact figures assume an ideal generator; Monte Carlo with the real one measures "
            "what the generator choice costs, as (MC TV - noise floor) / noise floor, worst logit "
            f"set (0 = indistinguishable from ideal randomness at this sample size): {text}.")
    return " ".join(parts)


def _series(table: list[dict], logit_set: str, knob: str) -> list[dict]:
    """The entries of one knob (and the baseline point) for one logit set, by the knob's value."""
    return sorted((e for e in table if e["parameter"] in (knob, "baseline")
                   and e["logit_set"] == logit_set), key=lambda e: e[knob])


def _plots(table: list[dict], out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    sets = sorted({e["logit_set"] for e in table})
    params = ("frac_bits", "weight_bits", "lut_addr_bits", "prob_bits")
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for ax, parameter in zip(axes, params):
        for s in sets:
            es = sorted((e for e in table if e["parameter"] == parameter and e["logit_set"] == s),
                        key=lambda e: int(e["value"]))
            base = [e for e in table if e["parameter"] == "baseline" and e["logit_set"] == s]
            es = sorted(es + [dict(base[0], value=str(base[0][parameter]))],
                        key=lambda e: int(e["value"])) if base else es
            if not es:
                continue
            x = [int(e["value"]) for e in es]
            line, = ax.semilogy(x, [max(e["tv"], 1e-6) for e in es], "o-", label=s)
            ax.axhline(max(es[0]["tv_float"], 1e-6), color=line.get_color(), ls=":", lw=1)
        ax.set_xlabel(parameter)
        ax.set_ylabel("exact TV to softmax")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle("Fixed point vs bit width (dotted: float Gibbs, same lambda and sweeps)")
    fig.tight_layout()
    paths.append(out_dir / "study_tv_vs_bits.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for s in sets:
        es = _series(table, s, "lam")
        axes[0].semilogy([e["lam"] for e in es], [max(e["invalid_per_run"], 1e-9) for e in es],
                         "o-", label=f"{s} per run")
        axes[1].semilogy([e["lam"] for e in es], [max(e["tv"], 1e-6) for e in es], "o-", label=s)
        axes[1].semilogy([e["lam"] for e in es], [max(e["tv_float"], 1e-6) for e in es], "x:",
                         label=f"{s} float")
    axes[0].set_ylabel("invalid read-outs per run")
    axes[1].set_ylabel("exact TV")
    for ax in axes:
        ax.set_xlabel("lambda")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6)
    fig.suptitle(f"Invalid rate and TV vs lambda ({DEFAULT_SWEEPS} sweeps)")
    fig.tight_layout()
    paths.append(out_dir / "study_invalid_vs_lambda.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.8))
    for s in sets:
        es = _series(table, s, "sweeps")
        line, = ax.loglog([e["sweeps"] for e in es], [max(e["tv"], 1e-6) for e in es], "o-",
                          label=f"{s} fixed")
        ax.loglog([e["sweeps"] for e in es], [max(e["tv_float"], 1e-6) for e in es], "x:",
                  color=line.get_color(), label=f"{s} float")
    ax.set_xlabel("sweeps")
    ax.set_ylabel("exact TV")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=6)
    ax.set_title(f"TV vs sweeps, lambda = {DEFAULT_LAM}")
    fig.tight_layout()
    paths.append(out_dir / "study_tv_vs_sweeps.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write_study(rows: Sequence[StudyRow], out_dir: Path, header: str) -> list[Path]:
    """study.csv (every row), study.md (averaged tables and the finding) and the PNG plots."""
    csv_path = write_csv(rows, out_dir / "study.csv")
    table = summarize(rows)
    cols = ["logit_set", "vocab_size", "entropy", "parameter", "value", "lam", "sweeps", "tv",
            "tv_float", "kl",
            "invalid_per_run", "fallback", "saturated", "mc_tv", "mc_noise_floor", "floor_ref"]
    lines = [header, "", "## Finding", "", finding(table), "",
             "## Tables (LM contexts averaged)", "",
             "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for e in sorted(table, key=lambda e: (e["parameter"], e["logit_set"])):
        cells = [f"{e[c]:.4g}" if isinstance(e[c], float) else str(e[c]) for c in cols]
        lines.append("| " + " | ".join(cells) + " |")
    plots = _plots(table, out_dir)
    lines += ["", "Plots: " + ", ".join(f"`{p.name}`" for p in plots), ""]
    md_path = out_dir / "study.md"
    md_path.write_text("\n".join(lines) + "\n")
    return [csv_path, md_path, *plots]


def logit_sets(lm_path: str | Path | None, contexts: int, *, seed: int = 0
               ) -> tuple[dict[str, np.ndarray], str]:
    """The synthetic sets and the flat benchmark rows (:func:`flat_sets`), plus ``contexts``
    top-50 contexts captured from the LM at ``lm_path`` (None: synthetic only); returns (sets, a
    line naming the source)."""
    sets = {**synthetic_sets(seed=seed), **flat_sets(seed=seed)}
    if lm_path is None:
        return sets, "synthetic sets and near-uniform benchmark rows only"
    from ..llm import load_lm

    try:
        lm = load_lm(lm_path)
    except (OSError, FileNotFoundError) as err:
        raise ValueError(f"cannot load --lm {str(lm_path)!r} ({str(err).splitlines()[0]}); "
                         f"run `make lm` or pass --no-lm") from None
    sets.update(lm_logit_sets(lm, LM_PROMPTS, contexts, seed=seed))
    return sets, (f"synthetic sets, near-uniform benchmark rows and {contexts} top-50 "
                  f"contexts from `{lm_path}`")


def study_report(out: Path, sets: dict[str, np.ndarray], source: str, *, quick: bool = False,
                 mc_tokens: int | None = None, seed: int = 0) -> str:
    """Run the study on ``sets``, write study.csv, study.md and the plots under ``out``; returns
    the finding."""
    points = study_points(quick)
    mc = mc_tokens or (400 if quick else 2000)
    rows = run_study(sets, points, mc_tokens=mc, seed=seed)
    header = (f"# Quantization study\n\nCommand: `pysampler study{' --quick' if quick else ''}`"
              f" (`make study`). Logit sets: {source}. One knob at a time around the default "
              f"HwConfig; lambda {points[0].lam:g} and {points[0].sweeps} sweeps unless varied. "
              f"Exact figures assume an ideal generator; MC uses {mc} tokens of the real one.")
    paths = write_study(rows, out, header)
    return "\n".join(f"wrote {p}" for p in paths) + "\n\n" + \
        (out / "study.md").read_text().split("## Tables")[0]
