"""The figures the README and docs/ quote, traced to the files under results/ and checked
(``pysampler docs --check``, run by ``make test``; ``pysampler docs`` rewrites them).

A Markdown file quotes a result in one of two ways, both invisible when rendered:

* **an inline figure**: the value, then a reference to where it comes from::

      exact TV 0.0045<!--= frontier.csv[logit_set=synthetic-V16;sampler=default;variant=robust;
      lam=2.5;sweeps=20].tv | .4f -->

  The reference is ``SOURCE [| AGGREGATE] | FORMAT``. SOURCE is a file under results/ and what
  to read in it: a CSV, its rows filtered by ``[column OP value; ...]`` (OP one of
  ``= != <= >= < >``, numeric where both sides are numbers, or ``^=`` / ``!^=`` and ``$=`` /
  ``!$=``: starts / ends with, or does not) and a column
  (``file.csv[...].tv``); a Markdown table of a report, the first under a heading that contains
  HEADING (``HEADING@2``: its second table), read the same way (``file.md#HEADING[filters].column``:
  the brackets are required);
  a JSON file and a path of keys (``bench.json/batch/tree V=64 B=4096/tokens_per_s``); or a
  constant of the code (``py:sim.runner.MIN_COMPARED_UPDATES``). Without an AGGREGATE the
  selection must be exactly one value; ``max``, ``min``, ``mean``, ``median``, ``sum`` and
  ``count`` reduce several. FORMAT is a Python format spec, optionally after arithmetic steps
  applied in order (``/1e6 .2f``; ``-1 *100 +.2f`` writes a ratio of 1.0107 as "+1.07"): the
  text the value must read.
* **a table**: ``<!-- table: FILE#HEADING [| col, col, ...] -->`` ... ``<!-- /table -->`` holds
  the first Markdown table under the heading of results/FILE that contains HEADING (the report
  wrote it beside its data), optionally only the named columns;
* **a quote**: ``<!-- quote: FILE#HEADING -->`` ... ``<!-- /quote -->`` holds the first paragraph
  under that heading (the finding a report wrote in words, with its figures).

:func:`check` lists every figure whose text differs from what its source gives now (a stale
figure), naming file, line, text, source and the value expected; :func:`rewrite` brings them up
to date. A reference that cannot be resolved is an error too, so a figure cannot lose its source
silently.
"""

from __future__ import annotations

import csv
import importlib
import json
import math
import re
import statistics
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Sequence

__all__ = ["Figure", "FIGURE_FILES", "RESULTS", "ROOT", "check", "rewrite", "resolve",
           "Stale", "figures_in"]

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"

INLINE = re.compile(r"(?P<value>[-+]?(?:\d[\d,]*)?\.?\d+(?:e[-+]?\d+)?%?)<!--=\s*(?P<ref>.*?)\s*-->",
                    re.S)
BLOCK = re.compile(r"<!--\s*(?P<kind>table|quote):\s*(?P<ref>.*?)\s*-->\n(?P<body>.*?)"
                   r"<!--\s*/(?P=kind)\s*-->", re.S)
_FILTER = re.compile(r"^\s*(?P<column>[^!<>=^$]+?)\s*(?P<op>!\^=|!\$=|!=|<=|>=|\^=|\$=|=|<|>)"
                     r"\s*(?P<value>.*?)\s*$")
AGGREGATES: dict[str, Callable[[list[float]], float]] = {
    "max": max, "min": min, "mean": statistics.fmean, "median": statistics.median,
    "sum": math.fsum, "count": len}


def _figure_files() -> tuple[Path, ...]:
    return (ROOT / "README.md",) + tuple(sorted((ROOT / "docs").glob("*.md")))


FIGURE_FILES = _figure_files()


@dataclass(frozen=True)
class Stale:
    """A quoted figure that does not read what its source gives (or whose source is broken)."""

    path: Path
    line: int
    found: str
    expected: str
    ref: str

    def __str__(self) -> str:
        where = f"{self.path.relative_to(ROOT) if self.path.is_relative_to(ROOT) else self.path}"
        return (f"{where}:{self.line}: {self.found!r} should read {self.expected!r} "
                f"(from {self.ref})")


