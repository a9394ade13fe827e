"""The TSU protocol on the simulated RTL (sim/tsu_rtl.py): same program, same seed, the RTL
backend's samples and energies are the emulated backend's, bit for bit; a schedule with holds,
clamps and a given initial state included. Small sizes: one Verilator build, shared with the
graph bulk test (the 12-unit irregular topology, default configuration)."""

import numpy as np
import pytest

from pysampler.contract.config import HwConfig
from pysampler.contract.graph import graph_program
from pysampler.tsu.backends import EmulatedBackend, get_backend
from sim.graph_programs import graph_topology
from sim.tsu_rtl import RtlBackend

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


def _couplings(seed: int) -> np.ndarray:
    """Random couplings on the edges of the 12-unit topology (so the harness is shared)."""
    top = graph_topology("random12")
    rng = np.random.default_rng(seed)
    J = np.zeros((top.n, top.n))
    w = rng.normal(0.0, 0.6, top.n_edges)
    J[top.edges[:, 0], top.edges[:, 1]] = w
    J[top.edges[:, 1], top.edges[:, 0]] = w
    return J


def test_rtl_backend_gives_the_emulated_samples():
    cfg = HwConfig()
    top = graph_topology("random12")
    rtl, emulated = RtlBackend(cfg, colouring=top.colours), EmulatedBackend(cfg,
                                                                             colouring=top.colours)
    J, h = _couplings(1), np.random.default_rng(2).normal(0.0, 0.5, top.n)
    cases = [dict(beta=0.8, num_steps=6, batch_size=5, seed=3),
             dict(beta=[0.2, 0.5, 1.0, 1.5], num_steps=11, batch_size=4, seed=7, beta_hold=3,
                  clamp={0: 1, 5: -1}, init_state=np.where(np.arange(top.n) % 3, 1, -1))]
    for case in cases:
        a = rtl.sample_ising(J, h, **case)
        b = emulated.sample_ising(J, h, **case)
        assert a.info["program"].topology.n_edges == top.n_edges
        np.testing.assert_array_equal(a.samples, b.samples)
        np.testing.assert_array_equal(a.energies, b.energies)
        assert a.n_saturated == b.n_saturated and a.betas == b.betas
    # the samples are not all alike (the comparison means something)
    assert len({tuple(row) for row in a.samples}) > 1
    program = graph_program(J, h, cfg, beta=0.5, colouring=top.colours, spins=True)
    a = rtl.sample_custom(program, 4, 3, seed=11)
    b = emulated.sample_custom(program, 4, 3, seed=11)
    np.testing.assert_array_equal(a.samples, b.samples)


def test_rtl_backend_refuses_what_the_core_cannot_run():
    rtl = get_backend("rtl", HwConfig(), colouring=graph_topology("random12").colours)
    assert type(rtl) is RtlBackend   # registered by importing sim.tsu_rtl
    with pytest.raises(ValueError, match="num_steps"):
        rtl.sample_ising(_couplings(1), None, 1.0, 70_000, 1)
    with pytest.raises(ValueError, match="binary layers"):
        rtl.sample_binary_layer(np.zeros(3), 1.0, 2)
