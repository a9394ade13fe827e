"""The TSU backends: one protocol, the stated conventions (shapes, spins vs bits, seeds), each
backend's law (float: Boltzmann / sigmoid; emulated: its own exact LUT law), and bad input."""

import numpy as np
import pytest

from pysampler.analysis.metrics import empirical_distribution, total_variation, tv_noise_floor
from pysampler.contract.config import HwConfig
from pysampler.contract.graph import graph_program
from pysampler.contract.lut import lut_probability
from pysampler.contract.program import SaturationError
from pysampler.engines.chromatic import (ChromaticFloat, ChromaticModel, boltzmann_law,
                                         edgeless_sweep, exact_sweep_law)
from pysampler.engines.reference import ising_energy, state_codes
from pysampler.tsu import EmulatedBackend, FloatBackend, SampleResult, TSUBackend, get_backend

RNG = np.random.default_rng(0)
N = 6
_upper = np.triu(RNG.normal(0, 0.5, (N, N)) * (RNG.random((N, N)) < 0.5), 1)
J, H = _upper + _upper.T, RNG.normal(0, 0.3, N)


def test_both_backends_speak_the_protocol():
    for backend in (FloatBackend(), EmulatedBackend(), get_backend("emulated", HwConfig())):
        assert isinstance(backend, TSUBackend)
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend("nosuch")   # ("rtl" is registered by sim.tsu_rtl, tests/sim/test_tsu_rtl.py)


@pytest.mark.parametrize("name", ["float", "emulated"])
def test_binary_layer_shapes_seeds_and_law(name):
    backend = get_backend(name)
    logits = np.linspace(-3, 3, 24).reshape(2, 3, 4)
    count = 4000
    out = backend.sample_binary_layer(logits, 0.7, count, seed=3)
    assert isinstance(out, SampleResult) and not out.spins
    assert out.samples.shape == (count, 2, 3, 4) and out.samples.dtype == np.int8
    assert set(np.unique(out.samples)) <= {0, 1} and out.energies.shape == (count, 2, 3)
    again = backend.sample_binary_layer(logits, 0.7, count, seed=3)
    assert np.array_equal(again.samples, out.samples)
    assert not np.array_equal(backend.sample_binary_layer(logits, 0.7, count, seed=4).samples,
                              out.samples)
    if name == "float":
        p = 1 / (1 + np.exp(-0.7 * logits))
    else:   # the LUT at the quantized field: the emulated law, exactly
        cfg = backend.cfg
        p = lut_probability(out.info["program"].h.reshape(logits.shape), cfg)
        assert np.abs(p - 1 / (1 + np.exp(-0.7 * logits))).max() < 0.01
    assert np.array_equal(backend.binary_layer_law(logits, 0.7), p)
    freq = out.samples.mean(axis=0)
    assert np.all(np.abs(freq - p) <= 5 * np.sqrt(p * (1 - p) / count) + 1e-12)


@pytest.mark.parametrize("cfg", [HwConfig(), HwConfig(rng="xorshift", rng_bits=64),
                                 HwConfig(weight_bits=6, frac_bits=2, lut_shift=1, beta=0.5)],
                         ids=["default", "xorshift64", "narrow"])
def test_binary_layer_is_the_chromatic_engines_bit_for_bit(cfg):
    """The vectorised edgeless sweep equals one sweep of the chromatic engines on the same
    program and seed (bits and, float, the same PCG64 uniforms); its law is the LUT's."""
    logits = RNG.normal(0, 3, (3, 5))
    for backend, engine in ((EmulatedBackend(cfg), ChromaticModel), (FloatBackend(cfg), ChromaticFloat)):
        out = backend.sample_binary_layer(logits, 1.3, 40, seed=11)
        program = out.info["program"]
        chains = engine(program, 40, seed=11)
        chains.run(1)
        assert np.array_equal(out.samples.reshape(40, -1), chains.y)
    law = EmulatedBackend(cfg).binary_layer_law(logits, 1.3)
    assert np.array_equal(law, lut_probability(program.h, cfg).reshape(logits.shape))
    with pytest.raises(ValueError, match="edgeless"):
        edgeless_sweep(graph_program(J, H, cfg), 2)


