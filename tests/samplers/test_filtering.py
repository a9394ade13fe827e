import numpy as np
import pytest
from scipy.special import softmax

from pysampler.samplers.filtering import reduce_batch, reduce_vocab


def test_no_filters_keeps_everything_scaled_by_temperature():
    kept = reduce_vocab([1.0, 2.0, 3.0], temperature=2.0)
    assert kept.ids.tolist() == [0, 1, 2] and np.allclose(kept.logits, [0.5, 1.0, 1.5])
    assert np.allclose(kept.target(), softmax([0.5, 1.0, 1.5]))


def test_top_k_keeps_exactly_k_in_id_order():
    kept = reduce_vocab([0.1, 5.0, 3.0, 5.0, -1.0], top_k=2)
    assert kept.ids.tolist() == [1, 3]
    assert reduce_vocab([3.0, 3.0, 3.0], top_k=2).ids.tolist() == [0, 1]  # ties -> lower ids
    assert reduce_vocab([1.0, 2.0], top_k=10).ids.tolist() == [0, 1]


def test_top_p_smallest_set_reaching_mass():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    logits = np.log(p)
    assert reduce_vocab(logits, top_p=0.5).ids.tolist() == [0]
    assert reduce_vocab(logits, top_p=0.6).ids.tolist() == [0, 1]
    assert reduce_vocab(logits, top_p=0.81).ids.tolist() == [0, 1, 2]
    assert reduce_vocab(logits, top_p=1.0).ids.tolist() == [0, 1, 2, 3]
    assert reduce_vocab(logits, top_p=1e-9).ids.tolist() == [0]  # always keeps one


def test_min_p_relative_to_the_top_token():
    p = np.array([0.5, 0.3, 0.15, 0.05])
    assert reduce_vocab(np.log(p), min_p=0.31).ids.tolist() == [0, 1]
    assert reduce_vocab(np.log(p), min_p=0.0).ids.tolist() == [0, 1, 2, 3]


def test_order_temperature_topk_topp_minp():
    logits = np.log(np.array([0.4, 0.3, 0.2, 0.1]))
    # top-k=3 renormalises to (0.444, 0.333, 0.222); top-p=0.7 then keeps two tokens
    assert reduce_vocab(logits, top_k=3, top_p=0.7).ids.tolist() == [0, 1]
    # temperature first: at T=0.1 the top token dominates and top-p keeps it alone
    assert reduce_vocab(logits, temperature=0.1, top_p=0.9).ids.tolist() == [0]
    # min-p after top-p, on the renormalised kept set
    assert reduce_vocab(logits, top_p=0.95, min_p=0.45).ids.tolist() == [0, 1, 2]


