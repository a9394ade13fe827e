"""generate's batch path (one :meth:`TokenSampler.draw_batch` call per step, the rows still
generating on their own lanes) against the row-by-row reference (``batch=False``): the same tokens,
per-row counts, kept vocabularies, statistics and lane states, for every registered sampler (the
rtl cores through the bit-accurate model behind the register facade), with every filter, and with
rows that finish at EOS at different steps and leave the batch."""

import numpy as np
import pytest
import torch

from pysampler import ChainPolicy, make_sampler
from pysampler.llm import generate, load_lm
from pysampler.samplers import sampler_kinds

pytestmark = pytest.mark.lm

PROMPTS = ["the quick", "a p-bit", "hardware samples"]
MAX_NEW = 12
#: added to the EOS logit, so that rows draw EOS at different steps (about one in six a step)
EOS_BOOST = 4.0

# the rtl kinds through transport "model" (the register facade over the bit-accurate model): the
# driver's path without a simulator; a simulator (Verilator) draws the same tokens, which
# tests/device checks, and would take minutes here
KINDS = [(kind, {}) for kind in sampler_kinds()] + [
    ("rtl", dict(core=core, transport="model")) for core in ("onehot", "tree", "stream")]
FILTERS = {
    "top_k": dict(top_k=20),
    "top_p_ragged": dict(top_k=60, top_p=0.8),
    "all_filters": dict(temperature=0.8, top_k=50, top_p=0.95, min_p=0.05,
                        repetition_penalty=1.3),
}


@pytest.fixture(scope="module")
def eos_lm(tiny_lm_folder):
    """The tiny GPT-2 with EOS made likely (a hook on the LM head's output)."""
    lm = load_lm(tiny_lm_folder)
    bias = torch.zeros(lm.vocab_size)
    bias[lm.eos_token_id] = EOS_BOOST
    lm.model.lm_head.register_forward_hook(lambda module, inputs, out: out + bias)
    return lm


def _count_batch_rows(sampler):
    """Record the rows of every draw_batch call of ``sampler``."""
    calls = []
    draw = sampler.draw_batch

    def counted(kept, lanes=None):
        calls.append(list(lanes))
        return draw(kept, lanes)

    sampler.draw_batch = counted
    return calls


def _both_paths(lm, prompts, make, **kwargs):
    by_batch, by_row = make(), make()
    calls = _count_batch_rows(by_batch)
    got = generate(lm, prompts, by_batch, batch=True, **kwargs)
    del by_batch.draw_batch  # the spy
    want = generate(lm, prompts, by_row, batch=False, **kwargs)
    assert [r.token_ids for r in got] == [r.token_ids for r in want]
    assert [r.text for r in got] == [r.text for r in want]
    assert [r.invalid_attempts for r in got] == [r.invalid_attempts for r in want]
    assert [r.fallbacks for r in got] == [r.fallbacks for r in want]
    assert by_batch.stats == by_row.stats
    # each row's counts add up to the sampler's
    assert sum(sum(r.invalid_attempts) for r in got) == by_batch.stats.invalid_attempts
    assert sum(sum(r.fallbacks) for r in got) == by_batch.stats.fallbacks
    return got, want, calls, (by_batch, by_row)


# batches of 3 with every filter; a batch of 1 with all filters at once
CASES = [(kind, options, name, 3) for kind, options in KINDS for name in FILTERS] + [
    (kind, options, "all_filters", 1) for kind, options in KINDS]


@pytest.mark.parametrize("kind,options,filters,n_prompts", CASES, ids=[
    f"{k}{'-' + o['core'] if o else ''}-{f}-{n}" for k, o, f, n in CASES])
