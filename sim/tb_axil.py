"""cocotb tests of a core behind its AXI4-Lite bridge (``pbit_<core>_axil``, hw/axi.py), any core:
the scenarios of :mod:`sim.scenario` replayed through cocotbext-axi's ``AxiLiteMaster`` (and
``AxiStreamSource`` for the stream core's logits) with random back-pressure on every channel,
every run compared bit for bit with the model through the bus (the token, the popcount and the
generator state read back through registers) and through the trace port, every refused access
answered SLVERR with its flag in ERR, no access left unanswered (each has a timeout)."""

from __future__ import annotations

import itertools
import logging
import random

import numpy as np
import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge, with_timeout
from cocotbext.axi import (AxiLiteBus, AxiLiteMaster, AxiStreamBus, AxiStreamFrame,
                           AxiStreamSource)

from pysampler.contract.regmap import INIT_CODES, Core, Err, Status

from .compare import CompareError, RunResult, compare_draw, compare_run
from .env import env_config, env_core, env_int, report_updates
from .scenario import (ARRAY_CORES, Expect, Expected, Load, Refuse, Reset, Run, Seed, SetState,
                       Write, load_writes, random_scenario, refusal_scenario,
                       scenario_map, start_word)
from .tb_stream import compare_stream

__all__ = ["AxilTB"]

OKAY, SLVERR = 0, 2
TIMEOUT_NS = 2_000_000


def _pauses(seed: int, p_pause: float):
    """An endless pause pattern: True (pause) with probability ``p_pause``."""
    rnd = random.Random(seed)
    return (rnd.random() < p_pause for _ in itertools.count())


