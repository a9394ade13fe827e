"""Fixed-point Gumbel-max at the stream's bit budget: the usual digital sampler, for comparison
(:mod:`pysampler.engines.gumbel`)."""

from __future__ import annotations


import numpy as np

from ..contract.config import HwConfig
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB, stream_format)
from ..engines.gumbel import gumbel_draw, gumbel_draw_batch, gumbel_tables, gumbel_token_probs
from ..engines.stream import stream_quantize, stream_quantize_batch
from .base import GeneratorLanes, TokenLaw, TokenSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["GumbelSampler"]


@register_sampler("gumbel", help="fixed-point Gumbel-max (argmax of q + G, G from a table), "
                                 "the stream's bit budget")
class GumbelSampler(TokenSampler):
    """argmax_k (q_k + GUMBEL[u_k >> (P' - a)]), earliest index on ties, on the stream's
    quantized logits with the stream's draws and a table of the stream LUT's size.

    Parameters
    ----------
    cfg : HwConfig, optional
        As :class:`~pysampler.samplers.stream.StreamSampler` (the same format options).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)``.
    """

    work_unit = "draws"

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                 lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                 max_vocab: int = DEFAULT_MAX_VOCAB, seed: int = 0):
        super().__init__(seed=seed)
        self.cfg = HwConfig() if cfg is None else cfg
        self.fmt = stream_format(self.cfg, guard_bits=guard_bits, acc_guard_bits=acc_guard_bits,
                                 lut_frac_bits=lut_frac_bits, prob_bits=prob_bits,
                                 max_vocab=max_vocab)
        self._tables = gumbel_tables(self.fmt)
        self._lanes = GeneratorLanes(self.fmt.acc)

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "GumbelSampler":
        return cls(cfg, seed=seed)

    @property
    def max_kept(self) -> int:
        return self.fmt.max_vocab

    def _reset_streams(self) -> None:
        self._lanes.clear()

    def _state(self, lane: int) -> int:
        return self._lanes.get(self.seed, lane)

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        row = stream_quantize(kept.logits, 1.0, self.fmt)
        token, state, _ = gumbel_draw(row.q, self._state(lane), self.fmt, self._tables)
        self._lanes.set(lane, state)
        self.stats.tokens += 1
        self.stats.attempts += 1
        self.stats.updates += row.size
        self.stats.saturated_tokens += int(row.n_saturated > 0)
        return token

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Exact, ties included (:func:`~pysampler.engines.gumbel.gumbel_token_probs`); work = V
        draws."""
        row = stream_quantize(kept.logits, 1.0, self.fmt)
        return TokenLaw(gumbel_token_probs(row.q, self.fmt, self._tables),
                        expected_work=float(row.size))

    def sample_kept_batch(self, kept: KeptBatch) -> np.ndarray:
        """Every row at once (numba, threads over rows): reduced rows are packed to the left in
        ascending id order (:meth:`KeptBatch.compact`, the row-by-row path's sequence) and each
        draws over its own length. The same tokens, lane states and statistics as row by row.

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
        q = x >> self.fmt.acc_shift
        states = self._lanes.take(self.seed, kept.n_rows)
        index, new_states = gumbel_draw_batch(q, states, self.fmt, self._tables, lengths=sizes)
        self._lanes.put(np.asarray(new_states, dtype=np.uint64))
        self.stats.tokens += kept.n_rows
        self.stats.attempts += kept.n_rows
        self.stats.updates += int(sizes.sum())
        self.stats.saturated_tokens += int(np.count_nonzero(saturated))
        return ids[np.arange(kept.n_rows), index]
