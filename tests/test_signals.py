"""relu_lab.signals: weight standard deviations, the variance recursion, measured spreads."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from relu_lab.models import mlp
from relu_lab.signals import layer_stds, predicted_stds, weight_std


# ------------------------------------------------------------------ weight_std

@pytest.mark.parametrize("fan_in, fan_out", [(1, 1), (64, 10), (300, 700)])
def test_weight_std_formulas(fan_in, fan_out):
    assert weight_std("he", fan_in, fan_out) == pytest.approx(math.sqrt(2 / fan_in))
    assert weight_std("xavier", fan_in, fan_out) == pytest.approx(math.sqrt(2 / (fan_in + fan_out)))
    assert weight_std("default", fan_in, fan_out) == pytest.approx(1 / math.sqrt(3 * fan_in))
    assert weight_std(0.05, fan_in, fan_out) == 0.05


@pytest.mark.parametrize("init", ["he", "xavier", "default", 0.03])
def test_weight_std_matches_the_weights_mlp_draws(init):
    net = mlp([400, 600, 10], "relu", init, seed=1)
    drawn = float(net.linear1.weight.detach().double().std())
    assert drawn == pytest.approx(weight_std(init, 400, 600), rel=0.02)


@pytest.mark.parametrize("init, error", [("kaiming", ValueError), (-0.1, ValueError), (0.0, ValueError),
                                         (float("nan"), ValueError), (None, TypeError), (True, TypeError)])
def test_weight_std_rejects_bad_init(init, error):
    with pytest.raises(error, match="init"):
        weight_std(init, 4, 4)


@pytest.mark.parametrize("name, kwargs", [("fan_in", dict(fan_in=0, fan_out=3)), ("fan_out", dict(fan_in=3, fan_out=-1))])
def test_weight_std_rejects_bad_fans(name, kwargs):
    with pytest.raises(ValueError, match=name):
        weight_std("he", **kwargs)
    with pytest.raises(TypeError, match="fan_in"):
        weight_std("he", 2.5, 3)


# ------------------------------------------------------------------ predicted_stds

def test_he_keeps_the_predicted_std_constant_after_the_first_layer():
    stds = predicted_stds([64] + [128] * 30 + [10], "he", input_second_moment=0.25)
    assert stds.shape == (31,)
    # first layer: 64 * (2/64) * 0.25 = 0.5; then 128 * (2/128) * 0.5 / 2 = 0.5 forever
    np.testing.assert_allclose(stds, math.sqrt(0.5), rtol=1e-12)


def test_xavier_on_equal_widths_halves_the_variance_per_layer():
    stds = predicted_stds([50] * 11, "xavier", input_second_moment=1.0)
    np.testing.assert_allclose(stds[1:] / stds[:-1], math.sqrt(0.5), rtol=1e-12)


def test_fixed_std_follows_the_closed_form():
    n, std, depth = 64, 0.05, 20
    stds = predicted_stds([n] * (depth + 1), std, input_second_moment=2.0)
    gain = n * std**2 / 2
    expected = np.sqrt(n * std**2 * 2.0 * gain ** np.arange(depth))
    np.testing.assert_allclose(stds, expected, rtol=1e-12)


def test_negative_slope_one_is_a_linear_network():
    # no halving: with variance 1/fan_in per weight, the variance stays that of the input
    stds = predicted_stds([30] * 6, 1 / math.sqrt(30), input_second_moment=4.0, negative_slope=1.0)
    np.testing.assert_allclose(stds, 2.0, rtol=1e-12)


def test_leaky_relu_keeps_a_little_more_than_half():
    relu = predicted_stds([10] * 4, "he", input_second_moment=1.0)
    leaky = predicted_stds([10] * 4, "he", input_second_moment=1.0, negative_slope=0.01)
    np.testing.assert_allclose(leaky[-1] / relu[-1], (1 + 0.01**2), rtol=1e-12)


def test_zero_input_predicts_zero():
    assert np.all(predicted_stds([3, 3, 3], "he", input_second_moment=0.0) == 0)


def test_prediction_matches_a_monte_carlo_estimate_of_the_expectation():
    """Averaged over many networks, the measured variance is the predicted one."""
    sizes = [16, 64, 64, 64]
    x = torch.randn(256, 16, generator=torch.Generator().manual_seed(0))
    variances = np.mean([layer_stds(mlp(sizes, "relu", 0.2, seed=s), x) ** 2 for s in range(40)], axis=0)
    predicted = predicted_stds(sizes, 0.2, input_second_moment=float((x**2).mean()))
    np.testing.assert_allclose(np.sqrt(variances), predicted, rtol=0.1)


@pytest.mark.parametrize("kwargs, error, word", [
    (dict(sizes=[4]), ValueError, "sizes"),
    (dict(sizes="64,10"), TypeError, "sizes"),
    (dict(sizes=[4, 0]), ValueError, "sizes"),
    (dict(sizes=[4, 2.5]), TypeError, "sizes"),
    (dict(init="default"), ValueError, "default"),
    (dict(init="glorot"), ValueError, "init"),
    (dict(input_second_moment=-1.0), ValueError, "input_second_moment"),
    (dict(input_second_moment="1"), TypeError, "input_second_moment"),
    (dict(input_second_moment=float("inf")), ValueError, "input_second_moment"),
    (dict(negative_slope=None), TypeError, "negative_slope"),
])
def test_predicted_stds_validates(kwargs, error, word):
    args = dict(sizes=[4, 4, 2], init="he", input_second_moment=1.0) | kwargs
    with pytest.raises(error, match=word):
        predicted_stds(args.pop("sizes"), args.pop("init"), **args)


def test_predicted_stds_needs_the_moment_by_keyword():
    with pytest.raises(TypeError):
        predicted_stds([4, 4], "he", 1.0)  # type: ignore[misc]


# ------------------------------------------------------------------ layer_stds

def test_layer_stds_is_the_population_std_of_each_linear_output():
    net = mlp([5, 7, 3], "tanh", "xavier", seed=2)
    x = torch.randn(11, 5, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        h1 = net.linear1(x)
        out = net(x)
    expected = [np.std(h1.double().numpy()), np.std(out.double().numpy())]
    np.testing.assert_allclose(layer_stds(net, x), expected, rtol=1e-6)


def test_layer_stds_can_measure_activation_layers():
    net = mlp([5, 7, 7, 3], "relu", "he", seed=0)
    x = torch.randn(20, 5, generator=torch.Generator().manual_seed(0))
    assert layer_stds(net, x, layer_types=(nn.ReLU,)).shape == (2,)


def test_layer_stds_measures_signals_below_float32_range_squared():
    # every layer shrinks the std by about 0.07; after 20 layers it is near 1e-23,
    # whose square (1e-46) does not exist in float32
    net = mlp([64] * 21, "relu", 0.01, seed=0)
    stds = layer_stds(net, torch.rand(200, 64, generator=torch.Generator().manual_seed(0)))
    assert np.all(stds > 0) and stds[-1] < 1e-20
    ratios = stds[1:] / stds[:-1]
    assert np.all((ratios > 0.03) & (ratios < 0.15))


def test_layer_stds_validates():
    with pytest.raises(TypeError, match="model"):
        layer_stds("net", torch.zeros(2, 3))
    with pytest.raises(TypeError, match="inputs"):
        layer_stds(mlp([3, 2]), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="no activation layer"):
        layer_stds(mlp([3, 2]), torch.zeros(2, 3), layer_types=(nn.ReLU,))
