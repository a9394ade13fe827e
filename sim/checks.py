"""The scenarios of :mod:`sim.scenario` replayed through the native programming port of the one-hot
and dense cores (cocotb, :class:`~sim.tb.ArrayTB`: the write port, the ``start`` / ``sweeps`` /
``init`` pins, the read port, the trace): every run compared update by update with the model
(:mod:`sim.compare`), its status and generator read back through the read port, every refused
access checked for its flag (:func:`expect_flag`, the one "expect a flag, clear it" step). The
check routines (random, edge and KEEP runs, bad input, token runs, reset in the middle of a run)
build their scenario and replay it; each returns the number of updates it compared."""

from __future__ import annotations

import numpy as np
import cocotb
from cocotb.triggers import FallingEdge

from pysampler.contract.regmap import Err, Region
from pysampler.contract.rng import derive_state
from pysampler.engines.array import BitAccurateModel

from .compare import CompareError, compare_run
from .programs import random_dense_program, random_onehot_program
from .scenario import (Expect, Load, Refuse, Reset, Run, Seed, SetState, Write, edge_scenario,
                       keep_scenario, random_scenario, refusal_scenario, token_scenario)
from .tb import ArrayTB

__all__ = ["random_onehot_program", "random_dense_program", "run_and_compare", "random_programs",
           "bad_input", "reset_mid_run", "edge_programs", "realistic_tokens", "keep_runs",
           "replay", "expect_flag"]


def _flags(value: int) -> str:
    return Err(value).name or str(Err(value)) if value else "0"


async def expect_flag(tb, flags: Err, label: str) -> None:
    """The sticky flags are exactly ``flags``; CLEAR_ERR clears them."""
    if tb.err() != flags:
        raise CompareError(f"{label}: err = {_flags(tb.err())}, expected {_flags(int(flags))}")
    await tb.clear_err()
    if tb.err():
        raise CompareError(f"{label}: CLEAR_ERR left err = {_flags(tb.err())}")


async def run_and_compare(tb: ArrayTB, program, state: int, sweeps: int, init: str, label: str,
                          given=None) -> tuple[int, int]:
    """Run ``program`` from generator state ``state`` on RTL and model; returns
    (updates compared, the generator state after the run)."""
    model = BitAccurateModel(program, 1, rng_states=[state],
                             init=np.asarray(given) if init == "given" else init)
    expected = model.run(sweeps, trace=True)
    result = await tb.run(sweeps, init, program.n)
    count = compare_run(result, model, expected, label, tb.debug)
    if program.n <= 16:
        y = await tb.read_state(program.n)
        if not np.array_equal(y, model.y[0]):
            raise CompareError(f"{label}: read-out {y.tolist()} != model {model.y[0].tolist()}")
    return count, int(model.rng_states[0])


async def _busy_writes(tb: ArrayTB) -> None:
    """Two clocks into a run: an h write, a seed word and a start (all refused)."""
    await FallingEdge(tb.dut.clk)
    await FallingEdge(tb.dut.clk)
    await tb.bus.write_many([(("H", 0), 1), ("SEED_LO", 12345)])
    await tb.pulse_start(9, "zeros")


async def _run(tb: ArrayTB, op: Run, want, program) -> int:
    busy = cocotb.start_soon(_busy_writes(tb)) if op.busy_writes else None
    result = await tb.run(op.sweeps, op.init, program.n)
    if busy is not None:
        await busy
    count = compare_run(result, want.model, want.trace, op.label, tb.debug)
    if op.read:
        y = await tb.read_state(program.n)
        if not np.array_equal(y, want.model.y[0]):
            raise CompareError(f"{op.label}: read-out {y.tolist()} != model "
                               f"{want.model.y[0].tolist()}")
    # what a bus reads after the run, through the native read port
    got = [await tb.bus.read(name) for name in ("TOKEN", "POPCOUNT", "CYCLES")]
    state = 0
    for name, _ in tb.regmap.seed_words(0):
        state |= await tb.bus.read(name) << (32 * tb.regmap[name].word)
    ref = [want.token, want.popcount, 3 + op.sweeps * program.n]
    if got != ref or state != want.rng_state:
        raise CompareError(f"{op.label}: read back (TOKEN, POPCOUNT, CYCLES) {got}, generator "
                           f"{state:#x}; model {ref}, {want.rng_state:#x}")
    if op.busy_writes:
        await expect_flag(tb, Err.BUSY_WRITE | Err.BUSY_START, f"{op.label}: the flags")
    elif tb.err():
        raise CompareError(f"{op.label}: unexpected error flags {_flags(tb.err())}")
    return count


