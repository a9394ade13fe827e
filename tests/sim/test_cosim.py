"""Co-simulation: the Verilog of each core, on Icarus and on Verilator, against the bit-accurate model.

One simulator build per (simulator, configuration, core): the protocol checks (bad input, reset
during a run, busy writes, KEEP refusals, error flags, the throughput run) and random, edge and
token programs, every update compared (index, bit, field, LUT value, draw). Every core runs on
both simulators; the bulk of the random programs and the long token runs are the bulk mode's
(test_bulk.py). The total number of compared updates is printed at the end of the session
(conftest.py).
"""

import pytest

from sim.runner import COSIM_CASES, SIMULATORS, cosim_config, run_cosim

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


def test_every_core_runs_on_both_simulators():
    cores = {(sim, kind) for sim, _, kind, _, _ in COSIM_CASES}
    assert cores == {(sim, kind) for sim in SIMULATORS for kind in ("onehot", "dense", "tree")}


@pytest.mark.parametrize("sim,config_name,kind,programs,token_runs", COSIM_CASES)
def test_cosim(sim, config_name, kind, programs, token_runs):
    counts = run_cosim(sim, config_name, cosim_config(config_name), kind, programs=programs,
                       token_runs=token_runs, bench_sweeps=5)
    expected = {"random_programs", "edge_programs", "bad_input", "reset_mid_run"}
    if kind == "onehot":
        assert counts.pop("clocks_per_s") > 0
        expected |= {"realistic_tokens", "throughput", "keep_runs"}
    if kind == "tree":
        expected = {"tree_decisions"}
    assert set(counts) == expected, f"tests that reported no compared updates: {expected - set(counts)}"
    assert all(v > 0 for v in counts.values())
    record_cosim_updates(f"{sim}-{config_name}-{kind}", sum(counts.values()))
