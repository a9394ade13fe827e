"""Fixed-point Gumbel-max at the stream's bit budget: the usual digital sampler, for comparison
(:mod:`pysampler.engines.gumbel`)."""

from __future__ import annotations


import numpy as np

from ..contract.config import HwConfig
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB)
from ..engines.gumbel import gumbel_draw, gumbel_draw_batch, gumbel_tables, gumbel_token_probs
from ..engines.stream import StreamRow
from .base import TokenLaw
from .filtering import KeptVocab
from .registry import register_sampler
from .streamed import StreamFormatSampler

__all__ = ["GumbelSampler"]


@register_sampler("gumbel", help="fixed-point Gumbel-max (argmax of q + G, G from a table), "
                                 "the stream's bit budget")
class GumbelSampler(StreamFormatSampler):
    """argmax_k (q_k + GUMBEL[u_k >> (P' - a)]), earliest index on ties, on the stream's
    quantized logits with the stream's draws and a table of the stream LUT's size.

    Parameters
    ----------
    cfg : HwConfig, optional
        As :class:`~pysampler.samplers.stream.StreamSampler` (the same format options but
        ``reservoirs``).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)``.
    """

    work_unit = "draws"

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                 lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                 max_vocab: int = DEFAULT_MAX_VOCAB, seed: int = 0):
        super().__init__(cfg, guard_bits=guard_bits, acc_guard_bits=acc_guard_bits,
                         lut_frac_bits=lut_frac_bits, prob_bits=prob_bits, max_vocab=max_vocab,
                         seed=seed)

    def _build_tables(self):
        return gumbel_tables(self.fmt)

    def _draw_row(self, row: StreamRow, state: int) -> tuple[int, int]:
        token, state, _ = gumbel_draw(row.q, state, self.fmt, self._tables)
        return token, state

    def _draw_batch(self, x: np.ndarray, states: np.ndarray, lengths: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        return gumbel_draw_batch(x >> self.fmt.acc_shift, states, self.fmt, self._tables,
                                 lengths=lengths)

    def _work(self, sizes: np.ndarray) -> int:
        """One generator draw per logit."""
        return int(sizes.sum())

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Exact, ties included (:func:`~pysampler.engines.gumbel.gumbel_token_probs`); work = V
        draws."""
        row = self.row_for(kept)
        return TokenLaw(gumbel_token_probs(row.q, self.fmt, self._tables),
                        expected_work=float(row.size))
