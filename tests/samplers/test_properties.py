"""Property-based suite of the token samplers and the filters (hypothesis; see tests/strategies.py).

For every registered sampler, on generated rows (float16/32/64; NaN, +-inf, huge, tiny, denormal
values; sizes 0, 1, 2 and at and past every configuration's capacity), filters at and past their
bounds, chain policies and configurations (gains, widths, generators):

* ``sample`` returns an int id among the tokens the filters keep, never a masked one, or raises
  ValueError / TypeError naming what was wrong, and never hangs;
* ``sample_batch`` returns exactly the tokens, and leaves the statistics, of drawing row b on
  lane b row by row, or both refuse;
* every valid HwConfig builds every sampler, which then draws, or is refused when it is built with
  an error naming the parameter (a tiny gain once hung the tree and the stream here).
"""

import numpy as np
import pytest
from hypothesis import given, strategies as st

from pysampler import ChainPolicy, make_sampler, sampler_kinds
from pysampler.samplers.filtering import reduce_vocab
from tests.strategies import (SAMPLER_CONFIGS, filters, hw_configs, logit_batches, logit_rows,
                              no_hang, policy_fields, raises_named)

KINDS = sampler_kinds()
ROW_NAMES = ("logits", "temperature", "top_k", "top_p", "min_p")
SEEDS = st.integers(0, 2**64 - 1)


@given(kind=st.sampled_from(KINDS), cfg=st.sampled_from(SAMPLER_CONFIGS), row=logit_rows(),
       chosen=filters(), policy=policy_fields(bad=False), seed=SEEDS)
def test_sample_returns_a_kept_token_or_refuses_clearly(kind, cfg, row, chosen, policy, seed):
    sampler = make_sampler(kind, cfg, ChainPolicy(**policy), seed=seed)
    try:
        kept = reduce_vocab(row, **chosen)
    except (ValueError, TypeError) as err:
        raises_named(err, ROW_NAMES)
        kept = None
    with no_hang():
        try:
            token = sampler.sample(row, **chosen)
        except Exception as err:  # noqa: BLE001: the property is about what is raised
            raises_named(err, ROW_NAMES)
            # the filters accept what the sampler refuses only past its capacity
            assert kept is None or (sampler.max_kept is not None
                                    and kept.size > sampler.max_kept), err
            return
    assert kept is not None, "the sampler drew from input the filters refuse"
    assert type(token) is int and token in kept.ids
    assert np.isfinite(np.asarray(row, dtype=np.float64)[token])


@given(kind=st.sampled_from(KINDS), cfg=st.sampled_from(SAMPLER_CONFIGS),
       batch=logit_batches(specials=True), chosen=filters(bad=False),
       policy=policy_fields(bad=False), seed=SEEDS)
def test_batch_path_draws_what_the_rows_draw(kind, cfg, batch, chosen, policy, seed):
    by_batch, by_row = (make_sampler(kind, cfg, ChainPolicy(**policy), seed=seed)
                        for _ in range(2))
    with no_hang():
        try:
            tokens = by_batch.sample_batch(batch, **chosen)
        except ValueError as err:
            raises_named(err, ROW_NAMES)
            with pytest.raises(ValueError):
                for b in range(batch.shape[0]):
                    by_row.sample_kept(reduce_vocab(batch[b], **chosen), b)
            return
        rows = [by_row.sample_kept(reduce_vocab(batch[b], **chosen), b)
                for b in range(batch.shape[0])]
    assert tokens.dtype == np.int64 and tokens.shape == (batch.shape[0],)
    assert tokens.tolist() == rows
    assert by_batch.stats == by_row.stats


@given(kind=st.sampled_from(KINDS), cfg=hw_configs(), seed=SEEDS,
       row=logit_rows(specials=False, sizes=st.integers(1, 8)))
def test_every_config_builds_every_sampler_or_names_why_not(kind, cfg, seed, row):
    with no_hang():
        try:
            sampler = make_sampler(kind, cfg, ChainPolicy(sweeps=2), seed=seed)
        except ValueError as err:  # a derived format that cannot exist for this configuration
            raises_named(err, ("HwConfig.", "beta", "guard_bits", "frac_bits", "prob_bits",
                               "weight_bits"))
            return
        row = row[:sampler.max_kept]
        assert sampler.sample(row) in range(row.size)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("logits", [None, "abc", ["1", "x"], [[1.0, 2.0], [3.0]], {"a": 1.0},
                                    np.zeros((2, 3)), 1.5])
def test_what_is_not_a_row_of_numbers_is_refused_naming_the_logits(kind, logits):
    with pytest.raises(ValueError, match="logits"):
        make_sampler(kind, seed=1).sample(logits)
