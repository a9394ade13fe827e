"""The batch path (filters over (B, V), vectorised draws) gives exactly the tokens, lane states and
statistics of the per-row path, for every sampler, policy and filter."""

import numpy as np
import pytest

from pysampler import ChainPolicy, HwConfig, make_sampler
from pysampler.samplers import sampler_kinds
from pysampler.samplers.filtering import reduce_batch, reduce_vocab
from pysampler.samplers.gibbs import GibbsSampler

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


GIBBS_POLICIES = {
    "default": ChainPolicy(),
    "restarts_and_fallbacks": ChainPolicy(lam=0.6, sweeps=2, max_resample=2, init="zeros",
                                          adapt="none"),
    "continue_with_schedule": ChainPolicy(lam=(0.4, 0.7, 1.0), sweeps=3, readout="continue",
                                          extra_sweeps=3, max_resample=1),
    "continue_min_invalid": ChainPolicy(lam=0.8, sweeps=2, offset="min_invalid", adapt="none",
                                        readout="continue", extra_sweeps=2, init="zeros"),
}


def _lane_states(sampler, n_rows):
    return [sampler._rngs.stream(sampler.seed, b).bit_generator.state for b in range(n_rows)]


@pytest.mark.parametrize("scan", ["systematic", "random"])
@pytest.mark.parametrize("name", list(GIBBS_POLICIES))
def test_gibbs_batch_equals_rows_tokens_states_and_stats(name, scan):
    """The vectorised float Gibbs batch (rows of mixed kept sizes, one kernel call per size and
    attempt) against row by row: the same tokens, generator states and statistics, over restarts,
    fallbacks, continued read-outs, a lambda schedule, both scans and both starts."""
    policy = GIBBS_POLICIES[name]
    batch = GibbsSampler(policy=policy, scan=scan, seed=5)
    rows = GibbsSampler(policy=policy, scan=scan, seed=5)
    continued = []
    run = rows._run

    def counted_run(kept, lane, chain, sweeps):
        continued.append(chain is not None)
        return run(kept, lane, chain, sweeps)

    rows._run = counted_run
    filters = [dict(top_p=0.9), dict(top_k=12, temperature=0.8)]
    for call, f in enumerate(filters):  # the second call goes on from the lanes' generators
        z = _rows(10 + call, n_rows=70, vocab=24)
        assert np.unique(reduce_batch(z, **f).sizes).size > 1 or "top_k" in f
        got = batch.sample_batch(z, **f)
        want = [rows.sample_kept(reduce_vocab(z[b], **f), b) for b in range(z.shape[0])]
        assert got.tolist() == want
        assert batch.stats == rows.stats
        assert _lane_states(batch, z.shape[0]) == _lane_states(rows, z.shape[0])
    assert batch.sample(z[3]) == rows.sample(z[3])  # lane 0 shared by both paths
    assert batch.stats == rows.stats
    if name == "restarts_and_fallbacks":
        assert rows.stats.invalid_attempts > 0 and rows.stats.fallbacks > 0
    if name.startswith("continue"):
        assert any(continued)


def test_gibbs_batch_takes_the_vectorised_path():
    sampler = GibbsSampler(seed=1)

    def per_row(kept, lane):
        raise AssertionError("row-by-row draw in the batch path")

    sampler._draw_kept = per_row
    z = _rows(3, n_rows=16, vocab=40)
    assert sampler.sample_batch(z, top_p=0.95).shape == (16,)
    assert sampler.stats.tokens == 16 and sampler.stats.updates > 0


@pytest.mark.parametrize("kind", sampler_kinds())
def test_draw_batch_on_given_lanes_equals_rows_with_their_counts(kind):
    """draw_batch on lanes (5, 0, 3) (what generate passes once rows have finished): the tokens,
    per-row invalid attempts and fallbacks, and statistics of sample_kept(row r, lanes[r]) in
    order; lanes left out are not touched."""
    policy = GIBBS_POLICIES["restarts_and_fallbacks"]
    batch, rows = (make_sampler(kind, HwConfig(), policy, seed=4) for _ in range(2))
    lanes = np.array([5, 0, 3])
    for call in range(3):  # later calls go on from the lanes' states
        kept = reduce_batch(_rows(20 + call, n_rows=3, vocab=40), top_p=0.9)
        draw = batch.draw_batch(kept, lanes)
        want, invalid, fallbacks = [], [], []
        for r, lane in enumerate(lanes):
            before = (rows.stats.invalid_attempts, rows.stats.fallbacks)
            want.append(rows.sample_kept(kept.row(r), int(lane)))
            invalid.append(rows.stats.invalid_attempts - before[0])
            fallbacks.append(rows.stats.fallbacks - before[1])
        assert draw.token_ids.tolist() == want
        assert draw.invalid_attempts.tolist() == invalid and draw.fallbacks.tolist() == fallbacks
        assert batch.stats == rows.stats
    if batch.policy is not None:
        assert batch.stats.invalid_attempts > 0 and batch.stats.fallbacks > 0
    one = reduce_batch(_rows(30, n_rows=1, vocab=40), top_k=16).row(0)
    fresh = make_sampler(kind, HwConfig(), policy, seed=4)
    for lane in (1, 2, 4):  # lanes left out start where a fresh sampler's do
        assert batch.sample_kept(one, lane) == fresh.sample_kept(one, lane)
    assert batch.sample_kept(one, 5) == rows.sample_kept(one, 5)  # lane 5 runs on alike
    empty = batch.draw_batch(reduce_batch(np.zeros((0, 4))), [])
    assert empty.token_ids.shape == (0,) and empty.fallbacks.shape == (0,)


@pytest.mark.parametrize("lanes,needle", [([0, 0, 1], "distinct"), ([0, -1, 2], "distinct"),
                                          ([0, 1], "3 integers"), ([0.0, 1.0, 2.0], "3 integers"),
                                          ([[0, 1, 2]], "3 integers")])
def test_draw_batch_refuses_bad_lanes(lanes, needle):
    sampler = make_sampler("softmax", seed=1)
    with pytest.raises(ValueError, match=f"lanes must be .*{needle}"):
        sampler.draw_batch(reduce_batch(np.zeros((3, 4))), lanes)
    assert sampler.stats.tokens == 0
