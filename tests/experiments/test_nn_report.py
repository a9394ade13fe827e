"""The p-bit attention sections of `make nn` on the tiny GPT-2 fixture (the full report runs in
`make nn`): the sweep's rows and exact expected TV, the goal line, a fine-tuning step, the CLI."""

import numpy as np
import pytest
from transformers import GPT2LMHeadModel

from pysampler.cli import main
from pysampler.experiments.nn import AttentionRow, attention_sweep, finetune_comparison, goal_line

pytestmark = pytest.mark.nn


@pytest.fixture
def one_torch_thread():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)      # as `pysampler nn` does: small tensors, a loaded machine
    yield
    torch.set_num_threads(before)


def test_attention_sweep_and_finetune_on_the_tiny_lm(tiny_lm_folder, one_torch_thread):
    model = GPT2LMHeadModel.from_pretrained(tiny_lm_folder, attn_implementation="eager").eval()
    tokens = np.random.default_rng(0).integers(0, model.config.vocab_size, 4 * 64)
    windows = tokens.reshape(4, 64)
    rows, base = attention_sweep(model, windows, windows[:1], (1, 16), ((6, 2),), seed=1)
    assert [(r.sampler, r.draws_k) for r in rows] == [("softmax", 0), ("float", 1), ("float", 16),
                                                      ("tree", 1), ("tree", 16)]
    assert rows[0].perplexity == base and all(r.perplexity > 1 for r in rows)
    tv = {(r.sampler, r.draws_k): r.expected_tv_per_query for r in rows}
    assert 0 < tv["float", 16] < tv["float", 1] < 1 and tv["tree", 16] < tv["tree", 1]
    assert model.config._attn_implementation == "eager"          # the sweep restores softmax
    tuned = finetune_comparison(model, windows, windows, base, 2, (10, 4), 0.5, seed=1)
    assert len(tuned) == 6 and all(r.steps >= 1 for r in tuned)


def test_goal_line_names_the_cheapest_k_within_two_percent():
    def row(k, width, ratio):
        return AttentionRow("tree", width, k, 10 * ratio, ratio, 0.1, 6 * k, 1.0)

    rows = [AttentionRow("softmax", "float", 0, 10.0, 1.0, 0, 0, 1.0), row(4, "10/4", 1.05),
            row(16, "10/4", 1.01), row(16, "6/2", 1.015), row(64, "6/2", 1.001)]
    assert "met** at K = 16 draws per query on the p-bit tree at 6/2" in goal_line(rows)
    assert "not met" in goal_line(rows[:2])


@pytest.mark.parametrize("argv", [["nn", "--finetune-seconds", "0"], ["nn", "--seed", "-1"]])
def test_cli_refuses_bad_flags_in_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
