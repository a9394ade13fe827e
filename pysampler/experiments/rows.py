"""The benchmark of logit rows: what a language model hands the sampler, from near-deterministic to
near-uniform, from 8 kept tokens to a whole 50,257-token vocabulary.

Every row is one next-token distribution *after* temperature and filtering: its kept,
temperature-scaled logits and their ids, with the row's name, source, kept V, entropy (nats) and the
temperature / filter that produced it. Four sources, each generated with fixed seeds:

``gaussian``
    z = s * g, g ~ Normal(0, 1) i.i.d. (``numpy.random.default_rng([seed, V, 11])``), with the scale
    s solved (bisection) so that the softmax's entropy is a given fraction of ln V:
    :data:`ENTROPY_LEVELS` (0.02 .. 0.995) for every V in :data:`VOCAB_SIZES` (8 .. 50,257). The
    0.995 level at V = 32 is the near-uniform row of the faithful-sampling issue (logits of spread
    about 0.2, entropy 3.45 of 3.47 nats).
``heavy-tail``
    Synthetic LM-like full-vocabulary rows: z_r = -a ln r + Normal(0, 0.3^2) noise over ranks
    r = 1..V, ids randomly permuted (``default_rng([seed, V, 13])``), the Zipf exponent a solved so
    that the top-50 mass is each of :data:`HEAVY_TOP50_MASS` (50% .. 95%), for V in
    :data:`HEAVY_VOCABS` (2,048 and 50,257); each also with top-k 50 applied.
``lm``
    Next-token logits captured from a causal LM (the offline GPT-2 of ``make lm``, 2,048 tokens) in
    the generation loop (exact softmax sampling, no filter), at :data:`LM_CONTEXTS` contexts spread
    over :data:`LM_PROMPTS`, then reduced at each temperature of :data:`LM_TEMPERATURES` with each
    filter of :data:`LM_FILTERS` (top-k 50, top-p 0.9, top-p 0.95, none: the whole vocabulary).
``lm50k``
    The same captures from the LM on GPT-2's own 50,257-token tokenizer (``make lm-gpt2``,
    build/lm-gpt2): real rows of GPT-2's vocabulary size, beside the synthetic heavy-tail ones.

:func:`benchmark_rows` returns all of them (the LM rows only where a model is given);
:func:`load_benchmark` loads the models from their folders and says so when there is none.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from scipy.special import entr, logsumexp, softmax

from ..samplers.filtering import KeptVocab, reduce_vocab

__all__ = ["BenchRow", "VOCAB_SIZES", "ENTROPY_LEVELS", "HEAVY_VOCABS", "HEAVY_TOP50_MASS",
           "LM_TEMPERATURES", "LM_FILTERS", "LM_PROMPTS", "LM_CONTEXTS", "entropy", "top_mass",
           "gaussian_row", "heavy_tail_row", "synthetic_rows", "lm_rows", "benchmark_rows",
           "load_benchmark", "row_from_logits", "select_rows"]

VOCAB_SIZES = (8, 16, 32, 64, 256, 1024, 2048, 50257)
ENTROPY_LEVELS = (0.02, 0.1, 0.25, 0.4, 0.55, 0.7, 0.85, 0.95, 0.995)  # fractions of ln V
HEAVY_VOCABS = (2048, 50257)
HEAVY_TOP50_MASS = (0.5, 0.65, 0.8, 0.95)
HEAVY_NOISE = 0.3
LM_TEMPERATURES = (0.7, 1.0, 1.5)
LM_FILTERS: dict[str, dict[str, Any]] = {"top-k 50": dict(top_k=50), "top-p 0.9": dict(top_p=0.9),
                                          "top-p 0.95": dict(top_p=0.95), "none": {}}
LM_PROMPTS = ("The function returns", "In this tutorial, we", "A module is", "The documentation")
LM_CONTEXTS = 4


def entropy(logits: np.ndarray) -> float:
    """Entropy in nats of softmax(logits)."""
    return float(entr(softmax(np.asarray(logits, dtype=np.float64))).sum())


def top_mass(logits: np.ndarray, k: int = 50) -> float:
    """Probability mass of the k most likely tokens of softmax(logits)."""
    z = np.asarray(logits, dtype=np.float64)
    top = np.partition(z, z.size - k)[z.size - k:] if k < z.size else z
    return float(np.exp(logsumexp(top) - logsumexp(z)))


@dataclass(frozen=True, eq=False)
class BenchRow:
    """One benchmark row: kept, temperature-scaled logits and what produced them.

    Attributes
    ----------
    name : str               unique, e.g. ``gaussian-V32-H0.995``, ``lm-c2-T1.5-top-p 0.9``
    source : str             "gaussian", "heavy-tail", "lm" or "lm50k"
    logits : (V,) float64    kept logits, divided by the temperature (not shifted)
    ids : (V,) int64         their ids in the full vocabulary, ascending
    full_vocab : int         size of the vocabulary the row was reduced from
    temperature : float
    filter : str             "none", "top-k 50", "top-p 0.9", "top-p 0.95"
    entropy : float          nats, of softmax(logits)
    """

    name: str
    source: str
    logits: np.ndarray
    ids: np.ndarray
    full_vocab: int
    temperature: float
    filter: str
    entropy: float

    @property
    def vocab_size(self) -> int:
        """Kept V."""
        return int(self.ids.size)

    @property
    def kept(self) -> KeptVocab:
        """The row as a reduced vocabulary (what a sampler's ``law`` and ``sample_kept`` take)."""
        return KeptVocab(self.logits, self.ids)

    @property
    def entropy_fraction(self) -> float:
        """Entropy over ln V (1 = uniform; 0 for V = 1)."""
        return self.entropy / np.log(self.vocab_size) if self.vocab_size > 1 else 0.0


def row_from_logits(name: str, source: str, logits: np.ndarray, *, temperature: float = 1.0,
                    filter: str = "none", **filters: Any) -> BenchRow:
    """A row from full-vocabulary logits, reduced with ``temperature`` and ``filters``
    (:func:`pysampler.samplers.filtering.reduce_vocab` arguments: top_k, top_p, min_p)."""
    z = np.asarray(logits, dtype=np.float64)
    kept = reduce_vocab(z, temperature=temperature, **filters)
    return BenchRow(name, source, kept.logits, kept.ids, int(z.size), float(temperature), filter,
                    entropy(kept.logits))


def _bisect(f, lo: float, hi: float, target: float, steps: int = 80) -> float:
    """x in [lo, hi] with f(x) = target for f increasing, by bisection on log x."""
    a, b = np.log(lo), np.log(hi)
    for _ in range(steps):
        mid = 0.5 * (a + b)
        if f(np.exp(mid)) < target:
            a = mid
        else:
            b = mid
    return float(np.exp(0.5 * (a + b)))


def gaussian_row(vocab_size: int, entropy_fraction: float, seed: int = 0) -> BenchRow:
    """Gaussian logits scaled so that the entropy is ``entropy_fraction`` * ln V (0 < f < 1)."""
    if not 0 < entropy_fraction < 1:
        raise ValueError(f"entropy_fraction must be in (0, 1), got {entropy_fraction!r}")
    if vocab_size < 2:
        raise ValueError(f"vocab_size must be >= 2, got {vocab_size}")
    g = np.random.default_rng([seed, vocab_size, 11]).standard_normal(vocab_size)
    target = entropy_fraction * np.log(vocab_size)
    scale = _bisect(lambda s: -entropy(s * g), 1e-4, 1e4, -target)  # entropy falls with s
    return row_from_logits(f"gaussian-V{vocab_size}-H{entropy_fraction:g}", "gaussian", scale * g)


def heavy_tail_row(vocab_size: int, top50_mass: float, seed: int = 0, *, top_k: int | None = None
                   ) -> BenchRow:
    """A Zipf-like full-vocabulary row whose 50 most likely tokens hold ``top50_mass``; with
    ``top_k`` the row after top-k filtering."""
    if not 0 < top50_mass < 1 or vocab_size <= 50:
        raise ValueError(f"need 0 < top50_mass < 1 and vocab_size > 50, got {top50_mass!r}, "
                         f"{vocab_size}")
    rng = np.random.default_rng([seed, vocab_size, 13])
    log_rank = np.log(np.arange(1, vocab_size + 1, dtype=np.float64))
    noise = rng.normal(0.0, HEAVY_NOISE, vocab_size)
    a = _bisect(lambda a: top_mass(-a * log_rank + noise), 1e-3, 20.0, top50_mass)
    z = (-a * log_rank + noise)[rng.permutation(vocab_size)]
    name = f"heavy-V{vocab_size}-top50m{top50_mass:g}"
    if top_k is None:
        return row_from_logits(name, "heavy-tail", z)
    return row_from_logits(f"{name}-top-k {top_k}", "heavy-tail", z, filter=f"top-k {top_k}",
                           top_k=top_k)


def synthetic_rows(vocab_sizes: Sequence[int] = VOCAB_SIZES,
                   levels: Sequence[float] = ENTROPY_LEVELS,
                   heavy_vocabs: Sequence[int] = HEAVY_VOCABS,
                   heavy_masses: Sequence[float] = HEAVY_TOP50_MASS, seed: int = 0
                   ) -> list[BenchRow]:
    """The gaussian rows (every V x entropy level) and the heavy-tail rows (whole vocabulary and
    top-k 50)."""
    rows = [gaussian_row(v, f, seed) for v in vocab_sizes for f in levels]
    for v in heavy_vocabs:
        for m in heavy_masses:
            rows += [heavy_tail_row(v, m, seed), heavy_tail_row(v, m, seed, top_k=50)]
    return rows


def lm_rows(lm: Any, prompts: Sequence[str] = LM_PROMPTS, contexts: int = LM_CONTEXTS, *,
            temperatures: Sequence[float] = LM_TEMPERATURES,
            filters: dict[str, dict[str, Any]] | None = None, seed: int = 0, source: str = "lm"
            ) -> list[BenchRow]:
    """Rows captured from ``lm`` (a :class:`pysampler.llm.LanguageModel`): ``contexts`` next-token
    logit rows from the generation loop (softmax sampling, no filter, temperature 1), spread over
    the prompts, each reduced at every temperature with every filter; named and labelled
    ``source`` ("lm": the 2,048-token LM, "lm50k": the one on GPT-2's tokenizer)."""
    from ..llm import generate
    from ..samplers.softmax import SoftmaxSampler

    filters = LM_FILTERS if filters is None else filters
    steps = max(2, -(-2 * contexts // len(prompts)))
    results = generate(lm, list(prompts), SoftmaxSampler(seed=seed), max_new_tokens=steps,
                       top_k=None, capture_logits=True, stop_at_eos=False, seed=seed)
    captured = [k for r in results for k in r.kept]
    picks = np.linspace(0, len(captured) - 1, contexts).round().astype(int)
    rows = []
    for c, index in enumerate(picks):
        raw = np.zeros(lm.vocab_size)
        raw[captured[index].ids] = captured[index].logits  # no filter: every id is kept
        for t in temperatures:
            for label, kw in filters.items():
                rows.append(row_from_logits(f"{source}-c{c}-T{t:g}-{label}", source, raw,
                                            temperature=t, filter=label, **kw))
    return rows


def benchmark_rows(lm: Any = None, *, lm50k: Any = None, contexts: int = LM_CONTEXTS,
                   lm50k_contexts: int | None = None, seed: int = 0, **synthetic: Any
                   ) -> list[BenchRow]:
    """The whole benchmark: :func:`synthetic_rows` (keyword arguments passed on) and, where a
    language model is given, :func:`lm_rows`: source "lm" from ``lm``, source "lm50k" from
    ``lm50k`` (``lm50k_contexts`` contexts; None: ``contexts``)."""
    rows = synthetic_rows(seed=seed, **synthetic)
    if lm is not None:
        rows += lm_rows(lm, contexts=contexts, seed=seed)
    if lm50k is not None:
        rows += lm_rows(lm50k, contexts=contexts if lm50k_contexts is None else lm50k_contexts,
                        seed=seed, source="lm50k")
    return rows


def _load(path: str | Path, flag: str, make: str) -> Any:
    """The LM in folder ``path``, or a ValueError naming ``flag`` and the make target."""
    from ..llm import load_lm

    try:
        return load_lm(path)
    except OSError as err:
        raise ValueError(f"cannot load {flag} {str(path)!r} ({str(err).splitlines()[0]}); "
                         f"run `{make}` or pass --no-lm") from None


def load_benchmark(lm_path: str | Path | None, *, lm50k_path: str | Path | None = None,
                   contexts: int = LM_CONTEXTS, lm50k_contexts: int | None = None, seed: int = 0,
                   **synthetic: Any) -> tuple[list[BenchRow], str]:
    """:func:`benchmark_rows` with the LM loaded from ``lm_path`` (source "lm") and the
    GPT-2-tokenizer LM from ``lm50k_path`` (source "lm50k"); None: no rows of that source.
    Returns (rows, a sentence naming every source and the LM it comes from). An LM that does not
    load is an error (as for the study and the frontier: ``--no-lm`` asks for synthetic rows), not
    a silent fallback; the 50,257-token LM is loaded first (its flag named in the error)."""
    lm50k = None if lm50k_path is None else _load(lm50k_path, "--lm-gpt2", "make lm-gpt2")
    lm = None if lm_path is None else _load(lm_path, "--lm", "make lm")
    rows = benchmark_rows(lm, lm50k=lm50k, contexts=contexts, lm50k_contexts=lm50k_contexts,
                          seed=seed, **synthetic)
    if lm is None and lm50k is None:
        return rows, "synthetic rows only (no LM given)"
    parts = ["synthetic rows (gaussian, heavy-tail)"]
    if lm is not None:
        parts.append(f"source lm: {contexts} contexts captured from the LM at `{lm_path}` "
                     f"({lm.vocab_size:,}-token vocabulary)")
    if lm50k is not None:
        n = contexts if lm50k_contexts is None else lm50k_contexts
        parts.append(f"source lm50k: {n} contexts captured from the LM at `{lm50k_path}` "
                     f"(GPT-2's tokenizer, {lm50k.vocab_size:,}-token vocabulary)")
    return rows, "; ".join(parts)


def select_rows(rows: Sequence[BenchRow], *, max_vocab: int | None = None,
                min_vocab: int = 1, sources: Sequence[str] | None = None) -> list[BenchRow]:
    """The rows with min_vocab <= kept V <= max_vocab (and of the given sources)."""
    return [r for r in rows if min_vocab <= r.vocab_size <= (max_vocab or r.vocab_size)
            and (sources is None or r.source in sources)]
