"""Simulated annealing in float: at a fixed beta the Metropolis sweep samples the Boltzmann law;
seeds replay; annealing reaches the ground state of a small model; bad input refused."""

import numpy as np
import pytest

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.engines.ground import ising_energies, ising_ground_state
from pysampler.engines.metropolis import metropolis_anneal
from pysampler.engines.reference import state_codes

RNG = np.random.default_rng(7)
N = 6
_upper = np.triu(RNG.normal(0, 0.6, (N, N)) * (RNG.random((N, N)) < 0.6), 1)
J, H = _upper + _upper.T, RNG.normal(0, 0.3, N)


def test_fixed_beta_sweeps_sample_boltzmann():
    chains, beta = 20000, 0.8
    spins = metropolis_anneal(J, H, np.full(25, beta), chains, seed=1)
    states = (np.arange(2 ** N)[:, None] >> np.arange(N)) & 1
    logw = -beta * ising_energies(2 * states - 1, J, H)
    exact = np.exp(logw - logw.max())
    exact /= exact.sum()
    tv = total_variation(empirical_distribution(state_codes((spins + 1) // 2), 2 ** N), exact)
    assert tv < 3 * tv_noise_floor(exact, chains)


def test_seeds_replay_and_an_anneal_finds_the_ground_state():
    hot = np.full(3, 0.2)
    a = metropolis_anneal(J, H, hot, 16, seed=3)
    assert np.array_equal(a, metropolis_anneal(J, H, hot, 16, seed=3))
    assert not np.array_equal(a, metropolis_anneal(J, H, hot, 16, seed=4))
    a = metropolis_anneal(J, H, np.geomspace(0.1, 20.0, 1000), 16, seed=3)
    ground = ising_ground_state(J, H).energy
    assert np.allclose(ising_energies(a, J, H), ground)
    start = np.ones(N)
    b = metropolis_anneal(J, None, np.full(1, 1e-9), 4, seed=1, init=start)
    assert b.shape == (4, N) and b.dtype == np.int8


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="betas must be finite"):
        metropolis_anneal(J, H, [0.5, 0.0], 2)
    with pytest.raises(ValueError, match="betas must be finite"):
        metropolis_anneal(J, H, [np.nan], 2)
    with pytest.raises(ValueError, match="betas must be a 1-D"):
        metropolis_anneal(J, H, [], 2)
    with pytest.raises(ValueError, match="symmetric"):
        metropolis_anneal(np.triu(J), H, [1.0], 2)
    with pytest.raises(ValueError, match="chains"):
        metropolis_anneal(J, H, [1.0], 0)
    with pytest.raises(ValueError, match="init"):
        metropolis_anneal(J, H, [1.0], 2, init=np.zeros(N))
    with pytest.raises(ValueError, match="seed"):
        metropolis_anneal(J, H, [1.0], 2, seed=-1)
    with pytest.raises(ValueError, match="passes the limit"):
        metropolis_anneal(J, H, np.ones(10), 1 << 40)
