"""Shared set-up. Statistical tests use fixed seeds; their tolerances are derived in place.

Scheduling: the longest tests run first (the co-simulation, then the language model, then the
other slow tests, then the rest; within each group by the durations the last session measured,
build/test-durations.json, where there are any), and pytest-xdist hands out one test at a time
(``--maxschedchunk 1`` unless given), so that two workers finish together instead of one running
a long test alone at the end.
"""

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
TALLY = ROOT / "build" / "cosim-updates"
DURATIONS = ROOT / "build" / "test-durations.json"

os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / "build" / "numba-cache"))
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / "build" / "cache"))

# The property-based suites (tests/*/test_properties.py, tests/test_cli_fuzz.py): in `make test` a
# fixed, derandomised set of examples (the same inputs every run, no database written); locally,
# HYPOTHESIS_PROFILE=explore draws fresh inputs, many more of them, and remembers failures.
settings.register_profile("ci", derandomize=True, database=None, deadline=20_000,
                          max_examples=40, print_blob=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("explore", deadline=20_000, max_examples=1000,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

_measured: dict[str, float] = {}


def record_cosim_updates(case: str, count: int) -> None:
    """Note how many updates a co-simulation case compared (summed in the terminal summary)."""
    TALLY.mkdir(parents=True, exist_ok=True)
    (TALLY / f"{case}.json").write_text(json.dumps(count))


def pytest_configure(config):
    if hasattr(config.option, "maxschedchunk") and config.option.maxschedchunk is None:
        config.option.maxschedchunk = 1


def _group(item) -> int:
    for rank, marker in enumerate(("cosim", "lm", "slow")):
        if item.get_closest_marker(marker) is not None:
            return rank
    return 3


def pytest_collection_modifyitems(session, config, items):
    """Longest first (deterministic, so every xdist worker collects the same order)."""
    try:
        last = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        last = {}
    position = {item.nodeid: k for k, item in enumerate(items)}
    items.sort(key=lambda item: (_group(item), -float(last.get(item.nodeid, 0.0)),
                                 position[item.nodeid]))


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, once per session
        for stale in TALLY.glob("*.json"):
            stale.unlink()


def pytest_runtest_logreport(report):
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        _measured[report.nodeid] = _measured.get(report.nodeid, 0.0) + report.duration


def _whole_suite(config) -> bool:
    """The session runs every test `make test` runs (no -k, no other -m, no narrower paths)."""
    paths = [Path(a).resolve() for a in config.args] or [ROOT / "tests"]
    return (paths == [ROOT / "tests"] and not config.option.keyword
            and config.option.markexpr in ("", "not thrml"))


def _compared_updates() -> dict[str, int]:
    return {f.stem: json.loads(f.read_text()) for f in sorted(TALLY.glob("*.json"))}


def pytest_sessionfinish(session, exitstatus):
    if hasattr(session.config, "workerinput"):
        return
    if _whole_suite(session.config) and exitstatus == 0:
        from sim.runner import MIN_COMPARED_UPDATES

        total = sum(_compared_updates().values())
        if total < MIN_COMPARED_UPDATES:  # the floor the README quotes: the suite keeps it
            session.config._floor_failure = (total, MIN_COMPARED_UPDATES)
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    if not _measured:
        return
    try:
        durations = json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        durations = {}
    durations.update({k: round(v, 2) for k, v in _measured.items()})
    DURATIONS.parent.mkdir(parents=True, exist_ok=True)
    DURATIONS.write_text(json.dumps(durations, indent=0, sort_keys=True))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    counts = _compared_updates()
    if not counts:
        return
    terminalreporter.section("co-simulation")
    for case, count in counts.items():
        terminalreporter.write_line(f"{case:32s} {count:10d} updates compared")
    terminalreporter.write_line(f"{'total':32s} {sum(counts.values()):10d} updates compared, "
                                f"RTL vs bit-accurate model (bulk-* cases: Verilator bulk mode)")
    if getattr(config, "_floor_failure", None):
        total, floor = config._floor_failure
        terminalreporter.write_line(f"FAILED: {total:,d} compared updates, below the floor of "
                                    f"{floor:,d} (sim.runner.MIN_COMPARED_UPDATES)", red=True)


TINY_LM_SENTENCES = ["the quick brown fox jumps over the lazy dog",
                     "a p-bit is a probabilistic bit", "hardware samples tokens with random numbers",
                     "the model writes text one token at a time"]


@pytest.fixture(scope="session")
def tiny_lm_folder(tmp_path_factory) -> Path:
    """A tiny random GPT-2 (a 300-token byte-level BPE, 2 layers of 32) saved like any checkpoint,
    built in seconds: the LM tests load it through the same ``from_pretrained`` path."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2TokenizerFast

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(TINY_LM_SENTENCES * 20, vocab_size=300, min_frequency=1,
                            special_tokens=["<|endoftext|>"], show_progress=False)
    tok = GPT2TokenizerFast(tokenizer_object=bpe._tokenizer, bos_token="<|endoftext|>",
                            eos_token="<|endoftext|>", unk_token="<|endoftext|>")
    return _save_random_gpt2(folder, tok, seed=0, n_embd=32, n_layer=2, logit_gain=8.0)


def _save_random_gpt2(folder: Path, tok, *, seed: int, n_embd: int, n_layer: int,
                      logit_gain: float) -> Path:
    """Save a randomly initialised GPT-2 on ``tok`` (64 positions, 2 heads) and ``tok`` itself
    into ``folder``, the LM head scaled by ``logit_gain`` so that sampling is not near-uniform."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=64, n_embd=n_embd, n_layer=n_layer,
                     n_head=2, bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    model = GPT2LMHeadModel(cfg)
    with torch.no_grad():
        model.lm_head.weight.mul_(logit_gain)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def gpt2_tokenizer_fast():
    """GPT-2's own tokenizer (50,257 tokens) from build/gpt2/gpt2.tiktoken, which `make test`
    fetches first (`make build/gpt2/gpt2.tiktoken`). Missing, it is an error, never a skip."""
    from pysampler.llm.gpt2vocab import GPT2_TIKTOKEN, gpt2_tokenizer

    path = ROOT / GPT2_TIKTOKEN
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `make {GPT2_TIKTOKEN}` (make test does)")
    return gpt2_tokenizer(path)


@pytest.fixture(scope="session")
def tiny_gpt2_vocab_lm_folder(tmp_path_factory, gpt2_tokenizer_fast) -> Path:
    """A tiny random GPT-2 on GPT-2's own tokenizer (50,257 logits a step; 1 layer of 16, 64
    positions), saved like any checkpoint: the LM at GPT-2's vocabulary size, without training."""
    folder = tmp_path_factory.mktemp("tiny-gpt2-vocab")
    return _save_random_gpt2(folder, gpt2_tokenizer_fast, seed=1, n_embd=16, n_layer=1,
                             logit_gain=20.0)
