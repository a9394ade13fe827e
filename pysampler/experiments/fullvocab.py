"""Faithful on every distribution an LLM produces: every registered sampler on the benchmark rows
(:mod:`.rows`, V = 8 .. 50,257, near-deterministic to near-uniform), at the default HwConfig and
other widths.

Per (row, sampler, policy, configuration): TV to the softmax of the kept logits, exact where the
sampler's law reaches (:attr:`TokenSampler.exact_limit`), else Monte Carlo with the real
generator and its noise floor (:func:`pysampler.analysis.evaluate.evaluate_row`, bounded by a token
and a time budget); the fallback rate, the work per token and the RTL clock cycles per token.
Samplers with a capacity (``max_kept``) get a core of n_pbits = V (HwConfig allows 65,536).
Chain samplers run under the old defaults (:data:`pysampler.samplers.policy.LEGACY`) and the
entropy-robust policy (:data:`pysampler.samplers.policy.ROBUST`); samplers without a policy once.
Rows of GPT-2's vocabulary captured from the LM on GPT-2's tokenizer (source ``lm50k``) are
evaluated by the whole-vocabulary samplers (:data:`WHOLE_ROW_KINDS`) wherever their kept V is above
the chains' exact limit, and by every sampler on their top-k 50 rows: no Monte Carlo on them, which
keeps the report's time bounded (:data:`BOUNDED_SOURCES`).
Beside it, tokens per second of each sampler's batch path (``sample_batch``) on (B, V) rows: the
lm50k rows at V = 50,257 where they exist, synthetic heavy-tail rows otherwise.

``fullvocab_report(out, lm_path=...)`` writes fullvocab.md, fullvocab.csv and fullvocab.png.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
from tqdm import tqdm

from ..analysis.evaluate import evaluate_row
from ..analysis.exact import MAX_EXACT_VOCAB
from ..contract.config import HwConfig, get_preset
from ..samplers.policy import LEGACY, ROBUST, ChainPolicy
from ..samplers.registry import make_sampler, sampler_kinds
from .rows import BenchRow, heavy_tail_row, load_benchmark, select_rows
from .tables import markdown_table, write_csv

__all__ = ["CONFIGS", "POLICIES", "FullVocabRow", "ThroughputRow", "fullvocab", "throughput",
           "write_fullvocab", "fullvocab_report", "goal_check", "GOAL_TV", "GOAL_FALLBACK",
           "TREE_GOAL_TV", "QUICK_VOCABS", "WHOLE_ROW_KINDS", "BOUNDED_SOURCES", "DEFAULT_LM50K"]

CONFIGS: dict[str, HwConfig] = {
    "default": HwConfig(),
    "narrow 8/3": HwConfig(weight_bits=8, frac_bits=3),
    "wide preset": get_preset("wide"),
    "hi-res 16/10 P20": HwConfig(weight_bits=16, frac_bits=10, lut_addr_bits=14, lut_shift=2,
                                 prob_bits=20),
}
POLICIES: dict[str, ChainPolicy] = {"old defaults": LEGACY, "robust": ROBUST}
GOAL_TV, GOAL_FALLBACK, GOAL_BUDGET = 0.01, 1e-3, 40   # chain samplers, V <= 64: 40 V updates
TREE_GOAL_TV, TREE_GOAL_VOCAB = 0.005, 4096
QUICK_VOCABS = (8, 32, 2048)
#: row sources evaluated only where no Monte Carlo is needed beyond a few whole-vocabulary kinds
BOUNDED_SOURCES = ("lm50k",)
#: the kinds that evaluate a BOUNDED_SOURCES row above the chains' exact limit (exact, fast at any V)
WHOLE_ROW_KINDS = ("softmax", "tree", "stream")
#: the folder of the LM on GPT-2's tokenizer (`make lm-gpt2`): its rows join when it exists
DEFAULT_LM50K = "build/lm-gpt2"
NO_POLICY = "-"


@dataclass(frozen=True)
class FullVocabRow:
    row: str
    source: str
    temperature: float
    filter: str
    vocab_size: int           # kept V
    entropy: float            # nats
    entropy_fraction: float   # entropy / ln V
    sampler: str              # registry kind
    policy: str               # chain policy ("-" for samplers without one)
    config: str
    method: str               # "exact" or "monte carlo"
    tv: float                 # exact TV, or the Monte Carlo TV
    noise_floor: float        # expected TV of mc_tokens exact samples (0 for exact)
    mc_tokens: int
    fallback: float
    work_per_token: float
    work_unit: str
    rtl_clocks_per_token: float   # NaN: no RTL core
    truncation_bound: float
    seconds: float


@dataclass(frozen=True)
class ThroughputRow:
    sampler: str
    policy: str
    rows: int                 # B
    vocab_size: int           # V of each row before filtering
    filter: str
    tokens_per_s: float
    source: str = "heavy-tail"  # the rows: synthetic heavy-tail, or captured (lm50k)


def _sized(cfg: HwConfig, vocab_size: int) -> HwConfig:
    return cfg.replace(n_pbits=vocab_size)


def _samplers(kinds: Sequence[str], cfg: HwConfig, policies: dict[str, ChainPolicy], seed: int):
    """(kind, policy label, sampler) for every kind: once per policy for samplers that run one."""
    for kind in kinds:
        first = make_sampler(kind, cfg, next(iter(policies.values())), seed=seed)
        if first.policy is None:
            yield kind, NO_POLICY, first
            continue
        yield kind, next(iter(policies)), first
        for label, policy in list(policies.items())[1:]:
            yield kind, label, make_sampler(kind, cfg, policy, seed=seed)


def fullvocab(rows: Sequence[BenchRow], *, configs: dict[str, HwConfig] | None = None,
              kinds: Sequence[str] | None = None, policies: dict[str, ChainPolicy] | None = None,
              mc_tokens: int = 1000, mc_seconds: float = 2.0,
              mc_configs: Sequence[str] = ("default",),
              other_policies: Sequence[str] = ("robust",), seed: int = 0,
              progress: bool = True, bounded_sources: Sequence[str] = BOUNDED_SOURCES,
              whole_row_kinds: Sequence[str] = WHOLE_ROW_KINDS) -> list[FullVocabRow]:
    """Every sampler kind on every row at every configuration.

    Monte Carlo (rows beyond a sampler's exact limit) runs at the configurations named in
    ``mc_configs`` only, and at configurations other
    than the first only the chain policies named in ``other_policies`` run; rows of the
    ``bounded_sources`` get no Monte Carlo at all: beyond a sampler's exact limit only the
    ``whole_row_kinds`` evaluate them. These are the bounded-time (and bounded-memory) choices
    of the report.
    """
    configs = CONFIGS if configs is None else configs
    kinds = sampler_kinds() if kinds is None else tuple(kinds)
    policies = POLICIES if policies is None else policies
    first = next(iter(configs))
    out = []
    jobs = [(row, name) for row in rows for name in configs]
    for row, name in tqdm(jobs, desc="fullvocab", disable=not progress):
        cfg = _sized(configs[name], row.vocab_size)
        chosen = policies if name == first else {k: v for k, v in policies.items()
                                                 if k in other_policies}
        for kind, label, sampler in _samplers(kinds, cfg, chosen or policies, seed):
            limit = sampler.exact_limit
            if limit is not None and row.vocab_size > limit and name not in mc_configs:
                continue
            if row.source in bounded_sources and kind not in whole_row_kinds \
                    and row.vocab_size > MAX_EXACT_VOCAB:
                continue
            e = evaluate_row(sampler, row.kept, mc_tokens=mc_tokens, mc_seconds=mc_seconds,
                             seed=seed)
            out.append(FullVocabRow(
                row.name, row.source, row.temperature, row.filter, row.vocab_size, row.entropy,
                row.entropy_fraction, kind, label, name, e.method, e.tv, e.noise_floor, e.tokens,
                e.fallback, e.work_per_token, sampler.work_unit,
                float("nan") if e.rtl_clocks is None else float(e.rtl_clocks),
                e.truncation_bound, e.seconds))
    return out


def throughput(*, kinds: Sequence[str] | None = None,
               policies: dict[str, ChainPolicy] | None = None, batch: int = 32,
               cases: Sequence[tuple[int, int | None]] = ((2048, 50), (2048, None), (50257, 50)),
               cfg: HwConfig | None = None, seed: int = 0,
               real: dict[int, tuple[str, np.ndarray]] | None = None) -> list[ThroughputRow]:
    """Tokens per second of ``sample_batch`` on ``batch`` rows of V tokens (top-k or no filter,
    each case (V, top_k)), at the default HwConfig sized for the kept V; the best of two calls
    after one warm-up call. The rows: ``real[V]`` = (source, captured full rows (n, V)) where
    given, repeated to ``batch`` rows; else synthetic heavy-tailed rows."""
    cfg = HwConfig() if cfg is None else cfg
    kinds = sampler_kinds() if kinds is None else tuple(kinds)
    policies = POLICIES if policies is None else policies
    out = []
    for v, top_k in cases:
        source = "heavy-tail"
        if real and v in real:
            source, captured = real[v]
            logits = np.resize(np.asarray(captured, dtype=np.float64), (batch, v))
        else:
            masses = np.linspace(0.5, 0.95, batch)
            logits = np.stack([heavy_tail_row(v, float(m), seed + b).logits
                               for b, m in enumerate(masses)])
        kept_v = v if top_k is None else top_k
        for kind, label, sampler in _samplers(kinds, _sized(cfg, kept_v), policies, seed):
            sampler.sample_batch(logits[:2], top_k=top_k)  # compile and warm up
            best = np.inf
            for _ in range(2):
                start = time.perf_counter()
                sampler.sample_batch(logits, top_k=top_k)
                best = min(best, time.perf_counter() - start)
            out.append(ThroughputRow(kind, label, batch, v, "none" if top_k is None else
                                     f"top-k {top_k}", batch / best, source))
    return out


def goal_check(results: Sequence[FullVocabRow], config: str = "default") -> list[str]:
    """Markdown lines: the robust policy's goal (chain samplers, rows with V <= 64: exact TV <
    0.01, fallback < 0.1%, within 40 V updates) with the worst row per V and per sampler and
    policy; the tree's goal (exact TV < 0.005 up to V = 4,096)."""
    lines = ["| sampler | policy | kept V | rows | met | worst TV (row) | worst fallback (row) | "
             "most updates / V |", "|---|---|---|---|---|---|---|---|"]
    chain = [r for r in results if r.config == config and r.policy != NO_POLICY
             and r.method == "exact"]
    buckets = (8, 16, 32, 64)
    for kind, policy in sorted({(r.sampler, r.policy) for r in chain}):
        for low, v in zip((1,) + tuple(b + 1 for b in buckets), buckets):
            group = [r for r in chain if (r.sampler, r.policy) == (kind, policy)
                     and low <= r.vocab_size <= v]
            if not group:
                continue
            worst = max(group, key=lambda r: r.tv)
            worst_fb = max(group, key=lambda r: r.fallback)
            budget = max(r.work_per_token / r.vocab_size for r in group)
            met = all(r.tv < GOAL_TV and r.fallback < GOAL_FALLBACK and
                      r.work_per_token <= GOAL_BUDGET * r.vocab_size for r in group)
            lines.append(f"| {kind} | {policy} | {low}..{v} | {len(group)} | "
                         f"{'yes' if met else 'no'} "
                         f"| {worst.tv:.4f} ({worst.row}) | {worst_fb.fallback:.1e} "
                         f"({worst_fb.row}) | {budget:.1f} |")
    trees = [r for r in results if r.config == config and r.sampler == "tree"
             and r.vocab_size <= TREE_GOAL_VOCAB]
    if trees:
        worst = max(trees, key=lambda r: r.tv)
        met = all(r.tv < TREE_GOAL_TV for r in trees)
        lines += ["", f"Tree: exact TV < {TREE_GOAL_TV} on every row up to V = "
                  f"{TREE_GOAL_VOCAB:,} ({len(trees)} rows): {'met' if met else 'not met'}; "
                  f"worst {worst.tv:.4f} ({worst.row}, V = {worst.vocab_size})."]
    return lines


