"""The bit-accurate tree sampler: leaves, log-mass reduction and the descent of p-bit decisions.

The kept tokens are the leaves of a complete binary tree (padded with empty leaves to a power of
two). Each node holds the fixed-point log-mass of its subtree, computed bottom up with a LUT-based
log-add, and the token is drawn top down: at every node one p-bit decides between the two children
with P(right) = sigmoid(beta * (m_right - m_left)), read from the sigmoid LUT of the tree format
(:func:`pysampler.contract.lut.build_lut` of :func:`pysampler.contract.tree_format.tree_config`).
Every draw ends on a token, so there is no invalid state and no fallback; the only error is
quantization (logits, log-add table, sigmoid table).

Bit-level contract (the format itself: :mod:`pysampler.contract.tree_format`):

* leaves: ``h_i = q'((z_i - max z) / beta)`` (the quantizer of :mod:`pysampler.contract.fixedpoint`
  at f'; beta, the sigmoid's gain, compensated as every program does: the tree samples
  softmax(z) at any beta);
* masses: ``LA(a, b)`` bottom up, ``LA(empty, b) = b``;
* descent: from the root, one generator draw per level; p-bit field ``m_right - m_left`` and LUT of
  the tree format; go right when ``u < LUT[address(field)]``; a node with an empty child moves to
  the other one (the draw is still spent).

Node masses lie in [min h, max h + ln(V') * 2^f'] and fit ``weight_bits + G`` signed bits.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from numba import njit

from ..contract.config import HwConfig
from ..contract.fixedpoint import quantize, signed_range
from ..contract.lut import build_lut, lut_address
from ..contract.program import field_values, shift_logits
from ..contract.rng import rng_draw, rng_spec
from ..contract.tree_format import (DEFAULT_GUARD_BITS, DEFAULT_LUT_GUARD_BITS, logadd_table,
                                    tree_config, tree_depth)

__all__ = ["EMPTY", "TreeProgram", "tree_program", "tree_from_leaves", "tree_token_probs",
           "TreeTrace", "tree_draw", "tree_masses_batch", "tree_draw_batch", "tree_draw_many",
           "tree_token_probs_batch"]

EMPTY = np.iinfo(np.int64).min  # marks an empty subtree (never a real fixed-point value)


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

    def register_writes(self) -> list[tuple]:
        """The tree core's programming writes: N_ACTIVE and the leaves (H[i], tree format)."""
        leaves = self.masses[self.padded:self.padded + self.n_leaves]
        return [("N_ACTIVE", self.n_leaves)] + [(("H", i), int(v)) for i, v in enumerate(leaves)]


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
    q = quantize(field_values(z, cfg), tcfg.frac_bits, tcfg.weight_bits, name="logits")
    return tree_from_leaves(q.values, tcfg, cfg.n_pbits, q.n_saturated)


def tree_from_leaves(leaves: np.ndarray, tcfg: HwConfig, n_pbits: int,
                     n_saturated: int = 0) -> TreeProgram:
    """The program of quantized leaves (tree format ``tcfg``, at most ``n_pbits``): the leaves
    reduced bottom up with the log-add table, as the core's REDUCE phase does."""
    leaves = np.asarray(leaves, dtype=np.int64)
    padded = 1 << tree_depth(n_pbits)
    if not 1 <= leaves.size <= padded:
        raise ValueError(f"a tree of n_pbits={n_pbits} takes 1..{padded} leaves, got "
                         f"{leaves.size}")
    masses = np.full(2 * padded, EMPTY, dtype=np.int64)
    masses[padded:padded + leaves.size] = leaves
    table = logadd_table(tcfg)
    for k in range(padded - 1, 0, -1):
        masses[k] = _logadd(int(masses[2 * k]), int(masses[2 * k + 1]), table,
                             tcfg.lut_shift)
    return TreeProgram(tcfg, masses, int(leaves.size), padded, n_saturated)


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


@njit(cache=True, nogil=True)
def _logadd_nb(a, b, table, shift, empty):
    if a == empty:
        return b
    if b == empty:
        return a
    d = a - b if a > b else b - a
    k = d >> shift
    if k > table.size - 1:
        k = table.size - 1
    return (a if a > b else b) + table[k]


