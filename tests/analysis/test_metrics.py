import numpy as np
import pytest
from scipy.stats import binom

from pysampler.analysis.metrics import (empirical_distribution, ess_batch_means, ess_ips,
                               invalid_onehot_rate, kl_divergence, total_variation, tv_noise_floor)


def test_tv_and_kl_basics():
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.25, 0.5, 0.25])
    assert total_variation(p, q) == 0.25 and total_variation(p, p) == 0.0
    assert np.isclose(kl_divergence(p, q), 0.5 * np.log(2))
    assert kl_divergence(q, p) == pytest.approx(0.25 * (np.log(0.25) - np.log(1e-12))
                                                + 0.25 * np.log(0.25 / 0.5) + 0.5 * np.log(1.0))
    with pytest.raises(ValueError, match="same shape"):
        total_variation(p, q[:2])


def test_empirical_and_invalid_rate():
    assert empirical_distribution([0, 1, 1, 3], 4).tolist() == [0.25, 0.5, 0.0, 0.25]
    with pytest.raises(ValueError, match=r"\[0, 2\)"):
        empirical_distribution([0, 2], 2)
    assert invalid_onehot_rate([[1, 0], [1, 1], [0, 0], [0, 1]]) == 0.5


def test_noise_floor_closed_form_equals_direct_sum():
    p, n = np.array([0.6, 0.3, 0.1]), 37
    k = np.arange(n + 1)
    direct = sum(np.sum(binom.pmf(k, n, pk) * np.abs(k - n * pk)) for pk in p) / (2 * n)
    assert np.isclose(tv_noise_floor(p, n), direct)


def test_noise_floor_matches_simulation():
    rng = np.random.default_rng(0)
    p, n = rng.dirichlet(np.ones(20)), 500
    sims = [total_variation(p, rng.multinomial(n, p) / n) for _ in range(4000)]
    # the mean of 4000 TVs (sd about 0.01 each) is within 5 standard errors of its expectation
    assert abs(np.mean(sims) - tv_noise_floor(p, n)) < 5 * np.std(sims) / np.sqrt(4000)


def _ar1(rho, n, chains, seed):
    rng = np.random.default_rng(seed)
    x = np.empty((chains, n))
    x[:, 0] = rng.normal(size=chains) / np.sqrt(1 - rho**2)
    noise = rng.normal(size=(chains, n))
    for t in range(1, n):
        x[:, t] = rho * x[:, t - 1] + noise[:, t]
    return x


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.9])
def test_ess_on_ar1(rho):
    """AR(1) has ESS = N (1 - rho) / (1 + rho) per chain.

    Tolerances: the IPS estimate over C = 16 chains of N = 20000 has a relative sd of a few percent
    (its truncated sum of autocorrelations is an average of 16 chains); 10% is > 3 sd. Batch means
    with b = sqrt(N) = 141 is biased high by 2 rho / (b (1 - rho^2)) (finite batches), and its
    pooled variance estimate over C * 141 batch means has relative sd sqrt(2 / (C * 141)); the
    test allows the bias plus 4 sd.
    """
    n, chains = 20000, 16
    x = _ar1(rho, n, chains, seed=int(rho * 10))
    truth = n * (1 - rho) / (1 + rho)
    assert ess_ips(x) / chains == pytest.approx(truth, rel=0.10)
    b = int(np.sqrt(n))
    bias = 2 * rho / (b * (1 - rho**2))
    sd = np.sqrt(2 / (chains * b))
    assert abs(ess_batch_means(x) / (chains * truth) - 1 - bias) < 4 * sd


def test_ess_errors():
    with pytest.raises(ValueError, match="at least 4"):
        ess_ips([1.0, 2.0])
    with pytest.raises(ValueError, match="batches"):
        ess_batch_means([1.0, 2.0, 3.0], n_batches=1)
