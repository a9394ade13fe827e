"""Straight-through gradients of a stochastic binary unit (Bengio, Leonard and Courville 2013,
"Estimating or propagating gradients through stochastic neurons").

The forward pass returns a sample h (a p-bit, or the mean of K of them) of the unit driven by x;
the backward pass pretends h was a differentiable *surrogate* s(x):

* ``"identity"``: s(x) = x, so dL/dx = dL/dh (the straight-through estimator proper);
* ``"sigmoid"``: s(x) = sigmoid(beta x), the unit's mean, so dL/dx = dL/dh * beta p (1 - p) with
  p = sigmoid(beta x) (the variant that multiplies by the sigmoid's derivative).

:class:`StraightThrough` is the autograd Function. Its gradient is checked with
``torch.autograd.gradcheck`` on the surrogate: when the value passed in is s(x) itself, the
Function is s, and gradcheck compares the hand-written backward with finite differences
(:func:`surrogate_check_function`).
"""

from __future__ import annotations

from typing import Callable

import torch

__all__ = ["StraightThrough", "GRADIENTS", "surrogate", "straight_through",
           "surrogate_check_function"]

GRADIENTS = ("identity", "sigmoid")


def surrogate(x: torch.Tensor, beta: float, gradient: str) -> torch.Tensor:
    """The differentiable function whose derivative the backward pass uses."""
    if gradient == "identity":
        return x
    if gradient == "sigmoid":
        return torch.sigmoid(beta * x)
    raise ValueError(f"gradient must be one of {GRADIENTS}, got {gradient!r}")


class StraightThrough(torch.autograd.Function):
    """``apply(x, value, beta, gradient)``: returns ``value`` (a sample, not differentiated); the
    gradient with respect to ``x`` is the surrogate's (module docstring)."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, value: torch.Tensor, beta: float, gradient: str
                ) -> torch.Tensor:
        ctx.save_for_backward(x)
        ctx.beta, ctx.gradient = beta, gradient
        return value.detach().clone()

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        (x,) = ctx.saved_tensors
        if ctx.gradient == "identity":
            grad_x = grad_output
        else:
            p = torch.sigmoid(ctx.beta * x)
            grad_x = grad_output * (ctx.beta * p * (1.0 - p))
        return grad_x, None, None, None


def straight_through(x: torch.Tensor, value: torch.Tensor, beta: float, gradient: str
                     ) -> torch.Tensor:
    """``value`` in the forward pass, the surrogate's gradient with respect to ``x`` backward."""
    if gradient not in GRADIENTS:
        raise ValueError(f"gradient must be one of {GRADIENTS}, got {gradient!r}")
    return StraightThrough.apply(x, value, float(beta), gradient)


def surrogate_check_function(beta: float, gradient: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """x -> StraightThrough(x, s(x)): equal to the surrogate s, for ``gradcheck``."""
    def f(x: torch.Tensor) -> torch.Tensor:
        return straight_through(x, surrogate(x, beta, gradient).detach(), beta, gradient)
    return f
