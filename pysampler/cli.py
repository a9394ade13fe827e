"""The ``pysampler`` command line: experiments of the p-bit emulator.

Bad arguments exit with status 2 and one line on stderr (argparse's behaviour; ValueErrors raised
by the library are reported the same way).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from .config import PRESETS, load_config

__all__ = ["main", "build_parser"]


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pysampler", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    match = sub.add_parser("match", help="softmax match of float Gibbs and the emulated hardware "
                                         "over a lambda x sweeps grid (exact evaluator + Monte Carlo)")
    match.add_argument("--vocab-size", type=_positive_int, nargs="+", default=None,
                       help="kept vocabulary sizes, <= 64 (default: 16 32 64)")
    match.add_argument("--config", default="default",
                       help=f"HwConfig preset {sorted(PRESETS)} or a .json file (default: default)")
    match.add_argument("--mc-tokens", type=_positive_int, default=1000,
                       help="tokens sampled per grid point for the Monte Carlo TV and timing")
    match.add_argument("--quick", action="store_true", help="a small grid (seconds)")
    match.add_argument("--seed", type=int, default=0, help="seed of the logit sets and samplers")
    match.add_argument("--out", type=Path, default=Path("results"),
                       help="folder for match.md / match.csv (default: results)")

    ising = sub.add_parser("ising", help="Ising convergence: exact enumeration vs float Gibbs and "
                                         "the bit-accurate model")
    ising.add_argument("--n", type=_positive_int, nargs="+", default=[8, 12],
                       help="numbers of spins, <= 16 (default: 8 12)")
    ising.add_argument("--config", default="default", help="HwConfig preset or .json file")
    ising.add_argument("--chains", type=_positive_int, default=2048, help="parallel chains")
    ising.add_argument("--sweeps", type=_positive_int, default=2000, help="recorded sweeps per chain")
    ising.add_argument("--seed", type=int, default=0, help="seed of the model and the samplers")
    ising.add_argument("--out", type=Path, default=Path("results"),
                       help="folder for ising.md / ising.csv (default: results)")
    return parser


def _run_match(args: argparse.Namespace) -> None:
    from .experiments import (MATCH_LAMS, MATCH_SWEEPS, MATCH_VOCAB_SIZES, markdown_table,
                              recommend_lambda, softmax_match, write_table)

    cfg = load_config(args.config)
    sizes = tuple(args.vocab_size or MATCH_VOCAB_SIZES)
    lams, sweeps = MATCH_LAMS, MATCH_SWEEPS
    if args.quick:
        lams, sweeps = (2.0, 3.0, 4.0), (20, 40)
    rows = softmax_match(sizes, lams, sweeps, cfg=cfg, mc_tokens=args.mc_tokens, seed=args.seed)
    from .samplers import DEFAULT_SWEEPS

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


def main(argv: Sequence[str] | None = None) -> None:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        {"match": _run_match, "ising": _run_ising}[args.command](args)
    except ValueError as err:
        parser.exit(2, f"pysampler {args.command}: error: {err}\n")


if __name__ == "__main__":
    main(sys.argv[1:])
