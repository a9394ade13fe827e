"""Result tables: dataclass rows as Markdown and CSV under a results folder."""

from __future__ import annotations

import csv
from dataclasses import asdict, fields
from pathlib import Path
from typing import Sequence

__all__ = ["markdown_table", "write_csv", "write_table"]


def markdown_table(rows: Sequence, formats: dict[str, str] | None = None) -> str:
    """A Markdown table of dataclass rows (floats with 4 significant digits by default)."""
    if not rows:
        return "(no rows)\n"
    names = [f.name for f in fields(rows[0])]
    formats = formats or {}
    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for row in rows:
        cells = []
        for name, value in asdict(row).items():
            if isinstance(value, float):
                cells.append(format(value, formats.get(name, ".4g")))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_csv(rows: Sequence, path: Path) -> Path:
    """Dataclass rows as CSV (a header of field names, one line per row); creates the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow([f.name for f in fields(rows[0])])
        for row in rows:
            writer.writerow(list(asdict(row).values()))
    return path


def write_table(rows: Sequence, out_dir: Path, stem: str, header: str = "") -> tuple[Path, Path]:
    """Write ``stem.csv`` and ``stem.md`` under ``out_dir``; returns their paths."""
    csv_path, md_path = write_csv(rows, out_dir / f"{stem}.csv"), out_dir / f"{stem}.md"
    md_path.write_text(header + markdown_table(rows))
    return csv_path, md_path
