"""Train the offline GPT-2 (``make lm``, ``pysampler train-lm``): a byte-level BPE tokenizer and a
small GPT2LMHeadModel on English prose that installs from Debian, in a few minutes on a 2-core CPU.

Corpus: the reStructuredText sources of the Python 3.11 documentation (Debian package
``python3.11-doc``, /usr/share/doc/python3.11/html/_sources, PSF licence), about 11 MB. Paragraphs
of prose are kept; directives, indented code blocks and interactive examples are dropped.

Two tokenizers (``tokenizer=``, ``pysampler train-lm --tokenizer``):

``bpe`` (the default, ``make lm`` -> build/lm)
    A 2,048-token byte-level BPE trained here on the corpus (``tokenizers``), wrapped in
    ``GPT2TokenizerFast``.
``gpt2`` (``make lm-gpt2`` -> build/lm-gpt2)
    GPT-2's own 50,257-token tokenizer (:func:`pysampler.llm.gpt2vocab.gpt2_tokenizer`, from the
    byte-pair ranks in openai-whisper's source archive, ``make build/gpt2/gpt2.tiktoken``): the
    same corpus and model shape, next-token rows of GPT-2's vocabulary size.

The tokenizer is saved with the model: ``from_pretrained(out_dir)`` reloads both. Losses per
token are not comparable across tokenizers, so the held-out text is also scored in bits per UTF-8
byte (:func:`heldout_bits_per_byte`).
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

from typing import Any, Sequence

import numpy as np

__all__ = ["CORPUS_DIR", "load_corpus", "train_tokenizer", "make_tokenizer", "train_model",
           "train_lm", "heldout_bits_per_byte", "add_bits_per_byte", "write_report", "EOS",
           "TOKENIZERS", "TRAIN_FRACTION"]

CORPUS_DIR = Path("/usr/share/doc/python3.11/html/_sources")
EOS = "<|endoftext|>"
#: tokenizer kinds of :func:`train_lm`: ``bpe`` trained here (2,048 tokens), ``gpt2`` GPT-2's own
TOKENIZERS = ("bpe", "gpt2")
#: the first 98% of the paragraphs (in file order) train; the rest are held out
TRAIN_FRACTION = 0.98
_MARKUP = re.compile(r"[:`*|]{1,2}")
_ROLE = re.compile(r":[a-z]+(?::[a-z]+)*:`~?([^`<]*?)\s*(?:<[^>]*>)?`")
_FOOTNOTE = re.compile(r"\s*\[#\w*\]_")


def _prose(paragraph: str) -> str | None:
    lines = paragraph.splitlines()
    if not lines or any(line.startswith((" ", "\t", "..", ">>>", "$")) for line in lines):
        return None
    if all(set(line.strip()) <= set("=-~^*#+`'\"") for line in lines):
        return None
    text = " ".join(line.strip() for line in lines)
    text = _FOOTNOTE.sub("", _ROLE.sub(r"\1", text))
    text = _MARKUP.sub("", text)
    words = text.split()
    if len(words) < 8:
        return None
    return " ".join(words)


def load_corpus(root: Path = CORPUS_DIR) -> list[str]:
    """Prose paragraphs of the corpus, in a fixed (sorted file) order."""
    files = sorted(root.rglob("*.txt"))
    if not files:
        raise FileNotFoundError(f"no corpus under {root}: install Debian's python3.11-doc "
                                f"(`make lm` does)")
    paragraphs = []
    for path in files:
        for block in re.split(r"\n\s*\n", path.read_text(errors="replace")):
            text = _prose(block)
            if text:
                paragraphs.append(text)
    return paragraphs


def train_tokenizer(paragraphs: list[str], vocab_size: int):
    """Byte-level BPE (GPT-2's scheme) trained on the corpus, as a GPT2TokenizerFast."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(paragraphs, vocab_size=vocab_size, min_frequency=2,
                            special_tokens=[EOS], show_progress=False)
    return GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token=EOS, eos_token=EOS,
                             unk_token=EOS)


