"""Issue 20's experiments: instances, Onsager's values and the lattice estimates, annealing
curves against exact ground states, the report's writing and its refusals."""

import json

import numpy as np
import pytest

from pysampler.cli import main
from pysampler.contract.config import HwConfig
from pysampler.engines.ground import ising_energies, ising_ground_state
from pysampler.experiments.anneal import anneal_curves
from pysampler.experiments.graph import _LogLines, graph_report, parse_sections
from pysampler.experiments.instances import cubic_edges, ea3d_instance, maxcut_instance
from pysampler.experiments.onsager import (BETA_C, effective_coupling, lattice_estimate,
                                           lattice_program, onsager_energy,
                                           onsager_magnetisation)


def test_instances():
    assert len(cubic_edges(3, 3, 3)) == 81 and len(cubic_edges(2, 2, 2)) == 12
    assert len(cubic_edges(3, 3, 3, periodic=False)) == 54
    ea = ea3d_instance(4, seed=2)
    assert ea.n == 64 and ea.max_degree == 6 and np.array_equal(ea.J, ea.J.T)
    assert set(np.unique(ea.J)) == {-1.0, 0.0, 1.0}
    mc = maxcut_instance(10, 0.5, seed=1)
    spins = np.random.default_rng(0).choice([-1, 1], (20, 10))
    W = -mc.J
    cut = np.array([sum(W[i, j] for i in range(10) for j in range(i + 1, 10)
                        if s[i] != s[j]) for s in spins])
    assert np.allclose(mc.cut(ising_energies(spins, mc.J)), cut)
    with pytest.raises(ValueError, match="above the core's 64"):
        maxcut_instance(200, 0.5)
    with pytest.raises(ValueError, match="density must be in"):
        maxcut_instance(10, 0.0)
    with pytest.raises(ValueError, match="density must be in"):
        maxcut_instance(10, float("nan"))
    with pytest.raises(ValueError, match="n must be"):
        maxcut_instance(1, 0.5)
    with pytest.raises(ValueError, match="allowed at most"):
        cubic_edges(100, 100, 100)


def test_onsager_values():
    assert onsager_energy(BETA_C) == pytest.approx(-np.sqrt(2), rel=1e-6)
    assert onsager_energy(0.01) == pytest.approx(-2 * np.tanh(0.01), rel=1e-3)  # high T
    assert onsager_energy(5.0) == pytest.approx(-2.0, abs=1e-6)                 # ground state
    m = onsager_magnetisation([0.3, BETA_C, 0.45, 0.6, 3.0])
    assert m[0] == m[1] == 0 and 0 < m[2] < m[3] < m[4] and m[4] == pytest.approx(1, abs=1e-9)
    with pytest.raises(ValueError, match="beta must be finite and > 0"):
        onsager_energy(0.0)
    with pytest.raises(ValueError, match="beta must be finite and > 0"):
        onsager_magnetisation(float("nan"))


@pytest.mark.parametrize("engine, beta", [("float", 0.25), ("emulated", 0.5)])
def test_lattice_estimates_meet_onsager(engine, beta):
    """High T in float, and T = 2 on the emulated core (4 beta 2^f is an integer there, so the
    integer program is the model exactly): within 4 standard errors of Onsager's energy."""
    est = lattice_estimate(8, beta, engine=engine, chains=64, burn_in=50, samples=40, thin=2,
                           seed=1)
    assert abs(est.energy - onsager_energy(beta)) < 4 * est.energy_err
    assert 0 < est.energy_err < 0.02 and est.chains == 64 and est.records == 40
    if beta > BETA_C:
        assert abs(est.abs_m - onsager_magnetisation(beta)) < 0.05


def test_effective_coupling_of_the_integer_program():
    for cfg in (HwConfig(), HwConfig(weight_bits=8, frac_bits=2)):
        lsb = cfg.beta * cfg.lsb
        for beta in (0.3, 0.37, 0.4, 0.5, 0.6):
            bj, bh = effective_coupling(lattice_program(4, beta, cfg))
            # h' from the rounded couplings: no field at degree 4 (the up-down symmetry)
            assert abs(bj - beta) <= lsb / 8 + 1e-12 and bh == 0.0
        assert effective_coupling(lattice_program(4, 0.5, cfg)) == (0.5, 0.0)