async def _refuse(tb: ArrayTB, op: Refuse) -> None:
    if op.access == "read":
        tb.bus.raddr.value = op.address
        await FallingEdge(tb.dut.clk)
        if not int(tb.dut.prog__rerr.value) or int(tb.bus.rdata.value) or tb.err():
            raise CompareError(f"{op.label}: rerr {tb.dut.prog__rerr.value}, rdata "
                               f"{tb.bus.rdata.value}, err {_flags(tb.err())}")
        return
    if op.access == "start":
        await tb.pulse_start(op.sweeps, op.init)
        await FallingEdge(tb.dut.clk)
        if int(tb.dut.busy.value):
            raise CompareError(f"{op.label}: the core went busy")
    else:
        await tb.bus.write_raw(op.address, op.value)
    await expect_flag(tb, op.flag, op.label)


async def replay(tb: ArrayTB, ops) -> int:
    """Replay a scenario (:mod:`sim.scenario`) through the native port; returns the updates
    compared."""
    expect = Expect(tb.core, tb.cfg)
    total, program = 0, None
    for op in ops:
        want = expect.step(op)
        if isinstance(op, Seed):
            await tb.seed(op.state)
        elif isinstance(op, Load):
            program = op.program
            await tb.program(program)
        elif isinstance(op, SetState):
            await tb.set_state(op.y)
        elif isinstance(op, Write):
            await tb.bus.write_raw(op.address, op.value)
            if tb.err():
                raise CompareError(f"write {op.address:#x} = {op.value}: err {_flags(tb.err())}")
        elif isinstance(op, Reset):
            await tb.reset()
        elif isinstance(op, Refuse):
            await _refuse(tb, op)
        elif isinstance(op, Run):
            total += await _run(tb, op, want, program)
    return total


async def random_programs(tb: ArrayTB, n_programs: int, seed: int, max_sweeps: int = 3) -> int:
    """Random programs of random size, random seeds (sometimes continuing the generator), every
    init policy the core has (:func:`sim.scenario.random_scenario`)."""
    rng = np.random.default_rng([seed, tb.cfg.n_pbits, int(tb.dense)])
    return await replay(tb, random_scenario(tb.core, tb.cfg, rng=rng, count=n_programs,
                                            max_sweeps=max_sweeps))


async def edge_programs(tb: ArrayTB, seed: int) -> int:
    return await replay(tb, edge_scenario(tb.core, tb.cfg, seed))


async def bad_input(tb: ArrayTB, seed: int) -> int:
    """Every refused access, each with its flag; runs before and after still match the model
    (:func:`sim.scenario.refusal_scenario`), and a start while busy leaves the run alone."""
    return await replay(tb, refusal_scenario(tb.core, tb.cfg, rng=np.random.default_rng(seed),
                                             seed=seed))


async def reset_mid_run(tb: ArrayTB, seed: int) -> int:
    """Reset during a run: idle, no done, no errors, generator back at derive_state(0, 0)."""
    cfg, n = tb.cfg, tb.cfg.n_pbits
    rng = np.random.default_rng(seed + 1)
    program = (random_dense_program if tb.dense else random_onehot_program)(cfg, rng, n)
    await tb.seed(derive_state(seed, 3, cfg))
    await tb.program(program)
    await tb.pulse_start(5, "zeros")
    for _ in range(n + 3):
        await FallingEdge(tb.dut.clk)
    free = tb.regmap.free_offsets(Region.REG)
    await tb.bus.write_raw(tb.regmap.raw_address(Region.REG, free[-1]), 0)  # leave a flag set
    await tb.reset()
    if int(tb.dut.busy.value) or int(tb.dut.done.value) or tb.err():
        raise CompareError("reset did not leave the core idle with no done and no errors")
    # N_ACTIVE and the coupling were reset; h memory kept its contents
    return await replay(tb, [Reset(), Load(program),
                             Run("first run after reset (no seed written)", 2)])


async def realistic_tokens(tb: ArrayTB, runs: int, sweeps: int, seed: int) -> int:
    """Token runs as HardwareSampler does them (:func:`sim.scenario.token_scenario`)."""
    return await replay(tb, token_scenario(tb.cfg, runs, sweeps, seed))


async def keep_runs(tb: ArrayTB, n_programs: int, seed: int) -> int:
    """The one-hot core's KEEP start: refused right after reset, then runs that go on from the
    state the last one left (:func:`sim.scenario.keep_scenario`); refused after a coupling write
    (the refusal scenario)."""
    rng = np.random.default_rng([seed, tb.cfg.n_pbits, 11])
    ops = [Reset(), Refuse("KEEP right after reset", "start", flag=Err.BAD_START, sweeps=1,
                           init="keep")] + keep_scenario(tb.cfg, rng, n_programs, seed)
    return await replay(tb, ops)
