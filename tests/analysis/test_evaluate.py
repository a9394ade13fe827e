"""The evaluator at any V: a sampler's exact law within its exact limit, Monte Carlo with the real
generator and the noise floor beyond it, in bounded time."""

import math

import numpy as np
import pytest

from pysampler import HwConfig
from pysampler.analysis.evaluate import EXACT, MONTE_CARLO, evaluate_row
from pysampler.analysis.exact import exact_token_distribution
from pysampler.analysis.metrics import tv_noise_floor
from pysampler.experiments.logitsets import synthetic_logits
from pysampler.samplers import ChainPolicy, SoftmaxSampler, make_sampler
from pysampler.samplers.chain import onehot_rtl_clocks
from pysampler.samplers.filtering import reduce_vocab


class _MonteCarloSoftmax(SoftmaxSampler):
    """Softmax that claims no exact law: the evaluator must measure it."""

    @property
    def exact_limit(self) -> int:
        return 0


def test_within_the_limit_the_evaluation_is_the_exact_law():
    kept = reduce_vocab(synthetic_logits(32))
    hw = make_sampler("hw", HwConfig(), ChainPolicy())
    e = evaluate_row(hw, kept)
    ref = exact_token_distribution(hw, synthetic_logits(32))
    assert e.method == EXACT and e.tokens == 0 and e.noise_floor == 0.0
    assert e.tv == pytest.approx(ref.tv) and e.fallback == pytest.approx(ref.fallback)
    assert e.work_per_token == pytest.approx(ref.expected_updates)
    assert e.rtl_clocks == pytest.approx(ref.rtl_clocks)
    assert hw.exact_limit == 64 and SoftmaxSampler().exact_limit is None
    tree = evaluate_row(make_sampler("tree", HwConfig(n_pbits=1000)),
                        reduce_vocab(synthetic_logits(1000)))
    assert tree.method == EXACT and tree.tv < 0.005  # the tree's law at any V


def test_monte_carlo_tv_is_within_the_noise_floor_of_an_exact_sampler():
    kept = reduce_vocab(synthetic_logits(100))
    n = 2000
    e = evaluate_row(_MonteCarloSoftmax(), kept, mc_tokens=n, mc_seconds=60, seed=3)
    assert e.method == MONTE_CARLO and e.tokens == n
    assert e.noise_floor == pytest.approx(tv_noise_floor(kept.target(), n))
    # E[TV] = the floor; TV has bounded differences 1/n, so McDiarmid: P(TV > floor + t) <=
    # exp(-2 n t^2) = 1e-6 at t below
    t = math.sqrt(math.log(1e6) / (2 * n))
    assert e.tv <= e.noise_floor + t
    assert math.isnan(e.kl) and e.fallback == 0.0 and e.rtl_clocks is None


def test_chain_samplers_beyond_64_tokens_are_measured_with_their_cost():
    v = 96
    kept = reduce_vocab(synthetic_logits(v))
    hw = make_sampler("hw", HwConfig(n_pbits=v), ChainPolicy(sweeps=5))
    e = evaluate_row(hw, kept, mc_tokens=50, mc_seconds=60, seed=1)
    assert e.method == MONTE_CARLO and e.tokens == 50
    assert e.expected_attempts >= 1 and 0 <= e.fallback <= 1
    assert e.work_per_token == pytest.approx(5 * v * e.expected_attempts)
    # the clocks of the exact law's formula at the measured work and attempts
    clocks = onehot_rtl_clocks(e.work_per_token, e.expected_attempts, v)
    assert e.rtl_clocks == pytest.approx(clocks)
    again = evaluate_row(hw, kept, mc_tokens=50, mc_seconds=60, seed=1)
    assert again.tv == e.tv  # the real generator, reseeded: the same tokens


def test_the_time_budget_bounds_monte_carlo():
    kept = reduce_vocab(synthetic_logits(80))
    hw = make_sampler("hw", HwConfig(n_pbits=80), ChainPolicy(sweeps=40))
    e = evaluate_row(hw, kept, mc_tokens=10**6, mc_seconds=0.2)
    assert 1 <= e.tokens < 10**6  # stopped by the budget (no wall-clock bound: the machine varies)
    with pytest.raises(ValueError, match="mc_tokens"):
        evaluate_row(hw, kept, mc_tokens=0)
    assert np.isfinite(e.tv) and e.noise_floor > 0
