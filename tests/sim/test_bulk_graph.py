"""Bulk mode of the graph core (sim/bulk_graph.py): the compiled Verilator harness runs the
standard graph script on the irregular 12-unit topology and every update is compared with
ChromaticModel in numpy; every reachable coverage bin is hit; a mismatch is caught (a script
whose model expects another generator state fails at the first update)."""

import numpy as np
import pytest

from sim.bulk import BulkMismatch
from sim.bulk_graph import (GRAPH_BULK_CASES, GraphCoverage, graph_harness, graph_script,
                            run_graph_script)
from sim.graph_programs import graph_topology, random_graph_program
from sim.runner import cosim_config

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


def test_graph_bulk_compares_every_update_and_hits_every_bin():
    config, name, programs, long_runs, long_sweeps = GRAPH_BULK_CASES[0]  # the default run
    cfg, top = cosim_config(config), graph_topology(name)
    harness = graph_harness(cfg, config, name)
    coverage = GraphCoverage(cfg, top)
    script = graph_script(cfg, top, programs=programs, long_runs=long_runs,
                          long_sweeps=long_sweeps)
    result = run_graph_script(harness, script, harness.binary.parent, coverage=coverage)
    assert coverage.missed() == []
    assert result.updates > 20 * programs * top.n // 10
    record_cosim_updates(f"bulk-{config}-graph-{name}", result.updates)


def test_graph_bulk_catches_a_wrong_expectation():
    cfg, top = cosim_config("default"), graph_topology("random12")
    harness = graph_harness(cfg, "default", "random12")
    script = graph_script(cfg, top, programs=0, long_runs=0)
    program = random_graph_program(cfg, top, np.random.default_rng(1))
    script.program(program)
    script.seed(np.arange(1, top.n + 1))
    script.chain.states = np.arange(2, top.n + 2, dtype=np.uint64)   # the model is told otherwise
    script.run(2, "zeros", "a run the model mispredicts")
    with pytest.raises(BulkMismatch, match="a run the model mispredicts"):
        run_graph_script(harness, script, harness.binary.parent)
