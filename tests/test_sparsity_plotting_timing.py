"""relu_lab.sparsity, plotting and timing."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from relu_lab.activations import relu, relu_derivative
from relu_lab.models import mlp
from relu_lab.plotting import (ACTIVATION_COLORS, COLORS, plot_paired_race,
                               plot_with_derivative, use_style)
from relu_lab.sparsity import capture_activations, dead_fraction, dead_units, zero_fraction
from relu_lab.timing import Timing, time_call


def test_zero_fraction_counts_exact_zeros():
    assert zero_fraction([0.0, -0.0, 1e-300, np.nan]) == 0.5
    assert zero_fraction(np.zeros((3, 3), dtype=np.float16)) == 1.0
    assert zero_fraction(torch.tensor([[0, 1], [2, 0]])) == 0.5
    assert zero_fraction([1, 2, 3]) == 0.0


def test_relu_of_symmetric_input_is_half_zero():
    x = np.random.default_rng(0).standard_normal(200_000)
    assert zero_fraction(relu(x)) == pytest.approx(0.5, abs=0.005)


@pytest.mark.parametrize("bad, exc, words", [
    ([], ValueError, "must not be empty"),
    (torch.zeros(0), ValueError, "must not be empty"),
    ("abc", TypeError, "x must be a real number"),
    (torch.tensor([True]), TypeError, "real numbers"),
])
def test_zero_fraction_bad_input(bad, exc, words):
    with pytest.raises(exc, match=words):
        zero_fraction(bad)


def test_capture_removes_hooks_even_on_error():
    net = mlp([3, 4, 2])
    capture_activations(net, torch.randn(2, 3))
    assert all(not m._forward_hooks for m in net.modules())
    with pytest.raises(RuntimeError):
        capture_activations(net, torch.randn(2, 5))  # wrong width: the forward pass fails
    assert all(not m._forward_hooks for m in net.modules())


def test_capture_works_in_nested_modules():
    net = nn.Sequential(nn.Sequential(nn.Linear(2, 3), nn.ReLU()), nn.Linear(3, 1), nn.Sigmoid())
    acts = capture_activations(net, torch.randn(4, 2))
    assert list(acts) == ["0.1", "2"]


def test_dead_units_and_fraction():
    net = mlp([2, 4, 2])
    with torch.no_grad():
        net.linear1.bias[:2] = -100.0  # units 0 and 1 never fire
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(0))
    assert dead_units(net, x)["relu1"].tolist() == [True, True, False, False]
    assert dead_fraction(net, x) == 0.5


def test_leaky_units_are_never_dead():
    net = mlp([2, 4, 2], activation="leaky_relu", bias=-100.0)
    assert dead_fraction(net, torch.randn(10, 2)) == 0.0


@pytest.mark.parametrize("call, exc, words", [
    (lambda: capture_activations(nn.Linear(2, 2), torch.zeros(1, 2)), ValueError, "no activation layer"),
    (lambda: dead_units("model", torch.zeros(1, 2)), TypeError, "model must be a torch.nn.Module"),
    (lambda: dead_fraction(mlp([2, 3, 1]), np.zeros((1, 2))), TypeError, "inputs must be a torch.Tensor"),
    (lambda: dead_fraction(mlp([2, 3, 1]), torch.zeros(0, 2)), ValueError, "at least one example"),
])
def test_sparsity_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()


def test_plot_with_derivative_draws_both_panels():
    use_style()
    fig, (ax_f, ax_df) = plot_with_derivative(relu, relu_derivative, name="ReLU")
    x, y = ax_df.lines[0].get_data()
    gap = np.isnan(x)
    assert gap.sum() == 1 and x[np.flatnonzero(gap)[0] - 1] <= 0 < x[np.flatnonzero(gap)[0] + 1]
    np.testing.assert_array_equal(y[~gap], relu_derivative(x[~gap]))  # broken at the jump only
    assert ax_f.get_lines()[0].get_color() == COLORS["blue"]
    assert ax_f.get_xlabel() and ax_f.get_ylabel() and ax_df.get_title() == "ReLU'(x)"
    plt.close(fig)


@pytest.mark.parametrize("kwargs, exc", [
    (dict(f=1, df=relu_derivative), TypeError),
    (dict(f=relu, df=relu_derivative, x=[1.0]), ValueError),
    (dict(f=relu, df=relu_derivative, name=3), TypeError),
])
def test_plot_bad_input(kwargs, exc):
    with pytest.raises(exc):
        plot_with_derivative(**kwargs)


def test_plot_paired_race_draws_medians_and_one_dot_per_seed():
    use_style()
    curves = {"relu": [[0.5, 0.9], [0.7, 0.9], [0.6, 1.0]],
              "silu": np.full((3, 2), 0.8), "sigmoid": np.full((3, 2), 0.3)}
    gaps = {"silu": [0.01, -0.02, 0.03], "sigmoid": [-0.3, -0.25, -0.4]}
    fig, (ax_c, ax_d) = plot_paired_race(curves, gaps)
    lines = ax_c.get_lines()
    assert [line.get_label() for line in lines] == ["relu", "silu", "sigmoid"]
    np.testing.assert_allclose(lines[0].get_ydata(), [60, 90])  # median of the seeds
    assert lines[0].get_color() == ACTIVATION_COLORS["relu"]
    assert lines[1].get_path_effects() and not lines[0].get_path_effects()  # yellow: edged
    assert lines[2].get_linewidth() < lines[1].get_linewidth()  # the thin sigmoid
    silu, sigmoid = [line for line in ax_d.get_lines() if line.get_marker() in ("o", "<")]
    np.testing.assert_allclose(silu.get_xdata(), [1, -2, 3])  # points, one dot per seed
    np.testing.assert_allclose(silu.get_ydata(), [-0.2, 0, 0.2])  # row 0, jittered
    assert sigmoid.get_marker() == "<" and (sigmoid.get_xdata() > -10).all()  # clipped
    assert [t.get_text() for t in ax_d.get_yticklabels()] == ["silu", "sigmoid"]
    assert "ReLU's" in ax_d.get_xlabel() and ax_d.texts[0].get_text().startswith("all 3")
    plt.close(fig)


@pytest.mark.parametrize("args, kwargs, exc", [
    (([[0.5]], {}), {}, TypeError),
    (({"relu": [[0.5]], "elu": [[0.6]]}, {}), {}, ValueError),   # no gaps for elu
    (({"relu": [[0.5]]}, {}), {"clip": 5}, ValueError),
])
def test_plot_paired_race_bad_input(args, kwargs, exc):
    with pytest.raises(exc):
        plot_paired_race(*args, **kwargs)


def test_time_call_reports_median_and_spread():
    t = time_call(lambda: sum(range(1000)), repeats=7, warmup=1, number=3)
    assert isinstance(t, Timing) and t.repeats == 7
    assert t.q1 <= t.median <= t.q3 and t.spread >= 0
    assert "ms" in str(t)
    with pytest.raises(TypeError, match="fn must be callable"):
        time_call(3)
    with pytest.raises(ValueError, match="repeats must be >= 1"):
        time_call(print, repeats=0)


def test_capture_activations_can_record_the_inputs_of_each_layer():
    net = mlp([2, 4, 4, 1], seed=0)
    x = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    pre = capture_activations(net, x, of="input")
    post = capture_activations(net, x)
    assert list(pre) == list(post) == ["relu1", "relu2"]
    for name in pre:
        assert torch.equal(torch.relu(pre[name]), post[name])
    with torch.no_grad():
        assert torch.equal(pre["relu1"], net.linear1(x))
    with pytest.raises(ValueError, match="of must be 'output' or 'input'"):
        capture_activations(net, x, of="pre")
