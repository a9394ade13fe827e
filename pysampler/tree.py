"""An exact p-bit categorical sampler with no invalid states: a binary tree of p-bit decisions.

The kept tokens are the leaves of a complete binary tree (padded with empty leaves to a power of
two). Each node holds the fixed-point log-mass of its subtree, computed bottom up with a LUT-based
log-add, and the token is drawn top down: at every node one p-bit decides between the two children
with P(right) = sigmoid(beta * (m_right - m_left)), read from the same sigmoid LUT as the Gibbs core
(:func:`pysampler.lut.build_lut`). Every draw ends on a token, so there is no invalid state and no
fallback; the only error is quantization (logits, log-add table, sigmoid table).

Bit-level contract. The tree works in its own format, :func:`tree_config`, derived from the
HwConfig with G = ``guard_bits`` and G_L = ``lut_guard_bits``:

* leaves and masses: f' = frac_bits + G fractional bits, weight_bits + G bits (one LSB = 2^-f'
  logits; the rounding of the log-masses at every level otherwise accumulates down the tree);
* sigmoid LUT: step 2^(lut_shift - frac_bits - G_L) logits (G_L bits finer than the HwConfig's
  LUT), i.e. lut_shift' = lut_shift + G - G_L, and the fewest address bits a' (at most 16) whose
  clamped edges lie past the field where the sigmoid saturates, beta * F >= (P + 1) ln 2: there
  every entry is 0 or 2^P, so the clamp loses nothing;
* tree size: V' = the power of two >= n_pbits (the hardware's tree; leaves past the kept tokens
  are empty, so their subtrees are never entered);
* leaves: ``h_i = q'(z_i - max z)`` (the quantizer of :mod:`pysampler.fixedpoint` at f');
* log-add: ``LA(a, b) = max(a, b) + LOGADD[min(|a - b| >> s', D)]`` with s' the tree LUT's shift,
  ``LOGADD[k] = round_half_even(2^f' / beta * ln(1 + exp(-beta * c_k * 2^-f')))`` at the bucket
  centre ``c_k = k * 2^s' + (2^s' - 1) / 2`` (as the sigmoid LUT), k = 0 .. D, D being the first k
  whose entry rounds to 0 (so LOGADD[D] = 0 serves every larger distance); ``LA(empty, b) = b``;
  masses computed bottom up;
* descent: from the root, one generator draw per level; p-bit field ``m_right - m_left`` and LUT of
  the tree format (:func:`pysampler.lut.build_lut` of :func:`tree_config`); go right when
  ``u < LUT[address(field)]``; a node with an empty child moves to the other one (the draw is still
  spent).

Node masses lie in [min h, max h + ln(V') * 2^f'] and fit ``weight_bits + G`` signed bits.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from functools import lru_cache
from typing import Any

import numpy as np

from .config import MAX_LUT_ADDR_BITS, HwConfig
from .filtering import KeptVocab
from .fixedpoint import quantize
from .lut import build_lut, lut_address
from .program import shift_logits
from .rng import derive_state, rng_draw, rng_spec
from .samplers import TokenSampler
from .validation import check_int

__all__ = ["build_lut", "logadd_table", "TreeProgram", "tree_program", "tree_token_probs", "TreeSampler",
           "tree_config", "TreeTrace", "tree_draw", "DEFAULT_GUARD_BITS",
           "DEFAULT_LUT_GUARD_BITS", "tree_depth", "tree_clocks"]

DEFAULT_GUARD_BITS = 5      # leaves and masses: 5 fractional bits beyond the HwConfig's
DEFAULT_LUT_GUARD_BITS = 3  # sigmoid LUT: a step 8x finer than the HwConfig's LUT

EMPTY = np.iinfo(np.int64).min  # marks an empty subtree (never a real fixed-point value)


def tree_depth(n_pbits: int) -> int:
    """Levels of the hardware tree: log2 of V', the power of two >= n_pbits (at least 1)."""
    return max(1, (max(n_pbits, 2) - 1).bit_length())