# Serial kernels: a row is a few hundred operations, less than what starting threads costs.
@njit(cache=True)
def _leaves_kernel(logits, sizes, beta, scale, lo, hi, masses, padded, empty, saturated):
    """Leaves as :func:`tree_program` quantizes them: q'((z - max z) / beta), round half to even
    (rint), then saturate; scaling by a power of two is exact, as ldexp in the quantizer."""
    for b in range(logits.shape[0]):
        n = sizes[b]
        top = logits[b, 0]
        for i in range(1, n):
            top = max(top, logits[b, i])
        count = 0
        for i in range(n):
            x = np.rint((logits[b, i] - top) / beta * scale)
            if x < lo:
                x = lo
                count += 1
            elif x > hi:
                x = hi
                count += 1
            masses[b, padded + i] = np.int64(x)
        for i in range(n, padded):
            masses[b, padded + i] = empty
        saturated[b] = count


@njit(cache=True)
def _reduce_kernel(masses, padded, table, shift, empty):
    for b in range(masses.shape[0]):
        for k in range(padded - 1, 0, -1):
            masses[b, k] = _logadd_nb(masses[b, 2 * k], masses[b, 2 * k + 1], table, shift, empty)


def tree_masses_batch(logits: np.ndarray, sizes: np.ndarray, cfg: HwConfig,
                      guard_bits: int = DEFAULT_GUARD_BITS,
                      lut_guard_bits: int = DEFAULT_LUT_GUARD_BITS
                      ) -> tuple[np.ndarray, np.ndarray, int]:
    """:func:`tree_program` of many rows at once: the same masses, bit for bit.

    Parameters
    ----------
    logits : np.ndarray of float64, shape (B, W)
        Each row's kept (temperature-scaled) logits packed to the left; entries past ``sizes[b]``
        are ignored.
    sizes : np.ndarray of int, shape (B,)
        Kept tokens per row, 1..n_pbits.
    cfg : HwConfig
        The hardware's configuration (the masses are in :func:`tree_config` format).

    Returns
    -------
    (masses int64 (B, 2 V'), saturations per row int64 (B,), V')
    """
    tcfg = tree_config(cfg, guard_bits, lut_guard_bits)
    sizes = np.asarray(sizes, dtype=np.int64)
    if sizes.min() < 1 or sizes.max() > min(cfg.n_pbits, logits.shape[1]):
        raise ValueError(f"rows keep {int(sizes.min())}..{int(sizes.max())} tokens but the tree has "
                         f"n_pbits={cfg.n_pbits} leaves; pass top_k <= {cfg.n_pbits}")
    lo, hi = signed_range(tcfg.weight_bits)
    padded = 1 << tree_depth(cfg.n_pbits)
    masses = np.empty((logits.shape[0], 2 * padded), dtype=np.int64)  # [:, 0] unused
    masses[:, 0] = EMPTY
    saturated = np.zeros(logits.shape[0], dtype=np.int64)
    _leaves_kernel(np.ascontiguousarray(logits, dtype=np.float64), sizes, float(cfg.beta),
                   float(2.0 ** tcfg.frac_bits), lo, hi, masses, padded, EMPTY, saturated)
    _reduce_kernel(masses, padded, logadd_table(tcfg), tcfg.lut_shift, EMPTY)
    return masses, saturated, padded


@njit(cache=True)
def _descend_kernel(masses, padded, lut, states, kind, mask, steps, u_shift, lut_shift, idx_lo,
                    idx_hi, empty, tokens):
    for b in range(masses.shape[0]):
        s = states[b]
        node = 1
        while node < padded:
            s, u = rng_draw(s, kind, mask, steps, u_shift)
            left = masses[b, 2 * node]
            right = masses[b, 2 * node + 1]
            if left == empty or right == empty:
                go_right = 1 if left == empty else 0
            else:
                idx = (right - left) >> lut_shift
                if idx < idx_lo:
                    idx = idx_lo
                elif idx > idx_hi:
                    idx = idx_hi
                go_right = 1 if np.int64(u) < lut[idx & (lut.size - 1)] else 0
            node = 2 * node + go_right
        states[b] = s
        tokens[b] = node - padded


