import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import (LFSR_MASKS, LFSR_TAPS, RNG_LFSR, check_state, derive_state,
                           derive_states, draw_sequence, leap_draw, leap_table, rng_draw, rng_step,
                           splitmix64, transition_matrix)


def _lfsr_cfg(width: int) -> HwConfig:
    return HwConfig(rng="lfsr", rng_bits=width, prob_bits=min(16, width))


def _gf2_matrix(columns, width):
    return np.array([[(col >> r) & 1 for col in columns] for r in range(width)], dtype=np.int64)


def _gf2_power(a, exponent):
    result = np.eye(a.shape[0], dtype=np.int64)
    while exponent:
        if exponent & 1:
            result = (result @ a) & 1
        a = (a @ a) & 1
        exponent >>= 1
    return result


def _order_is_maximal(cfg: HwConfig) -> bool:
    width = cfg.rng_bits
    a = _gf2_matrix(transition_matrix(cfg, steps=1), width)
    period = (1 << width) - 1
    eye = np.eye(width, dtype=np.int64)
    if not np.array_equal(_gf2_power(a, period), eye):
        return False
    return all(not np.array_equal(_gf2_power(a, period // q), eye) for q in sympy.factorint(period))


@pytest.mark.parametrize("width", sorted(LFSR_TAPS))
def test_lfsr_taps_are_maximal_length(width):
    """The step's transition matrix has multiplicative order exactly 2**w - 1 (maximal period)."""
    assert _order_is_maximal(_lfsr_cfg(width))


@pytest.mark.parametrize("width", [32, 64])
def test_xorshift_has_full_period(width):
    assert _order_is_maximal(HwConfig(rng="xorshift", rng_bits=width))


@pytest.mark.parametrize("width", [8, 9, 12, 16])
def test_lfsr_full_period_by_stepping(width):
    mask = np.uint64(LFSR_MASKS[width])
    seen = np.zeros(1 << width, dtype=bool)
    s = np.uint64(1)
    for _ in range((1 << width) - 1):
        assert not seen[int(s)]
        seen[int(s)] = True
        s = rng_step(s, RNG_LFSR, mask)
    assert int(s) == 1 and seen[1:].all() and not seen[0]


def _py_lfsr(state, width):
    return (state >> 1) ^ (LFSR_MASKS[width] if state & 1 else 0)


def _py_xorshift(x, width):
    m = (1 << width) - 1
    a, b, c = (13, 17, 5) if width == 32 else (13, 7, 17)
    x ^= (x << a) & m
    x ^= x >> b
    return x ^ ((x << c) & m)


def test_xorshift_known_answers():
    cfg32 = HwConfig(rng="xorshift", rng_bits=32, prob_bits=32)
    cfg64 = HwConfig(rng="xorshift", rng_bits=64, prob_bits=32)
    # Marsaglia (2003), "Xorshift RNGs": first outputs of xor32 and xor64 from his seeds.
    assert draw_sequence(2463534242, cfg32, 1)[1] == 723471715
    assert draw_sequence(88172645463325252, cfg64, 1)[1] == 8748534153485358512


@pytest.mark.parametrize("cfg", [
    HwConfig(), HwConfig(rng_bits=16, prob_bits=12, rng_steps=1), HwConfig(rng_bits=64),
    HwConfig(rng="xorshift", rng_bits=32, prob_bits=24), HwConfig(rng="xorshift", rng_bits=64,
                                                                  rng_steps=3),
])
def test_draws_equal_plain_python_reading_of_the_contract(cfg):
    state = derive_state(5, 0, cfg)
    draws, final = draw_sequence(state, cfg, 300)
    s = state
    step = _py_lfsr if cfg.rng == "lfsr" else _py_xorshift
    for k in range(300):
        for _ in range(cfg.rng_steps):
            s = step(s, cfg.rng_bits)
        assert draws[k] == s >> (cfg.rng_bits - cfg.prob_bits)
        assert 0 <= draws[k] < 1 << cfg.prob_bits
    assert final == s


@pytest.mark.parametrize("cfg", [HwConfig(), HwConfig(rng_bits=13, prob_bits=13, rng_steps=5),
                                 HwConfig(rng="xorshift", rng_bits=64, rng_steps=2)])
def test_leap_table_equals_stepping(cfg):
    table = leap_table(cfg)
    s_ref = s_leap = np.uint64(derive_state(11, 3, cfg))
    for _ in range(500):
        s_ref, u_ref = rng_draw(s_ref, *_kernel_args(cfg))
        s_leap, u_leap = leap_draw(s_leap, table, cfg.rng_bits - cfg.prob_bits)
        assert (s_ref, u_ref) == (s_leap, u_leap)


def _kernel_args(cfg):
    from pysampler.contract.rng import rng_spec

    spec = rng_spec(cfg)
    return spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**64 - 1), st.integers(0, 10**6), st.sampled_from([8, 16, 31, 32, 64]))
def test_derived_states_are_never_zero(seed, stream, width):
    cfg = HwConfig(rng_bits=width, prob_bits=8)
    state = derive_state(seed, stream, cfg)
    assert 1 <= state < 1 << width


def test_derived_states_differ_between_streams_and_are_reproducible():
    cfg = HwConfig()
    states = derive_states(123, 1000, cfg)
    assert len(set(states.tolist())) == 1000
    assert np.array_equal(states, derive_states(123, 1000, cfg))
    assert splitmix64(0, 0) == 0xE220A8397B1DCDAF  # SplitMix64 of 0x9E3779B97F4A7C15


def test_zero_and_out_of_range_states_are_rejected():
    cfg = HwConfig(rng_bits=16)
    with pytest.raises(ValueError, match="rng state is 0"):
        check_state(0, cfg)
    with pytest.raises(ValueError, match=r"\[1, 65535\]"):
        check_state(1 << 16, cfg)
    with pytest.raises(ValueError, match="rng state is 0"):
        draw_sequence(0, cfg, 1)
    with pytest.raises(ValueError, match="seed"):
        derive_state(-1, 0, cfg)
