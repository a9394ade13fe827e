"""The generated parts of the repository's documentation (``pysampler docs``, ``make docs``): the
register-map tables inside docs/hardware.md and the C header include/pbit_regs_default.h, each
rendered by :mod:`pysampler.device.regdoc` from the one register map.

:func:`update_docs` rewrites what is stale (``check=True``: only reports it).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..contract.config import get_preset
from ..device.regdoc import c_header, markdown

__all__ = ["GeneratedDoc", "DOCS", "update_docs", "ROOT", "BEGIN", "END", "HEADER_CONFIG"]

ROOT = Path(__file__).resolve().parents[2]
BEGIN, END = "<!-- regmap:begin -->", "<!-- regmap:end -->"
#: the configuration of the committed C header
HEADER_CONFIG = "default"


@dataclass(frozen=True)
class GeneratedDoc:
    """A file, or the block between :data:`BEGIN` and :data:`END` of a file (``block``), whose
    text ``render`` gives."""

    path: Path
    render: Callable[[], str]
    block: bool

    def updated(self, text: str | None) -> str:
        """The file's text with the generated part rewritten (``text``: its current text)."""
        if not self.block:
            return self.render()
        if text is None:
            raise ValueError(f"{self.path}: missing (it holds a {BEGIN} ... {END} block)")
        start, stop = text.find(BEGIN), text.find(END)
        if start < 0 or stop < start:
            raise ValueError(f"{self.path}: no {BEGIN} ... {END} block")
        return text[:start + len(BEGIN)] + "\n" + self.render() + "\n" + text[stop:]


DOCS = (
    GeneratedDoc(ROOT / "docs" / "hardware.md", markdown, block=True),
    GeneratedDoc(ROOT / "include" / f"pbit_regs_{HEADER_CONFIG}.h",
                 lambda: c_header(get_preset(HEADER_CONFIG), HEADER_CONFIG), block=False),
)


def update_docs(check: bool = False, docs: tuple[GeneratedDoc, ...] = DOCS) -> list[Path]:
    """Rewrite the generated part of each of ``docs``; returns the files that were out of date
    (missing ones included). With ``check`` nothing is written."""
    stale = []
    for doc in docs:
        text = doc.path.read_text() if doc.path.exists() else None
        new = doc.updated(text)
        if new != text:
            stale.append(doc.path)
            if not check:
                doc.path.parent.mkdir(parents=True, exist_ok=True)
                doc.path.write_text(new)
    return stale
