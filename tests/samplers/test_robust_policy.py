"""The entropy-robust chain policy: its derivation, that draws and the exact law both run the
per-row program, and the goal on the benchmark rows with V <= 64."""

import itertools

import numpy as np
import pytest

from pysampler import HwConfig
from pysampler.analysis.exact import score_law
from pysampler.contract.program import shift_logits
from pysampler.experiments.rows import gaussian_row, select_rows, synthetic_rows
from pysampler.samplers import ChainPolicy, make_sampler
from pysampler.samplers.filtering import reduce_vocab
from pysampler.samplers.policy import (ADAPT_MAX_RATIO, LEGACY, ROBUST, invalid_ratios,
                                       lambda_phase)


def test_policies_and_validation():
    assert ROBUST == ChainPolicy() and LEGACY.adapt == "none" and LEGACY.init == "zeros"
    assert ROBUST.adapt == "entropy" and ROBUST.init == "random_onehot"
    assert (ROBUST.lam, ROBUST.sweeps, ROBUST.readout) == (2.5, 20, "restart")
    with pytest.raises(ValueError, match="adapt"):
        ChainPolicy(adapt="sometimes")
    z = np.random.default_rng(0).normal(0, 1, 16)
    assert LEGACY.for_row(z) is LEGACY


@pytest.mark.parametrize("scale", [0.1, 1.0, 3.0, 8.0])
def test_invalid_ratios_match_enumeration(scale):
    """exp(lam) * (mass of states with 0 or 2 units on) / (one-hot mass), brute force."""
    z = np.random.default_rng(1).normal(0, scale, 7)
    lam = 2.5
    by_max, least = invalid_ratios(z)
    for offset, expected in (("max", by_max), ("min_invalid", least)):
        x = shift_logits(z, 1.0, offset)
        valid = np.exp(x + lam).sum()  # h = x + lam, J = -2 lam: E(onehot k) = -(x_k + lam)
        invalid = 1.0 + sum(np.exp(x[j] + x[k]) for j, k in itertools.combinations(range(7), 2))
        assert np.exp(lam) * invalid / valid == pytest.approx(expected, rel=1e-9)
    assert least <= by_max + 1e-12 and least < np.sqrt(2)


def test_for_row_picks_the_shift_and_a_sub_lsb_phase():
    cfg = HwConfig()
    flat, peaked = gaussian_row(32, 0.995).logits, gaussian_row(32, 0.25).logits
    assert ROBUST.for_row(flat).offset == "min_invalid"      # shift by max: V/2 times the mass
    by_max, least = invalid_ratios(peaked)
    assert by_max <= ADAPT_MAX_RATIO * least and ROBUST.for_row(peaked).offset == "max"
    for z in (flat, peaked):
        row = ROBUST.for_row(z, cfg)
        assert row.adapt == "none" and abs(row.lam - ROBUST.lam) <= cfg.lsb / 2
        assert ROBUST.for_row(z).lam == ROBUST.lam           # float: no phase
        d = lambda_phase(shift_logits(z, 1.0, row.offset), ROBUST.lam, cfg)
        assert row.lam == pytest.approx(ROBUST.lam + d)


def test_for_rows_is_for_row_on_every_row():
    """The batch choice (one call over B rows) is the per-row choice, row by row, float and
    fixed point, flat and peaked rows."""
    cfg = HwConfig()
    rows = np.stack([gaussian_row(24, f).logits for f in np.linspace(0.05, 0.995, 12)])
    for c in (None, cfg):
        chosen = ROBUST.for_rows(rows, c)
        assert set(chosen.offsets) == {"max", "min_invalid"}
        for b, z in enumerate(rows):
            one = ROBUST.for_row(z, c)
            assert one.offset == chosen.offsets[b]
            assert one.lam_schedule == tuple(chosen.lams[b])
    legacy = LEGACY.for_rows(rows, cfg)
    assert set(legacy.offsets) == {"max"} and (legacy.lams == LEGACY.lam).all()
    with pytest.raises(ValueError, match="2-D"):
        ROBUST.for_rows(rows[0])


def test_draws_and_law_run_the_row_program():
    cfg = HwConfig()
    kept = reduce_vocab(gaussian_row(16, 0.95).logits)
    robust = make_sampler("hw", cfg, ROBUST, seed=5)
    row_policy = robust.policy_for(kept)
    plain = make_sampler("hw", cfg, row_policy, seed=5)
    assert robust.program_for(kept).lam == row_policy.readout_lam
    assert np.allclose(robust.law(kept).probs, plain.law(kept).probs)
    assert [robust.sample_kept(kept) for _ in range(50)] == \
        [plain.sample_kept(kept) for _ in range(50)]
    rows = np.stack([gaussian_row(16, f).logits for f in (0.1, 0.55, 0.995)])
    batch = make_sampler("hw", cfg, ROBUST, seed=2).sample_batch(rows)
    single = make_sampler("hw", cfg, ROBUST, seed=2)
    assert list(batch) == [single.sample_kept(reduce_vocab(r), b) for b, r in enumerate(rows)]


def test_the_issues_near_uniform_row():
    """V = 32, entropy 3.45 of 3.47 nats: the old defaults miss, the robust policy meets."""
    kept = reduce_vocab(gaussian_row(32, 0.995).logits)
    old = score_law(kept, make_sampler("hw", HwConfig(), LEGACY).law(kept))
    new = score_law(kept, make_sampler("hw", HwConfig(), ROBUST).law(kept))
    assert old.tv > 0.03 and old.fallback > 0.01
    assert new.tv < 0.01 and new.fallback < 1e-3 and new.expected_updates <= 40 * 32


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["hw", "gibbs"])
def test_goal_on_every_synthetic_benchmark_row_up_to_64_tokens(kind):
    """Exact TV < 0.01, fallback < 0.1%, at most 40 V updates per token, default HwConfig."""
    rows = select_rows(synthetic_rows(vocab_sizes=(8, 16, 32, 64)), max_vocab=64)
    assert len(rows) >= 36
    sampler = make_sampler(kind, HwConfig(), ROBUST)
    for row in rows:
        r = score_law(row.kept, sampler.law(row.kept))
        assert r.tv + r.truncation_bound < 0.01, row.name
        assert r.fallback < 1e-3 and r.expected_updates <= 40 * row.vocab_size, row.name


def test_dominant_token_rows_stay_finite_and_unsaturated():
    """One logit far above the rest: the min_invalid shift is finite (no cancellation in S2) and
    the robust policy does not saturate h where the shift by max would not."""
    from pysampler.contract.program import shift_rows

    rows = np.array([[0.0, -100.0, -101.0], [0.0, -30.0, -30.0], [5.0, -1000.0, 4.0]])
    shifted = shift_rows(rows, "min_invalid")
    assert np.isfinite(shifted).all()
    assert shifted[0, 0] == pytest.approx((100.0 - np.log1p(np.exp(-1.0))) / 2, rel=1e-12)
    cfg = HwConfig()
    chosen = ROBUST.for_rows(rows, cfg)
    assert chosen.offsets[0] == "max"                         # min_invalid would put h at +52
    for b, z in enumerate(rows):
        policy = ROBUST.for_row(z, cfg)
        top = shift_rows(z[None], policy.offset)[0].max() + policy.readout_lam
        assert top <= cfg.weight_max * cfg.lsb
    sampler = make_sampler("hw", cfg, ROBUST, seed=1)
    assert sampler.sample(rows[0]) == 0 and sampler.stats.saturated_tokens == 1  # -100: low end
