"""Verilog export of the cores (``pysampler verilog --config NAME``).

Writes ``<out>/pbit_onehot.v``, ``pbit_tree.v``, ``pbit_stream.v`` (and ``pbit_dense.v`` when
n_pbits <= 64) plus ``config.json``. The graph core is built for a topology, not from a
configuration alone: :func:`export_graph` writes ``pbit_graph.v``, ``config.json`` and
``topology.json`` (its build parameters) for one. The Verilog carries no source locations and no absolute paths, and a file whose
content has not changed is not rewritten, so a re-export does not make simulators rebuild.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from amaranth.back import verilog

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import MAX_BETA_SCHEDULE
from pysampler.contract.regmap import Core

from .dense import MAX_DENSE_PBITS, DenseCore
from .graph import GraphCore
from .onehot import OnehotCore
from .stream import StreamCore
from .tree import TreeCore

__all__ = ["to_verilog", "to_verilog_graph", "export_graph", "topology_json", "to_verilog_axil", "to_verilog_link", "to_verilog_uart", "export_config",
           "export_axil", "build_core", "TOP_NAMES", "AXIL_TOP_NAMES", "LINK_TOP_NAMES",
           "UART_TOP_NAMES", "SIM_UART_DIVISOR"]

TOP_NAMES = {core.value: core.top for core in Core}
#: the AXI4-Lite wrapped cores (:mod:`hw.axi`)
AXIL_TOP_NAMES = {core.value: f"{core.top}_axil" for core in Core}
#: the cores behind the byte protocol over byte streams (:class:`hw.serial.SerialTop`): what the
#: host driver's simulated link runs
LINK_TOP_NAMES = {core.value: f"{core.top}_link" for core in Core}
#: the cores behind the byte protocol over a UART (what a board runs, without its pins)
UART_TOP_NAMES = {core.value: f"{core.top}_uart" for core in Core}
#: clocks a UART bit of the simulated UART top (its test drives 8N1 at clock / this)
SIM_UART_DIVISOR = 8


def _cache_in_build() -> None:
    # Amaranth's Yosys runs as WebAssembly and caches its compiled module under XDG_CACHE_HOME.
    os.environ.setdefault("XDG_CACHE_HOME", str(Path("build") / "cache"))


def build_core(cfg: HwConfig, kind: Core | str, *, debug_trace: bool = True,
               schedule_depth: int | None = None, **stream_options):
    """The Amaranth component of the ``kind`` core for ``cfg`` (see :func:`to_verilog`)."""
    try:
        core = Core(kind)
    except ValueError:
        raise ValueError(f"kind must be one of {sorted(TOP_NAMES)}, got {kind!r}") from None
    if core is Core.ONEHOT:
        depth = {} if schedule_depth is None else {"schedule_depth": schedule_depth}
        component = OnehotCore(cfg, debug_trace=debug_trace, **depth)
    elif core is Core.DENSE:
        component = DenseCore(cfg, debug_trace=debug_trace)
    elif core is Core.STREAM:
        component = StreamCore(cfg, debug_trace=debug_trace, **stream_options)
    elif core is Core.TREE:
        component = TreeCore(cfg)
    else:
        raise ValueError(f"the {core.value} core is built for a graph topology "
                         f"(docs/graph.md), not from a config alone: use export_graph")
    return component


def to_verilog(cfg: HwConfig, kind: Core | str, *, debug_trace: bool = True,
               schedule_depth: int | None = None, **stream_options) -> str:
    """Verilog text of the ``kind`` ("onehot", "dense", "tree" or "stream") core for ``cfg``;
    ``schedule_depth`` sizes the one-hot core's lambda schedule (default: the full table);
    ``stream_options``: the stream core's ``lanes`` and stream-format options."""
    component = build_core(cfg, kind, debug_trace=debug_trace, schedule_depth=schedule_depth,
                           **stream_options)
    _cache_in_build()
    return verilog.convert(component, name=Core(kind).top, emit_src=False)


def to_verilog_axil(cfg: HwConfig, kind: Core | str, *, debug_trace: bool = True) -> str:
    """Verilog text of the ``kind`` core behind its AXI4-Lite bridge (:class:`hw.axi.
    AxiLiteBridge`, top ``pbit_<kind>_axil``); ``debug_trace`` also brings out the trace port."""
    from .axi import AxiLiteBridge

    core = build_core(cfg, kind, debug_trace=debug_trace)
    bridge = AxiLiteBridge(core, debug_ports=("trace",) if debug_trace else ())
    _cache_in_build()
    return verilog.convert(bridge, name=AXIL_TOP_NAMES[Core(kind).value], emit_src=False)


def to_verilog_link(cfg: HwConfig, kind: Core | str) -> str:
    """Verilog text of the ``kind`` core behind the byte protocol over byte streams
    (:class:`hw.serial.SerialTop` without a UART, top ``pbit_<kind>_link``); no trace."""
    from .serial import SerialTop

    top = SerialTop(build_core(cfg, kind, debug_trace=False), divisor=None)
    _cache_in_build()
    return verilog.convert(top, name=LINK_TOP_NAMES[Core(kind).value], emit_src=False)


