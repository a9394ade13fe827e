"""Hypothesis strategies and checks shared by the property-based suites (tests/*/test_properties.py
and tests/test_cli_fuzz.py): generated logit rows, filters, configurations and policies at and
past every bound, and the two properties every public entry point keeps: it answers, or it raises
a documented exception (ValueError, TypeError) whose message names what was wrong; and it never
hangs."""

from __future__ import annotations

import contextlib
import signal
from typing import Iterable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from pysampler import HwConfig, PRESETS

__all__ = ["SPECIAL_FLOATS", "logit_rows", "logit_batches", "filters", "hw_configs",
           "config_fields", "policy_fields", "raises_named", "no_hang", "SAMPLER_CONFIGS"]

#: values past every numeric edge: NaN, infinities, the largest and smallest doubles, denormals
SPECIAL_FLOATS = (np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-300, -1e-300, 5e-324, -5e-324, 0.0,
                  -0.0, 1e16, -1e16)

#: configurations the sampler properties run on: every preset, a small array whose capacity the
#: sizes reach, gains other than 1, narrow and wide formats
SAMPLER_CONFIGS = (
    PRESETS["default"], PRESETS["tiny"], PRESETS["wide"],
    HwConfig(n_pbits=8, weight_bits=6, frac_bits=2, lut_addr_bits=6, prob_bits=10, rng_bits=12),
    HwConfig(beta=0.5), HwConfig(beta=3.0, frac_bits=3), HwConfig(rng="xorshift"),
)

_SIZES = st.sampled_from([1, 2, 3, 7, 8, 9, 16, 17, 63, 64, 65, 100])


def _values(dtype: np.dtype, specials: bool) -> st.SearchStrategy:
    finite = st.floats(-40.0, 40.0, width=32 if dtype == np.float32 else 64) \
        if dtype != np.float16 else st.floats(-40.0, 40.0, width=16)
    if not specials:
        return finite
    edge = st.sampled_from([v for v in SPECIAL_FLOATS
                            if dtype == np.float64 or abs(v) < 6e4 or not np.isfinite(v)])
    return st.one_of(finite, finite, finite, edge)


@st.composite
def logit_rows(draw, *, specials: bool = True, sizes: st.SearchStrategy = _SIZES) -> np.ndarray:
    """A row of logits (V,), float16/32/64, mostly in +-40, with NaN, +-inf, huge, tiny and
    denormal values among them when ``specials``; V from 1 to 100 (edges of the configurations'
    capacities) and sometimes 0."""
    dtype = draw(st.sampled_from([np.float64, np.float64, np.float32, np.float16]))
    size = draw(st.one_of(sizes, st.just(0))) if specials else draw(sizes)
    return draw(hnp.arrays(dtype, size, elements=_values(np.dtype(dtype), specials)))


@st.composite
def logit_batches(draw, *, specials: bool = False) -> np.ndarray:
    """Rows (B, V), B in 0..5, float64; with ``specials`` some -inf (an excluded token)."""
    rows = draw(st.integers(0, 5))
    size = draw(_SIZES)
    values = st.floats(-40.0, 40.0) if not specials else \
        st.one_of(st.floats(-40.0, 40.0), st.floats(-40.0, 40.0), st.just(-np.inf))
    batch = draw(hnp.arrays(np.float64, (rows, size), elements=values))
    if rows:
        batch[:, draw(st.integers(0, size - 1))] = draw(st.floats(-5.0, 5.0))  # one finite each
    return batch


def _maybe_bad(valid: st.SearchStrategy, bad: Iterable) -> st.SearchStrategy:
    return st.one_of(valid, valid, valid, st.sampled_from(list(bad)))


@st.composite
def filters(draw, *, bad: bool = True) -> dict:
    """Keyword filters of sample(): temperature, top_k, top_p, min_p, each valid, None, or (when
    ``bad``) at or past its bound or of a wrong type."""
    temperature = st.floats(0.05, 5.0)
    top_k = st.one_of(st.none(), st.integers(1, 120))
    top_p = st.one_of(st.none(), st.floats(0.01, 1.0))
    min_p = st.one_of(st.none(), st.floats(0.0, 0.99))
    if bad:
        temperature = _maybe_bad(temperature, [0.0, -1.0, np.nan, np.inf, 1e-300, 5e-324, 1e300,
                                               True, "1", None])
        top_k = _maybe_bad(top_k, [0, -1, 2.5, True, "5", np.int64(3), 10**18])
        top_p = _maybe_bad(top_p, [0.0, -0.1, 1.5, np.nan, True, "0.9"])
        min_p = _maybe_bad(min_p, [1.0, -0.1, np.nan, np.inf, False, "0"])
    return {"temperature": draw(temperature), "top_k": draw(top_k), "top_p": draw(top_p),
            "min_p": draw(min_p)}


