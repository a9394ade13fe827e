"""Text generation with any of our token samplers, on a causal LM from transformers.

Two ways in:

* :func:`generate`: our own loop over a batch of prompts (left padding, KV cache reused from step to
  step), returning per-token timings, invalid and fallback counts, and optionally every step's kept
  logits for the quantization study.
* :class:`SampledTokenProcessor`: a drop-in for ``model.generate(...)``: a LogitsProcessor that
  draws the token with our sampler and leaves it alone (every other logit -inf), so that
  ``generate(do_sample=False, logits_processor=[...])`` emits exactly that token with transformers'
  own stopping and cache handling.

Processing order per step (as transformers does it): repetition penalty on the raw logits, then
temperature, top-k, top-p, min-p (:mod:`pysampler.samplers.filtering`), then the sampler.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..samplers.filtering import KeptVocab, check_filters, reduce_vocab
from ..samplers import TokenSampler

__all__ = ["LanguageModel", "load_lm", "GenerationResult", "generate", "SampledTokenProcessor",
           "apply_repetition_penalty", "DEFAULT_LM_DIR"]

DEFAULT_LM_DIR = Path("build/lm")


@dataclass
class LanguageModel:
    """A causal LM and its tokenizer (see :func:`load_lm`)."""

    model: Any
    tokenizer: Any
    device: str

    @property
    def eos_token_id(self) -> int | None:
        return self.tokenizer.eos_token_id


def load_lm(name_or_path: str | Path = DEFAULT_LM_DIR, *, device: str = "cpu",
            dtype: str | None = None) -> LanguageModel:
    """``AutoModelForCausalLM`` and ``AutoTokenizer`` ``from_pretrained(name_or_path)``.

    Hub names (``gpt2``, ``distilgpt2``) work wherever the hub is reachable; a local folder always
    does (``make lm`` writes one to build/lm). ``dtype``: None (the checkpoint's), "float32",
    "bfloat16" or "float16".
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    path = Path(name_or_path)
    if str(name_or_path) == str(DEFAULT_LM_DIR) and not path.exists():
        raise FileNotFoundError(f"no model at {path}: run `make lm` (trains the offline GPT-2) "
                                f"or pass a hub name or another folder")
    kwargs = {}
    if dtype is not None:
        if dtype not in ("float32", "bfloat16", "float16"):
            raise ValueError(f"dtype must be float32, bfloat16 or float16, got {dtype!r}")
        kwargs["dtype"] = getattr(torch, dtype)
    model = AutoModelForCausalLM.from_pretrained(str(name_or_path), **kwargs).to(device).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(name_or_path))
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    return LanguageModel(model, tokenizer, device)


def apply_repetition_penalty(logits: np.ndarray, previous_ids: Sequence[int], penalty: float
                             ) -> np.ndarray:
    """transformers' rule: a seen token's logit is divided by ``penalty`` when positive and
    multiplied by it when negative. ``penalty`` > 0; 1.0 leaves the logits as they are."""
    if not (np.isfinite(penalty) and penalty > 0):
        raise ValueError(f"repetition_penalty must be a finite number > 0, got {penalty!r}")
    out = np.array(logits, dtype=np.float64, copy=True)
    if penalty == 1.0 or len(previous_ids) == 0:
        return out
    ids = np.unique(np.asarray(previous_ids, dtype=np.int64))
    seen = out[ids]
    out[ids] = np.where(seen > 0, seen / penalty, seen * penalty)
    return out


@dataclass
class GenerationResult:
    """One prompt's continuation.

    Attributes
    ----------
    text : str                       the generated text (without the prompt)
    token_ids : list[int]            the generated token ids
    ms_per_token : float             wall time per generated token, model and sampler
    sampler_ms_per_token : float     of which the sampler
    invalid_attempts : list[int]     per token, chain runs whose read-out was not one-hot
    fallbacks : list[int]            per token, 1 if it fell back to the argmax
    kept : list[KeptVocab]           per step, the kept logits and ids (capture_logits=True)
    """

    text: str
    token_ids: list[int]
    ms_per_token: float
    sampler_ms_per_token: float
    invalid_attempts: list[int] = field(default_factory=list)
    fallbacks: list[int] = field(default_factory=list)
    kept: list[KeptVocab] = field(default_factory=list)

    @property
    def fallback_rate(self) -> float:
        return float(np.mean(self.fallbacks)) if self.fallbacks else 0.0


