import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysampler.contract.fixedpoint import dequantize, quantize, signed_range


def test_round_half_to_even():
    q = quantize([0.5, 1.5, 2.5, -0.5, -1.5, 0.49, -2.5], frac_bits=0, total_bits=8)
    assert q.values.tolist() == [0, 2, 2, 0, -2, 0, -2]
    assert q.n_saturated == 0
    # the same at a fractional scale: 1/32 is half an LSB of frac_bits=4
    assert quantize([1 / 32, 3 / 32], 4, 10).values.tolist() == [0, 2]


def test_saturation_is_counted_never_wrapped():
    lo, hi = signed_range(10)
    q = quantize([1e6, -1e6, 31.9, -32.0, 32.0, np.inf, -np.inf], frac_bits=4, total_bits=10)
    assert q.values.tolist() == [hi, lo, 510, lo, hi, hi, lo]
    assert q.n_saturated == 5  # 1e6, -1e6, 32.0 (512 > 511), +inf, -inf; -32.0 is exactly lo


def test_nan_is_an_error_naming_the_input():
    with pytest.raises(ValueError, match="logits contains NaN"):
        quantize([0.0, np.nan], 4, 10, name="logits")


def test_width_bounds():
    with pytest.raises(ValueError, match="total_bits"):
        quantize([0.0], 0, 1)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-40, 40, allow_nan=False), min_size=1, max_size=20),
       st.integers(0, 8), st.integers(4, 16))
def test_error_at_most_half_lsb_inside_range(xs, frac_bits, total_bits):
    q = quantize(xs, frac_bits, total_bits)
    lo, hi = signed_range(total_bits)
    assert q.values.min() >= lo and q.values.max() <= hi
    x = np.asarray(xs)
    inside = (x * 2.0**frac_bits >= lo) & (x * 2.0**frac_bits <= hi)
    err = np.abs(dequantize(q.values, frac_bits) - x)
    assert np.all(err[inside] <= 2.0 ** -(frac_bits + 1))
    scaled = np.rint(x * 2.0**frac_bits)
    assert q.n_saturated == int(np.sum((scaled < lo) | (scaled > hi)))
