"""Property-based suite of the contract's constructors and program builders (hypothesis; see
tests/strategies.py): HwConfig and ChainPolicy from generated fields at and past every bound, the
one-hot and Ising program builders on generated inputs. Each either builds a value that keeps its
invariants or raises ValueError / TypeError naming what was wrong."""

import dataclasses

import numpy as np
from hypothesis import given, strategies as st
from hypothesis.extra import numpy as hnp

from pysampler import ChainPolicy, HwConfig
from pysampler.contract.config import BETA_RANGE
from pysampler.contract.program import MAX_SCHEDULE, ising_program, onehot_program
from tests.strategies import (SAMPLER_CONFIGS, config_fields, hw_configs, logit_rows,
                              policy_fields, raises_named)

CONFIG_NAMES = tuple(f"HwConfig.{f.name}" for f in dataclasses.fields(HwConfig))
POLICY_NAMES = tuple(f.name for f in dataclasses.fields(ChainPolicy)) + ("lam[",)


@given(fields=config_fields())
def test_hw_config_builds_within_its_bounds_or_names_the_field(fields):
    try:
        cfg = HwConfig(**fields)
    except (ValueError, TypeError) as err:
        raises_named(err, CONFIG_NAMES)
        return
    assert 1 <= cfg.n_pbits <= 1 << 16 and 0 <= cfg.frac_bits < cfg.weight_bits <= 32
    assert cfg.weight_min == -(1 << (cfg.weight_bits - 1)) and cfg.lut_size == 1 << cfg.lut_addr_bits
    assert cfg.prob_bits <= min(32, cfg.rng_bits) and 1 <= cfg.rng_steps <= 64
    assert BETA_RANGE[0] <= cfg.beta <= BETA_RANGE[1] and type(cfg.beta) is float
    assert cfg.logit_lsb == cfg.beta * 2.0 ** -cfg.frac_bits
    assert HwConfig.from_json(cfg.to_json()) == cfg


@given(fields=policy_fields())
def test_chain_policy_builds_within_its_bounds_or_names_the_field(fields):
    try:
        policy = ChainPolicy(**fields)
    except (ValueError, TypeError) as err:
        raises_named(err, POLICY_NAMES)
        return
    lams = policy.lam_schedule
    assert 1 <= len(lams) <= MAX_SCHEDULE and all(np.isfinite(v) and v > 0 for v in lams)
    assert policy.sweeps >= 1 and policy.burn_in >= 0 and policy.max_resample >= 0
    assert policy.replace() == policy


@given(cfg=st.sampled_from(SAMPLER_CONFIGS), row=logit_rows(),
       lam=st.one_of(st.floats(0.05, 8.0), st.lists(st.floats(0.05, 8.0), min_size=1,
                                                      max_size=MAX_SCHEDULE + 1).map(tuple),
                     st.sampled_from([0.0, -1.0, np.nan, np.inf, 1e300])),
       temperature=st.one_of(st.floats(0.05, 5.0), st.sampled_from([0.0, np.nan, 1e-300])),
       offset=st.sampled_from(["max", "min_invalid", "mid"]))
def test_onehot_program_fits_its_widths_or_names_the_input(cfg, row, lam, temperature, offset):
    try:
        program = onehot_program(row, lam, temperature, cfg, offset=offset)
    except (ValueError, TypeError) as err:
        raises_named(err, ("logits", "lam", "temperature", "offset", "n_pbits"))
        return
    assert program.n == row.size <= cfg.n_pbits
    values = np.concatenate([program.h, program.bias_offsets, program.couplings])
    assert values.min() >= cfg.weight_min and values.max() <= cfg.weight_max
    assert program.n_saturated >= 0 and program.couplings[-1] == program.j


@st.composite
def _ising(draw):
    n = draw(st.integers(0, 9))
    values = st.one_of(st.floats(-3.0, 3.0), st.floats(-3.0, 3.0),
                       st.sampled_from([np.nan, np.inf, 1e300]))
    J = draw(hnp.arrays(np.float64, (n, n), elements=values))
    if draw(st.booleans()):  # mostly a valid coupling matrix: symmetric, zero diagonal
        J = np.triu(J, 1)
        J = J + J.T
    shape = draw(st.sampled_from([(n,), (n,), (n + 1,), (n, 1)]))
    return J, draw(hnp.arrays(np.float64, shape, elements=values))


@given(cfg=hw_configs(), model=_ising(),
       beta=st.one_of(st.floats(0.01, 10.0), st.sampled_from([0.0, -1.0, np.nan, np.inf])))
def test_ising_program_fits_its_widths_or_names_the_input(cfg, model, beta):
    J, h = model
    try:
        program = ising_program(J, h, cfg, beta=beta)
    except (ValueError, TypeError) as err:
        raises_named(err, ("J", "h", "beta", "n_pbits"))
        return
    assert program.n == h.size and np.array_equal(program.J, program.J.T)
    assert not np.diagonal(program.J).any()
    assert min(program.h.min(), program.J.min()) >= cfg.weight_min
    assert max(program.h.max(), program.J.max()) <= cfg.weight_max
