"""relu_lab.stats: closed-form ReLU moments, measured moments, layer sparsity, the race."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from relu_lab.activations import relu
from relu_lab.data import digits, xor
from relu_lab.models import mlp
from relu_lab.stats import (
    RaceResult,
    ReluMoments,
    empirical_moments,
    layer_sparsity,
    race_to_accuracy,
    relu_gaussian_moments,
)
from relu_lab.training import History


def test_standard_normal_values():
    m = relu_gaussian_moments()
    assert m.zero_fraction == 0.5
    assert m.mean == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-15)
    assert m.second_moment == pytest.approx(0.5, rel=1e-15)
    assert m.variance == pytest.approx(0.5 - 1 / (2 * math.pi), rel=1e-14)


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (1.5, 0.5), (-2.0, 3.0), (0.3, 1e-3), (-4.0, 1.0)])
def test_closed_form_matches_numerical_integration(mu, sigma):
    density = stats.norm(mu, sigma).pdf
    lo, hi = 0.0, max(mu, 0.0) + 12 * sigma
    mean = integrate.quad(lambda z: z * density(z), lo, hi, points=[mu] if mu > 0 else None)[0]
    second = integrate.quad(lambda z: z * z * density(z), lo, hi, points=[mu] if mu > 0 else None)[0]
    m = relu_gaussian_moments(mu, sigma)
    assert m.zero_fraction == pytest.approx(stats.norm(mu, sigma).cdf(0.0), rel=1e-12, abs=1e-300)
    assert m.mean == pytest.approx(mean, rel=1e-7, abs=1e-12)
    assert m.second_moment == pytest.approx(second, rel=1e-7, abs=1e-12)
    assert m.variance == pytest.approx(second - mean**2, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize("mu, sigma", [(0.0, 1.0), (0.5, 2.0), (-1.0, 1.0)])
def test_closed_form_matches_sampling(mu, sigma):
    z = np.random.default_rng(0).normal(mu, sigma, 1_000_000)
    sampled, exact = empirical_moments(relu(z)), relu_gaussian_moments(mu, sigma)
    for got, want in zip(sampled, exact):
        assert got == pytest.approx(want, rel=0.02, abs=2e-3)


def test_zero_fraction_grows_as_the_mean_falls():
    fractions = [relu_gaussian_moments(mu).zero_fraction for mu in np.linspace(3, -3, 13)]
    assert np.all(np.diff(fractions) > 0)
    assert relu_gaussian_moments(-1.0).zero_fraction == pytest.approx(stats.norm.cdf(1.0))


@pytest.mark.parametrize("kwargs, exc, words", [
    ({"std": 0.0}, ValueError, "std must be positive"),
    ({"std": -1.0}, ValueError, "std must be positive"),
    ({"mean": "0"}, TypeError, "mean must be a real number"),
    ({"mean": float("inf")}, ValueError, "mean must be finite"),
    ({"std": float("nan")}, ValueError, "std must be finite"),
])
def test_relu_gaussian_moments_bad_input(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        relu_gaussian_moments(**kwargs)


def test_empirical_moments_of_known_values():
    m = empirical_moments(np.array([[0.0, 2.0], [0.0, 2.0]], dtype=np.float16))
    assert m == ReluMoments(0.5, 1.0, 2.0, 1.0)
    assert empirical_moments(torch.tensor([-0.0, 1.0])).zero_fraction == 0.5
    assert isinstance(empirical_moments([1, 2, 3]).mean, float)


@pytest.mark.parametrize("bad, exc, words", [
    ([], ValueError, "must not be empty"),
    ([1.0, np.nan], ValueError, "must be finite"),
    ([np.inf], ValueError, "must be finite"),
    ("abc", TypeError, "values must be a real number"),
])
def test_empirical_moments_bad_input(bad, exc, words):
    with pytest.raises(exc, match=words):
        empirical_moments(bad)


def test_layer_sparsity_is_about_half_at_he_initialisation():
    net = mlp([64, 256, 256, 10], init="he", seed=0)
    sparsity = layer_sparsity(net, torch.randn(2000, 64, generator=torch.Generator().manual_seed(0)))
    assert list(sparsity) == ["relu1", "relu2"]
    assert all(0.4 < s < 0.6 for s in sparsity.values())


def test_layer_sparsity_bad_input():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        layer_sparsity("net", torch.zeros(1, 2))
    with pytest.raises(ValueError, match="no activation layer"):
        layer_sparsity(torch.nn.Linear(2, 2), torch.zeros(1, 2))


def test_race_is_repeatable_and_shares_everything_but_the_activation():
    first = race_to_accuracy(["relu", "tanh"], xor(), hidden=[8], target=1.0, epochs=15, lr=0.1)
    again = race_to_accuracy(["relu", "tanh"], xor(), hidden=[8], target=1.0, epochs=15, lr=0.1)
    assert list(first) == ["relu", "tanh"]
    for name in first:
        assert first[name].history.accuracy == again[name].history.accuracy
        assert first[name].history.loss == again[name].history.loss
        assert first[name].history.epochs == 15
        assert first[name].seconds > 0


def test_race_result_properties():
    history = History(loss=[2.0, 1.0, 0.5], accuracy=[0.1, 0.9, 0.97])
    r = RaceResult("relu", history, target=0.95, seconds=4.0)
    assert r.epochs_to_target == 2
    assert r.seconds_per_epoch == 2.0
    assert r.seconds_to_target == 4.0
    never = RaceResult("sigmoid", history, target=0.99, seconds=4.0)
    assert never.epochs_to_target is None and never.seconds_to_target is None


def test_race_on_digits_relu_beats_sigmoid():
    data = digits()
    results = race_to_accuracy(["relu", "sigmoid"], data, hidden=[32], target=0.9, epochs=6)
    assert results["relu"].epochs_to_target is not None
    sigmoid_epochs = results["sigmoid"].epochs_to_target
    assert sigmoid_epochs is None or sigmoid_epochs > results["relu"].epochs_to_target


@pytest.mark.parametrize("args, kwargs, exc, words", [
    ("relu", {}, TypeError, "activations must be a sequence"),
    ([], {}, ValueError, "at least one"),
    (["relu", "swish"], {}, ValueError, "'swish' is not one of"),
    (["relu", "relu"], {}, ValueError, "must not repeat"),
    (["relu"], {"target": 0.0}, ValueError, "target must be in"),
    (["relu"], {"target": 1.5}, ValueError, "target must be in"),
    (["relu"], {"epochs": 0}, ValueError, "epochs must be >= 1"),
    (["relu"], {"hidden": 8}, TypeError, "hidden must be a sequence"),
    (["relu"], {"init": "kaiming"}, ValueError, "init must be one of"),
])
def test_race_bad_input(args, kwargs, exc, words):
    with pytest.raises(exc, match=words):
        race_to_accuracy(args, xor(), **kwargs)


def test_race_needs_a_dataset():
    with pytest.raises(TypeError, match="data must be a relu_lab.data.Dataset"):
        race_to_accuracy(["relu"], (torch.zeros(4, 2), torch.zeros(4)))
