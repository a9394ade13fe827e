"""Co-simulation speed: simulated clocks per second on Icarus and Verilator, same program.

Each figure is a whole co-simulated run (the trace of every clock read by cocotb and compared with
the model), one token program on the default HwConfig at V = 64. ``pysampler bench`` stores the
result under "cosim" in results/bench.json.
"""

from __future__ import annotations

from .runner import SIMULATORS, cosim_config, run_cosim

__all__ = ["cosim_speed"]


def cosim_speed(sweeps: int = 1000) -> dict:
    """Time a co-simulated run of ``sweeps`` sweeps on each simulator.

    Returns
    -------
    dict
        ``program``, ``sweeps``, per simulator ``{"clocks_per_s", "updates"}``, and
        ``verilator_over_icarus`` (the speed ratio).
    """
    figures = {}
    for sim in SIMULATORS:
        counts = run_cosim(sim, "default", cosim_config("default"), "onehot",
                           testcase="throughput_test", bench_sweeps=sweeps)
        figures[sim] = {"clocks_per_s": counts["clocks_per_s"], "updates": counts["throughput"]}
    ratio = figures["verilator"]["clocks_per_s"] / figures["icarus"]["clocks_per_s"]
    return {"program": "one-hot token, default HwConfig, V=64, lambda=3", "sweeps": sweeps,
            **figures, "verilator_over_icarus": ratio}