def tree_clocks(n_pbits: int) -> int:
    """RTL clocks per token once the leaves are written: the reduction (V' - 1 nodes, one a
    clock, plus one) and 3 clocks per level of the descent, V' + 3 log2 V' + 1."""
    depth = tree_depth(n_pbits)
    return (1 << depth) + 3 * depth + 1


def tree_config(cfg: HwConfig, guard_bits: int = DEFAULT_GUARD_BITS,
                lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS) -> HwConfig:
    """The tree's fixed-point format (module docstring): ``guard_bits`` more fractional and total
    bits than ``cfg``, a sigmoid LUT ``lut_guard_bits`` finer whose edges lie past saturation."""
    check_int("guard_bits", guard_bits, 0, 8)
    high = cfg.lut_shift + guard_bits
    check_int(f"lut_guard_bits (at most lut_shift + guard_bits = {high})", lut_guard_bits, 0, high)
    frac_bits = cfg.frac_bits + guard_bits
    lut_shift = high - lut_guard_bits
    step = 2.0 ** (lut_shift - frac_bits)             # logits per LUT entry
    saturation = (cfg.prob_bits + 1) * math.log(2.0) / cfg.beta
    addr_bits = 1
    while addr_bits < MAX_LUT_ADDR_BITS and ((1 << (addr_bits - 1)) - 1) * step < saturation:
        addr_bits += 1
    return cfg.replace(weight_bits=cfg.weight_bits + guard_bits, frac_bits=frac_bits,
                       lut_addr_bits=addr_bits, lut_shift=lut_shift)


@lru_cache(maxsize=32)
def _logadd_cached(frac_bits: int, shift: int, beta: float) -> tuple[int, ...]:
    scale, step = 2.0 ** frac_bits, 1 << shift
    entries, k = [], 0
    while True:
        centre = k * step + (step - 1) / 2.0
        value = int(np.rint(scale / beta * np.log1p(np.exp(-beta * centre / scale))))
        entries.append(value)
        if value == 0:
            return tuple(entries)
        k += 1


def logadd_table(cfg: HwConfig) -> np.ndarray:
    """LOGADD[k], k = 0 .. D (int64): the fixed-point correction of max(a, b) for
    ``|a - b| >> lut_shift = k``, in ``cfg``'s LSBs (pass :func:`tree_config`); LOGADD[D] = 0
    serves every larger distance."""
    return np.array(_logadd_cached(cfg.frac_bits, cfg.lut_shift, cfg.beta), dtype=np.int64)


def _logadd(a: int, b: int, table: np.ndarray, shift: int) -> int:
    if a == EMPTY:
        return b
    if b == EMPTY:
        return a
    return max(a, b) + int(table[min(abs(a - b) >> shift, table.size - 1)])


@dataclass(frozen=True)
class TreeProgram:
    """Node log-masses of one token distribution, heap order: node k has children 2k and 2k + 1,
    leaves at V' .. 2V' - 1 (V' = padded size); ``masses[0]`` is unused."""

    cfg: HwConfig       # the tree format (tree_config)
    masses: np.ndarray
    n_leaves: int       # V (kept tokens)
    padded: int         # V'
    n_saturated: int

    @property
    def depth(self) -> int:
        return int(np.log2(self.padded))


