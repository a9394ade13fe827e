"""The bit-accurate emulated p-bit array running the one-hot program: what the RTL one-hot core
(``pbit_onehot``) emits, token for token."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.program import OnehotProgram, onehot_program, onehot_programs
from ..engines.array import BitAccurateModel, run_onehot_rows
from ..engines.propagate import onehot_init_counts
from .base import GeneratorLanes
from .chain import ChainSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["HardwareSampler"]


@register_sampler("hw", help="the bit-accurate emulated p-bit array (one-hot core)")
class HardwareSampler(ChainSampler):
    """The bit-accurate emulated p-bit array running the one-hot program.

    Parameters
    ----------
    cfg : HwConfig, optional
        Hardware configuration (default: ``HwConfig()``). The kept vocabulary must fit in
        ``cfg.n_pbits`` units: use top_k <= n_pbits.
    policy : ChainPolicy, optional
        As for :class:`pysampler.samplers.gibbs.GibbsSampler` (fields also as keyword arguments).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` and runs on from token to token, as
        one hardware generator would.
    strict : bool
        Raise :class:`pysampler.contract.program.SaturationError` when a program saturates the
        fixed-point range, instead of counting it in ``stats.saturated_tokens``.
    """

    def __init__(self, cfg: HwConfig | None = None, *, policy: ChainPolicy | None = None,
                 seed: int = 0, strict: bool = False, **policy_fields: Any):
        super().__init__(policy=policy, seed=seed, **policy_fields)
        if cfg is not None and not isinstance(cfg, HwConfig):
            raise TypeError(f"cfg must be an HwConfig, got {type(cfg).__name__}")
        self.cfg = HwConfig() if cfg is None else cfg
        self.strict = strict
        self._lanes = GeneratorLanes(self.cfg)
        self._last_kept: KeptVocab | None = None
        self._program: OnehotProgram | None = None

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0
                    ) -> "HardwareSampler":
        return cls(cfg, policy=policy, seed=seed)

    def with_policy(self, policy: ChainPolicy) -> "HardwareSampler":
        return HardwareSampler(self.cfg, policy=policy, seed=self.seed, strict=self.strict)

    @property
    def fixed_point(self) -> HwConfig:
        return self.cfg

    capacity = "n_pbits, the units of the array"

    @property
    def max_kept(self) -> int:
        return self.cfg.n_pbits

    def _reset_streams(self) -> None:
        self._lanes.clear()

    def _check_size(self, n_kept: int) -> None:
        if n_kept > self.cfg.n_pbits:
            raise ValueError(f"{n_kept} tokens kept but the array has n_pbits="
                             f"{self.cfg.n_pbits}; pass top_k <= {self.cfg.n_pbits}")

    def program_for(self, kept: KeptVocab) -> OnehotProgram:
        """The one-hot program this sampler runs for ``kept`` (cached for consecutive attempts)."""
        self._check_size(kept.size)
        if self._last_kept is not kept:
            policy = self.policy_for(kept)
            self._program = onehot_program(kept.logits, policy.lam_schedule, 1.0, self.cfg,
                                           strict=self.strict, offset=policy.offset)
            self._last_kept = kept
        return self._program

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        if self.program_for(kept).n_saturated:
            self.stats.saturated_tokens += 1
        return super()._draw_kept(kept, lane)

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        if chain is None:
            state = self._lanes.get(self.seed, lane)
            chain = BitAccurateModel(self.program_for(kept), 1,
                                     rng_states=np.array([state], dtype=np.uint64), init=self.init)
        chain.run(sweeps)
        self._lanes.set(lane, int(chain.rng_states[0]))
        return chain, int(chain.onehot_tokens()[0])

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """Every row at once: rows of one kept size run as one batch of chains (numba), attempt by
        attempt, each on its lane's generator (row b on ``lanes[b]``) and with its own policy
        (:meth:`ChainPolicy.for_rows`: shift and lambda per row); the same tokens and statistics
        as row by row."""
        self._check_size(int(kept.sizes.max()))
        states = self._lanes.take_at(self.seed, lanes)
        out = np.empty(kept.n_rows, dtype=np.int64)
        for rows, logits, ids, chosen in self._size_groups(kept):
            programs = onehot_programs(logits, chosen.lams, self.cfg, offset=chosen.offsets,
                                       strict=self.strict)
            self.stats.saturated_tokens += int(np.count_nonzero(programs.n_saturated))
            sub = states[rows]
            index = self._draw_rows(programs.h, programs.bias_offsets, programs.couplings, sub,
                                    logits, rows)
            states[rows] = sub
            out[rows] = ids[np.arange(rows.size), index]
        self._lanes.put_at(lanes, states)
        return out

    def _draw_rows(self, h: np.ndarray, offsets: np.ndarray, couplings: np.ndarray,
                   states: np.ndarray, logits: np.ndarray, batch_rows: np.ndarray | None = None
                   ) -> np.ndarray:
        """:meth:`ChainSampler._draw_rows_batch` on B rows' programs (``h`` (B, n), each row's
        schedule table ``offsets``, ``couplings`` (B, T)); advances ``states`` in place.
        ``batch_rows``: these rows' indices in the batch draw under way (its per-row counts)."""
        n = h.shape[1]

        def attempt(rows: np.ndarray) -> np.ndarray:
            y = np.zeros((rows.size, n), dtype=np.uint8)
            st = states[rows]
            run_onehot_rows(h[rows], offsets[rows], couplings[rows], self.cfg, y, st,
                            self.sweeps_per_attempt, init=self.init)
            states[rows] = st
            return y

        def one_more_sweep(rows: np.ndarray, y: np.ndarray) -> None:
            st = states[rows]
            run_onehot_rows(h[rows], offsets[rows], couplings[rows], self.cfg, y, st, 1)
            states[rows] = st

        return self._draw_rows_batch(logits, attempt, one_more_sweep, batch_rows)

    def p_on_tables(self, kept: KeptVocab) -> np.ndarray:
        """LUT entries / 2**P of the program's fields, one table per schedule entry (the LFSR
        replaced by an ideal uniform P-bit draw)."""
        return self.program_for(kept).schedule_on_probabilities()

    def _random_onehot_law(self, n: int) -> np.ndarray:
        """Unit (u n) >> P of a P-bit draw u: counts of the draws per unit over 2^P."""
        return onehot_init_counts(n, self.cfg.prob_bits) / float(1 << self.cfg.prob_bits)