class AxilTB:
    """A core behind its AXI4-Lite bridge: register writes and reads by name, runs started
    through START and waited for on ``irq``, the trace collected while a run is under way."""

    def __init__(self, dut, core: Core, cfg):
        self.dut, self.core, self.cfg = dut, core, cfg
        self.regmap = scenario_map(core, cfg)
        self.master = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil", bus_separator="__"),
                                    dut.clk, dut.rst)
        self.master.write_if.log.setLevel(logging.WARNING)
        self.master.read_if.log.setLevel(logging.WARNING)
        self.source = None
        if core is Core.STREAM:
            self.source = AxiStreamSource(AxiStreamBus.from_prefix(dut, "s_axis",
                                                                   bus_separator="__"),
                                          dut.clk, dut.rst, byte_lanes=1)
            self.source.log.setLevel(logging.WARNING)
        self.beats: list[tuple] | None = None
        names = [n for n in ("index", "bit", "field", "lut", "u", "node", "forced", "merge", "m")
                 if hasattr(dut, f"trace__{n}")]
        self._trace = [(n, getattr(dut, f"trace__{n}")) for n in names]
        self.trace_names = names

    async def start(self) -> None:
        cocotb.start_soon(Clock(self.dut.clk, 10, unit="ns").start())
        self.dut.rst.value = 1
        await ClockCycles(self.dut.clk, 3)
        self.dut.rst.value = 0
        await ClockCycles(self.dut.clk, 2)
        cocotb.start_soon(self._monitor())

    def back_pressure(self, seed: int | None, p_pause: float = 0.3) -> None:
        """Random pauses on every channel (AW, W, B, AR, R and the stream), or none (None)."""
        channels = [self.master.write_if.aw_channel, self.master.write_if.w_channel,
                    self.master.write_if.b_channel, self.master.read_if.ar_channel,
                    self.master.read_if.r_channel] + ([self.source] if self.source else [])
        for k, channel in enumerate(channels):
            channel.set_pause_generator(None if seed is None else _pauses(seed * 16 + k, p_pause))
            if seed is None:
                channel.pause = False  # a stopped generator leaves its last value

    async def _monitor(self) -> None:
        while True:
            await RisingEdge(self.dut.clk)
            if self.beats is not None and int(self.dut.trace__valid.value):
                self.beats.append(tuple(
                    sig.value.to_signed() if name in ("field", "m") else int(sig.value)
                    for name, sig in self._trace))

    async def write(self, ref, value: int) -> int:
        """Write a register (name or (name, index)); returns the response code."""
        return await self.write_raw(self.regmap.address(ref), value)

    async def write_raw(self, address: int, value: int, strobe_bytes: int = 4) -> int:
        data = (int(value) & 0xFFFFFFFF).to_bytes(4, "little")[:strobe_bytes]
        resp = await with_timeout(self.master.write(4 * address, data), TIMEOUT_NS, "ns")
        return int(resp.resp)

    async def read(self, ref) -> int:
        value, resp = await self.read_raw(self.regmap.address(ref))
        if resp != OKAY:
            raise CompareError(f"read of {ref}: response {resp}")
        return value

    async def read_raw(self, address: int, offset: int = 0) -> tuple[int, int]:
        resp = await with_timeout(self.master.read(4 * address + offset, 4), TIMEOUT_NS, "ns")
        return int.from_bytes(resp.data, "little"), int(resp.resp)

    async def expect_err(self, flags: Err, label: str) -> None:
        got = Err(await self.read("ERR"))
        if got != flags:
            raise CompareError(f"{label}: ERR = {got!r}, expected {flags!r}")
        if await self.write("CLEAR_ERR", 0) != OKAY or await self.read("ERR"):
            raise CompareError(f"{label}: CLEAR_ERR did not clear the flags")

    async def write_many(self, writes) -> None:
        for ref, value in writes:
            if await self.write(ref, value) != OKAY:
                raise CompareError(f"write {ref} = {value} refused (ERR "
                                   f"{Err(await self.read('ERR'))!r})")

    async def wait_done(self) -> None:
        """Wait for the done interrupt (IRQ_ENABLE is set), then check STATUS."""
        async def irq():
            while not int(self.dut.irq.value):
                await RisingEdge(self.dut.clk)
        await with_timeout(irq(), TIMEOUT_NS, "ns")
        status = Status(await self.read("STATUS"))
        if Status.BUSY in status or Status.DONE not in status:
            raise CompareError(f"irq high but STATUS = {status!r}")

    async def run(self, op: Run, expect: Expected, program) -> int:
        """Start the run through START, (stream core) send the row, wait for irq; compare."""
        fields = {"SWEEPS": op.sweeps, "INIT": INIT_CODES[op.init]} \
            if self.core in ARRAY_CORES else {}
        self.beats = []
        if await self.write("START", self.regmap.pack("START", **fields)) != OKAY:
            raise CompareError(f"{op.label}: START refused (ERR {Err(await self.read('ERR'))!r})")
        if op.busy_writes:
            await self._busy_writes(fields)
        if self.core is Core.STREAM:
            frame = AxiStreamFrame([int(v) & ((1 << len(self.dut.s_axis__tdata)) - 1)
                                    for v in program.q])
            await with_timeout(self.source.send(frame), TIMEOUT_NS, "ns")
        await self.wait_done()
        beats, self.beats = self.beats, None
        return await self._compare(op, expect, program, beats)

    async def _busy_writes(self, fields: dict) -> None:
        """A write and a START while the run is under way: both SLVERR, BUSY_WRITE and
        BUSY_START in ERR (checked after the run), nothing changed."""
        self.back_pressure(None)
        if Status.BUSY not in Status(await self.read("STATUS")):
            raise CompareError("the run ended before the writes while busy")
        refused = [await self.write("N_ACTIVE", 1),
                   await self.write("START", self.regmap.pack("START", **fields))]
        if refused != [SLVERR, SLVERR]:
            raise CompareError(f"writes while busy answered {refused}, expected SLVERR")
        self.busy_flags = Err.BUSY_WRITE | Err.BUSY_START

    async def _compare(self, op: Run, expect: Expected, program, beats) -> int:
        token, state = await self.read("TOKEN"), await self._read_state()
        if state != expect.rng_state:
            raise CompareError(f"{op.label}: generator state read back {state:#x} != model "
                               f"{expect.rng_state:#x}")
        if self.core in ARRAY_CORES:
            cols = {name: np.array([b[k] for b in beats], dtype=np.int64).reshape(1, -1)
                    for k, name in enumerate(self.trace_names)}
            trace = type(expect.trace)(cols["index"], cols["bit"], cols["field"], cols["lut"],
                                       cols["u"])
            status = Status(await self.read("STATUS"))
            result = RunResult(trace, await self.read("POPCOUNT"), token,
                               int(Status.ONEHOT in status), await self.read("CYCLES"))
            if trace.index.size != expect.trace.index.size:
                raise CompareError(f"{op.label}: {trace.index.size} updates, model "
                                   f"{expect.trace.index.size}")
            count = compare_run(result, expect.model, expect.trace, op.label, True)
            if result.cycles != 3 + op.sweeps * program.n:
                raise CompareError(f"{op.label}: CYCLES {result.cycles}, expected "
                                   f"{3 + op.sweeps * program.n}")
            return count
        if self.core is Core.TREE:
            order = ("node", "bit", "forced", "field", "lut", "u")
            picked = [tuple(b[self.trace_names.index(n)] for n in order) for b in beats]
            return compare_draw(picked, token, expect.token, expect.trace, op.label)
        order = ("merge", "index", "bit", "forced", "field", "lut", "u", "m")
        picked = [tuple(b[self.trace_names.index(n)] for n in order) for b in beats]
        return compare_stream(picked, token, program, expect.token, expect.trace, op.label)

    async def _read_state(self) -> int:
        state = 0
        for name, _ in self.regmap.seed_words(0):
            word = self.regmap[name].word
            state |= await self.read(name) << (32 * word)
        return state

    async def replay(self, ops, pressure_seed: int | None) -> int:
        """Replay a scenario; returns the updates (decisions) compared."""
        expect = Expect(self.core, self.cfg)
        compared, program = 0, None
        self.busy_flags = Err(0)
        await self.write("IRQ_ENABLE", 1)
        for k, op in enumerate(ops):
            self.back_pressure(None if pressure_seed is None else pressure_seed + k)
            want = expect.step(op)
            if isinstance(op, Seed):
                await self.write_many(self.regmap.seed_words(op.state))
            elif isinstance(op, Load):
                program = op.program
                await self.write_many(load_writes(self.core, program))
            elif isinstance(op, SetState):
                await self.write_many([(("STATE", i), v) for i, v in enumerate(op.y)])
            elif isinstance(op, Run):
                compared += await self.run(op, want, program)
                if self.busy_flags:
                    await self.expect_err(self.busy_flags, op.label)
                    self.busy_flags = Err(0)
                elif await self.read("ERR"):
                    raise CompareError(f"{op.label}: ERR {Err(await self.read('ERR'))!r}")
            elif isinstance(op, Refuse):
                await self._refuse(op)
            elif isinstance(op, Reset):
                raise CompareError("the AXI bench does not reset mid-scenario")
            elif isinstance(op, Write):
                if await self.write_raw(op.address, op.value) != OKAY:
                    raise CompareError(f"write {op.address:#x} = {op.value} refused")
        return compared

    async def _refuse(self, op: Refuse) -> None:
        if op.access == "read":
            value, resp = await self.read_raw(op.address)
            if resp != SLVERR or value:
                raise CompareError(f"{op.label}: read answered {resp} ({value:#x}), expected "
                                   f"SLVERR")
            if await self.read("ERR"):
                raise CompareError(f"{op.label}: a refused read raised a flag")
            return
        address, value = start_word(self.regmap, op) if op.access == "start" \
            else (op.address, op.value)
        resp = await self.write_raw(address, value)
        if resp != SLVERR:
            raise CompareError(f"{op.label}: write answered {resp}, expected SLVERR")
        await self.expect_err(op.flag, op.label)


