"""Co-simulation of the graph core (``pbit_graph``, hw/graph.py) against
:class:`pysampler.engines.chromatic.ChromaticModel`: every update of every colour step compared
(unit, bit, field, LUT entry, draw), on Icarus and Verilator (sim/tb_graph.py): a 4 x 4 periodic
lattice and an irregular graph with three colours and an isolated unit, random programs with beta
tables, holds and clamps, init ZEROS / GIVEN / KEEP, the extremes, refused accesses (the program
stays intact) and a reset during a run."""

import pytest

from sim.graph_programs import graph_topology
from sim.runner import GRAPH_COSIM_CASES, SIMULATORS, cosim_config, run_cosim

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


def test_the_graph_core_runs_on_both_simulators_with_3_or_more_colours():
    assert {sim for sim, *_ in GRAPH_COSIM_CASES} == set(SIMULATORS)
    colours = {name: graph_topology(name).n_colours for _, _, name, _ in GRAPH_COSIM_CASES}
    assert colours["lattice4"] == 2 and colours["random12"] >= 3
    assert graph_topology("random12").degree.min() == 0   # an isolated unit: a lane of its own


@pytest.mark.parametrize("sim,config_name,topology,programs", GRAPH_COSIM_CASES)
def test_graph_cosim(sim, config_name, topology, programs):
    counts = run_cosim(sim, config_name, cosim_config(config_name), "graph", programs=programs,
                       topology=topology)
    assert set(counts) == {"random_programs", "edge_programs", "bad_input", "reset_mid_run"}
    assert all(v > 0 for v in counts.values())
    record_cosim_updates(f"{sim}-{config_name}-graph-{topology}", sum(counts.values()))
