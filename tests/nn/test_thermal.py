"""Thermal linear layers: the field, its threshold, the law (sigmoid of the field in float, the
LUT at the quantized field emulated), replace_linear_layers on a trained-like model, bad input."""

import copy

import numpy as np
import pytest
import torch
from torch import nn

from pysampler.contract.config import HwConfig
from pysampler.contract.fixedpoint import quantize
from pysampler.contract.lut import lut_probability
from pysampler.nn.thermal import ThermalLinear, replace_linear_layers

pytestmark = pytest.mark.nn


def _mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 8), nn.Sigmoid(), nn.Linear(8, 5), nn.Sigmoid(),
                         nn.Linear(5, 3)).double()


def test_field_threshold_and_law():
    torch.manual_seed(1)
    lin = nn.Linear(6, 4).double()
    layer = ThermalLinear.from_linear(lin, threshold=0.2, backend="emulated", seed=2)
    x = torch.randn(5, 6, dtype=torch.float64)
    kept = lin.weight.abs() > 0.2
    field = x @ (lin.weight * kept).T + lin.bias
    assert torch.allclose(layer.field(x), field)
    assert layer.sparsity == pytest.approx(1 - kept.double().mean().item())
    cfg = HwConfig()
    codes = quantize(field.detach().numpy() / cfg.beta, cfg.frac_bits, cfg.weight_bits).values
    assert np.array_equal(layer.law(x).detach().numpy(), lut_probability(codes, cfg))
    assert torch.equal(ThermalLinear.from_linear(lin).field(x), lin(x))   # threshold 0: all
    out = layer(x)
    out.sum().backward()
    assert lin.weight.grad is None and layer.linear.weight.grad.abs().sum() > 0
    assert "threshold=0.2" in repr(layer)


def test_replace_linear_layers_keeps_the_mean_function():
    """Linear -> Sigmoid pairs become thermal layers whose mean is the deterministic model's
    (float backend: exactly the sigmoid in the law; K draws average towards it)."""
    model = _mlp()
    thermal = copy.deepcopy(model)
    names = replace_linear_layers(thermal, backend="float", num_samples=4096, seed=3)
    assert names == ["0", "2"]
    assert isinstance(thermal[1], nn.Identity) and isinstance(thermal[4], nn.Linear)
    x = torch.randn(64, 6, dtype=torch.float64)
    hidden = thermal[0].law(x)
    assert torch.allclose(hidden, torch.sigmoid(model[0](x)), atol=1e-15)
    with torch.no_grad():
        gap = (thermal(x) - model(x)).abs().max().item()
    assert gap < 0.1     # K = 4096 p-bits per unit: the mean network within its noise
    nested = nn.Sequential(nn.Sequential(nn.Linear(2, 2), nn.Sigmoid()), nn.Linear(2, 1))
    assert replace_linear_layers(nested) == ["0.0"]


@pytest.mark.parametrize("call, error, message", [
    (lambda: replace_linear_layers(nn.Sequential(nn.Linear(2, 2), nn.ReLU())), ValueError,
     "no linear layer to replace"),
    (lambda: replace_linear_layers(nn.Sequential(nn.Conv1d(1, 1, 1), nn.Sigmoid())), ValueError,
     "no linear layer"),
    (lambda: replace_linear_layers("model"), TypeError, "nn.Module"),
    (lambda: replace_linear_layers(_mlp(), beta=0.0), ValueError, "beta"),
    (lambda: replace_linear_layers(_mlp(), threshold=-1.0), ValueError, "threshold"),
    (lambda: ThermalLinear(3, 2)(torch.zeros(4, 5)), ValueError, r"\(\.\.\., 3\)"),
    (lambda: ThermalLinear(3, 2)(torch.full((1, 3), np.nan)), ValueError, "NaN"),
    (lambda: ThermalLinear(3, 2, num_samples=0), ValueError, "num_samples"),
    (lambda: ThermalLinear(3, 2, threshold=float("inf")), ValueError, "threshold"),
    (lambda: ThermalLinear.from_linear(nn.Conv1d(1, 1, 1)), TypeError, "nn.Linear"),
])
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_half_precision_model_runs_through_the_one_conversion():
    model = _mlp().half()
    replace_linear_layers(model, backend="emulated", seed=1)
    out = model(torch.randn(3, 6).half())
    assert out.dtype == torch.float16 and out.shape == (3, 3) and torch.isfinite(out).all()
