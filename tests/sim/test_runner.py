"""The co-simulation runner: what makes it re-export the Verilog, and that a failing co-simulation
fails its caller, inside pytest or not."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hw.export import to_verilog
from pysampler.contract.config import get_preset
from sim import runner
from sim.runner import CosimFailed, run_cosim

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def source_copy(tmp_path, monkeypatch):
    """A copy of the generator sources (hw/, pysampler/contract/) with ROOT pointing at it."""
    for folder in runner.GENERATOR_SOURCES:
        shutil.copytree(ROOT / folder, tmp_path / folder,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    return tmp_path


def test_fingerprint_follows_every_generator_source_recursively(source_copy):
    cfg = get_preset("tiny")
    nested = source_copy / "pysampler" / "contract" / "formats" / "extra.py"
    nested.parent.mkdir()
    nested.write_text("WIDTH = 8\n")
    before = runner._generator_fingerprint(cfg)
    nested.write_text("WIDTH = 9\n")
    after_contract = runner._generator_fingerprint(cfg)
    (source_copy / "hw" / "onehot.py").write_text(
        (source_copy / "hw" / "onehot.py").read_text() + "\n# edited\n")
    after_hw = runner._generator_fingerprint(cfg)
    assert len({before, after_contract, after_hw}) == 3
    assert runner._generator_fingerprint(cfg.replace(n_pbits=8)) != after_hw
    # what the Verilog is not generated from does not count
    (source_copy / "README.md").write_text("notes\n")
    (source_copy / "pysampler" / "contract" / "formats" / "notes.txt").write_text("x\n")
    assert runner._generator_fingerprint(cfg) == after_hw


def test_an_edited_contract_file_triggers_a_re_export(source_copy, tmp_path, monkeypatch):
    exports = []

    def fake_export(cfg, out_dir):
        exports.append(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "pbit_onehot.v").write_text("module pbit_onehot; endmodule\n")

    monkeypatch.setattr(runner, "export_config", fake_export)
    cfg, vdir = get_preset("tiny"), tmp_path / "verilog"
    nested = source_copy / "pysampler" / "contract" / "formats" / "extra.py"
    nested.parent.mkdir()
    nested.write_text("WIDTH = 8\n")
    assert runner.ensure_verilog(cfg, vdir, "onehot")
    assert not runner.ensure_verilog(cfg, vdir, "onehot")
    nested.write_text("WIDTH = 9\n")
    assert runner.ensure_verilog(cfg, vdir, "onehot")
    assert not runner.ensure_verilog(cfg, vdir, "onehot")
    (vdir / "pbit_onehot.v").unlink()
    assert runner.ensure_verilog(cfg, vdir, "onehot")
    assert len(exports) == 3


def _mutated_onehot(out_dir: Path) -> Path:
    """The tiny one-hot core with its LUT compare inverted (u >= LUT instead of u < LUT)."""
    cfg = get_preset("tiny")
    out_dir.mkdir()
    text = to_verilog(cfg, "onehot")
    compare = [line for line in text.splitlines() if line.rstrip().endswith("< lut_value;")]
    assert len(compare) == 1, compare
    (out_dir / "pbit_onehot.v").write_text(
        text.replace(compare[0], compare[0].replace("< lut_value;", ">= lut_value;")))
    (out_dir / "config.json").write_text(cfg.to_json() + "\n")
    return out_dir


@pytest.mark.cosim
@pytest.mark.slow
def test_a_failing_cosimulation_raises_with_the_failed_tests(tmp_path):
    vdir = _mutated_onehot(tmp_path / "verilog")
    failed = r"1 cocotb test\(s\) failed: sim\.tb_common\.random_programs_test"
    with pytest.raises(CosimFailed, match=failed):
        run_cosim("verilator", "tiny-mutated", get_preset("tiny"), "onehot", programs=2,
                  testcase="random_programs_test", verilog_dir=vdir, build_dir=tmp_path / "build")


@pytest.mark.cosim
@pytest.mark.slow
def test_a_failing_cosimulation_fails_outside_pytest_too(tmp_path):
    """``python -m sim.runner``'s path (cocotb's runner checks results only under pytest)."""
    vdir = _mutated_onehot(tmp_path / "verilog")
    code = (f"from pathlib import Path; from sim.runner import run_cosim; "
            f"from pysampler.contract.config import get_preset; "
            f"run_cosim('icarus', 'tiny-mutated', get_preset('tiny'), 'onehot', programs=2, "
            f"testcase='random_programs_test', verilog_dir=Path({str(vdir)!r}), "
            f"build_dir=Path({str(tmp_path / 'build')!r}))")
    # no PYTEST_CURRENT_TEST: cocotb's runner then leaves the results to its caller; the
    # repository on PYTHONPATH stands for the installed packages
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "CosimFailed" in result.stderr and "random_programs_test" in result.stderr
