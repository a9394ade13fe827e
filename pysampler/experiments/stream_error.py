"""The stream sampler's error analysis: exact TV against softmax vs the accumulator's fractional
bits, the table step and the draw width, over V = 8 .. 50,257 on flat, peaked and LM-like rows;
Gumbel-max at the same bit budget beside it (``docs/stream.md``).

``pysampler stream-error`` (``make stream-error``) writes the tables of docs/stream.md to
results/stream_error.md.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from scipy.special import softmax

from ..contract.config import PRESETS, HwConfig
from ..contract.stream_format import stream_format
from ..engines.gumbel import gumbel_token_probs
from ..engines.stream import stream_quantize, stream_token_probs

__all__ = ["lm_like_row", "row_kinds", "exact_tv", "lanes_tv", "stream_error_report"]

VOCABS = (8, 64, 1024, 8192, 50_257)
#: the lane table's vocabularies: GPT-2, Llama 3, the format's largest row (Gemma's 256,000 fits)
LANE_VOCABS = (50_257, 128_256, 262_144)
LANES = (1, 4, 16, 32, 64)


def lm_like_row(v: int, top50_mass: float, seed: int = 0) -> np.ndarray:
    """A heavy-tailed full-vocabulary row: Gumbel logits scaled (by bisection) so that the 50
    largest tokens hold ``top50_mass`` of the softmax (all of it when V <= 50)."""
    g = np.random.default_rng([seed, v, 50]).gumbel(0.0, 1.0, v)
    if v <= 50:
        return 2.0 * g
    lo, hi = 0.01, 50.0
    for _ in range(60):
        scale = (lo + hi) / 2
        p = softmax(scale * g)
        if np.sort(p)[-50:].sum() < top50_mass:
            lo = scale
        else:
            hi = scale
    return scale * g


def row_kinds(v: int, seed: int = 0) -> dict[str, np.ndarray]:
    """flat (normal, sd 0.3), peaked (one token 8 logits above normal(0, 1) others) and LM-like
    rows (top-50 mass 0.5, 0.8, 0.95)."""
    rng = np.random.default_rng([seed, v])
    peaked = rng.normal(0.0, 1.0, v)
    peaked[rng.integers(v)] = peaked.max() + 8.0
    rows = {"flat": rng.normal(0.0, 0.3, v), "peaked": peaked}
    for mass in (0.5, 0.8, 0.95):
        rows[f"lm{int(mass * 100)}"] = lm_like_row(v, mass, seed)
    return rows


def exact_tv(z: np.ndarray, cfg: HwConfig, sampler: str = "stream", **options) -> float:
    """Exact TV between softmax(z) and the law of the stream (or Gumbel-max) sampler."""
    fmt = stream_format(cfg, **options)
    row = stream_quantize(z, 1.0, fmt)
    law = stream_token_probs(row) if sampler == "stream" else gumbel_token_probs(row.q, fmt)
    return float(0.5 * np.abs(law - softmax(z)).sum())


def lanes_tv(v: int, lanes: int, cfg: HwConfig | None = None, seeds: int = 2,
             **options) -> float:
    """Worst exact TV over the flat, peaked and LM-like rows (``seeds`` of each) of V logits
    with L = ``lanes`` lanes (C = 2L reservoirs, the RTL's) and the format ``options``."""
    cfg = HwConfig() if cfg is None else cfg
    return max(exact_tv(z, cfg, lanes=lanes, max_vocab=max(v, 1 << 16), **options)
               for s in range(seeds) for z in row_kinds(v, s).values())


def _table(title: str, columns: list[str], rows: list[tuple[str, list[float]]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(["setting"] + columns) + " |",
             "|" + "---|" * (len(columns) + 1)]
    lines += ["| " + " | ".join([name] + [f"{v:.5f}" for v in values]) + " |"
              for name, values in rows]
    return "\n".join(lines) + "\n"


def stream_error_report(out: Path | None = None, seeds: int = 2) -> str:
    """The error analysis of docs/stream.md (``pysampler stream-error``): exact TV of the stream
    (and Gumbel-max) against softmax per format parameter, worst of ``seeds`` rows of each kind;
    written to ``out/stream_error.md`` when ``out`` is given. Returns the Markdown."""
    start = time.perf_counter()
    parts: list[str] = []
    print = parts.append  # noqa: A001: the tables, in order, as the command printed them
    cfg = HwConfig()
    kinds = ["flat", "peaked", "lm50", "lm80", "lm95"]
    sets = {v: [row_kinds(v, s) for s in range(seeds)] for v in VOCABS}

    def worst(v: int, sampler: str = "stream", cfg_: HwConfig = cfg, **options) -> list[float]:
        return [max(exact_tv(rs[k], cfg_, sampler, **options) for rs in sets[v]) for k in kinds]

    cols = [f"{k}" for k in kinds]
    print(f"## exact TV, default format, worst of {seeds} rows per kind\n")
    for v in VOCABS:
        print(_table(f"V = {v}", cols, [("stream (default)", worst(v)),
                                        ("gumbel (same budget)", worst(v, "gumbel"))]))
    every = [k for k in kinds]

    def worst_all(v: int, cfg_: HwConfig = cfg, **options) -> float:
        return max(exact_tv(rs[k], cfg_, "stream", **options) for rs in sets[v] for k in every)

    vcols = [f"V = {v}" for v in VOCABS]
    print("## accumulator fractional bits f_M vs V (worst over all rows; F = 8, P' = 24)\n")
    print(_table("stream, default HwConfig", vcols, [
        (f"f_M = {f_m}", [worst_all(v, acc_guard_bits=f_m - 9) for v in VOCABS])
        for f_m in (13, 15, 17, 19, 21)]))
    print("## three HwConfigs (their default stream format) vs V (worst over all rows)\n")
    def worst_gumbel(v: int, cfg_: HwConfig) -> float:
        return max(exact_tv(rs[k], cfg_, "gumbel") for rs in sets[v] for k in every)

    print(_table("stream and Gumbel-max", vcols, [
        (f"{name}: {sampler}", [worst_all(v, PRESETS[name]) if sampler == "stream"
                                else worst_gumbel(v, PRESETS[name]) for v in VOCABS])
        for name in ("tiny", "default", "wide") for sampler in ("stream", "gumbel")]))
    print("## accumulator fractional bits f_M (V = 50,257; F = 8, P' = 24)\n")
    rows = []
    for f_m in (12, 15, 17, 19, 21, 23):
        rows.append((f"f_M = {f_m}", worst(50_257, acc_guard_bits=f_m - 9)))
    print(_table("V = 50,257", cols, rows))
    print("## table step 2^-F (V = 50,257; f_M = 21, P' = 24)\n")
    print(_table("V = 50,257", cols, [(f"F = {f}", worst(50_257, lut_frac_bits=f))
                                      for f in (5, 6, 7, 8, 9)]))
    print("## draw width P' (V = 50,257; f_M = 21, F = 8)\n")
    print(_table("V = 50,257", cols, [(f"P' = {p}", worst(50_257, prob_bits=p))
                                      for p in (16, 20, 22, 24, 28, 32)]))
    print("## reservoirs C (V = 50,257)\n")
    print(_table("V = 50,257", cols, [(f"C = {c}", worst(50_257, reservoirs=c))
                                      for c in (1, 2, 4, 16)]))
    print("## lanes L (C = 2L reservoirs) and table step F, V = 50,257 .. 262,144 (worst over "
          "all rows)\n")
    print(_table("stream, default HwConfig", [f"V = {v:,}" for v in LANE_VOCABS], [
        (f"L = {lanes}, F = {f}", [lanes_tv(v, lanes, cfg, seeds, lut_frac_bits=f)
                                   for v in LANE_VOCABS])
        for f in (8, 7, 6) for lanes in LANES]))
    print("## other HwConfigs (their default stream format), V = 50,257\n")
    print(_table("V = 50,257", cols, [(f"{name}: stream", worst(50_257, cfg_=PRESETS[name]))
                                      for name in ("tiny", "wide")]))
    text = ("# The stream sampler's error analysis\n\nCommand: `pysampler stream-error` "
            f"(`make stream-error`), {time.perf_counter() - start:.0f} s here. Exact TV against "
            f"softmax, worst of {seeds} rows of each kind (flat: normal sd 0.3; peaked: one token "
            "8 logits above normal(0, 1); lm50 / lm80 / lm95: heavy-tailed rows whose 50 largest "
            "tokens hold that share of the mass); docs/stream.md explains each table.\n\n"
            + "\n".join(parts))
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "stream_error.md").write_text(text)
    return text
