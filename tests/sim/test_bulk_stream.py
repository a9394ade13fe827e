"""Bulk co-simulation of the stream core (sim/bulk_stream.py): the directed draws' generator
states. The bulk cases themselves (L = 3 and 8 with V = 50,257 rows, L = 16 with rows of 128,256
and 262,144, L = 1 on `tiny`: every decision, token, clock count, beat count, ROM read and draw
compared with the model in numpy, every coverage bin hit) run in `make coverage`: a Verilator
build of a multi-lane core costs more than this suite's time budget."""

from pysampler.contract.config import HwConfig
from pysampler.contract.rng import draw_sequence
from pysampler.contract.stream_format import stream_format
from sim.bulk_stream import state_with_draw


def test_state_with_draw_puts_the_wanted_draw_in_place():
    fmt = stream_format(HwConfig(), lanes=4)
    for u, j in ((12345, 0), (1, 7), ((1 << 24) - 1, 11)):
        draws, _ = draw_sequence(state_with_draw(u, j, fmt), fmt.acc, j + 1)
        assert int(draws[j]) == u
