"""The chromatic block Gibbs engine: the contract read update by update, the fast path equal to
the traced one, and the exact laws (float chain = Boltzmann; LUT chain = its sweep kernel's
stationary law, against Monte Carlo with the real generators)."""

import numpy as np
import pytest

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.config import PRESETS, HwConfig
from pysampler.contract.graph import graph_program, lattice_edges, scale_field
from pysampler.contract.lut import build_lut, lut_address
from pysampler.contract.rng import derive_state, rng_draw, rng_spec
from pysampler.engines import chromatic
from pysampler.engines.chromatic import (BLOCK_CHAINS, ChromaticFloat, ChromaticModel,
                                         boltzmann_law, block_width, draw_tables,
                                         exact_sweep_law, beta_scheme_error, lane_states,
                                         sweep_matrix, _draw)
from pysampler.engines.reference import state_codes

CONFIGS = [HwConfig(), PRESETS["tiny"], PRESETS["wide"],
           HwConfig(lut_shift=1, lut_addr_bits=7, rng_steps=3, beta=1.3, rng_bits=20)]


def _lattice(rows, cols, cfg, rng, **kw):
    e = lattice_edges(rows, cols)
    n = rows * cols
    J = np.zeros((n, n))
    J[e[:, 0], e[:, 1]] = rng.normal(0, 0.6, len(e))
    return graph_program(J + J.T, rng.normal(0, 0.4, n), cfg, **kw)


def plain_sweeps(program, states, y0, sweeps):
    """docs/graph.md's sweep, one update at a time in Python."""
    cfg, top = program.cfg, program.topology
    lut, spec = build_lut(cfg), rng_spec(cfg)
    J = program.dense_couplings()
    y, st, rows = np.array(y0, dtype=np.int64), [np.uint64(s) for s in states], []
    for t in program.schedule_entries(sweeps):
        for units in top.classes():
            before = y.copy()
            for i in units:
                field = int(program.h[i] + J[i] @ before)
                scaled = int(scale_field(field, program.beta_mant[t], program.beta_exp[t]))
                level = int(lut[lut_address(scaled, cfg)])
                st[i], u = rng_draw(st[i], spec.kind, np.uint64(spec.mask), spec.steps,
                                    spec.u_shift)
                y[i] = program.clamp_values[i] if program.clamped[i] else int(int(u) < level)
                rows.append((int(i), int(y[i]), field, level, int(u)))
    return y, [int(s) for s in st], rows


def test_lane_states_are_derive_state():
    cfg = HwConfig(rng_bits=64, rng="xorshift", prob_bits=16)
    got = lane_states(2**64 - 5, 3, 4, cfg)
    assert [[int(v) for v in row] for row in got] == [
        [derive_state(2**64 - 5, c * 4 + i, cfg) for i in range(4)] for c in range(3)]


