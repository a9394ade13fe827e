"""thrml's categorical sampler beside ours in the bench (the optional [thrml] extra): absent, the
bench says so and goes on; present, its draws follow the softmax and its figure is a batch row."""

import sys

import numpy as np
import pytest
from scipy.stats import chisquare

from pysampler.experiments.bench import THRML_MISSING, print_results, thrml_rate, thrml_sampler


@pytest.fixture
def no_thrml(monkeypatch):
    """thrml not importable, even where it is installed (None in sys.modules halts the import)."""
    for name in ("thrml", "thrml.factor", "thrml.models"):
        monkeypatch.setitem(sys.modules, name, None)


def test_without_thrml_the_rate_is_none(no_thrml):
    assert thrml_sampler(np.zeros((4, 8))) is None
    assert thrml_rate(16, 8, 1) is None


def test_print_results_shows_the_thrml_row_or_the_note(capsys):
    results = {"throughput": {}, "token_latency": {},
               "batch": {"tree V=64 B=4096": {"tokens_per_s": 2e6, "B": 4096, "V": 64}}}
    print_results({**results, "thrml": THRML_MISSING})
    out = capsys.readouterr().out
    assert "tree V=64 B=4096" in out and f"thrml categorical: {THRML_MISSING}" in out
    results["batch"]["thrml categorical V=64 B=4096"] = {"tokens_per_s": 5e5, "B": 4096, "V": 64}
    print_results(results)
    out = capsys.readouterr().out
    assert "thrml categorical V=64 B=4096" in out and "5.000e+05" in out and "not installed" not in out


@pytest.mark.thrml
def test_thrml_draws_follow_the_softmax():
    """With the [thrml] extra (`make bench-thrml`): 3 rows of V = 6 logits, each repeated 1000 times per call, 4
    calls (4000 draws a row, fixed seed): chi-square p > 1e-3 and TV < 0.03 against softmax."""
    z = np.random.default_rng(5).normal(0.0, 1.0, (3, 6))
    draw = thrml_sampler(np.tile(z, (1000, 1)), seed=1)
    draws = [draw() for _ in range(4)]
    assert not np.array_equal(draws[0], draws[1])  # a new key each call
    tokens = np.concatenate([d.reshape(1000, 3) for d in draws])
    assert tokens.dtype == np.int64 and tokens.min() >= 0 and tokens.max() < 6
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    for row in range(3):
        counts = np.bincount(tokens[:, row], minlength=6)
        assert chisquare(counts, p[row] * counts.sum()).pvalue > 1e-3
        assert 0.5 * np.abs(counts / counts.sum() - p[row]).sum() < 0.03


@pytest.mark.thrml
def test_thrml_rate_and_wide_vocabulary():
    """With the [thrml] extra (`make bench-thrml`): the figure's fields, and V > 256 (uint32 node states)."""
    row = thrml_rate(256, 64, 1)
    assert row["tokens_per_s"] > 0 and (row["B"], row["V"]) == (256, 64)
    assert {"thrml", "jax", "jax_backend"} <= set(row)
    z = np.full((4, 300), -30.0)
    z[np.arange(4), [0, 255, 256, 299]] = 30.0
    assert list(thrml_sampler(z)()) == [0, 255, 256, 299]