def test_lattice_estimate_refuses_bad_values():
    with pytest.raises(ValueError, match="engine must be"):
        lattice_estimate(8, 0.4, engine="gpu")
    with pytest.raises(ValueError, match="chains must be"):
        lattice_estimate(8, 0.4, chains=1)
    with pytest.raises(ValueError, match="side must be"):
        lattice_estimate(2, 0.4)
    with pytest.raises(ValueError, match="beta must be a finite number > 0"):
        lattice_estimate(8, -0.4)
    with pytest.raises(ValueError, match="thin must be"):
        lattice_estimate(8, 0.4, thin=0)


def test_anneal_curves_against_the_exact_ground_state():
    inst = maxcut_instance(9, 0.5, seed=3)
    c = anneal_curves(inst, [8, 200], 6, beta_min=0.1, beta_max=4.0, seed=1)
    assert c.exact and c.reference == ising_ground_state(inst.J).energy
    assert {p.method for p in c.points} == {"emulated", "float", "sa"} and len(c.points) == 6
    for p in c.points:
        assert p.best >= -1e-12 and p.mean >= p.best and 0 <= p.p_ground <= 1
    assert all(p.p_ground == 1 for p in c.points if p.sweeps == 200)
    assert c.n_saturated == 0 and len(c.realised_betas) == 16


def test_anneal_curves_refuse_bad_values():
    inst = maxcut_instance(6, 0.5, seed=3)
    for kwargs, message in (({"methods": ["gpu"]}, "methods must be"),
                            ({"methods": []}, "methods must be"),
                            ({"beta_min": 2.0}, "beta_min must be <= beta_max"),
                            ({"beta_min": float("nan")}, "beta_min must be a finite number"),
                            ({"chains": 1}, "chains must be"),
                            ({"sweeps": []}, "at least one run length"),
                            ({"sweeps": [0]}, "sweeps must be")):
        args = {"sweeps": [4], "chains": 2, "beta_min": 0.1, "beta_max": 1.0, **kwargs}
        sweeps, chains = args.pop("sweeps"), args.pop("chains")
        with pytest.raises(ValueError, match=message):
            anneal_curves(inst, sweeps, chains, **args)


def test_report_writes_its_files_and_refuses_bad_options(tmp_path, capsys):
    """The speed section's tables (plots are drawn by `make graph`; matplotlib's first import
    costs seconds here), and the one-line refusals of the command."""
    summary = graph_report(tmp_path, quick=True, sections="speed", progress=False, plots=False)
    md = (tmp_path / "graph.md").read_text()
    assert "## Speed" in md and "Chowdhury" in md and "chromatic bit-accurate 16x16" in md
    data = json.loads((tmp_path / "graph.json").read_text())
    assert data["sections"] == ["speed"] and data["speed"][0]["flips_per_s"] > 0
    assert "graph.json" in summary and not list(tmp_path.glob("*.png"))
    assert parse_sections("anneal,exact") == ("exact", "anneal")
    with pytest.raises(ValueError, match="sections must be"):
        parse_sections("exact,gpu")
    with pytest.raises(ValueError, match="sections must be"):
        parse_sections("")
    (tmp_path / "file").write_text("")
    with pytest.raises(ValueError, match="must be a folder"):
        graph_report(tmp_path / "file", quick=True, sections="speed", progress=False)
    for argv, message in ((["--sections", "gpu"], "sections must be"),
                          (["--out", str(tmp_path / "file")], "must be a folder"),
                          (["--seed", "-1"], "--seed: must be an int")):
        with pytest.raises(SystemExit) as stop:
            main(["graph", "--quick", *argv])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and err.count("\n") == 1 and message in err


def test_progress_lines_in_a_log(capsys):
    log = _LogLines()
    log.write("\rgraph:  10% 1/10 Mflip")
    log.write("\r")
    log.flush()
    assert capsys.readouterr().err == "graph:  10% 1/10 Mflip\n"