def tree_draw_batch(masses: np.ndarray, padded: int, cfg: HwConfig, states: np.ndarray,
                    lut: np.ndarray | None = None) -> np.ndarray:
    """:func:`tree_draw` for every row of ``masses`` (from :func:`tree_masses_batch`; ``cfg`` the
    tree format), row b with generator state ``states[b]``: returns the tokens (indices into each
    row's kept tokens, int64 (B,)) and advances ``states`` (uint64 (B,)) in place."""
    table = build_lut(cfg) if lut is None else lut
    spec = rng_spec(cfg)
    half = cfg.lut_size // 2
    tokens = np.empty(masses.shape[0], dtype=np.int64)
    _descend_kernel(masses, padded, table, states, spec.kind, np.uint64(spec.mask), spec.steps,
                    spec.u_shift, cfg.lut_shift, -half, half - 1, EMPTY, tokens)
    return tokens


@njit(cache=True)
def _descend_many_kernel(masses, padded, lut, states, kind, mask, steps, u_shift, lut_shift,
                         idx_lo, idx_hi, empty, tokens):
    for b in range(masses.shape[0]):
        for k in range(states.shape[1]):
            s = states[b, k]
            node = 1
            while node < padded:
                s, u = rng_draw(s, kind, mask, steps, u_shift)
                left = masses[b, 2 * node]
                right = masses[b, 2 * node + 1]
                if left == empty or right == empty:
                    go_right = 1 if left == empty else 0
                else:
                    idx = (right - left) >> lut_shift
                    if idx < idx_lo:
                        idx = idx_lo
                    elif idx > idx_hi:
                        idx = idx_hi
                    go_right = 1 if np.int64(u) < lut[idx & (lut.size - 1)] else 0
                node = 2 * node + go_right
            states[b, k] = s
            tokens[b, k] = node - padded


def tree_draw_many(masses: np.ndarray, padded: int, cfg: HwConfig, states: np.ndarray,
                   lut: np.ndarray | None = None) -> np.ndarray:
    """K draws from every row of ``masses`` (from :func:`tree_masses_batch`; ``cfg`` the tree
    format): draw k of row b on generator ``states[b, k]`` (uint64 (B, K), advanced in place).
    The same tokens as :func:`tree_draw_batch` on the rows repeated K times, without the copy.
    Returns int64 (B, K), indices into each row's kept tokens."""
    table = build_lut(cfg) if lut is None else lut
    spec = rng_spec(cfg)
    half = cfg.lut_size // 2
    if states.ndim != 2 or states.shape[0] != masses.shape[0] or states.dtype != np.uint64:
        raise ValueError(f"states must be uint64 of shape ({masses.shape[0]}, K), got "
                         f"{states.dtype} {states.shape}")
    tokens = np.empty(states.shape, dtype=np.int64)
    _descend_many_kernel(masses, padded, table, states, spec.kind, np.uint64(spec.mask),
                         spec.steps, spec.u_shift, cfg.lut_shift, -half, half - 1, EMPTY, tokens)
    return tokens


def tree_token_probs_batch(masses: np.ndarray, padded: int, cfg: HwConfig,
                           lut: np.ndarray | None = None) -> np.ndarray:
    """:func:`tree_token_probs` of every row of ``masses`` at once (``cfg`` the tree format): the
    exact law of the drawn leaf under an ideal RNG, float64 (B, V'), empty leaves 0."""
    table = build_lut(cfg) if lut is None else lut
    rows = masses.shape[0]
    probs = np.ones((rows, 1))
    for level in range(int(np.log2(padded))):
        nodes = np.arange(1 << level, 2 << level)
        left, right = masses[:, 2 * nodes], masses[:, 2 * nodes + 1]
        forced_left, forced_right = right == EMPTY, left == EMPTY
        field = np.where(forced_left | forced_right, 0, right - left)
        p_right = np.ldexp(table[lut_address(field, cfg)].astype(np.float64), -cfg.prob_bits)
        p_right = np.where(forced_left, 0.0, np.where(forced_right, 1.0, p_right))
        children = np.empty((rows, 2 * nodes.size))
        children[:, 0::2] = probs * (1.0 - p_right)
        children[:, 1::2] = probs * p_right
        probs = children
    return probs
