"""The p-bit chain policy: how a one-hot chain turns into a token. One frozen, validated value.

Attempt semantics: each attempt starts from ``init`` and runs ``burn_in + sweeps`` sequential
sweeps, then reads the state out. With ``readout="continue"`` an invalid read-out is first given up
to ``extra_sweeps`` more sweeps, read out after each, before the attempt counts as invalid. After
``1 + max_resample`` invalid attempts the token is the argmax of the kept logits (fallback).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..contract.fixedpoint import quantize
from ..contract.lut import build_lut, lut_address
from ..contract.program import OFFSETS, lambda_schedule, shift_logits
from ..contract.validation import check_int
from ..engines.array import INIT_POLICIES

if TYPE_CHECKING:
    from ..contract.config import HwConfig

__all__ = ["ChainPolicy", "DEFAULT_LAM", "DEFAULT_SWEEPS", "READOUTS", "ADAPTS", "ROBUST",
           "LEGACY", "invalid_ratios", "ADAPT_MAX_RATIO", "lambda_phase", "PHASES"]

READOUTS = ("restart", "continue")
ADAPTS = ("none", "entropy")
# adapt="entropy" keeps the shift by max while its stationary invalid-to-valid ratio is at most
# this factor above the smallest one (the min_invalid shift): see ChainPolicy.for_row.
ADAPT_MAX_RATIO = 1.25
PHASES = 16  # sub-LSB lambda phases adapt="entropy" tries on a fixed-point core

# Chosen from the exact cost frontier (README, `make frontier`): with restarts, lambda 2.5 and 20
# sweeps keep the default HwConfig within about 0.004-0.006 TV of softmax and the per-token
# fallback below 0.1% on the frontier's sets (V = 16..64, a GPT-2-loop context), for about 22 V
# updates per token (lambda 3 and 40 sweeps: the same TV for 43 V).
DEFAULT_LAM = 2.5
DEFAULT_SWEEPS = 20


@dataclass(frozen=True)
class ChainPolicy:
    """Everything a p-bit token sampler does around the chain. Frozen; validated on construction.

    Parameters
    ----------
    lam : float or sequence of float
        One-hot penalty lambda > 0 (logit units), or a per-sweep lambda table of 1..8 entries
        aligned with the end of each attempt (:func:`pysampler.contract.program.schedule_entries`);
        the last entry is the read-out lambda. Stored as a float (one entry) or a tuple.
    sweeps, burn_in : int
        Each attempt runs burn_in + sweeps sweeps of V updates (sweeps >= 1, burn_in >= 0).
    init : "zeros" or "random_onehot"
        State each attempt starts from.
    max_resample : int
        Restarts after an invalid read-out before the argmax fallback (>= 0).
    offset : "max" or "min_invalid"
        Logit shift before quantization (:func:`pysampler.contract.program.shift_logits`).
    readout : "restart" or "continue"
        "continue": an invalid read-out gets up to ``extra_sweeps`` more sweeps first.
    extra_sweeps : int
        >= 0; used by ``readout="continue"`` only.
    adapt : "none" or "entropy"
        "entropy": the logit shift is chosen per row from the row's own distribution
        (:meth:`for_row`): shift by max where that costs at most ``ADAPT_MAX_RATIO`` times the
        least stationary invalid mass, else the min_invalid shift (``offset`` is then unused);
        on a fixed-point core, lambda also moves by the sub-LSB phase that rounds the row's
        logits best (:func:`lambda_phase`).
    """

    lam: float | tuple[float, ...] = DEFAULT_LAM
    sweeps: int = DEFAULT_SWEEPS
    burn_in: int = 0
    init: str = "zeros"
    max_resample: int = 3
    offset: str = "max"
    readout: str = "restart"
    extra_sweeps: int = 0
    adapt: str = "none"

    def __post_init__(self) -> None:
        lams = lambda_schedule(self.lam)
        object.__setattr__(self, "lam", lams[0] if len(lams) == 1 else lams)
        if self.offset not in OFFSETS:
            raise ValueError(f"offset must be one of {OFFSETS}, got {self.offset!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"readout must be one of {READOUTS}, got {self.readout!r}")
        if self.init not in INIT_POLICIES:
            raise ValueError(f"init must be one of {INIT_POLICIES}, got {self.init!r}")
        if self.adapt not in ADAPTS:
            raise ValueError(f"adapt must be one of {ADAPTS}, got {self.adapt!r}")
        for name, low in (("sweeps", 1), ("burn_in", 0), ("max_resample", 0), ("extra_sweeps", 0)):
            object.__setattr__(self, name, check_int(name, getattr(self, name), low))

    @property
    def lam_schedule(self) -> tuple[float, ...]:
        """The lambda table, 1..8 entries (one entry without a schedule)."""
        return self.lam if isinstance(self.lam, tuple) else (self.lam,)

    @property
    def readout_lam(self) -> float:
        """The read-out (last) lambda of the table."""
        return self.lam_schedule[-1]

    @property
    def sweeps_per_attempt(self) -> int:
        return self.burn_in + self.sweeps

    @property
    def continue_sweeps(self) -> int:
        """Extra sweeps an invalid read-out may get before the attempt counts as invalid."""
        return self.extra_sweeps if self.readout == "continue" else 0

    def for_row(self, logits: ArrayLike, beta: float = 1.0, cfg: "HwConfig | None" = None
                ) -> "ChainPolicy":
        """The policy one row of kept logits runs (``adapt="none"``: this one).

        ``adapt="entropy"``: restricted to one-hot, empty and two-hot states, the stationary
        invalid-to-valid mass ratio of the one-hot program is exp(-beta lam) times
        p_max + (1 - sum p^2) / (2 p_max) for the shift by max, and sqrt(2 (1 - sum p^2)) for the
        min_invalid shift (its minimum over all shifts; p = softmax(beta z),
        :func:`invalid_ratios`). The first grows like V / 2 on a flat row and equals the second
        only where p_max^2 = (1 - sum p^2) / 2; the second is below sqrt(2) exp(-beta lam) on every
        row, so one lambda bounds the invalid rate at every entropy. The shift by max keeps the
        largest logit exact in fixed point, so it is kept where it costs at most
        ``ADAPT_MAX_RATIO`` times the least invalid mass. With ``cfg`` (a fixed-point core),
        every lambda of the table then moves by :func:`lambda_phase`: h = q(z + lambda) rounds
        each logit to the LSB, and which way depends on lambda's phase within one LSB; the
        phase whose rounded logits are closest to softmax in TV is taken (the one-hot states'
        law depends on h alone, J only on the invalid mass, which half an LSB hardly moves).
        The row's policy has ``adapt="none"``, the chosen ``offset`` and lambda: the RTL runs it
        as an ordinary program (h, couplings and schedule are written per token anyway).
        """
        if self.adapt == "none":
            return self
        by_max, least = invalid_ratios(logits, beta)
        offset = "max" if by_max <= ADAPT_MAX_RATIO * least else "min_invalid"
        if cfg is None:
            return self.replace(adapt="none", offset=offset)
        z = shift_logits(logits, 1.0, offset, beta)
        phase = lambda_phase(z, self.readout_lam, cfg)
        lams = tuple(max(v + phase, cfg.lsb) for v in self.lam_schedule)
        return self.replace(adapt="none", offset=offset, lam=lams)

    def replace(self, **changes: Any) -> "ChainPolicy":
        """A copy with ``changes`` applied (validated again); an unknown field is an error."""
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown ChainPolicy fields {unknown}; allowed: {sorted(names)}")
        return dataclasses.replace(self, **changes)

    @classmethod
    def of(cls, policy: "ChainPolicy | None" = None, **changes: Any) -> "ChainPolicy":
        """``policy`` (default: the defaults) with ``changes`` applied; ``None`` values are
        left out, so optional command-line flags can be passed straight through."""
        base = cls() if policy is None else policy
        if not isinstance(base, ChainPolicy):
            raise TypeError(f"policy must be a ChainPolicy, got {type(base).__name__}")
        given = {k: v for k, v in changes.items() if v is not None}
        return base.replace(**given) if given else base


def invalid_ratios(logits: ArrayLike, beta: float = 1.0) -> tuple[float, float]:
    """Stationary invalid-to-valid ratios of the one-hot program on ``logits`` over exp(-beta lam):
    (shift by max, min_invalid shift) = (p_max + (1 - S) / (2 p_max), sqrt(2 (1 - S))),
    p = softmax(beta z), S = sum p^2 (empty, one-hot and two-hot states; derivation in
    :func:`pysampler.contract.program.min_invalid_offset`)."""
    z = beta * np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max())
    p /= p.sum()
    spread = max(0.0, 1.0 - float(np.sum(p * p)))
    p_max = float(p.max())
    return p_max + spread / (2.0 * p_max), float(np.sqrt(2.0 * spread))


def lambda_phase(z: ArrayLike, lam: float, cfg: "HwConfig", phases: int = PHASES) -> float:
    """The shift d in [-LSB/2, LSB/2) (``phases`` steps) of lambda that makes the one-hot law of
    h = q(z + lambda + d) closest to softmax(z) in TV.

    ``z`` are the shifted logits the program is built from. The one-hot states' law of the chain
    is proportional to the odds L(h_k) / (2^P - L(h_k)) of the LUT at each bias (detailed balance
    between the empty state and one-hot k), exp(beta h_k) up to the LUT's rounding.
    """
    z = np.asarray(z, dtype=np.float64)
    target = np.exp(z - z.max())
    target /= target.sum()
    lut = build_lut(cfg).astype(np.float64)
    full = float(1 << cfg.prob_bits)
    best, best_tv = 0.0, np.inf
    for k in range(phases):
        d = (k / phases - 0.5) * cfg.lsb
        h = quantize(z + lam + d, cfg.frac_bits, cfg.weight_bits).values
        level = lut[lut_address(h, cfg)]
        odds = level / np.maximum(full - level, 0.5)
        tv = 0.5 * float(np.abs(odds / odds.sum() - target).sum())
        if tv < best_tv - 1e-12 or (abs(tv - best_tv) <= 1e-12 and abs(d) < abs(best)):
            best, best_tv = d, tv
    return best


# The old defaults (shift by max, start from zeros) and the entropy-robust policy, chosen with the
# exact evaluator on the 59 benchmark rows with V <= 64 (pysampler.experiments.rows) over lambda
# 1.5..3, 10..40 sweeps, both shifts and both starts, at the default HwConfig: the min_invalid
# shift bounds the invalid rate at every entropy (lambda 2.5: below 0.2% fallback with 3
# restarts), and the random one-hot start, which is near the target on a flat row, mixes there in
# 20 sweeps where a start from zeros needs 25-30; lambda 2 leaves up to 0.07% fallback, lambda 3
# needs 30 sweeps. Worst exact TV 0.0085 (hardware), fallback 0.016%, 22.5 V updates per token.
LEGACY = ChainPolicy()
ROBUST = ChainPolicy(init="random_onehot", adapt="entropy")
