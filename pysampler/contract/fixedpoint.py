"""The quantizer of the hardware contract: float -> signed fixed point.

Bit-level contract
------------------
``q(x) = saturate(round_half_even(x * 2**frac_bits))`` where saturate clamps to the signed
``total_bits`` range ``[-2**(total_bits-1), 2**(total_bits-1) - 1]``. The integer ``q`` stands for
the value ``q / 2**frac_bits``. Every clamped element is counted, never silently wrapped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

__all__ = ["Quantized", "quantize", "quantize_values", "dequantize", "signed_range"]


def signed_range(total_bits: int) -> tuple[int, int]:
    """(min, max) of a signed two's complement integer of ``total_bits`` bits."""
    return -(1 << (total_bits - 1)), (1 << (total_bits - 1)) - 1


@dataclass(frozen=True)
class Quantized:
    """Result of :func:`quantize`.

    Attributes
    ----------
    values : np.ndarray of int64
        The fixed-point integers, each within the signed ``total_bits`` range.
    n_saturated : int
        How many elements were clamped to the range.
    saturated : np.ndarray of bool
        Which elements were clamped (the shape of ``values``).
    """

    values: np.ndarray
    n_saturated: int
    saturated: np.ndarray | None = None  # bool, the shape of values: which elements were clamped


def quantize(x: ArrayLike, frac_bits: int, total_bits: int, *, name: str = "x") -> Quantized:
    """Quantize floats to signed fixed point (round half to even, then saturate).

    Parameters
    ----------
    x : array_like of float
        Values in real units. NaN is an error; +-inf saturates (and is counted).
    frac_bits : int
        Fractional bits; one LSB is 2**-frac_bits.
    total_bits : int
        Total signed width, 2..62.
    name : str
        Used in error messages.
    """
    if not 2 <= total_bits <= 62:
        raise ValueError(f"total_bits must be in [2, 62], got {total_bits}")
    arr = np.asarray(x, dtype=np.float64)
    if np.isnan(arr).any():
        raise ValueError(f"{name} contains NaN; cannot quantize")
    lo, hi = signed_range(total_bits)
    scaled = _scaled(arr, frac_bits)
    over = (scaled < lo) | (scaled > hi)
    return Quantized(values=_saturate(scaled, total_bits), n_saturated=int(over.sum()),
                     saturated=over)


def quantize_values(x: np.ndarray, frac_bits: int, total_bits: int) -> np.ndarray:
    """:func:`quantize`'s integers (int64) alone, for finite float64 ``x`` already checked by the
    caller: no NaN check, no saturation count (the same two steps as :func:`quantize`)."""
    return _saturate(_scaled(x, frac_bits), total_bits)


def _scaled(x: np.ndarray, frac_bits: int) -> np.ndarray:
    with np.errstate(over="ignore"):  # a value past float64 becomes +-inf and saturates, counted
        return np.rint(np.ldexp(x, frac_bits))  # exact scaling by a power of two; rint = half-even


def _saturate(scaled: np.ndarray, total_bits: int) -> np.ndarray:
    lo, hi = signed_range(total_bits)
    return np.clip(scaled, lo, hi).astype(np.int64)


def dequantize(q: ArrayLike, frac_bits: int) -> np.ndarray:
    """Real value of fixed-point integers: q / 2**frac_bits (float64)."""
    return np.ldexp(np.asarray(q, dtype=np.float64), -frac_bits)