@dataclass(frozen=True)
class Figure:
    """One quoted figure (inline or a table) of a file."""

    kind: str      # "inline", "table" or "quote"
    start: int     # span of the text to compare in the file
    stop: int
    text: str
    ref: str
    line: int


def figures_in(text: str) -> list[Figure]:
    """Every inline figure and table block of a Markdown text, in order."""
    out = []
    for m in INLINE.finditer(text):
        out.append(Figure("inline", m.start("value"), m.end("value"), m.group("value"),
                          " ".join(m.group("ref").split()), text.count("\n", 0, m.start()) + 1))
    for m in BLOCK.finditer(text):
        out.append(Figure(m.group("kind"), m.start("body"), m.end("body"), m.group("body"),
                          " ".join(m.group("ref").split()), text.count("\n", 0, m.start()) + 1))
    return sorted(out, key=lambda f: f.start)


# --- sources ---------------------------------------------------------------------------------
_GROUPED = re.compile(r"[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _number(text: Any) -> float | None:
    """A number, or None: numbers, numeric text and text with thousands separators ("1,279", as
    the reports' Markdown tables print counts)."""
    if isinstance(text, str) and _GROUPED.fullmatch(text.strip()):
        text = text.replace(",", "")
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=64)
def _csv_rows(path: Path, mtime: float) -> tuple[dict[str, str], ...]:
    with path.open(newline="") as handle:
        return tuple(csv.DictReader(handle))


def _results_file(name: str) -> Path:
    path = (RESULTS / name).resolve()
    if not path.is_relative_to(RESULTS.resolve()):
        raise ValueError(f"{name!r} is not a file under results/")
    if not path.is_file():
        raise ValueError(f"results/{name} does not exist")
    return path


def _matches(row: dict[str, str], column: str, op: str, value: str) -> bool:
    if column not in row:
        raise ValueError(f"no column {column!r} (columns: {', '.join(row)})")
    have, want = row[column], value
    if op in ("^=", "!^="):
        return have.startswith(want) == (op == "^=")
    if op in ("$=", "!$="):
        return have.endswith(want) == (op == "$=")
    a, b = _number(have), _number(want)
    if a is not None and b is not None:
        have, want = a, b  # type: ignore[assignment]
    elif op not in ("=", "!="):
        raise ValueError(f"{column} {op} {value}: not numbers")
    return {"=": have == want, "!=": have != want, "<=": have <= want, ">=": have >= want,
            "<": have < want, ">": have > want}[op]


def _csv_values(spec: str) -> list[Any]:
    m = re.fullmatch(r"(?P<file>[^\[\]]+\.csv)(?:\[(?P<filters>.*)\])?\.(?P<column>[^.\[\]]+)",
                     spec, re.S)
    if m is None:
        raise ValueError(f"a CSV source reads file.csv[filters].column, got {spec!r}")
    path = _results_file(m["file"].strip())
    rows = _filtered(_csv_rows(path, path.stat().st_mtime), m["filters"])
    column = m["column"].strip()
    if rows and column not in rows[0]:
        raise ValueError(f"no column {column!r} in {m['file']}")
    return [r[column] for r in rows]


def _filtered(rows: Sequence[dict[str, str]], filters: str | None) -> Sequence[dict[str, str]]:
    for part in filter(None, (p.strip() for p in (filters or "").split(";"))):
        f = _FILTER.match(part)
        if f is None:
            raise ValueError(f"filter {part!r} is not 'column OP value'")
        rows = tuple(r for r in rows if _matches(r, f["column"], f["op"], f["value"]))
    return rows


