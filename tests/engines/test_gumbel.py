"""Fixed-point Gumbel-max: its exact law (ties included) against brute force and Monte Carlo, the
batch path, and the table."""

import itertools

import numpy as np
import pytest
from scipy.special import softmax

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.config import HwConfig
from pysampler.contract.rng import derive_state, draw_sequence
from pysampler.contract.stream_format import gumbel_table, stream_format
from pysampler.engines.gumbel import gumbel_draw, gumbel_draw_batch, gumbel_token_probs
from pysampler.engines.stream import stream_quantize

# a coarse format: 1 fractional bit, a 32-entry table: ties between scores are frequent
COARSE = stream_format(HwConfig(weight_bits=6, frac_bits=1, prob_bits=12, rng_bits=16),
                       guard_bits=0, lut_frac_bits=0, acc_guard_bits=2)
FMT = stream_format(HwConfig())


def test_table():
    table = gumbel_table(FMT)
    assert table.size == 1 << FMT.acc.lut_addr_bits and np.all(np.diff(table) >= 0)
    centres = (np.arange(table.size) + 0.5) / table.size
    assert np.array_equal(table, np.rint(512 * -np.log(-np.log(centres))))
    assert gumbel_table(COARSE).size == 32


@pytest.mark.parametrize("q", [[0], [0, -1], [0, -1, 0], [-5, -4, 0, -2], [0, 0, 0, 0],
                               [-1, -3, -1, -2]])
def test_law_equals_brute_force_with_ties(q):
    """Every combination of table entries (32^V), the first maximum winning."""
    q = np.array(q, dtype=np.int64)
    table = gumbel_table(COARSE)
    idx = np.array(list(itertools.product(range(table.size), repeat=q.size)))
    winners = np.argmax(q[None, :] + table[idx], axis=1)  # argmax: the first maximum
    brute = np.bincount(winners, minlength=q.size) / len(idx)
    assert np.allclose(gumbel_token_probs(q, COARSE), brute, atol=1e-12)


def test_draw_is_first_argmax_of_the_table_scores():
    z = np.random.default_rng(2).normal(0.0, 2.0, 500)
    q = stream_quantize(z, 1.0, FMT).q
    state = derive_state(1, 0, FMT.acc)
    token, new_state, (u, score) = gumbel_draw(q, state, FMT, trace=True)
    draws, after = draw_sequence(state, FMT.acc, q.size)
    table = gumbel_table(FMT)
    shift = FMT.acc.prob_bits - FMT.acc.lut_addr_bits
    assert np.array_equal(u, draws) and new_state == after
    assert np.array_equal(score, q + table[draws >> shift]) and token == int(np.argmax(score))


@pytest.mark.slow
def test_monte_carlo_matches_exact():
    q = stream_quantize(np.random.default_rng(3).normal(0.0, 1.0, 12), 1.0, COARSE).q
    law = gumbel_token_probs(q, COARSE)
    n, state, draws = 20_000, derive_state(4, 0, COARSE.acc), []
    for _ in range(n):
        token, state, _ = gumbel_draw(q, state, COARSE)
        draws.append(token)
    assert total_variation(law, empirical_distribution(draws, q.size)) < \
        tv_noise_floor(law, n) + np.sqrt(np.log(1e6) / (2 * n))


def test_batch_equals_row_by_row_and_law_at_full_vocabulary():
    z = np.random.default_rng(5).gumbel(0.0, 2.0, (4, 300))
    q = np.stack([stream_quantize(r, 1.0, FMT).q for r in z])
    states = np.array([derive_state(6, b, FMT.acc) for b in range(4)], dtype=np.uint64)
    tokens, new_states = gumbel_draw_batch(q, states, FMT)
    for b in range(4):
        assert gumbel_draw(q[b], int(states[b]), FMT)[:2] == (tokens[b], int(new_states[b]))
    # V = 50,257 LM-like: exact and quick; the table's range truncates the tail (docs/stream.md)
    z = np.random.default_rng(0).gumbel(0.0, 1.5, 50_257)
    law = gumbel_token_probs(stream_quantize(z, 1.0, FMT).q, FMT)
    assert np.isclose(law.sum(), 1.0) and 0.005 < total_variation(law, softmax(z)) < 0.05
