"""The digits classifier with p-bit layers and the uncertainty figures: ECE, entropy and the
reliability bins against hand-computed values; a short training that learns; the emulated twin
shares the weights; MC dropout; bad input."""

import numpy as np
import pytest
import torch

from pysampler.nn import use_backend
from pysampler.nn.classifier import (load_digits_split, make_mlp, predict_passes,
                                     train_classifier)
from pysampler.nn.uncertainty import (ensemble_summary, expected_calibration_error,
                                      predictive_entropy, reliability_bins)

pytestmark = pytest.mark.nn


def test_calibration_figures_by_hand():
    probs = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.45, 0.55]])
    labels = np.array([0, 1, 1, 0])
    # bins of width 0.25: (0.5, 0.75] holds 0.55 (wrong), 0.7 (right); (0.75, 1] 0.9 (right),
    # 0.8 (wrong)
    bins = reliability_bins(probs, labels, 4)
    assert np.array_equal(bins["count"], [0, 0, 2, 2])
    assert np.allclose(bins["accuracy"][2:], [0.5, 0.5])
    assert np.allclose(bins["confidence"][2:], [0.625, 0.85])
    assert expected_calibration_error(probs, labels, 4) == pytest.approx(
        (2 * 0.125 + 2 * 0.35) / 4)
    assert predictive_entropy(np.array([[0.5, 0.5]]))[0] == pytest.approx(np.log(2))
    summary = ensemble_summary(np.stack([probs, probs[:, ::-1]]), labels)
    assert summary["accuracy"] == 0.5 and summary["single_pass_accuracy"] == 0.5
    assert summary["entropy"] == pytest.approx(np.log(2))


def test_pbit_classifier_learns_and_its_emulated_twin_shares_the_weights():
    split = load_digits_split(seed=0)
    assert split.x_train.shape == (1258, 64) and split.x_test.shape == (539, 64)
    assert 0 <= split.x_train.min() and split.x_train.max() <= 1
    model = make_mlp((32,), "pbit", num_samples=4, seed=1)
    losses = train_classifier(model, split, epochs=4, lr=0.02, seed=1)
    assert losses[-1] < losses[0] / 2
    labels = split.y_test.numpy()
    float_fig = ensemble_summary(predict_passes(model, split.x_test, 4), labels)
    assert float_fig["accuracy"] > 0.85                      # chance is 0.1
    weights = model[0].weight.detach().clone()
    assert use_backend(model, "emulated") == 1
    emulated = ensemble_summary(predict_passes(model, split.x_test, 4), labels)
    assert torch.equal(model[0].weight, weights)
    assert emulated["accuracy"] > float_fig["accuracy"] - 0.05


def test_mc_dropout_varies_only_when_asked():
    split = load_digits_split(seed=0)
    model = make_mlp((16,), "sigmoid", dropout=0.3, seed=2)
    x = split.x_test[:20]
    plain = predict_passes(model, x, 2)
    assert np.array_equal(plain[0], plain[1])
    mc = predict_passes(model, x, 2, mc_dropout=True)
    assert not np.array_equal(mc[0], mc[1])
    assert not model[2].training                     # back in evaluation mode after


@pytest.mark.parametrize("call, error, message", [
    (lambda: make_mlp(activation="relu"), ValueError, "activation"),
    (lambda: make_mlp((0,)), ValueError, "hidden size"),
    (lambda: load_digits_split(1.0), ValueError, "test_fraction"),
    (lambda: predict_passes(make_mlp((4,)), torch.zeros(1, 64), 0), ValueError, "passes"),
    (lambda: predict_passes(make_mlp((4,)), torch.zeros(1, 63), 1), RuntimeError, "shapes"),
    (lambda: expected_calibration_error(np.array([[0.5, 0.6]]), np.array([0])), ValueError,
     "summing to 1"),
    (lambda: expected_calibration_error(np.array([[0.5, 0.5]]), np.array([2])), ValueError,
     "labels"),
    (lambda: reliability_bins(np.array([[0.5, 0.5]]), np.array([0]), 0), ValueError, "n_bins"),
])
def test_bad_input_is_refused_by_name(call, error, message):
    with pytest.raises(error, match=message):
        call()
