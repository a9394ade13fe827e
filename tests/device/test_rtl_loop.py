"""RTL in the loop: the LM generates with every token drawn by the simulated Verilog through the
host driver (``--sampler rtl``), and the text equals the model-backed sampler's token for token,
restarts and fallbacks included: the one-hot core on Icarus and Verilator over 200 tokens of the
tiny test LM (4 prompts x 50 tokens). ``make rtl-loop`` (PBIT_RTL_LOOP=full) runs every core (the
tree and stream cores too) on both simulators over 200 tokens each; the suite checks the tree and
stream cores through the same driver and link on Icarus in tests/device/test_device.py."""

import os

import pytest

from pysampler import ChainPolicy, make_sampler
from pysampler.contract.config import get_preset
from pysampler.llm import generate, load_lm

pytestmark = [pytest.mark.lm, pytest.mark.cosim, pytest.mark.slow]

PROMPTS = ["the quick", "a p-bit", "hardware samples", "the model"]
MODEL_KIND = {"onehot": "hw", "tree": "tree", "stream": "stream"}
FULL = os.environ.get("PBIT_RTL_LOOP") == "full"
# (core, simulator, prompts, new tokens each)
CASES = ([(core, sim, 4, 50) for core in MODEL_KIND for sim in ("icarus", "verilator")] if FULL
         else [("onehot", "icarus", 4, 50), ("onehot", "verilator", 4, 50)])


@pytest.fixture(scope="module")
def tiny_lm(tiny_lm_folder):
    return load_lm(tiny_lm_folder)


@pytest.mark.parametrize("core,sim,n_prompts,new_tokens", CASES)
def test_rtl_in_the_loop_draws_the_model_samplers_tokens(tiny_lm, core, sim, n_prompts,
                                                         new_tokens):
    cfg = get_preset("tiny")
    # the full run: the default chain policy, n_pbits kept tokens (the stream core: the whole
    # vocabulary); the suite's: 8 kept tokens and 10 sweeps, fewer simulated clocks a token
    top_k = (cfg.n_pbits if core != "stream" else None) if FULL else 8
    policy = ChainPolicy() if FULL else ChainPolicy(sweeps=10)
    rtl = make_sampler("rtl", cfg, policy, seed=11, core=core, transport=sim)
    model = make_sampler(MODEL_KIND[core], cfg, policy, seed=11)
    prompts = PROMPTS[:n_prompts]
    try:
        got = generate(tiny_lm, prompts, rtl, max_new_tokens=new_tokens, top_k=top_k, seed=11,
                       stop_at_eos=False)
        runs = rtl.device.read("RUNS")  # every draw was the core's
    finally:
        rtl.close()
    want = generate(tiny_lm, prompts, model, max_new_tokens=new_tokens, top_k=top_k, seed=11,
                    stop_at_eos=False)
    assert sum(len(r.token_ids) for r in got) == n_prompts * new_tokens
    assert [r.token_ids for r in got] == [r.token_ids for r in want]
    assert [r.text for r in got] == [r.text for r in want]
    assert rtl.stats == model.stats  # attempts, restarts and fallbacks too
    assert runs == rtl.stats.attempts >= n_prompts * new_tokens
