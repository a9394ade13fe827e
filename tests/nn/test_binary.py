"""The binary stochastic layer: its mean is the backend's law (sigmoid in float, the LUT at the
quantized field on the emulated hardware, exactly), straight-through gradients (gradcheck on the
surrogate), seeds, dtypes and devices, annealing, bad input."""

import numpy as np
import pytest
import torch

from pysampler.contract.config import HwConfig
from pysampler.contract.fixedpoint import quantize
from pysampler.contract.lut import lut_probability
from pysampler.nn import BinaryStochastic, anneal, beta_schedule, set_beta, use_backend
from pysampler.nn.straight_through import straight_through, surrogate_check_function

pytestmark = pytest.mark.nn

X = torch.linspace(-4, 4, 33, dtype=torch.float64)


def _within_noise(mean, p, draws):
    """Every mean within 5 binomial standard deviations of p (a 5.7e-7 two-sided chance each)."""
    sd = np.sqrt(p * (1 - p) / draws)
    return np.all(np.abs(mean - p) <= 5 * sd + 1e-12)


def test_float_layer_mean_is_the_sigmoid_within_its_noise():
    layer = BinaryStochastic(0.7, 4096, backend="float", seed=1)
    law = layer.law(X).numpy()
    assert np.allclose(law, torch.sigmoid(0.7 * X).numpy(), rtol=0, atol=1e-15)
    mean = np.mean([layer(X).detach().numpy() for _ in range(3)], axis=0)
    assert _within_noise(mean, law, 3 * 4096)


@pytest.mark.parametrize("cfg", [HwConfig(), HwConfig(weight_bits=6, frac_bits=2, beta=0.5)],
                         ids=["default", "6-2-beta0.5"])
def test_emulated_layer_law_is_the_luts_exactly(cfg):
    """The law is LUT[address(q(beta x / cfg.beta))] / 2^P, recomputed here from the contract's
    quantizer and LUT; the emulated draws follow it within their noise."""
    beta = 0.7
    layer = BinaryStochastic(beta, 4096, backend="emulated", cfg=cfg, seed=2)
    fields = quantize(beta * X.numpy() / cfg.beta, cfg.frac_bits, cfg.weight_bits).values
    law = lut_probability(fields, cfg)
    assert np.array_equal(layer.law(X).numpy(), law)
    mean = np.mean([layer(X).detach().numpy() for _ in range(3)], axis=0)
    assert _within_noise(mean, law, 3 * 4096)
    assert set(np.unique(layer.sample(X).numpy())) <= {0.0, 1.0}


@pytest.mark.parametrize("gradient", ["identity", "sigmoid"])
def test_straight_through_gradcheck_on_the_surrogate(gradient):
    x = torch.randn(7, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(surrogate_check_function(1.3, gradient), (x,))


@pytest.mark.parametrize("gradient", ["identity", "sigmoid"])
def test_gradients_flow_through_the_layer(gradient):
    torch.manual_seed(0)
    lin = torch.nn.Linear(5, 4).double()
    layer = BinaryStochastic(2.0, 8, backend="emulated", gradient=gradient, seed=3)
    x = torch.randn(6, 5, dtype=torch.float64)
    field = lin(x)
    layer(field).sum().backward()
    assert lin.weight.grad is not None and lin.weight.grad.abs().sum() > 0
    p = torch.sigmoid(2.0 * field.detach())
    expected = torch.ones_like(p) if gradient == "identity" else 2.0 * p * (1 - p)
    assert torch.allclose(lin.bias.grad, expected.sum(0))


def test_seeds_replay_and_calls_draw_fresh_bits():
    a, b = BinaryStochastic(1.0, 4, seed=5), BinaryStochastic(1.0, 4, seed=5)
    first = a(X)
    assert torch.equal(first, b(X))
    assert not torch.equal(a(X), first)          # the next call draws fresh p-bits
    a.reseed(5)
    assert torch.equal(a(X), first)


def test_dtype_device_and_non_contiguous_inputs():
    layer = BinaryStochastic(1.0, 2, backend="emulated", seed=1)
    grid = X.reshape(3, 11)
    for dtype in (torch.float16, torch.bfloat16, torch.float32):
        out = layer(grid.to(dtype))
        assert out.dtype == dtype and out.shape == grid.shape
    layer.reseed(1)
    wide = layer(grid.t().contiguous())
    layer.reseed(1)
    assert torch.equal(layer(grid.t()), wide)     # a transposed view: same draws as its copy
    assert layer.law(grid.half()).dtype == torch.float16


def test_anneal_sets_and_restores_every_pbit_module():
    model = torch.nn.Sequential(torch.nn.Linear(3, 3), BinaryStochastic(1.0),
                                torch.nn.Linear(3, 3), BinaryStochastic(2.0))
    with anneal(model, 0.25):
        assert [m.beta for m in model[1::2]] == [0.25, 0.25]
    with anneal(model, scale=3.0):
        assert [m.beta for m in model[1::2]] == [3.0, 6.0]
    assert [m.beta for m in model[1::2]] == [1.0, 2.0]
    assert set_beta(model, 0.5) == 2 and model[3].beta == 0.5
    assert use_backend(model, "emulated") == 2 and model[1].source.name == "emulated"
    assert np.allclose(beta_schedule(0.1, 10, 3), [0.1, 1, 10])
    assert np.allclose(beta_schedule(1, 2, 3, "linear"), [1, 1.5, 2])
    assert "beta=0.5" in repr(model[1]) and "emulated" in repr(model[1])


@pytest.mark.parametrize("call, error, message", [
    (lambda: BinaryStochastic()(torch.tensor([0.0, np.nan])), ValueError, "NaN or inf"),
    (lambda: BinaryStochastic()(torch.tensor([np.inf])), ValueError, "NaN or inf"),
    (lambda: BinaryStochastic()(torch.tensor([1, 2])), TypeError, "floating"),
    (lambda: BinaryStochastic()([0.5]), TypeError, "torch.Tensor"),
    (lambda: BinaryStochastic(num_samples=0), ValueError, "num_samples"),
    (lambda: BinaryStochastic(num_samples=5000), ValueError, "num_samples"),
    (lambda: BinaryStochastic(beta=0.0), ValueError, "beta"),
    (lambda: BinaryStochastic(beta=-1.0), ValueError, "beta"),
    (lambda: BinaryStochastic(beta=float("nan")), ValueError, "beta"),
    (lambda: setattr(BinaryStochastic(), "beta", 0), ValueError, "beta"),
    (lambda: BinaryStochastic(gradient="tanh"), ValueError, "gradient"),
    (lambda: BinaryStochastic(backend="rtl"), ValueError, "backend"),
    (lambda: BinaryStochastic(backend=3), TypeError, "backend"),
    (lambda: anneal(torch.nn.Linear(1, 1), 1.0, scale=2.0).__enter__(), ValueError, "exactly one"),
    (lambda: beta_schedule(1, 2, 0), ValueError, "steps"),
    (lambda: straight_through(torch.zeros(1), torch.zeros(1), 1.0, "step"), ValueError,
     "gradient"),
])
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()
