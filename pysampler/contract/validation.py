"""Argument checks shared by the package: one wording for every "integer in a range" error."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["check_int"]


def check_int(name: str, value: Any, low: int, high: int | None = None) -> int:
    """``value`` as an int when it is an integer (not a bool) in [low, high] (``high=None``: no
    upper bound); otherwise a ValueError naming ``name`` and the allowed range."""
    allowed = f"an int >= {low}" if high is None else f"an int in [{low}, {high}]"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low \
            or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return int(value)