def generate(lm: LanguageModel, prompts: str | Sequence[str], sampler: TokenSampler, *,
             max_new_tokens: int = 32, temperature: float = 1.0, top_k: int | None = 50,
             top_p: float | None = None, min_p: float | None = None,
             repetition_penalty: float = 1.0, seed: int | None = None, stop_at_eos: bool = True,
             capture_logits: bool = False) -> list[GenerationResult]:
    """Generate continuations of a batch of prompts with ``sampler``.

    Prompts are left-padded into one batch; each step runs the model once on the new tokens with the
    KV cache, then samples one token per row (row b uses the sampler's lane b). A row stops at EOS
    (``stop_at_eos``) or after ``max_new_tokens``. ``seed`` reseeds the sampler first.
    """
    import torch

    if isinstance(prompts, str):
        prompts = [prompts]
    if not prompts:
        raise ValueError("prompts is empty: pass at least one prompt")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an int >= 1, got {max_new_tokens!r}")
    check_filters(temperature, top_k, top_p, min_p)
    apply_repetition_penalty(np.zeros(1), [], repetition_penalty)
    if seed is not None:
        sampler.reseed(seed)
    tok = lm.tokenizer
    tok.padding_side = "left"
    enc = tok(list(prompts), return_tensors="pt", padding=True)
    input_ids = enc["input_ids"].to(lm.device)
    attention = enc["attention_mask"].to(lm.device)
    if input_ids.shape[1] == 0:
        raise ValueError("every prompt is empty after tokenization")
    n_rows = input_ids.shape[0]
    history = [ids[mask.bool()].tolist() for ids, mask in zip(input_ids.cpu(), attention.cpu())]
    out_ids: list[list[int]] = [[] for _ in range(n_rows)]
    invalid: list[list[int]] = [[] for _ in range(n_rows)]
    fallbacks: list[list[int]] = [[] for _ in range(n_rows)]
    kept_steps: list[list[KeptVocab]] = [[] for _ in range(n_rows)]
    done = [False] * n_rows
    sampler_seconds, steps_taken = 0.0, 0
    start = time.perf_counter()
    past = None
    step_ids = input_ids
    with torch.no_grad():
        for _ in range(max_new_tokens):
            position = (attention.cumsum(-1) - 1).clamp(min=0)[:, -step_ids.shape[1]:]
            out = lm.model(input_ids=step_ids, attention_mask=attention, position_ids=position,
                           past_key_values=past, use_cache=True)
            past = out.past_key_values
            logits = out.logits[:, -1, :].double().cpu().numpy()
            t0 = time.perf_counter()
            next_ids = []
            for b in range(n_rows):
                if done[b]:
                    next_ids.append(tok.pad_token_id)
                    continue
                row = apply_repetition_penalty(logits[b], history[b], repetition_penalty)
                kept = reduce_vocab(row, temperature=temperature, top_k=top_k, top_p=top_p,
                                    min_p=min_p)
                before = (sampler.stats.invalid_attempts, sampler.stats.fallbacks)
                token = sampler.sample_kept(kept, b)
                invalid[b].append(sampler.stats.invalid_attempts - before[0])
                fallbacks[b].append(sampler.stats.fallbacks - before[1])
                if capture_logits:
                    kept_steps[b].append(kept)
                out_ids[b].append(token)
                history[b].append(token)
                next_ids.append(token)
                if stop_at_eos and token == lm.eos_token_id:
                    done[b] = True
            sampler_seconds += time.perf_counter() - t0
            steps_taken += 1
            if all(done):
                break
            step_ids = torch.tensor(next_ids, device=lm.device).unsqueeze(1)
            attention = torch.cat([attention, torch.ones_like(step_ids)], dim=1)
    elapsed = time.perf_counter() - start
    n_tokens = max(1, sum(len(ids) for ids in out_ids))
    results = []
    for b in range(n_rows):
        ids = out_ids[b]
        text_ids = ids[:-1] if stop_at_eos and ids and ids[-1] == lm.eos_token_id else ids
        results.append(GenerationResult(
            tok.decode(text_ids, skip_special_tokens=True), ids, 1e3 * elapsed / n_tokens,
            1e3 * sampler_seconds / n_tokens, invalid[b], fallbacks[b], kept_steps[b]))
    return results


class SampledTokenProcessor:
    """LogitsProcessor for ``model.generate``: our sampler draws, every other logit becomes -inf.

    Parameters
    ----------
    sampler : TokenSampler
    temperature, top_k, top_p, min_p
        Our filters (leave transformers' own sampling off: ``do_sample=False``).

    Attributes
    ----------
    drawn : list[list[int]]
        Per batch row, the tokens the sampler drew, in order (for checking what generate emitted).
    """

    def __init__(self, sampler: TokenSampler, *, temperature: float = 1.0,
                 top_k: int | None = 50, top_p: float | None = None, min_p: float | None = None):
        check_filters(temperature, top_k, top_p, min_p)
        self.sampler = sampler
        self.filters = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        self.drawn: list[list[int]] = []

    def __call__(self, input_ids, scores):
        import torch

        rows = scores.double().cpu().numpy()
        if np.isnan(rows).any():
            raise ValueError("scores contain NaN")
        while len(self.drawn) < rows.shape[0]:
            self.drawn.append([])
        out = torch.full_like(scores, float("-inf"))
        for b, row in enumerate(rows):
            # -inf marks tokens an earlier processor ruled out (e.g. min_new_tokens): not candidates
            allowed = np.flatnonzero(np.isfinite(row))
            if allowed.size == 0:
                raise ValueError(f"every score of row {b} is -inf: no token can be drawn")
            kept = reduce_vocab(row[allowed], **self.filters)
            token = int(allowed[self.sampler.sample_kept(kept, b)])
            self.drawn[b].append(token)
            out[b, token] = 0.0
        return out
