"""The streaming p-bit sampler: the whole vocabulary, no filter needed, no logit memory; one p-bit
decision per logit against a running fixed-point log-mass (:mod:`pysampler.engines.stream`; RTL
core ``pbit_stream``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.rng import derive_state
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB,
                                      DEFAULT_RESERVOIRS, stream_clocks, stream_draws,
                                      stream_format)
from ..engines.stream import (StreamRow, stream_draw, stream_draw_batch, stream_quantize,
                              stream_quantize_batch, stream_tables, stream_token_probs)
from .base import TokenLaw, TokenSampler, as_float_array
from .filtering import KeptVocab, check_filters
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
        self._lane_states: dict[int, int] = {}

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "StreamSampler":
        """A stream core of the configuration (the chain policy does not apply)."""
        return cls(cfg, seed=seed)

    @property
    def max_kept(self) -> int:
        """The longest row the format takes (``max_vocab``, 65,536 by default)."""
        return self.fmt.max_vocab

    def _reset_streams(self) -> None:
        self._lane_states.clear()

    def _state(self, lane: int) -> int:
        return self._lane_states.get(lane) or derive_state(self.seed, lane, self.fmt.acc)

    def row_for(self, kept: KeptVocab) -> StreamRow:
        return stream_quantize(kept.logits, 1.0, self.fmt)

    def _count(self, n_tokens: int, n_logits: int, n_saturated: int) -> None:
        self.stats.tokens += n_tokens
        self.stats.attempts += n_tokens
        self.stats.updates += n_tokens * stream_draws(n_logits, self.fmt.reservoirs)
        self.stats.saturated_tokens += n_saturated

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        row = self.row_for(kept)
        token, self._lane_states[lane], _ = stream_draw(row, self._state(lane), self._tables,
                                                        trace=False)
        self._count(1, row.size, int(row.n_saturated > 0))
        return token

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Product of the decisions' LUT probabilities (O(V)); work = decisions (draws) per
        token, V + C - 1; RTL clocks = :func:`~pysampler.contract.stream_format.stream_clocks`."""
        row = self.row_for(kept)
        return TokenLaw(stream_token_probs(row, self._tables),
                        expected_work=float(stream_draws(row.size, self.fmt.reservoirs)),
                        rtl_clocks=float(stream_clocks(row.size, self.fmt.reservoirs)))

    def sample_batch(self, logits_2d: Any, *, temperature: float = 1.0, top_k: int | None = None,
                     top_p: float | None = None, min_p: float | None = None) -> Any:
        """As :meth:`TokenSampler.sample_batch`; with no filter (and no -inf) every row streams the
        whole vocabulary in one vectorised call (numba, threads over rows): the same tokens as
        the row-by-row path."""
        z, is_torch = as_float_array(logits_2d)
        if z.ndim != 2:
            raise ValueError(f"logits_2d must be 2-D (B, V), got shape {z.shape}")
        check_filters(temperature, top_k, top_p, min_p)
        if top_k is not None or top_p is not None or min_p is not None or np.isneginf(z).any():
            return super().sample_batch(logits_2d, temperature=temperature, top_k=top_k,
                                        top_p=top_p, min_p=min_p)
        x, saturated = stream_quantize_batch(z, temperature, self.fmt)
        states = np.array([self._state(b) for b in range(z.shape[0])], dtype=np.uint64)
        tokens, new_states = stream_draw_batch(x, states, self.fmt, self._tables)
        for b, s in enumerate(new_states):
            self._lane_states[b] = int(s)
        self._count(z.shape[0], z.shape[1], int((saturated > 0).sum()))
        out = tokens.astype(np.int64)
        if is_torch:
            import torch

            return torch.from_numpy(out)
        return out
