"""The ``pysampler`` command line: one entry point for generating text with emulated p-bit hardware,
every study and report, the Verilog export, the FPGA flow and the benchmarks.

It only parses and dispatches: each command calls one function of :mod:`pysampler.experiments`,
:mod:`pysampler.llm`, ``hw`` or ``sim``. Every command takes --seed and --deterministic. Bad
arguments exit with status 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Callable, Sequence

from .contract.config import PRESETS, load_config

__all__ = ["main", "build_parser"]

DEMO_PROMPTS = ("The function returns", "In this tutorial, we", "A module is")
DEFAULT_LM = "build/lm"
DEFAULT_LM_GPT2 = "build/lm-gpt2"  # `make lm-gpt2`: the same LM on GPT-2's 50,257 tokens


def _int_at_least(low: int):
    """An argparse type: an int >= ``low``, else a one-line error naming the bound."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an int >= {low}, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be an int >= {low}, got {text}")
        return value
    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


def _total_variation(text: str) -> float:
    """A total variation to reach: a number in (0, 1)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1), got {text!r}") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be a total variation in (0, 1), got {text}")
    return value


def _lambda_schedule(text: str) -> float | tuple[float, ...]:
    """One lambda, or a comma-separated per-sweep schedule (1..MAX_SCHEDULE entries)."""
    from .contract.program import MAX_SCHEDULE

    values = tuple(_positive_float(part) for part in text.split(","))
    if len(values) > MAX_SCHEDULE:
        raise argparse.ArgumentTypeError(f"a lambda schedule has at most {MAX_SCHEDULE} entries, "
                                         f"got {len(values)}")
    return values[0] if len(values) == 1 else values


def _count(text: str) -> int:
    """An int >= 1, written as an int or in float notation with an integral value (1e8)."""
    try:
        value = float(text) if any(c in text.lower() for c in ".e") else int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 1 (1e8 accepted), got {text!r}") \
            from None
    if not (value >= 1 and float(value).is_integer() and value < 2**63):
        raise argparse.ArgumentTypeError(f"must be an int >= 1 (1e8 accepted), got {text}")
    return int(value)


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**64), got {text!r}") from None
    if not 0 <= value < 2**64:
        raise argparse.ArgumentTypeError(f"must be an int in [0, 2**64), got {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``pysampler <cmd>: error: ...``) and exit 2."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")

    def _get_values(self, action, arg_strings):  # type: ignore[override]
        # Python 3.11's argparse drops a '--' value (--seed=--) and hands the type nothing, so
        # the option silently becomes an empty list: refuse it as the type would refuse it
        if action.nargs is None and action.option_strings and arg_strings == ["--"]:
            self.error(f"argument {'/'.join(action.option_strings)}: expected one value, "
                       f"got '--'")
        return super()._get_values(action, arg_strings)


def _prompt(text: str) -> str:
    """A prompt: at least one character (a causal LM needs a token to condition on)."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty: a causal LM needs at least one "
                                         "token to condition on")
    return text


def _common(seed_default: int | None = 0,
            seed_help: str = "seed of every random stream (samplers, logit sets); default 0"
            ) -> argparse.ArgumentParser:
    """--seed and --deterministic (a new parser each call: argparse shares a parent's actions,
    so one command's defaults must not be set on a shared parent)."""
    common = _Parser(add_help=False)
    common.add_argument("--seed", type=_seed, default=seed_default, help=seed_help)
    common.add_argument("--deterministic", action="store_true",
                        help="single-threaded torch with deterministic algorithms, so that LM "
                             "logits (and so tokens) repeat bit for bit across runs")
    return common


def _add_lm(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--lm", "--model", dest="lm", default=DEFAULT_LM,
                        help=f"language model folder or hub name {what} (default: {DEFAULT_LM}, "
                             f"made by `make lm`)")


