"""Testbench class for the p-bit cores: drives the programming port, runs, collects the trace, and
compares every update with :class:`pysampler.model.BitAccurateModel` on the same program and seed.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from pysampler.contract import regmap as rm
from pysampler.contract.config import HwConfig
from pysampler.engines.array import BitAccurateModel, Trace
from pysampler.contract.program import DenseProgram, OnehotProgram

__all__ = ["TB", "RunResult", "CompareError", "env_config", "report_updates", "report_value"]

TRACE_FIELDS = ("index", "bit", "field", "lut_value", "u")


class CompareError(AssertionError):
    """First difference between the RTL and the model."""


@dataclass
class RunResult:
    trace: Trace
    popcount: int
    token: int
    onehot: int
    cycles: int


def env_config() -> HwConfig:
    """The HwConfig the runner built this simulation for (PBIT_CONFIG: a JSON file)."""
    return HwConfig.from_json(Path(os.environ["PBIT_CONFIG"]).read_text())


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _update_report(key: str, update) -> None:
    path = os.environ.get("PBIT_REPORT")
    if not path:
        return
    p = Path(path)
    data = json.loads(p.read_text()) if p.exists() else {}
    data[key] = update(data.get(key))
    p.write_text(json.dumps(data))


def report_updates(test: str, count: int) -> None:
    """Add ``count`` compared updates to the runner's report file (PBIT_REPORT)."""
    _update_report(test, lambda old: (old or 0) + count)


def report_value(key: str, value: float) -> None:
    """Record a measured figure (e.g. simulated clocks per second) in the report file."""
    _update_report(key, lambda old: value)


