"""The lattice figures of the bench (flips per second, wall and CPU), with thrml's Ising sampler
beside ours where the optional [thrml] extra is installed."""

import sys

import numpy as np
import pytest

from pysampler.experiments.bench import _lattice_program, graph_rates, print_results, thrml_lattice


@pytest.fixture
def no_thrml(monkeypatch):
    for name in ("thrml", "thrml.factor", "thrml.models"):
        monkeypatch.setitem(sys.modules, name, None)


def test_graph_rates_rows_without_thrml(no_thrml, capsys):
    rows = graph_rates(1, side=8, cases=((40, 2), (8, 3)))
    assert set(rows) == {"chromatic bit-accurate 8x8 lattice B=40",
                         "chromatic bit-accurate 8x8 lattice B=8"}
    for row in rows.values():
        assert row["flips_per_s"] > 0 and row["flips_per_cpu_s"] > 0
        assert row["n"] == 64 and row["colours"] == 2
    assert thrml_lattice(_lattice_program(4), 2, 1) is None
    print_results({"throughput": {}, "token_latency": {}, "batch": {}, "graph": rows})
    assert "chromatic bit-accurate 8x8 lattice B=40" in capsys.readouterr().out


@pytest.mark.thrml
def test_thrml_lattice_rows_and_draws():
    """With the [thrml] extra: thrml's sampler on the lattice returns spins of fresh chains
    (new keys each call), and the bench has its row."""
    program = _lattice_program(6, beta=0.2)
    draw = thrml_lattice(program, 3, 4, seed=1)
    a, b = draw(), draw()
    assert a.shape == (3, 36) and a.dtype == np.int8 and set(np.unique(a)) <= {-1, 1}
    assert not np.array_equal(a, b)
    rows = graph_rates(1, side=6, cases=((16, 2),))
    assert rows["thrml 6x6 lattice B=16"]["flips_per_s"] > 0
