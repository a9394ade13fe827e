"""The soak: 10^8 updates of free-running RTL compared with the bit-accurate model in bulk mode.

``pysampler soak`` (``make soak``) spreads ``--updates`` (default 10^8) over every bulk case
(:data:`sim.runner.BULK_CASES`: the one-hot and dense cores on the tiny, default, wide and
clamping configurations, and the one-hot core at V = 1024), in batches of random programs with
runs of up to 64 sweeps and token runs of 200 sweeps (:func:`sim.bulk.soak_script`), each batch a
new seed derived from the soak's seed; then a tenth of ``--updates`` on the graph core's
topologies (:func:`sim.bulk_graph.graph_soak`, :data:`sim.bulk_graph.GRAPH_BULK_CASES`). The seed is fresh (drawn and printed) unless ``--seed``
replays one, so that repeated soaks cover new programs and a failure can be replayed. It prints
the compared updates per case and in all (and with ``--out`` writes them, with the seed), and exits
1 at the first difference (cycle, unit, RTL and model values) or any harness failure.
"""

from __future__ import annotations

import secrets
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .bulk import BulkMismatch, run_bulk, soak_script
from .bulk_graph import graph_soak
from .runner import BULK_CASES, cosim_config

__all__ = ["soak", "run_soak", "SOAK_SEEDS"]

SOAK_SEEDS = 1 << 32  # a soak seed is in [0, 2^32): batch seeds seed * 100,000 + batch fit 64 bits


def soak(updates: int, *, batch: int = 4_000_000, seed: int = 1,
         cases: list[tuple[str, str]] | None = None, verilog_dir: Path | None = None,
         build_dir: Path | None = None, log=print) -> dict[str, int]:
    """Compare about ``updates`` updates across ``cases`` ((configuration, core) pairs; default
    every bulk case, and then a tenth of ``updates`` on the graph core's cases,
    :func:`sim.bulk_graph.graph_soak`), ``batch`` updates per harness run; returns the compared
    updates per case.
    ``verilog_dir`` and ``build_dir`` (with one case) run a given Verilog, as
    :func:`sim.bulk.run_bulk` does.

    Raises
    ------
    BulkMismatch
        At the first difference, whoever the caller is.
    """
    if updates < 1 or batch < 1:
        raise ValueError(f"updates and batch must be >= 1, got {updates} and {batch}")
    every_case = cases is None and verilog_dir is None and build_dir is None
    cases = cases or [(config, kind) for config, kind, *_ in BULK_CASES]
    if (verilog_dir or build_dir) and len(cases) != 1:
        raise ValueError("verilog_dir and build_dir name one case's Verilog: give one case")
    share = -(-updates // len(cases))
    counts: dict[str, int] = {}
    with ThreadPoolExecutor(1) as pool:  # the next batch is written while this one runs
        for config, kind in cases:
            cfg, key, done, b = cosim_config(config), f"{config}-{kind}", 0, 0
            start = time.perf_counter()

            def batch_script(number: int):
                return soak_script(cfg, kind, seed=seed * 100_000 + number,
                                   updates=min(batch, share))

            upcoming = pool.submit(batch_script, 0)
            while done < share:
                script = upcoming.result()
                b += 1
                upcoming = pool.submit(batch_script, b)
                done += run_bulk(config, cfg, kind, script, verilog_dir=verilog_dir,
                                 build_dir=build_dir).updates
            upcoming.cancel()
            counts[key] = done
            log(f"{key:16s} {done:12,d} updates compared in "
                f"{time.perf_counter() - start:6.1f} s")
    if every_case:  # the graph core (sim/bulk_graph.py): a tenth again, on its topologies
        counts.update(graph_soak(max(updates // 10, 1), seed=seed, log=log))
    return counts


def run_soak(updates: int, *, seed: int | None = None, out: Path | None = None,
             log=print) -> int:
    """The soak of ``pysampler soak``: a fresh seed unless one is given (printed first, so that a
    failure can be replayed with ``--seed``), every case, a summary; with ``out``, a Markdown
    report (seed, updates per case, time). Returns the exit status (1 on a mismatch)."""
    if seed is None:
        seed = secrets.randbelow(SOAK_SEEDS)
    if not 0 <= seed < SOAK_SEEDS:
        raise ValueError(f"seed must be in [0, 2**32), got {seed}")
    log(f"soak seed {seed} (replay: pysampler soak --seed {seed} --updates {updates:.3g})")
    start = time.perf_counter()
    try:
        counts = soak(updates, seed=seed, log=log)
    except BulkMismatch as err:
        print(f"pysampler soak: MISMATCH (seed {seed}): {err}", file=sys.stderr)
        return 1
    total, seconds = sum(counts.values()), time.perf_counter() - start
    summary = (f"{total:,d} updates compared, 0 mismatches, in {seconds:.0f} s "
               f"({total / seconds:,.0f} updates/s, builds included)")
    log(f"soak: {summary}")
    if out is not None:
        rows = "\n".join(f"| {key} | {count:,d} |" for key, count in counts.items())
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(
            "# Soak\n\n`make soak` (`pysampler soak --updates 1e8 --out results/soak.md`): "
            "free-running RTL in bulk mode (Verilator) compared with the bit-accurate model on "
            f"every update, random programs from seed {seed} (replay with `--seed {seed}`).\n\n"
            f"| case | updates compared |\n| --- | --- |\n{rows}\n\n"
            f"In all: {summary}.\n\n## Summary\n\n| figure | value |\n| --- | --- |\n"
            f"| seed | {seed} |\n| updates compared | {total} |\n| mismatches | 0 |\n"
            f"| seconds | {seconds:.0f} |\n| updates per second | {total / seconds:.0f} |\n")
    return 0
