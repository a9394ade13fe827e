"""Thermal linear layers: a linear map whose output units are p-bits.

``ThermalLinear`` computes the effective field I = W x + b (weights with |w| <= ``threshold``
dropped: the sparsity threshold) and returns the mean of K p-bits with P(on) = sigmoid(beta I):
on the emulated hardware the field is quantized to the HwConfig (weight_bits, frac_bits, at the
project's beta rule), goes through the LUT and is compared with an LFSR draw, bit for bit
(:class:`~pysampler.nn.binary.BinaryStochastic`). Its expectation is sigmoid(beta I) in float:
a thermal layer at beta = 1 is, in the mean, ``Linear`` followed by ``Sigmoid``.

:func:`replace_linear_layers` turns a trained model's ``Linear -> Sigmoid`` pairs (consecutive
children of an ``nn.Sequential``) into one ThermalLinear each (the Sigmoid becomes an
``nn.Identity``), in place, with no retraining. A linear layer that no sigmoid follows (an output
layer, say) is left alone: its output is not a p-bit's probability.
"""

from __future__ import annotations

import torch
from torch import nn

from ..contract.config import HwConfig
from ..tsu import TSUBackend
from .binary import BinaryStochastic
from .source import check_beta, to_host

__all__ = ["ThermalLinear", "replace_linear_layers", "check_threshold"]


def check_threshold(threshold: float) -> float:
    try:
        th = float(threshold)
    except (TypeError, ValueError):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}") from None
    if not th >= 0 or th == float("inf"):
        raise ValueError(f"threshold must be a finite number >= 0, got {threshold!r}")
    return th


class ThermalLinear(nn.Module):
    """p-bit outputs of a linear field: out = mean of K bits ~ Bernoulli(sigmoid(beta (W x + b))).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool
    beta : float
        Inverse temperature of the p-bits (> 0).
    num_samples : int
        K, p-bits averaged per output (1..4096).
    threshold : float
        Weights with |w| <= threshold are dropped from the field (0: none).
    backend, cfg, gradient, seed
        As :class:`~pysampler.nn.binary.BinaryStochastic` (the straight-through surrogate
        carries the gradient to W, b and x).

    Shapes: (..., in_features) -> (..., out_features), the input's dtype and device.
    """

    anneals = False   # its activation (a BinaryStochastic) carries beta and anneals

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *,
                 beta: float = 1.0, num_samples: int = 1, threshold: float = 0.0,
                 backend: str | TSUBackend = "float", cfg: HwConfig | None = None,
                 gradient: str = "sigmoid", seed: int = 0):
        super().__init__()
        self.linear = nn.Linear(in_features, out_features, bias=bias)
        self.threshold = check_threshold(threshold)
        self.activation = BinaryStochastic(beta, num_samples, backend=backend, cfg=cfg,
                                           gradient=gradient, seed=seed)

    @classmethod
    def from_linear(cls, linear: nn.Linear, **options) -> "ThermalLinear":
        """A thermal layer with a trained ``linear``'s weights (copied, same device and dtype)."""
        if not isinstance(linear, nn.Linear):
            raise TypeError(f"linear must be a torch.nn.Linear, got {type(linear).__name__}")
        layer = cls(linear.in_features, linear.out_features, linear.bias is not None, **options)
        layer.linear = linear.__class__(linear.in_features, linear.out_features,
                                        bias=linear.bias is not None, device=linear.weight.device,
                                        dtype=linear.weight.dtype)
        layer.linear.load_state_dict(linear.state_dict())
        return layer

    @property
    def beta(self) -> float:
        return self.activation.beta

    @property
    def n_saturated(self) -> int:
        return self.activation.n_saturated

    def weight_mask(self) -> torch.Tensor:
        """True where a weight is kept (|w| > threshold)."""
        return self.linear.weight.abs() > self.threshold

    @property
    def sparsity(self) -> float:
        """Fraction of the weights the threshold drops."""
        return 1.0 - float(self.weight_mask().float().mean())

    def field(self, x: torch.Tensor) -> torch.Tensor:
        """The effective field W x + b with the thresholded weights (float, before the hardware
        quantizes it)."""
        if x.shape[-1:] != (self.linear.in_features,):
            raise ValueError(f"input must have shape (..., {self.linear.in_features}), got "
                             f"{tuple(x.shape)}")
        to_host(x, "input")
        weight = self.linear.weight
        if self.threshold > 0:
            weight = weight * self.weight_mask().to(weight.dtype)
        return nn.functional.linear(x.to(weight.dtype), weight, self.linear.bias).to(x.dtype)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.field(x))

    def law(self, x: torch.Tensor) -> torch.Tensor:
        """The exact expectation of the output: the backend's P(on) at each field."""
        return self.activation.law(self.field(x))

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, out_features={self.linear.out_features}"
                f", threshold={self.threshold:g}")


def replace_linear_layers(model: nn.Module, *, backend: str | TSUBackend = "emulated",
                          cfg: HwConfig | None = None, beta: float = 1.0, num_samples: int = 1,
                          threshold: float = 0.0, gradient: str = "sigmoid", seed: int = 0,
                          activation: type[nn.Module] = nn.Sigmoid) -> list[str]:
    """Turn every ``Linear`` followed by an ``activation`` (default ``nn.Sigmoid``) inside an
    ``nn.Sequential`` of ``model`` into a :class:`ThermalLinear` (in place; copy the model first
    to keep it), the activation into ``nn.Identity``. Layer k is seeded ``seed + k``.

    Returns the names of the replaced linear layers (``model.named_modules`` names). A model with
    none raises ValueError.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    check_beta(beta)
    check_threshold(threshold)
    replaced: list[str] = []
    for parent_name, parent in list(model.named_modules()):
        if not isinstance(parent, nn.Sequential):
            continue
        children = list(parent.named_children())
        for (name, child), (next_name, follower) in zip(children, children[1:]):
            if isinstance(child, nn.Linear) and isinstance(follower, activation):
                thermal = ThermalLinear.from_linear(
                    child, beta=beta, num_samples=num_samples, threshold=threshold,
                    backend=backend, cfg=cfg, gradient=gradient, seed=seed + len(replaced))
                setattr(parent, name, thermal)
                setattr(parent, next_name, nn.Identity())
                replaced.append(f"{parent_name}.{name}" if parent_name else name)
    if not replaced:
        raise ValueError(f"model has no linear layer to replace: no nn.Linear followed by "
                         f"{activation.__name__} inside an nn.Sequential")
    return replaced
