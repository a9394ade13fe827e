"""Co-simulation of the stream core (``pbit_stream``) against the bit-accurate model, on Icarus and
Verilator: random rows of random V with back-pressure, edge rows, bad input; one V = 50,257 row on
Verilator. Every decision (logit steps and merges) and every token is compared."""

import pytest

from sim.runner import run_cosim
from pysampler.contract.config import get_preset

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]

# (simulator, configuration, random rows, V of the long row (0: none)): three widths, both
# generators, both simulators; the V = 50,257 row on Verilator only (Icarus would take minutes)
CASES = [("icarus", "tiny", 20, 0), ("icarus", "default", 20, 0),
         ("verilator", "default", 40, 50_257), ("verilator", "wide", 40, 0)]


@pytest.mark.parametrize("sim,config_name,programs,long_row", CASES)
def test_cosim_stream(sim, config_name, programs, long_row, monkeypatch):
    monkeypatch.setenv("PBIT_STREAM_LONG", str(long_row))
    counts = run_cosim(sim, config_name, get_preset(config_name), "stream", programs=programs)
    expected = {"stream_random", "stream_edge", "stream_bad_input"} | \
        ({"stream_long"} if long_row else set())
    assert set(counts) == expected, f"tests that reported no compared decisions: " \
                                    f"{expected - set(counts)}"
    assert all(v > 0 for v in counts.values())
    if long_row:
        assert counts["stream_long"] == long_row + 1  # V logit steps and C - 1 = 1 merge
    record_cosim_updates(f"{sim}-{config_name}-stream", sum(counts.values()))