def tree_program(logits: Any, temperature: float, cfg: HwConfig,
                 guard_bits: int = DEFAULT_GUARD_BITS,
                 lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS) -> TreeProgram:
    """Quantize the shifted logits into leaves and reduce them bottom up with the log-add table.

    ``cfg`` is the hardware's HwConfig; the program is in :func:`tree_config` format."""
    tcfg = tree_config(cfg, guard_bits, lut_guard_bits)
    z = shift_logits(logits, temperature)
    if z.size > cfg.n_pbits:
        raise ValueError(f"{z.size} tokens kept but the tree has n_pbits={cfg.n_pbits} leaves; "
                         f"pass top_k <= {cfg.n_pbits}")
    q = quantize(z, tcfg.frac_bits, tcfg.weight_bits, name="logits")
    padded = 1 << tree_depth(cfg.n_pbits)
    masses = np.full(2 * padded, EMPTY, dtype=np.int64)
    masses[padded:padded + z.size] = q.values
    table = logadd_table(tcfg)
    for k in range(padded - 1, 0, -1):
        masses[k] = _logadd(int(masses[2 * k]), int(masses[2 * k + 1]), table,
                             tcfg.lut_shift)
    return TreeProgram(tcfg, masses, int(z.size), padded, q.n_saturated)


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


@dataclass(frozen=True)
class TreeTrace:
    """One token's decisions, root first: node, bit (1 = right), field, LUT level (-1: forced), u."""

    node: list[int]
    bit: list[int]
    field: list[int]
    lut_value: list[int]
    u: list[int]


def tree_draw(program: TreeProgram, state: int, lut: np.ndarray | None = None
              ) -> tuple[int, int, TreeTrace]:
    """Draw one token (index into the kept tokens) from generator ``state``.

    Returns (token, new state, trace). One draw per level, forced moves included."""
    cfg = program.cfg
    table = build_lut(cfg) if lut is None else lut
    spec = rng_spec(cfg)
    s, node = np.uint64(state), 1
    trace = TreeTrace([], [], [], [], [])
    while node < program.padded:
        s, u = rng_draw(s, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
        left, right = program.masses[2 * node], program.masses[2 * node + 1]
        if left == EMPTY or right == EMPTY:
            field, level, go_right = 0, -1, int(left == EMPTY)
        else:
            field = int(right - left)
            level = int(table[lut_address(field, cfg)])
            go_right = int(int(u) < level)
        for name, value in (("node", node), ("bit", go_right), ("field", field),
                            ("lut_value", level), ("u", int(u))):
            getattr(trace, name).append(value)
        node = 2 * node + go_right
    return node - program.padded, int(s), trace


class TreeSampler(TokenSampler):
    """Token sampler drawing through the tree of p-bit decisions (bit-accurate, real generator).

    Parameters
    ----------
    cfg : HwConfig, optional
        Widths, LUT and generator (default ``HwConfig()``); the tree has the power of two
        >= ``n_pbits`` leaves, so at most n_pbits tokens may be kept.
    guard_bits, lut_guard_bits : int
        The tree format (:func:`tree_config`): extra fractional bits of leaves and masses (0..8)
        and of the sigmoid LUT's step (0..lut_shift + guard_bits).
    seed : int
        Lane b's generator starts at ``derive_state(seed, b)`` and runs on from token to token.
    """

    def __init__(self, cfg: HwConfig | None = None, *, guard_bits: int = DEFAULT_GUARD_BITS,
                 lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS, seed: int = 0):
        super().__init__(seed=seed)
        self.cfg = HwConfig() if cfg is None else cfg
        self.guard_bits, self.lut_guard_bits = guard_bits, lut_guard_bits
        self._lut = build_lut(tree_config(self.cfg, guard_bits, lut_guard_bits))
        self._lane_states: dict[int, int] = {}

    def _reset_streams(self) -> None:
        self._lane_states.clear()

    def program_for(self, kept: KeptVocab) -> TreeProgram:
        return tree_program(kept.logits, 1.0, self.cfg, self.guard_bits, self.lut_guard_bits)

    def _draw_kept(self, kept: KeptVocab, lane: int) -> int:
        program = self.program_for(kept)
        if program.n_saturated:
            self.stats.saturated_tokens += 1
        state = self._lane_states.get(lane) or derive_state(self.seed, lane, self.cfg)
        token, self._lane_states[lane], _ = tree_draw(program, state, self._lut)
        self.stats.tokens += 1
        self.stats.attempts += 1
        self.stats.updates += program.depth
        return token
