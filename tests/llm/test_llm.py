"""The generation loop and the drop-in for model.generate, on a tiny random GPT-2 built in seconds
(tests/conftest.py) and loaded through the same from_pretrained path as any checkpoint."""

import numpy as np
import pytest
import torch

from pysampler import GibbsSampler, HardwareSampler, SoftmaxSampler, TreeSampler
from pysampler.samplers.filtering import reduce_vocab
from pysampler.llm import SampledTokenProcessor, apply_repetition_penalty, generate, load_lm
from pysampler.samplers import TokenLaw, TokenSampler, sampler_kinds


@pytest.fixture(scope="module")
def tiny_lm(tiny_lm_folder):
    return load_lm(tiny_lm_folder)


pytestmark = pytest.mark.lm

SAMPLERS = [lambda: SoftmaxSampler(seed=1), lambda: GibbsSampler(seed=1),
            lambda: HardwareSampler(seed=1), lambda: TreeSampler(seed=1)]


@pytest.mark.parametrize("make", SAMPLERS)
def test_generate_with_each_sampler_is_reproducible(tiny_lm, make):
    a = generate(tiny_lm, ["the quick", "a p-bit"], make(), max_new_tokens=8, top_k=20, seed=3,
                 stop_at_eos=False)
    b = generate(tiny_lm, ["the quick", "a p-bit"], make(), max_new_tokens=8, top_k=20, seed=3,
                 stop_at_eos=False)
    assert [r.token_ids for r in a] == [r.token_ids for r in b]
    for r in a:
        assert len(r.token_ids) == 8 and len(r.fallbacks) == 8 and len(r.invalid_attempts) == 8
        assert r.ms_per_token > 0 and r.sampler_ms_per_token <= r.ms_per_token
        assert isinstance(r.text, str)


def test_batched_left_padding_matches_single_prompts(tiny_lm):
    prompts = ["the", "a p-bit is a probabilistic", "hardware samples"]
    batched = generate(tiny_lm, prompts, SoftmaxSampler(), max_new_tokens=6, top_k=1,
                       stop_at_eos=False)
    for prompt, result in zip(prompts, batched):
        single = generate(tiny_lm, prompt, SoftmaxSampler(), max_new_tokens=6, top_k=1,
                          stop_at_eos=False)[0]
        assert single.token_ids == result.token_ids


def test_cached_logits_equal_a_full_recompute(tiny_lm):
    res = generate(tiny_lm, "the model writes", SoftmaxSampler(seed=2), max_new_tokens=5,
                   top_k=None, stop_at_eos=False, capture_logits=True)[0]
    prompt = tiny_lm.tokenizer("the model writes")["input_ids"]
    for step, kept in enumerate(res.kept):
        ids = torch.tensor([prompt + res.token_ids[:step]])
        with torch.no_grad():
            full = tiny_lm.model(input_ids=ids).logits[0, -1].double().numpy()
        assert kept.ids.size == full.size
        np.testing.assert_allclose(kept.logits, full, atol=1e-4)


class _EosSampler(TokenSampler):
    """Test double: always draws EOS when it is kept, else the first kept token."""

    eos = None

    def _draw_kept(self, kept, lane):
        self.stats.tokens += 1
        hits = np.flatnonzero(kept.ids == self.eos)
        return int(hits[0]) if hits.size else 0

    def _reset_streams(self):
        pass

    def law(self, kept):
        probs = np.zeros(kept.size)
        hits = np.flatnonzero(kept.ids == self.eos)
        probs[int(hits[0]) if hits.size else 0] = 1.0
        return TokenLaw(probs)


def test_stops_at_eos(tiny_lm):
    sampler = _EosSampler()
    sampler.eos = tiny_lm.eos_token_id
    res = generate(tiny_lm, ["the quick", "a"], sampler, max_new_tokens=10, top_k=None)
    for r in res:
        assert r.token_ids == [tiny_lm.eos_token_id] and r.text == ""


