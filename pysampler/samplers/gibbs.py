"""Float64 binary Gibbs on the one-hot program with an ideal RNG: the p-bit chain without
quantization, the reference that isolates what fixed point, the LUT and the LFSR cost."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..contract.config import HwConfig
from ..contract.program import shift_logits
from ..engines.reference import SCANS, onehot_conditional, onehot_gibbs
from .base import NumpyLanes
from .chain import ChainSampler
from .filtering import KeptVocab
from .policy import ChainPolicy
from .registry import register_sampler

__all__ = ["GibbsSampler"]


@register_sampler("gibbs", help="float64 p-bit Gibbs on the one-hot program, ideal RNG")
class GibbsSampler(ChainSampler):
    """Float64 binary Gibbs on the one-hot program with an ideal RNG (numpy PCG64).

    Parameters
    ----------
    policy : ChainPolicy, optional
        Lambda (or a per-sweep table), sweeps, burn-in, init, restarts, offset and read-out
        (:class:`pysampler.samplers.policy.ChainPolicy`); its fields may also be given as keyword
        arguments (``lam=3.0, sweeps=40``).
    scan : "systematic" (the hardware's order) or "random"
    beta : float
        Inverse temperature of the chain (1.0 samples softmax(z)).
    seed : int
    """

    def __init__(self, *, policy: ChainPolicy | None = None, scan: str = "systematic",
                 beta: float = 1.0, seed: int = 0, **policy_fields: Any):
        super().__init__(policy=policy, seed=seed, **policy_fields)
        if scan not in SCANS:
            raise ValueError(f"scan must be one of {SCANS}, got {scan!r}")
        if not (np.isfinite(beta) and beta > 0):
            raise ValueError(f"beta must be a finite number > 0, got {beta!r}")
        self.scan = scan
        self.beta = float(beta)
        self._rngs = NumpyLanes()

    @classmethod
    def from_config(cls, cfg: HwConfig, policy: ChainPolicy, *, seed: int = 0) -> "GibbsSampler":
        """Float Gibbs at the configuration's beta (its widths do not apply)."""
        return cls(policy=policy, beta=cfg.beta, seed=seed)

    @property
    def chain_beta(self) -> float:
        return self.beta

    def with_policy(self, policy: ChainPolicy) -> "GibbsSampler":
        return GibbsSampler(policy=policy, scan=self.scan, beta=self.beta, seed=self.seed)

    def _reset_streams(self) -> None:
        self._rngs.clear()

    def _run(self, kept: KeptVocab, lane: int, chain: Any, sweeps: int) -> tuple[Any, int]:
        policy = self.policy_for(kept)
        z = shift_logits(kept.logits, 1.0, policy.offset, self.beta)
        y = onehot_gibbs(z, policy.lam_schedule, sweeps=sweeps,
                         rng=self._rngs.stream(self.seed, lane),
                         beta=self.beta, scan=self.scan,
                         init=self.init if chain is None else chain)
        return y, (int(np.argmax(y[0])) if y[0].sum() == 1 else -1)

    def p_on_tables(self, kept: KeptVocab) -> np.ndarray:
        """Float conditionals sigmoid(beta (z_i - lam_t (2 s - 1))), one table per entry."""
        policy = self.policy_for(kept)
        z = shift_logits(kept.logits, 1.0, policy.offset, self.beta)
        s = np.arange(kept.size, dtype=np.float64)
        return np.stack([onehot_conditional(z[:, None], lam, self.beta, s[None, :])
                         for lam in policy.lam_schedule])

    def _random_onehot_law(self, n: int) -> np.ndarray:
        return np.full(n, 1.0 / n)  # a uniform unit