def _markdown_values(spec: str) -> list[Any]:
    m = re.fullmatch(r"(?P<file>[^#]+\.md)#(?P<heading>[^\[]+)\[(?P<filters>.*)\]"
                     r"\.(?P<column>[^.\[\]]+)", spec, re.S)
    if m is None:
        raise ValueError(f"a Markdown source reads file.md#heading[filters].column, got {spec!r}")
    table = _markdown_table_after(_results_file(m["file"].strip()).read_text(),
                                  m["heading"].strip())
    header = _cells(table[0])
    rows = [dict(zip(header, _cells(line))) for line in table[2:]]
    rows = _filtered(rows, m["filters"])
    column = m["column"].strip()
    if column not in header:
        raise ValueError(f"no column {column!r} in the table (it has {header})")
    return [r[column] for r in rows]


def _json_values(spec: str) -> list[Any]:
    name, _, path = spec.partition("/")
    data = json.loads(_results_file(name.strip()).read_text())
    for key in filter(None, path.split("/")):
        if isinstance(data, list) and key.isdigit():
            data = data[int(key)]
        elif isinstance(data, dict) and key in data:
            data = data[key]
        else:
            raise ValueError(f"no key {key!r} on the path {path!r} of {name}")
    return data if isinstance(data, list) else [data]


def _py_values(spec: str) -> list[Any]:
    module, _, attr = spec.rpartition(".")
    value: Any = importlib.import_module(module)
    for part in attr.split(".") if attr else []:
        value = getattr(value, part)
    return [value]


def _values(source: str) -> list[Any]:
    source = source.strip()
    if source.startswith("py:"):
        return _py_values(source[3:])
    if re.match(r"[^/\[]+\.json(/|$)", source):
        return _json_values(source)
    if re.match(r"[^#\[]+\.md#", source):
        return _markdown_values(source)
    return _csv_values(source)


_ARITHMETIC = {"*": lambda a, b: a * b, "/": lambda a, b: a / b, "+": lambda a, b: a + b,
               "-": lambda a, b: a - b}


def _format(value: Any, spec: str) -> str:
    spec = spec.strip()
    number = _number(value) if not isinstance(value, bool) else float(value)
    while (step := re.match(r"([*/+-])\s*([0-9.]+(?:e[+-]?[0-9]+)?)\s+", spec)) is not None:
        if number is None:
            raise ValueError(f"cannot scale {value!r}")
        number = _ARITHMETIC[step.group(1)](number, float(step.group(2)))
        spec = spec[step.end():]
    if number is None:
        return format(value, spec)
    if spec.endswith("d"):
        return format(int(round(number)), spec)
    return format(number, spec)


def resolve(ref: str) -> str:
    """The text a figure reference gives now (an inline figure's value)."""
    parts = [p.strip() for p in ref.split("|")]
    if len(parts) not in (2, 3) or parts[-1] in AGGREGATES:
        raise ValueError(f"a reference is 'SOURCE [| AGGREGATE] | FORMAT', got {ref!r}")
    values = _values(parts[0])
    if len(parts) == 3:
        if parts[1] not in AGGREGATES:
            raise ValueError(f"aggregate {parts[1]!r}: one of {sorted(AGGREGATES)}")
        numbers = [_number(v) for v in values]
        if parts[1] == "count":
            numbers = [1.0] * len(values)   # counts rows, whatever they hold
        elif None in numbers:
            raise ValueError(f"{parts[0]} selects a value that is not a number: "
                             f"{values[numbers.index(None)]!r}")
        if not numbers and parts[1] != "count":
            raise ValueError(f"{parts[0]} selects nothing to take the {parts[1]} of")
        value: Any = AGGREGATES[parts[1]](numbers)
    elif len(values) != 1:
        raise ValueError(f"{parts[0]} selects {len(values)} values, not one (add filters or an "
                         f"aggregate)")
    else:
        value = values[0]
    return _format(value, parts[-1])


def _section(text: str, heading: str) -> list[str]:
    """The lines after the first heading that contains ``heading``, its sub-headings included,
    up to the next heading of the same or a higher level (a first-level title counts as a
    heading too, so a report's opening paragraph is reachable under its title)."""
    lines = text.splitlines()
    heads = [k for k, line in enumerate(lines) if line.startswith("#") and heading in line]
    if not heads:
        raise ValueError(f"no heading containing {heading!r}")
    level = len(lines[heads[0]]) - len(lines[heads[0]].lstrip("#"))
    body = []
    for line in lines[heads[0] + 1:]:
        if line.startswith("#") and len(line) - len(line.lstrip("#")) <= level:
            break
        body.append(line)
    return body