@pytest.mark.parametrize("make", SAMPLERS)
def test_drop_in_processor_emits_exactly_the_drawn_tokens(tiny_lm, make):
    from transformers import LogitsProcessorList

    proc = SampledTokenProcessor(make(), top_k=20, temperature=0.9)
    enc = tiny_lm.tokenizer(["the quick"], return_tensors="pt")
    out = tiny_lm.model.generate(**enc, do_sample=False, max_new_tokens=8, min_new_tokens=8,
                                 logits_processor=LogitsProcessorList([proc]),
                                 pad_token_id=tiny_lm.eos_token_id)
    emitted = out[0, enc["input_ids"].shape[1]:].tolist()
    assert emitted == proc.drawn[0][:len(emitted)] and len(emitted) == 8


@pytest.mark.parametrize("kwargs", [dict(num_beams=2), dict(num_beams=2, do_sample=True)])
def test_drop_in_processor_refuses_beam_search(tiny_lm, kwargs):
    """Beam search scores log-probabilities: every drawn token would score 0 and the rows would
    follow beams. It is refused on the first call, before a token is drawn."""
    from transformers import LogitsProcessorList

    sampler = SoftmaxSampler(seed=1)
    proc = SampledTokenProcessor(sampler, top_k=20)
    enc = tiny_lm.tokenizer(["the quick"], return_tensors="pt")
    with pytest.raises(ValueError, match="beam search"):
        tiny_lm.model.generate(**enc, max_new_tokens=4, logits_processor=LogitsProcessorList([proc]),
                               pad_token_id=tiny_lm.eos_token_id, **{"do_sample": False} | kwargs)
    assert sampler.stats.tokens == 0


def test_drop_in_processor_follows_rows_and_starts_over_per_generation(tiny_lm):
    """num_return_sequences rows each draw on their own lane and emit their draws (a row that
    generate pads after EOS stops being drawn for); a second generate call starts over instead
    of growing the state; a processor after ours that changes tokens is refused."""
    from transformers import LogitsProcessor, LogitsProcessorList

    proc = SampledTokenProcessor(SoftmaxSampler(seed=1), top_k=20)
    enc = tiny_lm.tokenizer(["the quick"], return_tensors="pt")
    for _ in range(2):
        out = tiny_lm.model.generate(**enc, do_sample=True, num_return_sequences=3,
                                     max_new_tokens=6, pad_token_id=tiny_lm.eos_token_id,
                                     logits_processor=LogitsProcessorList([proc]))
        assert len(proc.drawn) == 3
        for b in range(3):
            emitted = out[b, enc["input_ids"].shape[1]:].tolist()
            assert 1 <= len(proc.drawn[b]) <= 6 and emitted[:len(proc.drawn[b])] == proc.drawn[b]

    class Shift(LogitsProcessor):
        def __call__(self, input_ids, scores):
            return scores.roll(1 + input_ids.shape[1] % 3, dims=1)  # a different token each step

    with pytest.raises(ValueError, match="not its pad|not by the token"):
        tiny_lm.model.generate(**enc, do_sample=False, max_new_tokens=6, min_new_tokens=6,
                               pad_token_id=tiny_lm.eos_token_id,
                               logits_processor=LogitsProcessorList([proc, Shift()]))


def test_generation_limits_are_checked_before_the_first_token(tiny_lm):
    """The tiny LM has 64 positions: a prompt that leaves no room, an empty prompt beside a real
    one, and filters that can keep more tokens than the array has are refused up front."""
    sampler = HardwareSampler(seed=1)
    long_prompt = "the quick brown fox " * 14
    n_prompt = len(tiny_lm.tokenizer(long_prompt)["input_ids"])
    assert tiny_lm.max_positions == 64 and n_prompt > 32
    with pytest.raises(ValueError, match=f"has {n_prompt} tokens .* 64 positions"):
        generate(tiny_lm, long_prompt, sampler, max_new_tokens=32)
    with pytest.raises(ValueError, match="pass max_new_tokens <= 62"):
        generate(tiny_lm, "hi", sampler, max_new_tokens=63)
    assert len(generate(tiny_lm, "hi", SoftmaxSampler(), max_new_tokens=62,
                        stop_at_eos=False)[0].token_ids) == 62    # exactly the 64 positions
    with pytest.raises(ValueError, match="prompt 0 is empty"):
        generate(tiny_lm, ["", "hi"], sampler)
    with pytest.raises(ValueError, match="takes at most 64 kept tokens .* no top-k"):
        generate(tiny_lm, "hi", sampler, top_k=None, top_p=0.9)
    assert sampler.stats.tokens == 0


