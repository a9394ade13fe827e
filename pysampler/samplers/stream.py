"""The streaming p-bit sampler: the whole vocabulary, no filter needed, no logit memory; one p-bit
decision per logit against a running fixed-point log-mass (:mod:`pysampler.engines.stream`; RTL
core ``pbit_stream``)."""

from __future__ import annotations


import numpy as np

from ..contract.config import HwConfig
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS, DEFAULT_LANES,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB, stream_beats,
                                      stream_clocks, stream_draws)
from ..engines.stream import (StreamRow, stream_draw, stream_draw_batch, stream_tables,
                              stream_token_probs)
from .base import TokenLaw
from .filtering import KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler
from .streamed import StreamFormatSampler

__all__ = ["StreamSampler"]


@register_sampler("stream", help="the streaming p-bit sampler: one decision per logit, "
                                 "vocabularies up to 65,536 tokens, no logit memory")
class StreamSampler(StreamFormatSampler):
    """Token sampler streaming the kept logits through a running log-mass (weighted reservoir
    sampling with p-bit decisions), bit-accurate with the real generator.

    Parameters
    ----------
    cfg : HwConfig, optional
        Widths and generator (default ``HwConfig()``); the stream's own format is
        :func:`pysampler.contract.stream_format.stream_format` of it (``n_pbits`` does not apply:
        the stream takes any row of up to ``max_vocab`` logits).
    guard_bits, acc_guard_bits, lut_frac_bits, prob_bits, reservoirs, max_vocab
        The stream format's options (see :func:`~pysampler.contract.stream_format.stream_format`).
    lanes : int
        L, logits per beat (1..64; the RTL core built with ``lanes=L``): L lanes of weighted
        reservoirs merged by a tree of p-bit decisions. The law does not depend on L in exact
        arithmetic; the tokens do (the draws go to other decisions).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` (of the stream format's generator)
        and runs on from token to token.
    """

    work_unit = "decisions"
    options = ("lanes",)

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                 lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                 reservoirs: int | None = None, lanes: int = DEFAULT_LANES,
                 max_vocab: int = DEFAULT_MAX_VOCAB, seed: int = 0):
        super().__init__(cfg, guard_bits=guard_bits, acc_guard_bits=acc_guard_bits,
                         lut_frac_bits=lut_frac_bits, prob_bits=prob_bits, max_vocab=max_vocab,
                         seed=seed, reservoirs=reservoirs, lanes=lanes)

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0,
                    lanes: int = DEFAULT_LANES) -> "StreamSampler":
        """A sampler of the configuration's format with ``lanes`` lanes (``--lanes``)."""
        return cls(cfg, seed=seed, lanes=lanes)

    def _build_tables(self):
        return stream_tables(self.fmt)

    def _draw_row(self, row: StreamRow, state: int) -> tuple[int, int]:
        token, state, _ = stream_draw(row, state, self._tables, trace=False)
        return token, state

    def _draw_batch(self, x: np.ndarray, states: np.ndarray, lengths: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        return stream_draw_batch(x, states, self.fmt, self._tables, lengths=lengths)

    def _work(self, sizes: np.ndarray) -> int:
        """Decisions (generator draws): one per lane of every beat and one per merge,
        ceil(V / L) L + C - 1 a token."""
        lanes = self.fmt.lanes
        merges = sizes.size * (self.fmt.reservoirs - 1)
        return int(stream_beats(sizes, lanes).sum()) * lanes + merges

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Product of the decisions' LUT probabilities (O(V)); work = decisions (draws) per
        token, ceil(V / L) L + C - 1; RTL clocks =
        :func:`~pysampler.contract.stream_format.stream_clocks`."""
        row, fmt = self.row_for(kept), self.fmt
        return TokenLaw(stream_token_probs(row, self._tables),
                        expected_work=float(stream_draws(row.size, fmt.reservoirs, fmt.lanes)),
                        rtl_clocks=float(stream_clocks(row.size, fmt.reservoirs, fmt.lanes)))
