"""Noise made of p-bits: Gaussian noise as a centred, scaled sum of n p-bits, and p-bit dropout,
each with its exact law.

**Gaussian noise.** n p-bits at field 0 (P(on) = p, exactly 1/2 in float and on every LUT whose
entry at 0 is 2**(P-1)) sum to S ~ Binomial(n, p); the layer adds
sigma * (S - n p) / sqrt(n p (1 - p)), which has mean 0 and variance sigma**2 exactly, and tends
to N(0, sigma**2) as n grows. :func:`binomial_normal_ks` is the exact Kolmogorov-Smirnov
distance between that law and the normal it approximates; a Monte Carlo sample adds its DKW
noise floor (:func:`dkw_bound`).

**Dropout.** Each input is kept by one p-bit whose target keep probability is 1 - p (logit
ln((1 - p) / p)); the hardware realises q = its exact law at that logit (the LUT at the quantized
field), and the kept inputs are divided by q, not by 1 - p, so that E[output] = input exactly on
the hardware too. Active in training mode only, as ``torch.nn.Dropout`` (MC dropout: put the
module in training mode at evaluation).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from scipy.stats import binom, norm
from torch import nn

from ..contract.config import HwConfig
from ..tsu import TSUBackend
from .binary import check_num_samples
from .source import PBitSource, check_beta, to_device, to_host

__all__ = ["PBitGaussianNoise", "PBitDropout", "binomial_normal_ks", "dkw_bound",
           "standardised_support"]


def standardised_support(n_bits: int, p_on: float) -> tuple[np.ndarray, np.ndarray]:
    """Values (S - n p) / sqrt(n p (1 - p)) for S = 0..n and their Binomial(n, p) masses."""
    n = check_num_samples(n_bits, "n_bits")
    if not 0.0 < p_on < 1.0:
        raise ValueError(f"p_on must be in (0, 1), got {p_on!r}")
    k = np.arange(n + 1)
    return (k - n * p_on) / math.sqrt(n * p_on * (1 - p_on)), binom.pmf(k, n, p_on)


def binomial_normal_ks(n_bits: int, p_on: float = 0.5) -> float:
    """Exact sup_x |F(x) - Phi(x)| between the standardised Binomial(n, p) and N(0, 1): the
    supremum of a step function against a continuous one lies at a jump, from one side."""
    z, pmf = standardised_support(n_bits, p_on)
    after = np.cumsum(pmf)
    before = after - pmf
    phi = norm.cdf(z)
    return float(max(np.abs(after - phi).max(), np.abs(before - phi).max()))


def dkw_bound(n_draws: int, confidence: float = 0.999) -> float:
    """The Dvoretzky-Kiefer-Wolfowitz bound: the KS distance of ``n_draws`` i.i.d. draws to their
    own law exceeds sqrt(ln(2 / (1 - c)) / (2 N)) with probability at most 1 - c (any law,
    discrete ones included)."""
    if n_draws < 1 or not 0 < confidence < 1:
        raise ValueError(f"need n_draws >= 1 and confidence in (0, 1), got {n_draws}, "
                         f"{confidence}")
    return math.sqrt(math.log(2.0 / (1.0 - confidence)) / (2.0 * n_draws))


class PBitGaussianNoise(nn.Module):
    """Adds sigma * (S - n p) / sqrt(n p (1 - p)), S the sum of n p-bits at field 0 (a fresh
    sum per element and per call), in training and evaluation alike (``enabled=False`` passes
    the input through). No parameter; the gradient with respect to the input is the identity.

    Parameters
    ----------
    sigma : float
        Standard deviation of the noise (> 0).
    n_bits : int
        p-bits summed per element (1..4096).
    backend, cfg, seed
        As :class:`~pysampler.nn.binary.BinaryStochastic`.
    """

    def __init__(self, sigma: float = 1.0, n_bits: int = 16, *,
                 backend: str | TSUBackend = "float", cfg: HwConfig | None = None,
                 seed: int = 0, enabled: bool = True):
        super().__init__()
        self.sigma = check_beta(sigma, "sigma")
        self.n_bits = check_num_samples(n_bits, "n_bits")
        self.enabled = bool(enabled)
        self.set_source(PBitSource(backend, cfg, seed=seed))

    def set_source(self, source: PBitSource) -> None:
        """Draw from another backend; P(on) at field 0 is read from its exact law."""
        p_on = float(source.law(np.zeros(1), 1.0)[0])   # exactly 1/2 on these LUTs
        if not 0.0 < p_on < 1.0:
            raise ValueError(f"the p-bit at field 0 is stuck (P(on) = {p_on}); this backend "
                             f"cannot make noise")
        self.source, self.p_on = source, p_on

    def noise(self, shape: tuple[int, ...] | torch.Size) -> np.ndarray:
        """Standardised noise (times sigma) of ``shape``, float64."""
        counts = self.source.sample_counts(np.zeros(tuple(shape)), 1.0, self.n_bits)
        n, p = self.n_bits, self.p_on
        return self.sigma * (counts - n * p) / math.sqrt(n * p * (1 - p))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        to_host(x, "input")   # the same checks as every p-bit layer (NaN, inf, dtype)
        if not self.enabled:
            return x
        return x + to_device(self.noise(x.shape), x)

    def exact_ks(self) -> float:
        """The exact KS distance of this noise's law to N(0, sigma**2)."""
        return binomial_normal_ks(self.n_bits, self.p_on)

    def extra_repr(self) -> str:
        return f"sigma={self.sigma:g}, n_bits={self.n_bits}, source={self.source!r}"


