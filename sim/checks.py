"""Check routines of the one-hot and dense cores (random programs, edge programs, bad input, reset
in the middle of a run, token runs, KEEP runs). Each drives an :class:`~sim.tb.ArrayTB`, compares
with the bit-accurate model (:mod:`sim.compare`) and returns the number of updates it compared."""

from __future__ import annotations

import numpy as np
from cocotb.triggers import FallingEdge

from pysampler.contract.program import onehot_program
from pysampler.contract.regmap import REGISTERS, SCHEDULE_DEPTH, Err, Region, index_bits
from pysampler.contract.rng import derive_state
from pysampler.engines.array import BitAccurateModel
from pysampler.contract.rows import synthetic_logits

from .compare import CompareError, compare_run
from .programs import dense_edges, onehot_edges, random_dense_program, random_onehot_program
from .tb import ArrayTB

__all__ = ["random_onehot_program", "random_dense_program", "run_and_compare", "random_programs",
           "bad_input", "reset_mid_run", "edge_programs", "realistic_tokens", "keep_runs"]


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


async def random_programs(tb: ArrayTB, n_programs: int, seed: int, max_sweeps: int = 3) -> int:
    """Random programs of random size, random seeds (sometimes continuing the generator), every
    init policy the core has."""
    cfg = tb.cfg
    rng = np.random.default_rng([seed, cfg.n_pbits, int(tb.dense)])
    inits = ["zeros", "random_onehot"] + (["given"] if tb.dense else [])
    total, state = 0, None
    for p in range(n_programs):
        n = int(rng.integers(1, cfg.n_pbits + 1)) if rng.random() < 0.8 else \
            int(rng.choice([1, cfg.n_pbits]))
        program = (random_dense_program if tb.dense else random_onehot_program)(cfg, rng, n)
        if state is None or rng.random() < 0.7:
            state = int(rng.integers(1, 1 << cfg.rng_bits, dtype=np.uint64)) if cfg.rng_bits < 64 \
                else int(rng.integers(1, 1 << 63)) * 2 - int(rng.integers(0, 2))
            state = max(state, 1)
            await tb.seed(state)
        await tb.program(program)
        init = str(rng.choice(inits))
        given = None
        if init == "given":
            given = rng.integers(0, 2, n)
            await tb.set_state(given)
        # a scheduled program also gets runs longer than its table (early sweeps at entry 0)
        most = max_sweeps if tb.dense else max(max_sweeps, program.schedule_length + 2)
        count, state = await run_and_compare(tb, program, state, int(rng.integers(1, most + 1)),
                                             init, f"random program {p} (n={n}, init={init})", given)
        total += count
        if tb.err():
            raise CompareError(f"random program {p}: unexpected error flags {_flags(tb.err())}")
    return total


async def edge_programs(tb: ArrayTB, seed: int) -> int:
    cfg = tb.cfg
    programs = dense_edges(cfg) if tb.dense else onehot_edges(cfg)
    inits = ["zeros", "random_onehot"] + (["given"] if tb.dense else [])
    total = 0
    for p, program in enumerate(programs):
        for init in inits:
            state = derive_state(seed, 1000 + p, cfg)
            await tb.seed(state)
            await tb.program(program)
            given = np.ones(program.n, dtype=np.int64) if init == "given" else None
            if given is not None:
                await tb.set_state(given)
            table = program.schedule_length
            sweeps = 3 if table == 1 else table + 2  # a schedule: also sweeps at entry 0
            count, _ = await run_and_compare(tb, program, state, sweeps, init,
                                             f"edge program {p} (n={program.n}, init={init})", given)
            total += count
    if tb.err():
        raise CompareError(f"edge programs: unexpected error flags {_flags(tb.err())}")
    return total


def _flags(value: int) -> str:
    return Err(value).name or "0"


def _unmapped_register(tb: ArrayTB) -> int:
    """An address in the REG region that holds no register of the core."""
    return tb.regmap.raw_address(Region.REG, tb.regmap.free_offsets(Region.REG)[-1])


