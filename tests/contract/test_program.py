import itertools

import numpy as np
import pytest

from pysampler.contract.config import HwConfig
from pysampler.contract.program import (DenseProgram, SaturationError, dense_program, ising_program,
                               onehot_program, qubo_to_spin, spin_to_qubo)
from pysampler.engines.reference import ising_energy


def _all_states(n):
    return np.array(list(itertools.product([0, 1], repeat=n)), dtype=np.float64)


def _qubo_energy(y, J, h):
    return -(y @ h) - 0.5 * np.einsum("si,ij,sj->s", y, J, y)


def test_spin_qubo_round_trip_preserves_energies():
    rng = np.random.default_rng(0)
    n = 6
    upper = np.triu(rng.normal(size=(n, n)), 1)
    J, h = upper + upper.T, rng.normal(size=n)
    Jq, hq, const = spin_to_qubo(J, h)
    y = _all_states(n)
    assert np.allclose(ising_energy(2 * y - 1, J, h), _qubo_energy(y, Jq, hq) + const)
    Js, hs, const2 = qubo_to_spin(Jq, hq)
    assert np.allclose(Js, J) and np.allclose(hs, h)
    assert np.allclose(_qubo_energy(y, Jq, hq), ising_energy(2 * y - 1, Js, hs) + const2)


def test_onehot_program_values():
    cfg = HwConfig()
    p = onehot_program([1.0, 3.0, -2.0], lam=2.5, temperature=0.5, cfg=cfg)
    z = np.array([2.0, 6.0, -4.0]) - 6.0  # / temperature, then shift by max
    assert np.allclose(p.logits, z)
    assert p.h.tolist() == np.rint((z + 2.5) * 16).astype(int).tolist()
    assert p.j == -80 and p.n_saturated == 0 and p.absorbing_tokens == ()
    dense = p.to_dense()
    assert np.all(dense.J[~np.eye(3, dtype=bool)] == -80) and np.all(np.diag(dense.J) == 0)


def test_onehot_conditional_fields_match_energy_differences():
    """Field of the dense form = E(y_i=0) - E(y_i=1) of the quantized one-hot energy."""
    cfg = HwConfig()
    p = onehot_program(np.random.default_rng(1).normal(0, 2, 5), 2.0, 1.0, cfg).to_dense()
    for y in _all_states(5):
        for i in range(5):
            on, off = y.copy(), y.copy()
            on[i], off[i] = 1, 0
            de = p.energy(off) - p.energy(on)
            assert np.isclose(p.fields(y)[i] / 16, de)


def test_saturation_counted_and_strict_raises():
    cfg = HwConfig()  # range [-32, 31.9375]
    logits = np.array([0.0, -10.0, -60.0])
    p = onehot_program(logits, 3.0, 1.0, cfg)
    assert p.n_saturated == 1 and p.h[2] == cfg.weight_min
    with pytest.raises(SaturationError, match="saturated"):
        onehot_program(logits, 3.0, 1.0, cfg, strict=True)
    with pytest.raises(SaturationError):
        onehot_program([0.0, 1.0], 20.0, 1.0, cfg, strict=True)  # -2 lam = -40 < -32


def test_absorbing_states_detected():
    # p = 8 bits and a lambda of 20 put every transition at p = 0 or 1: a frozen chain.
    cfg = HwConfig(prob_bits=8, rng_bits=8, frac_bits=2, weight_bits=10)
    p = onehot_program([0.0, -1.0, -2.0], 20.0, 1.0, cfg)
    assert p.absorbing_tokens == (0, 1, 2)
    assert onehot_program([0.0, -1.0], 3.0, 1.0, HwConfig()).absorbing_tokens == ()


