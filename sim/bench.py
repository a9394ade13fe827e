"""Co-simulation speed: simulated clocks per second on Icarus and Verilator, same program (make bench).

Each figure is a whole co-simulated run (the trace of every clock read by cocotb and compared with
the model), one token program on the default HwConfig at V = 64. Merged into results/bench.json
under "cosim".
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .runner import SIMULATORS, cosim_config, run_cosim


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m sim.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("results/bench.json"))
    parser.add_argument("--sweeps", type=int, default=1000, help="sweeps of the timed run")
    args = parser.parse_args(argv)
    figures = {}
    for sim in SIMULATORS:
        counts = run_cosim(sim, "default", cosim_config("default"), "onehot",
                           testcase="throughput_test", bench_sweeps=args.sweeps)
        figures[sim] = {"clocks_per_s": counts["clocks_per_s"], "updates": counts["throughput"]}
        print(f"{sim:10s} {counts['clocks_per_s']:10.0f} simulated clocks/s "
              f"({counts['throughput']} updates compared)")
    ratio = figures["verilator"]["clocks_per_s"] / figures["icarus"]["clocks_per_s"]
    print(f"verilator / icarus: {ratio:.2f}x")
    data = json.loads(args.out.read_text()) if args.out.exists() else {}
    data["cosim"] = {"program": "one-hot token, default HwConfig, V=64, lambda=3",
                     "sweeps": args.sweeps, **figures, "verilator_over_icarus": ratio}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
