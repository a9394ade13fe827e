"""Test-bench classes: :class:`TB` owns a core's clock, reset, programming-port driver and error
flags; :class:`ArrayTB` adds the runs and the state read-out of the one-hot and dense cores (the
tree core's is :class:`sim.tb_tree.TreeTB`). They drive and observe; :mod:`sim.compare` judges."""

from __future__ import annotations

import numpy as np
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge

from pysampler.contract.config import HwConfig
from pysampler.contract.program import DenseProgram, OnehotProgram
from pysampler.contract.regmap import INIT_CODES, Core, CoreMap
from pysampler.engines.array import Trace

from .bus import ProgBus
from .compare import TRACE_FIELDS, CompareError, RunResult

__all__ = ["TB", "ArrayTB"]


class TB:
    """One core under test: clock, reset, the programming port (:attr:`bus`) and ``err``.

    Parameters
    ----------
    dut : cocotb handle
    cfg : HwConfig
        The configuration the core was built for.
    core : Core
        Which core, so which register map (:attr:`regmap`).
    """

    #: inputs besides the bus driven to 0 while in reset
    inputs: tuple[str, ...] = ("start",)

    def __init__(self, dut, cfg: HwConfig, core: Core | str):
        self.dut, self.cfg, self.core = dut, cfg, Core(core)
        self.n = cfg.n_pbits
        self.regmap = CoreMap.of(self.core, cfg)
        self.bus = ProgBus.from_prefix(dut, "prog", self.regmap)

    async def start(self) -> None:
        """Start the clock and reset."""
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        await self.reset()

    async def reset(self, cycles: int = 2) -> None:
        self.bus.idle()
        for name in self.inputs:
            getattr(self.dut, name).value = 0
        self.dut.rst.value = 1
        for _ in range(cycles):
            await FallingEdge(self.dut.clk)
        self.dut.rst.value = 0
        await FallingEdge(self.dut.clk)

    def err(self) -> int:
        """The sticky error flags (:class:`pysampler.contract.regmap.Err` bits)."""
        value = self.dut.err.value
        if not value.is_resolvable:
            raise CompareError(f"err has unresolved bits: {value}")
        return int(value)

    async def clear_err(self) -> None:
        await self.bus.write("CLEAR_ERR", 0)

    async def seed(self, state: int) -> None:
        """Load a generator state."""
        await self.bus.load_seed(state)


class ArrayTB(TB):
    """The one-hot or dense core (``pbit_onehot``, ``pbit_dense``): programs, runs traced update
    by update, state read-out."""

    inputs = ("start", "sweeps", "init", "rd_addr")

    def __init__(self, dut, cfg: HwConfig, core: Core | str):
        super().__init__(dut, cfg, core)
        self.dense = self.core is Core.DENSE
        self.debug = hasattr(dut, "trace__field")
        names = ["start", "sweeps", "init", "busy", "done", "popcount", "token", "onehot",
                 "rd_addr", "rd_data", "trace__valid", "trace__index", "trace__bit"]
        if self.debug:
            names += ["trace__field", "trace__lut", "trace__u"]
        self._sig = {name: getattr(dut, name) for name in names}

    async def program(self, program: OnehotProgram | DenseProgram, *,
                      full_matrix: bool = True) -> None:
        """Write N_ACTIVE, h and the couplings of a program (the one-hot core: its whole lambda
        schedule table)."""
        await self.bus.write_many(program.register_writes(full_matrix=full_matrix))
        await FallingEdge(self.dut.clk)

    async def set_state(self, y) -> None:
        """Initial state for init = GIVEN (dense core)."""
        await self.bus.write_many([(("STATE", i), int(v)) for i, v in enumerate(y)])
        await FallingEdge(self.dut.clk)

    async def pulse_start(self, sweeps: int, init: str) -> None:
        """Raise ``start`` for one clock with ``sweeps`` and the init policy named ``init``."""
        s = self._sig
        s["sweeps"].value = sweeps
        s["init"].value = INIT_CODES[init]
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

    async def finish_run(self, total_updates: int) -> None:
        """Wait (untraced) for a run under way to end."""
        for _ in range(total_updates + 16):
            if int(self.dut.done.value) and not int(self.dut.busy.value):
                return
            await FallingEdge(self.dut.clk)
        raise CompareError("run did not finish")

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
