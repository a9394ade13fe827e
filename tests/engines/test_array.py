"""The fast (numba) bit-accurate model against a plain, per-update Python reading of the contract."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pysampler.contract.config import PRESETS, HwConfig
from pysampler.contract.lut import build_lut, lut_address
from pysampler.engines.array import BitAccurateModel, onehot_init_index
from pysampler.contract.program import dense_program, onehot_program
from pysampler.contract.rng import derive_state, rng_draw, rng_spec

CONFIGS = list(PRESETS.values()) + [HwConfig(lut_shift=2, lut_addr_bits=7, rng_steps=3, beta=1.3)]


def plain_model(program, state, y0, sweeps):
    """Contract, one update at a time: field from the dense J, LUT, draw, compare."""
    cfg = program.cfg
    dense = program.to_dense() if hasattr(program, "to_dense") else program
    lut, spec = build_lut(cfg), rng_spec(cfg)
    y = np.array(y0, dtype=np.int64)
    s = np.uint64(state)
    trace = []
    for _ in range(sweeps):
        for i in range(dense.n):
            field = int(dense.h[i] + sum(dense.J[i, j] * y[j] for j in range(dense.n) if j != i))
            level = int(lut[lut_address(field, cfg)])
            s, u = rng_draw(s, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
            y[i] = 1 if int(u) < level else 0
            trace.append((i, y[i], field, level, int(u)))
    return y, int(s), trace


def _trace_rows(tr, chain=0):
    return list(zip(tr.index[chain].tolist(), tr.bit[chain].tolist(), tr.field[chain].tolist(),
                    tr.lut_value[chain].tolist(), tr.u[chain].tolist()))


@pytest.mark.parametrize("cfg", CONFIGS)
def test_onehot_kernel_matches_plain_model(cfg):
    rng = np.random.default_rng(3)
    n = min(cfg.n_pbits, 12)
    program = onehot_program(rng.normal(0, 3, n), 1.5, 1.0, cfg)
    model = BitAccurateModel(program, 1, seed=9)
    state0 = int(model.rng_states[0])
    tr = model.run(6, trace=True)
    y, s, trace = plain_model(program, state0, np.zeros(n), 6)
    assert _trace_rows(tr) == trace
    assert model.y[0].tolist() == y.tolist() and int(model.rng_states[0]) == s


@pytest.mark.parametrize("cfg", CONFIGS)
def test_dense_kernel_matches_plain_model(cfg):
    rng = np.random.default_rng(4)
    n = min(cfg.n_pbits, 10)
    upper = np.triu(rng.normal(0, 2, (n, n)), 1)
    program = dense_program(rng.normal(0, 2, n), upper + upper.T, cfg)
    y0 = rng.integers(0, 2, n)
    model = BitAccurateModel(program, 1, seed=2, init=y0)
    tr = model.run(5, trace=True)
    y, s, trace = plain_model(program, derive_state(2, 0, cfg), y0, 5)
    assert _trace_rows(tr) == trace and model.y[0].tolist() == y.tolist()


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 40), st.floats(0.05, 12.0), st.integers(0, 2**32), st.sampled_from(CONFIGS),
       st.sampled_from(["zeros", "random_onehot"]))
def test_onehot_specialisation_equals_dense_array(n, lam, seed, cfg, init):
    rng = np.random.default_rng(seed)
    program = onehot_program(rng.normal(0, 4, min(n, cfg.n_pbits)), lam, 1.0, cfg)
    fast = BitAccurateModel(program, 3, seed=seed, init=init)
    dense = BitAccurateModel(program, 3, seed=seed, init=init, specialise=False)
    t_fast, t_dense = fast.run(4, trace=True), dense.run(4, trace=True)
    for name in ("index", "bit", "field", "lut_value", "u"):
        assert np.array_equal(getattr(t_fast, name), getattr(t_dense, name))
    assert np.array_equal(fast.y, dense.y) and np.array_equal(fast.rng_states, dense.rng_states)


def test_chains_are_independent_streams_of_one_seed():
    cfg = HwConfig()
    program = onehot_program(np.linspace(-3, 0, 20), 2.0, 1.0, cfg)
    batch = BitAccurateModel(program, 5, seed=77)
    batch.run(10)
    for c in range(5):
        single = BitAccurateModel(program, 1, rng_states=[derive_state(77, c, cfg)])
        single.run(10)
        assert np.array_equal(single.y[0], batch.y[c])
    again = BitAccurateModel(program, 5, seed=77)
    again.run(10)
    assert np.array_equal(again.y, batch.y)


def test_random_onehot_init_uses_one_draw_per_chain():
    cfg = HwConfig()
    program = onehot_program(np.zeros(10), 2.0, 1.0, cfg)
    model = BitAccurateModel(program, 64, seed=5, init="random_onehot")
    spec = rng_spec(cfg)
    for c in range(64):
        s, u = rng_draw(np.uint64(derive_state(5, c, cfg)), spec.kind, np.uint64(spec.mask),
                        spec.steps, spec.u_shift)
        assert model.y[c].tolist() == np.eye(10, dtype=int)[onehot_init_index(int(u), 10, 16)].tolist()
        assert int(model.rng_states[c]) == int(s)


def test_fields_stay_within_field_bits():
    cfg = HwConfig(n_pbits=32)
    program = onehot_program(np.zeros(32), 15.9, 1.0, cfg)  # j = -509: most negative fields
    model = BitAccurateModel(program, 4, init=np.ones(32, dtype=int))
    tr = model.run(2, trace=True)
    limit = 1 << (cfg.field_bits - 1)
    assert tr.field.min() >= -limit and tr.field.max() < limit
    assert tr.field.min() < cfg.weight_min  # the sum really is wider than one weight


def test_bad_arguments():
    program = onehot_program([0.0, 1.0], 2.0, 1.0, HwConfig())
    with pytest.raises(ValueError, match="sweeps"):
        BitAccurateModel(program).run(0)
    with pytest.raises(ValueError, match="n_chains"):
        BitAccurateModel(program, 0)
    with pytest.raises(ValueError, match="rng_states\\[1\\] is 0"):
        BitAccurateModel(program, 2, rng_states=[5, 0])
    with pytest.raises(ValueError, match="rng_states must have shape"):
        BitAccurateModel(program, 2, rng_states=[5])
    with pytest.raises(ValueError, match="init"):
        BitAccurateModel(program, init="ones")
    with pytest.raises(ValueError, match="0 and 1"):
        BitAccurateModel(program, init=[2, 0])
    with pytest.raises(ValueError, match="shape"):
        BitAccurateModel(program, init=[1, 0, 0])


@pytest.mark.parametrize("init", ["zeros", "random_onehot"])
def test_rows_run_like_one_model_each(init):
    """run_onehot_rows (each row its own program and generator) equals a BitAccurateModel per
    row, including a lambda schedule."""
    from pysampler.contract.program import onehot_programs
    from pysampler.engines.array import run_onehot_rows

    cfg = PRESETS["default"]
    rng = np.random.default_rng(9)
    logits = rng.normal(0, 3, (12, 20))
    lam = (1.5, 2.0, 3.0)
    batch = onehot_programs(logits, lam, cfg)
    states = derive_states_for(12, cfg)
    y = np.zeros((12, 20), dtype=np.uint8)
    run_onehot_rows(batch.h, batch.bias_offsets, batch.couplings, cfg, y, states, 5, init=init)
    for b in range(12):
        program = onehot_program(logits[b], lam, 1.0, cfg)
        assert np.array_equal(program.h, batch.h[b])
        assert program.couplings == tuple(batch.couplings[b])
        assert program.n_saturated == batch.n_saturated[b]
        model = BitAccurateModel(program, 1, rng_states=derive_states_for(12, cfg)[b:b + 1],
                                 init=init)
        model.run(5)
        assert np.array_equal(model.y[0], y[b]) and model.rng_states[0] == states[b]


def derive_states_for(n, cfg):
    from pysampler.contract.rng import derive_states

    return derive_states(11, n, cfg)


def test_model_refuses_what_is_not_an_array_program():
    with pytest.raises(TypeError, match="program must name one of the array kernels"):
        BitAccurateModel(np.zeros((2, 2)), 1)
