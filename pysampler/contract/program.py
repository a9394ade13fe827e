"""Programs for the p-bit array: fixed-point h and J, built from float models.

A program is what the hardware's programming port receives: integer biases ``h`` (n,) and
couplings ``J`` (n, n), each a signed ``weight_bits`` two's complement value standing for
``int / 2**frac_bits``. Energies are in QUBO form over y in {0,1}^n::

    E(y) = -sum_i h_i y_i - sum_{i<j} J_ij y_i y_j,   field  I_i = h_i + sum_{j != i} J_ij y_j.

Ising spins m = 2y - 1 convert both ways (:func:`spin_to_qubo`, :func:`qubo_to_spin`).

The hardware's sigmoid has a gain, ``HwConfig.beta``: a p-bit turns on with probability
sigmoid(beta * I * 2^-f) (up to the LUT's rounding). Every builder here compensates it: a program
for the law exp(-b E) (b the target inverse temperature; logits for a token program) writes the
fields of ``b * E / beta`` (:func:`field_values`), so in exact arithmetic its law does not depend on
``beta``, which only sets how much of the target one LSB is (``HwConfig.logit_lsb``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .config import HwConfig
from .fixedpoint import dequantize, quantize
from .lut import build_lut, lut_address

__all__ = [
    "DenseProgram", "OnehotProgram", "onehot_program", "dense_program", "ising_program",
    "spin_to_qubo", "qubo_to_spin", "shift_logits", "check_couplings", "SaturationError",
    "OFFSETS", "min_invalid_offset", "MAX_SCHEDULE", "lambda_schedule", "schedule_entries",
    "OnehotBatch", "onehot_programs", "shift_rows", "offsets_mask", "log_pair_mass",
    "field_values", "RegisterWrite",
]

#: One programming-port write: (register reference, value). The reference is a register name of
#: :data:`pysampler.contract.regmap.REGISTERS` (``"N_ACTIVE"``), or (name, index) for an array
#: entry (``("H", i)``, ``("J", (i, j))``); :meth:`pysampler.contract.regmap.CoreMap.address`
#: resolves it for one core and build.
RegisterWrite = tuple

MAX_SCHEDULE = 8  # entries of the per-sweep lambda table (the RTL holds this many)


class SaturationError(ValueError):
    """A float program did not fit the fixed-point range and ``strict=True`` was asked for."""


def _finite_1d(values: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise ValueError(f"{name} is empty: need at least one element")
    if not np.isfinite(arr).all():
        bad = "NaN" if np.isnan(arr).any() else "inf"
        raise ValueError(f"{name} contains {bad}; all values must be finite")
    return arr


def _positive(value: float, name: str) -> float:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def check_couplings(J: ArrayLike, n: int, *, name: str = "J", atol: float = 0.0) -> np.ndarray:
    """Check a coupling matrix: shape (n, n), finite, symmetric, zero diagonal."""
    arr = np.asarray(J)
    if arr.shape != (n, n):
        raise ValueError(f"{name} must have shape ({n}, {n}) to match h, got {arr.shape}")
    if not np.isfinite(arr.astype(np.float64)).all():
        raise ValueError(f"{name} contains NaN or inf")
    if np.any(np.abs(np.diagonal(arr)) > atol):
        raise ValueError(f"{name} must have a zero diagonal (no self-coupling)")
    if np.any(np.abs(arr - arr.T) > atol):
        raise ValueError(f"{name} must be symmetric (J[i, j] == J[j, i])")
    return arr


def field_values(x: ArrayLike, cfg: HwConfig) -> np.ndarray:
    """Values of the target law (logits, or b times energy coefficients) in field units: divided
    by the sigmoid's gain ``cfg.beta``, before the quantizer. The one place a program compensates
    the gain (exact at beta = 1)."""
    with np.errstate(over="ignore"):  # past float64: +-inf, which the quantizer saturates
        return np.asarray(x, dtype=np.float64) / cfg.beta


def _check_size(n: int, cfg: HwConfig, name: str) -> None:
    if n > cfg.n_pbits:
        raise ValueError(f"{name} has {n} units but the array has n_pbits={cfg.n_pbits}; "
                         f"allowed size is 1..{cfg.n_pbits}")


def _report_saturation(n_saturated: int, strict: bool, what: str) -> None:
    if n_saturated and strict:
        raise SaturationError(f"{n_saturated} {what} values saturated the fixed-point range "
                              f"(strict=True); lower lambda or widen weight_bits/frac_bits")


def _lut_extremes(fields: np.ndarray, cfg: HwConfig) -> int:
    """How many of the given integer fields land on a LUT entry of 0 or 2**P (p = 0 or 1)."""
    values = build_lut(cfg)[lut_address(fields, cfg)]
    return int(np.count_nonzero((values == 0) | (values == (1 << cfg.prob_bits))))


@dataclass(frozen=True)
class DenseProgram:
    """A general program: integer h (n,) and symmetric, zero-diagonal integer J (n, n).

    Attributes
    ----------
    cfg : HwConfig
    h : np.ndarray of int64, shape (n,)
        Biases, weight_bits signed, LSB = 2**-frac_bits.
    J : np.ndarray of int64, shape (n, n)
        Couplings, same format.
    n_saturated : int
        Values clamped by the quantizer when the program was built from floats.

    Behaviour the engines and test benches call (every program kind has it): :attr:`kernel` names
    the engine kernel that runs it, :meth:`to_dense` its dense form, :attr:`schedule_length` its
    per-sweep table (1: none), :meth:`register_writes` what the programming port receives.
    """

    kernel: ClassVar[str] = "dense"

    cfg: HwConfig
    h: np.ndarray
    J: np.ndarray
    n_saturated: int = 0

    def __post_init__(self) -> None:
        h = np.asarray(self.h)
        if h.ndim != 1 or h.size == 0:
            raise ValueError(f"h must be a non-empty 1-D integer array, got shape {h.shape}")
        _check_size(h.size, self.cfg, "h")
        J = check_couplings(self.J, h.size)
        for name, arr in (("h", h), ("J", J)):
            if not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"{name} must hold integers (fixed-point codes), got {arr.dtype}")
            if arr.size and (arr.min() < self.cfg.weight_min or arr.max() > self.cfg.weight_max):
                raise ValueError(f"{name} values must be in [{self.cfg.weight_min}, "
                                 f"{self.cfg.weight_max}] for weight_bits={self.cfg.weight_bits}")
        object.__setattr__(self, "h", h.astype(np.int64))
        object.__setattr__(self, "J", J.astype(np.int64))

    @property
    def n(self) -> int:
        return int(self.h.size)

    @property
    def schedule_length(self) -> int:
        """Entries of the per-sweep table: 1 (the dense core has no schedule)."""
        return 1

    def to_dense(self) -> "DenseProgram":
        """The dense form: this program."""
        return self

    def register_writes(self, *, full_matrix: bool = True) -> list[RegisterWrite]:
        """The dense core's programming writes: N_ACTIVE, h[i], then J[i][j] row by row (the
        diagonal too, as zeros, unless ``full_matrix`` is False)."""
        writes: list[RegisterWrite] = [("N_ACTIVE", self.n)]
        writes += [(("H", i), int(v)) for i, v in enumerate(self.h)]
        writes += [(("J", (i, j)), int(self.J[i, j]))
                   for i in range(self.n) for j in range(self.n) if full_matrix or i != j]
        return writes

    def fields(self, y: np.ndarray) -> np.ndarray:
        """Integer fields I = h + J y of states y (..., n) (J has a zero diagonal)."""
        return self.h + np.asarray(y, dtype=np.int64) @ self.J

    def energy(self, y: np.ndarray) -> np.ndarray:
        """QUBO energy of states y (..., n) in real units (float64)."""
        y = np.asarray(y, dtype=np.float64)
        h = dequantize(self.h, self.cfg.frac_bits)
        J = dequantize(self.J, self.cfg.frac_bits)
        return -(y @ h) - 0.5 * np.einsum("...i,ij,...j->...", y, J, y)


def lambda_schedule(lam: float | Sequence[float]) -> tuple[float, ...]:
    """A lambda or a per-sweep lambda table as a checked tuple of 1..MAX_SCHEDULE floats > 0."""
    if isinstance(lam, (str, bytes)) or lam is None:
        raise ValueError(f"lam must be a number > 0 or a sequence of 1..{MAX_SCHEDULE} of them, "
                         f"got {lam!r}")
    values = (lam,) if np.ndim(lam) == 0 else tuple(lam)
    if not 1 <= len(values) <= MAX_SCHEDULE:
        raise ValueError(f"lam schedule must have 1..{MAX_SCHEDULE} entries, got {len(values)}")
    return tuple(_positive(v, "lam" if len(values) == 1 else f"lam[{k}]")
                 for k, v in enumerate(values))


def schedule_entries(n_entries: int, run_sweeps: int, total_sweeps: int | None = None
                     ) -> np.ndarray:
    """Schedule entry used in each sweep of a run: the table is aligned with the run's *end*.

    Sweep s of a run of S sweeps uses entry ``max(0, T - (S - s))``: the last T - 1 sweeps step
    through entries 1 .. T-1 and every earlier sweep uses entry 0. Sweeps past the run (the
    "continue" read-out's extra sweeps, ``total_sweeps > run_sweeps``) use entry T - 1.
    Returns int64 (total_sweeps,).
    """
    total = run_sweeps if total_sweeps is None else total_sweeps
    s = np.arange(total, dtype=np.int64)
    return np.where(s < run_sweeps, np.maximum(0, n_entries - (run_sweeps - s)), n_entries - 1)


@dataclass(frozen=True)
class OnehotProgram:
    """The one-hot token program: h_i = q((z_i + lambda) / beta), one coupling
    j = q(-2 lambda / beta), and an optional per-sweep lambda table (beta = ``cfg.beta``, the
    sigmoid's gain, compensated: :func:`field_values`).

    Lambda schedule: with lambdas l_0 .. l_{T-1} (T <= MAX_SCHEDULE; lambda = l_{T-1}, the
    read-out lambda), entry t adds ``bias_offsets[t] = q((l_t - lambda) / beta)`` to every h and
    uses the coupling ``couplings[t] = q(-2 l_t / beta)``, so the field in a sweep at entry t is
    ``h_i + bias_offsets[t] + couplings[t] * (others on)``. Which entry a sweep uses:
    :func:`schedule_entries`. Without a schedule T = 1, bias_offsets = (0,), couplings = (j,).

    Attributes
    ----------
    cfg : HwConfig
    h : np.ndarray of int64, shape (n,)
    j : int
        The coupling between every pair of p-bits (the read-out entry's).
    logits : np.ndarray of float64, shape (n,)
        The shifted, temperature-scaled logits the program was built from (max = 0 by default;
        logit units, before the gain's compensation).
    lam : float
        The one-hot penalty lambda (read-out entry; logit units).
    n_saturated : int
        Values clamped by the quantizer (h, j and the schedule together).
    absorbing_tokens : tuple of int
        One-hot states the chain can never leave at the read-out entry (p = 1 to stay on, p = 0
        for every other bit to turn on): a frozen program. Empty for a healthy program.
    bias_offsets, couplings : tuple of int
        The schedule table (weight_bits signed integers each), T entries.

    Runs on the engines' one-hot kernel (:attr:`kernel`); :meth:`to_dense` is its dense form.
    """

    kernel: ClassVar[str] = "onehot"

    cfg: HwConfig
    h: np.ndarray
    j: int
    logits: np.ndarray
    lam: float
    n_saturated: int = 0
    absorbing_tokens: tuple[int, ...] = field(default=())
    bias_offsets: tuple[int, ...] = ()
    couplings: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not len(self.couplings):
            object.__setattr__(self, "bias_offsets", (0,))
            object.__setattr__(self, "couplings", (int(self.j),))
        object.__setattr__(self, "bias_offsets", tuple(int(v) for v in self.bias_offsets))
        object.__setattr__(self, "couplings", tuple(int(v) for v in self.couplings))
        if len(self.bias_offsets) != len(self.couplings) or \
                not 1 <= len(self.couplings) <= MAX_SCHEDULE:
            raise ValueError(f"bias_offsets and couplings must have the same length in "
                             f"1..{MAX_SCHEDULE}, got {len(self.bias_offsets)} and "
                             f"{len(self.couplings)}")
        if self.couplings[-1] != self.j:
            raise ValueError(f"j ({self.j}) must be the read-out entry's coupling, "
                             f"couplings[-1] = {self.couplings[-1]}")
        values = np.array(self.bias_offsets + self.couplings + (self.j,), dtype=np.int64)
        if values.min() < self.cfg.weight_min or values.max() > self.cfg.weight_max:
            raise ValueError(f"j, bias_offsets and couplings must be in [{self.cfg.weight_min}, "
                             f"{self.cfg.weight_max}] for weight_bits={self.cfg.weight_bits}")

    @property
    def n(self) -> int:
        return int(self.h.size)

    @property
    def schedule_length(self) -> int:
        """T, the entries of the per-sweep lambda table (1 without a schedule)."""
        return len(self.couplings)

    def to_dense(self) -> DenseProgram:
        """The same program for the dense array (J = j off the diagonal), read-out entry."""
        J = np.full((self.n, self.n), self.j, dtype=np.int64)
        np.fill_diagonal(J, 0)
        return DenseProgram(self.cfg, self.h + self.bias_offsets[-1], J, self.n_saturated)

    def register_writes(self, *, full_matrix: bool = True) -> list[RegisterWrite]:
        """The one-hot core's programming writes: N_ACTIVE, h[i], SCHED_LEN and the whole
        lambda-schedule table (SCHED_OFFSET[t], SCHED_COUPLING[t]). ``full_matrix`` is the dense
        form's option and changes nothing here."""
        writes: list[RegisterWrite] = [("N_ACTIVE", self.n)]
        writes += [(("H", i), int(v)) for i, v in enumerate(self.h)]
        writes.append(("SCHED_LEN", self.schedule_length))
        for t, (offset, coupling) in enumerate(zip(self.bias_offsets, self.couplings)):
            writes += [(("SCHED_OFFSET", t), offset), (("SCHED_COUPLING", t), coupling)]
        return writes

    def on_probabilities(self, entry: int = -1, others: int | None = None) -> np.ndarray:
        """p(y_i = 1 | S_-i = s) at schedule entry ``entry`` (default: the read-out entry) for
        every unit i and other-popcount s < ``others`` (default: all n), shape (n, others)
        (ideal RNG)."""
        s = np.arange(self.n if others is None else min(others, self.n), dtype=np.int64)
        fields = self.h[:, None] + self.bias_offsets[entry] + self.couplings[entry] * s[None, :]
        return np.ldexp(build_lut(self.cfg)[lut_address(fields, self.cfg)].astype(np.float64),
                        -self.cfg.prob_bits)

    def schedule_on_probabilities(self) -> np.ndarray:
        """:meth:`on_probabilities` of every schedule entry, shape (T, n, n)."""
        return np.stack([self.on_probabilities(t) for t in range(self.schedule_length)])


OFFSETS = ("max", "min_invalid")


def min_invalid_offset(z: np.ndarray, beta: float = 1.0) -> float:
    """Shift c that minimises the stationary invalid mass of the one-hot program on logits ``z``.

    Derivation: the Boltzmann weights are exp(-beta*lam) for the empty state, exp(beta z_k) for
    one-hot k and exp(beta (z_j + z_k) - beta*lam) for the pair {j, k} (states with three or more
    units on weigh exp(-4 beta lam) relative to those and are ignored). Shifting every logit by c
    multiplies one-hot weights by a = exp(beta c) and pair weights by a^2, so the invalid-to-valid
    ratio is exp(-beta lam) (1 / (a Z) + a S2 / Z) with Z = sum_k exp(beta z_k) and
    S2 = sum_{j<k} exp(beta (z_j + z_k)). It is smallest at a = S2^(-1/2), i.e.
    c = -ln(S2) / (2 beta), where the ratio is 2 exp(-beta lam) sqrt(S2) / Z. With one logit there
    are no pairs; the shift then falls back to shift-by-max (c = -max z).
    """
    z = np.asarray(z, dtype=np.float64)
    return float(_row_shifts(z.reshape(1, -1), np.ones(1, dtype=bool), beta)[0, 0])


def _row_shifts(z: np.ndarray, min_invalid: np.ndarray, beta: float) -> np.ndarray:
    """The shift of each row of ``z`` (B, n): -max, or :func:`min_invalid_offset` where
    ``min_invalid`` (bool (B,)) is set and the row has two or more logits. Returns (B, 1)."""
    top = z.max(axis=1, keepdims=True)
    shift = -top
    if z.shape[1] >= 2 and min_invalid.any():
        least = -top - log_pair_mass(beta * (z - top)) / (2.0 * beta)
        shift = np.where(min_invalid[:, None], least, shift)
    return shift


def log_pair_mass(x: np.ndarray) -> np.ndarray:
    """ln S2, S2 = sum_{j<k} exp(x_j + x_k), of every row of ``x`` (B, n >= 2), float64 (B, 1).

    Summed in log space as sum_k exp(x_k) (sum_{j<k} exp(x_j)): every term positive, so no
    cancellation (0.5 ((sum w)^2 - sum w^2) loses everything when one weight dominates: 0 for
    the logits (0, -100)) and finite for any finite row."""
    prefix = np.logaddexp.accumulate(x, axis=1)[:, :-1]   # ln sum_{j<k} exp(x_j), k = 1 .. n-1
    terms = x[:, 1:] + prefix
    peak = terms.max(axis=1, keepdims=True)
    return peak + np.log(np.exp(terms - peak).sum(axis=1, keepdims=True))


def offsets_mask(offset: str | Sequence[str], n_rows: int) -> np.ndarray:
    """``offset`` (one of :data:`OFFSETS`, or one per row) as a bool (B,) "min_invalid" mask."""
    if isinstance(offset, str) and offset in OFFSETS:
        return np.full(n_rows, offset == "min_invalid")
    names = np.broadcast_to(np.asarray(offset, dtype=object), (n_rows,)) \
        if np.ndim(offset) == 0 else np.asarray(offset, dtype=object)
    if names.shape != (n_rows,):
        raise ValueError(f"offset must be one name or {n_rows} names (one per row), "
                         f"got shape {names.shape}")
    bad = sorted({str(v) for v in names} - set(OFFSETS))
    if bad:
        raise ValueError(f"offset must be one of {OFFSETS}, got {bad}")
    return names == "min_invalid"


def shift_rows(logits: ArrayLike, offset: str | Sequence[str] = "max", beta: float = 1.0
               ) -> np.ndarray:
    """:func:`shift_logits` (temperature 1) of every row of ``logits`` (B, n) at once, each row
    by its own ``offset`` (one name, or one per row): the same floats as one row at a time."""
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[1] == 0:
        raise ValueError(f"logits must be 2-D (B, n) with n >= 1, got shape {z.shape}")
    if not np.isfinite(z).all():
        raise ValueError("logits contain NaN or inf; all values must be finite")
    with np.errstate(over="ignore", invalid="ignore"):
        shifted = z + _row_shifts(z, offsets_mask(offset, z.shape[0]), _positive(beta, "beta"))
    if not np.isfinite(shifted).all():
        raise ValueError("logits span more than float64 holds (shifting them overflows)")
    return shifted


def shift_logits(logits: ArrayLike, temperature: float = 1.0, offset: str = "max",
                 beta: float = 1.0) -> np.ndarray:
    """Temperature-scaled logits, shifted (softmax is unchanged by any shift).

    ``offset="max"``: the maximum becomes 0 (uses the fixed-point range well). ``"min_invalid"``:
    shifted by :func:`min_invalid_offset`, so that the one-hot chain spends the least time in
    invalid states (``beta`` is the chain's inverse temperature).
    """
    with np.errstate(over="ignore"):
        z = _finite_1d(logits, "logits") / _positive(temperature, "temperature")
    if not np.isfinite(z).all():
        raise ValueError(f"logits over temperature = {temperature!r} overflow float64")
    if offset not in OFFSETS:
        raise ValueError(f"offset must be one of {OFFSETS}, got {offset!r}")
    return shift_rows(z[None, :], offset, beta)[0]


def onehot_program(logits: ArrayLike, lam: float | Sequence[float], temperature: float,
                   cfg: HwConfig, *, strict: bool = False, offset: str = "max") -> OnehotProgram:
    """Build the one-hot token program; restricted to one-hot states its law is softmax(logits /
    temperature) up to quantization, at every ``cfg.beta`` (compensated).

    Parameters
    ----------
    logits : array_like of float, shape (n,)
        Kept logits (n <= cfg.n_pbits), finite.
    lam : float or sequence of float
        One-hot penalty lambda > 0 (logit units), or a per-sweep lambda table of up to
        MAX_SCHEDULE entries (aligned with the end of each run, :func:`schedule_entries`; the
        last entry is the read-out lambda).
    temperature : float
        > 0; logits are divided by it, then shifted by their max.
    cfg : HwConfig
    strict : bool
        Raise :class:`SaturationError` if any value saturates instead of counting it.
    offset : "max" or "min_invalid"
        How the logits are shifted before quantization (:func:`shift_logits`; beta = cfg.beta).
    """
    lams = lambda_schedule(lam)
    final = lams[-1]
    z = shift_logits(logits, temperature, offset)
    _check_size(z.size, cfg, "logits")
    hq = quantize(field_values(z + final, cfg), cfg.frac_bits, cfg.weight_bits,
                  name="logits + lam")
    offq = quantize(field_values(np.array(lams) - final, cfg), cfg.frac_bits, cfg.weight_bits,
                    name="lam[t] - lam")
    jq = quantize(field_values(-2.0 * np.array(lams), cfg), cfg.frac_bits, cfg.weight_bits,
                  name="-2 lam")
    n_sat = hq.n_saturated + offq.n_saturated + jq.n_saturated
    _report_saturation(n_sat, strict, "h/J")
    program = OnehotProgram(cfg, hq.values, int(jq.values[-1]), z, final, n_sat,
                            bias_offsets=tuple(int(v) for v in offq.values),
                            couplings=tuple(int(v) for v in jq.values))
    p_on = program.on_probabilities(others=2)  # O(n): alone, and beside one other unit
    stays_alone = p_on[:, 0] == 1.0
    others_blocked = (p_on[:, 1] == 0.0) if program.n > 1 else np.ones(1, bool)
    blocked_besides = int(others_blocked.sum()) - others_blocked  # other units that stay off
    absorbing = tuple(int(k) for k in np.flatnonzero(stays_alone & (blocked_besides
                                                                      == program.n - 1)))
    object.__setattr__(program, "absorbing_tokens", absorbing)
    return program


@dataclass(frozen=True)
class OnehotBatch:
    """The one-hot programs of B rows of the same size at once (what :func:`onehot_program` builds
    for each row, less the absorbing-state report).

    Attributes
    ----------
    h : np.ndarray of int64, shape (B, n)
    bias_offsets, couplings : np.ndarray of int64, shape (B, T)
        Each row's schedule table (it depends on that row's lambda alone).
    n_saturated : np.ndarray of int64, shape (B,)
        Values clamped per row (h, offsets and couplings together, as ``OnehotProgram``).
    """

    h: np.ndarray
    bias_offsets: np.ndarray
    couplings: np.ndarray
    n_saturated: np.ndarray


def onehot_programs(logits: ArrayLike, lam: float | Sequence[float] | np.ndarray, cfg: HwConfig,
                    *, offset: str | Sequence[str] = "max", strict: bool = False) -> OnehotBatch:
    """:func:`onehot_program` (temperature 1) of every row of ``logits`` (B, n), vectorised: the
    same integers, bit for bit.

    ``lam`` is one lambda or table for every row, or a float array (B, T) with a table per row;
    ``offset`` one shift for every row or one per row (:func:`shift_rows`). A per-row policy
    (:meth:`pysampler.samplers.policy.ChainPolicy.for_rows`) thus runs as one batch.
    """
    z = shift_rows(logits, offset)
    _check_size(z.shape[1], cfg, "logits")
    if np.ndim(lam) == 2:
        lams = np.asarray(lam, dtype=np.float64)
        if lams.shape[0] != z.shape[0] or not 1 <= lams.shape[1] <= MAX_SCHEDULE:
            raise ValueError(f"lam must have one table of 1..{MAX_SCHEDULE} entries per row: "
                             f"shape ({z.shape[0]}, T), got {lams.shape}")
        bad = ~(np.isfinite(lams) & (lams > 0))
        if bad.any():
            b, t = np.argwhere(bad)[0]
            raise ValueError(f"lam[{b}, {t}] must be a finite number > 0, got {lams[b, t]!r}")
    else:
        lams = np.tile(np.array(lambda_schedule(lam)), (z.shape[0], 1))
    final = lams[:, -1:]
    hq = quantize(field_values(z + final, cfg), cfg.frac_bits, cfg.weight_bits,
                  name="logits + lam")
    offq = quantize(field_values(lams - final, cfg), cfg.frac_bits, cfg.weight_bits,
                    name="lam[t] - lam")
    jq = quantize(field_values(-2.0 * lams, cfg), cfg.frac_bits, cfg.weight_bits, name="-2 lam")
    per_row = hq.saturated.sum(axis=1) + offq.saturated.sum(axis=1) + jq.saturated.sum(axis=1)
    _report_saturation(int(per_row.max()), strict, "h/J")
    return OnehotBatch(hq.values, offq.values, jq.values, per_row.astype(np.int64))


def dense_program(h: ArrayLike, J: ArrayLike, cfg: HwConfig, *, beta: float = 1.0,
                  strict: bool = False) -> DenseProgram:
    """Quantize a float QUBO program (h (n,), J (n, n) symmetric, zero diagonal) whose target law
    is p(y) proportional to exp(-beta E(y)): the fields are those of beta h, beta J in units of
    the sigmoid's gain (:func:`field_values`)."""
    hf = _finite_1d(h, "h")
    _check_size(hf.size, cfg, "h")
    Jf = check_couplings(np.asarray(J, dtype=np.float64), hf.size)
    b = _positive(beta, "beta")
    hq = quantize(field_values(b * hf, cfg), cfg.frac_bits, cfg.weight_bits, name="h")
    Jq = quantize(field_values(b * Jf, cfg), cfg.frac_bits, cfg.weight_bits, name="J")
    n_sat = hq.n_saturated + Jq.n_saturated
    _report_saturation(n_sat, strict, "h/J")
    return DenseProgram(cfg, hq.values, Jq.values, n_sat)


def spin_to_qubo(J: ArrayLike, h: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    """Ising (spins m in {-1,+1}) to QUBO (y in {0,1}, m = 2y - 1).

    E_spin(m) = -h.m - 1/2 m^T J m equals E_qubo(y) + const with J' = 4 J,
    h'_i = 2 h_i - 2 sum_j J_ij and const = sum(h) - 1/2 sum(J) (all entries). Returns
    ``(J', h', const)``.
    """
    hs = _finite_1d(h, "h")
    Js = check_couplings(np.asarray(J, dtype=np.float64), hs.size)
    row = Js.sum(axis=1)
    return 4.0 * Js, 2.0 * hs - 2.0 * row, float(hs.sum() - 0.5 * Js.sum())


def qubo_to_spin(J: ArrayLike, h: ArrayLike) -> tuple[np.ndarray, np.ndarray, float]:
    """Inverse of :func:`spin_to_qubo`: returns ``(J_spin, h_spin, const)`` with
    ``E_qubo(y) == E_spin(2y - 1) + const``."""
    hq = _finite_1d(h, "h")
    Jq = check_couplings(np.asarray(J, dtype=np.float64), hq.size)
    Js = Jq / 4.0
    hs = hq / 2.0 + Jq.sum(axis=1) / 4.0
    return Js, hs, float(-hs.sum() + 0.5 * Js.sum())


def ising_program(J: ArrayLike, h: ArrayLike, cfg: HwConfig, *, beta: float = 1.0,
                  strict: bool = False) -> DenseProgram:
    """Quantized QUBO program of an Ising model given in spins (J symmetric, zero diagonal) whose
    law is p(m) proportional to exp(-beta * E_spin(m)) (``beta`` the target's inverse
    temperature; the hardware's gain ``cfg.beta`` is compensated)."""
    Jq, hq, _ = spin_to_qubo(J, h)
    return dense_program(hq, Jq, cfg, beta=beta, strict=strict)
