"""ChainPolicy: one frozen, validated value for everything around the p-bit chain."""

import dataclasses

import numpy as np
import pytest

from pysampler import ChainPolicy, GibbsSampler, HardwareSampler, HwConfig
from pysampler.samplers.filtering import reduce_vocab

LOGITS = np.array([0.5, -1.0, 1.2, 0.0, -2.0, 0.3])


def test_defaults_frozen_and_derived():
    p = ChainPolicy()
    assert (p.lam, p.sweeps, p.burn_in, p.init, p.max_resample, p.offset, p.readout,
            p.extra_sweeps, p.adapt) == (2.5, 20, 0, "random_onehot", 3, "max", "restart", 0,
                                         "entropy")
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.sweeps = 3
    q = ChainPolicy(lam=[1.5, 2, 3], burn_in=2, readout="continue", extra_sweeps=4)
    assert q.lam == (1.5, 2.0, 3.0) and q.lam_schedule == (1.5, 2.0, 3.0) and q.readout_lam == 3.0
    assert q.sweeps_per_attempt == 22 and q.continue_sweeps == 4
    assert ChainPolicy(extra_sweeps=4).continue_sweeps == 0  # only "continue" uses them
    assert ChainPolicy(lam=(2.0,)).lam == 2.0


@pytest.mark.parametrize("changes,needle", [
    (dict(lam=0.0), "lam"), (dict(lam=(1.0, -1.0)), r"lam\[1\]"), (dict(sweeps=0), "sweeps"),
    (dict(sweeps=2.5), "sweeps"), (dict(burn_in=-1), "burn_in"), (dict(init="ones"), "init"),
    (dict(max_resample=-1), "max_resample"), (dict(offset="mean"), "offset"),
    (dict(readout="wait"), "readout"), (dict(extra_sweeps=-1), "extra_sweeps"),
    (dict(swepes=3), "unknown ChainPolicy fields"),
])
def test_replace_validates(changes, needle):
    with pytest.raises(ValueError, match=needle):
        ChainPolicy().replace(**changes)


def test_of_skips_none_and_checks_type():
    assert ChainPolicy.of(lam=None, sweeps=None) == ChainPolicy()
    assert ChainPolicy.of(ChainPolicy(lam=3.0), sweeps=7) == ChainPolicy(lam=3.0, sweeps=7)
    with pytest.raises(TypeError, match="ChainPolicy"):
        ChainPolicy.of({"lam": 3.0})


@pytest.mark.parametrize("cls", [GibbsSampler, HardwareSampler])
def test_policy_or_keywords_give_the_same_sampler(cls):
    policy = ChainPolicy(lam=3.0, sweeps=6, init="random_onehot")
    a, b = cls(policy=policy, seed=4), cls(lam=3.0, sweeps=6, init="random_onehot", seed=4)
    assert a.policy == b.policy == policy
    assert [a.sample(LOGITS) for _ in range(30)] == [b.sample(LOGITS) for _ in range(30)]
    c = cls(policy=policy, sweeps=9)  # a keyword overrides one field of the policy
    assert c.sweeps == 9 and c.lam == 3.0 and c.init == "random_onehot"


def test_replace_makes_a_new_sampler_and_leaves_the_old_one():
    hw = HardwareSampler(HwConfig(n_pbits=8), lam=3.0, sweeps=6, seed=2, strict=True)
    longer = hw.replace(sweeps=12)
    assert (longer.sweeps, hw.sweeps) == (12, 6)
    assert longer.cfg == hw.cfg and longer.seed == 2 and longer.strict and longer.lam == 3.0
    kept = reduce_vocab(LOGITS)
    assert hw.law(kept).expected_work < longer.law(kept).expected_work

