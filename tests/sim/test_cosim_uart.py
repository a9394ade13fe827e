"""The serial transport end to end without a board: the host driver's exact byte stream (a random
scenario recorded against the register-level model) through the UART pins of the one-hot core's
board top (``pbit_onehot_uart``: UART, byte protocol, AXI4-Lite bridge, core) on Icarus, with
cocotbext-uart; every reply byte equal to the model's. `make sim-bus` also runs the refusal
scenario and every core."""

import pytest

from sim.runner import cosim_config, run_cosim

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


def test_uart_link_answers_the_drivers_byte_stream(monkeypatch):
    monkeypatch.setenv("PBIT_UART_REFUSALS", "0")  # refusals: the link-transport tests
    counts = run_cosim("icarus", "tiny", cosim_config("tiny"), "onehot", programs=2, bus="uart")
    assert counts["uart_runs"] == 2 and counts["uart_bytes"] > 100
