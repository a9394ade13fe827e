"""A sampler is one class that carries its own law: a toy sampler defined here, and nowhere else,
is taken by the registry, the exact evaluator and the CLI with no edit to the package."""

import numpy as np
import pytest

from pysampler import ChainPolicy, HwConfig, exact_token_distribution, make_sampler
from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.cli import _samplers, build_parser
from pysampler.samplers import (GibbsSampler, HardwareSampler, SoftmaxSampler, TokenLaw,
                                TokenSampler, TreeSampler, register_sampler, sampler_kinds,
                                unregister_sampler)
from pysampler.samplers.base import NumpyLanes

LOGITS = np.array([1.0, -0.5, 0.25, 2.0, 0.0])


class ToySampler(TokenSampler):
    """Uniform over the two most likely kept tokens (a deliberately biased toy)."""

    work_unit = "coin flips"

    def __init__(self, *, seed=0):
        super().__init__(seed=seed)
        self._rngs = NumpyLanes()

    def _reset_streams(self):
        self._rngs.clear()

    def _top_two(self, kept):
        return np.argsort(-kept.logits, kind="stable")[:2]

    def _draw_kept(self, kept, lane):
        self.stats.tokens += 1
        self.stats.attempts += 1
        top = self._top_two(kept)
        return int(top[self._rngs.stream(self.seed, lane).integers(top.size)])

    def law(self, kept):
        probs = np.zeros(kept.size)
        top = self._top_two(kept)
        probs[top] = 1.0 / top.size
        return TokenLaw(probs, expected_work=1.0)


@pytest.fixture
def toy():
    register_sampler("toy", help="uniform over the top two")(ToySampler)
    yield
    unregister_sampler("toy")


def test_toy_sampler_through_registry_evaluator_and_cli(toy):
    assert "toy" in sampler_kinds()
    sampler = make_sampler("toy", seed=3)
    assert isinstance(sampler, ToySampler) and sampler.policy is None

    exact = exact_token_distribution(sampler, LOGITS, temperature=2.0)
    assert exact.probs.tolist() == [0.5, 0.0, 0.0, 0.5, 0.0]
    target = np.exp(LOGITS / 2) / np.exp(LOGITS / 2).sum()
    assert exact.tv == pytest.approx(0.5 * np.abs(target - exact.probs).sum())
    assert exact.expected_updates == 1.0 and exact.rtl_clocks is None

    n = 4000  # the draws follow the stated law (tolerance: noise floor + McDiarmid, 1e-6)
    draws = [sampler.sample(LOGITS) for _ in range(n)]
    assert total_variation(exact.probs, empirical_distribution(draws, LOGITS.size)) < \
        tv_noise_floor(exact.probs, n) + np.sqrt(np.log(1e6) / (2 * n))

    args = build_parser().parse_args(["generate", "--sampler", "toy"])
    assert isinstance(_samplers(args)["toy"], ToySampler)
    every = _samplers(build_parser().parse_args(["generate", "--sampler", "all", "--top-k", "8"]))
    assert tuple(every) == sampler_kinds() and "toy" in every


def test_builtin_kinds_and_bad_names():
    assert sampler_kinds()[:4] == ("softmax", "gibbs", "hw", "tree")
    cfg = HwConfig(n_pbits=16)
    policy = ChainPolicy(lam=3.0, sweeps=7)
    built = {k: make_sampler(k, cfg, policy, seed=5) for k in ("softmax", "gibbs", "hw", "tree")}
    assert isinstance(built["softmax"], SoftmaxSampler)
    assert isinstance(built["gibbs"], GibbsSampler) and built["gibbs"].policy == policy
    assert isinstance(built["hw"], HardwareSampler) and built["hw"].cfg == cfg
    assert built["hw"].policy == policy and built["hw"].seed == 5 and built["hw"].max_kept == 16
    assert isinstance(built["tree"], TreeSampler) and built["tree"].max_kept == 16
    with pytest.raises(ValueError, match="unknown sampler 'mcmc'.*softmax"):
        make_sampler("mcmc")
    with pytest.raises(ValueError, match="other than 'all'"):
        register_sampler("all")
    with pytest.raises(ValueError, match="already registered"):
        register_sampler("hw")(ToySampler)


def test_law_of_every_builtin_kind_is_a_distribution_with_a_cost():
    for kind in ("softmax", "gibbs", "hw", "tree"):
        exact = exact_token_distribution(make_sampler(kind), LOGITS)
        assert exact.probs.sum() == pytest.approx(1.0) and exact.probs.min() >= 0
        assert (exact.expected_updates > 0) == (kind != "softmax")
        assert (exact.rtl_clocks is None) == (kind == "softmax")  # chains: the one-hot core's
