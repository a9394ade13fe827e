"""The tree sampler: exact categorical draws from p-bit decisions, error from quantization alone."""

import numpy as np
import pytest
from scipy.special import logsumexp, softmax

from pysampler import HwConfig, TreeSampler
from pysampler.exact import exact_token_distribution
from pysampler.logitsets import synthetic_logits
from pysampler.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.tree import (EMPTY, logadd_table, tree_config, tree_draw, tree_program,
                            tree_token_probs)

HI_RES = HwConfig(weight_bits=20, frac_bits=12, lut_addr_bits=16, lut_shift=2, prob_bits=28)


def test_logadd_table():
    cfg = tree_config(HwConfig(), 2)  # 1/64 LSB
    table = logadd_table(cfg)
    assert table[0] == round(64 * np.log(2))  # ln(1 + e^0) = ln 2
    assert np.all(np.diff(table) <= 0) and table[-1] > 0
    d = table.size  # the first distance whose correction rounds to 0
    assert round(64 * np.log1p(np.exp(-d / 64))) == 0


@pytest.mark.parametrize("v", [1, 2, 3, 5, 16, 50, 64])
def test_masses_probabilities_and_padding(v):
    z = synthetic_logits(v)
    program = tree_program(z, 1.0, HwConfig())
    assert program.padded == 64  # the hardware's tree: n_pbits = 64 leaves
    assert np.all(program.masses[program.padded + v:] == EMPTY)
    root = program.masses[1] / 64
    # the root log-mass is logsumexp(z - max) up to rounding: half an LSB per leaf and per level
    assert abs(root - logsumexp(z - z.max())) <= (program.depth + 1) / 128 + 1e-9
    probs = tree_token_probs(program)
    assert probs.shape == (v,) and np.isclose(probs.sum(), 1.0) and probs.min() > 0


def test_error_is_quantization_alone():
    z = synthetic_logits(50)
    tv = {g: total_variation(softmax(z), tree_token_probs(tree_program(z, 1.0, HwConfig(), g)))
          for g in (0, 2)}
    fine = total_variation(softmax(z), tree_token_probs(tree_program(z, 1.0, HI_RES, 0)))
    assert fine < 1e-3 and fine < tv[2] < tv[0] < 0.03  # guard bits cut the rounding down the tree


def test_draw_trace_is_one_decision_per_level():
    program = tree_program(synthetic_logits(5), 1.0, HwConfig(n_pbits=8))
    token, state, trace = tree_draw(program, 12345)
    assert len(trace.node) == 3 and trace.node[0] == 1 and 0 <= token < 5
    node = 1
    for n, bit in zip(trace.node, trace.bit):
        assert n == node
        node = 2 * node + bit
    assert node - 8 == token and state != 12345
    with pytest.raises(ValueError, match="top_k <= 8"):
        tree_program(np.zeros(9), 1.0, HwConfig(n_pbits=8))
    with pytest.raises(ValueError, match="guard_bits"):
        TreeSampler(guard_bits=9)


@pytest.mark.parametrize("cfg", [HwConfig(), HwConfig(rng="xorshift", rng_bits=64)])
def test_monte_carlo_matches_exact_and_never_invalid(cfg):
    """20,000 draws with the real generator against the exact law: E[TV] of N exact samples plus
    McDiarmid's sqrt(ln(1e6) / 2N)."""
    z = synthetic_logits(20)
    sampler = TreeSampler(cfg, seed=3)
    exact = exact_token_distribution(sampler, z)
    n = 20_000
    draws = [sampler.sample(z) for _ in range(n)]
    emp = empirical_distribution(draws, 20)
    assert total_variation(exact.probs, emp) < tv_noise_floor(exact.probs, n) + \
        np.sqrt(np.log(1e6) / (2 * n))
    assert sampler.get_invalid_rate() == 0.0 and sampler.get_attempt_invalid_rate() == 0.0
    assert exact.fallback == 0.0 and exact.expected_updates == 6  # depth of the 64-leaf tree


def test_same_seed_same_tokens_and_filters():
    z = synthetic_logits(100)
    a = [TreeSampler(seed=9).sample(z, top_k=40, temperature=0.8) for _ in range(1)]
    s1, s2 = TreeSampler(seed=9), TreeSampler(seed=9)
    assert [s1.sample(z, top_k=40) for _ in range(30)] == [s2.sample(z, top_k=40) for _ in range(30)]
    assert a[0] in np.argsort(-z)[:40]
    assert TreeSampler().sample(z, top_k=1) == int(np.argmax(z))
