"""cocotb tests of ``pbit_dense`` (hw/dense.py): the shared tests of :mod:`sim.tb_common` (random
programs with every init policy including GIVEN, edge programs, bad input, reset during a run)."""

from .tb_common import (bad_input_test, edge_programs_test, random_programs_test,  # noqa: F401
                        reset_mid_run_test)
