import itertools

import numpy as np
import pytest
from scipy.special import expit

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.program import schedule_entries
from pysampler.engines import reference
from pysampler.engines.reference import (ising_energy, ising_exact, ising_gibbs, onehot_conditional,
                                 onehot_draws, onehot_energy, onehot_gibbs, state_codes)


def test_onehot_conditional_equals_brute_force_energy_difference():
    rng = np.random.default_rng(0)
    z, lam, beta = rng.normal(0, 2, 6), 1.7, 0.8
    for y in itertools.product([0, 1], repeat=6):
        y = np.array(y)
        for i in range(6):
            on, off = y.copy(), y.copy()
            on[i], off[i] = 1, 0
            brute = expit(-beta * (onehot_energy(on, z, lam) - onehot_energy(off, z, lam)))
            others = y.sum() - y[i]
            assert np.isclose(onehot_conditional(z[i], lam, beta, others), brute)


def test_onehot_stationary_restricted_to_onehot_is_softmax():
    z, lam = np.array([0.0, -1.0, 0.5]), 2.0
    states = np.array(list(itertools.product([0, 1], repeat=3)))
    weights = np.exp(-onehot_energy(states, z, lam))
    onehot = states.sum(1) == 1
    p = weights[onehot] / weights[onehot].sum()
    order = np.argmax(states[onehot], axis=1)
    assert np.allclose(p[np.argsort(order)], np.exp(z) / np.exp(z).sum())


def test_ising_exact_matches_brute_force():
    rng = np.random.default_rng(1)
    n = 5
    upper = np.triu(rng.normal(size=(n, n)), 1)
    J, h = upper + upper.T, rng.normal(size=n)
    probs, log_z = ising_exact(J, h, beta=0.7)
    m = np.array([[1 if (c >> i) & 1 else -1 for i in range(n)] for c in range(1 << n)])
    w = np.exp(-0.7 * ising_energy(m, J, h))
    assert np.allclose(probs, w / w.sum()) and np.isclose(log_z, np.log(w.sum()))
    with pytest.raises(ValueError, match="N <= 16"):
        ising_exact(np.zeros((17, 17)), np.zeros(17))


@pytest.mark.parametrize("scan", ["systematic", "random"])
def test_onehot_gibbs_samples_its_boltzmann_law(scan):
    """Long chains (200 sweeps, V=3, lam=1) against the exact law over all 8 states.

    Tolerance: E[TV] of N i.i.d. samples (tv_noise_floor) plus the McDiarmid deviation
    sqrt(ln(1e6) / (2N)) (one sample moves TV by at most 1/N): fails by chance w.p. < 1e-6.
    """
    z, lam, n_chains = np.array([0.0, -0.7, -1.5]), 1.0, 40000
    y = onehot_gibbs(z, lam, sweeps=200, n_chains=n_chains, rng=np.random.default_rng(2),
                     scan=scan, init="random_onehot")
    states = np.array(list(itertools.product([0, 1], repeat=3)))
    w = np.exp(-onehot_energy(states, z, lam))
    exact = np.zeros(8)
    exact[state_codes(states)] = w / w.sum()
    emp = empirical_distribution(state_codes(y), 8)
    tol = tv_noise_floor(exact, n_chains) + np.sqrt(np.log(1e6) / (2 * n_chains))
    assert total_variation(exact, emp) < tol


def test_ising_gibbs_converges():
    rng = np.random.default_rng(3)
    upper = np.triu(rng.normal(0, 0.4, (4, 4)), 1)
    J, h = upper + upper.T, rng.normal(0, 0.3, 4)
    codes = ising_gibbs(J, h, sweeps=1, n_chains=50000, rng=np.random.default_rng(4), burn_in=50)
    exact, _ = ising_exact(J, h)
    tol = tv_noise_floor(exact, codes.size) + np.sqrt(np.log(1e6) / (2 * codes.size))
    assert total_variation(exact, empirical_distribution(codes, 16)) < tol


def test_onehot_gibbs_bad_arguments():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="scan"):
        onehot_gibbs([0.0], 1.0, sweeps=1, rng=rng, scan="checkerboard")
    with pytest.raises(ValueError, match="lam"):
        onehot_gibbs([0.0], 0.0, sweeps=1, rng=rng)
    with pytest.raises(ValueError, match="sweeps"):
        onehot_gibbs([0.0], 1.0, sweeps=0, rng=rng)
    with pytest.raises(ValueError, match="init"):
        onehot_gibbs([0.0], 1.0, sweeps=1, rng=rng, init="ones")


def _plain_onehot_gibbs(z, lams, sweeps, n_chains, rng, scan, init):
    """The documented procedure one update at a time: start, then per sweep the unit order
    (random scan) and the uniforms, each its own generator call."""
    n = z.size
    y = np.zeros((n_chains, n), dtype=np.uint8)
    if init == "random_onehot":
        y[np.arange(n_chains), rng.integers(n, size=n_chains)] = 1
    for entry in schedule_entries(len(lams), sweeps):
        order = rng.integers(n, size=(n_chains, n)) if scan == "random" else None
        u = rng.random((n_chains, n))
        for b in range(n_chains):
            for t in range(n):
                i = t if order is None else order[b, t]
                others = int(y[b].sum()) - int(y[b, i])
                p_on = 1.0 / (1.0 + np.exp(-(z[i] - lams[entry] * (2.0 * others - 1.0))))
                y[b, i] = 1 if u[b, t] < p_on else 0
    return y


@pytest.mark.parametrize("threads_from", [1, 1 << 30])  # the parallel and the serial kernel
@pytest.mark.parametrize("block", [1 << 20, 7])  # one kernel call; a few sweeps per call
@pytest.mark.parametrize("n_chains", [1, 3])
@pytest.mark.parametrize("scan", ["systematic", "random"])
@pytest.mark.parametrize("init", ["zeros", "random_onehot"])
def test_onehot_gibbs_is_the_plain_procedure(init, scan, n_chains, block, threads_from,
                                             monkeypatch):
    """Same states and generator state as one sweep (and one call per draw) at a time, whatever
    block of sweeps is drawn ahead and on either kernel; a single random-scan chain follows its
    drawn order."""
    monkeypatch.setattr(reference, "_DRAW_BLOCK", block)
    monkeypatch.setattr(reference, "_PARALLEL_UPDATES", threads_from)
    z, lams = np.array([0.0, -0.4, -1.1, -2.0, 0.3]), (0.5, 1.0, 1.5)
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    got = onehot_gibbs(z, lams, sweeps=6, n_chains=n_chains, rng=a, scan=scan, init=init)
    want = _plain_onehot_gibbs(z, lams, 6, n_chains, b, scan, init)
    assert np.array_equal(got, want) and a.bit_generator.state == b.bit_generator.state


def test_onehot_draws_order():
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    uniforms, orders = onehot_draws(a, 2, 5, 3, "systematic")
    assert orders.shape == (0, 0, 0)
    assert np.array_equal(uniforms, np.stack([b.random((2, 5)) for _ in range(3)]))
    uniforms, orders = onehot_draws(a, 2, 5, 3, "random")
    for s in range(3):
        assert np.array_equal(orders[s], b.integers(5, size=(2, 5)))
        assert np.array_equal(uniforms[s], b.random((2, 5)))
    assert a.bit_generator.state == b.bit_generator.state