def render_quote(ref: str) -> str:
    """The body a ``<!-- quote: FILE#HEADING -->`` block holds now: the first paragraph."""
    name, _, heading = ref.partition("#")
    body = _section(_results_file(name.strip()).read_text(), heading.strip())
    paragraph = []
    for line in body:
        if line.strip():
            paragraph.append(line)
        elif paragraph:
            break
    if not paragraph or paragraph[0].startswith("|"):
        raise ValueError(f"no paragraph under the heading {heading.strip()!r}")
    return "\n".join(paragraph) + "\n"


def _markdown_table_after(text: str, heading: str) -> list[str]:
    """The first table under the first heading that contains ``heading``; ``heading@n`` the n-th
    (from 1) of that section's tables."""
    heading, _, nth = heading.partition("@")
    want = int(nth) if nth.strip().isdigit() else 1
    tables: list[list[str]] = []
    for line in _section(text, heading.strip()):
        if line.startswith("|"):
            if not tables or tables[-1] is None:
                tables.append([])
            tables[-1].append(line)
        elif tables and tables[-1] is not None:
            tables.append(None)  # type: ignore[arg-type]
    found = [t for t in tables if t]
    if len(found) < want:
        raise ValueError(f"no table {want} under the heading {heading.strip()!r}")
    return found[want - 1]


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def render_table(ref: str) -> str:
    """The body a ``<!-- table: FILE#HEADING [| columns] -->`` block holds now."""
    source, _, columns = ref.partition("|")
    name, _, heading = source.strip().partition("#")
    table = _markdown_table_after(_results_file(name.strip()).read_text(), heading.strip())
    if not columns.strip():
        return "\n".join(table) + "\n"
    header = _cells(table[0])
    wanted = [c.strip() for c in columns.split(",")]
    missing = [c for c in wanted if c not in header]
    if missing:
        raise ValueError(f"no columns {missing} in the table (it has {header})")
    index = [header.index(c) for c in wanted]
    rows = [[_cells(line)[k] for k in index] for line in table]
    return "\n".join("| " + " | ".join(r) + " |" for r in rows) + "\n"


# --- check and rewrite -----------------------------------------------------------------------
def _expected(figure: Figure) -> str:
    render = {"inline": resolve, "table": render_table, "quote": render_quote}[figure.kind]
    return render(figure.ref)


def check(paths: Sequence[Path] = FIGURE_FILES) -> list[Stale]:
    """Every stale or unresolvable figure of ``paths``."""
    stale = []
    for path in paths:
        text = path.read_text()
        for figure in figures_in(text):
            try:
                expected = _expected(figure)
            except (ValueError, OSError, ImportError, AttributeError, KeyError) as err:
                stale.append(Stale(path, figure.line, figure.text.strip(),
                                   f"<unresolved: {err}>", figure.ref))
                continue
            if expected != figure.text:
                stale.append(Stale(path, figure.line, figure.text.strip()[:60],
                                   expected.strip()[:60], figure.ref))
    return stale


def rewrite(paths: Sequence[Path] = FIGURE_FILES) -> list[Path]:
    """Rewrite every stale figure of ``paths`` from its source; returns the files changed. An
    unresolvable reference is a ValueError naming it (nothing is written for that file)."""
    changed = []
    for path in paths:
        text = path.read_text()
        pieces, last = [], 0
        for figure in figures_in(text):
            try:
                expected = _expected(figure)
            except (ValueError, OSError, ImportError, AttributeError, KeyError) as err:
                raise ValueError(f"{path.name}:{figure.line}: cannot resolve {figure.ref!r}: "
                                 f"{err}") from None
            pieces += [text[last:figure.start], expected]
            last = figure.stop
        new = "".join(pieces) + text[last:]
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed
