"""An exact p-bit categorical sampler with no invalid states: a binary tree of p-bit decisions.

The kept tokens are the leaves of a complete binary tree (padded with empty leaves to a power of
two). Each node holds the fixed-point log-mass of its subtree, computed bottom up with a LUT-based
log-add, and the token is drawn top down: at every node one p-bit decides between the two children
with P(right) = sigmoid(beta * (m_right - m_left)), read from the same sigmoid LUT as the Gibbs core
(:func:`pysampler.lut.build_lut`). Every draw ends on a token, so there is no invalid state and no
fallback; the only error is quantization (logits, log-add table, sigmoid table).

Bit-level contract (f = frac_bits, one LSB = 2^-f logits):

* leaves: ``h_i = q(z_i - max z)`` (the quantizer of :mod:`pysampler.fixedpoint`), empty leaves
  carry no mass;
* log-add: ``LA(a, b) = max(a, b) + LOGADD[min(|a - b|, D - 1)]`` with
  ``LOGADD[d] = round_half_even(2^f / beta * ln(1 + exp(-beta * d * 2^-f)))`` for d < D, the
  table length D being the first d whose entry rounds to 0; ``LA(empty, b) = b``;
* descent: from the root, p-bit field ``m_right - m_left`` (an empty right child: go left; an empty
  left child: go right), one generator draw per level, go right when ``u < LUT[address(field)]``.

Node masses stay within [min h, log2(V) * max LOGADD]; they are held in int64 here and are
``weight_bits + 1`` bits wide in hardware terms.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from .config import HwConfig
from .filtering import KeptVocab
from .fixedpoint import quantize
from .lut import build_lut, lut_address
from .program import shift_logits
from .rng import derive_state, rng_draw, rng_spec
from .samplers import TokenSampler

__all__ = ["logadd_table", "TreeProgram", "tree_program", "tree_token_probs", "TreeSampler"]

EMPTY = np.iinfo(np.int64).min  # marks an empty subtree (never a real fixed-point value)


@lru_cache(maxsize=32)
def _logadd_cached(frac_bits: int, beta: float) -> tuple[int, ...]:
    scale = 2.0 ** frac_bits
    entries, d = [], 0
    while True:
        value = int(np.rint(scale / beta * np.log1p(np.exp(-beta * d / scale))))
        if value == 0:
            return tuple(entries) or (0,)
        entries.append(value)
        d += 1


def logadd_table(cfg: HwConfig) -> np.ndarray:
    """LOGADD[d], d = 0 .. D-1 (int64): the fixed-point correction of max(a, b) for |a - b| = d."""
    return np.array(_logadd_cached(cfg.frac_bits, cfg.beta), dtype=np.int64)


def _logadd(a: int, b: int, table: np.ndarray) -> int:
    if a == EMPTY:
        return b
    if b == EMPTY:
        return a
    return max(a, b) + int(table[min(abs(a - b), table.size - 1)])


@dataclass(frozen=True)
class TreeProgram:
    """Node log-masses of one token distribution, heap order: node k has children 2k and 2k + 1,
    leaves at V' .. 2V' - 1 (V' = padded size); ``masses[0]`` is unused."""

    cfg: HwConfig
    masses: np.ndarray
    n_leaves: int       # V (kept tokens)
    padded: int         # V'
    n_saturated: int

    @property
    def depth(self) -> int:
        return int(np.log2(self.padded))


def tree_program(logits: Any, temperature: float, cfg: HwConfig) -> TreeProgram:
    """Quantize the shifted logits into leaves and reduce them bottom up with the log-add table."""
    z = shift_logits(logits, temperature)
    q = quantize(z, cfg.frac_bits, cfg.weight_bits, name="logits")
    padded = 1 << max(1, int(np.ceil(np.log2(max(z.size, 2)))))
    masses = np.full(2 * padded, EMPTY, dtype=np.int64)
    masses[padded:padded + z.size] = q.values
    table = logadd_table(cfg)
    for k in range(padded - 1, 0, -1):
        masses[k] = _logadd(int(masses[2 * k]), int(masses[2 * k + 1]), table)
    return TreeProgram(cfg, masses, int(z.size), padded, q.n_saturated)


def _right_probability(program: TreeProgram, node: int, lut: np.ndarray) -> tuple[float, int]:
    """(P(go right) under an ideal RNG, LUT level) at ``node``; -1 level for a forced move."""
    left, right = program.masses[2 * node], program.masses[2 * node + 1]
    if right == EMPTY:
        return 0.0, -1
    if left == EMPTY:
        return 1.0, -1
    level = int(lut[lut_address(int(right - left), program.cfg)])
    return level / float(1 << program.cfg.prob_bits), level


def tree_token_probs(program: TreeProgram) -> np.ndarray:
    """Exact law of the drawn leaf under an ideal RNG (product of the decisions on its path),
    shape (V,)."""
    lut = build_lut(program.cfg)
    probs = np.ones(2 * program.padded)
    for node in range(1, program.padded):
        p_right, _ = _right_probability(program, node, lut)
        probs[2 * node] = probs[node] * (1.0 - p_right)
        probs[2 * node + 1] = probs[node] * p_right
    return probs[program.padded:program.padded + program.n_leaves]


class TreeSampler(TokenSampler):
    """Token sampler drawing through the tree of p-bit decisions (bit-accurate, real generator).

    Parameters
    ----------
    cfg : HwConfig, optional
        Widths, LUT and generator (default ``HwConfig()``); ``n_pbits`` plays no part.
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` and runs on from token to token.
    """

    def __init__(self, cfg: HwConfig | None = None, *, seed: int = 0):
        super().__init__(seed=seed)
        self.cfg = HwConfig() if cfg is None else cfg
        self._lut = build_lut(self.cfg)
        self._spec = rng_spec(self.cfg)
        self._lane_states: dict[int, int] = {}

    def _reset_streams(self) -> None:
        self._lane_states.clear()

    def program_for(self, kept: KeptVocab) -> TreeProgram:
        return tree_program(kept.logits, 1.0, self.cfg)

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        program = self.program_for(kept)
        if program.n_saturated:
            self.stats.saturated_tokens += 1
        state = np.uint64(self._lane_states.get(lane) or derive_state(self.seed, lane, self.cfg))
        spec, node = self._spec, 1
        while node < program.padded:
            state, u = rng_draw(state, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
            _, level = _right_probability(program, node, self._lut)
            if level < 0:  # one child empty: the draw is spent, the move is forced
                go_right = program.masses[2 * node] == EMPTY
            else:
                go_right = int(u) < level
            node = 2 * node + int(go_right)
        self._lane_states[lane] = int(state)
        self.stats.tokens += 1
        self.stats.attempts += 1
        self.stats.updates += program.depth
        return node - program.padded
