"""Calibration: the fewest sweeps per lambda that reach a target exact TV, float and hardware
(``make calibrate``)."""

from __future__ import annotations

from dataclasses import dataclass

from ..analysis.exact import exact_over_sweeps
from ..contract.config import HwConfig
from ..samplers.policy import ChainPolicy
from ..samplers.registry import make_sampler
from .logitsets import check_vocab_size, synthetic_logits

__all__ = ["CalibrationHit", "calibrate", "calibration_report", "CALIBRATION_LAMS",
           "CALIBRATION_SWEEPS"]

CALIBRATION_LAMS = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0)
CALIBRATION_SWEEPS = (5, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320)


@dataclass(frozen=True)
class CalibrationHit:
    """The first sweep count of the grid that reaches the target (fallback < 1%)."""

    sweeps: int
    tv: float
    fallback: float
    updates_per_token: float


def calibrate(vocab_size: int, target_tv: float, cfg: HwConfig, *, max_sweeps: int = 160,
              seed: int = 0, kinds: tuple[str, ...] = ("gibbs", "hw")
              ) -> dict[float, dict[str, CalibrationHit | None]]:
    """lambda -> kind -> the cheapest grid point with exact TV <= ``target_tv`` and per-token
    fallback < 1% on :func:`synthetic_logits` (None where none reaches it)."""
    check_vocab_size(vocab_size, cfg)
    if not (isinstance(target_tv, (int, float)) and 0 < target_tv < 1):
        raise ValueError(f"target_tv must be a total variation in (0, 1), got {target_tv!r}")
    grid = [s for s in CALIBRATION_SWEEPS if s <= max_sweeps]
    if not grid:
        raise ValueError(f"max_sweeps must be >= {CALIBRATION_SWEEPS[0]} (the shortest run of the "
                         f"grid {CALIBRATION_SWEEPS}), got {max_sweeps!r}")
    logits = synthetic_logits(vocab_size, seed)
    out: dict[float, dict[str, CalibrationHit | None]] = {}
    for lam in CALIBRATION_LAMS:
        out[lam] = {}
        for kind in kinds:
            sampler = make_sampler(kind, cfg, ChainPolicy(lam=lam, sweeps=1))
            out[lam][kind] = next(
                (CalibrationHit(s, r.tv, r.fallback, r.expected_updates)
                 for s, r in zip(grid, exact_over_sweeps(sampler, logits, grid))
                 if r.tv <= target_tv and r.fallback < 0.01), None)
    return out


def _cells(hit: CalibrationHit | None) -> list[str]:
    if hit is None:
        return ["-"] * 4
    return [str(hit.sweeps), f"{hit.tv:.4f}", f"{hit.fallback:.1e}", f"{hit.updates_per_token:.0f}"]


def calibration_report(hits: dict[float, dict[str, CalibrationHit | None]], target_tv: float,
                       max_sweeps: int, best_of: str = "hw") -> str:
    """A Markdown table (sweeps, TV, fallback, updates per lambda and kind) and the cheapest
    setting of ``best_of``."""
    kinds = list(next(iter(hits.values())))
    head = ["lambda"] + [f"{k}: {c}" for k in kinds for c in ("sweeps", "TV", "fallback",
                                                              "updates/token")]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for lam, row in hits.items():
        lines.append("| " + " | ".join([f"{lam:g}"] + [c for k in kinds for c in _cells(row[k])])
                     + " |")
    found = [(hit.updates_per_token, lam, hit) for lam, row in hits.items()
             if (hit := row.get(best_of)) is not None]
    if not found:
        lines.append(f"\nno lambda reaches TV {target_tv} with the {best_of} sampler within "
                     f"{max_sweeps} sweeps (its quantization floor may be higher: see "
                     f"`pysampler study`)")
    else:
        _, lam, hit = min(found, key=lambda t: t[0])
        lines.append(f"\ncheapest {best_of} setting: lambda = {lam:g}, {hit.sweeps} sweeps (exact "
                     f"TV {hit.tv:.4f}, {hit.updates_per_token:.0f} expected updates per token)")
    return "\n".join(lines)