class PBitDropout(nn.Module):
    """Dropout whose keep mask is one p-bit per element (target keep probability 1 - p), the
    kept inputs divided by the hardware's exact keep probability q.

    Parameters
    ----------
    p : float
        Target drop probability, in [0, 1).
    backend, cfg, seed
        As :class:`~pysampler.nn.binary.BinaryStochastic`.

    Attributes
    ----------
    keep_probability : float
        q, the exact keep probability on this backend (float: 1 - p up to rounding; emulated:
        the LUT at the quantized logit).
    """

    def __init__(self, p: float = 0.5, *, backend: str | TSUBackend = "float",
                 cfg: HwConfig | None = None, seed: int = 0):
        super().__init__()
        try:
            drop = float(p)
        except (TypeError, ValueError):
            raise ValueError(f"p must be a number in [0, 1), got {p!r}") from None
        if not 0.0 <= drop < 1.0:
            raise ValueError(f"p must be a number in [0, 1), got {p!r}")
        self.p = drop
        self.keep_logit = math.inf if drop == 0 else math.log((1.0 - drop) / drop)
        self.set_source(PBitSource(backend, cfg, seed=seed))

    def set_source(self, source: PBitSource) -> None:
        """Draw from another backend; the keep probability is read from its exact law."""
        keep = 1.0 if self.p == 0 else float(source.law(np.array([self.keep_logit]), 1.0)[0])
        if keep <= 0.0:
            raise ValueError(f"p = {self.p}: this backend's p-bit at the keep logit "
                             f"{self.keep_logit:.3g} never turns on (keep probability 0); use a "
                             f"smaller p or more weight_bits")
        self.source, self.keep_probability = source, keep

    def mask(self, shape: tuple[int, ...] | torch.Size) -> np.ndarray:
        """Keep bits (0/1) of ``shape``, float64."""
        if self.p == 0:
            return np.ones(tuple(shape))
        logits = np.full(tuple(shape), self.keep_logit)
        return self.source.sample_counts(logits, 1.0, 1).astype(np.float64)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        to_host(x, "input")
        if not self.training or self.p == 0:
            return x
        return x * to_device(self.mask(x.shape) / self.keep_probability, x)

    def extra_repr(self) -> str:
        return f"p={self.p:g}, keep_probability={self.keep_probability:.6g}, " \
               f"source={self.source!r}"
