"""What the samplers on the stream's fixed-point format share (the stream p-bit sampler and
fixed-point Gumbel-max): the format, one generator lane per row, and the batch path that packs
reduced rows to the left and runs every row over its own length in one vectorised call."""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.stream_format import (DEFAULT_ACC_GUARD_BITS, DEFAULT_GUARD_BITS,
                                      DEFAULT_LUT_FRAC_BITS, DEFAULT_MAX_VOCAB, stream_format)
from ..engines.stream import StreamRow, stream_quantize, stream_quantize_batch
from .base import GeneratorLanes, TokenSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy

__all__ = ["StreamFormatSampler"]


class StreamFormatSampler(TokenSampler):
    """A sampler that quantizes the kept logits to the stream format
    (:func:`~pysampler.contract.stream_format.stream_format` of ``cfg`` and the options) and draws
    with the format's generator, lane b starting at ``derive_state(seed, b)`` and running on from
    token to token. Subclasses give the tables (:meth:`_build_tables`), one row's draw
    (:meth:`_draw_row`), the batch draw (:meth:`_draw_batch`) and the work per token
    (:meth:`_work`)."""

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 acc_guard_bits: int | None = DEFAULT_ACC_GUARD_BITS,
                 lut_frac_bits: int = DEFAULT_LUT_FRAC_BITS, prob_bits: int | None = None,
                 max_vocab: int = DEFAULT_MAX_VOCAB, seed: int = 0, **format_options: Any):
        super().__init__(seed=seed)
        if cfg is not None and not isinstance(cfg, HwConfig):
            raise TypeError(f"cfg must be an HwConfig, got {type(cfg).__name__}")
        self.cfg = HwConfig() if cfg is None else cfg
        self.fmt = stream_format(self.cfg, guard_bits=guard_bits, acc_guard_bits=acc_guard_bits,
                                 lut_frac_bits=lut_frac_bits, prob_bits=prob_bits,
                                 max_vocab=max_vocab, **format_options)
        self._tables = self._build_tables()
        self._lanes = GeneratorLanes(self.fmt.acc)

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0
                    ) -> "StreamFormatSampler":
        """A sampler of the configuration's format (the chain policy does not apply)."""
        return cls(cfg, seed=seed)

    capacity = "max_vocab, the longest row its format takes"

    @property
    def max_kept(self) -> int:
        """The longest row the format takes (``max_vocab``, 65,536 by default)."""
        return self.fmt.max_vocab

    def _reset_streams(self) -> None:
        self._lanes.clear()

    def row_for(self, kept: KeptVocab) -> StreamRow:
        """The kept logits in the stream format."""
        return stream_quantize(kept.logits, 1.0, self.fmt)

    @abstractmethod
    def _build_tables(self) -> Any:
        """The sampler's tables for ``self.fmt``."""

    @abstractmethod
    def _draw_row(self, row: StreamRow, state: int) -> tuple[int, int]:
        """One token (index in the row) and the generator state after it."""

    @abstractmethod
    def _draw_batch(self, x: np.ndarray, states: np.ndarray, lengths: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray]:
        """Row b's token index and final state, row b being the first ``lengths[b]`` values of
        ``x`` (int64 (B, W), the format's accumulator scale) and starting at ``states[b]``."""

    @abstractmethod
    def _work(self, sizes: np.ndarray) -> int:
        """Work units (``work_unit``) of one token of each row of ``sizes`` kept logits, summed."""

    def _count(self, sizes: np.ndarray, n_saturated: int) -> None:
        self.stats.tokens += sizes.size
        self.stats.attempts += sizes.size
        self.stats.updates += self._work(sizes)
        self.stats.saturated_tokens += n_saturated

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        row = self.row_for(kept)
        token, state = self._draw_row(row, self._lanes.get(self.seed, lane))
        self._lanes.set(lane, state)
        self._count(np.array([row.size]), int(row.n_saturated > 0))
        return token

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """Every row at once, in one vectorised call (numba; threads over rows for large
        batches): reduced rows are packed to the left (:meth:`KeptBatch.compact`: the kept logits
        in ascending id order, the sequence the row-by-row path takes) and each runs over its own
        length. The same tokens,
        lane states and statistics as row by row.

        Parameters
        ----------
        kept : KeptBatch
            B reduced rows.
        lanes : np.ndarray of int64, shape (B,)
            Row b runs on lane ``lanes[b]`` (distinct).

        Returns
        -------
        np.ndarray of int64, shape (B,): token ids in the full vocabulary.
        """
        logits, ids = kept.compact()
        sizes = kept.sizes
        x, saturated = stream_quantize_batch(logits, 1.0, self.fmt, lengths=sizes)
        states = self._lanes.take_at(self.seed, lanes)
        index, new_states = self._draw_batch(x, states, sizes)
        self._lanes.put_at(lanes, np.asarray(new_states, dtype=np.uint64))
        self._count(sizes, int(np.count_nonzero(saturated)))
        return ids[np.arange(kept.n_rows), index]