def test_batch_path_draws_the_row_by_row_tokens(eos_lm, kind, options, filters, n_prompts):
    got, want, calls, samplers = _both_paths(
        eos_lm, PROMPTS[:n_prompts], lambda: make_sampler(kind, seed=2, **options),
        max_new_tokens=MAX_NEW, seed=5, capture_logits=True, **FILTERS[filters])
    lengths = [len(r.token_ids) for r in got]
    # one batch call per step, on the lanes of the rows still generating
    assert calls == [[b for b, n in enumerate(lengths) if n > step]
                     for step in range(max(lengths))]
    for a, b in zip(got, want):
        assert len(a.kept) == len(b.kept) == len(a.token_ids)
        for ka, kb in zip(a.kept, b.kept):
            assert np.array_equal(ka.ids, kb.ids) and np.array_equal(ka.logits, kb.logits)
        assert 0 < a.sampler_ms_per_token <= a.ms_per_token
        assert (a.ms_per_token, a.sampler_ms_per_token) == (got[0].ms_per_token,
                                                            got[0].sampler_ms_per_token)
    if n_prompts == 3:  # what the test is about: rows leave the batch at different steps
        assert len(set(lengths)) > 1 and min(lengths) < MAX_NEW, lengths
    # the lanes ran on alike: the next draws on lanes 0..2 agree
    z = np.random.default_rng(0).normal(0.0, 2.0, (3, 40))
    assert samplers[0].sample_batch(z, top_k=20).tolist() \
        == samplers[1].sample_batch(z, top_k=20).tolist()


@pytest.mark.parametrize("kind", ["gibbs", "hw"])
def test_per_row_invalid_and_fallback_counts_equal_row_by_row(eos_lm, kind):
    """A weak chain (lambda 0.6, 2 sweeps from zeros, no restart) runs invalid attempts and falls
    back: each row's counts per token are the row-by-row ones, rows finishing at different
    steps."""
    policy = ChainPolicy(lam=0.6, sweeps=2, max_resample=0, init="zeros", adapt="none")
    got, _, _, _ = _both_paths(eos_lm, PROMPTS, lambda: make_sampler(kind, policy=policy, seed=3),
                               max_new_tokens=MAX_NEW, top_k=30, top_p=0.9, seed=1)
    assert sum(map(sum, (r.invalid_attempts for r in got))) > 0
    assert sum(map(sum, (r.fallbacks for r in got))) > 0
    assert len({len(r.token_ids) for r in got}) > 1


def test_batch_flag_is_checked(eos_lm):
    with pytest.raises(ValueError, match="batch must be True"):
        generate(eos_lm, "a", make_sampler("softmax"), batch="yes")


#: at GPT-2's vocabulary: the whole-vocabulary samplers on every one of the 50,257 logits, the
#: rest on top-k rows, as the LM loop runs them on build/lm-gpt2
GPT2_VOCAB_CASES = [("stream", dict(top_k=None)), ("gumbel", dict(top_k=None)),
                    ("softmax", dict(top_k=None, top_p=0.9)), ("tree", dict(top_k=50)),
                    ("hw", dict(top_k=50, temperature=0.8))]


@pytest.mark.parametrize("kind,filters", GPT2_VOCAB_CASES,
                         ids=[k for k, _ in GPT2_VOCAB_CASES])
def test_batch_path_at_gpt2s_vocabulary(tiny_gpt2_vocab_lm_folder, kind, filters):
    """The LM on GPT-2's tokenizer (50,257 logits a step): the batch path draws the row-by-row
    tokens, and a whole-vocabulary row keeps all 50,257 ids."""
    lm = load_lm(tiny_gpt2_vocab_lm_folder)
    assert lm.vocab_size == 50257 and lm.eos_token_id == 50256
    got, _, calls, _ = _both_paths(lm, PROMPTS, lambda: make_sampler(kind, seed=4),
                                   max_new_tokens=5, seed=3, capture_logits=True,
                                   stop_at_eos=False, **filters)
    assert calls == [[0, 1, 2]] * 5
    kept = {k.size for r in got for k in r.kept}
    if filters == dict(top_k=None):
        assert kept == {50257}
    elif filters.get("top_k") == 50:
        assert kept == {50}
    tokens = np.concatenate([r.token_ids for r in got])
    assert tokens.min() >= 0 and tokens.max() < 50257 and len(set(tokens.tolist())) > 3