def make_tokenizer(kind: str, paragraphs: list[str], vocab_size: int = 2048,
                   gpt2_ranks: Path | None = None) -> tuple[Any, str]:
    """The tokenizer of ``kind`` (:data:`TOKENIZERS`) and a sentence naming it and its source:
    ``bpe`` trained on ``paragraphs`` with ``vocab_size`` tokens, ``gpt2`` GPT-2's from the ranks
    file ``gpt2_ranks`` (default :data:`pysampler.llm.gpt2vocab.GPT2_TIKTOKEN`; ``vocab_size``
    is not used)."""
    from .gpt2vocab import GPT2_TIKTOKEN, GPT2_TIKTOKEN_SOURCE, gpt2_tokenizer

    if kind == "bpe":
        return (train_tokenizer(paragraphs, vocab_size),
                f"byte-level BPE of {vocab_size:,} tokens trained on the corpus's training "
                f"paragraphs (`tokenizers`)")
    if kind == "gpt2":
        return (gpt2_tokenizer(GPT2_TIKTOKEN if gpt2_ranks is None else gpt2_ranks),
                f"GPT-2's own tokenizer (50,257 tokens, GPT-2's ids): {GPT2_TIKTOKEN_SOURCE}")
    raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {kind!r}")


def _encode(tokenizer, paragraphs: list[str]) -> np.ndarray:
    ids: list[int] = []
    for enc in tokenizer(paragraphs)["input_ids"]:
        ids.extend(enc)
        ids.append(tokenizer.eos_token_id)
    return np.asarray(ids, dtype=np.int64)


def train_model(tokens: np.ndarray, vocab_size: int, eos_id: int, *, seconds: float,
                context: int, batch: int, n_layer: int, n_embd: int, n_head: int, seed: int,
                progress: bool = True):
    """Train a GPT2LMHeadModel on random windows of ``tokens`` for ``seconds`` of wall time."""
    import torch
    from tqdm import tqdm
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    config = GPT2Config(vocab_size=vocab_size, n_positions=context, n_embd=n_embd,
                        n_layer=n_layer, n_head=n_head, bos_token_id=eos_id, eos_token_id=eos_id,
                        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0)
    model = GPT2LMHeadModel(config)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01, betas=(0.9, 0.95))
    model.train()
    start, step, losses = time.perf_counter(), 0, []
    bar = tqdm(total=int(seconds), desc="training", unit="s", disable=not progress)
    while (elapsed := time.perf_counter() - start) < seconds:
        frac = elapsed / seconds
        for group in opt.param_groups:  # short warm-up, then cosine decay over the time budget
            group["lr"] = 3e-3 * min(1.0, step / 50) * 0.5 * (1 + math.cos(math.pi * frac))
        starts = rng.integers(0, tokens.size - context - 1, batch)
        x = torch.from_numpy(np.stack([tokens[s:s + context] for s in starts]))
        loss = model(input_ids=x, labels=x).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(float(loss.detach()))
        step += 1
        bar.n = min(int(elapsed), int(seconds))
        bar.set_postfix(loss=f"{np.mean(losses[-20:]):.3f}", refresh=False)
        bar.refresh()
    bar.close()
    model.eval()
    return model, {"steps": step, "train_loss_last50": float(np.mean(losses[-50:])),
                   "tokens_seen": step * batch * context}