def test_float_ising_samples_boltzmann_with_spin_energies():
    chains = 20000
    out = FloatBackend().sample_ising(J, H, 0.9, 30, chains, seed=1)
    assert out.spins and out.samples.shape == (chains, N)
    assert set(np.unique(out.samples)) == {-1, 1}
    assert np.allclose(out.energies, ising_energy(out.samples, J, H))
    program = out.info["program"]
    exact = boltzmann_law(program, 0.9)
    tv = total_variation(empirical_distribution(state_codes((out.samples + 1) // 2), 2 ** N),
                         exact)
    assert tv < 3 * tv_noise_floor(exact, chains)


def test_emulated_ising_samples_its_exact_law_and_is_the_engine():
    chains = 20000
    backend = EmulatedBackend(HwConfig())
    out = backend.sample_ising(J, H, 0.9, 30, chains, seed=2)
    program = out.info["program"]
    exact = exact_sweep_law(program)
    tv = total_variation(empirical_distribution(state_codes((out.samples + 1) // 2), 2 ** N),
                         exact)
    assert tv < 3 * tv_noise_floor(exact, chains)
    model = ChromaticModel(program, 50, seed=2)
    model.run(30)
    assert np.array_equal(program.spins_of(model.y), backend.sample_custom(program, 30, 50,
                                                                           seed=2).samples)
    assert out.betas == (0.9,) and out.n_saturated == 0


def test_custom_program_in_bits_and_init_state():
    program = graph_program(J, H, HwConfig(), spins=False, clamp={0: 1})
    init = np.ones(N, dtype=int)
    out = EmulatedBackend().sample_custom(program, 1, 8, init_state=init, seed=0)
    assert not out.spins and set(np.unique(out.samples)) <= {0, 1}
    assert (out.samples[:, 0] == 1).all()
    assert np.allclose(out.energies, program.energy(out.samples))


def test_annealing_schedule_is_realised_and_reported():
    out = EmulatedBackend().sample_ising(J, H, (0.1, 0.5, 2.0), 12, 4, seed=0, beta_hold=4)
    assert len(out.betas) == 3 and out.betas[-1] == 2.0
    assert np.allclose(np.array(out.betas) / (0.1, 0.5, 2.0), 1, atol=2.0 ** -4)


@pytest.mark.parametrize("call,error,message", [
    (lambda b: b.sample_binary_layer([0.0, np.nan], 1.0, 2), ValueError, "NaN or inf"),
    (lambda b: b.sample_binary_layer([0.0, 1.0], 0.0, 2), ValueError, "beta must be"),
    (lambda b: b.sample_binary_layer([0.0, 1.0], float("nan"), 2), ValueError, "beta must be"),
    (lambda b: b.sample_binary_layer(np.zeros((2, 0)), 1.0, 2), ValueError, "n >= 1"),
    (lambda b: b.sample_binary_layer([0.0], 1.0, 0), ValueError, "num_samples"),
    (lambda b: b.sample_binary_layer(np.zeros(1 << 12), 1.0, 1 << 13), ValueError, "per call"),
    (lambda b: b.binary_layer_law([np.nan], 1.0), ValueError, "NaN"),
    (lambda b: b.binary_layer_law([1.0], 0.0), ValueError, "beta must be"),
    (lambda b: b.sample_ising(J, H, -1.0, 1, 1), ValueError, "beta must be"),
    (lambda b: b.sample_ising(J, H, 1.0, 0, 1), ValueError, "num_steps"),
    (lambda b: b.sample_ising(J, H, 1.0, 1, 0), ValueError, "batch_size"),
    (lambda b: b.sample_ising(J, H, 1.0, 1, 2, init_state=np.zeros(N)), ValueError, r"\(-1, 1\)"),
    (lambda b: b.sample_ising(J, H, 1.0, 1, 2, init_state=np.ones(N + 1)), ValueError, "shape"),
    (lambda b: b.sample_ising(J, H, 1.0, 1, 1, seed=-1), ValueError, "seed"),
    (lambda b: b.sample_ising(J.T + np.eye(N), H, 1.0, 1, 1), ValueError, "self-coupling"),
    (lambda b: b.sample_custom(np.zeros(3), 1, 1), TypeError, "graph program"),
])
@pytest.mark.parametrize("backend", [FloatBackend(), EmulatedBackend()], ids=["float", "emulated"])
def test_bad_input_is_refused_by_name(backend, call, error, message):
    with pytest.raises(error, match=message):
        call(backend)


def test_emulated_saturation_is_reported_or_raised():
    big = 40.0 * J
    assert EmulatedBackend().sample_ising(big, H, 1.0, 1, 2).n_saturated > 0
    with pytest.raises(SaturationError):
        EmulatedBackend(strict=True).sample_ising(big, H, 1.0, 1, 2)
    assert EmulatedBackend(fit="scale", strict=True).sample_ising(big, H, 1.0, 1, 2).betas[0] < 1


def test_backend_options_and_sizes_are_bounded():
    from pysampler.tsu.backends import MAX_BATCH_UNITS, MAX_STEPS

    with pytest.raises(ValueError, match="fit must be one of"):
        EmulatedBackend(fit="clip")
    with pytest.raises(TypeError, match="strict must be a bool"):
        EmulatedBackend(strict="yes")
    with pytest.raises(ValueError, match="colouring must be one of"):
        FloatBackend(colouring="rainbow")
    with pytest.raises(TypeError, match="cfg must be an HwConfig"):
        EmulatedBackend({"weight_bits": 10})
    with pytest.raises(TypeError, match="unexpected keyword"):
        get_backend("float", strict=True)
    for backend in (FloatBackend(), EmulatedBackend()):
        with pytest.raises(ValueError, match=r"batch_size must be an int in \[1, "):
            backend.sample_ising(J, H, 1.0, 1, MAX_BATCH_UNITS // N + 1)
        with pytest.raises(ValueError, match=r"num_steps must be an int in \[1, "):
            backend.sample_ising(J, H, 1.0, MAX_STEPS + 1, 1)
        with pytest.raises(ValueError, match="colouring is not proper"):
            type(backend)(colouring=np.zeros(N, dtype=np.int64)).sample_ising(J, H, 1.0, 1, 1)
