"""What the runner passes a cocotb test module through the environment, and the report it reads
back: PBIT_CONFIG (HwConfig JSON file), PBIT_KIND (the core), PBIT_PROGRAMS, PBIT_SEED,
PBIT_MAX_SWEEPS, PBIT_TOKEN_RUNS, PBIT_TOKEN_SWEEPS, PBIT_BENCH_SWEEPS, PBIT_REPORT (a JSON file
collecting compared-update counts and measured figures)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Callable

from pysampler.contract.config import HwConfig
from pysampler.contract.regmap import Core

__all__ = ["env_config", "env_core", "env_int", "report_updates", "report_value"]


def env_config() -> HwConfig:
    """The HwConfig the runner built this simulation for."""
    return HwConfig.from_json(Path(os.environ["PBIT_CONFIG"]).read_text())


def env_core() -> Core:
    """The core the runner built."""
    return Core(os.environ["PBIT_KIND"])


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _update_report(key: str, update: Callable) -> None:
    path = os.environ.get("PBIT_REPORT")
    if not path:
        return
    report = Path(path)
    data = json.loads(report.read_text()) if report.exists() else {}
    data[key] = update(data.get(key))
    report.write_text(json.dumps(data))


def report_updates(test: str, count: int) -> None:
    """Add ``count`` compared updates to the report under ``test``."""
    _update_report(test, lambda old: (old or 0) + count)


def report_value(key: str, value: float) -> None:
    """Record a measured figure (e.g. simulated clocks per second) in the report."""
    _update_report(key, lambda old: value)
