"""The multi-lane stream: L logits per beat, C = 2L reservoirs folded by a tree of merges. The
format (widths from V, merge levels, draws and clocks), the law against brute force with padded
beats, padding that does not change the law, the batch path, the TV goal at every L and at
today's LLM vocabularies, bad input."""

import itertools

import numpy as np
import pytest
from scipy.special import softmax

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.config import HwConfig
from pysampler.contract.lut import build_lut, lut_address
from pysampler.contract.rng import derive_state, draw_sequence
from pysampler.contract.stream_format import (MAX_STREAM_VOCAB, merge_levels, merge_order,
                                              stream_beats, stream_clocks, stream_draws,
                                              stream_format)
from pysampler.contract.tree_format import logadd_table
from pysampler.engines.stream import (stream_draw, stream_draw_batch, stream_quantize,
                                      stream_quantize_batch, stream_token_probs)
from pysampler.experiments.stream_error import lm_like_row


def test_lanes_set_the_reservoirs_and_the_merge_tree():
    """C = 2L; the first level pairs each lane's two reservoirs (c, c + L), each later level folds
    the upper half of the lanes onto the lower half; C - 1 merges in ceil(log2 C) levels, for any
    L (not only powers of two). L = 1 is the single-lane format exactly."""
    one = stream_format(HwConfig())
    assert (one.lanes, one.reservoirs) == (1, 2) and merge_order(2) == [(0, 1)]
    for lanes in (1, 2, 3, 4, 5, 16, 24, 32, 64):
        fmt = stream_format(HwConfig(), lanes=lanes)
        c = fmt.reservoirs
        assert c == 2 * lanes
        levels = merge_levels(c)
        assert levels[0] == [(i, i + lanes) for i in range(lanes)]
        assert len(levels) == int(np.ceil(np.log2(c)))
        pairs = merge_order(c)
        assert len(pairs) == c - 1
        # a tree: every slot but 0 is merged into a lower slot exactly once, after its own merges
        merged = [j for _, j in pairs]
        assert sorted(merged) == list(range(1, c))
        for n, (i, j) in enumerate(pairs):
            assert i < j and i not in merged[:n] and all(j != m for m in merged[:n])
    assert [len(level) for level in merge_levels(64)] == [32, 16, 8, 4, 2, 1]


def test_draws_and_clocks_per_token():
    """One draw per lane of every beat (a partial last beat's empty lanes included) and per
    merge; ceil(V / L) beats + 2 clocks per merge level + 3."""
    assert stream_draws(50_257, 2, 1) == 50_258 and stream_clocks(50_257, 2, 1) == 50_262
    assert stream_beats(50_257, 16) == 3142
    assert stream_draws(50_257, 32, 16) == 3142 * 16 + 31
    assert stream_clocks(50_257, 32, 16) == 3142 + 2 * 5 + 3
    assert stream_clocks(3, 64, 32) == 1 + 2 * 6 + 3  # a row shorter than L: one beat


def test_widths_derive_from_the_longest_row():
    """Token index and N_ACTIVE widths from max_vocab; the accumulator's integer bits from
    ln(max_vocab); V up to 262,144 (Gemma's 256,000 fits)."""
    small, default = stream_format(HwConfig(), max_vocab=1000), stream_format(HwConfig())
    llama = stream_format(HwConfig(), max_vocab=128_256)
    big = stream_format(HwConfig(), max_vocab=MAX_STREAM_VOCAB)
    assert [f.index_bits for f in (small, default, llama, big)] == [10, 16, 17, 18]
    assert big.max_vocab == 262_144 and big.acc.weight_bits == default.acc.weight_bits == 27
    regmap = big.regmap()
    assert regmap.params.n_pbits == 262_144 and regmap.width(regmap["N_ACTIVE"]) == 19
    assert regmap.accepts("N_ACTIVE", 262_144) and not regmap.accepts("N_ACTIVE", 262_145)
    with pytest.raises(ValueError, match="max_vocab = 128256"):
        stream_quantize(np.zeros(128_257), 1.0, llama)


def _reference(x, n_res, lanes, lut, table, acc, decide):
    """The contract written out plainly, padding included: ``decide(level)`` gives a non-forced
    decision's bit (level: its LUT entry) and is called with None for every forced step and
    every empty lane (each spends a draw); returns the token."""
    def la(a, b):
        return max(a, b) + int(table[min(abs(a - b) >> acc.lut_shift, table.size - 1)])

    masses, held = [0] * n_res, [-1] * n_res
    for k in range(stream_beats(len(x), lanes) * lanes):
        if k >= len(x):  # an empty lane of the last beat
            decide(None)
            continue
        c = k % n_res
        if held[c] < 0:
            held[c], masses[c] = k, int(x[k])
            decide(None)
            continue
        if decide(int(lut[lut_address(int(x[k]) - masses[c], acc)])):
            held[c] = k
        masses[c] = la(masses[c], int(x[k]))
    for i, j in merge_order(n_res):
        if held[j] < 0 or held[i] < 0:
            decide(None)
            if held[i] < 0:
                held[i], masses[i] = held[j], masses[j]
            continue
        if decide(int(lut[lut_address(masses[j] - masses[i], acc)])):
            held[i] = held[j]
        masses[i] = la(masses[i], masses[j])
    return held[0]


