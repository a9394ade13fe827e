"""The stream sampler with L lanes: built by name with ``lanes`` (``--lanes``), its law and cost
(draws of padded beats, RTL clocks), the batch path equal to row by row, bad input."""

import numpy as np
import pytest
from scipy.special import softmax

from pysampler.analysis.metrics import total_variation
from pysampler.contract.stream_format import stream_clocks
from pysampler.samplers.filtering import reduce_vocab
from pysampler.samplers.registry import make_sampler, sampler_options
from pysampler.samplers.stream import StreamSampler


def test_built_by_name_with_lanes():
    sampler = make_sampler("stream", seed=3, lanes=16)
    assert isinstance(sampler, StreamSampler) and sampler.fmt.lanes == 16
    assert sampler.fmt.reservoirs == 32 and sampler_options("stream") == ("lanes",)
    assert sampler_options("hw") == ()
    with pytest.raises(ValueError, match="the hw sampler takes no option lanes"):
        make_sampler("hw", lanes=4)
    for bad in (0, 65):
        with pytest.raises(ValueError, match="lanes"):
            make_sampler("stream", lanes=bad)


def test_law_and_cost_with_lanes():
    """V = 1,000 at L = 16: 63 beats (the last of 8 logits), 63 * 16 + 31 draws, 63 + 2 * 5 + 3
    clocks; the law is softmax within the format's error."""
    z = np.random.default_rng(0).gumbel(0.0, 2.0, 1000)
    law = StreamSampler(lanes=16).law(reduce_vocab(z))
    assert np.isclose(law.probs.sum(), 1.0) and total_variation(law.probs, softmax(z)) < 0.005
    assert law.expected_work == 63 * 16 + 31
    assert law.rtl_clocks == stream_clocks(1000, 32, 16) == 76


@pytest.mark.parametrize("top_k", [None, 37])
def test_batch_equals_row_by_row_with_lanes(top_k):
    z = np.random.default_rng(1).gumbel(0.0, 2.0, (7, 301))
    a, b = StreamSampler(lanes=6, seed=9), StreamSampler(lanes=6, seed=9)
    batch = [a.sample_batch(z, top_k=top_k) for _ in range(2)]  # generators run on
    rows = [[b.sample_kept(reduce_vocab(r, top_k=top_k), row) for row, r in enumerate(z)]
            for _ in range(2)]
    assert [x.tolist() for x in batch] == rows
    assert a.stats.updates == b.stats.updates and a.stats.tokens == 14
    assert np.array_equal(a._lanes.take(9, 7), b._lanes.take(9, 7))  # the generators too


def test_cli_lanes_reach_the_stream_sampler():
    """--lanes L builds the stream sampler with L lanes; with --sampler all it goes to the
    samplers that have lanes; a sampler without lanes named alone is a clear error."""
    from pysampler.cli import _samplers, build_parser

    parse = build_parser().parse_args
    assert _samplers(parse(["generate", "--sampler", "stream", "--lanes", "8"]))["stream"] \
        .fmt.lanes == 8
    every = _samplers(parse(["generate", "--sampler", "all", "--lanes", "4"]))
    assert every["stream"].fmt.lanes == 4 and every["gumbel"].fmt.lanes == 1
    assert _samplers(parse(["generate", "--sampler", "stream"]))["stream"].fmt.lanes == 1
    with pytest.raises(ValueError, match="takes no option lanes"):
        _samplers(parse(["generate", "--sampler", "tree", "--lanes", "2"]))
    with pytest.raises(ValueError, match="lanes"):
        _samplers(parse(["generate", "--sampler", "stream", "--lanes", "65"]))
