"""cocotb test of a core behind a board's UART link (``pbit_<core>_uart``: hw/serial.py's
SerialTop, what ``make bitstream`` puts on a board, without the board's pins): the host driver's
exact byte stream for a scenario (recorded by :class:`pysampler.device.link.ModelLink`, the driver
talking to the register-level model) goes in through ``uart_rx`` with cocotbext-uart, and every
reply byte coming out of ``uart_tx`` must equal the model's. So the serial transport is tested end
to end without a board: the bytes, the UART, the byte protocol, the AXI4-Lite bridge and the
core."""

from __future__ import annotations

import logging

import numpy as np

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, with_timeout
from cocotbext.uart import UartSink, UartSource

from hw.export import SIM_UART_DIVISOR
from pysampler.contract.link import CMD_READ
from pysampler.device import Device, ModelTransport
from pysampler.device.link import ModelLink

from .compare import CompareError
from .env import env_config, env_core, env_int, report_updates
from .scenario import random_scenario, refusal_scenario, replay_device

CLOCK_NS = 10
BAUD = 1e9 / (CLOCK_NS * SIM_UART_DIVISOR)


def _recorded(core, cfg, seed: int, programs: int, refusals: bool
              ) -> tuple[list[tuple[bytes, bytes]], set, int]:
    """The driver's exchanges for a random scenario (and the refusal scenario), the reads whose
    value depends on the link's timing (the stream core's CYCLES counts the clocks it waited),
    and the runs."""
    link = ModelLink(ModelTransport(core, cfg))
    dev = Device(link)
    runs = replay_device(dev, random_scenario(core, cfg, rng=np.random.default_rng(seed),
                                                count=programs), core, cfg)
    if refusals:
        runs += replay_device(dev, refusal_scenario(core, cfg, rng=np.random.default_rng(seed),
                                                     seed=seed), core, cfg)
    timed = {dev.address("CYCLES")} if core.value == "stream" else set()
    return link.exchanges, timed, runs


def _masked(sent: bytes, reply: bytes, timed: set) -> bytes:
    """``reply`` with the data of timing-dependent reads zeroed (``sent`` decoded command by
    command, as the bridge does)."""
    out, k, r = bytearray(reply), 0, 0
    while k < len(sent):
        code = sent[k]
        if code == CMD_READ:
            if int.from_bytes(sent[k + 1:k + 4], "little") in timed:
                out[r + 1:r + 5] = bytes(4)
            k, r = k + 4, r + 5
        elif code == b"W"[0]:
            k, r = k + 8, r + 1
        elif code == b"S"[0]:
            k, r = k + 4 + 4 * int.from_bytes(sent[k + 1:k + 4], "little"), r + 1
        else:  # the wait
            k, r = k + 5, r + 5
    return bytes(out)


@cocotb.test()
async def uart_driver_byte_stream_test(dut):
    core, cfg = env_core(), env_config()
    exchanges, timed, runs = _recorded(core, cfg, env_int("PBIT_SEED", 0),
                                       env_int("PBIT_PROGRAMS", 2),
                                       bool(env_int("PBIT_UART_REFUSALS", 1)))
    cocotb.start_soon(Clock(dut.clk, CLOCK_NS, unit="ns").start())
    source = UartSource(dut.uart_rx, baud=BAUD, bits=8, stop_bits=1)
    sink = UartSink(dut.uart_tx, baud=BAUD, bits=8, stop_bits=1)
    for log in (source.log, sink.log):
        log.setLevel(logging.WARNING)
    dut.rst.value = 1
    await ClockCycles(dut.clk, 4)
    dut.rst.value = 0
    await ClockCycles(dut.clk, 4)
    byte_ns = 10 * SIM_UART_DIVISOR * CLOCK_NS
    for n, (sent, want) in enumerate(exchanges):
        await source.write(sent)
        got = bytearray()
        while len(got) < len(want):  # every reply byte within a generous bound, else fail
            # read() takes what has come (its read(count) fails when fewer are queued)
            got += await with_timeout(sink.read(),
                                      byte_ns * (len(sent) + len(want)) + 2_000_000, "ns")
        if _masked(sent, bytes(got), timed) != _masked(sent, want, timed):
            raise CompareError(f"exchange {n}: sent {sent[:16].hex()}... ({len(sent)} bytes), "
                               f"replies {bytes(got).hex()} != model {want.hex()}")
    if not sink.empty():
        raise CompareError(f"{sink.count()} reply bytes past the last exchange")
    report_updates("uart_runs", runs)
    report_updates("uart_bytes", sum(len(s) + len(r) for s, r in exchanges))
