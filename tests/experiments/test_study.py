import numpy as np
import pytest

from pysampler.experiments.study import (StudyRow, finding, run_study, study_points, summarize, synthetic_sets,
                             write_study)


def test_quick_grid_varies_one_knob_at_a_time():
    points = study_points(quick=True)
    assert points[0].parameter == "baseline"
    base = points[0].cfg
    for p in points[1:]:
        if p.parameter in ("lam", "sweeps"):
            assert p.cfg == base
        elif p.parameter == "frac_bits":
            assert p.cfg.weight_bits - p.cfg.frac_bits == base.weight_bits - base.frac_bits
    assert {p.parameter for p in points} == {"baseline", "frac_bits", "weight_bits",
                                             "lut_addr_bits", "prob_bits", "rng", "lam", "sweeps"}
    assert len(study_points()) > len(points)


@pytest.mark.slow
def test_study_rows_tables_and_plots(tmp_path):
    sets = synthetic_sets((8,))
    sets["gpt2-top50-0"] = np.random.default_rng(0).normal(0, 3, 12)
    sets["gpt2-top50-1"] = np.random.default_rng(1).normal(0, 3, 12)
    points = [p for p in study_points(quick=True) if p.parameter in ("baseline", "frac_bits", "rng")]
    rows = run_study(sets, points, mc_tokens=100, progress=False)
    assert len(rows) == len(points) * 3 and all(isinstance(r, StudyRow) for r in rows)
    for r in rows:
        assert 0 <= r.tv <= 1 and 0 <= r.tv_float <= 1 and 0 <= r.fallback <= r.invalid_per_run
        assert r.mc_noise_floor > 0 and r.floor_ref > 0
    coarse = [r for r in rows if r.parameter == "frac_bits" and r.value == "2"]
    base = [r for r in rows if r.parameter == "baseline"]
    # a 1/4-logit resolution is worse than 1/16 on every set (quantization error grows)
    assert all(c.tv > b.tv for c, b in zip(coarse, base))
    table = summarize(rows)
    assert {e["logit_set"] for e in table} == {"synthetic-V8", "gpt2-top50"}
    assert all(e["contexts"] == 2 for e in table if e["logit_set"] == "gpt2-top50")
    text = finding(table)
    assert "smallest widths" in text and "generator" in text
    paths = write_study(rows, tmp_path, "# test")
    names = {p.name for p in paths}
    assert {"study.csv", "study.md", "study_tv_vs_bits.png", "study_invalid_vs_lambda.png",
            "study_tv_vs_sweeps.png"} <= names
    assert all(p.stat().st_size > 0 for p in paths)