#: per HwConfig field: values inside its range and values at or past its bounds or of wrong types
_CONFIG_VALUES = {
    "n_pbits": (st.integers(1, 1 << 16), [0, -1, (1 << 16) + 1, 3.0, True, "64", None]),
    "weight_bits": (st.integers(2, 32), [1, 33, 0, 10.0, False]),
    "frac_bits": (st.integers(0, 12), [-1, 40, 4.5, None]),
    "lut_addr_bits": (st.integers(1, 16), [0, 17, 8.0]),
    "lut_shift": (st.integers(0, 4), [-1, 80]),
    "prob_bits": (st.integers(1, 32), [0, 33, 65, 16.0]),
    "beta": (st.floats(2.0 ** -10, 2.0 ** 10), [0.0, -1.0, 1e-300, 1e300, np.nan, np.inf, "1", True]),
    "rng": (st.sampled_from(["lfsr", "xorshift"]), ["mt", "", None, 1]),
    "rng_bits": (st.sampled_from([8, 12, 16, 20, 32, 48, 64]), [7, 65, 0, 33.0]),
    "rng_steps": (st.one_of(st.none(), st.integers(1, 64)), [0, 65, -3, 2.0]),
    "schedule": (st.just("sequential"), ["random", "", 0]),
}


@st.composite
def config_fields(draw, *, bad: bool = True) -> dict:
    """Keyword arguments of HwConfig: a few fields, each in range or (when ``bad``) past it."""
    names = draw(st.lists(st.sampled_from(sorted(_CONFIG_VALUES)), max_size=5, unique=True))
    out = {}
    for name in names:
        good, wrong = _CONFIG_VALUES[name]
        out[name] = draw(_maybe_bad(good, wrong) if bad else good)
    return out


@st.composite
def hw_configs(draw) -> HwConfig:
    """A valid HwConfig drawn from the whole space (widths, gains, generators), or a preset."""
    while True:  # a drawn combination may still be refused (frac_bits above weight_bits, ...)
        try:
            return HwConfig(**draw(config_fields(bad=False)))
        except ValueError:
            continue


_POLICY_VALUES = {
    "lam": (st.one_of(st.floats(0.1, 6.0), st.lists(st.floats(0.1, 6.0), min_size=1,
                                                    max_size=8).map(tuple)),
            [0.0, -1.0, np.nan, np.inf, (), (1.0,) * 9, (1.0, -2.0), "2", None]),
    "sweeps": (st.integers(1, 4), [0, -1, 2.5, True, None, "3"]),
    "burn_in": (st.integers(0, 2), [-1, 1.5, None]),
    "init": (st.sampled_from(["zeros", "random_onehot"]), ["ones", "", None]),
    "max_resample": (st.integers(0, 3), [-1, 2.0]),
    "offset": (st.sampled_from(["max", "min_invalid"]), ["min", None]),
    "readout": (st.sampled_from(["restart", "continue"]), ["again", 0]),
    "extra_sweeps": (st.integers(0, 3), [-2, "1"]),
    "adapt": (st.sampled_from(["none", "entropy"]), ["always", None]),
}


@st.composite
def policy_fields(draw, *, bad: bool = True) -> dict:
    """Keyword arguments of ChainPolicy (few sweeps: the samplers run fast), valid or past bounds."""
    names = draw(st.lists(st.sampled_from(sorted(_POLICY_VALUES)), max_size=5, unique=True))
    out = {"sweeps": draw(st.integers(1, 4))}
    for name in names:
        good, wrong = _POLICY_VALUES[name]
        out[name] = draw(_maybe_bad(good, wrong) if bad else good)
    return out


def raises_named(err: BaseException, names: Iterable[str]) -> None:
    """A documented refusal: ValueError or TypeError whose message names one of ``names``."""
    assert isinstance(err, (ValueError, TypeError)), f"undocumented {type(err).__name__}: {err}"
    text = str(err)
    assert any(name in text for name in names), f"message names none of {list(names)}: {text}"


class Hung(Exception):
    """A call ran past its time bound."""


@contextlib.contextmanager
def no_hang(seconds: float = 20.0):
    """Fail a call that does not return within ``seconds`` (SIGALRM: interrupts Python-level
    loops, the way the tree's log-add table once looped forever at a tiny beta); each example
    also has hypothesis' own deadline."""
    def alarm(signum, frame):
        raise Hung(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