@pytest.mark.parametrize("kwargs,needle", [
    (dict(logits=[0.0, np.nan], lam=1.0, temperature=1.0), "NaN"),
    (dict(logits=[0.0, np.inf], lam=1.0, temperature=1.0), "inf"),
    (dict(logits=[], lam=1.0, temperature=1.0), "empty"),
    (dict(logits=[[0.0, 1.0]], lam=1.0, temperature=1.0), "1-D"),
    (dict(logits=[0.0, 1.0], lam=0.0, temperature=1.0), "lam"),
    (dict(logits=[0.0, 1.0], lam=-1.0, temperature=1.0), "lam"),
    (dict(logits=[0.0, 1.0], lam=1.0, temperature=0.0), "temperature"),
    (dict(logits=np.zeros(65), lam=1.0, temperature=1.0), "n_pbits"),
])
def test_onehot_program_bad_input(kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        onehot_program(cfg=HwConfig(), **kwargs)


def test_dense_program_checks():
    cfg = HwConfig(n_pbits=4)
    with pytest.raises(ValueError, match="symmetric"):
        dense_program(np.zeros(2), [[0.0, 1.0], [0.5, 0.0]], cfg)
    with pytest.raises(ValueError, match="zero diagonal"):
        dense_program(np.zeros(2), [[1.0, 0.0], [0.0, 0.0]], cfg)
    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        dense_program(np.zeros(3), np.zeros((2, 2)), cfg)
    with pytest.raises(ValueError, match="n_pbits=4"):
        dense_program(np.zeros(5), np.zeros((5, 5)), cfg)
    with pytest.raises(ValueError, match=r"\[-512, 511\]"):
        DenseProgram(cfg, np.array([600]), np.zeros((1, 1), dtype=int))
    with pytest.raises(ValueError, match="integers"):
        DenseProgram(cfg, np.array([0.5]), np.zeros((1, 1)))


def test_ising_program_quantizes_the_qubo_form():
    cfg = HwConfig(n_pbits=3)
    J = np.array([[0, 0.5, -0.25], [0.5, 0, 0.125], [-0.25, 0.125, 0]])
    h = np.array([0.1, -0.2, 0.3])
    p = ising_program(J, h, cfg)
    Jq, hq, _ = spin_to_qubo(J, h)
    assert np.array_equal(p.J, np.rint(Jq * 16).astype(int))
    assert np.array_equal(p.h, np.rint(hq * 16).astype(int))


@pytest.mark.parametrize("offset", ["max", "min_invalid"])
def test_batch_programs_equal_one_program_per_row(offset):
    from pysampler.contract.program import onehot_programs

    cfg = HwConfig(weight_bits=8, frac_bits=4)
    rng = np.random.default_rng(1)
    logits = rng.normal(0, rng.choice([0.5, 3.0, 20.0], (30, 1)), (30, 9))  # some saturate
    batch = onehot_programs(logits, (2.0, 3.5), cfg, offset=offset)
    assert batch.n_saturated.max() > 0
    for b in range(30):
        p = onehot_program(logits[b], (2.0, 3.5), 1.0, cfg, offset=offset)
        assert np.array_equal(p.h, batch.h[b]) and p.n_saturated == batch.n_saturated[b]
        assert p.bias_offsets == tuple(batch.bias_offsets[b]) and \
            p.couplings == tuple(batch.couplings[b])
    with pytest.raises(SaturationError):
        onehot_programs(logits, 2.0, cfg, strict=True)
    with pytest.raises(ValueError, match="2-D"):
        onehot_programs(logits[0], 2.0, cfg)


def test_batch_programs_take_a_policy_per_row():
    """A shift and a lambda table per row (what ChainPolicy.for_rows chooses) give each row the
    program onehot_program builds with that row's own shift and lambda."""
    from pysampler.contract.program import onehot_programs

    cfg = HwConfig(weight_bits=8, frac_bits=4)
    rng = np.random.default_rng(2)
    logits = rng.normal(0, rng.choice([0.2, 3.0], (16, 1)), (16, 7))
    offsets = rng.choice(["max", "min_invalid"], 16)
    lams = rng.uniform(1.0, 3.0, (16, 2))
    batch = onehot_programs(logits, lams, cfg, offset=offsets)
    for b in range(16):
        p = onehot_program(logits[b], tuple(lams[b]), 1.0, cfg, offset=str(offsets[b]))
        assert np.array_equal(p.h, batch.h[b]) and p.n_saturated == batch.n_saturated[b]
        assert p.couplings == tuple(batch.couplings[b])
        assert p.bias_offsets == tuple(batch.bias_offsets[b])
    with pytest.raises(ValueError, match="one table of 1..8 entries per row"):
        onehot_programs(logits, lams[:3], cfg)
    with pytest.raises(ValueError, match="one per row"):
        onehot_programs(logits, 2.0, cfg, offset=["max"] * 3)
    with pytest.raises(ValueError, match="offset must be one of"):
        onehot_programs(logits, 2.0, cfg, offset=["max"] * 15 + ["mean"])
    with pytest.raises(ValueError, match="lam"):
        onehot_programs(logits, -lams, cfg)


def test_absorbing_check_is_linear_in_the_row():
    """The absorbing-state check looks at two popcounts only, so a full-vocabulary program is
    built without an n x n table; a frozen program is still found."""
    cfg = HwConfig(n_pbits=50_257)
    program = onehot_program(np.random.default_rng(0).normal(0, 2, 50_257), 2.5, 1.0, cfg)
    assert program.n == 50_257 and program.absorbing_tokens == ()
    frozen = onehot_program([40.0, -40.0, -40.0], 40.0, 1.0, HwConfig(n_pbits=3))
    assert frozen.absorbing_tokens == (0,)


def _resolve(writes, core, cfg):
    """Addresses of ``writes`` in ``core``'s map (a KeyError/ValueError for a name or index the
    map lacks)."""
    from pysampler.contract.regmap import CoreMap

    regmap = CoreMap.of(core, cfg)
    return [(regmap.address(ref), value) for ref, value in writes]


def test_register_writes_name_the_cores_registers():
    """Each program kind gives its own writes, every one a register its core has, in order:
    N_ACTIVE, h, then the schedule table (one-hot) or J (dense)."""
    cfg = HwConfig(n_pbits=4)
    onehot = onehot_program([0.5, -1.0, 2.0], (1.0, 2.0, 2.5), 1.0, cfg)
    writes = onehot.register_writes()
    assert writes[:4] == [("N_ACTIVE", 3)] + [(("H", i), int(v)) for i, v in enumerate(onehot.h)]
    assert writes[4] == ("SCHED_LEN", 3)
    assert writes[5:] == [w for t in range(3) for w in ((("SCHED_OFFSET", t), onehot.bias_offsets[t]),
                                                        (("SCHED_COUPLING", t), onehot.couplings[t]))]
    assert len(_resolve(writes, "onehot", cfg)) == len(writes)
    dense = onehot.to_dense()
    full, off_diagonal = dense.register_writes(), dense.register_writes(full_matrix=False)
    assert len(full) == 1 + 3 + 9 and len(off_diagonal) == 1 + 3 + 6
    assert (("J", (0, 1)), int(dense.J[0, 1])) in off_diagonal
    assert (("J", (1, 1)), 0) in full and (("J", (1, 1)), 0) not in off_diagonal
    addresses = [a for a, _ in _resolve(full, "dense", cfg)]
    assert len(set(addresses)) == len(addresses)
    with pytest.raises(KeyError):  # the one-hot core has no J: the writes say which core they fit
        _resolve(full, "onehot", cfg)


def test_programs_give_their_kernel_dense_form_and_schedule():
    cfg = HwConfig(n_pbits=4)
    onehot = onehot_program([0.5, -1.0], (1.0, 2.0), 1.0, cfg)
    dense = onehot.to_dense()
    assert (onehot.kernel, onehot.schedule_length) == ("onehot", 2)
    assert (dense.kernel, dense.schedule_length) == ("dense", 1)
    assert dense.to_dense() is dense