@pytest.mark.parametrize("kwargs,needle", [
    (dict(logits=[0.0, np.nan]), "NaN"), (dict(logits=[0.0, np.inf]), r"\+inf"),
    (dict(logits=[-np.inf, -np.inf]), "no finite logit"),
    (dict(logits=[]), "empty"), (dict(logits=[[0.0]]), "1-D"),
    (dict(logits=[0.0], top_k=0), "top_k"), (dict(logits=[0.0], top_k=1.5), "top_k"),
    (dict(logits=[0.0], top_p=0.0), "top_p"), (dict(logits=[0.0], top_p=1.5), "top_p"),
    (dict(logits=[0.0], min_p=1.0), "min_p"), (dict(logits=[0.0], min_p=-0.1), "min_p"),
    (dict(logits=[0.0], temperature=0.0), "temperature"),
    (dict(logits=[0.0], temperature=float("nan")), "temperature"),
])
def test_bad_input(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        reduce_vocab(**kwargs)


def test_minus_inf_excludes_a_token():
    """transformers' processors write -inf for masked tokens: such a token is never kept, and the
    filters work on the rest as if it were not there."""
    z = np.array([1.0, -np.inf, 3.0, 2.0, -np.inf])
    kept = reduce_vocab(z)
    assert kept.ids.tolist() == [0, 2, 3] and np.allclose(kept.target(), softmax([1.0, 3.0, 2.0]))
    assert reduce_vocab(z, top_k=4).ids.tolist() == [0, 2, 3]  # k beyond the finite ones
    assert reduce_vocab(z, top_k=2).ids.tolist() == [2, 3]
    p = softmax([1.0, 3.0, 2.0])
    assert reduce_vocab(z, top_p=p.max() + 1e-9).ids.tolist() == [2, 3]
    assert reduce_vocab(z, min_p=0.3).ids.tolist() == [2, 3]
    assert reduce_vocab([-np.inf, 0.5]).ids.tolist() == [1]


@pytest.mark.parametrize("filters", [dict(), dict(top_k=5), dict(top_p=0.8), dict(min_p=0.1),
                                     dict(temperature=0.7, top_k=9, top_p=0.9, min_p=0.02)])
def test_batch_keeps_what_each_row_keeps(filters):
    rng = np.random.default_rng(4)
    z = rng.normal(0.0, 2.0, (40, 17))
    z[rng.random(z.shape) < 0.1] = -np.inf
    z[:, 3] = np.where(np.isinf(z).all(axis=1), 0.0, z[:, 3])  # every row keeps a finite logit
    z[5] = 1.5  # a row of ties
    batch = reduce_batch(z, **filters)
    for b in range(z.shape[0]):
        kept = reduce_vocab(z[b], **filters)
        assert batch.row(b).ids.tolist() == kept.ids.tolist()
        assert np.array_equal(batch.row(b).logits, kept.logits)
    logits, ids = batch.compact()
    for b in range(z.shape[0]):
        k = batch.sizes[b]
        assert ids[b, :k].tolist() == batch.row(b).ids.tolist() and (ids[b, k:] == -1).all()
        assert np.array_equal(logits[b, :k], batch.row(b).logits)
    with pytest.raises(ValueError, match="2-D"):
        reduce_batch(z[0])
    with pytest.raises(ValueError, match="row 1 has no finite logit"):
        reduce_batch([[0.0, 1.0], [-np.inf, -np.inf]])


def _sorted_reference(logits, mask, top_k=None, top_p=None):
    """top-k and top-p by a full stable sort of each row (the definition)."""
    from pysampler.samplers.filtering import _masked_softmax

    z = np.asarray(logits, dtype=np.float64)
    mask = mask.copy()
    rows = np.arange(z.shape[0])[:, None]
    if top_k is not None:
        order = np.argsort(np.where(mask, -z, np.inf), axis=1, kind="stable")[:, :top_k]
        keep = np.zeros_like(mask)
        keep[rows, order] = True
        mask &= keep
    if top_p is not None:
        probs = _masked_softmax(z, mask)
        order = np.argsort(np.where(mask, -probs, np.inf), axis=1, kind="stable")
        sorted_probs = probs[rows, order]
        keep = np.zeros_like(mask)
        keep[rows, order] = np.cumsum(sorted_probs, axis=1) - sorted_probs < top_p
        mask &= keep
    return mask


@pytest.mark.parametrize("candidates", [2, 8, 1024])
def test_partition_filters_equal_the_full_sort(monkeypatch, candidates):
    """top-k by a partition and top-p through a candidate cut keep exactly what a full stable
    sort keeps: rows with many ties (logits on a coarse grid), -inf entries, flat and peaked rows,
    nuclei inside and past the candidates."""
    from pysampler.samplers import filtering

    monkeypatch.setattr(filtering, "TOP_P_CANDIDATES", candidates)
    rng = np.random.default_rng(11)
    for vocab in (1, 5, 40, 3000):
        scale = rng.choice([0.05, 1.0, 6.0], (24, 1))
        z = np.round(rng.normal(0, scale, (24, vocab)) * 4) / 4       # ties everywhere
        z[rng.random((24, vocab)) < 0.2] = -np.inf
        z[np.arange(24), rng.integers(vocab, size=24)] = 0.0          # a finite logit per row
        finite = np.isfinite(z)
        for k in (1, 3, 50):
            got = reduce_batch(z, top_k=k).mask
            assert np.array_equal(got, _sorted_reference(z, finite, top_k=k)), (vocab, k)
        for p in (0.05, 0.5, 0.9, 0.999):
            got = reduce_batch(z, top_p=p).mask
            assert np.array_equal(got, _sorted_reference(z, finite, top_p=p)), (vocab, p)
        got = reduce_batch(z, top_k=7, top_p=0.8).mask
        assert np.array_equal(got, _sorted_reference(z, finite, top_k=7, top_p=0.8))
