"""cocotb tests of pbit_onehot: every update compared with the bit-accurate model.

Parameters come from the runner through the environment: PBIT_CONFIG (HwConfig JSON), PBIT_PROGRAMS
(random programs), PBIT_SEED, PBIT_REPORT (JSON file collecting compared-update counts),
PBIT_TOKEN_RUNS and PBIT_TOKEN_SWEEPS (token runs on LM-like logits).
"""

import time

import cocotb

from checks import (bad_input, edge_programs, random_programs, realistic_tokens, reset_mid_run,
                    run_and_compare)
from tb import TB, env_config, env_int, report_updates, report_value

DENSE = False


async def _tb(dut) -> TB:
    tb = TB(dut, env_config(), dense=DENSE)
    await tb.start()
    return tb


@cocotb.test()
async def random_programs_test(dut):
    tb = await _tb(dut)
    report_updates("random_programs", await random_programs(
        tb, env_int("PBIT_PROGRAMS", 200), env_int("PBIT_SEED", 0), env_int("PBIT_MAX_SWEEPS", 3)))


@cocotb.test()
async def edge_programs_test(dut):
    tb = await _tb(dut)
    report_updates("edge_programs", await edge_programs(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def bad_input_test(dut):
    tb = await _tb(dut)
    report_updates("bad_input", await bad_input(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def reset_mid_run_test(dut):
    tb = await _tb(dut)
    report_updates("reset_mid_run", await reset_mid_run(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def realistic_tokens_test(dut):
    tb = await _tb(dut)
    report_updates("realistic_tokens", await realistic_tokens(
        tb, env_int("PBIT_TOKEN_RUNS", 4), env_int("PBIT_TOKEN_SWEEPS", 40), env_int("PBIT_SEED", 0)))


@cocotb.test()
async def throughput_test(dut):
    """Simulated clocks per second of a full co-simulated run (trace read and compared every
    clock): one token program over all units, PBIT_BENCH_SWEEPS sweeps (make bench)."""
    from pysampler.logitsets import synthetic_logits
    from pysampler.program import onehot_program

    tb = await _tb(dut)
    program = onehot_program(synthetic_logits(tb.cfg.n_pbits), 3.0, 1.0, tb.cfg)
    await tb.seed(1)
    await tb.program(program)
    sweeps = env_int("PBIT_BENCH_SWEEPS", 100)
    start = time.perf_counter()
    count, _ = await run_and_compare(tb, program, 1, sweeps, "zeros", "throughput run")
    report_value("clocks_per_s", (count + 2) / (time.perf_counter() - start))
    report_updates("throughput", count)
