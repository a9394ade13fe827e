"""Bulk co-simulation (sim/bulk.py): the cores run free in a compiled Verilator harness and every
update is compared with the bit-accurate model in batches; the coverage of each case; the soak,
the mutation check and the bench fail loudly on a mutated core."""

import pytest

from hw.export import to_verilog
from pysampler.contract.regmap import Core
from sim.bulk import BulkMismatch, Coverage, run_bulk, standard_script
from sim.coverage import case_coverage, markdown
from sim.mutate import MUTATIONS, apply, check_mutation
from sim.runner import BUILD, BULK_CASES, CLAMP_CONFIG, CosimFailed
from sim.soak import soak

from ..conftest import record_cosim_updates

pytestmark = [pytest.mark.cosim, pytest.mark.slow]


@pytest.mark.parametrize("config,kind,programs,long_runs,long_sweeps", BULK_CASES)
def test_bulk(config, kind, programs, long_runs, long_sweeps):
    """Every update of the case's script compared, and every bin its configuration can reach
    hit (the report of this run: build/coverage/<config>-<kind>.md)."""
    coverage, updates = case_coverage(config, kind, programs, long_runs, long_sweeps)
    report = BUILD / "coverage" / f"{config}-{kind}.md"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(markdown(f"{kind} core, `{config}` ({updates:,d} updates)", coverage))
    assert coverage.missed() == [], f"reachable bins not hit: {coverage.missed()}"
    if config == "clamp":  # the configuration that exists to make the clamps observable
        assert coverage.clamp_observable
    assert updates > 0
    record_cosim_updates(f"bulk-verilator-{config}-{kind}", updates)


def _mutated(tmp_path, name: str, core: str = "onehot"):
    (mutation,) = [m for m in MUTATIONS if m.name == name and m.core == core]
    text, _, _ = apply(to_verilog(CLAMP_CONFIG, core), mutation, CLAMP_CONFIG)
    vdir = tmp_path / name.replace(" ", "-")
    vdir.mkdir()
    (vdir / f"{Core(core).top}.v").write_text(text)
    return mutation, vdir


def test_a_mutated_clamp_fails_the_bulk_run_and_the_soak(tmp_path):
    """The issue's mutation (upper clamp half - 1 -> half - 2) on the clamping configuration:
    the bulk run stops at the first difference with the update, unit, RTL and model values, and
    the soak raises too."""
    _, vdir = _mutated(tmp_path, "upper clamp (run)")
    build = tmp_path / "build"
    script = standard_script(CLAMP_CONFIG, "onehot", programs=20, long_runs=0)
    with pytest.raises(BulkMismatch, match=r"first difference at update \d+ .*unit \d+, "
                                           r"lut_value: RTL \d+ != model \d+"):
        run_bulk("clamp", CLAMP_CONFIG, "onehot", script, verilog_dir=vdir, build_dir=build)
    with pytest.raises(BulkMismatch):
        soak(20_000, cases=[("clamp", "onehot")], verilog_dir=vdir, build_dir=build,
             log=lambda line: None)


def test_the_mutation_check_catches_a_compare_mutation(tmp_path):
    """u < LUT made u <= LUT differs only when the draw equals the entry: the directed draws
    catch it."""
    (mutation,) = [m for m in MUTATIONS if m.name == "compare" and m.core == "dense"]
    caught, diff, before, after = check_mutation(mutation, CLAMP_CONFIG, tmp_path, programs=10)
    assert caught, "the co-simulation missed u <= LUT"
    assert "bit: RTL 1 != model 0" in diff
    assert before.endswith("< lut_value;") and after.endswith("<= lut_value;")


def test_the_bench_raises_on_a_failed_comparison(tmp_path):
    """sim.bench.cosim_speed on a core whose compare is inverted: CosimFailed, no speed."""
    from sim.bench import cosim_speed

    from .test_runner import _mutated_onehot
    from pysampler.contract.config import get_preset

    vdir = _mutated_onehot(tmp_path / "verilog")
    with pytest.raises(CosimFailed, match="throughput_test"):
        cosim_speed(5, config_name="tiny", cfg=get_preset("tiny"), sims=("icarus",),
                    verilog_dir=vdir, build_root=tmp_path / "build", bulk_updates=0)


def test_coverage_reports_clamps_unobservable_on_a_saturated_lut():
    """The presets' LUTs are saturated at both ends (the issue's finding), the clamping
    configuration's are not."""
    from pysampler.contract.config import get_preset

    for name in ("tiny", "default", "wide"):
        assert not Coverage(get_preset(name), Core.ONEHOT).clamp_observable
    assert Coverage(CLAMP_CONFIG, Core.ONEHOT).clamp_observable
