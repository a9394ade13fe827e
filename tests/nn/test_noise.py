"""p-bit noise and dropout: the exact law (binomial; its KS distance to the normal checked on a
fine grid), samples that follow it on both backends (DKW bound), dropout's keep rate and unbiased
output, bad input."""

import math

import numpy as np
import pytest
import torch
from scipy.stats import binom, norm

from pysampler.contract.config import HwConfig
from pysampler.nn.noise import (PBitDropout, PBitGaussianNoise, binomial_normal_ks, dkw_bound,
                                standardised_support)

pytestmark = pytest.mark.nn


@pytest.mark.parametrize("n_bits", [1, 4, 16, 64])
def test_exact_ks_distance_is_the_supremum_over_a_fine_grid(n_bits):
    z, pmf = standardised_support(n_bits, 0.5)
    grid = np.concatenate([np.linspace(-12, 12, 200_001), z - 1e-12, z])
    cdf = binom.cdf(np.floor(grid * math.sqrt(n_bits * 0.25) + n_bits * 0.5 + 1e-9), n_bits, 0.5)
    brute = np.abs(cdf - norm.cdf(grid)).max()
    assert abs(binomial_normal_ks(n_bits) - brute) < 1e-6
    assert np.isclose((z * pmf).sum(), 0) and np.isclose((z * z * pmf).sum(), 1)


@pytest.mark.parametrize("backend", ["float", "emulated"])
def test_noise_follows_its_binomial_law(backend):
    """Mean 0 and variance sigma^2 within their noise; the KS distance of the draws to the exact
    binomial law below the DKW bound at 99.9%."""
    layer = PBitGaussianNoise(0.5, 16, backend=backend, seed=4)
    assert layer.p_on == 0.5 and layer.exact_ks() == binomial_normal_ks(16)
    x = torch.zeros(40_000, dtype=torch.float64)
    noise = layer(x).numpy()
    n = noise.size
    assert abs(noise.mean()) < 5 * 0.5 / math.sqrt(n)
    assert abs(noise.var() / 0.25 - 1) < 5 * math.sqrt(2 / n)
    counts = np.rint(noise / 0.5 * 2 + 8).astype(int)       # back to S = sum of 16 bits
    assert np.allclose(counts, noise / 0.5 * 2 + 8)
    empirical = np.cumsum(np.bincount(counts, minlength=17)) / n
    assert np.abs(empirical - binom.cdf(np.arange(17), 16, 0.5)).max() < dkw_bound(n)
    assert torch.equal(PBitGaussianNoise(0.5, 16, enabled=False)(x), x)


@pytest.mark.parametrize("backend, cfg", [("float", None), ("emulated", HwConfig()),
                                          ("emulated", HwConfig(weight_bits=5, frac_bits=1))])
def test_dropout_keeps_at_its_exact_rate_and_is_unbiased(backend, cfg):
    layer = PBitDropout(0.3, backend=backend, cfg=cfg, seed=6)
    q = layer.keep_probability
    x = torch.full((50_000,), 2.0, dtype=torch.float64)
    out = layer(x).numpy()
    kept = (out != 0).mean()
    assert abs(kept - q) < 5 * math.sqrt(q * (1 - q) / x.numel())
    assert set(np.unique(out)) <= {0.0, 2.0 / q}
    assert abs(out.mean() - 2.0) < 5 * 2.0 * math.sqrt((1 - q) / q / x.numel())
    if backend == "float":
        assert abs(q - 0.7) < 1e-12
    layer.eval()
    assert torch.equal(layer(x), x)
    assert torch.equal(PBitDropout(0.0).train()(x), x)


def test_use_backend_moves_noise_and_dropout_and_rereads_their_laws():
    from pysampler.nn import use_backend

    narrow = HwConfig(weight_bits=6, frac_bits=2)
    model = torch.nn.Sequential(PBitGaussianNoise(1.0, 8), PBitDropout(0.1))
    assert model[1].keep_probability == pytest.approx(0.9, abs=1e-12)
    assert use_backend(model, "emulated", narrow) == 2
    assert model[1].keep_probability == PBitDropout(0.1, backend="emulated",
                                                    cfg=narrow).keep_probability != 0.9
    assert model[0].source.name == "emulated" and model[0].p_on == 0.5


@pytest.mark.parametrize("call, error, message", [
    (lambda: PBitGaussianNoise(n_bits=0), ValueError, "n_bits"),
    (lambda: PBitGaussianNoise(sigma=0.0), ValueError, "sigma"),
    (lambda: PBitGaussianNoise()(torch.tensor([np.nan])), ValueError, "NaN"),
    (lambda: PBitDropout(1.0), ValueError, r"p must be a number in \[0, 1\)"),
    (lambda: PBitDropout(-0.1), ValueError, "p must be"),
    (lambda: PBitDropout("half"), ValueError, "p must be"),
    (lambda: PBitDropout(0.999, backend="emulated", cfg=HwConfig(weight_bits=4, frac_bits=0,
                                                              prob_bits=4)),
     ValueError, "keep probability 0"),
    (lambda: PBitDropout().train()(torch.tensor([np.inf])), ValueError, "NaN or inf"),
    (lambda: dkw_bound(0), ValueError, "n_draws"),
])
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()
