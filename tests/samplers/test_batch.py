"""The batch path (filters over (B, V), vectorised draws) gives exactly the tokens, lane states and
statistics of the per-row path, for every sampler, policy and filter."""

import numpy as np
import pytest

from pysampler import ChainPolicy, HwConfig, make_sampler
from pysampler.samplers import sampler_kinds
from pysampler.samplers.filtering import reduce_vocab

FILTERS = [dict(), dict(top_k=16), dict(top_p=0.9), dict(temperature=1.5, top_k=30, min_p=0.02)]
POLICIES = [ChainPolicy(), ChainPolicy(lam=1.2, sweeps=3, max_resample=2),
            ChainPolicy(lam=(1.0, 2.0), sweeps=4, init="random_onehot", readout="continue",
                        extra_sweeps=3),
            ChainPolicy(lam=4.0, sweeps=5, offset="min_invalid")]


def _rows(seed, n_rows=60, vocab=40):
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, rng.choice([0.3, 2.0, 5.0], (n_rows, 1)), (n_rows, vocab))
    z[rng.random(z.shape) < 0.05] = -np.inf  # masked tokens, as transformers writes them
    z[:, 0] = np.where(np.isinf(z).all(axis=1), 0.0, z[:, 0])
    return z


@pytest.mark.parametrize("filters", FILTERS)
@pytest.mark.parametrize("kind", ["softmax", "gibbs", "hw", "tree"])
def test_batch_equals_rows(kind, filters):
    cfg = HwConfig()
    policy = POLICIES[len(str(filters)) % len(POLICIES)]
    batch = make_sampler(kind, cfg, policy, seed=7)
    rows = make_sampler(kind, cfg, policy, seed=7)
    for call in range(2):  # the second call goes on from the lanes' generator states
        z = _rows(call)
        got = batch.sample_batch(z, **filters)
        want = [rows.sample_kept(reduce_vocab(z[b], **filters), b) for b in range(z.shape[0])]
        assert got.tolist() == want
        assert batch.stats == rows.stats


@pytest.mark.parametrize("policy", POLICIES)
def test_hardware_batch_equals_rows_for_every_policy(policy):
    batch = make_sampler("hw", HwConfig(n_pbits=32), policy, seed=3)
    rows = make_sampler("hw", HwConfig(n_pbits=32), policy, seed=3)
    z = _rows(5, n_rows=80, vocab=32)
    got = batch.sample_batch(z, top_p=0.95)
    want = [rows.sample_kept(reduce_vocab(z[b], top_p=0.95), b) for b in range(z.shape[0])]
    assert got.tolist() == want and batch.stats == rows.stats
    assert batch.sample(z[3]) == rows.sample(z[3])  # lane 0 shared by both paths


def test_batch_errors_and_torch():
    import torch

    tree = make_sampler("tree", HwConfig(n_pbits=16))
    with pytest.raises(ValueError, match="top_k <= 16"):
        tree.sample_batch(np.zeros((2, 20)))
    with pytest.raises(ValueError, match="row 1 has no finite logit"):
        tree.sample_batch(np.array([[0.0, 1.0], [-np.inf, -np.inf]]))
    out = tree.sample_batch(torch.zeros(3, 8))
    assert isinstance(out, torch.Tensor) and out.shape == (3,)
    assert set(sampler_kinds()) >= {"softmax", "gibbs", "hw", "tree"}
