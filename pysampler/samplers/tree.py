"""A p-bit categorical sampler with no invalid states: a binary tree of p-bit decisions,
bit-accurate with the real generator (:mod:`pysampler.engines.tree`; RTL core ``pbit_tree``)."""

from __future__ import annotations

import numpy as np

from ..contract.config import HwConfig
from ..contract.lut import build_lut
from ..contract.tree_format import (DEFAULT_GUARD_BITS, DEFAULT_LUT_GUARD_BITS, tree_clocks,
                                    tree_config)
from ..engines.tree import (TreeProgram, tree_draw, tree_draw_batch, tree_masses_batch,
                            tree_program, tree_token_probs)
from .base import GeneratorLanes, TokenLaw, TokenSampler
from .filtering import KeptBatch, KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["TreeSampler"]


@register_sampler("tree", help="the p-bit decision tree: no invalid states, one draw a level")
class TreeSampler(TokenSampler):
    """Token sampler drawing through the tree of p-bit decisions (bit-accurate, real generator).

    Parameters
    ----------
    cfg : HwConfig, optional
        Widths, LUT and generator (default ``HwConfig()``); the tree has the power of two
        >= ``n_pbits`` leaves, so at most n_pbits tokens may be kept.
    guard_bits, lut_guard_bits : int
        The tree format (:func:`pysampler.contract.tree_format.tree_config`): extra fractional
        bits of leaves and masses (0..8) and of the sigmoid LUT's step (0..lut_shift + guard_bits).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` and runs on from token to token.
    """

    work_unit = "decisions"

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS, seed: int = 0):
        super().__init__(seed=seed)
        self.cfg = HwConfig() if cfg is None else cfg
        self.guard_bits, self.lut_guard_bits = guard_bits, lut_guard_bits
        self._format = tree_config(self.cfg, guard_bits, lut_guard_bits)
        self._lut = build_lut(self._format)
        self._lanes = GeneratorLanes(self.cfg)

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "TreeSampler":
        """A tree core of the configuration (the chain policy does not apply)."""
        return cls(cfg, seed=seed)

    capacity = "n_pbits, the leaves of the tree"

    @property
    def max_kept(self) -> int:
        return self.cfg.n_pbits

    def _reset_streams(self) -> None:
        self._lanes.clear()

    def program_for(self, kept: KeptVocab) -> TreeProgram:
        return tree_program(kept.logits, 1.0, self.cfg, self.guard_bits, self.lut_guard_bits)

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        program = self.program_for(kept)
        if program.n_saturated:
            self.stats.saturated_tokens += 1
        token, state = self._draw_program(program, self._lanes.get(self.seed, lane))
        self._lanes.set(lane, state)
        self.stats.tokens += 1
        self.stats.attempts += 1
        self.stats.updates += program.depth
        return token

    def _draw_program(self, program: TreeProgram, state: int) -> tuple[int, int]:
        """One draw of ``program`` from generator state ``state``: (leaf, state after)."""
        token, state, _ = tree_draw(program, state, self._lut)
        return token, state

    def _draw_kept_batch(self, kept: KeptBatch, lanes: np.ndarray) -> np.ndarray:
        """Every row at once (numba): the leaves, the reduction and the descent of each row, row b
        on lane ``lanes[b]``; the same tokens as row by row."""
        logits, ids = kept.compact()
        masses, saturated, padded = tree_masses_batch(logits, kept.sizes, self.cfg,
                                                      self.guard_bits, self.lut_guard_bits)
        states = self._lanes.take_at(self.seed, lanes)
        tokens = tree_draw_batch(masses, padded, self._format, states, self._lut)
        self._lanes.put_at(lanes, states)
        n = kept.n_rows
        self.stats.tokens += n
        self.stats.attempts += n
        self.stats.updates += n * (padded.bit_length() - 1)
        self.stats.saturated_tokens += int(np.count_nonzero(saturated))
        return ids[np.arange(n), tokens]

    def law(self, kept: KeptVocab) -> TokenLaw:
        """Product of the decisions' LUT probabilities on each leaf's path (any size); work =
        decisions per token; RTL clocks = the V leaf writes + :func:`tree_clocks`."""
        program = self.program_for(kept)
        return TokenLaw(tree_token_probs(program), expected_work=float(program.depth),
                        rtl_clocks=float(kept.size + tree_clocks(self.cfg.n_pbits)))
