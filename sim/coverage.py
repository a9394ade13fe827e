"""Functional-coverage report of the bulk co-simulation.

``pysampler coverage --out results/coverage.md`` (``make coverage``) runs the standard bulk
script (:func:`sim.bulk.standard_script`, the one ``make test`` runs) of every bulk case and
writes, per core and configuration, every bin (:class:`sim.bulk.Coverage`; the graph core's
:class:`sim.bulk_graph.GraphCoverage`, per topology): whether the
configuration can reach it, its hits, and a note (whether the LUT entries at the clamps differ
from their neighbours, which is what makes a clamp observable). It exits 1 when a reachable bin
is not hit or a run fails. ``make test`` writes the same report per case under build/coverage/.
"""

from __future__ import annotations

import sys
from pathlib import Path

from pysampler.contract.regmap import Core

from .bulk import BulkMismatch, Coverage, run_bulk, standard_script
from .bulk_graph import GRAPH_BULK_CASES, graph_case_coverage
from .bulk_stream import StreamCoverage, run_stream_bulk, stream_script
from .runner import BULK_CASES, STREAM_BULK_CASES, cosim_config

__all__ = ["case_coverage", "stream_case_coverage", "markdown", "run_coverage"]


def stream_case_coverage(config: str, lanes: int, rows: int, long_rows: tuple[int, ...]
                         ) -> tuple[StreamCoverage, int]:
    """Run one bulk case of the stream core with coverage; returns (its coverage, compared
    decisions)."""
    cfg = cosim_config(config)
    script = stream_script(cfg, lanes, rows=rows, long_rows=long_rows,
                           max_vocab=max(long_rows + (1 << 16,)))
    coverage = StreamCoverage(script.fmt)
    result = run_stream_bulk(config, cfg, lanes, script, coverage=coverage)
    return coverage, result.decisions


def case_coverage(config: str, kind: str, programs: int, long_runs: int, long_sweeps: int
                  ) -> tuple[Coverage, int]:
    """Run one bulk case with coverage; returns (its coverage, compared updates)."""
    cfg = cosim_config(config)
    coverage = Coverage(cfg, Core(kind))
    script = standard_script(cfg, kind, programs=programs, long_runs=long_runs,
                             long_sweeps=long_sweeps)
    result = run_bulk(config, cfg, kind, script, coverage=coverage)
    return coverage, result.updates


def markdown(title: str, coverage: Coverage) -> str:
    """One case's bins as a markdown table."""
    missed = coverage.missed()
    lines = [f"### {title}", "",
             f"{sum(coverage.reachable.values()) - len(missed)} of "
             f"{sum(coverage.reachable.values())} reachable bins hit"
             + (f"; MISSED: {', '.join(missed)}" if missed else "") + ".", "",
             "| bin | reachable | hits | note |", "| --- | --- | --- | --- |"]
    for name, reachable, hits, note in coverage.rows():
        lines.append(f"| {name} | {'yes' if reachable else 'no'} | {hits:,d} | {note} |")
    return "\n".join(lines) + "\n"


def run_coverage(out: Path | None = None) -> int:
    """Run every bulk case with coverage (``pysampler coverage``), print the bins missed and with
    ``out`` write the report; returns the exit status (1 on a mismatch or a missed bin)."""
    parts, missed, total, summary = [], [], 0, []

    def note(case: str, compared: int, coverage: Coverage) -> None:
        reachable = sum(coverage.reachable.values())
        summary.append(f"| {case} | {compared} | {reachable} | {len(coverage.missed())} |")
    for config, kind, programs, long_runs, long_sweeps in BULK_CASES:
        try:
            coverage, updates = case_coverage(config, kind, programs, long_runs, long_sweeps)
        except BulkMismatch as err:
            print(f"pysampler coverage: {config} {kind}: MISMATCH: {err}", file=sys.stderr)
            return 1
        total += updates
        note(f"{config}-{kind}", updates, coverage)
        missed += [f"{config}-{kind}: {name}" for name in coverage.missed()]
        parts.append(markdown(f"{kind} core, `{config}` ({updates:,d} updates compared)", coverage))
        print(f"{config:8s} {kind:7s} {updates:10,d} updates, missed bins: "
              f"{coverage.missed() or 'none'}", flush=True)
    for config, lanes, rows, long_rows in STREAM_BULK_CASES:
        try:
            coverage, decisions = stream_case_coverage(config, lanes, rows, long_rows)
        except BulkMismatch as err:
            print(f"pysampler coverage: {config} stream L={lanes}: MISMATCH: {err}",
                  file=sys.stderr)
            return 1
        total += decisions
        note(f"{config}-stream-L{lanes}", decisions, coverage)
        missed += [f"{config}-stream-L{lanes}: {name}" for name in coverage.missed()]
        longs = ", ".join(f"{v:,d}" for v in long_rows) or "none"
        parts.append(markdown(f"stream core, `{config}`, L = {lanes} (long rows: {longs}; "
                              f"{decisions:,d} decisions compared)", coverage))
        print(f"{config:8s} stream L={lanes:<2d} {decisions:10,d} decisions, missed bins: "
              f"{coverage.missed() or 'none'}", flush=True)
    for config, name, programs, long_runs, long_sweeps in GRAPH_BULK_CASES:
        try:
            coverage, updates = graph_case_coverage(config, name, programs, long_runs,
                                                    long_sweeps)
        except BulkMismatch as err:
            print(f"pysampler coverage: {config} graph {name}: MISMATCH: {err}",
                  file=sys.stderr)
            return 1
        total += updates
        note(f"{config}-graph-{name}", updates, coverage)
        missed += [f"{config}-graph-{name}: {bin_}" for bin_ in coverage.missed()]
        top = coverage.topology
        parts.append(markdown(f"graph core, `{config}`, topology `{name}` ({top.n} units, "
                              f"{top.n_colours} colours, {top.lanes} lanes; {updates:,d} "
                              f"updates compared)", coverage))
        print(f"{config:8s} graph {name:9s} {updates:10,d} updates, missed bins: "
              f"{coverage.missed() or 'none'}", flush=True)
    report = ("# Functional coverage of the co-simulation\n\n"
              "`make coverage` (`pysampler coverage --out results/coverage.md`): the bulk "
              "co-simulation of `make test` (sim/bulk.py, `standard_script` of every case in "
              "`sim.runner.BULK_CASES`, on Verilator; the stream core's from "
              "`sim.bulk_stream.stream_script` of `sim.runner.STREAM_BULK_CASES`; the graph core's "
              "from `sim.bulk_graph.graph_script` of `sim.bulk_graph.GRAPH_BULK_CASES`), its bins "
              "counted from the compared "
              "traces (every update's field, LUT entry and draw equal the model's) and steps. "
              "A bin is reachable when the configuration's field range and LUT contents allow "
              "it (a LUT with no 0 entry has no \"LUT entry 0\" bin). The presets' LUTs are "
              "saturated at both ends, so their clamps cannot be observed (the note says so); "
              "`clamp` (`sim.runner.CLAMP_CONFIG`) is the configuration whose LUT clamps inside "
              f"its field range. {total:,d} updates and decisions compared; "
              + ("every reachable bin hit." if not missed else f"MISSED: {'; '.join(missed)}.")
              + "\n\n## Summary\n\n| case | compared | reachable bins | missed |\n"
              "| --- | --- | --- | --- |\n" + "\n".join(summary) + "\n\n" + "\n".join(parts))
    if out:
        out.write_text(report)
    return 1 if missed else 0
