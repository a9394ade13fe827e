"""p-bits inside networks, measured (``make nn``, ``pysampler nn``): results/nn.md and its plots.

Sections (each on the float reference and the bit-accurate emulated hardware):

1. the binary stochastic layer's law against the sigmoid, per HwConfig width (exact);
2. p-bit Gaussian noise (exact and measured mean, variance, KS to the normal) and p-bit dropout;
3. thermal linear layers: a trained sigmoid MLP on the digits, its Linear -> Sigmoid pairs
   replaced (:func:`~pysampler.nn.thermal.replace_linear_layers`), accuracy against K, widths,
   the sparsity threshold and global annealing;
4. p-bit attention in the offline GPT-2: held-out perplexity against K and widths, the exact
   expected TV of one query's weights, time; then fine-tuning with it;
5. the digits classifier with p-bit activations: accuracy, NLL, predictive entropy and ECE of
   N stochastic passes, beside a deterministic twin and MC dropout; the reliability diagram.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..contract.config import HwConfig
from .tables import markdown_table

__all__ = ["nn_report", "heldout_tokens", "attention_sweep", "finetune_comparison", "goal_line",
           "AttentionRow", "FinetuneRow", "WIDTHS", "DRAWS", "GOAL"]

WIDTHS = ((6, 2), (8, 3), (10, 4), (12, 6))      # (weight_bits, frac_bits)
DRAWS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
GOAL = 0.02                                       # perplexity within 2% of softmax attention


def _cfg(width: tuple[int, int]) -> HwConfig:
    return HwConfig(weight_bits=width[0], frac_bits=width[1])


def _width_name(width: tuple[int, int] | None) -> str:
    return "float" if width is None else f"{width[0]}/{width[1]}"


# --- 1. the binary layer's law -------------------------------------------------------------------
@dataclass
class LawRow:
    backend: str
    weight_bits_frac_bits: str
    max_abs_error_vs_sigmoid: float
    at_logit: float
    saturated_of_grid: int


def _law_rows(beta: float = 1.0) -> list[LawRow]:
    import torch

    from ..nn import BinaryStochastic

    grid = torch.linspace(-40, 40, 16001, dtype=torch.float64)
    rows = []
    for width in (None, *WIDTHS):
        layer = BinaryStochastic(beta, backend="float" if width is None else "emulated",
                                 cfg=None if width is None else _cfg(width))
        err = (layer.law(grid) - torch.sigmoid(beta * grid)).abs()
        k = int(err.argmax())
        sat = 0 if width is None else int((grid.abs() > _cfg(width).weight_max * _cfg(width).lsb)
                                          .sum())
        rows.append(LawRow("float" if width is None else "emulated", _width_name(width),
                           float(err.max()), float(grid[k]), sat))
    return rows


# --- 2. noise and dropout ------------------------------------------------------------------------
@dataclass
class NoiseRow:
    backend: str
    n_bits: int
    exact_ks_to_normal: float
    mean: float
    variance: float
    ks_to_normal: float
    ks_to_exact_law: float
    dkw_bound_999: float


@dataclass
class DropoutRow:
    backend: str
    drop_p: float
    target_keep: float
    exact_keep: float
    measured_keep: float
    mean_output_over_input: float


def _noise_rows(draws: int, seed: int) -> tuple[list[NoiseRow], dict]:
    import torch
    from scipy.stats import binom, kstest

    from ..nn.noise import PBitGaussianNoise, dkw_bound

    rows, samples = [], {}
    zeros = torch.zeros(draws, dtype=torch.float64)
    for backend in ("float", "emulated"):
        for n in (4, 16, 64, 256):
            layer = PBitGaussianNoise(1.0, n, backend=backend, seed=seed)
            noise = layer(zeros).numpy()
            samples[(backend, n)] = noise
            counts = np.rint(noise * math.sqrt(n * 0.25) + n * 0.5).astype(np.int64)
            emp = np.cumsum(np.bincount(counts, minlength=n + 1)) / draws
            rows.append(NoiseRow(backend, n, layer.exact_ks(), float(noise.mean()),
                                 float(noise.var()), float(kstest(noise, "norm").statistic),
                                 float(np.abs(emp - binom.cdf(np.arange(n + 1), n, 0.5)).max()),
                                 dkw_bound(draws)))
    return rows, samples


def _dropout_rows(draws: int, seed: int) -> list[DropoutRow]:
    import torch

    from ..nn.noise import PBitDropout

    x = torch.ones(draws, dtype=torch.float64)
    rows = []
    for backend, width in (("float", None), ("emulated", (10, 4)), ("emulated", (6, 2))):
        for p in (0.1, 0.5, 0.9):
            layer = PBitDropout(p, backend=backend, cfg=None if width is None else _cfg(width),
                                seed=seed).train()
            out = layer(x).numpy()
            rows.append(DropoutRow(f"{backend} {_width_name(width)}", p, 1 - p,
                                   layer.keep_probability, float((out != 0).mean()),
                                   float(out.mean())))
    return rows


# --- 3 and 5. the digits classifiers -------------------------------------------------------------
@dataclass
class ThermalRow:
    backend: str
    num_samples: int
    threshold: float
    sparsity: float
    beta_scale: float
    accuracy: float
    accuracy_of_8_pass_mean: float
    saturated_fields: int


@dataclass
class ClassifierRow:
    model: str
    backend: str
    accuracy: float
    single_pass_accuracy: float
    nll: float
    entropy: float
    entropy_errors: float
    entropy_correct: float
    ece: float


def _thermal_rows(twin, split, seed: int, quick: bool) -> list[ThermalRow]:
    from ..nn import anneal
    from ..nn.classifier import predict_passes
    from ..nn.thermal import replace_linear_layers
    from ..nn.uncertainty import ensemble_summary

    labels = split.y_test.numpy()
    base = ensemble_summary(predict_passes(twin, split.x_test, 1), labels)["accuracy"]
    rows = [ThermalRow("deterministic (sigmoid)", 0, 0.0, 0.0, 1.0, base, base, 0)]
    settings = [("float", None, k, 0.0, 1.0) for k in ((1, 16) if quick else (1, 4, 16, 64))]
    settings += [("emulated", w, k, 0.0, 1.0) for w in ((10, 4), (6, 2))
                 for k in ((1, 16) if quick else (1, 4, 16, 64))]
    thresholds = (0.1,) if quick else (0.05, 0.1, 0.2)
    settings += [("emulated", (10, 4), 16, th, 1.0) for th in thresholds]
    settings += [("emulated", (10, 4), 16, 0.0, s) for s in ((2.0,) if quick else (0.5, 2.0, 4.0))]
    for backend, width, k, th, scale in settings:
        model = copy.deepcopy(twin)
        replace_linear_layers(model, backend=backend, cfg=None if width is None else _cfg(width),
                              num_samples=k, threshold=th, seed=seed)
        thermal = [m for m in model.modules() if hasattr(m, "sparsity")]
        with anneal(model, scale=scale):
            single = ensemble_summary(predict_passes(model, split.x_test, 1), labels)["accuracy"]
            mean8 = ensemble_summary(predict_passes(model, split.x_test, 8), labels)["accuracy"]
        weights = sum(m.linear.weight.numel() for m in thermal)
        sparsity = sum(m.sparsity * m.linear.weight.numel() for m in thermal) / weights
        rows.append(ThermalRow(f"{backend} {_width_name(width)}", k, th, sparsity, scale, single,
                               mean8, sum(m.n_saturated for m in thermal)))
    return rows


def _classifier_rows(split, seed: int, quick: bool, passes: int):
    from ..nn import use_backend
    from ..nn.classifier import make_mlp, predict_passes, train_classifier
    from ..nn.uncertainty import ensemble_summary, reliability_bins

    epochs = 4 if quick else 40
    hidden = (32,) if quick else (64, 64)
    labels = split.y_test.numpy()
    twin = make_mlp(hidden, "sigmoid", seed=seed)
    mc = make_mlp(hidden, "sigmoid", dropout=0.2, seed=seed)
    pbit = make_mlp(hidden, "pbit", num_samples=4, seed=seed)
    trained = {}
    for name, model in (("deterministic twin (sigmoid)", twin),
                        ("MC dropout (p-bit dropout 0.2)", mc),
                        ("p-bit activations (K=4, STE)", pbit)):
        start = time.perf_counter()
        train_classifier(model, split, epochs=epochs, lr=0.01, seed=seed, progress=True)
        trained[name] = time.perf_counter() - start
    rows, bins = [], {}

    def add(name, backend, model, n, mc_dropout=False):
        probs = predict_passes(model, split.x_test, n, mc_dropout=mc_dropout)
        fig = ensemble_summary(probs, labels)
        rows.append(ClassifierRow(name, backend, fig["accuracy"], fig["single_pass_accuracy"],
                                  fig["nll"], fig["entropy"], fig["entropy_errors"],
                                  fig["entropy_correct"], fig["ece"]))
        bins[f"{name}, {backend}"] = reliability_bins(probs.mean(axis=0), labels, 10)

    add("deterministic twin (sigmoid)", "float", twin, 1)
    add("MC dropout (p-bit dropout 0.2)", "float", mc, passes, mc_dropout=True)
    add("p-bit activations (K=4, STE)", "float", pbit, passes)
    for width in ((10, 4), (8, 3), (6, 2)):
        use_backend(pbit, "emulated", _cfg(width), seed=seed)
        add("p-bit activations (K=4, STE)", f"emulated {_width_name(width)}", pbit, passes)
    use_backend(pbit, "float", seed=seed)
    for m in pbit.modules():
        if getattr(m, "anneals", False):
            m.num_samples = 1
    add("p-bit activations (K=1 at test)", "float", pbit, passes)
    use_backend(pbit, "emulated", _cfg((10, 4)), seed=seed)
    add("p-bit activations (K=1 at test)", "emulated 10/4", pbit, passes)
    return rows, bins, twin, trained


# --- 4. attention --------------------------------------------------------------------------------
@dataclass
class AttentionRow:
    sampler: str
    weight_bits_frac_bits: str
    draws_k: int
    perplexity: float
    vs_softmax: float
    expected_tv_per_query: float
    pbit_decisions_per_query: int
    seconds: float


def heldout_tokens(lm_dir: Path, tokenizer=None, split: str = "heldout") -> np.ndarray:
    """The offline LM's held-out (or training) token ids: the corpus split of
    :func:`pysampler.llm.train.train_lm` (the last 2% of the paragraphs), re-encoded."""
    from transformers import AutoTokenizer

    from ..llm.train import _encode, load_corpus

    tok = AutoTokenizer.from_pretrained(lm_dir) if tokenizer is None else tokenizer
    paragraphs = load_corpus()
    cut = int(len(paragraphs) * 0.98)
    return _encode(tok, paragraphs[cut:] if split == "heldout" else paragraphs[:cut])


def _windows(tokens: np.ndarray, context: int, count: int) -> np.ndarray:
    usable = tokens.size // context
    if usable < 1:
        raise ValueError(f"need at least {context} held-out tokens, got {tokens.size}")
    return tokens[:min(count, usable) * context].reshape(-1, context)


def _perplexity(model, windows: np.ndarray, batch: int = 16) -> float:
    import torch

    total, count = 0.0, 0
    with torch.no_grad():
        for lo in range(0, windows.shape[0], batch):
            x = torch.from_numpy(windows[lo:lo + batch])
            loss = model(input_ids=x, labels=x).loss
            n = x.shape[0] * (x.shape[1] - 1)
            total += float(loss) * n
            count += n
    return math.exp(total / count)


def _scores_of(model, windows: np.ndarray) -> list[np.ndarray]:
    """The softmax model's attention scores (masked keys -inf) of every layer, head and query on
    ``windows``: what the expected TV is computed on."""
    import torch

    from ..nn.attention import use_pbit_attention, use_softmax_attention

    captured: list[np.ndarray] = []

    class _Recorder(torch.nn.Module):
        def forward(self, scores):
            captured.append(scores.detach().double().numpy().reshape(-1, scores.shape[-1]))
            return torch.softmax(scores, dim=-1)

    use_pbit_attention(model, 1, sampler="float")
    for block in model.modules():
        if hasattr(block, "pbit_attention"):
            block.pbit_attention = _Recorder()
    with torch.no_grad():
        model(input_ids=torch.from_numpy(windows))
    use_softmax_attention(model)
    return captured


def attention_sweep(model, windows: np.ndarray, tv_windows: np.ndarray, draws, widths,
                    seed: int) -> tuple[list[AttentionRow], float]:
    from scipy.special import softmax as sp_softmax

    from ..nn.attention import PBitAttentionWeights, expected_tv, use_pbit_attention, \
        use_softmax_attention
    from tqdm import tqdm

    use_softmax_attention(model)
    start = time.perf_counter()
    base = _perplexity(model, windows)
    base_seconds = time.perf_counter() - start
    rows = [AttentionRow("softmax", "float", 0, base, 1.0, 0.0, 0, base_seconds)]
    scores = np.concatenate(_scores_of(model, tv_windows))
    p = sp_softmax(scores, axis=1)
    depth = int(math.log2(max(2, model.config.n_positions)))
    jobs = [("float", None)] + [("tree", w) for w in widths]
    bar = tqdm(total=len(jobs) * len(draws), desc="attention", unit="eval", mininterval=5.0)
    for sampler, width in jobs:
        cfg = HwConfig(n_pbits=max(64, model.config.n_positions)) if width is None else \
            _cfg(width).replace(n_pbits=max(64, model.config.n_positions))
        q = PBitAttentionWeights(1, sampler=sampler, cfg=cfg).law_numpy(scores)
        for k in draws:
            use_pbit_attention(model, k, sampler=sampler, cfg=cfg, seed=seed)
            start = time.perf_counter()
            ppl = _perplexity(model, windows)
            seconds = time.perf_counter() - start
            rows.append(AttentionRow(sampler, _width_name(width), k, ppl, ppl / base,
                                     float(expected_tv(q, p, k).mean()), k * depth, seconds))
            bar.update(1)
    bar.close()
    use_softmax_attention(model)
    return rows, base


@dataclass
class FinetuneRow:
    model: str
    attention_at_eval: str
    perplexity: float
    vs_softmax_before: float
    steps: int
    seconds: float


def _finetune(model, train_windows: np.ndarray, seconds: float, *, k: int | None, cfg,
              seed: int, batch: int = 16) -> int:
    """AdamW on the LM loss for ``seconds`` of wall time, with p-bit attention (tree, K draws,
    straight-through softmax gradient) or softmax (``k=None``). Returns the steps taken."""
    import torch

    from ..nn.attention import use_pbit_attention, use_softmax_attention

    if k is None:
        use_softmax_attention(model)
    else:
        use_pbit_attention(model, k, sampler="tree", cfg=cfg, seed=seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    model.train()
    start, steps = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        x = torch.from_numpy(train_windows[rng.integers(0, train_windows.shape[0], batch)])
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
    model.eval()
    use_softmax_attention(model)
    return steps


def finetune_comparison(model, windows, train_windows, base: float, k: int, width, seconds: float,
                   seed: int) -> list[FinetuneRow]:
    from ..nn.attention import use_pbit_attention, use_softmax_attention

    cfg = _cfg(width).replace(n_pbits=max(64, model.config.n_positions))
    rows = []
    for name, kk in ((f"fine-tuned with softmax attention ({seconds:.0f} s)", None),
                     (f"fine-tuned with p-bit attention (tree {_width_name(width)}, K={k}, "
                      f"{seconds:.0f} s)", k)):
        tuned = copy.deepcopy(model)
        start = time.perf_counter()
        steps = _finetune(tuned, train_windows, seconds, k=kk, cfg=cfg, seed=seed)
        took = time.perf_counter() - start
        use_softmax_attention(tuned)
        ppl = _perplexity(tuned, windows)
        rows.append(FinetuneRow(name, "softmax", ppl, ppl / base, steps, took))
        for kk_eval in (k, 4 * k):
            use_pbit_attention(tuned, kk_eval, sampler="tree", cfg=cfg, seed=seed)
            ppl = _perplexity(tuned, windows)
            rows.append(FinetuneRow(name, f"tree {_width_name(width)} K={kk_eval}", ppl,
                                    ppl / base, steps, took))
        use_softmax_attention(tuned)
    return rows


# --- plots ---------------------------------------------------------------------------------------
def _attention_plot(path: Path, attention: list[AttentionRow], plt) -> Path:
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    base = next(r.perplexity for r in attention if r.sampler == "softmax")
    for name in dict.fromkeys(r.weight_bits_frac_bits for r in attention if r.sampler != "softmax"):
        rs = [r for r in attention if r.sampler != "softmax" and r.weight_bits_frac_bits == name]
        label = "float categorical" if name == "float" else f"p-bit tree {name}"
        ax[0].plot([r.draws_k for r in rs], [r.perplexity for r in rs], "o-", label=label)
        ax[1].plot([r.draws_k for r in rs], [r.expected_tv_per_query for r in rs], "o-",
                   label=label)
    ax[0].axhline(base, color="k", lw=1, label="softmax attention")
    ax[0].axhline(base * (1 + GOAL), color="k", lw=1, ls="--", label="softmax + 2%")
    for a, title in zip(ax, ("held-out perplexity", "exact E TV of one query's weights")):
        a.set_xscale("log", base=2)
        a.set_xlabel("draws per query K")
        a.set_title(title)
        a.legend(fontsize=7)
    ax[0].set_yscale("log")
    ax[1].set_yscale("log")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _plots(out: Path, attention: list[AttentionRow], samples: dict, bins: dict) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    paths = []
    if attention:
        paths.append(_attention_plot(out / "nn_attention.png", attention, plt))
    fig, ax = plt.subplots(1, 2, figsize=(10, 4))
    for a, n in zip(ax, (16, 64)):
        edges = (np.arange(n + 2) - 0.5 - n / 2) / math.sqrt(n / 4)
        for backend in ("float", "emulated"):
            if (backend, n) in samples:
                a.hist(samples[(backend, n)], bins=edges, density=True, histtype="step",
                       label=f"{backend}, {samples[(backend, n)].size:,} draws")
        z = np.linspace(-4, 4, 400)
        a.plot(z, norm.pdf(z), "k", lw=1, label="N(0, 1)")
        a.set_title(f"sum of {n} p-bits, centred and scaled")
        a.legend(fontsize=7)
    fig.tight_layout()
    paths.append(out / "nn_noise.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(5.5, 5))
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    for name, b in bins.items():
        used = b["count"] > 0
        ax.plot(b["confidence"][used], b["accuracy"][used], "o-", ms=3, label=name)
    ax.set_xlabel("confidence (mean max probability in the bin)")
    ax.set_ylabel("accuracy in the bin")
    ax.set_title("reliability diagram, digits test set")
    ax.legend(fontsize=6)
    fig.tight_layout()
    paths.append(out / "nn_reliability.png")
    fig.savefig(paths[-1], dpi=120)
    plt.close(fig)
    return paths


# --- the report ----------------------------------------------------------------------------------
def goal_line(rows: list[AttentionRow]) -> str:
    hits = [r for r in rows if r.sampler == "tree" and r.vs_softmax <= 1 + GOAL]
    if not hits:
        return (f"**Goal (perplexity within {GOAL:.0%} of softmax attention): not met** by the "
                f"p-bit tree at any K and width measured.")
    best = min(hits, key=lambda r: (r.draws_k, int(r.weight_bits_frac_bits.split("/")[0])))
    return (f"**Goal (perplexity within {GOAL:.0%} of softmax attention): met** at K = "
            f"{best.draws_k} draws per query on the p-bit tree at {best.weight_bits_frac_bits} "
            f"(perplexity {best.perplexity:.2f}, {100 * (best.vs_softmax - 1):+.2f}%), for "
            f"{best.pbit_decisions_per_query} p-bit decisions per query "
            f"({best.seconds:.1f} s for the evaluation on this CPU).")


def nn_report(out: Path, lm_dir: Path | str | None, *, quick: bool = False, seed: int = 0,
              finetune_seconds: float = 120.0, tokens: np.ndarray | None = None,
              train_tokens: np.ndarray | None = None, lm=None) -> str:
    """Run every section and write ``out/nn.md`` and the plots; returns the Markdown. ``tokens``
    / ``train_tokens`` replace the corpus's held-out / training tokens (tests); ``lm``: the
    loaded ``lm_dir`` (:func:`~pysampler.llm.load_lm`), loaded here when not given."""
    import torch

    from ..llm.generate import load_lm
    from ..nn.classifier import load_digits_split

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(1)   # small tensors: one thread is far faster on a loaded machine
    started = time.perf_counter()
    draws = (1, 4, 16) if quick else DRAWS
    widths = ((6, 2), (10, 4)) if quick else WIDTHS

    model = held = train = None
    if lm_dir is not None:   # the model and the corpus first: a missing one fails before any work
        lm = load_lm(lm_dir) if lm is None else lm
        model = lm.model.float().eval()
        model.config._attn_implementation = "eager"
        held = heldout_tokens(Path(lm_dir), lm.tokenizer) if tokens is None else tokens
        train = heldout_tokens(Path(lm_dir), lm.tokenizer, "train") if train_tokens is None \
            else train_tokens

    law = _law_rows()
    noise, samples = _noise_rows(2_000 if quick else 100_000, seed)
    dropout = _dropout_rows(2_000 if quick else 100_000, seed)
    split = load_digits_split(seed=seed)
    classifier, bins, twin, trained = _classifier_rows(split, seed, quick, 4 if quick else 32)
    thermal = _thermal_rows(twin, split, seed, quick)

    attention, finetune, lm_note = [], [], "(no language model: section skipped)"
    if model is not None:
        context = model.config.n_positions
        windows = _windows(held, context, 8 if quick else 64)
        attention, base = attention_sweep(model, windows, windows[:2 if quick else 16], draws,
                                          widths, seed)
        k_ft = 4
        finetune = finetune_comparison(model, windows, _windows(train, context, 1 << 30), base,
                                       k_ft, (10, 4), finetune_seconds, seed)
        lm_note = (f"Model: {lm_dir} ({sum(p.numel() for p in model.parameters()):,} parameters, "
                   f"{model.config.n_layer} layers, {model.config.n_head} heads, context "
                   f"{context}); held-out text: {windows.shape[0]} windows of {context} tokens "
                   f"({windows.size:,} tokens, the last 2% of the corpus the LM never saw). "
                   f"Expected TV: over every layer, head and query of the first "
                   f"{2 if quick else 16} windows, on the softmax model's scores.")
    _plots(out, attention, samples, bins)
    mlp = "64-32-10" if quick else "64-64-64-10"
    elapsed = time.perf_counter() - started

    lines = [
        "# p-bits inside the network", "",
        f"Command: `make nn` (`pysampler nn{' --quick' if quick else ''}`, seed {seed}); "
        f"{elapsed / 60:.1f} minutes on this machine (torch on one thread). Every layer runs on "
        "the float reference (sigmoid in float64, PCG64) and on the bit-accurate emulated "
        "hardware (field quantized to the HwConfig's weight_bits/frac_bits, the sigmoid LUT, one "
        "LFSR per p-bit); widths are written weight_bits/frac_bits, the other HwConfig fields "
        "their defaults (LUT 10 address bits, P = 16, 32-bit LFSR).", "",
        "## 1. Binary stochastic layer: its law against sigmoid(x)", "",
        "Exact (no sampling): the emulated layer turns on with probability "
        "LUT[address(q(beta x / cfg.beta))] / 2^16 (tested equal to the contract's quantizer and "
        "LUT); the largest gap to sigmoid(x) over x in [-40, 40] (16,001 points) and where it "
        "is. Beyond the field range (|x| > (2^(w-1) - 1) 2^-f) the field saturates.", "",
        markdown_table(law, {"max_abs_error_vs_sigmoid": ".3g", "at_logit": ".4g"}),
        "## 2. p-bit Gaussian noise and p-bit dropout", "",
        "Noise: the sum of n p-bits at field 0, centred and scaled to variance 1 (exact law "
        "Binomial(n, 1/2): mean 0, variance 1; the LUT entry at 0 is exactly 2^15, so the "
        "emulated law is the same). `exact_ks_to_normal` is the exact Kolmogorov-Smirnov "
        "distance of that law to N(0, 1); the measured columns are from the draws "
        f"({samples[('float', 4)].size:,} per row); `ks_to_exact_law` is the draws' distance to "
        "the binomial (below the DKW bound at 99.9% when the generator behaves).", "",
        markdown_table(noise, {"mean": ".2e", "variance": ".4f"}),
        "![noise](nn_noise.png)", "",
        "Dropout: one p-bit per element at the keep logit ln((1-p)/p); the kept inputs are "
        "divided by the exact keep probability of the backend (so the output is unbiased on "
        "the hardware too).", "",
        markdown_table(dropout, {"exact_keep": ".6f", "measured_keep": ".4f",
                                 "mean_output_over_input": ".4f"}),
        "## 3. Thermal linear layers on a trained model", "",
        f"The deterministic twin of section 5 (a sigmoid MLP {mlp} trained on the digits) "
        "with `replace_linear_layers`: each hidden Linear -> Sigmoid becomes a ThermalLinear "
        "(field W x + b, quantized on the emulated hardware, K p-bits averaged), no retraining. "
        "Threshold: weights with |w| <= threshold dropped (sparsity = the fraction dropped). "
        "beta_scale: global annealing (`anneal(model, scale=...)`, the p-bits at beta times the "
        "scale). Accuracy on the 539 test digits: one stochastic pass, and the mean of 8 "
        "passes.", "",
        markdown_table(thermal, {"accuracy": ".4f", "accuracy_of_8_pass_mean": ".4f",
                                 "sparsity": ".3f"}),
        "## 4. p-bit attention in the offline GPT-2", "",
        lm_note, "",
        "Each query's softmax(QK^T / sqrt(d)) is replaced by K key indices drawn by the sampler "
        "and averaged as one-hot rows (the float categorical: unbiased; the p-bit tree: the "
        "bit-accurate tree core of the HwConfig, 6 levels of LUT p-bit decisions per draw, its "
        "law the tree's exact one), swapped into the trained model with no retraining. "
        "`expected_tv_per_query` is exact: E TV(counts/K, softmax) = 1/(2K) sum_i E|X_i - K p_i| "
        "with X_i ~ Binomial(K, q_i), q the sampler's exact law (a closed form in binomial "
        "CDFs), averaged over queries. `seconds`: the evaluation's wall time on this CPU "
        "(emulation, not hardware); `pbit_decisions_per_query` = K log2(64).", "",
        goal_line(attention) if attention else "", "",
        markdown_table(attention, {"perplexity": ".3f", "vs_softmax": ".4f",
                                   "expected_tv_per_query": ".4f", "seconds": ".2f"}),
        "![attention](nn_attention.png)" if attention else "", "",
        "Fine-tuning: the trained LM trained on for the same wall time with softmax attention "
        "(the control) and with p-bit attention (tree, straight-through gradient: the forward "
        "pass uses the K-draw estimate, the backward pass softmax's gradient), then evaluated "
        "with softmax and with p-bit attention. `vs_softmax_before` is against the untouched "
        "model with softmax attention.", "",
        markdown_table(finetune, {"perplexity": ".3f", "vs_softmax_before": ".4f",
                                  "seconds": ".0f"}),
        "## 5. A classifier with p-bit layers and its uncertainty", "",
        f"scikit-learn's bundled digits (1,797 8x8 images; 1,258 train, 539 test); MLP "
        f"{mlp} trained with Adam "
        f"({4 if quick else 40} epochs, lr 0.01): a sigmoid deterministic twin, the same with "
        "p-bit dropout 0.2 after each hidden layer (MC dropout at test), and p-bit activations "
        "(BinaryStochastic, K = 4 p-bits averaged, sigmoid-derivative straight-through "
        "gradient) trained on the float backend, then run on the emulated hardware with the same "
        f"weights. Figures of {4 if quick else 32} stochastic passes (the deterministic twin: "
        "one): accuracy of the mean prediction, mean single-pass accuracy, NLL (nats), mean "
        "predictive entropy (nats) overall / on errors / on correct answers, ECE (10 bins). "
        "Training seconds: " + ", ".join(f"{k}: {v:.0f}" for k, v in trained.items()) + ".", "",
        markdown_table(classifier, {"accuracy": ".4f", "single_pass_accuracy": ".4f",
                                    "nll": ".4f", "entropy": ".3f", "entropy_errors": ".3f",
                                    "entropy_correct": ".3f", "ece": ".4f"}),
        "![reliability](nn_reliability.png)", "",
    ]
    text = "\n".join(lines).replace("\n\n\n", "\n\n")
    (out / "nn.md").write_text(text)
    return text
