"""p-bit attention: the exact expected TV (against enumeration), the tree's draws follow its exact
law (the LUT's), the float draws softmax's, the straight-through gradient is softmax's, the swap
into a GPT-2 (the tiny fixture) and back, bad input."""

import itertools
import math

import numpy as np
import pytest
import torch
from scipy.special import softmax
from scipy.stats import multinomial
from transformers import GPT2LMHeadModel

from pysampler.contract.config import HwConfig
from pysampler.engines.tree import tree_program, tree_token_probs
from pysampler.nn.attention import (PBitAttentionWeights, expected_tv, use_pbit_attention,
                                    use_softmax_attention)

pytestmark = pytest.mark.nn
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("k", [1, 2, 5])
def test_expected_tv_equals_enumeration(k):
    p = np.array([0.5, 0.3, 0.2])
    for q in (p, np.array([0.45, 0.4, 0.15])):
        brute = 0.0
        for counts in itertools.product(range(k + 1), repeat=3):
            if sum(counts) == k:
                tv = 0.5 * np.abs(np.array(counts) / k - p).sum()
                brute += multinomial.pmf(counts, k, q) * tv
        assert expected_tv(q, p, k) == pytest.approx(brute, abs=1e-12)
    assert expected_tv(np.array([0.0, 1.0]), np.array([0.0, 1.0]), 7) == pytest.approx(0.0)


def _causal_scores(rows, t):
    s = RNG.normal(0, 2, (rows, t, t))
    return torch.from_numpy(np.where(np.tri(t, dtype=bool), s, -np.inf))


def test_tree_draws_follow_the_tree_law_and_the_float_draws_softmax():
    scores = _causal_scores(2, 9)
    flat = scores.reshape(-1, 9).numpy()
    tree = PBitAttentionWeights(4096, sampler="tree", seed=1)
    q = tree.law(scores).reshape(-1, 9).numpy()
    for row, qrow in zip(flat, q):
        visible = np.isfinite(row)
        exact = tree_token_probs(tree_program(row[visible], 1.0, HwConfig()))
        assert np.allclose(qrow[visible], exact, rtol=0, atol=1e-15) and qrow[~visible].sum() == 0
    for est, law in ((tree, q), (PBitAttentionWeights(4096, sampler="float", seed=2),
                             softmax(np.where(np.isfinite(flat), flat, -np.inf), axis=1))):
        counts = np.stack([est.counts_numpy(scores.numpy()).reshape(-1, 9) for _ in range(4)])
        assert (counts.sum(axis=2) == 4096).all()
        freq = counts.sum(0) / (4 * 4096)
        sd = np.sqrt(law * (1 - law) / (4 * 4096))
        assert np.all(np.abs(freq - law) <= 5 * sd + 1e-12)
        weights = est(scores)
        assert torch.allclose(weights.sum(-1), torch.ones(2, 9, dtype=torch.float64))
    tv = tree.expected_tv(scores)
    assert tv.shape == (2, 9) and (tv >= 0).all() and tv[:, 0].abs().max() < 1e-12  # one key


def test_expected_tv_falls_like_one_over_root_k():
    scores = _causal_scores(1, 16)
    tv = [PBitAttentionWeights(k, sampler="float").expected_tv(scores)[0, -1].item()
          for k in (256, 4096)]
    assert tv[1] == pytest.approx(tv[0] / 4, rel=0.05)


def test_gradient_is_softmax_attentions():
    scores = _causal_scores(1, 6).requires_grad_(True)
    values = torch.from_numpy(RNG.normal(size=(6, 3)))
    PBitAttentionWeights(8, sampler="tree")(scores).matmul(values).sum().backward()
    reference = scores.detach().clone().requires_grad_(True)
    torch.softmax(reference, -1).matmul(values).sum().backward()
    assert torch.allclose(scores.grad, reference.grad)


def test_swap_into_gpt2_and_back(tiny_lm_folder):
    torch.manual_seed(0)
    model = GPT2LMHeadModel.from_pretrained(tiny_lm_folder, attn_implementation="eager").eval()
    ids = torch.randint(0, model.config.vocab_size, (2, 24))
    mask = torch.ones_like(ids)
    mask[1, :5] = 0                                  # left padding on the second row
    with torch.no_grad():
        base = model(input_ids=ids, attention_mask=mask).logits
        errors = {}
        for k in (1, 4096):
            ests = use_pbit_attention(model, k, sampler="tree", seed=3)
            out = model(input_ids=ids, attention_mask=mask, output_attentions=True)
            errors[k] = (out.logits - base)[1, 5:].abs().mean().item()
            weights = out.attentions[0]
            assert len(ests) == model.config.n_layer
            assert (weights[1, :, 5:, :5] == 0).all()           # padded keys never drawn
            assert (weights[0].triu(1) == 0).all()              # nor future ones
        assert errors[4096] < errors[1] / 4
        use_softmax_attention(model)
        assert torch.equal(model(input_ids=ids, attention_mask=mask).logits, base)
        assert not hasattr(model.transformer.h[0].attn, "pbit_attention")


@pytest.mark.parametrize("call, error, message", [
    (lambda: PBitAttentionWeights(0), ValueError, "num_draws"),
    (lambda: PBitAttentionWeights(4, sampler="gumbel"), ValueError, "sampler"),
    (lambda: PBitAttentionWeights(4)(torch.tensor([[0.0, np.nan]])), ValueError, "NaN"),
    (lambda: PBitAttentionWeights(4)(torch.tensor([[0.0, np.inf]])), ValueError, r"\+inf"),
    (lambda: PBitAttentionWeights(4)(torch.full((1, 3), -np.inf)), ValueError, "no key"),
    (lambda: PBitAttentionWeights(4)(torch.zeros(1, 0)), ValueError, "Tk >= 1"),
    (lambda: PBitAttentionWeights(4)(np.zeros((1, 3))), TypeError, "torch.Tensor"),
    (lambda: PBitAttentionWeights(4, cfg=HwConfig(n_pbits=8))(torch.zeros(1, 9)), ValueError,
     "n_pbits=8"),
    (lambda: expected_tv(np.ones(3) / 3, np.ones(2) / 2, 4), ValueError, "same shape"),
    (lambda: use_pbit_attention(torch.nn.Linear(2, 2)), TypeError, "PreTrainedModel"),
])
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_half_precision_scores_work():
    scores = _causal_scores(1, 5).half()
    weights = PBitAttentionWeights(16, sampler="tree")(scores)
    assert weights.dtype == torch.float16 and math.isclose(weights[0, -1].sum().item(), 1.0,
                                                            rel_tol=1e-3)
