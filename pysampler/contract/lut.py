"""The sigmoid lookup table of the hardware contract: its addressing and its contents.

Bit-level contract
------------------
With a = ``lut_addr_bits``, s = ``lut_shift``, f = ``frac_bits``, P = ``prob_bits``:

* signed index ``k = clamp(field >> s, -2**(a-1), 2**(a-1) - 1)`` (arithmetic shift: floor);
* ROM address ``k mod 2**a`` (the two's complement bits of k);
* entry ``L[k] = round_half_even(2**P * sigmoid(beta * c_k * 2**-f))`` with
  ``c_k = k * 2**s + (2**s - 1) / 2``, the mean of the integer fields ``k*2**s .. k*2**s + 2**s - 1``
  that the shift maps to k. Entries lie in [0, 2**P], so p = 0 and p = 1 are both representable.
* a p-bit turns on when its P-bit uniform draw ``u < L[k]``, i.e. with probability L[k] / 2**P.

With s = 0 every representable field has its own entry, evaluated exactly at that field, and the
table is antisymmetric: ``L[k] + L[-k] = 2**P``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import expit

from .config import HwConfig

__all__ = ["build_lut", "lut_index", "lut_address", "lut_bucket_centre", "lut_probability",
           "lut_span"]


def lut_bucket_centre(k: ArrayLike, cfg: HwConfig) -> np.ndarray:
    """Field value (in logit units) at which entry ``k`` (signed index) samples the sigmoid."""
    k = np.asarray(k, dtype=np.float64)
    step = float(1 << cfg.lut_shift)
    return (k * step + (step - 1.0) / 2.0) * cfg.lsb


def build_lut(cfg: HwConfig) -> np.ndarray:
    """LUT contents in ROM address order.

    Returns
    -------
    np.ndarray of int64, shape (2**lut_addr_bits,)
        Entry at address ``k mod 2**a`` for signed index k; values in [0, 2**prob_bits].
    """
    half = cfg.lut_size // 2
    signed_index = np.arange(-half, half, dtype=np.int64)
    entries = np.rint(np.ldexp(expit(cfg.beta * lut_bucket_centre(signed_index, cfg)),
                               cfg.prob_bits)).astype(np.int64)
    if cfg.lut_shift == 0:
        # Mirror the non-negative half so that L[k] + L[-k] == 2**P holds exactly, whatever the
        # last-ulp behaviour of expit (centres k and -k are exact negatives when s = 0).
        positive = entries[half + 1:]
        entries[1:half] = (1 << cfg.prob_bits) - positive[:half - 1][::-1]
    lut = np.empty(cfg.lut_size, dtype=np.int64)
    lut[signed_index & (cfg.lut_size - 1)] = entries
    return lut


def lut_index(field: ArrayLike, cfg: HwConfig) -> np.ndarray:
    """Signed LUT index of integer fields: clamp(field >> lut_shift) to the a-bit signed range."""
    half = cfg.lut_size // 2
    return np.clip(np.right_shift(np.asarray(field, dtype=np.int64), cfg.lut_shift), -half, half - 1)


def lut_address(field: ArrayLike, cfg: HwConfig) -> np.ndarray:
    """ROM address of integer fields: the two's complement bits of :func:`lut_index`."""
    return lut_index(field, cfg) & (cfg.lut_size - 1)


def lut_probability(field: ArrayLike, cfg: HwConfig, lut: np.ndarray | None = None) -> np.ndarray:
    """Exact probability that a p-bit with this integer field turns on, under an ideal RNG:
    L[address(field)] / 2**prob_bits (float64)."""
    table = build_lut(cfg) if lut is None else lut
    return np.ldexp(table[lut_address(field, cfg)].astype(np.float64), -cfg.prob_bits)


def lut_span(cfg: HwConfig) -> tuple[int, int, list[int], int, int]:
    """The LUT of ``cfg`` between its saturated runs, as the stream core stores it: (lo, hi,
    the entries of signed indices lo..hi, the entry below lo, the entry above hi). Every entry
    outside [lo, hi] equals the table's first (below) or last (above) one, so a compare replaces
    them; the clamp of the address maps every field below the table to its first entry and
    above it to its last."""
    lut = build_lut(cfg)
    half = cfg.lut_size // 2
    values = lut[np.arange(-half, half) & (cfg.lut_size - 1)]
    below, above = int(values[0]), int(values[-1])
    inside = np.flatnonzero(values != below)
    lo = int(inside[0]) if inside.size else 0
    inside = np.flatnonzero(values != above)
    hi = int(inside[-1]) if inside.size else 0
    if hi < lo:  # a table with one step: keep one entry
        hi = lo
    return lo - half, hi - half, [int(v) for v in values[lo:hi + 1]], below, above
