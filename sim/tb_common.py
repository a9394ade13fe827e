"""cocotb tests that the one-hot and dense cores both run: every update compared with the
bit-accurate model. Parameters come from the runner (:mod:`sim.env`)."""

import cocotb

from .checks import bad_input, edge_programs, random_programs, reset_mid_run
from .env import env_config, env_core, env_int, report_updates
from .tb import ArrayTB

__all__ = ["start_tb", "random_programs_test", "edge_programs_test", "bad_input_test",
           "reset_mid_run_test"]


async def start_tb(dut) -> ArrayTB:
    """A test bench for the core the runner built, clock started and reset done."""
    tb = ArrayTB(dut, env_config(), env_core())
    await tb.start()
    return tb


@cocotb.test()
async def random_programs_test(dut):
    tb = await start_tb(dut)
    report_updates("random_programs", await random_programs(
        tb, env_int("PBIT_PROGRAMS", 200), env_int("PBIT_SEED", 0), env_int("PBIT_MAX_SWEEPS", 3)))


@cocotb.test()
async def edge_programs_test(dut):
    tb = await start_tb(dut)
    report_updates("edge_programs", await edge_programs(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def bad_input_test(dut):
    tb = await start_tb(dut)
    report_updates("bad_input", await bad_input(tb, env_int("PBIT_SEED", 0)))


@cocotb.test()
async def reset_mid_run_test(dut):
    tb = await start_tb(dut)
    report_updates("reset_mid_run", await reset_mid_run(tb, env_int("PBIT_SEED", 0)))
