"""The offline LM trainer's held-out score in bits per UTF-8 byte (comparable across tokenizers),
its tokenizer choice and the report's comparison across LMs (no training here)."""

import json
import math

import numpy as np
import pytest

from pysampler.llm import load_lm
from pysampler.llm.train import (_comparison, _encode, heldout_bits_per_byte, make_tokenizer,
                                 train_lm)
from tests.conftest import TINY_LM_SENTENCES

pytestmark = pytest.mark.lm

TEXT = TINY_LM_SENTENCES + ["naïve café — “quoted” 東京 🙂 again", "one more line of text here"]


@pytest.mark.parametrize("folder", ["tiny_lm_folder", "tiny_gpt2_vocab_lm_folder"])
def test_bits_per_byte_scores_every_token_once_over_the_texts_bytes(folder, request):
    import torch

    lm = load_lm(request.getfixturevalue(folder))
    ids = _encode(lm.tokenizer, TEXT * 4)
    n_bytes = sum(len(p.encode()) for p in TEXT * 4) + len(TEXT * 4)  # EOS: one newline each
    first = len(lm.tokenizer.convert_ids_to_tokens(int(ids[0])))
    # one window holding everything: the model's own mean loss over the sequence
    whole = heldout_bits_per_byte(lm.model, lm.tokenizer, ids[:60], context=64)
    with torch.no_grad():
        x = torch.from_numpy(ids[None, :60])
        loss = float(lm.model(input_ids=x, labels=x).loss)
    assert whole["heldout_tokens_scored"] == 59
    assert whole["heldout_loss_all"] == pytest.approx(loss, rel=1e-5)
    # windows every 8 tokens of 16: every token after the first once, over the text's bytes
    got = heldout_bits_per_byte(lm.model, lm.tokenizer, ids, context=16, windows_per_pass=3)
    assert ids.size > 64 and got["heldout_tokens_scored"] == ids.size - 1
    assert got["heldout_bytes"] == n_bytes - first
    assert got["bits_per_byte"] == pytest.approx(
        got["heldout_loss_all"] * got["heldout_tokens_scored"] / math.log(2)
        / got["heldout_bytes"])
    # 8 tokens of context at least, against the whole window: the same model, a similar score
    assert got["heldout_loss_all"] == pytest.approx(whole["heldout_loss_all"], rel=0.25)


def test_tokenizer_kinds(gpt2_tokenizer_fast):
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        make_tokenizer("gpt3", TEXT)
    with pytest.raises(ValueError, match="tokenizer must be one of"):
        train_lm(tokenizer="nope", seconds=1)
    tok, source = make_tokenizer("gpt2", TEXT)
    assert len(tok) == 50257 and "gpt2.tiktoken" in source and "MIT" in source
    assert tok("Hello world")["input_ids"] == [15496, 995]
    bpe, source = make_tokenizer("bpe", TEXT * 20, vocab_size=300)
    assert len(bpe) <= 300 and "trained on the corpus" in source


def test_report_compares_bits_per_byte_across_lms(tmp_path):
    def lm(name, tokenizer, vocab, bpb):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "config.json").write_text(json.dumps({"vocab_size": vocab}))
        stats = {"tokenizer": tokenizer, "heldout_loss_all": bpb * 3, "bits_per_byte": bpb,
                 "seconds": 300.0, "steps": 100, "heldout_tokens_scored": 1000}
        (folder / "training.json").write_text(json.dumps(stats))
        return folder, stats

    small, small_stats = lm("lm", "bpe", 2048, 1.9)
    big, big_stats = lm("lm-gpt2", "gpt2", 50257, 2.4)
    lines = "\n".join(_comparison(big, big_stats, [small, tmp_path / "absent"]))
    assert "| gpt2 | 50,257 | 100 | 1,000 | 7.200 | 2.400 |" in lines
    assert "| bpe | 2,048 |" in lines
    assert f"Better on the held-out text: `{small}` (bpe tokenizer), 1.900 bits per byte " \
           f"against 2.400" in lines
    assert _comparison(big, big_stats, [tmp_path / "absent"]) == []
    assert _comparison(big, big_stats, [big]) == []
