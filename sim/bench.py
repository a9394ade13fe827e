"""Co-simulation speed: simulated clocks per second on Icarus and Verilator, same program, and the
compared updates per second of the bulk mode on Verilator.

Each cocotb figure is a whole co-simulated run (the trace of every clock read by cocotb and
compared with the model), one token program on the default HwConfig at V = 64; the bulk figure is
a soak batch (random programs and 200-sweep token runs) on the same configuration, the core
running free and its trace compared in batches (:mod:`sim.bulk`). ``pysampler bench`` stores the
result under "cosim" in results/bench.json. A failed comparison raises (:class:`CosimFailed`,
:class:`sim.bulk.BulkMismatch`), so the bench never reports a speed for a wrong run.
"""

from __future__ import annotations

from pathlib import Path

from pysampler.contract.config import HwConfig

from .bulk import run_bulk, soak_script
from .runner import SIMULATORS, cosim_config, run_cosim

__all__ = ["cosim_speed", "bulk_speed"]


def cosim_speed(sweeps: int = 1000, *, config_name: str = "default", cfg: HwConfig | None = None,
                sims: tuple[str, ...] = SIMULATORS, verilog_dir: Path | None = None,
                build_root: Path | None = None, bulk_updates: int = 2_000_000) -> dict:
    """Time a co-simulated run of ``sweeps`` sweeps on each simulator in ``sims`` (and, with
    ``bulk_updates`` > 0, the bulk mode).

    ``verilog_dir`` and ``build_root`` run a given Verilog (a mutated copy, say) in a given
    build folder, as :func:`sim.runner.run_cosim` does.

    Returns
    -------
    dict
        ``program``, ``sweeps``, per simulator ``{"clocks_per_s", "updates"}``,
        ``verilator_over_icarus`` (the speed ratio, when both ran) and ``bulk_verilator``
        (``{"updates_per_s", "updates"}``).

    Raises
    ------
    CosimFailed, BulkMismatch
        When a compared run differs from the model.
    """
    cfg = cfg or cosim_config(config_name)
    figures = {}
    for sim in sims:
        build = None if build_root is None else build_root / sim
        counts = run_cosim(sim, config_name, cfg, "onehot", testcase="throughput_test",
                           bench_sweeps=sweeps, verilog_dir=verilog_dir, build_dir=build)
        figures[sim] = {"clocks_per_s": counts["clocks_per_s"], "updates": counts["throughput"]}
    out = {"program": "one-hot token, default HwConfig, V=64, lambda=3", "sweeps": sweeps,
           **figures}
    if "icarus" in figures and "verilator" in figures:
        out["verilator_over_icarus"] = (figures["verilator"]["clocks_per_s"]
                                        / figures["icarus"]["clocks_per_s"])
    if bulk_updates > 0:
        out["bulk_verilator"] = bulk_speed(bulk_updates, config_name=config_name, cfg=cfg)
    return out


def bulk_speed(updates: int = 2_000_000, *, config_name: str = "default",
               cfg: HwConfig | None = None) -> dict:
    """Compared updates per second of a bulk soak batch on Verilator (the harness and the
    comparison together; the build is not timed)."""
    cfg = cfg or cosim_config(config_name)
    result = run_bulk(config_name, cfg, "onehot", soak_script(cfg, "onehot", seed=0,
                                                              updates=updates))
    return {"updates_per_s": result.updates_per_s, "updates": result.updates}
