"""Property-based suite of the exact evaluator (hypothesis; see tests/strategies.py): for every
registered sampler, configuration and chain policy, on generated rows and filters, the law it
states is a distribution over the kept tokens (fallback mass included) scored against the softmax
of the kept logits, or the call is refused naming what was wrong."""

import numpy as np
from hypothesis import given, strategies as st

from pysampler import ChainPolicy, exact_token_distribution, make_sampler, sampler_kinds
from pysampler.samplers.filtering import reduce_vocab
from tests.strategies import (SAMPLER_CONFIGS, filters, logit_rows, no_hang, policy_fields,
                              raises_named)


@given(kind=st.sampled_from(sampler_kinds()), cfg=st.sampled_from(SAMPLER_CONFIGS),
       row=logit_rows(sizes=st.integers(1, 12)), chosen=filters(),
       policy=policy_fields(bad=False))
def test_exact_law_is_a_distribution_scored_against_softmax(kind, cfg, row, chosen, policy):
    sampler = make_sampler(kind, cfg, ChainPolicy(**policy), seed=1)
    with no_hang():
        try:
            result = exact_token_distribution(sampler, row, **chosen)
        except (ValueError, TypeError) as err:
            raises_named(err, ("logits", "temperature", "top_k", "top_p", "min_p"))
            return
    kept = reduce_vocab(row, **chosen)
    assert result.token_ids.tolist() == kept.ids.tolist()
    for probs in (result.probs, result.target):
        assert probs.shape == (kept.size,) and (probs >= 0).all()
        assert abs(probs.sum() - 1.0) < 1e-9
    np.testing.assert_allclose(result.target, kept.target(), rtol=1e-12, atol=1e-15)
    assert 0.0 <= result.tv <= 1.0 and result.kl >= 0.0
    assert 0.0 <= result.fallback <= 1.0 and 0.0 <= result.invalid_per_attempt <= 1.0
    assert result.expected_attempts >= 1.0 and result.truncation_bound >= 0.0
