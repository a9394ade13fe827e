"""The thrml backend (the optional [thrml] extra): the protocol's conventions and the float
model's law on thrml; without the extra it refuses clearly."""

import sys

import numpy as np
import pytest

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.config import HwConfig
from pysampler.contract.graph import graph_program
from pysampler.engines.chromatic import boltzmann_law
from pysampler.engines.reference import ising_energy, state_codes
from pysampler.tsu import TSUBackend, get_backend
from pysampler.tsu.thrml_backend import ThrmlBackend, ThrmlEngine, spin_weights

RNG = np.random.default_rng(0)
N = 6
_upper = np.triu(RNG.normal(0, 0.5, (N, N)) * (RNG.random((N, N)) < 0.5), 1)
J, H = _upper + _upper.T, RNG.normal(0, 0.3, N)


def test_spin_weights_give_the_qubo_energy():
    """The spin form thrml runs is the program's QUBO model up to one constant."""
    program = graph_program(J, H, HwConfig(), spins=False)
    h_s, J_s = spin_weights(program)
    y = (np.arange(64)[:, None] >> np.arange(N)) & 1
    s = 2 * y - 1
    e = program.topology.edges
    spin_e = -(s @ h_s) - (s[:, e[:, 0]] * s[:, e[:, 1]]) @ J_s
    diff = spin_e - program.energy(y, qubo=True)
    assert np.allclose(diff, diff[0])
    spin_program = graph_program(J, H, HwConfig())   # spins in: the weights come back
    h2, J2 = spin_weights(spin_program)
    assert np.allclose(h2, H) and np.allclose(J2, J[e[:, 0], e[:, 1]])


def test_without_thrml_the_backend_names_the_extra(monkeypatch):
    for name in ("thrml", "thrml.factor", "thrml.models"):
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError, match=r"\[thrml\] extra"):
        ThrmlBackend()
    with pytest.raises(ImportError, match=r"\[thrml\] extra"):
        get_backend("thrml")
    with pytest.raises(ImportError, match=r"\[thrml\] extra"):
        ThrmlEngine(graph_program(J, H, HwConfig()), 2)


@pytest.mark.thrml
def test_thrml_ising_samples_boltzmann_with_an_anneal_and_a_clamp():
    backend = get_backend("thrml")
    assert isinstance(backend, TSUBackend) and backend.name == "thrml"
    chains = 20000
    out = backend.sample_ising(J, H, (0.3, 0.9), 30, chains, seed=1, beta_hold=5,
                               clamp={2: 1})
    assert out.spins and out.samples.shape == (chains, N) and (out.samples[:, 2] == 1).all()
    assert np.allclose(out.energies, ising_energy(out.samples, J, H))
    exact = boltzmann_law(out.info["program"], 0.9)
    tv = total_variation(empirical_distribution(state_codes((out.samples + 1) // 2), 2 ** N),
                         exact)
    assert tv < 3 * tv_noise_floor(exact, chains)
    again = backend.sample_ising(J, H, (0.3, 0.9), 30, 50, seed=1, beta_hold=5, clamp={2: 1})
    assert np.array_equal(again.samples,
                          backend.sample_ising(J, H, (0.3, 0.9), 30, 50, seed=1, beta_hold=5,
                                               clamp={2: 1}).samples)


@pytest.mark.thrml
def test_thrml_binary_layer_follows_the_sigmoid():
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    count = 4000
    out = get_backend("thrml").sample_binary_layer(z, 0.7, count, seed=2)
    assert out.samples.shape == (count, 3, 4) and out.samples.dtype == np.int8
    p = 1 / (1 + np.exp(-0.7 * z))
    assert np.allclose(get_backend("thrml").binary_layer_law(z, 0.7), p)
    assert np.all(np.abs(out.samples.mean(axis=0) - p) <= 5 * np.sqrt(p * (1 - p) / count))
