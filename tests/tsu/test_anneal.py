"""Annealing schedules for the graph core's beta table, the anneal call, and bad values."""

import numpy as np
import pytest

from pysampler.contract.config import HwConfig
from pysampler.tsu import EmulatedBackend, FloatBackend, anneal, anneal_schedule, sweep_betas
from pysampler.tsu.anneal import MAX_ANNEAL_SWEEPS, AnnealSchedule


def test_schedules_span_the_range_and_hold_the_entries():
    s = anneal_schedule(0.1, 3.0, 100)
    assert len(s.betas) == 16 and s.beta_hold == 6 and s.sweeps == 100
    assert s.betas[0] == pytest.approx(0.1) and s.betas[-1] == pytest.approx(3.0)
    assert np.allclose(np.diff(np.log(s.betas)), np.log(30) / 15)      # geometric
    per = s.per_sweep()
    assert per.shape == (100,) and (per[:6] == s.betas[0]).all() and (per[90:] == 3.0).all()
    lin = anneal_schedule(0.5, 2.0, 3, kind="linear")
    assert lin.betas == (0.5, 1.25, 2.0) and lin.beta_hold == 1
    assert anneal_schedule(1.0, 1.0, 5, entries=1).betas == (1.0,)
    smooth = sweep_betas(0.2, 2.0, 50)
    assert smooth.shape == (50,) and smooth[0] == pytest.approx(0.2) and smooth[-1] == 2.0


def test_anneal_runs_the_table_on_a_backend():
    J = np.array([[0, 1.0, -0.5], [1.0, 0, 0.3], [-0.5, 0.3, 0]])
    schedule = anneal_schedule(0.2, 2.0, 40)
    for backend in (EmulatedBackend(HwConfig()), FloatBackend()):
        out = anneal(backend, J, None, schedule, 8, seed=2)
        direct = backend.sample_ising(J, None, schedule.betas, 40, 8, seed=2,
                                      beta_hold=schedule.beta_hold)
        assert np.array_equal(out.samples, direct.samples)
        assert out.info["program"].beta_hold == schedule.beta_hold
    realised = anneal(EmulatedBackend(), J, None, schedule, 2).betas
    assert np.all(np.abs(np.asarray(realised) / schedule.betas - 1) <= 2 ** -4)


@pytest.mark.parametrize("args, kwargs, message", [
    ((0.0, 1.0, 10), {}, "beta_min must be a finite number > 0"),
    ((np.nan, 1.0, 10), {}, "beta_min must be a finite number > 0"),
    ((0.1, np.inf, 10), {}, "beta_max must be a finite number > 0"),
    ((0.1, "x", 10), {}, "beta_max must be a finite number > 0"),
    ((2.0, 1.0, 10), {}, "beta_min must be <= beta_max"),
    ((0.01, 2.0, 10), {}, r"beta_max / beta_min must be <= 128"),
    ((0.1, 1.0, 0), {}, r"sweeps must be an int in \[1, "),
    ((0.1, 1.0, MAX_ANNEAL_SWEEPS + 1), {}, r"sweeps must be an int in \[1, "),
    ((0.1, 1.0, 2.5), {}, "sweeps must be an int"),
    ((0.1, 1.0, 10), {"entries": 0}, r"entries must be an int in \[1, 16\]"),
    ((0.1, 1.0, 10), {"entries": 17}, r"entries must be an int in \[1, 16\]"),
    ((0.1, 1.0, 10), {"kind": "cosine"}, "kind must be one of"),
    ((0.1, 1.0, 600_000), {"entries": 8}, "passes the core's hold"),
])
def test_bad_schedules_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        anneal_schedule(*args, **kwargs)


def test_bad_anneal_calls_are_refused():
    J = np.array([[0, 1.0], [1.0, 0]])
    with pytest.raises(TypeError, match="AnnealSchedule"):
        anneal(FloatBackend(), J, None, (0.1, 1.0), 2)
    with pytest.raises(ValueError, match="sweeps"):
        sweep_betas(0.1, 1.0, 0)
    with pytest.raises(ValueError, match="beta_min must be <= beta_max"):
        sweep_betas(1.0, 0.5, 3)
    schedule = AnnealSchedule((0.5, 0.0), 1, 2)    # built by hand: the program refuses it
    with pytest.raises(ValueError, match=r"beta\[1\] must be a finite number > 0"):
        anneal(EmulatedBackend(), J, None, schedule, 2)