@pytest.mark.parametrize("cfg", CONFIGS + [HwConfig(rng_bits=64, rng_steps=40)])
def test_draw_tables_are_the_generator(cfg):
    tables, shift, keep = draw_tables(cfg)
    spec = rng_spec(cfg)
    s = np.uint64(derive_state(3, 1, cfg))
    for _ in range(100):
        fast = _draw(s, tables, np.uint64(shift), np.uint64(keep))
        s, _ = rng_draw(s, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
        assert fast == s


@pytest.mark.parametrize("cfg", CONFIGS)
def test_traced_engine_is_the_contract_update_by_update(cfg):
    rng = np.random.default_rng(1)
    program = _lattice(3, 4, cfg, rng, beta=(0.3, 1.0, 0.7), beta_hold=2, clamp={5: 1})
    model = ChromaticModel(program, 2, seed=4, init=rng.integers(0, 2, (2, 12)))
    y0, s0 = model.y.copy(), model.rng_states.copy()
    trace = model.run(7, trace=True)
    for b in range(2):
        y, states, rows = plain_sweeps(program, s0[b], y0[b], 7)
        got = list(zip(trace.index[b].tolist(), trace.bit[b].tolist(), trace.field[b].tolist(),
                       trace.lut_value[b].tolist(), trace.u[b].tolist()))
        assert got == rows
        assert model.y[b].tolist() == y.tolist() and model.rng_states[b].tolist() == states


@pytest.mark.parametrize("direct", [False, True], ids=["level-table", "direct"])
@pytest.mark.parametrize("cfg", CONFIGS)
def test_fast_path_equals_the_traced_path(cfg, direct, monkeypatch):
    """Both fast kernels (the per-entry level table, and the scaled field looked up directly
    where the field range passes MAX_LEVEL_FIELDS) give the traced path's states and
    generators, for block widths of 16 to BLOCK_CHAINS chains (37, 300 and 5 chains)."""
    if direct:
        monkeypatch.setattr(chromatic, "MAX_LEVEL_FIELDS", 0)
    rng = np.random.default_rng(2)
    program = _lattice(4, 6, cfg, rng, beta=(0.25, 1.0), beta_hold=3, clamp={0: -1, 7: 1})
    for chains in (37, 300, 5):
        traced, fast = (ChromaticModel(program, chains, seed=9) for _ in range(2))
        traced.run(8, trace=True)
        fast.run(8)
        assert (fast._levels()[0] is None) == direct
        assert np.array_equal(traced.y, fast.y)
        assert np.array_equal(traced.rng_states, fast.rng_states)
        assert (fast.y[:, 0] == 0).all() and (fast.y[:, 7] == 1).all()


def test_a_wide_field_range_takes_the_direct_kernel():
    """16-bit weights on a degree-4 lattice: fields span more than 2**16 values, so no level
    table is built; the result is still the traced path's."""
    cfg = PRESETS["wide"]
    e = lattice_edges(3, 4)
    J = np.zeros((12, 12))
    J[e[:, 0], e[:, 1]] = np.random.default_rng(3).choice([-100.0, 100.0], len(e))
    program = graph_program(J + J.T, np.linspace(-60, 60, 12), cfg, beta=0.9)
    traced, fast = (ChromaticModel(program, 20, seed=2) for _ in range(2))
    traced.run(5, trace=True)
    fast.run(5)
    assert fast._levels() == (None, 0)
    assert np.array_equal(traced.y, fast.y) and np.array_equal(traced.rng_states, fast.rng_states)


def test_block_width_fills_the_threads():
    assert block_width(1) == 16 and block_width(10_000) == BLOCK_CHAINS
    assert block_width(64) % 16 == 0 and 16 <= block_width(64) <= BLOCK_CHAINS


def test_float_chain_kernel_is_exactly_boltzmann():
    """Each colour step is a block Gibbs update of conditionally independent units, so the
    float sweep kernel's stationary law is exp(-b E) / Z (checked to 1e-10), clamps included."""
    rng = np.random.default_rng(3)
    program = _lattice(2, 4, HwConfig(), rng, beta=0.8, clamp={3: 1})
    for beta in (0.3, 1.7):
        pi = exact_sweep_law(program, beta=beta)
        assert np.abs(pi - boltzmann_law(program, beta)).max() < 1e-10
    P = sweep_matrix(program, beta=1.0)
    assert np.allclose(P.sum(axis=1), 1.0)


def test_float_chain_samples_boltzmann():
    rng = np.random.default_rng(4)
    program = _lattice(2, 3, HwConfig(), rng, beta=1.0)
    chains = 20000
    model = ChromaticFloat(program, chains, seed=5)
    model.run(30)
    exact = boltzmann_law(program, 1.0)
    tv = total_variation(empirical_distribution(state_codes(model.y), 64), exact)
    assert tv < 3 * tv_noise_floor(exact, chains)


def test_lut_chain_samples_its_exact_sweep_law():
    """The fixed-point chain with the real LFSRs against the stationary law of its own sweep
    kernel (not exp(-b E) of the integer weights: a quantized LUT is no Boltzmann law). The
    tiny preset's LFSR stepped once per draw (each unit's draws one sweep apart are shifted
    copies) is visibly off the law: 6x the noise floor here; 12 steps per draw are not."""
    chains = 20000
    tvs = {}
    for steps in (12, 1):
        cfg = PRESETS["tiny"].replace(rng_steps=steps)
        program = _lattice(2, 3, cfg, np.random.default_rng(5), beta=(0.5, 1.0))
        exact = exact_sweep_law(program, entry=-1)
        model = ChromaticModel(program, chains, seed=6)
        model.run(40)
        tvs[steps] = total_variation(empirical_distribution(state_codes(model.y), 64), exact)
    floor = tv_noise_floor(exact, chains)
    assert tvs[12] < 3 * floor and tvs[1] > 3 * floor
    # and the kernel's law is near, not equal to, the Boltzmann law of the integer program
    gap = total_variation(exact, boltzmann_law(program, program.realised_betas[-1],
                                               quantized=True))
    assert 0 < gap < 0.05


def test_beta_scheme_error_is_within_its_bounds():
    cfg = HwConfig()
    program = graph_program(np.array([[0, 1.0], [1.0, 0]]), None, cfg,
                            beta=(0.1, 0.37, 0.8, 1.0))
    err = beta_scheme_error(program)
    assert (np.abs(err["beta_rel"]) <= 2.0 ** -4).all() and err["beta_rel"][-1] == 0
    # half an LSB of argument (slope <= 1/4) plus half a P-bit step, clamp past the LUT ends
    bound = cfg.beta * cfg.lsb / 8 + 2.0 ** -(cfg.prob_bits + 1) + 1e-12
    assert (err["scheme"] <= bound).all()
    assert err["total"][1] >= err["scheme"][1]


def test_models_refuse_other_programs_and_bad_arguments():
    from pysampler.contract.program import dense_program

    with pytest.raises(TypeError, match="graph program"):
        ChromaticModel(dense_program([0.0], np.zeros((1, 1)), HwConfig()))
    program = graph_program(np.zeros((2, 2)), [0.1, 0.2], HwConfig())
    with pytest.raises(ValueError, match="init array"):
        ChromaticModel(program, 1, init=[0, 2])
    with pytest.raises(ValueError, match="rng_states"):
        ChromaticModel(program, 1, rng_states=[[0, 1]])
    with pytest.raises(ValueError, match="sweeps"):
        ChromaticModel(program, 1).run(0)
    with pytest.raises(ValueError, match="n must be <="):
        sweep_matrix(graph_program(np.zeros((13, 13)), None, HwConfig()))
