"""Verilog export: one file per core and configuration, lint-clean, free of absolute paths."""

import json
from pathlib import Path

import pytest

from hw.export import export_config
from hw.lint import lint
from pysampler.contract.config import PRESETS, HwConfig
from pysampler.contract.regmap import Core

#: every core of the register map, one Verilog file each (the dense core only up to 64 units);
#: the graph core is built per topology (docs/graph.md) by hw.export.export_graph, not by the
#: per-config export (tests/hw/test_graph.py exports and lints it)
EVERY_CORE = {f"{core.top}.v" for core in Core if core is not Core.GRAPH} | {"config.json"}


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_export_lints_clean_and_has_no_absolute_paths(name, tmp_path):
    written = export_config(PRESETS[name], tmp_path)
    assert {p.name for p in written} == EVERY_CORE
    assert HwConfig.from_dict(json.loads((tmp_path / "config.json").read_text())) == PRESETS[name]
    root = str(Path(__file__).resolve().parent.parent)
    for path in written:
        text = path.read_text()
        assert root not in text and str(Path.home()) not in text and str(tmp_path) not in text
        if path.suffix == ".v":
            result = lint(path)
            assert result.returncode == 0, result.stdout + result.stderr


def test_large_onehot_exports_without_dense(tmp_path):
    written = export_config(PRESETS["default"].replace(n_pbits=1024), tmp_path)
    assert {p.name for p in written} == EVERY_CORE - {"pbit_dense.v"}
    assert written[-1].name == "config.json"
    assert "module pbit_onehot" in (tmp_path / "pbit_onehot.v").read_text()


@pytest.mark.parametrize("depth", [1, 3])
def test_onehot_core_with_a_smaller_schedule_table_lints_clean(depth, tmp_path):
    """The one-hot core built with fewer schedule entries (depth 1: no schedule, the FPGA
    table's -T1 design) is the same generator with a shorter table; it exports lint-clean, and
    a depth outside 1..8 is refused."""
    from hw.export import to_verilog
    from hw.onehot import OnehotCore

    path = tmp_path / "pbit_onehot.v"
    path.write_text(to_verilog(PRESETS["tiny"], "onehot", schedule_depth=depth))
    result = lint(path)
    assert result.returncode == 0, result.stdout + result.stderr
    text = path.read_text()
    assert ("sched_coupling2" in text) == (depth == 3) and "sched_coupling7" not in text
    for bad in (0, 9, True):
        with pytest.raises(ValueError, match="schedule_depth"):
            OnehotCore(PRESETS["tiny"], schedule_depth=bad)


def test_re_export_leaves_unchanged_files_alone(tmp_path):
    """A re-export rewrites only what changed, so simulators do not rebuild for nothing."""
    cfg = PRESETS["tiny"]
    written = export_config(cfg, tmp_path)
    (tmp_path / "config.json").write_text("{}\n")  # one file out of date
    stamps = {p: p.stat().st_mtime_ns for p in written}
    assert export_config(cfg, tmp_path) == written
    changed = [p.name for p in written if p.stat().st_mtime_ns != stamps[p]]
    assert changed == ["config.json"]
    assert HwConfig.from_json((tmp_path / "config.json").read_text()) == cfg
