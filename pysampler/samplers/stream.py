"""The streaming p-bit sampler: the whole vocabulary, no filter needed, no logit memory; one p-bit
decision per logit against a running fixed-point log-mass (:mod:`pysampler.engines.stream`; RTL
core ``pbit_stream``)."""

from __future__ import annotations


import numpy as np

from ..contract.config import HwConfig
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB,
                                      DEFAULT_RESERVOIRS, stream_clocks, stream_draws,
                                      stream_format)
from ..engines.stream import (StreamRow, stream_draw, stream_draw_batch, stream_quantize,
                              stream_quantize_batch, stream_tables, stream_token_probs)
from .base import GeneratorLanes, TokenLaw, TokenSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["StreamSampler"]


@register_sampler("stream", help="the streaming p-bit sampler: one decision per logit, "
                                 "any vocabulary, no logit memory")
class StreamSampler(TokenSampler):
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
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` (of the stream format's generator)
        and runs on from token to token.
    """

    work_unit = "decisions"

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                 lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                 reservoirs: int = DEFAULT_RESERVOIRS, max_vocab: int = DEFAULT_MAX_VOCAB,
                 seed: int = 0):
        super().__init__(seed=seed)
        self.cfg = HwConfig() if cfg is None else cfg
        self.fmt = stream_format(self.cfg, guard_bits=guard_bits, acc_guard_bits=acc_guard_bits,
                                 lut_frac_bits=lut_frac_bits, prob_bits=prob_bits,
                                 reservoirs=reservoirs, max_vocab=max_vocab)
        self._tables = stream_tables(self.fmt)
        self._lanes = GeneratorLanes(self.fmt.acc)

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "StreamSampler":
        """A stream core of the configuration (the chain policy does not apply)."""
        return cls(cfg, seed=seed)

    @property
    def max_kept(self) -> int:
        """The longest row the format takes (``max_vocab``, 65,536 by default)."""
        return self.fmt.max_vocab

    def _reset_streams(self) -> None:
        self._lanes.clear()

    def _state(self, lane: int) -> int:
        return self._lanes.get(self.seed, lane)

    def row_for(self, kept: KeptVocab) -> StreamRow:
        return stream_quantize(kept.logits, 1.0, self.fmt)

    def _count(self, n_tokens: int, n_logits: int, n_saturated: int) -> None:
        self.stats.tokens += n_tokens
        self.stats.attempts += n_tokens
        self.stats.updates += n_tokens * stream_draws(n_logits, self.fmt.reservoirs)
        self.stats.saturated_tokens += n_saturated

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        row = self.row_for(kept)
        token, state, _ = stream_draw(row, self._state(lane), self._tables, trace=False)
        self._lanes.set(lane, state)
        self._count(1, row.size, int(row.n_saturated > 0))
        return token

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Product of the decisions' LUT probabilities (O(V)); work = decisions (draws) per
        token, V + C - 1; RTL clocks = :func:`~pysampler.contract.stream_format.stream_clocks`."""
        row = self.row_for(kept)
        return TokenLaw(stream_token_probs(row, self._tables),
                        expected_work=float(stream_draws(row.size, self.fmt.reservoirs)),
                        rtl_clocks=float(stream_clocks(row.size, self.fmt.reservoirs)))

    def sample_kept_batch(self, kept: KeptBatch) -> np.ndarray:
        """Every row streams at once, in one vectorised call (numba, threads over rows): reduced
        rows are packed to the left (:meth:`KeptBatch.compact`: the kept logits in ascending id
        order, the sequence the row-by-row path streams) and each streams its own length. The same
        tokens, lane states and statistics as row by row.

        Parameters
        ----------
        kept : KeptBatch
            B reduced rows; row b runs on lane b.

        Returns
        -------
        np.ndarray of int64, shape (B,): token ids in the full vocabulary.
        """
        logits, ids = kept.compact()
        sizes = kept.sizes
        x, saturated = stream_quantize_batch(logits, 1.0, self.fmt, lengths=sizes)
        states = self._lanes.take(self.seed, kept.n_rows)
        index, new_states = stream_draw_batch(x, states, self.fmt, self._tables, lengths=sizes)
        self._lanes.put(np.asarray(new_states, dtype=np.uint64))
        self.stats.tokens += kept.n_rows
        self.stats.attempts += kept.n_rows
        self.stats.updates += int(sizes.sum()) + kept.n_rows * (self.fmt.reservoirs - 1)
        self.stats.saturated_tokens += int(np.count_nonzero(saturated))
        return ids[np.arange(kept.n_rows), index]

