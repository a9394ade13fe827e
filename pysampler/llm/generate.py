"""Text generation with any of our token samplers, on a causal LM from transformers.

Two ways in:

* :func:`generate`: our own loop over a batch of prompts (left padding, KV cache reused from step to
  step; each step draws every row still generating with one batch call on the sampler,
  :meth:`TokenSampler.draw_batch`), returning per-token timings, invalid and fallback counts, and
  optionally every step's kept logits for the quantization study.
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

from ..samplers.filtering import KeptVocab, check_filters, reduce_batch, reduce_vocab
from ..samplers import TokenSampler

__all__ = ["LanguageModel", "load_lm", "GenerationResult", "generate", "SampledTokenProcessor",
           "apply_repetition_penalty", "DEFAULT_LM_DIR", "check_device"]

DEFAULT_LM_DIR = Path("build/lm")


DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class LanguageModel:
    """A causal LM and its tokenizer (see :func:`load_lm`)."""

    model: Any
    tokenizer: Any
    device: str

    @property
    def eos_token_id(self) -> int | None:
        return self.tokenizer.eos_token_id

    @property
    def max_positions(self) -> int | None:
        """Most tokens (prompt and generated) the model has positions for
        (``config.max_position_embeddings``, GPT-2's ``n_positions``); None where the config
        states no limit."""
        limit = getattr(self.model.config, "max_position_embeddings", None)
        return int(limit) if isinstance(limit, int) and limit > 0 else None

    @property
    def vocab_size(self) -> int:
        """Logits per step (the LM head's output size)."""
        return int(self.model.get_output_embeddings().weight.shape[0])


def check_device(device: Any) -> str:
    """``device`` as a torch device string, or a ValueError saying why this machine cannot use it
    (an unknown name, a backend torch was built without, CUDA with no GPU)."""
    import torch

    try:
        parsed = torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device {device!r} is not a torch device: {err}") from None
    if parsed.type == "meta":
        raise ValueError("device 'meta' holds no data: generate on 'cpu' or an accelerator")
    try:
        torch.empty(0, device=parsed)
    except (RuntimeError, AssertionError) as err:
        raise ValueError(f"device {str(parsed)!r} is not available on this machine: "
                         f"{str(err).splitlines()[0]}") from None
    return str(parsed)


def load_lm(name_or_path: str | Path = DEFAULT_LM_DIR, *, device: str = "cpu",
            dtype: Any = None) -> LanguageModel:
    """``AutoModelForCausalLM`` and ``AutoTokenizer`` ``from_pretrained(name_or_path)``.

    Hub names (``gpt2``, ``distilgpt2``) work wherever the hub is reachable; a local folder always
    does (``make lm`` writes one to build/lm). ``dtype``: None (the checkpoint's), a torch dtype or
    its name, one of float32, bfloat16, float16. ``device``: any torch device this machine has
    (:func:`check_device`). A name that is neither an existing folder nor a reachable hub model
    raises FileNotFoundError, saying which.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = check_device(device)
    kwargs = {}
    if dtype is not None:
        name = str(dtype).removeprefix("torch.")
        if name not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES} (a name or a torch dtype), "
                             f"got {dtype!r}")
        kwargs["dtype"] = getattr(torch, name)
    path = Path(name_or_path).expanduser()
    if path.exists() and not path.is_dir():
        raise FileNotFoundError(f"{str(path)!r} is a file: pass the folder holding the model's "
                                f"config.json (or a hub name)")
    if not path.exists():
        where = ("run `make lm` (trains the offline GPT-2)"
                 if str(name_or_path) == str(DEFAULT_LM_DIR) else "check the path")
        if path.is_absolute() or str(name_or_path).startswith((".", "~")) \
                or str(name_or_path) == str(DEFAULT_LM_DIR):
            raise FileNotFoundError(f"no such folder {str(path)!r}: {where}")
    try:
        model = AutoModelForCausalLM.from_pretrained(str(path) if path.exists()
                                                     else str(name_or_path), **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(str(path) if path.exists()
                                                  else str(name_or_path))
    except OSError as err:
        if path.exists():
            raise FileNotFoundError(f"cannot load a model from folder {str(path)!r}: "
                                    f"{str(err).splitlines()[0]}") from None
        raise FileNotFoundError(f"{str(name_or_path)!r} is no folder here, and loading it as a "
                                f"hub name failed: {str(err).splitlines()[0]}") from None
    model = model.to(device).eval()
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
             capture_logits: bool = False, batch: bool = True) -> list[GenerationResult]:
    """Generate continuations of a batch of prompts with ``sampler``.

    Prompts are left-padded into one batch; each step runs the model once on the new tokens with the
    KV cache, then samples one token per row (row b uses the sampler's lane b). A row stops at EOS
    (``stop_at_eos``) or after ``max_new_tokens``; a finished row leaves the draws (its lane is not
    drawn from again). ``seed`` reseeds the sampler first.

    Each step draws every row still generating with ONE batch call: the repetition penalty per
    row, the filters on those rows at once (:func:`~pysampler.samplers.filtering.reduce_batch`),
    then :meth:`TokenSampler.draw_batch` with the rows' own lanes, which also gives each row's
    invalid attempts and fallbacks. The tokens, the lanes' generator states, the statistics and
    each row's counts are exactly those of drawing row by row (``batch=False``; tested for every
    registered sampler). Rows of different kept sizes (top-p, min-p) need nothing here: each
    sampler's batch path takes ragged rows and draws them as row by row does (softmax, gibbs and
    hw group the rows by kept size; tree, stream and gumbel run each row over its own length; the
    rtl samplers draw row by row on their core); no row is padded.

    Everything that could stop a run half way is checked before the first step, each a ValueError:
    an empty prompt (no tokens to condition on), a prompt plus ``max_new_tokens`` longer than the
    model's positions (:attr:`LanguageModel.max_positions`: 64 for the offline LM), and filters
    that can keep more tokens than the sampler takes (:meth:`TokenSampler.check_filters_fit`).

    Parameters
    ----------
    lm : LanguageModel
    prompts : str or sequence of str
        One prompt or a batch (none empty).
    sampler : TokenSampler
        Draws every token; row b of the batch on its lane b.
    max_new_tokens : int
        >= 1: tokens generated per row at most.
    temperature, top_k, top_p, min_p
        The filters (:func:`~pysampler.samplers.filtering.reduce_vocab`); ``top_k`` None: off.
    repetition_penalty : float
        > 0, transformers' rule (:func:`apply_repetition_penalty`) over the prompt and the tokens
        generated so far; 1.0: off.
    seed : int or None
        Reseed the sampler first (None: its lanes run on).
    stop_at_eos : bool
        A row stops after drawing EOS (kept in ``token_ids``, left out of ``text``).
    capture_logits : bool
        Keep every step's kept logits and ids (``GenerationResult.kept``).
    batch : bool
        True (default): one batch draw per step. False: the row-by-row reference, one
        :meth:`TokenSampler.sample_kept` call per row (the same tokens and counts; slower).

    Returns
    -------
    list of GenerationResult
        One per prompt, in order. ``ms_per_token`` and ``sampler_ms_per_token`` are the whole
        batch's wall time (ms) over all tokens generated, the same for every row.
    """
    import torch

    if isinstance(prompts, str):
        prompts = [prompts]
    if not prompts:
        raise ValueError("prompts is empty: pass at least one prompt")
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be an int >= 1, got {max_new_tokens!r}")
    if not isinstance(batch, (bool, np.bool_)):
        raise ValueError(f"batch must be True (one batch draw per step) or False (row by row), "
                         f"got {batch!r}")
    check_filters(temperature, top_k, top_p, min_p)
    apply_repetition_penalty(np.zeros(1), [], repetition_penalty)
    sampler.check_filters_fit(top_k, lm.vocab_size)
    tok = lm.tokenizer
    tok.padding_side = "left"
    enc = tok(list(prompts), return_tensors="pt", padding=True)
    input_ids = enc["input_ids"].to(lm.device)
    attention = enc["attention_mask"].to(lm.device)
    _check_prompt_lengths(attention.sum(dim=1).tolist(), max_new_tokens, lm.max_positions)
    if seed is not None:
        sampler.reseed(seed)
    n_rows = input_ids.shape[0]
    history = [ids[mask.bool()].tolist() for ids, mask in zip(input_ids.cpu(), attention.cpu())]
    out_ids: list[list[int]] = [[] for _ in range(n_rows)]
    invalid: list[list[int]] = [[] for _ in range(n_rows)]
    fallbacks: list[list[int]] = [[] for _ in range(n_rows)]
    kept_steps: list[list[KeptVocab]] = [[] for _ in range(n_rows)]
    done = np.zeros(n_rows, dtype=bool)
    filters = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
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
            draw = _draw_step_batch if batch else _draw_step_rows
            next_ids = np.full(n_rows, tok.pad_token_id, dtype=np.int64)
            active = np.flatnonzero(~done)
            step = draw(sampler, logits, active, history, repetition_penalty, filters,
                        capture_logits)
            for b, token, n_invalid, fell, kept in zip(active, *step):
                token = int(token)
                invalid[b].append(int(n_invalid))
                fallbacks[b].append(int(fell))
                if kept is not None:
                    kept_steps[b].append(kept)
                out_ids[b].append(token)
                history[b].append(token)
                next_ids[b] = token
                if stop_at_eos and token == lm.eos_token_id:
                    done[b] = True
            sampler_seconds += time.perf_counter() - t0
            steps_taken += 1
            if done.all():
                break
            step_ids = torch.from_numpy(next_ids).to(lm.device).unsqueeze(1)
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


_StepDraws = tuple[np.ndarray, np.ndarray, np.ndarray, list[KeptVocab | None]]


def _draw_step_batch(sampler: TokenSampler, logits: np.ndarray, active: np.ndarray,
                     history: list[list[int]], penalty: float, filters: dict[str, Any],
                     capture: bool) -> _StepDraws:
    """One step's tokens for the rows ``active`` (int64 (R,), ascending) of ``logits`` (B, V)
    float64: the penalty row by row, the filters and the draw on all R rows at once, row
    ``active[r]`` on its lane ``active[r]``. Returns (token ids (R,), invalid attempts (R,),
    fallbacks (R,), each row's kept vocabulary where ``capture`` else None), as
    :func:`_draw_step_rows` gives them."""
    rows = np.stack([apply_repetition_penalty(logits[b], history[b], penalty) for b in active]) \
        if penalty != 1.0 else logits[active]
    kept = reduce_batch(rows, **filters)
    draw = sampler.draw_batch(kept, lanes=active)
    rows_kept = [kept.row(r) for r in range(kept.n_rows)] if capture else [None] * kept.n_rows
    return draw.token_ids, draw.invalid_attempts, draw.fallbacks, rows_kept


def _draw_step_rows(sampler: TokenSampler, logits: np.ndarray, active: np.ndarray,
                    history: list[list[int]], penalty: float, filters: dict[str, Any],
                    capture: bool) -> _StepDraws:
    """:func:`_draw_step_batch` row by row: one :meth:`TokenSampler.sample_kept` call per row,
    each row's counts read off the sampler's statistics around its draw (the reference)."""
    tokens: list[int] = []
    invalid: list[int] = []
    fell: list[int] = []
    kept_rows: list[KeptVocab | None] = []
    for b in active:
        kept = reduce_vocab(apply_repetition_penalty(logits[b], history[b], penalty), **filters)
        before = (sampler.stats.invalid_attempts, sampler.stats.fallbacks)
        tokens.append(sampler.sample_kept(kept, int(b)))
        invalid.append(sampler.stats.invalid_attempts - before[0])
        fell.append(sampler.stats.fallbacks - before[1])
        kept_rows.append(kept if capture else None)
    return (np.array(tokens, dtype=np.int64), np.array(invalid, dtype=np.int64),
            np.array(fell, dtype=np.int64), kept_rows)


def _check_prompt_lengths(lengths: Sequence[int], max_new_tokens: int, max_positions: int | None
                          ) -> None:
    """No empty prompt; the longest prompt and ``max_new_tokens`` within the model's positions."""
    empty = [k for k, n in enumerate(lengths) if n == 0]
    if empty:
        raise ValueError(f"prompt {empty[0]} is empty (no tokens after tokenization): a causal LM "
                         f"needs at least one token to condition on")
    longest = max(lengths)
    if max_positions is not None and longest + max_new_tokens > max_positions:
        room, prompt_room = max_positions - longest, max_positions - max_new_tokens
        advice = " or ".join(
            ([f"pass max_new_tokens <= {room}"] if room >= 1 else [])
            + ([f"shorten the prompt to at most {prompt_room} tokens"] if prompt_room >= 1
               else [])) or f"max_new_tokens must be below {max_positions}"
        raise ValueError(f"the longest prompt has {longest} tokens and max_new_tokens is "
                         f"{max_new_tokens}: {longest + max_new_tokens} tokens, but the model has "
                         f"{max_positions} positions; {advice}")


class SampledTokenProcessor:
    """LogitsProcessor for ``model.generate``: our sampler draws, every other logit becomes -inf.

    It serves transformers' generation modes with one sequence per row: greedy decoding
    (``do_sample=False``: generate emits exactly the drawn token) and sampling with
    ``num_beams=1`` (the -inf mask leaves one token to sample), batches and
    ``num_return_sequences`` (every row draws on its own lane). A row that transformers has
    finished (it pads finished rows) is not drawn for again. Modes that score log-probabilities
    or rewrite rows are refused with a ValueError on the first call that shows them: beam search
    (``num_beams > 1``: it hands the processors log-softmax scores, and every drawn token would
    score 0), assisted or speculative decoding, or a processor after this one that changes the
    token (a row that comes back with another token than drawn, and then not with that same one).

    One generation at a time: a call whose rows are not the continuation of the previous call's
    (a new ``generate`` call) starts over, so :attr:`drawn` holds the current generation's draws
    and never grows across calls; the sampler's lanes run on from where they were, as a hardware
    generator would (``sampler.reseed`` restarts them).

    Parameters
    ----------
    sampler : TokenSampler
    temperature, top_k, top_p, min_p
        Our filters (leave transformers' own sampling off: ``do_sample=False``).

    Attributes
    ----------
    drawn : list[list[int]]
        Per batch row of the current generation, the tokens the sampler drew and generate
        emitted, in order.
    """

    def __init__(self, sampler: TokenSampler, *, temperature: float = 1.0,
                 top_k: int | None = 50, top_p: float | None = None, min_p: float | None = None):
        check_filters(temperature, top_k, top_p, min_p)
        self.sampler = sampler
        self.filters = dict(temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
        self.drawn: list[list[int]] = []
        self._expected: np.ndarray | None = None  # last call's rows, each with its next token
        self._finished = np.zeros(0, dtype=bool)   # rows generate pads (their pad: _expected)

    def _continue_or_restart(self, ids: np.ndarray, rows: np.ndarray) -> None:
        """Follow the rows from the last call, or start a new generation."""
        last = self._expected
        if last is None or ids.shape != last.shape \
                or not np.array_equal(ids[:, :-1], last[:, :-1]):
            _refuse_log_probabilities(rows)
            self.drawn = [[] for _ in range(ids.shape[0])]
            self._finished = np.zeros(ids.shape[0], dtype=bool)
            return
        for b in np.flatnonzero(ids[:, -1] != last[:, -1]):
            if self._finished[b]:
                raise ValueError(
                    f"SampledTokenProcessor: finished row {b} came back extended by token "
                    f"{int(ids[b, -1])}, not its pad {int(last[b, -1])}: generate rewrote the "
                    f"rows (assisted decoding, or a logits processor after this one); use it "
                    f"with num_beams=1 and as the last processor")
            self._finished[b] = True   # transformers pads a finished row: its last draw unused
            self.drawn[b].pop()

    def __call__(self, input_ids, scores):
        import torch

        rows = scores.double().cpu().numpy()
        if np.isnan(rows).any():
            raise ValueError("scores contain NaN")
        ids = np.asarray(input_ids.cpu() if hasattr(input_ids, "cpu") else input_ids)
        if ids.ndim != 2 or rows.ndim != 2 or ids.shape[0] != rows.shape[0]:
            raise ValueError(f"input_ids (batch, length) and scores (batch, vocabulary) must have "
                             f"one row each per sequence, got shapes {ids.shape} and {rows.shape}")
        self._continue_or_restart(ids, rows)
        out = scores.clone()
        nxt = ids[:, -1].copy()  # a finished row's pad repeats
        for b in np.flatnonzero(~self._finished):
            # -inf marks tokens an earlier processor ruled out (e.g. min_new_tokens): not candidates
            allowed = np.flatnonzero(np.isfinite(rows[b]))
            if allowed.size == 0:
                raise ValueError(f"every score of row {b} is -inf: no token can be drawn")
            kept = reduce_vocab(rows[b, allowed], **self.filters)
            token = int(allowed[self.sampler.sample_kept(kept, int(b))])
            self.drawn[b].append(token)
            nxt[b] = token
            out[b] = float("-inf")
            out[b, token] = 0.0
        self._expected = np.concatenate([ids, nxt[:, None]], axis=1)
        return out


def _refuse_log_probabilities(rows: np.ndarray) -> None:
    """Beam search hands the processors log-softmax scores (every row's logsumexp is 0); raw
    logits are never normalised so. Refuse the mode before drawing."""
    finite = np.where(np.isfinite(rows), rows, -np.inf)
    top = finite.max(axis=1, keepdims=True)
    log_total = top[:, 0] + np.log(np.exp(finite - top).sum(axis=1))
    if rows.shape[1] > 1 and np.all(np.abs(log_total) < 1e-4):
        raise ValueError("SampledTokenProcessor got log-probabilities, as beam search "
                         "(num_beams > 1) passes them: a sampled token has no beam score, so beam "
                         "search cannot use it; generate with num_beams=1 (do_sample=False)")
