"""The benchmark rows: entropy levels, vocabulary sizes, heavy tails and LM captures, with fixed
seeds."""

import numpy as np
import pytest

from pysampler.experiments.rows import (ENTROPY_LEVELS, HEAVY_TOP50_MASS, LM_FILTERS,
                                        LM_TEMPERATURES, VOCAB_SIZES, entropy, gaussian_row,
                                        heavy_tail_row, load_benchmark, lm_rows, select_rows,
                                        synthetic_rows, top_mass)
from pysampler.samplers.filtering import KeptVocab


@pytest.fixture(scope="module")
def rows():
    return synthetic_rows()


def test_every_vocabulary_size_spans_the_entropy_range(rows):
    assert len(ENTROPY_LEVELS) >= 6 and min(ENTROPY_LEVELS) <= 0.05 and max(ENTROPY_LEVELS) >= 0.99
    for v in VOCAB_SIZES:
        gauss = [r for r in rows if r.source == "gaussian" and r.vocab_size == v]
        assert len(gauss) == len(ENTROPY_LEVELS)
        for r, level in zip(gauss, ENTROPY_LEVELS):
            assert r.entropy == pytest.approx(level * np.log(v), rel=1e-6)
            assert r.entropy_fraction == pytest.approx(level, rel=1e-6)
            assert r.entropy == pytest.approx(entropy(r.logits))
    assert {8, 16, 32, 64, 256, 1024, 2048, 50257} <= {r.vocab_size for r in rows}
    assert len({r.name for r in rows}) == len(rows)


def test_rows_are_reproducible_and_carry_their_kept_vocabulary(rows):
    again = gaussian_row(32, 0.995)
    first = next(r for r in rows if r.name == again.name)
    assert np.array_equal(first.logits, again.logits)
    assert first.entropy == pytest.approx(3.448, abs=1e-3)  # the near-uniform row
    kept = first.kept
    assert isinstance(kept, KeptVocab) and kept.size == 32
    assert np.array_equal(kept.ids, np.arange(32)) and first.temperature == 1.0
    assert first.filter == "none" and first.full_vocab == 32
    assert not np.array_equal(gaussian_row(32, 0.995, seed=1).logits, again.logits)


def test_heavy_tail_rows_are_calibrated_to_their_top50_mass(rows):
    heavy = [r for r in rows if r.source == "heavy-tail"]
    full = [r for r in heavy if r.filter == "none"]
    assert {r.vocab_size for r in full} == {2048, 50257}
    for r in full:
        mass = float(r.name.rsplit("m", 1)[1])
        assert mass in HEAVY_TOP50_MASS and top_mass(r.logits) == pytest.approx(mass, abs=1e-6)
        assert 0.5 - 1e-9 <= top_mass(r.logits) <= 0.95 + 1e-9
    cut = [r for r in heavy if r.filter == "top-k 50"]
    assert len(cut) == len(full) and all(r.vocab_size == 50 for r in cut)
    row = heavy_tail_row(2048, 0.8, top_k=50)
    assert row.full_vocab == 2048 and np.all(np.diff(row.ids) > 0)


def test_select_and_load_without_a_model(tmp_path):
    rows, note = load_benchmark(None, vocab_sizes=(8, 64, 256), heavy_vocabs=())
    assert "synthetic rows only" in note and {r.source for r in rows} == {"gaussian"}
    assert {r.vocab_size for r in select_rows(rows, max_vocab=64)} == {8, 64}
    assert {r.vocab_size for r in select_rows(rows, min_vocab=65)} == {256}
    with pytest.raises(ValueError, match="cannot load --lm .*nothing.* --no-lm"):
        load_benchmark(tmp_path / "nothing", vocab_sizes=(8,), heavy_vocabs=())
    with pytest.raises(ValueError, match="entropy_fraction"):
        gaussian_row(8, 1.0)


@pytest.fixture(scope="module")
def tiny_lm(tiny_lm_folder):
    """The tiny random GPT-2 of tests/conftest.py, and its folder."""
    from pysampler.llm import load_lm

    return load_lm(tiny_lm_folder), tiny_lm_folder


@pytest.mark.lm
def test_lm_rows_cover_temperatures_and_filters(tiny_lm):
    lm, folder = tiny_lm
    rows = lm_rows(lm, contexts=2)
    assert len(rows) == 2 * len(LM_TEMPERATURES) * len(LM_FILTERS)
    vocab = len(lm.tokenizer)
    for r in rows:
        assert r.source == "lm" and r.full_vocab == vocab and r.temperature in LM_TEMPERATURES
        assert r.filter in LM_FILTERS and r.entropy == pytest.approx(entropy(r.logits))
        if r.filter == "top-k 50":
            assert r.vocab_size == 50
        if r.filter == "none":
            assert r.vocab_size == vocab
    # a higher temperature flattens the same context
    by = {(r.name.split("-T")[0], r.temperature, r.filter): r for r in rows}
    assert by[("lm-c0", 1.5, "none")].entropy > by[("lm-c0", 0.7, "none")].entropy


@pytest.mark.lm
def test_load_benchmark_with_a_model(tiny_lm):
    _, folder = tiny_lm
    rows, note = load_benchmark(folder, contexts=1, vocab_sizes=(8,), heavy_vocabs=())
    assert "captured from the LM" in note
    assert sum(r.source == "lm" for r in rows) == len(LM_TEMPERATURES) * len(LM_FILTERS)


@pytest.mark.lm
def test_lm50k_rows_are_real_rows_of_gpt2s_vocabulary(tiny_gpt2_vocab_lm_folder):
    """Source lm50k: the next-token logits of the LM on GPT-2's tokenizer, all 50,257 of them,
    beside the 2,048-token LM's rows; the first context is the first prompt's next token."""
    import torch

    from pysampler.experiments.rows import LM_PROMPTS
    from pysampler.llm import load_lm

    rows, note = load_benchmark(None, lm50k_path=tiny_gpt2_vocab_lm_folder, contexts=1,
                                vocab_sizes=(8,), heavy_vocabs=())
    assert "source lm50k: 1 contexts" in note and "50,257-token vocabulary" in note
    big = [r for r in rows if r.source == "lm50k"]
    assert len(big) == len(LM_TEMPERATURES) * len(LM_FILTERS)
    assert all(r.full_vocab == 50257 and r.name.startswith("lm50k-c0-") for r in big)
    whole = next(r for r in big if r.filter == "none" and r.temperature == 1.0)
    assert whole.vocab_size == 50257 and np.array_equal(whole.ids, np.arange(50257))
    lm = load_lm(tiny_gpt2_vocab_lm_folder)
    with torch.no_grad():
        x = lm.tokenizer(LM_PROMPTS[0], return_tensors="pt")["input_ids"]
        want = lm.model(input_ids=x).logits[0, -1].double().numpy()
    np.testing.assert_allclose(whole.logits, want, rtol=1e-5, atol=1e-5)
    assert whole.entropy < 0.9 * np.log(50257)  # a real, peaked row, not a flat one
    assert next(r for r in big if r.filter == "top-k 50").vocab_size == 50
    with pytest.raises(ValueError, match="cannot load --lm-gpt2 .*make lm-gpt2"):
        load_benchmark("build/nothing", lm50k_path=tiny_gpt2_vocab_lm_folder / "nothing",
                       vocab_sizes=(8,), heavy_vocabs=())
