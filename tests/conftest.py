"""Shared set-up. Statistical tests use fixed seeds; their tolerances are derived in place."""

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TALLY = ROOT / "build" / "cosim-updates"

os.environ.setdefault("NUMBA_CACHE_DIR", str(ROOT / "build" / "numba-cache"))
os.environ.setdefault("XDG_CACHE_HOME", str(ROOT / "build" / "cache"))


def record_cosim_updates(case: str, count: int) -> None:
    """Note how many updates a co-simulation case compared (summed in the terminal summary)."""
    TALLY.mkdir(parents=True, exist_ok=True)
    (TALLY / f"{case}.json").write_text(json.dumps(count))


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput"):  # the controller, once per session
        for stale in TALLY.glob("*.json"):
            stale.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    files = sorted(TALLY.glob("*.json"))
    if not files:
        return
    counts = {f.stem: json.loads(f.read_text()) for f in files}
    terminalreporter.section("co-simulation")
    for case, count in counts.items():
        terminalreporter.write_line(f"{case:32s} {count:10d} updates compared")
    terminalreporter.write_line(f"{'total':32s} {sum(counts.values()):10d} updates compared, "
                                f"RTL vs bit-accurate model")
