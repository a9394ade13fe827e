"""GPT-2's own tokenizer from the byte-pair ranks in openai-whisper's archive: GPT-2's ids, 50,257
tokens with EOS 50256, the same ids as tiktoken's own encoder, lossless round trips."""

import hashlib

import numpy as np
import pytest

from pysampler.llm.gpt2vocab import (GPT2_PATTERN, GPT2_TIKTOKEN, GPT2_TIKTOKEN_SHA256,
                                     GPT2_VOCAB_SIZE, gpt2_tokenizer)
from tests.conftest import ROOT

pytestmark = pytest.mark.lm

PARAGRAPH = ("Naïve café owners in Zürich said “it's fine” — 東京 and Москва too, 🙂 twice 🙂.\n\n"
             "  Indented    spaces,\ttabs, 12345 digits, I'M SHOUTING; they'll've gone.\r\n"
             "<|endoftext|> ends a document.")


def test_known_gpt2_ids(gpt2_tokenizer_fast):
    tok = gpt2_tokenizer_fast
    assert len(tok) == GPT2_VOCAB_SIZE == 50257
    assert tok.eos_token == "<|endoftext|>" and tok.eos_token_id == 50256
    assert tok("Hello world")["input_ids"] == [15496, 995]
    assert tok(" the")["input_ids"] == [262]
    assert tok("<|endoftext|>")["input_ids"] == [50256]
    assert tok.convert_ids_to_tokens([15496, 995, 0, 50255]) == ["Hello", "Ġworld", "!",
                                                                  "Ġgazed"]


def test_round_trip_and_tiktoken_agree(gpt2_tokenizer_fast):
    """An independent encoder (tiktoken's own BPE on the same ranks) gives the same ids; decoding
    gives the text back byte for byte."""
    import tiktoken
    from tiktoken.load import load_tiktoken_bpe

    ranks = load_tiktoken_bpe(str(ROOT / GPT2_TIKTOKEN))
    ref = tiktoken.Encoding("gpt2-ranks", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                            special_tokens={"<|endoftext|>": 50256})
    ids = gpt2_tokenizer_fast(PARAGRAPH)["input_ids"]
    assert ids == ref.encode(PARAGRAPH, allowed_special="all")
    assert gpt2_tokenizer_fast.decode(ids) == PARAGRAPH
    assert 50256 in ids and max(ids) < GPT2_VOCAB_SIZE and len(ids) < len(PARAGRAPH.encode())


def test_saved_tokenizer_reloads_through_autotokenizer(gpt2_tokenizer_fast, tmp_path):
    from transformers import AutoTokenizer

    gpt2_tokenizer_fast.save_pretrained(tmp_path)
    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again(PARAGRAPH)["input_ids"] == gpt2_tokenizer_fast(PARAGRAPH)["input_ids"]
    assert (len(again), again.eos_token_id) == (50257, 50256)


def test_the_asset_is_checked(tmp_path):
    data = (ROOT / GPT2_TIKTOKEN).read_bytes()
    assert hashlib.sha256(data).hexdigest() == GPT2_TIKTOKEN_SHA256
    with pytest.raises(FileNotFoundError, match="make build/gpt2/gpt2.tiktoken"):
        gpt2_tokenizer(tmp_path / "missing.tiktoken")
    bad = tmp_path / "bad.tiktoken"
    bad.write_bytes(data[:-2] + b"1\n")
    with pytest.raises(ValueError, match="SHA-256"):
        gpt2_tokenizer(bad)