async def bad_input(tb: ArrayTB, seed: int) -> int:
    """Every rejected input is ignored and flagged; the next run still matches the model."""
    cfg, n = tb.cfg, tb.cfg.n_pbits
    rng = np.random.default_rng(seed)
    program = (random_dense_program if tb.dense else random_onehot_program)(cfg, rng, n)
    state = derive_state(seed, 7, cfg)
    await tb.seed(state)
    await tb.program(program)
    total = 0

    async def expect(flag: Err, what: str) -> None:
        if tb.err() != flag:
            raise CompareError(f"{what}: err = {_flags(tb.err())}, expected {flag.name}")
        await tb.clear_err()
        if tb.err():
            raise CompareError(f"CLEAR_ERR left err = {_flags(tb.err())}")

    for region in set(Region) - set(tb.regmap.regions):
        await tb.bus.write_raw(tb.regmap.raw_address(region, 0), 1)
        await expect(Err.ADDR, f"write to the {region.name} region the core lacks")
    await tb.bus.write_raw(_unmapped_register(tb), 1)
    await expect(Err.ADDR, "write to an undefined register")
    await tb.bus.write(("H", 0), cfg.weight_max + 1)
    await expect(Err.VALUE, "h that does not fit weight_bits")
    await tb.bus.write(("H", 0), cfg.weight_min - 1)
    await expect(Err.VALUE, "h below the weight range")
    if n < 1 << tb.regmap.offset_bits:
        await tb.bus.write_raw(tb.regmap.raw_address(Region.H, n), 0)
        await expect(Err.ADDR, "h past n_pbits")
    for bad in (0, n + 1):
        await tb.bus.write("N_ACTIVE", bad)
        await expect(Err.VALUE, f"N_ACTIVE = {bad}")
    for reg in REGISTERS:  # registers of other cores (or builds): free offsets here
        if reg.name not in tb.regmap and reg.region in tb.regmap.regions \
                and reg.offsets.base < 1 << tb.regmap.offset_bits \
                and reg.offsets.base in tb.regmap.free_offsets(reg.region):
            await tb.bus.write_raw(tb.regmap.raw_address(reg.region, reg.offsets.base), 1)
            await expect(Err.ADDR, f"{reg.label} on the {tb.core.value} core")
    if not tb.dense:
        for bad in (0, SCHEDULE_DEPTH + 1):
            await tb.bus.write("SCHED_LEN", bad)
            await expect(Err.VALUE, f"SCHED_LEN = {bad}")
        await tb.bus.write(("SCHED_OFFSET", SCHEDULE_DEPTH - 1), cfg.weight_max + 1)
        await expect(Err.VALUE, "schedule offset that does not fit weight_bits")
        await tb.bus.write(("SCHED_COUPLING", 3), cfg.weight_min - 1)
        await expect(Err.VALUE, "schedule coupling below the weight range")
    if tb.dense:
        await tb.bus.write(("STATE", 0), 2)
        await expect(Err.VALUE, "y = 2")
        if n < 1 << index_bits(n):
            await tb.bus.write_raw(tb.regmap.raw_address(Region.J, n << index_bits(n)), 0)
            await expect(Err.ADDR, "J row past n_pbits")
    await tb.seed(0)
    await expect(Err.SEED, "zero seed")
    await tb.pulse_start(0, "zeros")
    await FallingEdge(tb.dut.clk)
    await expect(Err.BAD_START, "start with sweeps = 0")
    if not tb.dense:
        await tb.pulse_start(1, "given")
        await FallingEdge(tb.dut.clk)
        await expect(Err.BAD_START, "init = given on the one-hot core")

    # None of the above changed the program or the generator: a run still matches the model.
    count, state = await run_and_compare(tb, program, state, 2, "zeros", "after rejected writes")
    total += count

    # Writes and a start while busy are ignored; the running job is not disturbed: its generator
    # ends where the model's does, which the next compared run checks.
    model = BitAccurateModel(program, 1, rng_states=[state], init="random_onehot")
    model.run(4)
    await tb.pulse_start(4, "random_onehot")
    await tb.bus.write_many([(("H", 0), 1), ("SEED_LO", 12345)])
    await tb.pulse_start(9, "zeros")
    await tb.finish_run(4 * n)
    if tb.err() != Err.BUSY_WRITE | Err.BUSY_START:
        raise CompareError(f"writes/start while busy: err = {_flags(tb.err())}")
    await tb.clear_err()
    count, _ = await run_and_compare(tb, program, int(model.rng_states[0]), 1, "zeros",
                                     "after writes while busy")
    return total + count


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
    await tb.bus.write_raw(_unmapped_register(tb), 0)  # leave an error flag set too
    await tb.reset()
    if int(tb.dut.busy.value) or int(tb.dut.done.value) or tb.err():
        raise CompareError("reset did not leave the core idle with no done and no errors")
    await tb.program(program)  # N_ACTIVE and the coupling were reset; h memory kept its contents
    count, _ = await run_and_compare(tb, program, derive_state(0, 0, cfg), 2, "zeros",
                                     "first run after reset (no seed written)")
    return count