def test_load_lm_names_what_is_wrong(tiny_lm, tmp_path):
    folder = _model_folder(tiny_lm)
    assert load_lm(folder, dtype=torch.float16).model.dtype == torch.float16
    assert load_lm(folder, dtype="bfloat16").model.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="dtype must be one of"):
        load_lm(folder, dtype=torch.int8)
    with pytest.raises(FileNotFoundError, match="no such folder"):
        load_lm(tmp_path / "missing")
    (tmp_path / "file.bin").write_bytes(b"x")
    with pytest.raises(FileNotFoundError, match="is a file"):
        load_lm(tmp_path / "file.bin")
    with pytest.raises(ValueError, match="not a torch device"):
        load_lm(folder, device="nosuch")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="'cuda' is not available"):
            load_lm(folder, device="cuda")


def test_repetition_penalty_matches_transformers():
    from transformers import RepetitionPenaltyLogitsProcessor

    rng = np.random.default_rng(0)
    logits = rng.normal(0, 3, 50)
    seen = [3, 7, 7, 20, 49]
    ours = apply_repetition_penalty(logits, seen, 1.3)
    theirs = RepetitionPenaltyLogitsProcessor(1.3)(torch.tensor([seen]),
                                                   torch.tensor(logits[None, :]))[0].numpy()
    np.testing.assert_allclose(ours, theirs)
    with pytest.raises(ValueError, match="repetition_penalty"):
        apply_repetition_penalty(logits, seen, 0.0)


@pytest.mark.parametrize("kwargs", [dict(top_k=7), dict(top_p=0.8), dict(min_p=0.05),
                                    dict(temperature=0.7, top_k=30, top_p=0.9, min_p=0.02)])
def test_filters_agree_with_transformers_warpers(kwargs):
    from transformers import (LogitsProcessorList, MinPLogitsWarper, TemperatureLogitsWarper,
                              TopKLogitsWarper, TopPLogitsWarper)

    rng = np.random.default_rng(1)
    logits = rng.normal(0, 3, 200)  # continuous: no ties
    warpers = LogitsProcessorList()
    if "temperature" in kwargs:
        warpers.append(TemperatureLogitsWarper(kwargs["temperature"]))
    if "top_k" in kwargs:
        warpers.append(TopKLogitsWarper(kwargs["top_k"]))
    if "top_p" in kwargs:
        warpers.append(TopPLogitsWarper(kwargs["top_p"]))
    if "min_p" in kwargs:
        warpers.append(MinPLogitsWarper(kwargs["min_p"]))
    hf = warpers(torch.zeros(1, 1, dtype=torch.long), torch.tensor(logits[None, :]))[0].numpy()
    kept = reduce_vocab(logits, **kwargs)
    assert kept.ids.tolist() == np.flatnonzero(np.isfinite(hf)).tolist()
    np.testing.assert_allclose(kept.logits, hf[kept.ids])


def test_generate_bad_input(tiny_lm, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="prompts is empty"):
        generate(tiny_lm, [], SoftmaxSampler())
    with pytest.raises(ValueError, match="max_new_tokens"):
        generate(tiny_lm, "a", SoftmaxSampler(), max_new_tokens=0)
    with pytest.raises(ValueError, match="repetition_penalty"):
        generate(tiny_lm, "a", SoftmaxSampler(), repetition_penalty=-1.0)
    with pytest.raises(ValueError, match="top_p"):
        generate(tiny_lm, "a", SoftmaxSampler(), top_p=2.0)
    monkeypatch.chdir(tmp_path)  # no build/lm here
    with pytest.raises(FileNotFoundError, match="make lm"):
        load_lm()
    proc = SampledTokenProcessor(SoftmaxSampler())
    with pytest.raises(ValueError, match="NaN"):
        proc(None, torch.tensor([[0.0, float("nan")]]))


