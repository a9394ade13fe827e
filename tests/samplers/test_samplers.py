import numpy as np
import pytest
import torch

from pysampler import GibbsSampler, HardwareSampler, HwConfig, SoftmaxSampler
from pysampler.contract.program import SaturationError
from pysampler.contract.rng import derive_state

LOGITS = np.array([2.0, 1.0, 0.5, -1.0, -3.0, 0.0, 1.5, -0.5])


def _samplers(seed=0):
    return [SoftmaxSampler(seed=seed), GibbsSampler(lam=3.0, sweeps=20, seed=seed),
            HardwareSampler(HwConfig(), lam=3.0, sweeps=20, seed=seed)]


@pytest.mark.parametrize("index", range(3))
def test_same_seed_same_tokens(index):
    s1, s2 = _samplers(7)[index], _samplers(7)[index]
    a = [s1.sample(LOGITS, top_k=6) for _ in range(50)]
    b = [s2.sample(LOGITS, top_k=6) for _ in range(50)]
    assert a == b
    assert len(set(a)) > 1  # it does sample, not return a constant


@pytest.mark.parametrize("index", range(3))
def test_torch_and_numpy_inputs_and_batch(index):
    s = _samplers()[index]
    tok = s.sample(torch.tensor(LOGITS, dtype=torch.float32), temperature=0.8, top_p=0.9)
    assert isinstance(tok, int) and 0 <= tok < LOGITS.size
    batch = s.sample_batch(torch.tensor(np.stack([LOGITS, -LOGITS])), top_k=4)
    assert isinstance(batch, torch.Tensor) and batch.shape == (2,) and batch.dtype == torch.int64
    nb = s.sample_batch(np.stack([LOGITS, LOGITS, LOGITS]), min_p=0.1)
    assert isinstance(nb, np.ndarray) and nb.shape == (3,)


@pytest.mark.parametrize("index", range(3))
def test_top_k_one_is_greedy(index):
    s = _samplers()[index]
    assert all(s.sample(LOGITS, top_k=1) == 0 for _ in range(5))


def test_fallback_counting_and_reset():
    """A weak penalty makes many read-outs invalid; the counters obey the restart policy and the
    fallback rate agrees with the exact evaluator (4 binomial standard deviations)."""
    from pysampler.analysis.exact import exact_token_distribution

    s = GibbsSampler(lam=0.3, sweeps=2, max_resample=2, seed=1)
    exact = exact_token_distribution(s, LOGITS)
    assert exact.fallback > 0.05
    n = 2000
    tokens = [s.sample(LOGITS) for _ in range(n)]
    st = s.stats
    assert st.tokens == n and st.attempts == st.tokens + st.invalid_attempts - st.fallbacks
    assert st.attempts <= 3 * n and st.fallbacks <= st.invalid_attempts
    assert abs(s.get_invalid_rate() - exact.fallback) < 4 * np.sqrt(exact.fallback / n)
    assert s.get_attempt_invalid_rate() == st.invalid_attempts / st.attempts
    assert tokens.count(0) >= st.fallbacks  # every fallback emits the argmax, token 0
    s.reset_stats()
    assert s.get_invalid_rate() == 0.0 and s.stats.attempts == 0


def test_hardware_lanes_continue_their_generators():
    s = HardwareSampler(lam=3.0, sweeps=5, seed=3)
    s.sample(LOGITS)
    first = s._lanes.get(s.seed, 0)
    assert first != derive_state(3, 0, s.cfg)  # the generator ran
    s.sample(LOGITS)
    assert s._lanes.get(s.seed, 0) != first


def test_hardware_sampler_saturation_reporting():
    logits = np.array([0.0, -100.0])
    s = HardwareSampler(lam=2.0, sweeps=5)
    s.sample(logits)
    assert s.stats.saturated_tokens == 1
    with pytest.raises(SaturationError):
        HardwareSampler(lam=2.0, sweeps=5, strict=True).sample(logits)


@pytest.mark.parametrize("make,needle", [
    (lambda: GibbsSampler(lam=0.0), "lam"), (lambda: GibbsSampler(lam=-1.0), "lam"),
    (lambda: GibbsSampler(lam=float("nan")), "lam"), (lambda: GibbsSampler(sweeps=0), "sweeps"),
    (lambda: GibbsSampler(burn_in=-1), "burn_in"), (lambda: GibbsSampler(max_resample=-1), "max_resample"),
    (lambda: GibbsSampler(init="ones"), "init"), (lambda: GibbsSampler(scan="x"), "scan"),
    (lambda: HardwareSampler(lam=0.0), "lam"), (lambda: SoftmaxSampler(seed=-1), "seed"),
    (lambda: HardwareSampler("default"), "HwConfig"),
])
def test_constructor_errors(make, needle):
    with pytest.raises((ValueError, TypeError), match=needle):
        make()


@pytest.mark.parametrize("index", range(3))
@pytest.mark.parametrize("kwargs,needle", [
    (dict(logits=np.array([0.0, np.nan])), "NaN"), (dict(logits=np.array([0.0, np.inf])), "inf"),
    (dict(logits=np.array([])), "empty"), (dict(logits=LOGITS, top_k=0), "top_k"),
    (dict(logits=LOGITS, top_p=0.0), "top_p"), (dict(logits=LOGITS, top_p=1.1), "top_p"),
    (dict(logits=LOGITS, min_p=1.0), "min_p"), (dict(logits=LOGITS, temperature=0.0), "temperature"),
    (dict(logits=np.zeros((2, 3))), "1-D"),
])
def test_sample_errors(index, kwargs, needle):
    with pytest.raises(ValueError, match=needle):
        _samplers()[index].sample(**kwargs)


def test_batch_shape_error_and_hardware_capacity():
    with pytest.raises(ValueError, match="2-D"):
        SoftmaxSampler().sample_batch(LOGITS)
    with pytest.raises(ValueError, match="top_k <= 64"):
        HardwareSampler().sample(np.zeros(100))
