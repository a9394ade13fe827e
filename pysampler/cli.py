"""The ``pysampler`` command line: generate text with emulated p-bit hardware, and run the
experiments (softmax match, calibration, quantization study, Ising convergence, Verilog export).

Every command takes --seed and --deterministic. Bad arguments exit with status 2 and one line on
stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .config import PRESETS, HwConfig, load_config

__all__ = ["main", "build_parser"]

DEMO_PROMPTS = ("The function returns", "In this tutorial, we", "A module is")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text}")
    return value


def _lambda_schedule(text: str) -> float | tuple[float, ...]:
    """One lambda, or a comma-separated per-sweep schedule (1..MAX_SCHEDULE entries)."""
    from .program import MAX_SCHEDULE

    values = tuple(_positive_float(part) for part in text.split(","))
    if len(values) > MAX_SCHEDULE:
        raise argparse.ArgumentTypeError(f"a lambda schedule has at most {MAX_SCHEDULE} entries, "
                                         f"got {len(values)}")
    return values[0] if len(values) == 1 else values


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a finite number > 0, got {text}")
    return value


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


def _common() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--seed", type=_seed, default=0,
                        help="seed of every random stream (samplers, logit sets); default 0")
    common.add_argument("--deterministic", action="store_true",
                        help="single-threaded torch with deterministic algorithms, so that LM "
                             "logits (and so tokens) repeat bit for bit across runs")
    return common


def build_parser() -> argparse.ArgumentParser:
    from .samplers import DEFAULT_LAM, DEFAULT_SWEEPS

    parser = _Parser(prog="pysampler", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _common()
    cfg_help = f"HwConfig preset {sorted(PRESETS)} or a .json file (default: default)"

    gen = sub.add_parser("generate", parents=[common],
                         help="generate text with the softmax, float p-bit or hardware sampler")
    gen.add_argument("--prompt", action="append", default=None,
                     help="prompt (repeat for a batch); default: three demo prompts")
    gen.add_argument("--sampler", choices=("softmax", "gibbs", "hw", "tree", "all"), default="hw",
                     help="token sampler ('tree': the p-bit decision tree, no invalid states); "
                          "'all' runs softmax, gibbs and hw side by side (default: hw)")
    gen.add_argument("--config", default="default", help=cfg_help)
    gen.add_argument("--lam", type=_lambda_schedule, default=None,
                     help="one-hot penalty lambda, or a per-sweep schedule 'l0,l1,...' of up to 8 "
                          "entries aligned with the end of each attempt (default: the samplers' "
                          f"default, {DEFAULT_LAM:g})")
    gen.add_argument("--sweeps", type=_positive_int, default=None,
                     help=f"sweeps per attempt (default: the samplers' default, {DEFAULT_SWEEPS})")
    gen.add_argument("--temperature", type=_positive_float, default=1.0, help="> 0 (default 1.0)")
    gen.add_argument("--top-k", type=_positive_int, default=50,
                     help="keep the k largest logits; <= n_pbits for hw (default 50)")
    gen.add_argument("--top-p", type=float, default=None, help="nucleus mass in (0, 1]")
    gen.add_argument("--min-p", type=float, default=None, help="min-p in [0, 1)")
    gen.add_argument("--repetition-penalty", type=_positive_float, default=1.0,
                     help="transformers' repetition penalty, > 0 (default 1.0: off)")
    gen.add_argument("--max-new-tokens", type=_positive_int, default=32, help="default 32")
    gen.add_argument("--model", default="build/model",
                     help="model folder or hub name (default: build/model, made by `make model`)")
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
    match.add_argument("--out", type=Path, default=Path("results"),
                       help="folder for match.md / match.csv (default: results)")

    cal = sub.add_parser("calibrate", parents=[common],
                         help="lambda grid search and convergence vs sweeps for a target TV")
    cal.add_argument("--vocab-size", type=_positive_int, default=64, help="<= 64 (default 64)")
    cal.add_argument("--target-tv", type=_positive_float, default=0.01,
                     help="exact TV to reach (default 0.01)")
    cal.add_argument("--config", default="default", help=cfg_help)
    cal.add_argument("--max-sweeps", type=_positive_int, default=160,
                     help="longest run tried (default 160)")

    study = sub.add_parser("study", parents=[common],
                           help="the quantization study -> results/study.{csv,md} and plots")
    study.add_argument("--quick", action="store_true", help="a small grid (under 2 minutes)")
    study.add_argument("--model", default="build/model",
                       help="LM whose top-50 logits join the logit sets (default build/model)")
    study.add_argument("--no-lm", action="store_true", help="synthetic logit sets only")
    study.add_argument("--contexts", type=_positive_int, default=None,
                       help="LM contexts captured (default 8; 2 with --quick)")
    study.add_argument("--mc-tokens", type=_positive_int, default=None,
                       help="Monte Carlo tokens per point (default 2000; 400 with --quick)")
    study.add_argument("--out", type=Path, default=Path("results"),
                       help="output folder (default: results)")

    front = sub.add_parser("frontier", parents=[common],
                           help="exact TV vs updates per token for each read-out policy and "
                                "logit offset -> results/faithful.{md,csv,png}")
    front.add_argument("--quick", action="store_true", help="a small grid (about a minute)")
    front.add_argument("--model", default="build/model",
                       help="LM whose top-50 logits join the logit sets (default build/model)")
    front.add_argument("--no-lm", action="store_true", help="synthetic logit sets only")
    front.add_argument("--out", type=Path, default=Path("results"),
                       help="output folder (default: results)")

    ising = sub.add_parser("ising", parents=[common],
                           help="Ising convergence: exact enumeration vs float Gibbs and the "
                                "bit-accurate model")
    ising.add_argument("--n", type=_positive_int, nargs="+", default=[8, 12],
                       help="numbers of spins, <= 16 (default: 8 12)")
    ising.add_argument("--config", default="default", help=cfg_help)
    ising.add_argument("--chains", type=_positive_int, default=2048, help="parallel chains")
    ising.add_argument("--sweeps", type=_positive_int, default=2000, help="recorded sweeps per chain")
    ising.add_argument("--out", type=Path, default=Path("results"),
                       help="folder for ising.md / ising.csv (default: results)")

    ver = sub.add_parser("verilog", parents=[common],
                         help="write the Verilog of the cores for a configuration")
    ver.add_argument("--config", default="default", help=cfg_help)
    ver.add_argument("--out", type=Path, default=Path("build/verilog"),
                     help="output root; files go to <out>/<config name>/")
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


def _sampler(kind: str, cfg: HwConfig, args: argparse.Namespace):
    from .samplers import GibbsSampler, HardwareSampler, SoftmaxSampler

    kwargs = {k: v for k, v in (("lam", args.lam), ("sweeps", args.sweeps)) if v is not None}
    if kind == "softmax":
        return SoftmaxSampler(seed=args.seed)
    if kind == "gibbs":
        return GibbsSampler(seed=args.seed, **kwargs)
    if kind == "tree":
        from .tree import TreeSampler

        return TreeSampler(cfg, seed=args.seed)
    return HardwareSampler(cfg, seed=args.seed, **kwargs)


def _run_generate(args: argparse.Namespace) -> None:
    from .filtering import check_filters
    from .llm import generate, load_lm

    check_filters(args.temperature, args.top_k, args.top_p, args.min_p)  # before the model loads
    cfg = load_config(args.config)
    if args.sampler in ("hw", "all") and args.top_k > cfg.n_pbits:
        raise ValueError(f"--top-k must be <= n_pbits = {cfg.n_pbits} for the hardware sampler, "
                         f"got {args.top_k}")
    try:
        lm = load_lm(args.model, device=args.device)
    except OSError as err:
        raise ValueError(f"cannot load --model {args.model!r}: {str(err).splitlines()[0]}") from None
    prompts = args.prompt or list(DEMO_PROMPTS)
    kinds = ("softmax", "gibbs", "hw") if args.sampler == "all" else (args.sampler,)
    for kind in kinds:
        sampler = _sampler(kind, cfg, args)
        results = generate(lm, prompts, sampler, max_new_tokens=args.max_new_tokens,
                           temperature=args.temperature, top_k=args.top_k, top_p=args.top_p,
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
    from .experiments import (MATCH_LAMS, MATCH_SWEEPS, MATCH_VOCAB_SIZES, markdown_table,
                              recommend_lambda, softmax_match, write_table)
    from .samplers import DEFAULT_SWEEPS

    cfg = load_config(args.config)
    sizes = tuple(args.vocab_size or MATCH_VOCAB_SIZES)
    lams, sweeps = MATCH_LAMS, MATCH_SWEEPS
    if args.quick:
        lams, sweeps = (2.0, 3.0, 4.0), (20, 40)
    rows = softmax_match(sizes, lams, sweeps, cfg=cfg, mc_tokens=args.mc_tokens, seed=args.seed)
    at = DEFAULT_SWEEPS if DEFAULT_SWEEPS in sweeps else max(sweeps)
    best = sorted(recommend_lambda(rows, at).values(), key=lambda r: (r.vocab_size, r.sampler))
    header = (f"# Softmax match\n\nCommand: `pysampler match` (`make match`). Logits: "
              f"Normal(0, 2^2), seed {args.seed}. HwConfig: `{args.config}`. Exact figures assume "
              f"an ideal RNG; MC figures use {args.mc_tokens} tokens from the real sampler.\n\n"
              f"## Recommended lambda per V at {at} sweeps (smallest exact TV with per-token "
              f"fallback < 1%)\n\n{markdown_table(best)}\n## Full grid\n\n")
    csv_path, md_path = write_table(rows, args.out, "match", header)
    print(header.split("## Full grid")[0])
    print(f"wrote {md_path} and {csv_path}")


def _run_calibrate(args: argparse.Namespace) -> None:
    from .exact import MAX_EXACT_VOCAB, exact_over_sweeps
    from .logitsets import synthetic_logits
    from .samplers import GibbsSampler, HardwareSampler

    if args.vocab_size > MAX_EXACT_VOCAB:
        raise ValueError(f"--vocab-size must be <= {MAX_EXACT_VOCAB}, got {args.vocab_size}")
    cfg = load_config(args.config)
    logits = synthetic_logits(args.vocab_size, args.seed)
    grid = [s for s in (5, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320) if s <= args.max_sweeps]
    print(f"V = {args.vocab_size}, target exact TV {args.target_tv}: sweeps needed per lambda\n")
    print("| lambda | float: sweeps | float: TV | float: fallback | hw: sweeps | hw: TV | "
          "hw: fallback | hw: updates/token |")
    print("|---|---|---|---|---|---|---|---|")
    best = None
    for lam in (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0):
        cells = []
        for sampler in (GibbsSampler(lam=lam, sweeps=1), HardwareSampler(cfg, lam=lam, sweeps=1)):
            hit = None
            for sweeps, r in zip(grid, exact_over_sweeps(sampler, logits, grid)):
                if r.tv <= args.target_tv and r.fallback < 0.01:
                    hit = (sweeps, r.tv, r.fallback, r.expected_updates)
                    break
            cells.append(hit)
            if isinstance(sampler, HardwareSampler) and hit and (best is None or hit[3] < best[1][3]):
                best = (lam, hit)
        f, h = (_calibration_cells(c) for c in cells)
        print(f"| {lam:g} | {f[0]} | {f[1]} | {f[2]} | {h[0]} | {h[1]} | {h[2]} | {h[3]} |")
    if best is None:
        print(f"\nno lambda reaches TV {args.target_tv} with the hardware sampler within "
              f"{args.max_sweeps} sweeps (its quantization floor may be higher: see `pysampler study`)")
    else:
        print(f"\ncheapest hardware setting: lambda = {best[0]:g}, {best[1][0]} sweeps "
              f"(exact TV {best[1][1]:.4f}, {best[1][3]:.0f} expected updates per token)")


def _calibration_cells(hit) -> tuple[str, str, str, str]:
    if hit is None:
        return ("-", "-", "-", "-")
    return (str(hit[0]), f"{hit[1]:.4f}", f"{hit[2]:.1e}", f"{hit[3]:.0f}")


def _run_study(args: argparse.Namespace) -> None:
    from .study import run_study, study_points, write_study

    sets, source = _logit_sets(args, args.contexts or (2 if args.quick else 8))
    points = study_points(args.quick)
    mc = args.mc_tokens or (400 if args.quick else 2000)
    rows = run_study(sets, points, mc_tokens=mc, seed=args.seed)
    header = (f"# Quantization study\n\nCommand: `pysampler study{' --quick' if args.quick else ''}`"
              f" (`make study`). Logit sets: {source}. One knob at a time around the default "
              f"HwConfig; lambda {points[0].lam:g} and {points[0].sweeps} sweeps unless varied. "
              f"Exact figures assume an ideal generator; MC uses {mc} tokens of the real one.")
    for path in write_study(rows, args.out, header):
        print(f"wrote {path}")
    print("\n" + (args.out / "study.md").read_text().split("## Tables")[0])


def _logit_sets(args: argparse.Namespace, contexts: int) -> tuple[dict, str]:
    """Synthetic sets, plus top-50 contexts from the LM unless --no-lm."""
    from .study import lm_logit_sets, synthetic_sets

    sets = synthetic_sets(seed=args.seed)
    if args.no_lm:
        return sets, "synthetic sets only"
    from .llm import load_lm

    try:
        lm = load_lm(args.model)
    except (OSError, FileNotFoundError) as err:
        raise ValueError(f"cannot load --model {args.model!r} ({str(err).splitlines()[0]}); "
                         f"run `make model` or pass --no-lm") from None
    sets.update(lm_logit_sets(lm, ["The function returns", "In this tutorial, we",
                                   "A module is", "The documentation"], contexts, seed=args.seed))
    return sets, f"synthetic sets and {contexts} top-50 contexts from `{args.model}`"


def _run_frontier(args: argparse.Namespace) -> None:
    from .faithful import LAMS, SWEEPS, frontier, write_frontier

    sets, source = _logit_sets(args, 1)
    lams, sweeps = ((2.0, 3.0, 4.0), (5, 20, 40)) if args.quick else (LAMS, SWEEPS)
    if args.quick:
        sets = {k: v for k, v in sets.items() if not k.startswith("synthetic-V64")}
    rows = frontier(sets, lams=lams, sweeps_grid=sweeps)
    header = (f"# Faithful p-bit token sampling: the exact cost frontier\n\nCommand: `pysampler "
              f"frontier{' --quick' if args.quick else ''}` (`make faithful`). Logit sets: {source}."
              f" Exact evaluator (ideal generator); float Gibbs and the default HwConfig. Variants: "
              f"restart from zeros after an invalid read-out, or continue up to 10 more sweeps "
              f"first (the RTL's KEEP start); logits shifted by their max, or by the offset that "
              f"minimises the stationary invalid mass (`pysampler.program.min_invalid_offset`); "
              f"ramp: an 8-entry lambda schedule rising linearly from lambda - 0.5 to lambda over "
              f"the last 7 sweeps of each attempt (`pysampler.faithful.ramp`). Lambda "
              f"{', '.join(f'{v:g}' for v in lams)}, sweeps {', '.join(map(str, sweeps))}. "
              f"The tree sampler is evaluated beside them on a tree core of n_pbits = V.")
    for path in write_frontier(rows, args.out, header):
        print(f"wrote {path}")
    print((args.out / "faithful.md").read_text().split("## Pareto")[0])


def _run_ising(args: argparse.Namespace) -> None:
    from .experiments import ising_convergence, markdown_table, write_table

    if max(args.n) > 16:
        raise ValueError(f"--n must be <= 16 for exact enumeration, got {max(args.n)}")
    cfg = load_config(args.config)
    rows = ising_convergence(args.n, cfg, n_chains=args.chains, sweeps=args.sweeps, seed=args.seed)
    header = (f"# Ising convergence\n\nCommand: `pysampler ising` (`make ising`). Models: "
              f"`random_ising(n, seed={args.seed})`, beta = {cfg.beta}; HwConfig `{args.config}`; "
              f"{args.chains} chains x {args.sweeps} sweeps after 100 burn-in sweeps.\n\n")
    csv_path, md_path = write_table(rows, args.out, "ising", header)
    print(header + markdown_table(rows))
    print(f"wrote {md_path} and {csv_path}")


def _run_verilog(args: argparse.Namespace) -> None:
    try:
        from hw.export import export_config
    except ImportError:
        raise ValueError("the hw package is not importable: run from the repository root with "
                         "the [hw] extra installed") from None
    cfg = load_config(args.config)
    for path in export_config(cfg, args.out / Path(args.config).stem):
        print(path)


COMMANDS = {"generate": _run_generate, "match": _run_match, "calibrate": _run_calibrate,
            "study": _run_study, "frontier": _run_frontier, "ising": _run_ising,
            "verilog": _run_verilog}


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    _deterministic(args.deterministic)
    if args.command in ("generate", "study", "frontier"):
        _quiet_transformers()
    try:
        COMMANDS[args.command](args)
    except (ValueError, FileNotFoundError) as err:
        parser.exit(2, f"pysampler {args.command}: error: {err}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
