import numpy as np
import pytest
from scipy.special import softmax

from pysampler.samplers.filtering import reduce_vocab


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
    (dict(logits=[0.0, np.nan]), "NaN"), (dict(logits=[0.0, -np.inf]), "inf"),
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