@pytest.mark.parametrize("lanes,v", [(2, 3), (3, 4), (3, 5), (2, 1)])
def test_law_equals_brute_force_with_padded_beats(lanes, v):
    """Every pattern of decisions (padding's draws included) weighted by its LUT probabilities,
    on a coarse format: the O(V) law holds when L does not divide V and when V < L."""
    fmt = stream_format(HwConfig(prob_bits=12, rng_bits=16), lanes=lanes, lut_frac_bits=5,
                        acc_guard_bits=3)
    acc = fmt.acc
    lut, table = build_lut(acc), logadd_table(acc)
    row = stream_quantize(np.random.default_rng([v, lanes]).normal(0.0, 1.5, v), 1.0, fmt)
    brute = np.zeros(v)
    for bits in itertools.product((0, 1), repeat=stream_draws(v, fmt.reservoirs, lanes)):
        weight, pos = [1.0], [0]

        def decide(level):
            b = bits[pos[0]]
            pos[0] += 1
            if level is None:
                weight[0] *= 1.0 if b == 0 else 0.0  # a forced step or empty lane counts once
                return 1
            p = level / (1 << acc.prob_bits)
            weight[0] *= p if b else 1.0 - p
            return b

        brute[_reference(row.x, fmt.reservoirs, lanes, lut, table, acc, decide)] += weight[0]
    assert np.allclose(stream_token_probs(row), brute, atol=1e-12)
    assert np.isclose(brute.sum(), 1.0)


@pytest.mark.parametrize("lanes,v", [(4, 301), (3, 2), (16, 1000)])
def test_draw_follows_the_contract_and_spends_the_padding(lanes, v):
    """The model's token and trace against the plain procedure on the real generator; the draws
    of a partial beat's empty lanes are spent (the state after the token)."""
    fmt = stream_format(HwConfig(), lanes=lanes)
    acc = fmt.acc
    lut, table = build_lut(acc), logadd_table(acc)
    row = stream_quantize(np.random.default_rng(v).gumbel(0.0, 2.0, v), 1.0, fmt)
    state = derive_state(7, lanes, acc)
    token, new_state, trace = stream_draw(row, state)
    n_draws = stream_draws(v, fmt.reservoirs, lanes)
    draws, after = draw_sequence(state, acc, n_draws)
    assert new_state == after
    pos, used = [0], []

    def decide(level):
        u = int(draws[pos[0]])
        pos[0] += 1
        if pos[0] <= v or pos[0] > n_draws - fmt.reservoirs + 1:  # logits and merges: traced
            used.append(u)
        return True if level is None else u < level

    assert token == _reference(row.x, fmt.reservoirs, lanes, lut, table, acc, decide)
    assert pos[0] == n_draws and np.array_equal(trace.u, used)


def test_padding_does_not_change_the_law():
    """The exact law depends on C alone, and a row padded to a multiple of L gives the same law
    as with L = 1 (the same C); Monte Carlo with the real generator and padded beats agrees."""
    z = np.random.default_rng(3).gumbel(0.0, 1.0, 10)  # L = 4: beats of 4, 4, 2
    padded = stream_format(HwConfig(), lanes=4)
    single = stream_format(HwConfig(), lanes=1, reservoirs=8)
    law = stream_token_probs(stream_quantize(z, 1.0, padded))
    assert np.array_equal(law, stream_token_probs(stream_quantize(z, 1.0, single)))
    assert total_variation(law, softmax(z)) < 0.002
    n = 20_000
    x, _ = stream_quantize_batch(np.broadcast_to(z, (n, 10)), 1.0, padded)
    states = np.array([derive_state(11, b, padded.acc) for b in range(n)], dtype=np.uint64)
    tokens, _ = stream_draw_batch(x, states, padded)
    tv = total_variation(law, empirical_distribution(tokens, 10))
    assert tv < tv_noise_floor(law, n) + np.sqrt(np.log(1e6) / (2 * n))


def test_batch_equals_row_by_row_with_lanes():
    """Ragged rows (lengths not multiples of L, one shorter than L) in one call."""
    fmt = stream_format(HwConfig(), lanes=5)
    z = np.random.default_rng(4).gumbel(0.0, 2.0, (5, 203))
    lengths = np.array([203, 3, 200, 17, 1])
    x, _ = stream_quantize_batch(z, 1.0, fmt, lengths=lengths)
    states = np.array([derive_state(5, b, fmt.acc) for b in range(5)], dtype=np.uint64)
    tokens, new_states = stream_draw_batch(x, states, fmt, lengths=lengths)
    for b in range(5):
        token, state, _ = stream_draw(stream_quantize(z[b, :lengths[b]], 1.0, fmt),
                                      int(states[b]))
        assert (token, state) == (tokens[b], int(new_states[b]))


@pytest.mark.parametrize("lanes", [1, 4, 16, 32, 64])
def test_tv_goal_at_every_lane_count(lanes):
    """Exact TV < 0.005 at V = 50,257 on flat and LM-like rows, every L (more merges: more
    roundings of M, a few more LSBs)."""
    fmt = stream_format(HwConfig(), lanes=lanes)
    rng = np.random.default_rng(lanes)
    for z in (rng.normal(0.0, 0.3, 50_257), lm_like_row(50_257, 0.8, lanes)):
        assert total_variation(softmax(z), stream_token_probs(stream_quantize(z, 1.0, fmt))) \
            < 0.005


@pytest.mark.parametrize("v,lanes", [(128_256, 1), (262_144, 32)])
def test_tv_goal_at_todays_vocabularies(v, lanes):
    """Llama 3's 128,256 tokens (one lane) and the format's largest row (32 lanes), flat and
    LM-like (docs/stream.md has every L at both)."""
    rng = np.random.default_rng(v)
    fmt = stream_format(HwConfig(), lanes=lanes, max_vocab=v)
    for z in (rng.normal(0.0, 0.3, v), lm_like_row(v, 0.8, 1)):
        assert total_variation(softmax(z), stream_token_probs(stream_quantize(z, 1.0, fmt))) \
            < 0.005