def _model_folder(lm):
    return lm.model.name_or_path


def test_cli_generate_side_by_side(tiny_lm, capsys):
    from pysampler.cli import main

    main(["generate", "--model", _model_folder(tiny_lm), "--sampler", "all", "--prompt", "the",
          "--prompt", "a p-bit", "--max-new-tokens", "4", "--top-k", "20", "--seed", "3",
          "--deterministic"])
    out = capsys.readouterr().out
    for kind in ("softmax", "gibbs", "hw", "tree"):  # 'all' means every registered kind
        assert f"== sampler: {kind}" in out
    assert out.count("ms/token") == len(sampler_kinds()) and "fallbacks" in out


@pytest.mark.parametrize("argv,needle", [
    (["--top-k", "100"], "pass --top-k <= 64"),
    (["--top-k", "0", "--top-p", "0.9"], "no top-k (--top-k 0) can keep"),
    (["--lm", "/nonexistent/model"], "--lm: no such folder '/nonexistent/model'"),
    (["--device", "nosuch"], "--device: device 'nosuch' is not a torch device"),
    (["--prompt", "", "--prompt", "hi"], "--prompt: must not be empty"),
    (["--max-new-tokens", "70"], "64 positions"),
    (["--temperature", "0"], "--temperature"),
    (["--top-p", "1.5"], "top_p"),
    (["--sampler", "mcmc"], "--sampler"),
    (["--seed", "-1"], "--seed"),
    (["--lam", "1,2,3,4,5,6,7,8,9"], "at most 8 entries"),
    (["--lam", "1.5,-2"], "--lam"),
])
def test_cli_generate_bad_arguments_exit_2(tiny_lm, argv, needle):
    import subprocess
    import sys

    base = ["generate", "--model", _model_folder(tiny_lm), "--max-new-tokens", "2"]
    proc = subprocess.run([sys.executable, "-m", "pysampler.cli", *base, *argv],
                          capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert needle in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_cli_lambda_schedule_reaches_the_sampler():
    from pysampler.cli import _samplers, build_parser

    args = build_parser().parse_args(["generate", "--lam", "1.5,2,3", "--sweeps", "12"])
    assert args.lam == (1.5, 2.0, 3.0)
    sampler = _samplers(args)["hw"]
    assert sampler.lam_schedule == (1.5, 2.0, 3.0) and sampler.lam == 3.0 and sampler.sweeps == 12
    assert build_parser().parse_args(["generate", "--lam", "2.5"]).lam == 2.5


def test_cli_policy_names_the_chain_policy():
    """--policy robust (the default) and legacy reach every chain sampler, --lam on top."""
    from pysampler.cli import _samplers, build_parser
    from pysampler.samplers.policy import LEGACY, ROBUST

    assert _samplers(build_parser().parse_args(["generate"]))["hw"].policy == ROBUST
    args = build_parser().parse_args(["generate", "--policy", "legacy", "--lam", "3",
                                      "--sampler", "gibbs"])
    assert _samplers(args)["gibbs"].policy == LEGACY.replace(lam=3.0)
    with pytest.raises(SystemExit):
        build_parser().parse_args(["generate", "--policy", "sometimes"])


def test_cli_generate_whole_vocabulary_with_top_k_0(tiny_lm, capsys):
    """--top-k 0 turns top-k off: a sampler without a capacity draws from the whole vocabulary;
    an array sampler then refuses the row with a clear error."""
    from pysampler.cli import main

    main(["generate", "--lm", _model_folder(tiny_lm), "--sampler", "softmax", "--top-k", "0",
          "--prompt", "the", "--max-new-tokens", "3"])
    assert "== sampler: softmax" in capsys.readouterr().out
    with pytest.raises(SystemExit) as err:
        main(["generate", "--lm", _model_folder(tiny_lm), "--sampler", "tree", "--top-k", "0",
              "--prompt", "the", "--max-new-tokens", "3"])
    assert err.value.code == 2 and "pass --top-k <= 64" in capsys.readouterr().err