async def realistic_tokens(tb: ArrayTB, runs: int, sweeps: int, seed: int) -> int:
    """Token runs as HardwareSampler does them: synthetic LM-like logits (Normal(0, 2^2)) over all
    n_pbits units, init zeros, one generator running on from token to token; lambda 3 in even
    runs, the ramp (1.5, 2, 2.5, 3) in odd ones."""
    cfg = tb.cfg
    state = derive_state(seed, 0, cfg)
    await tb.seed(state)
    total = 0
    for r in range(runs):
        lam = 3.0 if r % 2 == 0 else (1.5, 2.0, 2.5, 3.0)
        program = onehot_program(synthetic_logits(cfg.n_pbits, seed + r), lam, 1.0, cfg)
        await tb.program(program)
        count, state = await run_and_compare(tb, program, state, sweeps, "zeros",
                                             f"token run {r} (V={cfg.n_pbits}, {sweeps} sweeps)")
        total += count
    return total


async def keep_runs(tb: ArrayTB, n_programs: int, seed: int) -> int:
    """The one-hot core's KEEP start (the continue read-out policy's extra sweeps): a run from
    zeros, then runs that go on from the state the last one left, each compared with one model
    chain that simply runs on. KEEP is refused after reset and after a coupling or N_ACTIVE write
    (the core's running j * popcount would be stale), and allowed after an h write."""
    cfg = tb.cfg
    rng = np.random.default_rng([seed, cfg.n_pbits, 11])
    await tb.reset()
    await tb.pulse_start(1, "keep")
    await FallingEdge(tb.dut.clk)
    if tb.err() != Err.BAD_START or int(tb.dut.busy.value):
        raise CompareError(f"KEEP right after reset: err = {_flags(tb.err())}, expected refusal")
    await tb.clear_err()
    total = 0
    for p in range(n_programs):
        n = int(rng.integers(1, cfg.n_pbits + 1))
        program = random_onehot_program(cfg, rng, n)
        state = derive_state(seed, 2000 + p, cfg)
        await tb.seed(state)
        await tb.program(program)
        model = BitAccurateModel(program, 1, rng_states=[state], init="zeros")
        runs = [("zeros", int(rng.integers(1, 4)))] + [("keep", int(rng.integers(1, 4)))
                                                       for _ in range(3)]
        for r, (init, sweeps) in enumerate(runs):
            expected = model.run(sweeps, trace=True)
            result = await tb.run(sweeps, init, n)
            total += compare_run(result, model, expected, f"keep program {p} run {r} ({init})",
                                 tb.debug)
        if p == 0:  # an h write keeps the chain; a coupling write does not
            await tb.bus.write(("H", 0), int(program.h[0]))
            expected = model.run(1, trace=True)
            total += compare_run(await tb.run(1, "keep", n), model, expected, "keep after h write",
                                 tb.debug)
            await tb.bus.write("COUPLING", int(program.couplings[0]))
            await tb.pulse_start(1, "keep")
            await FallingEdge(tb.dut.clk)
            if tb.err() != Err.BAD_START:
                raise CompareError(f"KEEP after a coupling write: err = {_flags(tb.err())}")
            await tb.clear_err()
    if tb.err():
        raise CompareError(f"keep runs: unexpected error flags {_flags(tb.err())}")
    return total