def evaluate(model, tokens: np.ndarray, context: int, top_k: int = 50, windows: int = 64,
             seed: int = 1) -> dict[str, float]:
    """Validation loss and the entropy of the next-token distributions (full and top-k
    renormalised), in nats, over ``windows`` random windows of held-out text."""
    import torch

    rng = np.random.default_rng(seed)
    starts = rng.integers(0, tokens.size - context - 1, windows)
    x = torch.from_numpy(np.stack([tokens[s:s + context] for s in starts]))
    if windows * context * model.config.vocab_size <= _EVAL_LOGITS:  # the 2,048-token LM: one pass
        with torch.no_grad():
            out = model(input_ids=x, labels=x)
            logp = torch.log_softmax(out.logits[:, :-1].double(), dim=-1)
            entropy = -(logp.exp() * logp).sum(-1)
            top = torch.topk(out.logits[:, :-1].double(), top_k, dim=-1).values
            top_logp = torch.log_softmax(top, dim=-1)
            top_entropy = -(top_logp.exp() * top_logp).sum(-1)
            top1 = top_logp[..., 0].exp()
        loss = float(out.loss)
    else:  # GPT-2's vocabulary: a few windows at a time (each chunk's (N, V) float64 bounded)
        parts = [_window_stats(model, chunk, top_k) for chunk in torch.split(
            x, max(1, _EVAL_LOGITS // (context * model.config.vocab_size)))]
        nll, entropy, top_entropy, top1 = (torch.cat([p[k] for p in parts]) for k in range(4))
        loss = float(nll.mean())
    return {"val_loss": loss, "val_perplexity": float(math.exp(loss)),
            "mean_entropy_full": float(entropy.mean()),
            f"mean_entropy_top{top_k}": float(top_entropy.mean()),
            f"mean_top1_prob_top{top_k}": float(top1.mean())}


#: logits (windows x positions x vocabulary) :func:`evaluate` holds at once (the 2,048-token LM:
#: 64 x 64 x 2,048 = 2^23, one pass as before; GPT-2's vocabulary: 5 windows a pass)
_EVAL_LOGITS = 1 << 24


def _window_stats(model, x, top_k: int):
    """Per predicted position of the windows ``x`` (N, T): negative log-likelihood, entropy of
    the whole and of the top-k renormalised distribution, top-1 probability within the top k."""
    import torch

    with torch.no_grad():
        logits = model(input_ids=x).logits[:, :-1].double()
        logp = torch.log_softmax(logits, dim=-1)
        nll = -logp.gather(-1, x[:, 1:, None])[..., 0]
        entropy = -(logp.exp() * logp).sum(-1)
        top_logp = torch.log_softmax(torch.topk(logits, top_k, dim=-1).values, dim=-1)
        top_entropy = -(top_logp.exp() * top_logp).sum(-1)
    return (nll.flatten(), entropy.flatten(), top_entropy.flatten(),
            top_logp[..., 0].exp().flatten())


def _token_bytes(tokenizer) -> np.ndarray:
    """UTF-8 bytes each token id stands for (int64 (V,)): a byte-level BPE token's string has one
    character per byte; a special token (EOS, between paragraphs) stands for one newline byte."""
    pieces = tokenizer.convert_ids_to_tokens(list(range(len(tokenizer))))
    lengths = np.array([len(p) for p in pieces], dtype=np.int64)
    lengths[list(tokenizer.all_special_ids)] = 1
    return lengths


def heldout_bits_per_byte(model, tokenizer, tokens: np.ndarray, context: int,
                          windows_per_pass: int = 8) -> dict[str, float]:
    """Every held-out token after the first scored once, with at least ``context // 2`` tokens
    before it (all there are near the start): windows of ``context`` tokens every ``context // 2``
    tokens, each scoring the tokens the previous window did not. Returns the loss in nats per
    scored token (``heldout_loss_all``), the count of scored tokens, the UTF-8 bytes they stand
    for (``heldout_bytes``; EOS counts as the one newline between paragraphs) and bits per byte
    (``bits_per_byte`` = total nats / ln 2 / bytes): comparable across tokenizers, since every
    tokenizer's tokens cover the same held-out bytes (less its first token's)."""
    import torch

    n, stride = int(tokens.size), max(1, context // 2)
    spans = [(0, min(context, n), 1)]  # (window start, end, first scored position)
    while spans[-1][1] < n:
        first = spans[-1][1]
        start = max(0, min(first - (context - stride), n - context))
        spans.append((start, min(start + context, n), first))
    nats, scored = 0.0, []
    with torch.no_grad():
        for k in range(0, len(spans), windows_per_pass):
            group = spans[k:k + windows_per_pass]
            for length in sorted({e - s for s, e, _ in group}):  # the last window may be short
                same = [w for w in group if w[1] - w[0] == length]
                x = torch.from_numpy(np.stack([tokens[s:e] for s, e, _ in same]).astype(np.int64))
                logp = torch.log_softmax(model(input_ids=x).logits[:, :-1].double(), dim=-1)
                picked = logp.gather(-1, x[:, 1:, None])[..., 0]
                for row, (s, e, first) in enumerate(same):
                    nats -= float(picked[row, first - s - 1:].sum())
                    scored.append(tokens[first:e])
    targets = np.concatenate(scored)
    n_bytes = int(_token_bytes(tokenizer)[targets].sum())
    return {"heldout_loss_all": nats / targets.size, "heldout_tokens_scored": int(targets.size),
            "heldout_bytes": n_bytes, "bits_per_byte": nats / math.log(2) / n_bytes}


def _split(paragraphs: list[str]) -> int:
    """Index of the first held-out paragraph."""
    return int(len(paragraphs) * TRAIN_FRACTION)


def train_lm(out: Path = Path("build/lm"), *, seconds: float = 300.0, vocab_size: int = 2048,
             context: int = 64, batch: int = 32, layers: int = 3, embd: int = 128, heads: int = 4,
             seed: int = 0, report: Path | None = None, tokenizer: str = "bpe",
             gpt2_ranks: Path | None = None, compare: Sequence[Path] = ()) -> dict:
    """Make the tokenizer (``tokenizer``: ``bpe`` trains one of ``vocab_size`` tokens, ``gpt2``
    loads GPT-2's from ``gpt2_ranks``, see :func:`make_tokenizer`) and train the model on the
    corpus for ``seconds`` of wall time, save both to ``out`` (``from_pretrained(out)`` reloads
    them), write ``report`` (Markdown) when given, and return the figures (also in
    ``out/training.json``). ``compare``: other LM folders whose bits per byte the report puts
    beside this one's (those with a training.json that has them).

    torch runs on one thread here: this model's steps are small, and two intra-op threads on a
    2-core machine that is doing anything else run them about 12x slower (3.3 against 0.27 s a
    step, measured side by side at load 2), so a busy machine would train a fraction of the steps
    in the same budget; on an idle one, one thread costs little."""
    import torch

    if tokenizer not in TOKENIZERS:  # before the corpus loads
        raise ValueError(f"tokenizer must be one of {TOKENIZERS}, got {tokenizer!r}")
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    paragraphs = load_corpus()
    split = _split(paragraphs)
    tok, source = make_tokenizer(tokenizer, paragraphs[:split], vocab_size, gpt2_ranks)
    train_ids, val_ids = _encode(tok, paragraphs[:split]), _encode(tok, paragraphs[split:])
    print(f"corpus: {len(paragraphs)} paragraphs, {train_ids.size} training tokens, "
          f"{val_ids.size} held-out tokens, vocabulary {len(tok)}")
    model, stats = train_model(train_ids, len(tok), tok.eos_token_id,
                               seconds=seconds, context=context, batch=batch,
                               n_layer=layers, n_embd=embd, n_head=heads,
                               seed=seed)
    stats.update(evaluate(model, val_ids, context))
    stats.update(heldout_bits_per_byte(model, tok, val_ids, context))
    stats.update({"parameters": sum(p.numel() for p in model.parameters()),
                  "corpus": "Debian python3.11-doc reST sources (PSF licence), prose paragraphs",
                  "train_tokens": int(train_ids.size), "seconds": seconds, "seed": seed,
                  "tokenizer": tokenizer, "tokenizer_source": source})
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tok.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    if report:
        write_report(out, stats, report, compare=compare)
    return stats


def add_bits_per_byte(model_dir: Path) -> dict:
    """Score the held-out text in bits per byte with the model and tokenizer saved in
    ``model_dir`` (an LM :func:`train_lm` wrote before the figure existed), add the figures to
    its training.json and return them all. The held-out split is the one training used."""
    from .generate import load_lm

    model_dir = Path(model_dir)
    stats = json.loads((model_dir / "training.json").read_text())
    lm = load_lm(model_dir)
    paragraphs = load_corpus()
    val_ids = _encode(lm.tokenizer, paragraphs[_split(paragraphs):])
    stats.update(heldout_bits_per_byte(lm.model, lm.tokenizer, val_ids, lm.max_positions))
    (model_dir / "training.json").write_text(json.dumps(stats, indent=2) + "\n")
    return stats


SAMPLE_PROMPTS = ("The function returns", "In this tutorial, we", "A module is")
_BPE_SOURCE = ("byte-level BPE of 2,048 tokens trained on the corpus's training paragraphs "
               "(`tokenizers`)")


def _comparison(model_dir: Path, stats: dict, compare: Sequence[Path]) -> list[str]:
    """Lines putting this LM's bits per byte beside those of the LMs in ``compare``."""
    others = []
    for other in compare:
        path = Path(other) / "training.json"
        if Path(other).resolve() == Path(model_dir).resolve() or not path.is_file():
            continue
        figures = json.loads(path.read_text())
        if "bits_per_byte" in figures:
            others.append((Path(other), figures))
    if not others or "bits_per_byte" not in stats:
        return []
    lines = ["## Across tokenizers", "",
             "Loss per token depends on what a token is (a 2,048-token BPE splits the same text "
             "into more, easier tokens than GPT-2's 50,257), so the LMs are compared on the same "
             "held-out text in bits per UTF-8 byte:", "",
             "| LM | tokenizer | vocabulary | training steps | held-out tokens | "
             "held-out loss (nats/token) | bits per byte |", "|---|---|---|---|---|---|---|"]
    rows = [(Path(model_dir), stats)] + others
    for folder, f in rows:
        lines.append(f"| `{folder}` | {f.get('tokenizer', 'bpe')} | "
                     f"{_vocabulary(folder):,} | {f['steps']:,} | "
                     f"{f['heldout_tokens_scored']:,} | {f['heldout_loss_all']:.3f} | "
                     f"{f['bits_per_byte']:.3f} |")
    best = min(rows, key=lambda r: r[1]["bits_per_byte"])
    worst = max(rows, key=lambda r: r[1]["bits_per_byte"])
    if best is worst:
        lines += ["", "The LMs score the held-out text equally (bits per byte)."]
    else:
        lines += ["", f"Better on the held-out text: `{best[0]}` "
                  f"({best[1].get('tokenizer', 'bpe')} tokenizer), "
                  f"{best[1]['bits_per_byte']:.3f} bits per byte against "
                  f"{worst[1]['bits_per_byte']:.3f} (`{worst[0]}`), same corpus, model shape "
                  f"and {stats['seconds']:.0f} s budget (the training steps the budget "
                  f"allowed differ: a wider vocabulary makes each step's output layer and "
                  f"softmax that much larger)."]
    return lines + [""]


def _vocabulary(model_dir: Path) -> int:
    return int(json.loads((Path(model_dir) / "config.json").read_text())["vocab_size"])


def write_report(model_dir: Path, stats: dict, path: Path, compare: Sequence[Path] = ()) -> None:
    """results/lm.md (results/lm_gpt2.md): training figures, held-out loss per token and per
    byte, next-token entropy, sampled continuations; beside them the bits per byte of the LMs in
    ``compare`` (where their training.json has them)."""
    from ..samplers.softmax import SoftmaxSampler
    from .generate import generate, load_lm

    lm = load_lm(model_dir)
    samples = generate(lm, list(SAMPLE_PROMPTS), SoftmaxSampler(seed=0), max_new_tokens=30,
                       top_k=50, seed=0)
    gpt2 = stats.get("tokenizer", "bpe") == "gpt2"
    command = ("`make lm-gpt2` (`pysampler train-lm --tokenizer gpt2`)" if gpt2
               else "`make lm` (`pysampler train-lm`)")
    lines = [
        "# The offline GPT-2" + (", GPT-2's tokenizer" if gpt2 else ""), "",
        f"Command: {command}. " + stats["corpus"] + ".", "",
        f"Tokenizer: {stats.get('tokenizer_source', _BPE_SOURCE)}.", "",
        "| figure | value |", "|---|---|",
        f"| parameters | {stats['parameters']:,} |",
        f"| vocabulary (tokens) | {lm.vocab_size:,} |",
        f"| layers | {lm.model.config.n_layer} |",
        f"| width | {lm.model.config.n_embd} |",
        f"| attention heads | {lm.model.config.n_head} |",
        f"| positions | {lm.max_positions} |",
        f"| training time budget (s) | {stats['seconds']:.0f} |",
        f"| training tokens (corpus) | {stats['train_tokens']:,} |",
        f"| tokens seen in training | {stats['tokens_seen']:,} ({stats['steps']} steps, "
        f"{stats['seconds']:.0f} s) |",
        f"| held-out loss (nats/token) | {stats['val_loss']:.3f} |",
        f"| held-out perplexity | {stats['val_perplexity']:.1f} |",
    ]
    if "bits_per_byte" in stats:  # every held-out token once (heldout_bits_per_byte)
        lines += [f"| held-out tokens scored, each once | {stats['heldout_tokens_scored']:,} |",
                  f"| held-out UTF-8 bytes they stand for | {stats['heldout_bytes']:,} |",
                  f"| held-out loss, every token once (nats/token) | "
                  f"{stats['heldout_loss_all']:.3f} |",
                  f"| held-out bits per UTF-8 byte | {stats['bits_per_byte']:.3f} |"]
    lines += [
        f"| mean entropy of the next-token distribution (nats) | {stats['mean_entropy_full']:.3f} |",
        f"| mean entropy of the top-50 renormalised distribution (nats) | "
        f"{stats['mean_entropy_top50']:.3f} |",
        f"| mean top-1 probability within the top 50 | {stats['mean_top1_prob_top50']:.3f} |",
        "",
        "For scale: a uniform top-50 distribution has entropy ln 50 = 3.91 nats. We found no "
        "published figure for the entropy of GPT-2's top-50 distributions to put beside these; "
        "GPT-2 small's published zero-shot perplexities (Radford et al. 2019, Table 3: 29.4 on WikiText-2, "
        "37.5 on WikiText-103, 65.9 on PTB) are on other text"
        + (" with the same vocabulary but from GPT-2 small, a far larger model trained on "
           "WebText, so they are not comparable with this model's held-out perplexity either."
           if gpt2 else
           " with a 25x larger vocabulary, so they are not "
           "comparable with this model's held-out perplexity either."), "",
        *_comparison(model_dir, stats, compare),
        "## Samples (softmax sampling, top-k 50, seed 0)", "",
    ]
    for prompt, res in zip(SAMPLE_PROMPTS, samples):
        lines.append(f"- **{prompt}**{res.text}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")
