"""Annealing on a TSU backend: a per-sweep beta schedule that fits the graph core's beta table,
and one call that runs it.

The core holds up to 16 inverse temperatures and a hold (sweeps per entry): sweep s of a run uses
entry min(s // hold, T - 1) (docs/graph.md). :func:`anneal_schedule` spaces T entries from
beta_min to beta_max (geometric or linear) over a run of ``sweeps`` sweeps; on the emulated
hardware each entry is then realised by the mantissa-and-shift scaling (within 2**-4 of the
ratio, ``SampleResult.betas``). :meth:`AnnealSchedule.per_sweep` gives the same staircase sweep
by sweep, and :func:`sweep_betas` a smooth per-sweep schedule for a float baseline.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..contract.graph import BETA_EXP_MAX, MAX_BETA_HOLD, MAX_BETA_SCHEDULE
from ..contract.validation import check_int
from .protocol import SampleResult, TSUBackend

__all__ = ["AnnealSchedule", "anneal_schedule", "sweep_betas", "anneal", "SCHEDULE_KINDS",
           "MAX_BETA_SPAN", "MAX_ANNEAL_SWEEPS"]

SCHEDULE_KINDS = ("geometric", "linear")
MAX_BETA_SPAN = float(1 << BETA_EXP_MAX)        # beta_max / beta_min the table can realise
MAX_ANNEAL_SWEEPS = MAX_BETA_HOLD * MAX_BETA_SCHEDULE


@dataclass(frozen=True)
class AnnealSchedule:
    """A beta table for the graph core: ``betas`` (T entries, increasing), ``beta_hold`` sweeps
    each, over a run of ``sweeps`` sweeps (the last entry takes the remainder)."""

    betas: tuple[float, ...]
    beta_hold: int
    sweeps: int

    def per_sweep(self) -> np.ndarray:
        """The requested beta of every sweep, float64 (sweeps,)."""
        s = np.arange(self.sweeps)
        return np.asarray(self.betas)[np.minimum(s // self.beta_hold, len(self.betas) - 1)]


def _check_range(beta_min: Any, beta_max: Any) -> tuple[float, float]:
    values = []
    for name, v in (("beta_min", beta_min), ("beta_max", beta_max)):
        try:
            x = float(v)
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}") from None
        if isinstance(v, bool) or not np.isfinite(x) or x <= 0:
            raise ValueError(f"{name} must be a finite number > 0, got {v!r}")
        values.append(x)
    lo, hi = values
    if lo > hi:
        raise ValueError(f"beta_min must be <= beta_max, got {lo} > {hi}")
    return lo, hi


def _spaced(lo: float, hi: float, count: int, kind: str) -> np.ndarray:
    if kind not in SCHEDULE_KINDS:
        raise ValueError(f"kind must be one of {SCHEDULE_KINDS}, got {kind!r}")
    if count == 1:
        return np.array([hi])
    t = np.arange(count) / (count - 1)
    return lo * (hi / lo) ** t if kind == "geometric" else lo + (hi - lo) * t


def anneal_schedule(beta_min: float, beta_max: float, sweeps: int, *,
                    entries: int = MAX_BETA_SCHEDULE, kind: str = "geometric") -> AnnealSchedule:
    """T = min(entries, sweeps) inverse temperatures from beta_min to beta_max, held
    sweeps // T sweeps each.

    Parameters
    ----------
    beta_min, beta_max : float
        Finite, > 0, beta_min <= beta_max, and beta_max / beta_min <= 128 (the span the
        core's beta scaling realises).
    sweeps : int
        Sweeps of the run, 1 .. 16 * 65535.
    entries : int
        Table entries, 1..16.
    kind : "geometric" or "linear"
    """
    lo, hi = _check_range(beta_min, beta_max)
    if hi / lo > MAX_BETA_SPAN:
        raise ValueError(f"beta_max / beta_min must be <= {MAX_BETA_SPAN:g} (the beta table's "
                         f"span), got {hi / lo:g}")
    sweeps = check_int("sweeps", sweeps, 1, MAX_ANNEAL_SWEEPS)
    entries = check_int("entries", entries, 1, MAX_BETA_SCHEDULE)
    count = min(entries, sweeps)
    hold = sweeps // count
    if hold > MAX_BETA_HOLD:
        raise ValueError(f"sweeps / entries = {hold} passes the core's hold of {MAX_BETA_HOLD} "
                         f"sweeps an entry: use more entries or fewer sweeps")
    betas = _spaced(lo, hi, count, kind)
    return AnnealSchedule(tuple(float(b) for b in betas), hold, sweeps)


def sweep_betas(beta_min: float, beta_max: float, sweeps: int, *,
                kind: str = "geometric") -> np.ndarray:
    """A smooth schedule, one beta per sweep from beta_min to beta_max (float64 (sweeps,)), for
    a float baseline such as :func:`pysampler.engines.metropolis.metropolis_anneal`."""
    lo, hi = _check_range(beta_min, beta_max)
    sweeps = check_int("sweeps", sweeps, 1, MAX_ANNEAL_SWEEPS)
    return _spaced(lo, hi, sweeps, kind)


def anneal(backend: TSUBackend, J: Any, h: ArrayLike | None, schedule: AnnealSchedule,
           chains: int, *, seed: int = 0, init_state: ArrayLike | None = None) -> SampleResult:
    """Run ``schedule`` on ``backend``: ``chains`` chains of schedule.sweeps sweeps of the Ising
    model (J, h) (spins; :meth:`TSUBackend.sample_ising`), the final spins and energies."""
    if not isinstance(schedule, AnnealSchedule):
        raise TypeError(f"schedule must be an AnnealSchedule (anneal_schedule(...)), got "
                        f"{type(schedule).__name__}")
    return backend.sample_ising(J, h, schedule.betas, schedule.sweeps, chains, init_state, seed,
                                beta_hold=schedule.beta_hold)
