"""Fixed-point Gumbel-max at the stream's bit budget: the usual digital sampler, for comparison
(:mod:`pysampler.engines.gumbel`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.rng import derive_state
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB, stream_format)
from ..engines.gumbel import gumbel_draw, gumbel_draw_batch, gumbel_tables, gumbel_token_probs
from ..engines.stream import stream_quantize, stream_quantize_batch
from .base import TokenLaw, TokenSampler, as_float_array
from .filtering import KeptVocab, check_filters
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
        self._lane_states: dict[int, int] = {}

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "GumbelSampler":
        return cls(cfg, seed=seed)

    @property
    def max_kept(self) -> int:
        return self.fmt.max_vocab

    def _reset_streams(self) -> None:
        self._lane_states.clear()

    def _state(self, lane: int) -> int:
        return self._lane_states.get(lane) or derive_state(self.seed, lane, self.fmt.acc)

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        row = stream_quantize(kept.logits, 1.0, self.fmt)
        token, self._lane_states[lane], _ = gumbel_draw(row.q, self._state(lane), self.fmt,
                                                        self._tables)
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

    def sample_batch(self, logits_2d: Any, *, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None, min_p: float | None = None) -> Any:
        """Vectorised over rows when no filter applies (same tokens as row by row)."""
        z, is_torch = as_float_array(logits_2d)
        if z.ndim != 2:
            raise ValueError(f"logits_2d must be 2-D (B, V), got shape {z.shape}")
        check_filters(temperature, top_k, top_p, min_p)
        if top_k is not None or top_p is not None or min_p is not None or np.isneginf(z).any():
            return super().sample_batch(logits_2d, temperature=temperature, top_k=top_k,
                                        top_p=top_p, min_p=min_p)
        x, saturated = stream_quantize_batch(z, temperature, self.fmt)
        q = x >> self.fmt.acc_shift
        states = np.array([self._state(b) for b in range(z.shape[0])], dtype=np.uint64)
        tokens, new_states = gumbel_draw_batch(q, states, self.fmt, self._tables)
        for b, s in enumerate(new_states):
            self._lane_states[b] = int(s)
        self.stats.tokens += z.shape[0]
        self.stats.attempts += z.shape[0]
        self.stats.updates += z.size
        self.stats.saturated_tokens += int((saturated > 0).sum())
        out = tokens.astype(np.int64)
        if is_torch:
            import torch

            return torch.from_numpy(out)
        return out
