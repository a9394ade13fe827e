"""What a hardware user reads of the register map: the Markdown tables of docs/hardware.md and the
C header of one build, both rendered from :mod:`pysampler.contract.regmap` (the one definition).

``markdown()`` gives the register, error-flag, status and init tables; ``c_header(cfg, name)`` a
C99 header with, for every core the configuration builds, each register's word address (arrays as
macros of their index), the widths, resets and accepted ranges, the bit fields (shift and mask),
the error flags, the status bits, the init codes and the CORE_ID value. ``pysampler docs`` writes
both (:mod:`pysampler.experiments.docs`); ``pysampler docs --check`` fails when either is stale.
"""

from __future__ import annotations

import json

from ..contract import regmap as rm
from ..contract.config import HwConfig
from ..contract.maps import core_map
from ..contract.regmap import (ERR_DOCS, INIT_CORES, REGISTERS, STATUS_DOCS, Core, CoreMap, Init,
                               Status)

__all__ = ["markdown", "c_header", "header_cores"]

_ALL = frozenset(Core)


def _cell(value: object) -> str:
    return "-" if value is None else str(value).replace("|", "\\|")


def _cores(cores: frozenset[Core]) -> str:
    return "all" if cores == _ALL else ", ".join(c.value for c in Core if c in cores)


def markdown() -> str:
    """The register map, the error flags, the status bits and the init codes as Markdown."""
    lines = ["| register | region | offset | access | width | reset | accepts | cores | KEEP "
             "| meaning |", "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for reg in REGISTERS:
        offset = reg.offsets.text(reg.index_name)
        width = "-" if reg.width == 0 else _cell(reg.width)
        doc = reg.doc + ("".join(f"; bits {f.lsb + f.width - 1}..{f.lsb} {f.name}"
                                 for f in reg.fields) if reg.fields and reg.name == "START"
                         else "")
        lines.append(
            f"| `{reg.label}` | {int(reg.region)} {reg.region.name} | {offset} | "
            f"{reg.access.value} | {width} | {_cell(reg.reset)} | {reg.check.value} | "
            f"{_cores(reg.cores)} | {'stale' if reg.keep_stale else ''} | {_cell(doc)} |")
    lines += ["", "| `ERR` bit | flag | set by (the action is ignored) |", "| --- | --- | --- |"]
    lines += [f"| {flag.bit_length() - 1} | `{flag.name}` | {doc} |"
              for flag, doc in ERR_DOCS.items()]
    lines += ["", "| `STATUS` bit | flag | meaning |", "| --- | --- | --- |"]
    lines += [f"| {flag.bit_length() - 1} | `{flag.name}` | {doc} |"
              for flag, doc in STATUS_DOCS.items()]
    lines += ["", "| `init` | policy | cores |", "| --- | --- | --- |"]
    lines += [f"| {int(code)} | `{code.name}` | {_cores(INIT_CORES[code])} |" for code in Init]
    return "\n".join(lines)


def header_cores(cfg: HwConfig) -> list[Core]:
    """The cores ``hw.export`` builds from ``cfg`` alone (the dense core up to 64 units; the
    graph core is built for a topology, docs/graph.md)."""
    return [core for core in Core if core is not Core.GRAPH
            and (core is not Core.DENSE or cfg.n_pbits <= 64)]


def _hex(value: int) -> str:
    return f"0x{value:X}u"


def _core_block(regmap: CoreMap) -> list[str]:
    core = regmap.core
    p = f"PBIT_{core.name}"
    ob = regmap.offset_bits
    lines = [f"/* --- {core.top}: {len(regmap.registers)} registers, word addresses "
             f"{regmap.addr_bits} bits (byte address = 4 x word) --- */",
             f"#define {p}_ID_VALUE {_hex(rm.core_id(core))}  /* what CORE_ID reads */",
             f"#define {p}_N_PBITS {regmap.params.n_pbits}u  /* what CAPACITY reads */",
             f"#define {p}_ADDR_BITS {regmap.addr_bits}u",
             f"#define {p}_OFFSET_BITS {ob}u"]
    for reg in regmap.registers:
        name = f"{p}_{reg.name}"
        base = int(reg.region) << ob
        if reg.offsets.matrix:
            ib = rm.index_bits(regmap.params.n_pbits)
            lines.append(f"#define {name}(i, j) ({_hex(base)} | ((uint32_t)(i) << {ib}) | "
                         f"(uint32_t)(j))")
        elif reg.is_array:
            stride = f" * {reg.offsets.stride}u" if reg.offsets.stride != 1 else ""
            lines.append(f"#define {name}({reg.index_name}) ({_hex(base + reg.offsets.base)} + "
                         f"(uint32_t)({reg.index_name}){stride})")
        else:
            lines.append(f"#define {name} {_hex(base + reg.offsets.base)}")
        if reg.is_array:
            count = regmap.params.n_pbits if reg.offsets.matrix \
                else len(list(regmap.indices(reg)))
            lines.append(f"#define {name}_COUNT {count}u")
        bounds = regmap.bounds(reg)
        if bounds is not None:
            lines += [f"#define {name}_MIN ({bounds[0]})", f"#define {name}_MAX ({bounds[1]})"]
    return lines


def c_header(cfg: HwConfig, config_name: str) -> str:
    """The C header of the register maps of every core ``cfg`` builds (``config_name`` names it
    in the include guard and the comment)."""
    guard = f"PBIT_REGS_{config_name.upper().replace('-', '_')}_H"
    out = [f"/* Register maps of the p-bit cores, configuration '{config_name}'.",
           " * Generated from pysampler/contract/regmap.py by `pysampler docs`; do not edit.",
           f" * HwConfig: {json.dumps(json.loads(cfg.to_json()), sort_keys=True)}",
           " * A word address is a register of the programming port; on AXI4-Lite the byte",
           " * address is 4 x word address (PBIT_BYTE_ADDR). Signed values are two's complement.",
           " */", f"#ifndef {guard}", f"#define {guard}", "", "#include <stdint.h>", "",
           f"#define PBIT_MAP_VERSION {rm.MAP_VERSION}u",
           f"#define PBIT_CORE_ID_MAGIC {_hex(rm.CORE_ID_MAGIC)}",
           f"#define PBIT_DATA_BITS {rm.DATA_BITS}u",
           f"#define PBIT_REGION_BITS {rm.REGION_BITS}u",
           "#define PBIT_BYTE_ADDR(word) ((uint32_t)(word) << 2)", ""]
    out += [f"#define PBIT_ERR_{flag.name} {_hex(int(flag))}  /* {doc.split('(')[0].strip()} */"
            for flag, doc in ERR_DOCS.items()]
    out += [f"#define PBIT_STATUS_{flag.name} {_hex(int(flag))}" for flag in Status]
    out += [f"#define PBIT_INIT_{code.name} {int(code)}u" for code in Init]
    fields = {(reg.name, f.name): f for reg in REGISTERS for f in reg.fields
              if reg.name not in ("STATUS", "ERR")}
    for (reg_name, name), f in fields.items():
        out += [f"#define PBIT_{reg_name}_{name}_SHIFT {f.lsb}u",
                f"#define PBIT_{reg_name}_{name}_MASK {_hex(f.mask)}"]
    for core in header_cores(cfg):
        out += [""] + _core_block(core_map(core, cfg))
    out += ["", f"#endif /* {guard} */", ""]
    return "\n".join(out)