def _summary(results: Sequence[FullVocabRow]) -> str:
    lines = ["| sampler | policy | config | method | rows | V range | median TV | worst TV | "
             "median noise floor | worst fallback | median work/token | median RTL clocks/token |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r.sampler, r.policy, r.config, r.method) for r in results})
    for key in keys:
        g = [r for r in results if (r.sampler, r.policy, r.config, r.method) == key]
        clocks = [r.rtl_clocks_per_token for r in g if np.isfinite(r.rtl_clocks_per_token)]
        lines.append(
            f"| {key[0]} | {key[1]} | {key[2]} | {key[3]} | {len(g)} | "
            f"{min(r.vocab_size for r in g)}..{max(r.vocab_size for r in g)} | "
            f"{np.median([r.tv for r in g]):.4f} | {max(r.tv for r in g):.4f} | "
            f"{np.median([r.noise_floor for r in g]):.4f} | {max(r.fallback for r in g):.1e} | "
            f"{np.median([r.work_per_token for r in g]):.0f} {g[0].work_unit} | "
            f"{np.median(clocks) if clocks else float('nan'):.0f} |")
    return "\n".join(lines) + "\n"


def _per_row(results: Sequence[FullVocabRow], config: str) -> str:
    """One line per row at ``config``: TV of every (sampler, policy), MC marked with its floor."""
    cols = sorted({(r.sampler, r.policy) for r in results if r.config == config})
    head = ["row", "source", "V", "entropy"] + [f"{k} ({p})" if p != NO_POLICY else k
                                                for k, p in cols]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    names = list(dict.fromkeys(r.row for r in results if r.config == config))
    index = {(r.row, r.sampler, r.policy): r for r in results if r.config == config}
    for name in names:
        any_r = next(r for r in results if r.row == name)
        cells = [name, any_r.source, str(any_r.vocab_size), f"{any_r.entropy:.2f}"]
        for k, p in cols:
            r = index.get((name, k, p))
            if r is None:
                cells.append("")
            elif r.method == "exact":
                cells.append(f"{r.tv:.4f}")
            else:
                cells.append(f"MC {r.tv:.3f} (floor {r.noise_floor:.3f})")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _plot(results: Sequence[FullVocabRow], path: Path, config: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    at = [r for r in results if r.config == config]
    series = sorted({(r.sampler, r.policy) for r in at})
    fig, axes = plt.subplots(1, 3, figsize=(17, 4.8))
    for k, (kind, policy) in enumerate(series):
        g = [r for r in at if (r.sampler, r.policy) == (kind, policy)]
        label = kind if policy == NO_POLICY else f"{kind} ({policy})"
        exact = [r for r in g if r.method == "exact"]
        mc = [r for r in g if r.method != "exact"]
        jitter = 1 + 0.04 * (k - len(series) / 2)
        for ax, x in ((axes[0], lambda r: r.vocab_size * jitter),
                      (axes[1], lambda r: r.entropy_fraction)):
            ax.scatter([x(r) for r in exact], [max(r.tv, 1e-6) for r in exact], s=12,
                       color=f"C{k}", label=label)
            ax.scatter([x(r) for r in mc], [max(r.tv, 1e-6) for r in mc], s=14, marker="x",
                       color=f"C{k}", alpha=0.6)
        clocks = [r for r in g if np.isfinite(r.rtl_clocks_per_token)]
        if clocks:
            axes[2].scatter([r.vocab_size * jitter for r in clocks],
                            [r.rtl_clocks_per_token for r in clocks], s=12, color=f"C{k}",
                            label=label)
    floors = sorted({(r.vocab_size, r.noise_floor) for r in at if r.method != "exact"})
    if floors:
        axes[0].scatter([v for v, _ in floors], [f for _, f in floors], s=30, marker="_",
                        color="grey", label="MC noise floor")
    axes[0].set_xscale("log")
    axes[0].set_xlabel("kept V")
    axes[1].set_xlabel("entropy / ln V")
    for ax in axes[:2]:
        ax.set_yscale("log")
        ax.set_ylabel("TV to softmax (dots exact, x Monte Carlo)")
        ax.axhline(GOAL_TV, color="grey", lw=0.8, ls="--")
        ax.grid(alpha=0.3)
    axes[2].set_xscale("log")
    axes[2].set_yscale("log")
    axes[2].set_xlabel("kept V")
    axes[2].set_ylabel("RTL clock cycles per token")
    axes[2].grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    fig.suptitle(f"Every sampler on the benchmark rows, HwConfig {config}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_fullvocab(results: Sequence[FullVocabRow], speeds: Sequence[ThroughputRow],
                    out_dir: Path, header: str) -> list[Path]:
    """fullvocab.csv (every evaluation), fullvocab.md (goal check, summary, per-row table at
    the default configuration, throughput) and fullvocab.png."""
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = write_csv(results, out_dir / "fullvocab.csv")
    first = results[0].config
    lines = [header, "", f"## Goal check (HwConfig {first}, exact evaluator)", "",
             *goal_check(results, first), "", "## Summary per sampler, policy and configuration",
             "", _summary(results), f"## Tokens per second of the batch path "
             f"(`sample_batch`, HwConfig {first} sized for the kept V)", "",
             markdown_table(speeds, {"tokens_per_s": ".4g"}) if speeds else "(not measured)\n",
             f"## Every row (HwConfig {first}): exact TV, or Monte Carlo TV with its noise floor",
             "", _per_row(results, first)]
    png = out_dir / "fullvocab.png"
    _plot(results, png, first)
    lines += [f"Plot: `{png.name}`", ""]
    md = out_dir / "fullvocab.md"
    md.write_text("\n".join(lines) + "\n")
    return [csv_path, md, png]


def _lm50k_folder(path: str | Path | None) -> str | Path | None:
    """The LM on GPT-2's tokenizer to capture rows from: ``path``; the default folder only when
    it holds a model (a path given otherwise must load)."""
    if path is not None and str(path) == DEFAULT_LM50K \
            and not (Path(path) / "config.json").is_file():
        return None
    return path


def _full_rows(rows: Sequence[BenchRow], source: str) -> dict[int, tuple[str, np.ndarray]]:
    """{V: (source, the source's whole-vocabulary rows (n, V))} for the throughput cases."""
    full = [r.logits for r in rows if r.source == source and r.filter == "none"]
    return {full[0].size: (source, np.stack(full))} if full else {}


def fullvocab_report(out: Path, lm_path: str | Path | None = "build/lm", *, quick: bool = False,
                     seed: int = 0, mc_tokens: int | None = None,
                     mc_seconds: float | None = None, progress: bool = True,
                     lm50k_path: str | Path | None = DEFAULT_LM50K) -> str:
    """Run the full-vocabulary benchmark and write fullvocab.{md,csv,png} under ``out``; returns
    the goal check. ``quick``: V in {8, 32, 2048}, the default and one other configuration, a
    smaller Monte Carlo budget (about a minute here). ``lm50k_path``: the LM on GPT-2's tokenizer
    (source lm50k; its rows at V = 50,257 also feed the throughput case there); the default
    folder joins only when it holds a model, None: no lm50k rows."""
    start = time.perf_counter()
    synthetic = dict(vocab_sizes=QUICK_VOCABS, heavy_vocabs=(2048,)) if quick else {}
    asked, lm50k_path = lm50k_path, _lm50k_folder(lm50k_path)
    rows, note = load_benchmark(lm_path, lm50k_path=lm50k_path, contexts=2 if quick else 4,
                                seed=seed, **synthetic)
    if asked is not None and lm50k_path is None:
        note += f"; no lm50k rows (no model at `{asked}`: `make lm-gpt2` trains one)"
    if quick:
        rows = [r for r in rows if r.source != "gaussian" or r.name.endswith(("H0.1", "H0.55",
                                                                             "H0.995"))]
        rows = select_rows(rows, max_vocab=2048)
    configs = dict(list(CONFIGS.items())[:2]) if quick else CONFIGS
    mc_tokens = mc_tokens or (200 if quick else 1000)
    mc_seconds = mc_seconds or (0.5 if quick else 2.0)
    results = fullvocab(rows, configs=configs, mc_tokens=mc_tokens, mc_seconds=mc_seconds,
                        seed=seed, progress=progress)
    speeds = throughput(batch=8 if quick else 32,
                        cases=((2048, 50),) if quick else ((2048, 50), (2048, None), (50257, 50)),
                        seed=seed, real=_full_rows(rows, "lm50k"))
    sources = sorted({r.source for r in rows})
    per_source = ", ".join(f"{sum(r.source == s for r in rows)} {s}" for s in sources)
    bounded = [s for s in BOUNDED_SOURCES if s in sources]
    header = (f"# Faithful on every distribution an LLM produces\n\nCommand: `pysampler fullvocab"
              f"{' --quick' if quick else ''}` (`make fullvocab`), "
              f"{time.perf_counter() - start:.0f} s here. Rows (`pysampler.experiments.rows`): {len(rows)} ({per_source}); {note}."
              f" Configurations: {', '.join(configs)} (n_pbits = kept V for every core). Chain "
              f"policies: old defaults (`LEGACY`: lambda 2.5, 20 sweeps, restart, shift by max, "
              f"start from zeros) and robust (`ROBUST` = `ChainPolicy()`, the defaults: random "
              f"one-hot start, shift and lambda phase per row); at the other widths only the "
              f"robust one. Exact evaluation where the sampler's law reaches; beyond it (chain "
              f"samplers above 64 kept tokens) Monte Carlo with the real generator (batches of "
              f"the row, one lane each) at the default configuration only, at most "
              f"{mc_tokens} tokens and no new batch after {mc_seconds:g} s per evaluation, its "
              f"noise floor beside it."
              + (f" Rows of source {', '.join(bounded)}: above {MAX_EXACT_VOCAB} kept tokens only "
                 f"{', '.join(WHOLE_ROW_KINDS)} evaluate them (no Monte Carlo), every sampler on "
                 f"their top-k 50 rows; the throughput case at V = 50,257 draws their "
                 f"whole-vocabulary rows." if bounded else ""))
    paths = write_fullvocab(results, speeds, out, header)
    md = (out / "fullvocab.md").read_text()
    return "\n".join(f"wrote {p}" for p in paths) + "\n\n" + md.split("## Summary")[0]
