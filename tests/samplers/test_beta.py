"""beta is the gain of the hardware sigmoid, compensated by every program: every token sampler
targets softmax(z / T) at any HwConfig.beta, and the exact evaluator scores against that."""

import numpy as np
import pytest

from pysampler import ChainPolicy, HwConfig, exact_token_distribution, make_sampler, sampler_kinds
from pysampler.contract.program import dense_program, ising_program
from pysampler.engines.reference import ising_exact

LOGITS = np.random.default_rng(0).normal(0.0, 2.0, 48)


@pytest.mark.parametrize("kind", sampler_kinds())
@pytest.mark.parametrize("beta", [0.5, 2.0])
def test_every_sampler_targets_softmax_at_any_gain(kind, beta):
    """Before the gain was compensated, the tree at beta = 0.5 drew from softmax(z / 2) and scored
    TV 0.27 against softmax(z): every sampler now stays at its quantization floor."""
    sampler = make_sampler(kind, HwConfig(beta=beta), ChainPolicy(), seed=1)
    result = exact_token_distribution(sampler, LOGITS, temperature=0.8, top_k=48)
    target = np.exp(LOGITS / 0.8 - np.max(LOGITS / 0.8))
    np.testing.assert_allclose(np.sort(result.target), np.sort(target / target.sum()), atol=1e-12)
    assert result.tv < 0.02


@pytest.mark.parametrize("kind", ["hw", "tree", "gibbs", "softmax"])
def test_halving_the_gain_is_one_more_fractional_bit(kind):
    """A power-of-two gain only moves the binary point: beta = 1/2 at frac_bits 4 writes the same
    integers and reads the same LUT entries as beta = 1 at frac_bits 5, so the laws are equal."""
    laws = [exact_token_distribution(make_sampler(kind, cfg, ChainPolicy(), seed=1), LOGITS,
                                     top_k=48).probs
            for cfg in (HwConfig(beta=0.5), HwConfig(frac_bits=5))]
    np.testing.assert_array_equal(laws[0], laws[1])


def test_ising_programs_take_the_target_beta_and_compensate_the_gain():
    rng = np.random.default_rng(3)
    J = np.triu(rng.normal(0, 0.4, (5, 5)), 1)
    J = J + J.T
    h = rng.normal(0, 0.3, 5)
    gain_half = ising_program(J, h, HwConfig(beta=0.5), beta=1.0)
    target_two = ising_program(J, h, HwConfig(beta=1.0), beta=2.0)
    np.testing.assert_array_equal(gain_half.J, target_two.J)   # both write 2 J in field units
    np.testing.assert_array_equal(gain_half.h, target_two.h)
    with pytest.raises(ValueError, match="beta"):
        dense_program(h, J, HwConfig(), beta=0.0)
    probs, _ = ising_exact(J, h, beta=1.0)
    assert probs.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("kind,needle", [("tree", "tree format"), ("stream", "stream format"),
                                         ("gumbel", "stream format")])
def test_a_tiny_gain_is_refused_when_the_sampler_is_built(kind, needle):
    """Tables grow like 1 / beta: at 2^-10 the tree's and the stream's would pass 2^16 entries
    (before the check, the tree's log-add table at beta = 1e-300 never finished)."""
    with pytest.raises(ValueError, match=f"{needle}.*beta = 0.000976562.*beta must be >="):
        make_sampler(kind, HwConfig(beta=2.0**-10), ChainPolicy(), seed=1)
