"""The full-vocabulary report: every registered sampler on benchmark rows, exact or Monte Carlo
with its noise floor, and the batch path's speed."""

import csv

import numpy as np
import pytest

from pysampler import HwConfig
from pysampler.experiments.fullvocab import (NO_POLICY, fullvocab, goal_check, throughput,
                                             write_fullvocab)
from pysampler.experiments.rows import gaussian_row, heavy_tail_row
from pysampler.samplers import sampler_kinds


@pytest.fixture(scope="module")
def results():
    rows = [gaussian_row(8, 0.995), gaussian_row(16, 0.4), heavy_tail_row(2048, 0.8, top_k=50),
            gaussian_row(96, 0.7)]
    configs = {"default": HwConfig(), "narrow": HwConfig(weight_bits=8, frac_bits=3)}
    return rows, fullvocab(rows, configs=configs, mc_tokens=30, mc_seconds=5.0, progress=False)


def test_every_kind_on_every_row_with_entropy_and_kept_v(results):
    rows, out = results
    assert {r.sampler for r in out} == set(sampler_kinds())
    for r in out:
        row = next(b for b in rows if b.name == r.row)
        assert (r.vocab_size, r.entropy, r.source) == (row.vocab_size, row.entropy, row.source)
        assert 0 <= r.tv <= 1 and 0 <= r.fallback <= 1
    chains = {r.sampler for r in out if r.policy != NO_POLICY}
    assert {"hw", "gibbs"} <= chains
    at_default = [r for r in out if r.config == "default" and r.sampler in chains]
    assert {r.policy for r in at_default} == {"old defaults", "robust"}
    assert {r.policy for r in out if r.config == "narrow" and r.sampler in chains} == {"robust"}


def test_monte_carlo_beyond_the_exact_limit_only_at_the_default_config(results):
    _, out = results
    mc = [r for r in out if r.method == "monte carlo"]
    assert mc and all(r.vocab_size > 64 and r.config == "default" for r in mc)
    assert all(0 < r.mc_tokens <= 30 and r.noise_floor > 0 for r in mc)
    assert all(r.method == "exact" for r in out if r.sampler in ("softmax", "tree"))
    tree = [r for r in out if r.sampler == "tree" and r.config == "default"]
    assert all(r.tv < 0.005 and np.isfinite(r.rtl_clocks_per_token) for r in tree)


def test_goal_check_and_written_files(results, tmp_path):
    _, out = results
    lines = goal_check(out)
    assert any("| hw | robust | 1..8 |" in line and "| yes |" in line for line in lines)
    assert any("| hw | old defaults | 1..8 |" in line and "| no |" in line for line in lines)
    speeds = throughput(kinds=("softmax", "tree"), batch=2, cases=((256, 50),))
    assert len(speeds) == 2 and all(s.tokens_per_s > 0 for s in speeds)
    paths = write_fullvocab(out, speeds, tmp_path, "# test\n")
    assert [p.name for p in paths] == ["fullvocab.csv", "fullvocab.md", "fullvocab.png"]
    with open(paths[0]) as fh:
        header = next(csv.reader(fh))
    assert {"row", "source", "vocab_size", "entropy", "sampler", "config", "tv", "noise_floor",
            "fallback", "work_per_token", "rtl_clocks_per_token"} <= set(header)
    text = paths[1].read_text()
    assert "## Goal check" in text and "MC " in text and "floor" in text


def test_lm50k_rows_get_whole_vocabulary_kinds_and_no_monte_carlo():
    """Rows of a bounded source (lm50k) above the chains' exact limit: only softmax, tree and
    stream, exact; their top-k 50 rows: every kind. Throughput draws the given real rows."""
    from dataclasses import replace

    big = replace(heavy_tail_row(50257, 0.8), source="lm50k")
    small = replace(heavy_tail_row(50257, 0.8, top_k=50), source="lm50k")
    out = fullvocab([big, small], configs={"default": HwConfig()}, mc_tokens=30,
                    mc_seconds=1.0, progress=False)
    assert {r.sampler for r in out if r.row == big.name} == {"softmax", "tree", "stream"}
    assert {r.sampler for r in out if r.row == small.name} == set(sampler_kinds())
    assert all(r.method == "exact" for r in out)
    real = np.stack([big.logits, heavy_tail_row(50257, 0.6).logits])
    speeds = throughput(kinds=("softmax", "stream"), batch=3, cases=((50257, 50), (256, 50)),
                        real={50257: ("lm50k", real)})
    assert [(s.vocab_size, s.source) for s in speeds] == [(50257, "lm50k")] * 2 + [
        (256, "heavy-tail")] * 2
