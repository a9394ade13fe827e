"""cocotb tests of ``pbit_onehot`` (hw/onehot.py): the shared tests of :mod:`sim.tb_common`, plus
token runs on LM-like logits (PBIT_TOKEN_RUNS, PBIT_TOKEN_SWEEPS), runs that KEEP the last run's
state, and the timed run of :func:`sim.bench.cosim_speed` (PBIT_BENCH_SWEEPS)."""

import time

import cocotb

from pysampler.contract.program import onehot_program
from pysampler.contract.rows import synthetic_logits

from .checks import keep_runs, realistic_tokens, run_and_compare
from .env import env_int, report_updates, report_value
from .tb_common import (bad_input_test, edge_programs_test, random_programs_test,  # noqa: F401
                        reset_mid_run_test, start_tb)


@cocotb.test()
async def realistic_tokens_test(dut):
    tb = await start_tb(dut)
    report_updates("realistic_tokens", await realistic_tokens(
        tb, env_int("PBIT_TOKEN_RUNS", 4), env_int("PBIT_TOKEN_SWEEPS", 40), env_int("PBIT_SEED", 0)))


@cocotb.test()
async def keep_runs_test(dut):
    tb = await start_tb(dut)
    report_updates("keep_runs", await keep_runs(tb, 20, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def throughput_test(dut):
    """Simulated clocks per second of a full co-simulated run (trace read and compared every
    clock): one token program over all units, PBIT_BENCH_SWEEPS sweeps."""
    tb = await start_tb(dut)
    program = onehot_program(synthetic_logits(tb.cfg.n_pbits), 3.0, 1.0, tb.cfg)
    await tb.seed(1)
    await tb.program(program)
    sweeps = env_int("PBIT_BENCH_SWEEPS", 100)
    start = time.perf_counter()
    count, _ = await run_and_compare(tb, program, 1, sweeps, "zeros", "throughput run")
    report_value("clocks_per_s", (count + 2) / (time.perf_counter() - start))
    report_updates("throughput", count)
