"""Logit offset that minimises the invalid mass, and the "continue" read-out policy."""

import itertools

import numpy as np
import pytest

from pysampler import GibbsSampler, HardwareSampler, HwConfig
from pysampler.analysis.exact import exact_token_distribution
from pysampler.samplers.policy import LEGACY
from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.program import min_invalid_offset, onehot_program, shift_logits
from pysampler.engines.reference import onehot_energy

LOGITS = np.array([0.5, -1.0, 1.2, 0.0, -2.0, 0.3])


def _stationary_invalid(z, lam, beta=1.0):
    states = np.array(list(itertools.product([0, 1], repeat=z.size)))
    w = np.exp(-beta * onehot_energy(states, z, lam))
    return w[states.sum(1) != 1].sum() / w.sum()


@pytest.mark.parametrize("lam,beta", [(3.0, 1.0), (4.0, 1.0), (2.5, 1.5)])
def test_offset_minimises_the_stationary_invalid_mass(lam, beta):
    """Brute force over all 2^V states: the derived shift sits at the minimum of the exact
    invalid mass over a fine grid of shifts (states with 3+ units on, ignored by the derivation,
    move it by far less than the grid step here)."""
    z = LOGITS - LOGITS.max()
    c_star = min_invalid_offset(z, beta)
    grid = c_star + np.linspace(-2, 2, 401)
    invalid = [_stationary_invalid(z + c, lam, beta) for c in grid]
    assert abs(grid[int(np.argmin(invalid))] - c_star) <= 0.02
    assert _stationary_invalid(z + c_star, lam, beta) < _stationary_invalid(z, lam, beta)


def test_offset_keeps_softmax_and_validates():
    z = shift_logits(LOGITS, 0.5, "min_invalid")
    target = np.exp(2 * LOGITS) / np.exp(2 * LOGITS).sum()
    assert np.allclose(np.exp(z) / np.exp(z).sum(), target)
    assert shift_logits([1.0], offset="min_invalid").tolist() == [0.0]  # one logit: by max
    with pytest.raises(ValueError, match="offset"):
        shift_logits(LOGITS, offset="mean")
    with pytest.raises(ValueError, match="offset"):
        GibbsSampler(offset="mean")
    with pytest.raises(ValueError, match="readout"):
        HardwareSampler(readout="wait")
    with pytest.raises(ValueError, match="extra_sweeps"):
        GibbsSampler(extra_sweeps=-1)
    p = onehot_program(LOGITS, 3.0, 1.0, HwConfig(), offset="min_invalid")
    assert np.allclose(p.logits, LOGITS + min_invalid_offset(LOGITS))


def test_offset_lowers_invalid_rate_at_high_lambda():
    for sampler_cls in (GibbsSampler, HardwareSampler):
        fixed = dict(policy=LEGACY, lam=4.0, sweeps=80)  # the shift as given, not per row
        by_max = exact_token_distribution(sampler_cls(**fixed), LOGITS)
        by_min = exact_token_distribution(sampler_cls(**fixed, offset="min_invalid"), LOGITS)
        assert by_min.invalid_per_attempt < by_max.invalid_per_attempt


def _tolerance(p, n):
    return tv_noise_floor(p, n) + np.sqrt(np.log(1e6) / (2 * n))


@pytest.mark.slow
@pytest.mark.parametrize("make", [
    lambda: GibbsSampler(lam=1.0, sweeps=2, readout="continue", extra_sweeps=4, max_resample=1,
                         seed=4),
    lambda: HardwareSampler(lam=1.0, sweeps=2, readout="continue", extra_sweeps=4, max_resample=1,
                            seed=4),
])
def test_continue_readout_exact_matches_monte_carlo(make):
    """Token law and expected updates per token of the continue policy, exact vs 20,000 tokens.
    Updates per token lie in [2 V, 2 (2 + 4) V], so their mean has a standard error below
    12 V / (2 sqrt(N)); the test allows 4 of those."""
    sampler = make()
    exact = exact_token_distribution(sampler, LOGITS)
    restart = exact_token_distribution(
        type(sampler)(lam=1.0, sweeps=2, max_resample=1), LOGITS)
    assert exact.fallback < restart.fallback  # continuing rescues invalid read-outs
    n = 20_000
    draws = [sampler.sample(LOGITS) for _ in range(n)]
    assert total_variation(exact.probs, empirical_distribution(draws, 6)) < _tolerance(exact.probs, n)
    mean_updates = sampler.stats.updates / n
    assert abs(mean_updates - exact.expected_updates) < 4 * 12 * 6 / (2 * np.sqrt(n))


def test_frontier_rows_equal_the_evaluator(tmp_path):
    """Every frontier row (the one-propagation restart path, the continue policy, the ramped
    schedule, the tree) gives exactly what exact_token_distribution says for that sampler."""
    from pysampler.experiments.frontier import TREE, frontier, pareto, ramp, write_frontier
    from pysampler import TreeSampler
    from pysampler.contract.tree_format import tree_clocks

    sets = {"t": LOGITS}
    variants = {"robust": dict(init="random_onehot", adapt="entropy"),
                "restart": dict(readout="restart", offset="max"),
                "continue": dict(readout="continue", extra_sweeps=3, offset="max"),
                "ramp": dict(readout="restart", offset="max", ramp=True)}
    rows = frontier(sets, lams=(2.0,), sweeps_grid=(3, 7), variants=variants, progress=False)
    assert len(rows) == 2 * 4 * 2 + 1
    for r in rows:
        if r.variant == TREE:
            exact = exact_token_distribution(TreeSampler(HwConfig(n_pbits=6)), LOGITS)
            assert r.rtl_cycles_per_token == 6 + tree_clocks(6) == 6 + 8 + 9 + 1
        else:
            kwargs = dict(variants[r.variant], sweeps=r.sweeps, policy=LEGACY)
            kwargs["lam"] = ramp(r.lam) if kwargs.pop("ramp", False) else r.lam
            sampler = GibbsSampler(**kwargs) if r.sampler == "float" else HardwareSampler(**kwargs)
            exact = exact_token_distribution(sampler, LOGITS)
            assert r.rtl_cycles_per_token > r.updates_per_token
        assert r.tv == pytest.approx(exact.tv, abs=1e-12)
        assert r.updates_per_token == pytest.approx(exact.expected_updates)
    assert ramp(2.0) == pytest.approx(tuple(np.linspace(1.5, 2.0, 8)))
    front = pareto(rows)
    assert all(a.updates_per_token <= b.updates_per_token and a.tv > b.tv
               for a, b in zip(front, front[1:]))
    paths = write_frontier(rows, tmp_path, "# t")
    assert {p.name for p in paths} == {"frontier.csv", "frontier.md", "frontier.png"}
    text = (tmp_path / "frontier.md").read_text()
    assert "Goal check" in text and "Tree sampler" in text