class TB:
    """Wraps one core (``pbit_onehot`` or ``pbit_dense``): clock, reset, bus helpers, runs."""

    def __init__(self, dut, cfg: HwConfig, *, dense: bool):
        self.dut, self.cfg, self.dense = dut, cfg, dense
        self.n = cfg.n_pbits
        self.debug = hasattr(dut, "trace__field")
        self._sig = {name: getattr(dut, name) for name in (
            "prog__addr", "prog__data", "prog__we", "start", "sweeps", "init", "busy", "done",
            "err", "popcount", "token", "onehot", "rd_addr", "rd_data", "trace__valid",
            "trace__index", "trace__bit")}
        if self.debug:
            for name in ("trace__field", "trace__lut", "trace__u"):
                self._sig[name] = getattr(dut, name)

    # clock and reset ---------------------------------------------------------------------------
    async def start(self) -> None:
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        await self.reset()

    async def reset(self, cycles: int = 2) -> None:
        s = self._sig
        for name in ("prog__addr", "prog__data", "prog__we", "start", "sweeps", "init", "rd_addr"):
            s[name].value = 0
        self.dut.rst.value = 1
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)

    # programming port ----------------------------------------------------------------------------
    async def write_many(self, writes: list[tuple[int, int, int]]) -> None:
        """Back-to-back writes of (region, offset, value), one per clock."""
        s = self._sig
        for region, offset, value in writes:
            s["prog__addr"].value = rm.address(region, offset, self.n, self.dense)
            s["prog__data"].value = int(value) & ((1 << rm.DATA_BITS) - 1)
            s["prog__we"].value = 1
            await FallingEdge(self.dut.clk)
        s["prog__we"].value = 0

    async def write(self, region: int, offset: int, value: int) -> None:
        await self.write_many([(region, offset, value)])
        await FallingEdge(self.dut.clk)

    async def seed(self, state: int) -> None:
        """Load a generator state (two words when rng_bits > 32)."""
        writes = [(rm.REGION_REG, rm.REG_SEED_LO, state & 0xFFFFFFFF)]
        if self.cfg.rng_bits > 32:
            writes.append((rm.REGION_REG, rm.REG_SEED_HI, state >> 32))
        await self.write_many(writes)
        await FallingEdge(self.dut.clk)

    async def program(self, program: OnehotProgram | DenseProgram, *, full_matrix: bool = True) -> None:
        """Write h, the coupling(s) and N_ACTIVE of a program."""
        writes = [(rm.REGION_REG, rm.REG_N_ACTIVE, program.n)]
        writes += [(rm.REGION_H, i, int(v)) for i, v in enumerate(program.h)]
        if isinstance(program, OnehotProgram):  # the whole lambda-schedule table
            writes.append((rm.REGION_REG, rm.REG_SCHED_LEN, program.schedule_length))
            for t, (offset, coupling) in enumerate(zip(program.bias_offsets, program.couplings)):
                writes += [(rm.REGION_REG, rm.sched_offset_reg(t), offset),
                           (rm.REGION_REG, rm.sched_coupling_reg(t), coupling)]
        else:
            b = rm.index_bits(self.n)
            writes += [(rm.REGION_J, (i << b) | j, int(program.J[i, j]))
                       for i in range(program.n) for j in range(program.n) if full_matrix or i != j]
        await self.write_many(writes)
        await FallingEdge(self.dut.clk)

    async def set_state(self, y) -> None:
        """Initial state for init = GIVEN (dense array)."""
        await self.write_many([(rm.REGION_STATE, i, int(v)) for i, v in enumerate(y)])
        await FallingEdge(self.dut.clk)

    def err(self) -> int:
        value = self._sig["err"].value
        if not value.is_resolvable:
            raise CompareError(f"err has unresolved bits: {value}")
        return int(value)

    async def clear_err(self) -> None:
        await self.write(rm.REGION_REG, rm.REG_CLEAR_ERR, 0)

    # runs ------------------------------------------------------------------------------------------
    async def pulse_start(self, sweeps: int, init: str) -> None:
        s = self._sig
        s["sweeps"].value = sweeps
        s["init"].value = rm.INIT_CODES[init]
        s["start"].value = 1
        await FallingEdge(self.dut.clk)
        s["start"].value = 0

    async def run(self, sweeps: int, init: str, n_active: int) -> RunResult:
        """Start a run and collect one trace beat per clock until done."""
        s = self._sig
        await self.pulse_start(sweeps, init)
        total = sweeps * n_active
        cols = {name: np.zeros(total, dtype=np.int64) for name in TRACE_FIELDS}
        got, cycles, gap = 0, 0, False
        while True:
            if int(s["trace__valid"].value):
                if got == total:
                    raise CompareError(f"more than {total} updates in a run of {sweeps} sweeps")
                if got and gap:
                    raise CompareError(f"updates not on consecutive clocks (update {got})")
                cols["index"][got] = int(s["trace__index"].value)
                cols["bit"][got] = int(s["trace__bit"].value)
                if self.debug:
                    cols["field"][got] = s["trace__field"].value.to_signed()
                    cols["lut_value"][got] = int(s["trace__lut"].value)
                    cols["u"][got] = int(s["trace__u"].value)
                got += 1
            elif got:
                gap = True
            if int(s["done"].value) and not int(s["busy"].value):
                break
            cycles += 1
            if cycles > total + 16:
                raise CompareError(f"run did not finish within {total + 16} clocks")
            await FallingEdge(self.dut.clk)
        if got != total:
            raise CompareError(f"{got} updates seen, expected {total}")
        trace = Trace(*(cols[name].reshape(1, -1) for name in TRACE_FIELDS))
        return RunResult(trace, int(s["popcount"].value), int(s["token"].value),
                         int(s["onehot"].value), cycles)

    async def read_state(self, n: int) -> np.ndarray:
        """y[0..n-1] through the read-out port (one clock each)."""
        s = self._sig
        out = np.zeros(n, dtype=np.int64)
        for i in range(n):
            s["rd_addr"].value = i
            await FallingEdge(self.dut.clk)
            await FallingEdge(self.dut.clk)
            out[i] = int(s["rd_data"].value)
        return out

    # comparison --------------------------------------------------------------------------------------
    def compare(self, result: RunResult, model: BitAccurateModel, model_trace: Trace,
                label: str) -> int:
        """Assert the RTL trace equals the model's, update by update; returns updates compared."""
        names = TRACE_FIELDS if self.debug else ("index", "bit")
        for name in names:
            rtl, ref = getattr(result.trace, name)[0], getattr(model_trace, name)[0]
            diff = np.flatnonzero(rtl != ref)
            if diff.size:
                k = int(diff[0])
                raise CompareError(
                    f"{label}: first difference at update {k} (clock {k} of the run), unit "
                    f"{int(model_trace.index[0, k])}, {name}: RTL {int(rtl[k])} != model {int(ref[k])}")
        y = model.y[0].astype(np.int64)
        pop = int(y.sum())
        token = 0
        for i in np.flatnonzero(y):
            token ^= int(i)
        checks = {"popcount": (result.popcount, pop), "token": (result.token, token),
                  "onehot": (result.onehot, int(pop == 1))}
        for name, (rtl, ref) in checks.items():
            if rtl != ref:
                raise CompareError(f"{label}: after the run {name}: RTL {rtl} != model {ref}")
        return int(model_trace.index.size)
