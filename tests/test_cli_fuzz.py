"""CLI fuzz test: every subcommand, every flag that takes a value, with generated bad values
(hypothesis): exit status 2 and one line on stderr naming the flag, never a traceback, never a
result file written. The (command, flag) pairs are read off the parser itself, so a new flag is
fuzzed as soon as it exists; a flag whose bad values this file does not know fails the test."""

import argparse
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pysampler import cli
from tests.strategies import no_hang

NUMBER_TEXT = st.sampled_from(["", " ", "x", "1x", "nan", "inf", "-inf", "1e999", "0x10", "½",
                               "None", "--", "2,", "1 2"])
NON_POSITIVE = st.integers(-10**30, 0).map(str)


def _ints_below(low: int) -> st.SearchStrategy:
    return st.one_of(st.integers(-10**30, low - 1).map(str), st.sampled_from(["2.5", "1e-3"]),
                     NUMBER_TEXT)


#: bad values per argparse type (the CLI's own checkers), then per flag for plain strings
BY_TYPE = {
    cli._positive_int: _ints_below(1),
    cli._non_negative_int: _ints_below(0),
    cli._count: st.one_of(NON_POSITIVE, st.sampled_from(["1.5", "1e-3", "9e18", "1e30"]),
                          NUMBER_TEXT),
    cli._seed: st.one_of(st.integers(-10**30, -1).map(str), st.integers(2**64, 2**70).map(str),
                         NUMBER_TEXT),
    cli._positive_float: st.one_of(NON_POSITIVE, st.sampled_from(["-0.5", "-1e-300"]),
                                   NUMBER_TEXT),
    cli._total_variation: st.one_of(st.sampled_from(["0", "1", "2", "-0.1", "1.0"]), NUMBER_TEXT),
    cli._lambda_schedule: st.one_of(NON_POSITIVE, st.sampled_from(
        ["1,2,3,4,5,6,7,8,9", "1,,2", "1,-2", ",", "2,nan"]), NUMBER_TEXT),
    float: st.sampled_from(["-1", "0", "1.5", "nan", "inf", "x", ""]),
    cli._transport: st.sampled_from(["", "fpga", "Verilator", "serial:", "serial:/dev/x@",
                                     "serial:/dev/x@fast", "serial:/dev/x@0"]),
}
BY_FLAG = {
    "--config": st.sampled_from(["nosuch", "missing.json", "null.json", "five.json",
                                 "list.json", "bad.json", "unknown-field.json"]),
    "--lm": st.sampled_from(["/nonexistent/model", "./missing-folder", "~/no/such/lm"]),
    "--lm-gpt2": st.sampled_from(["/nonexistent/model", "./missing-folder", "~/no/such/lm"]),
    "--prompt": st.just(""),
    "--device": st.sampled_from(["nosuch", "cuda:99", "meta", ""]),
    "--designs": st.sampled_from(["nosuch", "onehot-v3"]),
    "--targets": st.sampled_from(["nosuch", "ice41"]),
    "--only": st.sampled_from(["nosuch mutation", "zzz"]),
    "--saturated": st.sampled_from(["nosuch", "huge"]),
    "--fpga-report": st.sampled_from(["missing.md", "blocker/fpga.md", "", "."]),
    "--sections": st.sampled_from(["nosuch", "exact,gpu", "", ",", "speed;anneal", "EXACT"]),
    "--board": st.sampled_from(["nosuch", "ulx3s-99f", "", "orangecrab"]),
}
#: per flag, what a valid run would need besides the bad value, so that only that value is wrong
#: (a top-p past 1 only matters once top-k is off; the rest stay at their defaults)
CONTEXT = {("generate", "--top-p"): ["--top-k", "0"], ("generate", "--min-p"): ["--top-k", "0"]}
#: a flag's values that may be valid: none of its generated bad values are
VALID_TOO = {}


def _flags() -> list[tuple[str, str, argparse.Action]]:
    parser = cli.build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    out = []
    for name, command in sub.choices.items():
        for action in command._actions:
            if not action.option_strings or action.nargs == 0:
                continue  # --help, store_true
            out.append((name, action.option_strings[0], action))
    return out


FLAGS = _flags()


def _bad_values(flag: str, action: argparse.Action) -> st.SearchStrategy:
    if action.choices is not None:
        return st.text(string.ascii_letters + "-", max_size=8).filter(
            lambda v: v not in action.choices)
    if action.type is cli._out_folder:   # a file where the folder goes, below a file, empty
        return st.sampled_from(["blocker/sub/out", "blocker", ""])
    if action.type is cli._out_file:     # a folder where the file goes, below a file, empty
        return st.sampled_from(["blocker/sub/out", "blocker/out.md", ".", ""])
    if action.type in BY_TYPE:
        return BY_TYPE[action.type]
    if flag in BY_FLAG:
        return BY_FLAG[flag]
    raise AssertionError(f"{flag} of type {action.type!r}: add its bad values to this file")


def _workspace(tmp: Path) -> None:
    """Config files that are not configs, and a file where an output folder would go."""
    for name, text in (("null.json", "null"), ("five.json", "5"), ("list.json", "[1]"),
                       ("bad.json", "{bad"), ("unknown-field.json", '{"n_bits": 3}'),
                       ("blocker", "a file, not a folder")):
        (tmp / name).write_text(text)


def test_every_flag_has_bad_values():
    for _, flag, action in FLAGS:
        _bad_values(flag, action)


@pytest.mark.parametrize("command,flag", [(c, f) for c, f, _ in FLAGS],
                         ids=[f"{c}{f}" for c, f, _ in FLAGS])
@settings(max_examples=6, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_a_bad_value_exits_2_with_one_line(command, flag, data, tmp_path_factory, monkeypatch,
                                          capsys):
    action = next(a for c, f, a in FLAGS if c == command and f == flag)
    value = data.draw(_bad_values(flag, action), label=flag)
    work = tmp_path_factory.mktemp("fuzz")
    _workspace(work)
    monkeypatch.chdir(work)
    before = sorted(p.name for p in work.rglob("*"))
    argv = [command, *CONTEXT.get((command, flag), []), f"{flag}={value}"]
    capsys.readouterr()
    with no_hang(60), pytest.raises(SystemExit) as stop:
        cli.main(argv)
    err = capsys.readouterr().err
    assert stop.value.code == 2, (argv, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pysampler"), (argv, err)
    assert "Traceback" not in err
    name = flag.lstrip("-")
    assert any(n in lines[0] for n in (flag, name, name.replace("-", "_"))), (argv, err)
    assert sorted(p.name for p in work.rglob("*")) == before, f"{argv} wrote files"


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["generate", "--bogus"], ["match", "extra"],
                                  ["soak", "--updates"]])
def test_malformed_command_lines_exit_2_with_one_line(argv, capsys):
    with pytest.raises(SystemExit) as stop:
        cli.main(argv)
    lines = capsys.readouterr().err.strip().splitlines()
    assert stop.value.code == 2 and len(lines) == 1 and lines[0].startswith("pysampler")


def test_an_existing_report_file_can_be_rewritten(tmp_path):
    """A file-valued --out that exists already (the committed results/bench.json, say) is
    accepted: its folder must be writable, the file need not be a folder (it was refused)."""
    from pysampler.cli import build_parser

    report = tmp_path / "bench.json"
    report.write_text("{}")
    for command in (["bench"], ["soak"], ["coverage"], ["mutate"], ["fpga"]):
        args = build_parser().parse_args(command + ["--out", str(report)])
        assert args.out == report
