"""Train the offline GPT-2 (``make lm``, ``pysampler train-lm``): a byte-level BPE tokenizer and a
small GPT2LMHeadModel on English prose that installs from Debian, in a few minutes on a 2-core CPU.

Corpus: the reStructuredText sources of the Python 3.11 documentation (Debian package
``python3.11-doc``, /usr/share/doc/python3.11/html/_sources, PSF licence), about 11 MB. Paragraphs
of prose are kept; directives, indented code blocks and interactive examples are dropped.

No GPT-2 vocabulary exists offline, so the tokenizer is trained here too (``tokenizers``), wrapped in
``GPT2TokenizerFast`` and saved with the model: ``from_pretrained(out_dir)`` reloads both.
"""

from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

import numpy as np

__all__ = ["CORPUS_DIR", "load_corpus", "train_tokenizer", "train_model", "train_lm", "EOS"]

CORPUS_DIR = Path("/usr/share/doc/python3.11/html/_sources")
EOS = "<|endoftext|>"
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
    with torch.no_grad():
        out = model(input_ids=x, labels=x)
        logp = torch.log_softmax(out.logits[:, :-1].double(), dim=-1)
        entropy = -(logp.exp() * logp).sum(-1)
        top = torch.topk(out.logits[:, :-1].double(), top_k, dim=-1).values
        top_logp = torch.log_softmax(top, dim=-1)
        top_entropy = -(top_logp.exp() * top_logp).sum(-1)
        top1 = top_logp[..., 0].exp()
    return {"val_loss": float(out.loss), "val_perplexity": float(math.exp(out.loss)),
            "mean_entropy_full": float(entropy.mean()),
            f"mean_entropy_top{top_k}": float(top_entropy.mean()),
            f"mean_top1_prob_top{top_k}": float(top1.mean())}


def train_lm(out: Path = Path("build/lm"), *, seconds: float = 300.0, vocab_size: int = 2048,
             context: int = 64, batch: int = 32, layers: int = 3, embd: int = 128, heads: int = 4,
             seed: int = 0, report: Path | None = None) -> dict:
    """Train the tokenizer and the model on the corpus for ``seconds`` of wall time, save both to
    ``out`` (``from_pretrained(out)`` reloads them), write ``report`` (Markdown) when given, and
    return the figures (also in ``out/training.json``).

    torch runs on one thread here: this model's steps are small, and two intra-op threads on a
    2-core machine that is doing anything else run them about 12x slower (3.3 against 0.27 s a
    step, measured side by side at load 2), so a busy machine would train a fraction of the steps
    in the same budget; on an idle one, one thread costs little."""
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    paragraphs = load_corpus()
    split = int(len(paragraphs) * 0.98)
    tokenizer = train_tokenizer(paragraphs[:split], vocab_size)
    train_ids, val_ids = _encode(tokenizer, paragraphs[:split]), _encode(tokenizer, paragraphs[split:])
    print(f"corpus: {len(paragraphs)} paragraphs, {train_ids.size} training tokens, "
          f"{val_ids.size} held-out tokens, vocabulary {len(tokenizer)}")
    model, stats = train_model(train_ids, len(tokenizer), tokenizer.eos_token_id,
                               seconds=seconds, context=context, batch=batch,
                               n_layer=layers, n_embd=embd, n_head=heads,
                               seed=seed)
    stats.update(evaluate(model, val_ids, context))
    stats.update({"parameters": sum(p.numel() for p in model.parameters()),
                  "corpus": "Debian python3.11-doc reST sources (PSF licence), prose paragraphs",
                  "train_tokens": int(train_ids.size), "seconds": seconds, "seed": seed})
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "training.json").write_text(json.dumps(stats, indent=2) + "\n")
    print(json.dumps(stats, indent=2))
    if report:
        write_report(out, stats, report)
    return stats


SAMPLE_PROMPTS = ("The function returns", "In this tutorial, we", "A module is")


def write_report(model_dir: Path, stats: dict, path: Path) -> None:
    """results/lm.md: training figures, next-token entropy, and sampled continuations."""
    from ..samplers.softmax import SoftmaxSampler
    from .generate import generate, load_lm

    lm = load_lm(model_dir)
    samples = generate(lm, list(SAMPLE_PROMPTS), SoftmaxSampler(seed=0), max_new_tokens=30,
                       top_k=50, seed=0)
    lines = [
        "# The offline GPT-2", "",
        "Command: `make lm` (`pysampler train-lm`). " + stats["corpus"] + ".", "",
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
        f"| mean entropy of the next-token distribution (nats) | {stats['mean_entropy_full']:.3f} |",
        f"| mean entropy of the top-50 renormalised distribution (nats) | "
        f"{stats['mean_entropy_top50']:.3f} |",
        f"| mean top-1 probability within the top 50 | {stats['mean_top1_prob_top50']:.3f} |",
        "",
        "For scale: a uniform top-50 distribution has entropy ln 50 = 3.91 nats. We found no "
        "published figure for the entropy of GPT-2's top-50 distributions to put beside these; "
        "GPT-2 small's published zero-shot perplexities (Radford et al. 2019, Table 3: 29.4 on WikiText-2, "
        "37.5 on WikiText-103, 65.9 on PTB) are on other text with a 25x larger vocabulary, so they are not "
        "comparable with this model's held-out perplexity either.", "",
        "## Samples (softmax sampling, top-k 50, seed 0)", "",
    ]
    for prompt, res in zip(SAMPLE_PROMPTS, samples):
        lines.append(f"- **{prompt}**{res.text}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    print(f"wrote {path}")


