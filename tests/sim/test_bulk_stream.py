"""Bulk co-simulation of the stream core (sim/bulk_stream.py): the core with L lanes runs free in
a compiled Verilator harness, every decision, token, clock count, beat count, ROM read and draw
compared with the model in numpy, and every coverage bin hit: L = 3 with a V = 50,257 row. The
other cases (L = 1, and L = 16 with rows of 128,256 and 262,144) run in `make coverage`."""

import numpy as np
import pytest

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import draw_sequence
from pysampler.contract.stream_format import stream_format
from sim.bulk_stream import state_with_draw
from sim.coverage import markdown, stream_case_coverage
from sim.runner import BUILD, STREAM_BULK_CASES

from ..conftest import record_cosim_updates


def test_state_with_draw_puts_the_wanted_draw_in_place():
    fmt = stream_format(HwConfig(), lanes=4)
    for u, j in ((12345, 0), (1, 7), ((1 << 24) - 1, 11)):
        draws, _ = draw_sequence(state_with_draw(u, j, fmt), fmt.acc, j + 1)
        assert int(draws[j]) == u


@pytest.mark.cosim
@pytest.mark.slow
@pytest.mark.parametrize("config,lanes,rows,long_rows", STREAM_BULK_CASES[:1])
def test_stream_bulk(config, lanes, rows, long_rows):
    coverage, decisions = stream_case_coverage(config, lanes, rows, long_rows)
    report = BUILD / "coverage" / f"{config}-stream-L{lanes}.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(markdown(f"stream core, `{config}`, L = {lanes}", coverage))
    assert coverage.missed() == [], f"reachable bins not hit: {coverage.missed()}"
    assert decisions > sum(long_rows)
    record_cosim_updates(f"bulk-verilator-{config}-stream-L{lanes}", decisions)
