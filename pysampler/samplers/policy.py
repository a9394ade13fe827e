"""The p-bit chain policy: how a one-hot chain turns into a token. One frozen, validated value.

Attempt semantics: each attempt starts from ``init`` and runs ``burn_in + sweeps`` sequential
sweeps, then reads the state out. With ``readout="continue"`` an invalid read-out is first given up
to ``extra_sweeps`` more sweeps, read out after each, before the attempt counts as invalid. After
``1 + max_resample`` invalid attempts the token is the argmax of the kept logits (fallback).
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from ..contract.fixedpoint import quantize_values
from ..contract.lut import build_lut, lut_address
from ..contract.program import OFFSETS, field_values, lambda_schedule, shift_rows
from ..contract.validation import check_int
from ..engines.array import INIT_POLICIES

if TYPE_CHECKING:
    from ..contract.config import HwConfig

__all__ = ["ChainPolicy", "RowPolicies", "DEFAULT_LAM", "DEFAULT_SWEEPS", "READOUTS", "ADAPTS",
           "ROBUST", "LEGACY", "POLICIES", "invalid_ratios", "invalid_ratios_rows",
           "ADAPT_MAX_RATIO", "lambda_phase", "lambda_phases", "PHASES"]

READOUTS = ("restart", "continue")
ADAPTS = ("none", "entropy")
# adapt="entropy" keeps the shift by max while its stationary invalid-to-valid ratio is at most
# this factor above the smallest one (the min_invalid shift): see ChainPolicy.for_row.
ADAPT_MAX_RATIO = 1.25
PHASES = 16  # sub-LSB lambda phases adapt="entropy" tries on a fixed-point core
PHASE_BLOCK = 1 << 14  # phases x logits lambda_phases works on at once (cache-sized blocks of rows)

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
    init: str = "random_onehot"
    max_resample: int = 3
    offset: str = "max"
    readout: str = "restart"
    extra_sweeps: int = 0
    adapt: str = "entropy"

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

    def for_row(self, logits: ArrayLike, cfg: "HwConfig | None" = None) -> "ChainPolicy":
        """The policy one row of kept logits runs (``adapt="none"``: this one).

        ``logits`` and lambda are in logit units (the program compensates the hardware's gain,
        :attr:`pysampler.contract.config.HwConfig.logit_lsb`).
        ``adapt="entropy"``: restricted to one-hot, empty and two-hot states, the stationary
        invalid-to-valid mass ratio of the one-hot program is exp(-lam) times
        p_max + (1 - sum p^2) / (2 p_max) for the shift by max, and sqrt(2 (1 - sum p^2)) for the
        min_invalid shift (its minimum over all shifts; p = softmax(z),
        :func:`invalid_ratios`). The first grows like V / 2 on a flat row and equals the second
        only where p_max^2 = (1 - sum p^2) / 2; the second is below sqrt(2) exp(-lam) on every
        row, so one lambda bounds the invalid rate at every entropy. The shift by max keeps the
        largest logit exact in fixed point, so it is kept where it costs at most
        ``ADAPT_MAX_RATIO`` times the least invalid mass. With ``cfg`` (a fixed-point core),
        the min_invalid shift is taken only where it keeps the largest h = z + lambda within the
        fixed-point range (on a very peaked row it moves the logits up, by ln(1 / S2) / 2 past the
        max shift's, which can saturate; an upward shift means S2 < 1, i.e. p_max^2 >
        (1 - sum p^2) / 2, where the shift by max's ratio is below 2 p_max); every lambda of the
        table then moves by :func:`lambda_phase`: h = q(z + lambda) rounds each logit to the LSB,
        and which way depends on lambda's phase within one LSB; the phase whose rounded logits
        are closest to softmax in TV is taken (the one-hot states' law depends on h alone, J only
        on the invalid mass, which half an LSB hardly moves).
        The row's policy has ``adapt="none"``, the chosen ``offset`` and lambda: the RTL runs it
        as an ordinary program (h, couplings and schedule are written per token anyway).
        """
        if self.adapt == "none":
            return self
        rows = self.for_rows(np.asarray(logits, dtype=np.float64).reshape(1, -1), cfg)
        lam = self.lam if cfg is None else tuple(float(v) for v in rows.lams[0])
        return self.replace(adapt="none", offset=rows.offsets[0], lam=lam)

    def for_rows(self, logits: ArrayLike, cfg: "HwConfig | None" = None) -> "RowPolicies":
        """:meth:`for_row` of every row of ``logits`` (B, n) at once, as arrays (the one
        implementation: :meth:`for_row` calls this with B = 1)."""
        z = np.asarray(logits, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] == 0:
            raise ValueError(f"logits must be 2-D (B, n) with n >= 1, got shape {z.shape}")
        n_rows = z.shape[0]
        lams = np.tile(np.array(self.lam_schedule), (n_rows, 1))
        if self.adapt == "none":
            return RowPolicies(np.full(n_rows, self.offset, dtype=object), lams)
        by_max, least = invalid_ratios_rows(z)
        least_mass = by_max > ADAPT_MAX_RATIO * least
        if cfg is not None:
            lsb = cfg.logit_lsb
            least_shifted = shift_rows(z, "min_invalid")
            # no shift that saturates the fixed-point h the shift by max would not
            least_mass &= least_shifted.max(axis=1) + lams[:, -1] + lsb / 2 \
                <= cfg.weight_max * lsb
            shifted = np.where(least_mass[:, None], least_shifted, shift_rows(z, "max"))
            phase = lambda_phases(shifted, self.readout_lam, cfg)
            lams = np.maximum(lams + phase[:, None], lsb)
        offsets = np.where(least_mass, "min_invalid", "max").astype(object)
        return RowPolicies(offsets, lams)

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


@dataclass(frozen=True)
class RowPolicies:
    """What :meth:`ChainPolicy.for_rows` chooses for B rows: the shift (``"max"`` or
    ``"min_invalid"``, object (B,)) and the lambda table (float64 (B, T)) of each; every other
    field is the policy's own. :func:`pysampler.contract.program.onehot_programs` takes both."""

    offsets: np.ndarray
    lams: np.ndarray


def invalid_ratios(logits: ArrayLike, beta: float = 1.0) -> tuple[float, float]:
    """Stationary invalid-to-valid ratios of the one-hot program on ``logits`` over exp(-beta lam):
    (shift by max, min_invalid shift) = (p_max + (1 - S) / (2 p_max), sqrt(2 (1 - S))),
    p = softmax(beta z), S = sum p^2 (empty, one-hot and two-hot states; derivation in
    :func:`pysampler.contract.program.min_invalid_offset`)."""
    by_max, least = invalid_ratios_rows(np.asarray(logits, dtype=np.float64).reshape(1, -1), beta)
    return float(by_max[0]), float(least[0])


def invalid_ratios_rows(logits: np.ndarray, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """:func:`invalid_ratios` of every row of ``logits`` (B, n): two float64 (B,) arrays."""
    z = beta * np.asarray(logits, dtype=np.float64)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    spread = np.maximum(0.0, 1.0 - np.sum(p * p, axis=1))
    p_max = p.max(axis=1)
    return p_max + spread / (2.0 * p_max), np.sqrt(2.0 * spread)


def lambda_phase(z: ArrayLike, lam: float, cfg: "HwConfig", phases: int = PHASES) -> float:
    """The shift d in [-LSB/2, LSB/2) (``phases`` steps; one LSB = ``cfg.logit_lsb`` logits) of
    lambda that makes the one-hot law of h = q((z + lambda + d) / beta) closest to softmax(z) in
    TV.

    ``z`` are the shifted logits the program is built from (logit units). The one-hot states' law
    of the chain is proportional to the odds L(h_k) / (2^P - L(h_k)) of the LUT at each bias
    (detailed balance between the empty state and one-hot k), exp(beta h_k 2^-f) up to the LUT's
    rounding.
    """
    row = np.asarray(z, dtype=np.float64).reshape(1, -1)
    return float(lambda_phases(row, lam, cfg, phases)[0])


def lambda_phases(z: np.ndarray, lam: float, cfg: "HwConfig", phases: int = PHASES
                  ) -> np.ndarray:
    """:func:`lambda_phase` of every row of ``z`` (B, n): float64 (B,). Among the phases within
    1e-12 of the least TV, the one nearest zero (the negative one of two as near)."""
    z = np.asarray(z, dtype=np.float64)
    step = max(1, PHASE_BLOCK // (phases * z.shape[1]))
    if z.shape[0] > step:  # bounded memory: blocks of rows
        return np.concatenate([lambda_phases(z[b:b + step], lam, cfg, phases)
                               for b in range(0, z.shape[0], step)])
    target = np.exp(z - z.max(axis=1, keepdims=True))
    target /= target.sum(axis=1, keepdims=True)
    shifts = (np.arange(phases) / phases - 0.5) * cfg.logit_lsb
    h = quantize_values(field_values(z[None] + lam + shifts[:, None, None], cfg), cfg.frac_bits,
                        cfg.weight_bits)
    odds = _lut_odds(cfg)[lut_address(h, cfg)]
    tvs = 0.5 * np.abs(odds / odds.sum(axis=2, keepdims=True) - target).sum(axis=2)  # (P, B)
    near_best = tvs <= tvs.min(axis=0) + 1e-12
    return shifts[np.argmin(np.where(near_best, np.abs(shifts)[:, None], np.inf), axis=0)]


@lru_cache(maxsize=16)
def _lut_odds(cfg: "HwConfig") -> np.ndarray:
    """L / (2^P - L) of every LUT entry (float64; a 2^P entry's odds taken at half an LSB)."""
    level = build_lut(cfg).astype(np.float64)
    return level / np.maximum(float(1 << cfg.prob_bits) - level, 0.5)


# The defaults are the entropy-robust policy (random one-hot start, per-row shift and lambda
# phase), chosen with the exact evaluator on the 59 benchmark rows with V <= 64
# (pysampler.experiments.rows: 9 entropy levels from near-deterministic to near-uniform, heavy
# tails, LM rows at T 0.7-1.5 under top-k / top-p) over lambda 1.5..3, 10..40 sweeps, both shifts
# and both starts, at the default HwConfig: the min_invalid shift bounds the invalid rate at every
# entropy (lambda 2.5: below 0.2% fallback with 3 restarts), and the random one-hot start, which
# is near the target on a flat row, mixes there in 20 sweeps where a start from zeros needs 25-30;
# lambda 2 leaves up to 0.07% fallback, lambda 3 needs 30 sweeps. Worst exact TV 0.0085
# (hardware), fallback 0.016%, 22.5 V updates per token (`make fullvocab`). LEGACY: the defaults
# before (shift by max, start from zeros), chosen on four peaked sets: TV 0.05 and 5% fallback
# on a near-uniform V = 32 row, 0.16 / 16% at V = 64.
ROBUST = ChainPolicy()
LEGACY = ChainPolicy(init="zeros", adapt="none")
POLICIES = {"robust": ROBUST, "legacy": LEGACY}  # by name, for --policy
