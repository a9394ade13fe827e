import numpy as np
import pytest
from scipy.special import expit

from pysampler.contract.config import PRESETS, HwConfig
from pysampler.contract.lut import build_lut, lut_address, lut_bucket_centre, lut_index, lut_probability

CONFIGS = list(PRESETS.values()) + [HwConfig(lut_shift=3, lut_addr_bits=6, beta=0.7),
                                    HwConfig(lut_addr_bits=1, prob_bits=4, rng_bits=8)]


@pytest.mark.parametrize("cfg", CONFIGS)
def test_entries_in_range_and_monotone(cfg):
    lut = build_lut(cfg)
    half = cfg.lut_size // 2
    signed = lut[np.arange(-half, half) & (cfg.lut_size - 1)]
    assert lut.shape == (cfg.lut_size,)
    assert signed.min() >= 0 and signed.max() <= 1 << cfg.prob_bits
    assert np.all(np.diff(signed) >= 0)


@pytest.mark.parametrize("cfg", CONFIGS)
def test_entries_follow_the_contract_formula(cfg):
    lut = build_lut(cfg)
    half = cfg.lut_size // 2
    k = np.arange(-half, half)
    centre = (k * 2.0**cfg.lut_shift + (2.0**cfg.lut_shift - 1) / 2) * 2.0**-cfg.frac_bits
    expected = np.rint(2.0**cfg.prob_bits * expit(cfg.beta * centre))
    assert np.array_equal(lut[k & (cfg.lut_size - 1)], expected.astype(np.int64))
    assert np.allclose(lut_bucket_centre(k, cfg), centre)


def test_unshifted_table_is_exact_and_antisymmetric():
    cfg = HwConfig()
    lut = build_lut(cfg)
    half = cfg.lut_size // 2
    k = np.arange(1, half)
    assert np.all(lut[k] + lut[(-k) & (cfg.lut_size - 1)] == 1 << cfg.prob_bits)
    assert lut[0] == 1 << (cfg.prob_bits - 1)  # field 0 -> p = 1/2 exactly, no half-LSB bias


def test_extremes_reach_zero_and_one():
    cfg = HwConfig(prob_bits=8, rng_bits=8, frac_bits=2)  # +-128 LSB = +-32 logits: saturates
    lut = build_lut(cfg)
    assert lut.min() == 0 and lut.max() == 1 << 8


def test_index_clamps_and_shifts_arithmetically():
    cfg = HwConfig(lut_addr_bits=4, lut_shift=2)
    fields = np.array([-1000, -33, -32, -5, -4, -1, 0, 3, 4, 31, 1000])
    assert lut_index(fields, cfg).tolist() == [-8, -8, -8, -2, -1, -1, 0, 0, 1, 7, 7]
    assert lut_address(fields, cfg).tolist() == [8, 8, 8, 14, 15, 15, 0, 0, 1, 7, 7]


def test_probability_is_entry_over_two_to_p():
    cfg = HwConfig()
    lut = build_lut(cfg)
    fields = np.array([-600, -17, 0, 5, 511, 900])
    assert np.array_equal(lut_probability(fields, cfg) * 2**16, lut[lut_address(fields, cfg)])


def test_lut_span_holds_every_entry_the_compare_does_not():
    """The stream core's sigmoid ROM: entries lo..hi, the rest equal to the first (below lo) or
    the last (above hi) entry; about half the default stream table."""
    from pysampler.contract.lut import lut_span
    from pysampler.contract.stream_format import stream_format

    for cfg in (HwConfig(), stream_format(HwConfig()).acc, HwConfig(lut_addr_bits=5)):
        lo, hi, span, below, above = lut_span(cfg)
        half = cfg.lut_size // 2
        k = np.arange(-half, half)
        got = np.where(k < lo, below, np.where(k > hi, above,
                                               np.asarray(span)[np.clip(k - lo, 0, hi - lo)]))
        assert np.array_equal(got, build_lut(cfg)[k & (cfg.lut_size - 1)])
    lo, hi, span, below, above = lut_span(stream_format(HwConfig()).acc)
    assert (lo, hi, below, above) == (-4436, 4435, 0, 1 << 24) and len(span) == 8872