def _output(folder: bool):
    """An argparse type: a path the command can write (checked before any work): a folder
    (``folder``) or a file, not an existing one of the other kind, under a writable folder."""
    kind = "folder" if folder else "file"

    def parse(text: str) -> Path:
        path = Path(text)
        if not text or path.exists() and path.is_dir() != folder:
            raise argparse.ArgumentTypeError(f"must be a {kind} to write, got {text!r}")
        if path.is_file() and not os.access(path, os.W_OK):
            raise argparse.ArgumentTypeError(f"cannot write {text!r}: the file is read-only")
        ancestor = path if path.is_dir() else path.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
        if not ancestor.is_dir() or not os.access(ancestor, os.W_OK | os.X_OK):
            raise argparse.ArgumentTypeError(f"cannot write {text!r}: {str(ancestor)!r} is not a "
                                             f"writable folder")
        return path
    return parse


_out_folder, _out_file = _output(True), _output(False)


def _transport(text: str) -> str:
    """An argparse type: a transport name of the host driver (nothing is opened here)."""
    from .device.open import check_transport

    try:
        return check_transport(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def _existing_file(text: str) -> Path:
    """An argparse type: a file that exists (a report to read)."""
    path = Path(text).expanduser()
    if not text or not path.is_file():
        raise argparse.ArgumentTypeError(f"must be an existing file, got {text!r}")
    return path


def _add_out(parser: argparse.ArgumentParser, what: str, default: str = "results") -> None:
    parser.add_argument("--out", type=_out_folder, default=Path(default),
                        help=f"output folder for {what} (default: {default})")


def build_parser() -> argparse.ArgumentParser:
    from .samplers.policy import DEFAULT_LAM, DEFAULT_SWEEPS
    from .samplers.registry import sampler_help

    parser = _Parser(prog="pysampler", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _common()
    cfg_help = f"HwConfig preset {sorted(PRESETS)} or a .json file (default: default)"
    kinds = sampler_help()

    gen = sub.add_parser("generate", parents=[common],
                         help="generate text with any registered token sampler")
    gen.add_argument("--prompt", action="append", default=None, type=_prompt,
                     help="prompt (repeat for a batch); default: three demo prompts")
    gen.add_argument("--sampler", choices=tuple(kinds) + ("all",), default="hw",
                     help="token sampler: " + "; ".join(f"'{k}': {h}" for k, h in kinds.items())
                          + "; 'all': every one that draws in this process, side by side "
                            "(default: hw)")
    gen.add_argument("--core", choices=("onehot", "tree", "stream"), default=None,
                     help="--sampler rtl: the core that draws (default onehot)")
    gen.add_argument("--transport", type=_transport, default=None,
                     help="--sampler rtl: where the core runs: verilator (default), icarus, "
                          "model (the register-level model), serial:PORT[@BAUD] (a board)")
    gen.add_argument("--config", default="default", help=cfg_help)
    gen.add_argument("--policy", choices=("robust", "legacy"), default="robust",
                     help="chain policy of the p-bit samplers: 'robust' (default: random "
                          "one-hot start, shift and lambda phase per row) or 'legacy' (the "
                          "defaults before: shift by max, start from zeros)")
    gen.add_argument("--lam", type=_lambda_schedule, default=None,
                     help="one-hot penalty lambda, or a per-sweep schedule 'l0,l1,...' of up to 8 "
                          "entries aligned with the end of each attempt (default: "
                          f"{DEFAULT_LAM:g})")
    gen.add_argument("--sweeps", type=_positive_int, default=None,
                     help=f"sweeps per attempt (default: {DEFAULT_SWEEPS})")
    gen.add_argument("--lanes", type=_positive_int, default=None,
                     help="logits per beat of the stream sampler, 1..64 (default 1; with "
                          "--sampler all it applies to the samplers that have lanes)")
    gen.add_argument("--temperature", type=_positive_float, default=1.0, help="> 0 (default 1.0)")
    gen.add_argument("--top-k", type=_non_negative_int, default=50,
                     help="keep the k largest logits; <= n_pbits for the array samplers; 0: no "
                          "top-k, the whole vocabulary (default 50)")
    gen.add_argument("--top-p", type=float, default=None, help="nucleus mass in (0, 1]")
    gen.add_argument("--min-p", type=float, default=None, help="min-p in [0, 1)")
    gen.add_argument("--repetition-penalty", type=_positive_float, default=1.0,
                     help="transformers' repetition penalty, > 0 (default 1.0: off)")
    gen.add_argument("--max-new-tokens", type=_positive_int, default=32, help="default 32")
    _add_lm(gen, "to generate with")
    gen.add_argument("--device", default="cpu", help="torch device (default cpu)")

    match = sub.add_parser("match", parents=[common],
                           help="softmax match of float Gibbs and the emulated hardware over a "
                                "lambda x sweeps grid (exact evaluator + Monte Carlo)")
    match.add_argument("--vocab-size", type=_positive_int, nargs="+", default=None,
                       help="kept vocabulary sizes, <= 64 (default: 16 32 64)")
    match.add_argument("--config", default="default", help=cfg_help)
    match.add_argument("--mc-tokens", type=_positive_int, default=1000,
                       help="tokens sampled per grid point for the Monte Carlo TV and timing")
    match.add_argument("--quick", action="store_true", help="a small grid (seconds)")
    _add_out(match, "match.md / match.csv")

    cal = sub.add_parser("calibrate", parents=[common],
                         help="lambda grid search and convergence vs sweeps for a target TV")
    cal.add_argument("--vocab-size", type=_positive_int, default=64, help="<= 64 (default 64)")
    cal.add_argument("--target-tv", type=_total_variation, default=0.01,
                     help="exact TV to reach (default 0.01)")
    cal.add_argument("--config", default="default", help=cfg_help)
    cal.add_argument("--max-sweeps", type=_positive_int, default=160,
                     help="longest run tried (default 160)")

    study = sub.add_parser("study", parents=[common],
                           help="the quantization study -> results/study.{csv,md} and plots")
    study.add_argument("--quick", action="store_true", help="a small grid (under 2 minutes)")
    _add_lm(study, "whose top-50 logits join the logit sets")
    study.add_argument("--no-lm", action="store_true", help="synthetic logit sets only")
    study.add_argument("--contexts", type=_positive_int, default=None,
                       help="LM contexts captured (default 8; 2 with --quick)")
    study.add_argument("--mc-tokens", type=_positive_int, default=None,
                       help="Monte Carlo tokens per point (default 2000; 400 with --quick)")
    _add_out(study, "study.{csv,md} and the plots")

    front = sub.add_parser("frontier", parents=[common],
                           help="exact TV vs cost per token for each read-out policy, logit "
                                "offset and lambda schedule, and the tree -> "
                                "results/frontier.{md,csv,png}")
    front.add_argument("--quick", action="store_true", help="a small grid (about a minute)")
    _add_lm(front, "whose top-50 logits join the logit sets")
    front.add_argument("--no-lm", action="store_true", help="synthetic logit sets only")
    _add_out(front, "frontier.{md,csv,png}")

    ising = sub.add_parser("ising", parents=[common],
                           help="Ising convergence: exact enumeration vs float Gibbs and the "
                                "bit-accurate model")
    ising.add_argument("--n", type=_positive_int, nargs="+", default=[8, 12],
                       help="numbers of spins, <= 16 (default: 8 12)")
    ising.add_argument("--config", default="default", help=cfg_help)
    ising.add_argument("--chains", type=_positive_int, default=2048, help="parallel chains")
    ising.add_argument("--sweeps", type=_positive_int, default=2000,
                       help="recorded sweeps per chain")
    _add_out(ising, "ising.md / ising.csv")

    full = sub.add_parser("fullvocab", parents=[common],
                          help="every sampler on the benchmark of logit rows (V = 8 .. 50,257, "
                               "flat to peaked, LM-captured) -> results/fullvocab.{md,csv,png}")
    full.add_argument("--quick", action="store_true", help="V in {8, 32, 2048}, two configs")
    _add_lm(full, "whose rows join the benchmark")
    full.add_argument("--lm-gpt2", default=None,
                      help=f"the LM on GPT-2's 50,257-token tokenizer whose rows join as source "
                           f"lm50k (default: {DEFAULT_LM_GPT2} when it exists, made by "
                           f"`make lm-gpt2`)")
    full.add_argument("--no-lm", action="store_true", help="synthetic rows only")
    _add_out(full, "fullvocab.{md,csv,png}")

    graph = sub.add_parser("graph", parents=[common],
                           help="graph programs (issue 20): exact-law checks, Onsager, annealing "
                                "against simulated annealing, flips/s against the anchors -> "
                                "results/graph.{md,json}, results/graph_*.png")
    graph.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    graph.add_argument("--sections", default=None,
                       help="comma-separated subset of exact,onsager,anneal,speed (default: all)")
    graph.add_argument("--no-plots", action="store_true", help="tables only (no PNGs)")
    _add_out(graph, "graph.{md,json} and the plots")

    serr = sub.add_parser("stream-error", parents=[common],
                          help="the stream sampler's error analysis (docs/stream.md's tables) "
                               "-> results/stream_error.md")
    _add_out(serr, "stream_error.md")

    energy = sub.add_parser("energy", parents=[common],
                            help="energy per token of the stream core (45 nm ASIC and ECP5, "
                                 "V and L) beside the GPU -> results/energy.{md,csv,png}")
    energy.add_argument("--fpga-report", type=_existing_file, default=Path("results/fpga.md"),
                        help="the FPGA report whose ECP5-85F Fmax sets the token's time "
                             "(default results/fpga.md)")
    energy.add_argument("--static-w", type=_positive_float, default=None,
                        help="the FPGA's static power in W (default 0.2, an assumption)")
    _add_out(energy, "energy.{md,csv,png}")

    bench = sub.add_parser("bench", parents=[common],
                           help="speed of the bit-accurate model, float Gibbs, the GPT-2 loop and "
                                "the co-simulation -> results/bench.json")
    bench.add_argument("--out", type=_out_file, default=Path("results/bench.json"),
                       help="JSON file to write (default: results/bench.json)")
    bench.add_argument("--repeats", type=_positive_int, default=5,
                       help="timed repeats per figure (best of; default 5)")
    _add_lm(bench, "for the GPT-2 loop timing (skipped when missing)")
    bench.add_argument("--cosim-sweeps", type=_positive_int, default=1000,
                       help="sweeps of the timed co-simulation run (default 1000)")
    bench.add_argument("--no-cosim", action="store_true", help="skip the co-simulation speed")

    ver = sub.add_parser("verilog", parents=[common],
                         help="write the Verilog of the cores for a configuration and lint it")
    ver.add_argument("--config", default="default", help=cfg_help)
    _add_out(ver, "the Verilog; files go to <out>/<config name>/", "build/verilog")
    ver.add_argument("--no-lint", action="store_true", help="skip the Verilator lint")

    fpga = sub.add_parser("fpga", parents=[common],
                          help="synthesis and place and route of the cores (iCE40, ECP5) -> "
                               "results/fpga.md")
    fpga.add_argument("--out", type=_out_file, default=Path("results/fpga.md"),
                      help="report file (default: results/fpga.md)")
    fpga.add_argument("--designs", nargs="+", default=None, help="designs (default: all)")
    fpga.add_argument("--targets", nargs="+", default=None, help="targets (default: all)")
    fpga.add_argument("--synth-only", action="store_true",
                      help="synthesis only: resource rows without place and route (Fmax "
                           "'not routed'); a design over the part's capacity still reads "
                           "'does not fit'")

    bit = sub.add_parser("bitstream", parents=[common],
                         help="a core on an ECP5 board behind its UART link: bitstream and "
                              "timing report (Yosys, nextpnr-ecp5, ecppack) -> "
                              "build/bitstream/BOARD, results/fpga.md's board section")
    bit.add_argument("--board", default="ulx3s", help="board (default ulx3s; ulx3s-12f, "
                                                      "-25f, -45f, -85f)")
    bit.add_argument("--core", choices=("onehot", "dense", "tree", "stream"), default="onehot",
                     help="the core on the board (default onehot)")
    bit.add_argument("--config", default="default", help=cfg_help)
    bit.add_argument("--out", type=_out_folder, default=Path("build/bitstream"),
                     help="build folder; the board's files go to <out>/<board> (default "
                          "build/bitstream)")
    bit.add_argument("--report", type=_out_file, default=Path("results/fpga.md"),
                     help="report whose board section is rewritten (default results/fpga.md)")

    soak = sub.add_parser("soak", parents=[_common(None, "replay the soak of this seed, in "
                                                         "[0, 2**32) (default: a fresh seed, "
                                                         "printed)")],
                          help="compare about 10^8 updates of free-running RTL with the model "
                               "(bulk mode, Verilator), on random programs from a fresh seed")
    soak.add_argument("--updates", type=_count, default=10**8,
                      help="updates to compare in all, an int >= 1 (1e8 accepted; default 1e8)")
    soak.add_argument("--out", type=_out_file, default=None,
                      help="also write the counts and the seed here (make soak: results/soak.md)")
    cov = sub.add_parser("coverage", parents=[common],
                         help="functional coverage of the bulk co-simulation -> "
                              "results/coverage.md")
    cov.add_argument("--out", type=_out_file, default=None, help="write the report here (markdown)")
    mut = sub.add_parser("mutate", parents=[common],
                         help="single-line mutations of the cores: caught or not -> "
                              "results/mutations.md")
    mut.add_argument("--out", type=_out_file, default=None, help="write the tables here (markdown)")
    mut.add_argument("--only", default=None, help="run the mutations whose name contains this")
    mut.add_argument("--programs", type=_positive_int, default=100,
                     help="random programs per mutation (default 100)")
    mut.add_argument("--saturated", default="tiny",
                     help="also run the clamp mutations on this configuration, whose LUT is "
                          "saturated at both ends ('' to skip; default tiny)")

    docs = sub.add_parser("docs", parents=[common],
                          help="regenerate the generated parts of the README and docs/ (the "
                               "register map tables, every figure quoted from results/) and the "
                               "C header include/pbit_regs_default.h")
    docs.add_argument("--check", action="store_true",
                      help="only check that they are up to date: exit 1 naming every stale "
                           "figure (make test runs this check)")

    nn = sub.add_parser("nn", parents=[common],
                        help="p-bits inside networks: binary layers, noise, thermal layers, p-bit "
                             "attention in the offline GPT-2, the digits classifier's "
                             "uncertainty -> results/nn.md and plots")
    nn.add_argument("--quick", action="store_true", help="small sizes (a minute or two)")
    _add_lm(nn, "for the p-bit attention section")
    nn.add_argument("--no-lm", action="store_true", help="skip the attention section")
    nn.add_argument("--finetune-seconds", type=_positive_float, default=120.0,
                    help="wall time of each fine-tuning run (default 120)")
    _add_out(nn, "nn.md and nn_*.png")

    train = sub.add_parser("train-lm", parents=[common],
                           help="train the offline GPT-2 (and its tokenizer) -> build/lm "
                                "(--tokenizer gpt2: build/lm-gpt2)")
    train.add_argument("--out", type=_out_folder, default=None,
                       help=f"output folder for the model and tokenizer (default: {DEFAULT_LM}; "
                            f"with --tokenizer gpt2: {DEFAULT_LM_GPT2})")
    train.add_argument("--tokenizer", choices=("bpe", "gpt2"), default="bpe",
                       help="'bpe': a 2,048-token byte-level BPE trained on the corpus (default); "
                            "'gpt2': GPT-2's own 50,257 tokens from build/gpt2/gpt2.tiktoken "
                            "(`make build/gpt2/gpt2.tiktoken` fetches it)")
    train.add_argument("--report", type=_out_file, default=None,
                       help="also write a Markdown report here (make lm: results/lm.md)")
    train.add_argument("--seconds", type=_positive_float, default=300.0,
                       help="training wall-time budget (default 300)")
    return parser


def _quiet_transformers() -> None:
    """No progress bars from transformers on the command line (our own output stays readable)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        return
    hf_logging.disable_progress_bar()


def _deterministic(enabled: bool) -> None:
    if not enabled:
        return
    try:
        import torch
    except ImportError:
        return
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)


def _samplers(args: argparse.Namespace) -> dict:
    """kind -> sampler for --sampler (every registered kind for 'all'), --config, --policy,
    --lam, --sweeps and --seed."""
    from .samplers.policy import POLICIES, ChainPolicy
    from .samplers.registry import make_sampler, sampler_kinds, sampler_options

    cfg = load_config(args.config)
    policy = ChainPolicy.of(POLICIES[getattr(args, "policy", "robust")], lam=args.lam,
                            sweeps=args.sweeps)
    kinds = sampler_kinds() if args.sampler == "all" else (args.sampler,)
    # the sampler options given on the command line (--lanes, --core, --transport): with
    # --sampler all they reach the samplers that have them; a named sampler gets every one
    # given (make_sampler names an option it does not take)
    given = {name: getattr(args, name) for name in SAMPLER_OPTIONS
             if getattr(args, name, None) is not None}
    return {kind: make_sampler(kind, cfg, policy, seed=args.seed,
                               **{k: v for k, v in given.items()
                                  if args.sampler != "all" or k in sampler_options(kind)})
            for kind in kinds}


#: command-line flags that are sampler options (make_sampler(..., **options))
SAMPLER_OPTIONS = ("lanes", "core", "transport")


def _run_generate(args: argparse.Namespace) -> None:
    from .llm import check_device, generate, load_lm
    from .samplers.filtering import check_filters

    top_k = args.top_k or None  # 0: no top-k
    check_filters(args.temperature, top_k, args.top_p, args.min_p)  # before the LM loads
    samplers = _samplers(args)
    try:
        device = check_device(args.device)
    except ValueError as err:
        raise ValueError(f"--device: {err}") from None
    try:
        lm = load_lm(args.lm, device=device)
    except OSError as err:
        raise ValueError(f"--lm: {str(err).splitlines()[0]}") from None
    for sampler in samplers.values():  # every sampler, before any text is generated
        sampler.check_filters_fit(top_k, lm.vocab_size, flag="--top-k")
    prompts = args.prompt or list(DEMO_PROMPTS)
    for kind, sampler in samplers.items():
        results = generate(lm, prompts, sampler, max_new_tokens=args.max_new_tokens,
                           temperature=args.temperature, top_k=top_k, top_p=args.top_p,
                           min_p=args.min_p, repetition_penalty=args.repetition_penalty,
                           seed=args.seed)
        print(f"== sampler: {kind}")
        for prompt, res in zip(prompts, results):
            print(f"{prompt}{res.text}")
        tokens = sum(len(r.token_ids) for r in results)
        invalid = sum(sum(r.invalid_attempts) for r in results)
        fallbacks = sum(sum(r.fallbacks) for r in results)
        attempts = sampler.stats.attempts or 1
        print(f"-- {tokens} tokens, {results[0].ms_per_token:.2f} ms/token "
              f"(sampler {results[0].sampler_ms_per_token:.2f} ms), invalid runs "
              f"{invalid}/{attempts} ({invalid / attempts:.2%}), fallbacks {fallbacks} "
              f"({fallbacks / max(tokens, 1):.2%})\n")


def _run_match(args: argparse.Namespace) -> None:
    from .experiments.match import MATCH_VOCAB_SIZES, match_report

    print(match_report(args.out, vocab_sizes=args.vocab_size or MATCH_VOCAB_SIZES,
                       cfg=load_config(args.config), config_name=args.config,
                       mc_tokens=args.mc_tokens, quick=args.quick, seed=args.seed))


def _run_calibrate(args: argparse.Namespace) -> None:
    from .experiments.calibrate import calibrate, calibration_report

    hits = calibrate(args.vocab_size, args.target_tv, load_config(args.config),
                     max_sweeps=args.max_sweeps, seed=args.seed)
    print(f"V = {args.vocab_size}, target exact TV {args.target_tv}: sweeps needed per lambda\n")
    print(calibration_report(hits, args.target_tv, args.max_sweeps))


def _logit_sets(args: argparse.Namespace, contexts: int):
    from .experiments.study import logit_sets

    return logit_sets(None if args.no_lm else args.lm, contexts, seed=args.seed)


def _run_study(args: argparse.Namespace) -> None:
    from .experiments.study import study_report

    sets, source = _logit_sets(args, args.contexts or (2 if args.quick else 8))
    print(study_report(args.out, sets, source, quick=args.quick, mc_tokens=args.mc_tokens,
                       seed=args.seed))


def _run_frontier(args: argparse.Namespace) -> None:
    from .experiments.frontier import frontier_report

    sets, source = _logit_sets(args, 1)
    print(frontier_report(args.out, sets, source, quick=args.quick))


def _run_ising(args: argparse.Namespace) -> None:
    from .experiments.ising import ising_report

    print(ising_report(args.out, sizes=args.n, cfg=load_config(args.config),
                       config_name=args.config, n_chains=args.chains, sweeps=args.sweeps,
                       seed=args.seed))


def _run_fullvocab(args: argparse.Namespace) -> None:
    from .experiments.fullvocab import fullvocab_report

    lm50k = None if args.no_lm else DEFAULT_LM_GPT2 if args.lm_gpt2 is None else args.lm_gpt2
    print(fullvocab_report(args.out, None if args.no_lm else args.lm, quick=args.quick,
                           seed=args.seed, lm50k_path=lm50k))


def _run_energy(args: argparse.Namespace) -> None:
    from .experiments.energy import FPGA_STATIC_W, energy_report

    static = FPGA_STATIC_W if args.static_w is None else args.static_w
    print(energy_report(args.out, args.fpga_report, seed=args.seed, static_w=static))


def _run_graph(args: argparse.Namespace) -> None:
    from .experiments.graph import graph_report

    print(graph_report(args.out, quick=args.quick, seed=args.seed, sections=args.sections,
                       plots=not args.no_plots))


def _run_stream_error(args: argparse.Namespace) -> None:
    from .experiments.stream_error import stream_error_report

    print(stream_error_report(args.out))


def _import_hw(what: str):
    """hw/ and sim/ sit beside pysampler in the repository (the [hw] extra installs their tools)."""
    import importlib

    try:
        return importlib.import_module(what)
    except ImportError as err:
        raise ValueError(f"{what} is not importable ({err}): run from the repository root with "
                         f"the [hw] extra installed") from None


def _run_bench(args: argparse.Namespace) -> None:
    import json

    from .experiments.bench import llm_latency, print_results, run_benchmarks

    lm_dir = Path(args.lm)
    has_lm = (lm_dir / "config.json").exists()
    if not has_lm and args.lm != DEFAULT_LM:  # asked for by name: an error before any timing
        raise ValueError(f"--lm: no model folder {args.lm!r} (no config.json there)")
    results = run_benchmarks(args.repeats)
    if has_lm:
        results["llm"] = llm_latency(lm_dir)
    else:
        print(f"(no LM at {lm_dir}: GPT-2 loop timing skipped; `make lm` builds it)")
    print_results(results)
    if not args.no_cosim:
        cosim = results["cosim"] = _import_hw("sim.bench").cosim_speed(args.cosim_sweeps)
        print(f"\nco-simulation ({cosim['program']}, {cosim['sweeps']} sweeps, every clock "
              f"compared):")
        for sim in ("icarus", "verilator"):
            print(f"{sim:10s} {cosim[sim]['clocks_per_s']:10.0f} simulated clocks/s")
        print(f"verilator / icarus: {cosim['verilator_over_icarus']:.2f}x")
        if "bulk_verilator" in cosim:
            print(f"bulk mode (Verilator, free-running core, batch compare): "
                  f"{cosim['bulk_verilator']['updates_per_s']:.3e} compared updates/s")
        from .experiments.bench import device_rates

        _import_hw("hw.export")  # the simulated transports build the Verilog from hw/
        device = results["device"] = device_rates()
        print(f"\ntokens/s through the host driver (--sampler rtl; {device['config']} config, "
              f"top-k {device['top_k']}, V = {device['vocab']}):")
        for key, figure in device.items():
            if isinstance(figure, dict):
                print(f"{key:20s} {figure['tokens_per_s']:10.1f} tokens/s")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")


def _run_verilog(args: argparse.Namespace) -> None:
    export = _import_hw("hw.export")
    cfg = load_config(args.config)
    failed = 0
    for path in export.export_config(cfg, args.out / Path(args.config).stem):
        if path.suffix == ".v" and not args.no_lint:
            result = _import_hw("hw.lint").lint(path)
            print(f"{path}: verilator --lint-only -Wall "
                  f"{'clean' if result.returncode == 0 else 'FAILED'}")
            if result.returncode:
                print(result.stdout + result.stderr)
                failed += 1
        else:
            print(path)
    if failed:
        raise SystemExit(1)


def _run_fpga(args: argparse.Namespace) -> None:
    from .samplers.policy import DEFAULT_SWEEPS

    fpga = _import_hw("hw.fpga")
    fpga.run_report(args.out, designs=args.designs, targets=args.targets, sweeps=DEFAULT_SWEEPS,
                    route=not args.synth_only)


def _exit_with(code: int) -> None:
    """The verification tools return 1 on a mismatch or a hole: exit with it."""
    if code:
        raise SystemExit(code)


def _run_bitstream(args: argparse.Namespace) -> None:
    board = _import_hw("hw.board")
    if args.board not in board.BOARDS:
        raise ValueError(f"--board: unknown board {args.board!r}; choose one of "
                         f"{sorted(board.BOARDS)}")
    cfg = load_config(args.config)
    result = board.build_bitstream(args.board, cfg, args.core, args.out / args.board)
    fpga = _import_hw("hw.fpga")
    versions = {k: v for k, v in fpga.tool_versions(ecp5_only=True).items()}
    fpga.write_board_section(args.report, board.board_section(result, Path(args.config).stem,
                                                              versions))
    print(f"{result.bitstream}: Fmax {result.fmax_mhz:.1f} MHz (clock {result.clock_mhz:.0f} "
          f"MHz), {args.report} updated")


def _run_soak(args: argparse.Namespace) -> None:
    _exit_with(_import_hw("sim.soak").run_soak(args.updates, seed=args.seed, out=args.out))


def _run_coverage(args: argparse.Namespace) -> None:
    _exit_with(_import_hw("sim.coverage").run_coverage(args.out))


def _run_mutate(args: argparse.Namespace) -> None:
    _exit_with(_import_hw("sim.mutate").run_mutate(args.out, only=args.only,
                                                   programs=args.programs,
                                                   saturated=args.saturated))


def _run_docs(args: argparse.Namespace) -> None:
    from .experiments import figures
    from .experiments.docs import update_docs

    stale = update_docs(check=args.check)
    for path in stale:
        print(f"{path}: {'out of date' if args.check else 'regenerated'}")
    if args.check:
        old = figures.check()
        for figure in old:
            print(f"stale figure: {figure}")
        if stale or old:
            raise SystemExit(1)
        return
    for path in figures.rewrite():
        print(f"{path}: figures rewritten from results/")


def _run_nn(args: argparse.Namespace) -> None:
    from .experiments.nn import nn_report

    lm = None
    if not args.no_lm:   # before any work: a --lm that does not load is refused up front
        from .llm import load_lm

        try:
            lm = load_lm(args.lm)
        except OSError as err:
            raise ValueError(f"cannot load --lm {str(args.lm)!r} ({str(err).splitlines()[0]}); "
                             f"run `make lm` or pass --no-lm") from None
    print(nn_report(args.out, None if args.no_lm else args.lm, quick=args.quick, seed=args.seed,
                    finetune_seconds=args.finetune_seconds, lm=lm))


def _run_train_lm(args: argparse.Namespace) -> None:
    from .llm.train import train_lm

    default, other = ((DEFAULT_LM_GPT2, DEFAULT_LM) if args.tokenizer == "gpt2"
                      else (DEFAULT_LM, DEFAULT_LM_GPT2))
    train_lm(Path(default) if args.out is None else args.out, seconds=args.seconds,
             seed=args.seed, report=args.report, tokenizer=args.tokenizer,
             compare=[Path(other)])


COMMANDS: dict[str, Callable[[argparse.Namespace], None]] = {
    "generate": _run_generate, "match": _run_match, "calibrate": _run_calibrate,
    "study": _run_study, "frontier": _run_frontier, "ising": _run_ising, "bench": _run_bench,
    "fullvocab": _run_fullvocab, "graph": _run_graph, "stream-error": _run_stream_error,
    "energy": _run_energy,
    "soak": _run_soak, "coverage": _run_coverage, "mutate": _run_mutate,
    "verilog": _run_verilog, "fpga": _run_fpga, "bitstream": _run_bitstream, "docs": _run_docs,
    "train-lm": _run_train_lm, "nn": _run_nn}


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    _deterministic(getattr(args, "deterministic", False))
    if args.command in ("generate", "study", "frontier", "fullvocab", "bench", "train-lm", "nn"):
        _quiet_transformers()
    try:
        COMMANDS[args.command](args)
    except (ValueError, OSError) as err:  # bad input, or a file the command cannot read or write
        one_line = " ".join(str(err).split())  # the promise: one line, never a traceback
        parser.exit(2, f"pysampler {args.command}: error: {one_line}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