async def _bench(dut) -> AxilTB:
    tb = AxilTB(dut, env_core(), env_config())
    await tb.start()
    return tb


@cocotb.test()
async def axil_random_programs_test(dut):
    """Random programs through the bus, random back-pressure on every channel."""
    tb = await _bench(dut)
    seed = env_int("PBIT_SEED", 0)
    rng = np.random.default_rng([seed, tb.cfg.n_pbits, tb.core.code, 23])
    ops = random_scenario(tb.core, tb.cfg, rng=rng, count=env_int("PBIT_PROGRAMS", 6),
                          max_n=min(tb.cfg.n_pbits, 64) if tb.core is not Core.STREAM else 200)
    report_updates("axil_random", await tb.replay(ops, pressure_seed=seed + 1))


@cocotb.test()
async def axil_refusals_test(dut):
    """Every refused access answered SLVERR with its flag; the next programs run bit-exact."""
    tb = await _bench(dut)
    seed = env_int("PBIT_SEED", 0)
    ops = refusal_scenario(tb.core, tb.cfg, rng=np.random.default_rng([seed, 5]), seed=seed)
    report_updates("axil_refusals", await tb.replay(ops, pressure_seed=7))


@cocotb.test()
async def axil_protocol_test(dut):
    """What the bridge itself refuses (partial strobes, unaligned addresses), the interrupt
    enable, the constants, and a read and a write in flight together."""
    tb = await _bench(dut)
    regmap = tb.regmap
    n_active = regmap.address("N_ACTIVE")
    before = await tb.read("N_ACTIVE")
    if await tb.write_raw(n_active, 1, strobe_bytes=2) != SLVERR:
        raise CompareError("a write with partial strobes was not refused")
    if await tb.read("N_ACTIVE") != before or await tb.read("ERR"):
        raise CompareError("a refused partial write changed N_ACTIVE or raised a flag")
    resp = await with_timeout(tb.master.write(4 * n_active + 2, b"\x01\x00"), TIMEOUT_NS, "ns")
    if int(resp.resp) != SLVERR or await tb.read("N_ACTIVE") != before:
        raise CompareError("an unaligned write was not refused")
    if (await tb.read_raw(regmap.address("CORE_ID"), offset=1))[1] != SLVERR:
        raise CompareError("an unaligned read was not refused")
    if await tb.read("CORE_ID") != regmap.value(regmap["CORE_ID"]) or \
            await tb.read("CAPACITY") != regmap.params.n_pbits:
        raise CompareError("CORE_ID or CAPACITY reads wrong")
    # a write and a read issued together: both answered
    tb.back_pressure(3, 0.5)
    write = cocotb.start_soon(tb.write("IRQ_ENABLE", 1))
    value = await tb.read("N_ACTIVE")
    if await write != OKAY or value != before or await tb.read("IRQ_ENABLE") != 1:
        raise CompareError("concurrent read and write")
    if int(dut.irq.value):
        raise CompareError("irq before any run")
    report_updates("axil_protocol", 0)
