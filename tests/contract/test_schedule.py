"""The per-sweep lambda schedule: program table, entry alignment, model, float reference, exact law."""

import numpy as np
import pytest

from pysampler import GibbsSampler, HardwareSampler, HwConfig
from pysampler.analysis.exact import exact_token_distribution
from pysampler.samplers.policy import LEGACY
from pysampler.experiments.logitsets import synthetic_logits
from pysampler.contract.lut import build_lut, lut_address
from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.engines.array import BitAccurateModel
from pysampler.contract.program import MAX_SCHEDULE, OnehotProgram, onehot_program, schedule_entries
from pysampler.contract.rng import rng_draw, rng_spec

RAMP = (1.0, 1.5, 2.0, 3.0)


def test_entries_are_aligned_with_the_end_of_the_run():
    assert schedule_entries(4, 6).tolist() == [0, 0, 0, 1, 2, 3]
    assert schedule_entries(4, 2).tolist() == [2, 3]  # a short run sees only the table's end
    assert schedule_entries(1, 3).tolist() == [0, 0, 0]
    assert schedule_entries(3, 4, 6).tolist() == [0, 0, 1, 2, 2, 2]  # extra sweeps: last entry


def test_program_table():
    cfg = HwConfig()  # LSB 1/16
    z = synthetic_logits(8)
    program = onehot_program(z, RAMP, 1.0, cfg)
    plain = onehot_program(z, 3.0, 1.0, cfg)
    assert program.lam == 3.0 and program.schedule_length == 4
    assert program.couplings == (-32, -48, -64, -96) and program.bias_offsets == (-32, -24, -16, 0)
    assert np.array_equal(program.h, plain.h) and program.j == plain.j == -96
    assert plain.couplings == (-96,) and plain.bias_offsets == (0,)
    np.testing.assert_array_equal(program.on_probabilities(), plain.on_probabilities())
    # entry 0 is the program of lambda = 1 (offsets exact at this LSB)
    np.testing.assert_array_equal(program.on_probabilities(0),
                                  onehot_program(z, 1.0, 1.0, cfg).on_probabilities())


@pytest.mark.parametrize("lam,needle", [((), "1..8"), (tuple(range(1, 10)), "1..8"),
                                        ((1.0, -1.0), r"lam\[1\]"), ((1.0, np.nan), r"lam\[1\]")])
def test_bad_schedules(lam, needle):
    with pytest.raises(ValueError, match=needle):
        onehot_program(np.zeros(4), lam, 1.0, HwConfig())
    with pytest.raises(ValueError, match=needle):
        HardwareSampler(lam=lam)
    with pytest.raises(ValueError, match=needle):
        GibbsSampler(lam=lam)
    assert MAX_SCHEDULE == 8


def test_hand_built_table_must_be_consistent():
    cfg, h = HwConfig(), np.zeros(3, dtype=np.int64)
    with pytest.raises(ValueError, match="read-out entry"):
        OnehotProgram(cfg, h, -32, np.zeros(3), 1.0, bias_offsets=(0, 0), couplings=(-32, -48))
    with pytest.raises(ValueError, match="same length"):
        OnehotProgram(cfg, h, -48, np.zeros(3), 1.0, bias_offsets=(0,), couplings=(-32, -48))
    with pytest.raises(ValueError, match="weight_bits"):
        OnehotProgram(cfg, h, -48, np.zeros(3), 1.0, bias_offsets=(4096, 0), couplings=(-32, -48))


def test_dense_form_refuses_a_schedule():
    program = onehot_program(np.zeros(4), RAMP, 1.0, HwConfig())
    with pytest.raises(ValueError, match="schedule"):
        BitAccurateModel(program, specialise=False)


@pytest.mark.parametrize("sweeps", [1, 3, 7])
def test_model_follows_the_table_update_by_update(sweeps):
    """The numba kernel against a plain reading: field = h_i + offset[e] + coupling[e] * others."""
    cfg = HwConfig(n_pbits=16)
    program = onehot_program(synthetic_logits(10), RAMP, 1.0, cfg)
    model = BitAccurateModel(program, 1, seed=5)
    state = np.uint64(model.rng_states[0])
    trace = model.run(sweeps, trace=True)
    lut, spec = build_lut(cfg), rng_spec(cfg)
    y, t = np.zeros(10, dtype=np.int64), 0
    for entry in schedule_entries(4, sweeps):
        for i in range(10):
            field = int(program.h[i] + program.bias_offsets[entry]
                        + program.couplings[entry] * (y.sum() - y[i]))
            level = int(lut[lut_address(field, cfg)])
            state, u = rng_draw(state, spec.kind, np.uint64(spec.mask), spec.steps, spec.u_shift)
            y[i] = int(int(u) < level)
            assert (trace.field[0, t], trace.bit[0, t], trace.u[0, t]) == (field, y[i], int(u))
            t += 1
    assert model.y[0].tolist() == y.tolist()


@pytest.mark.slow
@pytest.mark.parametrize("make", [
    lambda: GibbsSampler(lam=RAMP, sweeps=6, seed=1),
    lambda: HardwareSampler(lam=RAMP, sweeps=6, seed=1, readout="continue", extra_sweeps=2),
])
def test_exact_law_matches_monte_carlo(make):
    """20,000 tokens against the exact law of the scheduled sampler: E[TV] of N exact samples
    plus McDiarmid's sqrt(ln(1e6) / 2N)."""
    z = synthetic_logits(6)
    sampler = make()
    exact = exact_token_distribution(sampler, z)
    n = 20_000
    emp = empirical_distribution([sampler.sample(z) for _ in range(n)], 6)
    assert total_variation(exact.probs, emp) < tv_noise_floor(exact.probs, n) + \
        np.sqrt(np.log(1e6) / (2 * n))
    # the schedule changes the law: the constant read-out lambda gives a different one
    constant = exact_token_distribution(GibbsSampler(lam=3.0, sweeps=6), z)
    if isinstance(sampler, GibbsSampler):
        assert total_variation(constant.probs, exact.probs) > 0.01


def test_low_lambda_mixing_then_ramp_beats_constant_lambda():
    """What the schedule is for: at V = 32 and 10 sweeps, mixing at lambda 1.5 and ramping to 3 in
    the last sweeps gives a lower exact TV than lambda 3 throughout (float chain, from zeros)."""
    z = synthetic_logits(32)
    ramp = exact_token_distribution(GibbsSampler(policy=LEGACY, lam=(1.5, 2.0, 2.5, 3.0),
                                                 sweeps=10), z)
    constant = exact_token_distribution(GibbsSampler(policy=LEGACY, lam=3.0, sweeps=10), z)
    assert ramp.tv < constant.tv
