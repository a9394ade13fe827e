"""The binary stochastic layer: p-bit activations with a straight-through gradient, and the
controls every p-bit module of a model shares (inverse temperature, annealing, backend).

Forward: for each input x, K p-bits with P(on) = sigmoid(beta x) are drawn on the layer's backend
(float, or the bit-accurate emulated hardware: field q(beta x / cfg.beta) in weight_bits, the LUT,
the LFSRs) and their mean (in {0, 1/K, ..., 1}) is returned. Its expectation is the backend's law
(:meth:`BinaryStochastic.law`): sigmoid(beta x) in float, LUT[address(field)] / 2**prob_bits on
the emulated hardware, exactly. Backward: the straight-through surrogate
(:mod:`pysampler.nn.straight_through`).

The layer is stochastic in training and in evaluation alike (a p-bit has no deterministic mode);
``law`` gives the mean, for a deterministic twin.

Every p-bit module of this package has a ``beta`` attribute and ``anneals = True``; the
functions :func:`set_beta`, :func:`anneal` (a context) and :func:`use_backend` act on every such
module of a model, found by that attribute (no type checks).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

import numpy as np
import torch
from torch import nn

from ..contract.config import HwConfig
from ..tsu import TSUBackend
from .source import MAX_NUM_SAMPLES, PBitSource, check_beta, to_device, to_host
from .straight_through import GRADIENTS, straight_through

__all__ = ["BinaryStochastic", "pbit_modules", "set_beta", "anneal", "use_backend",
           "beta_schedule", "check_num_samples"]


def check_num_samples(num_samples: object, name: str = "num_samples") -> int:
    """K, the p-bit samples averaged per forward pass: an int in [1, MAX_NUM_SAMPLES]."""
    if isinstance(num_samples, bool) or not isinstance(num_samples, (int, np.integer)) \
            or not 1 <= num_samples <= MAX_NUM_SAMPLES:
        raise ValueError(f"{name} must be an int in [1, {MAX_NUM_SAMPLES}], got {num_samples!r}")
    return int(num_samples)


def _check_gradient(gradient: str) -> str:
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient must be one of {GRADIENTS}, got {gradient!r}")
    return gradient


class BinaryStochastic(nn.Module):
    """p-bit activation: the mean of K Bernoulli(sigmoid(beta x)) draws, straight-through
    gradient.

    Parameters
    ----------
    beta : float
        Inverse temperature (> 0): P(on) = sigmoid(beta x).
    num_samples : int
        K, p-bits drawn and averaged per input (1..4096).
    backend : "float", "emulated" or a TSUBackend
        Where the p-bits are drawn (:class:`~pysampler.nn.source.PBitSource`).
    cfg : HwConfig, optional
        The emulated hardware's configuration (default ``HwConfig()``).
    gradient : "identity" or "sigmoid"
        The straight-through surrogate.
    seed : int
        Seeds the layer's own stream of per-call seeds.

    Shapes: any (...) floating tensor in, the same shape and dtype out, on the input's device.
    """

    anneals = True

    def __init__(self, beta: float = 1.0, num_samples: int = 1, *,
                 backend: str | TSUBackend = "float", cfg: HwConfig | None = None,
                 gradient: str = "sigmoid", seed: int = 0):
        super().__init__()
        self.beta = check_beta(beta)
        self.num_samples = check_num_samples(num_samples)
        self.gradient = _check_gradient(gradient)
        self.source = PBitSource(backend, cfg, seed=seed)

    def __setattr__(self, name, value):
        if name == "beta":
            value = check_beta(value)
        elif name == "num_samples":
            value = check_num_samples(value)
        super().__setattr__(name, value)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        host = to_host(x, "input")
        counts = self.source.sample_counts(host, self.beta, self.num_samples)
        mean = to_device(counts / self.num_samples, x)
        return straight_through(x, mean, self.beta, self.gradient)

    def sample(self, x: torch.Tensor) -> torch.Tensor:
        """The K bits themselves, (K, *x.shape) in x's dtype (no gradient)."""
        bits = self.source.sample_bits(to_host(x, "input"), self.beta, self.num_samples)
        return to_device(bits, x)

    def law(self, x: torch.Tensor) -> torch.Tensor:
        """The exact expectation of :meth:`forward`: P(on) of the backend at each input."""
        return to_device(self.source.law(to_host(x, "input"), self.beta), x)

    @property
    def n_saturated(self) -> int:
        return self.source.n_saturated

    def reseed(self, seed: int) -> None:
        self.source.reseed(seed)

    def set_source(self, source: PBitSource) -> None:
        """Draw from another backend (see :func:`use_backend`)."""
        self.source = source

    def extra_repr(self) -> str:
        return (f"beta={self.beta:g}, num_samples={self.num_samples}, "
                f"gradient={self.gradient!r}, source={self.source!r}")


def pbit_modules(model: nn.Module) -> list[nn.Module]:
    """Every module of ``model`` (itself included) that declares ``anneals = True``."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return [m for m in model.modules() if getattr(m, "anneals", False)]


def set_beta(model: nn.Module, beta: float) -> int:
    """Set beta of every p-bit module of ``model``; returns how many there are."""
    b = check_beta(beta)
    mods = pbit_modules(model)
    for m in mods:
        m.beta = b
    return len(mods)


@contextmanager
def anneal(model: nn.Module, beta: float | None = None, *, scale: float | None = None
           ) -> Iterator[nn.Module]:
    """Within the block every p-bit module of ``model`` runs at ``beta`` (or at its own beta
    times ``scale``: global annealing); the previous values come back on exit."""
    if (beta is None) == (scale is None):
        raise ValueError("anneal takes exactly one of beta and scale")
    if beta is not None:
        check_beta(beta)
    else:
        check_beta(scale, "scale")
    mods = pbit_modules(model)
    saved = [m.beta for m in mods]
    try:
        for m, old in zip(mods, saved):
            m.beta = beta if beta is not None else old * scale
        yield model
    finally:
        for m, old in zip(mods, saved):
            m.beta = old


def beta_schedule(start: float, end: float, steps: int, kind: str = "geometric") -> np.ndarray:
    """``steps`` inverse temperatures from ``start`` to ``end`` (both > 0), geometric or linear
    (an annealing schedule for :func:`set_beta` during training), float64 (steps,)."""
    b0, b1 = check_beta(start, "start"), check_beta(end, "end")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    if kind == "geometric":
        return np.geomspace(b0, b1, steps)
    if kind == "linear":
        return np.linspace(b0, b1, steps)
    raise ValueError(f"kind must be 'geometric' or 'linear', got {kind!r}")


def use_backend(model: nn.Module, backend: str | TSUBackend, cfg: HwConfig | None = None, *,
                seed: int = 0) -> int:
    """Move every module of ``model`` that draws p-bits (it has ``set_source``: the binary layer,
    thermal layers' activations, p-bit noise and dropout) to another backend, module k seeded
    ``seed + k``; returns how many were moved. The weights are untouched: the float model and
    its twin on the emulated hardware share them."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    mods = [m for m in model.modules() if hasattr(m, "set_source")]
    for k, m in enumerate(mods):
        m.set_source(PBitSource(backend, cfg, seed=seed + k))
    return len(mods)
