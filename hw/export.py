"""Verilog export: ``python -m hw.export --config NAME`` (``make verilog CONFIG=NAME``).

Writes ``build/verilog/<name>/pbit_onehot.v``, ``pbit_tree.v`` (and ``pbit_dense.v`` when
n_pbits <= 64) plus ``config.json``. The Verilog carries no source locations and no absolute paths.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from amaranth.back import verilog

from pysampler.contract.config import HwConfig, load_config

from .dense import MAX_DENSE_PBITS, DenseArray
from .onehot import OnehotCore
from .tree import TreeCore

__all__ = ["to_verilog", "export_config", "TOP_NAMES"]

TOP_NAMES = {"onehot": "pbit_onehot", "dense": "pbit_dense", "tree": "pbit_tree"}


def _cache_in_build() -> None:
    # Amaranth's Yosys runs as WebAssembly and caches its compiled module under XDG_CACHE_HOME.
    os.environ.setdefault("XDG_CACHE_HOME", str(Path("build") / "cache"))


def to_verilog(cfg: HwConfig, kind: str, *, debug_trace: bool = True,
               schedule_depth: int | None = None) -> str:
    """Verilog text of the ``kind`` ("onehot", "dense" or "tree") core for ``cfg``;
    ``schedule_depth`` sizes the one-hot core's lambda schedule (default: the full table)."""
    _cache_in_build()
    if kind == "onehot":
        depth = {} if schedule_depth is None else {"schedule_depth": schedule_depth}
        core = OnehotCore(cfg, debug_trace=debug_trace, **depth)
    elif kind == "dense":
        core = DenseArray(cfg, debug_trace=debug_trace)
    elif kind == "tree":
        core = TreeCore(cfg)
    else:
        raise ValueError(f"kind must be one of {sorted(TOP_NAMES)}, got {kind!r}")
    return verilog.convert(core, name=TOP_NAMES[kind], emit_src=False)


def export_config(cfg: HwConfig, out_dir: Path, *, debug_trace: bool = True) -> list[Path]:
    """Write every core ``cfg`` can build, and ``config.json``, into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    kinds = ["onehot", "tree"] + (["dense"] if cfg.n_pbits <= MAX_DENSE_PBITS else [])
    for kind in kinds:
        path = out_dir / f"{TOP_NAMES[kind]}.v"
        path.write_text(to_verilog(cfg, kind, debug_trace=debug_trace))
        written.append(path)
    (out_dir / "config.json").write_text(cfg.to_json() + "\n")
    written.append(out_dir / "config.json")
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hw.export", description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="default", help="HwConfig preset or .json file")
    parser.add_argument("--out", type=Path, default=Path("build/verilog"),
                        help="output root; files go to <out>/<config name>/")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config)
    except ValueError as err:
        parser.exit(2, f"hw.export: error: {err}\n")
    name = Path(args.config).stem
    for path in export_config(cfg, args.out / name):
        print(path)


if __name__ == "__main__":
    main()
