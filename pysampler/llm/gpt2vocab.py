"""GPT-2's own tokenizer, offline: its 50,000 byte-pair ranks (and 256 byte tokens) as shipped in
openai-whisper's source archive (``whisper/assets/gpt2.tiktoken``, MIT licence), turned into a
``GPT2TokenizerFast`` with EOS ``<|endoftext|>`` = 50256: 50,257 tokens, the ids GPT-2 uses.

``make build/gpt2/gpt2.tiktoken`` fetches the archive from the package registry
(``pip download --no-deps openai-whisper==20250625``), extracts the one asset and checks its
SHA-256 (:data:`GPT2_TIKTOKEN_SHA256`); :func:`gpt2_tokenizer` checks it again before use.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

__all__ = ["GPT2_TIKTOKEN", "GPT2_TIKTOKEN_SHA256", "GPT2_TIKTOKEN_SOURCE", "GPT2_PATTERN",
           "GPT2_VOCAB_SIZE", "gpt2_tokenizer"]

#: where ``make build/gpt2/gpt2.tiktoken`` puts the ranks
GPT2_TIKTOKEN = Path("build/gpt2/gpt2.tiktoken")
GPT2_TIKTOKEN_SHA256 = "306cd27f03c1a714eca7108e03d66b7dc042abe8c258b44c199a7ed9838dd930"
GPT2_TIKTOKEN_SOURCE = ("GPT-2's byte-pair ranks, `whisper/assets/gpt2.tiktoken` of the "
                        "openai-whisper 20250625 source archive (MIT licence)")
#: GPT-2's pre-tokenizer split (tiktoken's ``gpt2`` encoding; case-sensitive contractions)
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""
GPT2_VOCAB_SIZE = 50257
_EOS = "<|endoftext|>"


def gpt2_tokenizer(path: str | Path = GPT2_TIKTOKEN) -> Any:
    """GPT-2's tokenizer from the tiktoken ranks file at ``path``, as a ``GPT2TokenizerFast``.

    Ids are GPT-2's (``"Hello world"`` -> [15496, 995]); ``<|endoftext|>`` is 50256 and serves as
    BOS, EOS and UNK, as in GPT-2. A missing file raises FileNotFoundError naming the make target;
    a file whose SHA-256 is not :data:`GPT2_TIKTOKEN_SHA256` raises ValueError.
    """
    from tiktoken.load import load_tiktoken_bpe
    from transformers import GPT2TokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no GPT-2 ranks at {str(path)!r}: run `make {GPT2_TIKTOKEN}` "
                                f"(fetches openai-whisper's source archive with pip)")
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    if digest != GPT2_TIKTOKEN_SHA256:
        raise ValueError(f"{str(path)!r} has SHA-256 {digest}, not GPT-2's ranks "
                         f"({GPT2_TIKTOKEN_SHA256}): delete it and run `make {GPT2_TIKTOKEN}`")

    class _Converter(TikTokenConverter):
        # read the local file directly (tiktoken's reader caches a copy under the temp folder)
        @staticmethod
        def load_tiktoken_bpe(tiktoken_url: str) -> dict[bytes, int]:
            import os

            saved = os.environ.get("TIKTOKEN_CACHE_DIR")
            os.environ["TIKTOKEN_CACHE_DIR"] = ""  # "" disables tiktoken's cache
            try:
                return load_tiktoken_bpe(tiktoken_url, expected_hash=GPT2_TIKTOKEN_SHA256)
            finally:
                if saved is None:
                    del os.environ["TIKTOKEN_CACHE_DIR"]
                else:
                    os.environ["TIKTOKEN_CACHE_DIR"] = saved

    backend = _Converter(str(path), pattern=GPT2_PATTERN, extra_special_tokens=[_EOS]).converted()
    tok = GPT2TokenizerFast(tokenizer_object=backend, bos_token=_EOS, eos_token=_EOS,
                            unk_token=_EOS)
    if len(tok) != GPT2_VOCAB_SIZE or tok.eos_token_id != GPT2_VOCAB_SIZE - 1:
        raise ValueError(f"{str(path)!r} gave {len(tok)} tokens with EOS "
                         f"{tok.eos_token_id}, not GPT-2's {GPT2_VOCAB_SIZE} with EOS "
                         f"{GPT2_VOCAB_SIZE - 1}")
    return tok