def to_verilog_uart(cfg: HwConfig, kind: Core | str, divisor: int = SIM_UART_DIVISOR) -> str:
    """Verilog text of the ``kind`` core behind the byte protocol over a UART of ``divisor``
    clocks a bit (:class:`hw.serial.SerialTop`, top ``pbit_<kind>_uart``: ports ``uart_rx``,
    ``uart_tx``, ``irq``): a board's top without the board's pins."""
    from .serial import SerialTop

    top = SerialTop(build_core(cfg, kind, debug_trace=False), divisor=divisor)
    _cache_in_build()
    return verilog.convert(top, name=UART_TOP_NAMES[Core(kind).value], emit_src=False)


def to_verilog_graph(cfg: HwConfig, topology, *, beta_depth: int = MAX_BETA_SCHEDULE,
                     debug_trace: bool = True, dsp_lanes: int | None = None) -> str:
    """Verilog text of the graph core (``pbit_graph``, :class:`hw.graph.GraphCore`) built for
    ``topology`` (a :class:`~pysampler.contract.graph.GraphTopology`) with ``beta_depth`` beta
    entries and ``dsp_lanes`` lanes scaling by a multiply (None: every lane)."""
    component = GraphCore(cfg, topology, beta_depth=beta_depth, debug_trace=debug_trace,
                          dsp_lanes=dsp_lanes)
    _cache_in_build()
    return verilog.convert(component, name=Core.GRAPH.top, emit_src=False)


def topology_json(topology, beta_depth: int = MAX_BETA_SCHEDULE) -> str:
    """A graph core's build parameters as JSON: units, edges, colours, degree, beta depth."""
    return json.dumps({"n": topology.n, "edges": topology.edges.tolist(),
                       "colours": topology.colours.tolist(), "max_degree": topology.max_degree,
                       "beta_depth": beta_depth})


def export_graph(cfg: HwConfig, topology, out_dir: Path, *,
                 beta_depth: int = MAX_BETA_SCHEDULE, debug_trace: bool = True,
                 dsp_lanes: int | None = None) -> list[Path]:
    """Write ``pbit_graph.v`` for ``topology`` (``dsp_lanes``: :func:`to_verilog_graph`),
    ``config.json`` and ``topology.json`` (:func:`topology_json`) into ``out_dir``; returns
    their paths (unchanged files untouched)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {f"{Core.GRAPH.top}.v": to_verilog_graph(cfg, topology, beta_depth=beta_depth,
                                                     debug_trace=debug_trace,
                                                     dsp_lanes=dsp_lanes),
             "config.json": cfg.to_json() + "\n",
             "topology.json": topology_json(topology, beta_depth) + "\n"}
    for name, text in files.items():
        _write_if_changed(out_dir / name, text)
    return [out_dir / name for name in files]


def _write_if_changed(path: Path, text: str) -> None:
    """Write ``text`` unless ``path`` holds it already; atomically (a temporary file renamed), so
    that a test worker exporting the same design never reads a half-written file."""
    if not path.exists() or path.read_text() != text:
        partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        partial.write_text(text)
        os.replace(partial, path)


def export_config(cfg: HwConfig, out_dir: Path, *, debug_trace: bool = True,
                  stream_lanes: int = 1) -> list[Path]:
    """Write every core ``cfg`` can build, and ``config.json``, into ``out_dir``; returns their
    paths (files whose content is unchanged are left untouched). ``stream_lanes``: the stream
    core's L."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    cores = [Core.ONEHOT, Core.TREE] + ([Core.DENSE] if cfg.n_pbits <= MAX_DENSE_PBITS else [])
    cores.append(Core.STREAM)  # rows of up to the stream format's max_vocab, whatever n_pbits
    for core in cores:
        path = out_dir / f"{core.top}.v"
        options = {"lanes": stream_lanes} if core is Core.STREAM else {}
        _write_if_changed(path, to_verilog(cfg, core, debug_trace=debug_trace, **options))
        written.append(path)
    _write_if_changed(out_dir / "config.json", cfg.to_json() + "\n")
    written.append(out_dir / "config.json")
    return written


def export_axil(cfg: HwConfig, out_dir: Path, kind: Core | str, *, debug_trace: bool = True,
                bus: str = "axil") -> Path:
    """Write ``pbit_<kind>_axil.v`` (``bus="uart"``: ``pbit_<kind>_uart.v``) and
    ``config.json`` into ``out_dir``; returns its path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names, text = ((AXIL_TOP_NAMES, lambda: to_verilog_axil(cfg, kind, debug_trace=debug_trace))
                   if bus == "axil" else (UART_TOP_NAMES, lambda: to_verilog_uart(cfg, kind)))
    path = out_dir / f"{names[Core(kind).value]}.v"
    _write_if_changed(path, text())
    _write_if_changed(out_dir / "config.json", cfg.to_json() + "\n")
    return path
