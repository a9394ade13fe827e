"""The tree sampler's fixed-point format: widths, sigmoid LUT, log-add table and clock count.

The tree sampler (:mod:`pysampler.engines.tree`, RTL core ``pbit_tree``) keeps the kept tokens as
the leaves of a complete binary tree whose nodes hold fixed-point log-masses; it works in its own
format, :func:`tree_config`, derived from the HwConfig with G = ``guard_bits`` and
G_L = ``lut_guard_bits``:

* leaves and masses: f' = frac_bits + G fractional bits, weight_bits + G bits (one LSB = 2^-f'
  logits; the rounding of the log-masses at every level otherwise accumulates down the tree);
* sigmoid LUT: step 2^(lut_shift - frac_bits - G_L) logits (G_L bits finer than the HwConfig's
  LUT), i.e. lut_shift' = lut_shift + G - G_L, and the fewest address bits a' (at most 16) whose
  clamped edges lie past the field where the sigmoid saturates, beta * F >= (P + 1) ln 2: there
  every entry is 0 or 2^P, so the clamp loses nothing;
* tree size: V' = the power of two >= n_pbits (:func:`tree_depth`);
* log-add: ``LA(a, b) = max(a, b) + LOGADD[min(|a - b| >> s', D)]`` with s' the tree LUT's shift,
  ``LOGADD[k] = round_half_even(2^f' / beta * ln(1 + exp(-beta * c_k * 2^-f')))`` at the bucket
  centre ``c_k = k * 2^s' + (2^s' - 1) / 2`` (as the sigmoid LUT), k = 0 .. D, D being the first k
  whose entry rounds to 0 (so LOGADD[D] = 0 serves every larger distance).

Both tables grow like 1 / beta (the fields of a compensated program are logits / beta); a format
whose sigmoid LUT cannot reach saturation in 2^16 entries, or whose log-add table would need more
than 2^16, is refused with an error naming beta (:data:`MAX_TABLE_ENTRIES`).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from .config import MAX_LUT_ADDR_BITS, HwConfig
from .validation import check_int

__all__ = ["DEFAULT_GUARD_BITS", "DEFAULT_LUT_GUARD_BITS", "tree_config", "logadd_table",
           "tree_depth", "tree_clocks", "saturating_addr_bits", "MAX_TABLE_ENTRIES"]

DEFAULT_GUARD_BITS = 5      # leaves and masses: 5 fractional bits beyond the HwConfig's
DEFAULT_LUT_GUARD_BITS = 3  # sigmoid LUT: a step 8x finer than the HwConfig's LUT
MAX_TABLE_ENTRIES = 1 << MAX_LUT_ADDR_BITS  # 65,536: the largest sigmoid or log-add table


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
    if cfg.weight_bits + guard_bits > 32:
        raise ValueError(f"the tree format holds leaves and masses in weight_bits + guard_bits "
                         f"bits, at most 32: with guard_bits = {guard_bits}, HwConfig.weight_bits "
                         f"must be <= {32 - guard_bits}, got {cfg.weight_bits}")
    high = cfg.lut_shift + guard_bits
    check_int(f"lut_guard_bits (at most lut_shift + guard_bits = {high})", lut_guard_bits, 0, high)
    frac_bits = cfg.frac_bits + guard_bits
    lut_shift = high - lut_guard_bits
    step = 2.0 ** (lut_shift - frac_bits)             # field units per LUT entry
    addr_bits = saturating_addr_bits(step, cfg.prob_bits, cfg.beta, "the tree format",
                                     "lut_guard_bits or frac_bits")
    tcfg = cfg.replace(weight_bits=cfg.weight_bits + guard_bits, frac_bits=frac_bits,
                       lut_addr_bits=addr_bits, lut_shift=lut_shift)
    logadd_table(tcfg)  # its size is bounded and checked here (cached)
    return tcfg


def saturating_addr_bits(step: float, prob_bits: int, beta: float, what: str,
                         finer: str = "lut_frac_bits") -> int:
    """The fewest address bits a (1..16) of a sigmoid LUT with ``step`` field units per entry whose
    clamped edges lie past saturation, beta * field >= (P + 1) ln 2 (every entry there 0 or 2^P);
    a ValueError naming beta and ``finer`` (what sets the step) where 2^16 entries do not reach
    it."""
    saturation = (prob_bits + 1) * math.log(2.0) / beta
    for addr_bits in range(1, MAX_LUT_ADDR_BITS + 1):
        if ((1 << (addr_bits - 1)) - 1) * step >= saturation:
            return addr_bits
    least = (prob_bits + 1) * math.log(2.0) / (((MAX_TABLE_ENTRIES >> 1) - 1) * step)
    raise ValueError(f"{what}: at HwConfig.beta = {beta:g} its sigmoid LUT, one entry per "
                     f"{step:.3g} field units, would need more than {MAX_TABLE_ENTRIES:,} entries "
                     f"to reach saturation (entries grow like 1 / beta); beta must be >= "
                     f"{least:.3g} for this format, or fewer {finer}")


@lru_cache(maxsize=32)
def _logadd_cached(frac_bits: int, shift: int, beta: float) -> tuple[int, ...]:
    scale, step = 2.0 ** frac_bits, 1 << shift
    k = np.arange(MAX_TABLE_ENTRIES, dtype=np.float64)
    centre = k * step + (step - 1) / 2.0
    values = np.rint(scale / beta * np.log1p(np.exp(-beta * centre / scale)))
    zeros = np.flatnonzero(values == 0)
    if zeros.size == 0:
        raise ValueError(f"log-add table: at HwConfig.beta = {beta:g} (with {frac_bits} fractional "
                         f"bits, shift {shift}) it would need more than {MAX_TABLE_ENTRIES:,} "
                         f"entries (entries grow like 1 / beta); use a larger beta")
    return tuple(int(v) for v in values[:zeros[0] + 1])


def logadd_table(cfg: HwConfig) -> np.ndarray:
    """LOGADD[k], k = 0 .. D (int64): the fixed-point correction of max(a, b) for
    ``|a - b| >> lut_shift = k``, in ``cfg``'s LSBs (pass :func:`tree_config`); LOGADD[D] = 0
    serves every larger distance."""
    return np.array(_logadd_cached(cfg.frac_bits, cfg.lut_shift, cfg.beta), dtype=np.int64)
