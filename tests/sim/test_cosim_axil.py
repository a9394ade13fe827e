"""Cores behind their AXI4-Lite bridge (hw/axi.py, one bridge generated for any core), co-simulated
on Icarus: random programs and every kind of refused access replayed through cocotbext-axi's
AxiLiteMaster (and AxiStreamSource for the stream core), random back-pressure on every channel,
every run compared with the model through the bus and the trace; SLVERR for refused accesses, no
access left unanswered. The one-hot core (AXI4-Lite alone) and the stream core (with AXI-Stream)
here; every core on Verilator and Icarus at the default configuration: `make sim-bus`."""

import pytest

from sim.runner import cosim_config, run_cosim

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


@pytest.mark.parametrize("kind", ["onehot", "stream"])
def test_axil_bridge(kind):
    counts = run_cosim("icarus", "tiny", cosim_config("tiny"), kind, programs=4, bus="axil")
    assert set(counts) == {"axil_random", "axil_refusals", "axil_protocol"}
    assert counts["axil_random"] > 0 and counts["axil_refusals"] > 0
    record_cosim_updates(f"icarus-tiny-{kind}-axil", counts["axil_random"]
                         + counts["axil_refusals"])
