"""Co-simulation of the stream core (``pbit_stream``) against the bit-accurate model, on Icarus and
Verilator: random rows of random V with back-pressure (random, and a gap after every beat), edge
rows (rows shorter than L, partial last beats with junk in the empty lanes), bad input (N_ACTIVE
out of range, an early `last`, logits after the last beat, a start while busy); one V = 50,257
row on Verilator. Every decision (logit steps and merges), every token, the clocks and the
activity (ROM reads, draws, M toggles) are compared."""

import pytest

from sim.runner import run_cosim
from pysampler.contract.config import get_preset

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]

# (simulator, configuration, lanes, random rows, V of the long row (0: none)): three widths, both
# generators, both simulators; the V = 50,257 row on Verilator only (Icarus would take minutes);
# a multi-lane core with an odd L (3: a merge tree that is not a power of two) on Icarus. The
# multi-lane cores on Verilator (L = 3, 8, 16; rows of 50,257 .. 262,144) are the bulk mode's, in
# `make coverage` (a Verilator build of one costs more than the suite's budget); cocotb on
# Verilator: `python -m sim.runner --sim verilator --kind stream --lanes 8`
CASES = [("icarus", "tiny", 1, 20, 0), ("icarus", "default", 1, 20, 0),
         ("verilator", "default", 1, 40, 50_257), ("verilator", "wide", 1, 40, 0),
         ("icarus", "tiny", 3, 6, 0)]


@pytest.mark.parametrize("sim,config_name,lanes,programs,long_row", CASES)
def test_cosim_stream(sim, config_name, lanes, programs, long_row, monkeypatch):
    monkeypatch.setenv("PBIT_STREAM_LONG", str(long_row))
    counts = run_cosim(sim, config_name, get_preset(config_name), "stream", programs=programs,
                       lanes=lanes)
    expected = {"stream_random", "stream_edge", "stream_bad_input"} | \
        ({"stream_long"} if long_row else set())
    assert set(counts) == expected, f"tests that reported no compared decisions: " \
                                    f"{expected - set(counts)}"
    assert all(v > 0 for v in counts.values())
    if long_row:
        assert counts["stream_long"] == long_row + 2 * lanes - 1  # V logit steps, C - 1 merges
    record_cosim_updates(f"{sim}-{config_name}-L{lanes}-stream", sum(counts.values()))
