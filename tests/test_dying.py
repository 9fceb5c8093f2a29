"""relu_lab.dying: born-dead sampling, inactive units, PReLU slopes, train_recording."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from relu_lab.data import digits, train_test_split, xor
from relu_lab.dying import (born_dead_probability, dead_fraction_by_step, inactive_fraction, inactive_units,
                            mean_derivatives, prelu_slopes, train_recording)
from relu_lab.models import mlp
from relu_lab.sparsity import capture_activations, dead_fraction, dead_units
from relu_lab.training import train

# ------------------------------------------------------------ born dead


def test_born_dead_shape_monotone_and_seeded():
    p = born_dead_probability(3, 25, n_networks=300, seed=1)
    assert p.shape == (25,)
    assert np.all(np.diff(p) >= 0)
    assert np.all((0 <= p) & (p <= 1))
    assert np.array_equal(p, born_dead_probability(3, 25, n_networks=300, seed=1))
    assert not np.array_equal(p, born_dead_probability(3, 25, n_networks=300, seed=2))


def test_one_hidden_layer_without_bias_is_never_born_dead_in_one_dimension():
    # w * x is positive at x = 1 or at x = -1 for every w != 0
    assert born_dead_probability(1, 1, n_networks=2000)[0] == 0.0


def test_zero_bias_one_dimension_end_points_decide():
    # Zero biases make the network positively homogeneous, so x = -1 and x = 1 decide.
    p2 = born_dead_probability(3, 20, n_networks=400, n_points=2)
    p64 = born_dead_probability(3, 20, n_networks=400, n_points=64)
    assert np.array_equal(p2, p64)


def test_grows_with_depth_and_shrinks_with_width():
    narrow = born_dead_probability(2, 40, n_networks=1000)
    wide = born_dead_probability(6, 40, n_networks=1000)
    assert narrow[-1] > 0.95
    assert narrow[4] < narrow[-1]
    assert wide[-1] < narrow[-1] - 0.3


def test_agrees_with_networks_built_by_mlp():
    # Independent check: He-initialised mlp networks, output constant on the grid.
    width, depth, n = 2, 6, 400
    x = torch.linspace(-1, 1, 64).reshape(-1, 1)
    born_dead = 0
    for seed in range(n):
        with torch.no_grad():
            out = mlp([1] + [width] * depth + [1], seed=seed)(x)
        born_dead += bool(out.max() == out.min())
    estimate = born_dead_probability(width, depth, n_networks=4000)[-1]
    assert abs(born_dead / n - estimate) < 0.08  # about 3.5 standard errors


def test_bias_and_higher_dimensions_run():
    p = born_dead_probability(2, 10, n_networks=200, bias_std=0.1, input_dim=3, n_points=50)
    assert p.shape == (10,) and np.all(np.diff(p) >= 0)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(width=0, depth=3), ValueError, "width"),
    (dict(width=2.0, depth=3), TypeError, "width"),
    (dict(width=2, depth=0), ValueError, "depth"),
    (dict(width=2, depth=3, n_networks=0), ValueError, "n_networks"),
    (dict(width=2, depth=3, n_points=1), ValueError, "n_points"),
    (dict(width=2, depth=3, input_dim=0), ValueError, "input_dim"),
    (dict(width=2, depth=3, bias_std=-1.0), ValueError, "bias_std"),
    (dict(width=2, depth=3, bias_std="0.1"), TypeError, "bias_std"),
    (dict(width=2, depth=3, seed=-1), ValueError, "seed"),
])
def test_born_dead_validation(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        born_dead_probability(**kwargs)


# -------------------------------------------------------- inactive units


def test_inactive_equals_dead_for_relu():
    data = digits()
    for bias in (0.0, -0.5, -2.0):
        net = mlp([64, 32, 32, 10], bias=bias, seed=3)
        dead, inactive = dead_units(net, data.X), inactive_units(net, data.X)
        assert list(dead) == list(inactive)
        for name in dead:
            assert torch.equal(dead[name], inactive[name])
        assert inactive_fraction(net, data.X) == dead_fraction(net, data.X)


@pytest.mark.parametrize("activation", ["leaky_relu", "prelu", "prelu_channelwise", lambda: nn.LeakyReLU(0.3)])
def test_leaky_units_are_inactive_but_not_dead(activation):
    net = mlp([4, 5, 5, 2], activation=activation, bias=-50.0)
    x = torch.rand(20, 4)
    assert dead_fraction(net, x) == 0.0
    assert inactive_fraction(net, x) == 1.0


def test_inactive_units_shapes_and_hooks_removed():
    net = mlp([3, 4, 6, 2], activation="prelu_channelwise")
    found = inactive_units(net, torch.randn(8, 3))
    assert {k: tuple(v.shape) for k, v in found.items()} == {"prelu1": (4,), "prelu2": (6,)}
    assert all(not m._forward_pre_hooks for m in net.modules())


def test_inactive_units_boundary_zero_counts_as_inactive():
    net = nn.Sequential(nn.Linear(1, 1), nn.ReLU())
    with torch.no_grad():
        net[0].weight.fill_(0.0)
        net[0].bias.fill_(0.0)
    assert inactive_units(net, torch.ones(3, 1))["1"].tolist() == [True]


def test_inactive_units_validation():
    with pytest.raises(TypeError, match="model"):
        inactive_units("net", torch.zeros(2, 2))
    with pytest.raises(TypeError, match="inputs"):
        inactive_units(mlp([2, 2, 2]), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="activation layer"):
        inactive_units(nn.Linear(2, 2), torch.zeros(2, 2))


# ------------------------------------------------------- mean derivatives


def test_mean_derivatives_closed_forms():
    torch.manual_seed(0)
    x = torch.randn(50, 4)
    for activation, alpha in [("relu", 0.0), ("leaky_relu", 0.01), (lambda: nn.LeakyReLU(0.2), 0.2),
                              ("prelu", 0.25)]:
        net = mlp([4, 6, 5, 2], activation=activation, seed=2)
        active = {k: (~v).float() for k, v in inactive_units(net, x).items()}
        z = capture_activations(net, x, of="input")
        for name, d in mean_derivatives(net, x).items():
            expected = ((z[name] > 0).float() + alpha * (z[name] <= 0).float()).mean(dim=0)
            assert torch.allclose(d, expected, atol=1e-6)
            assert set(active) == set(mean_derivatives(net, x))


def test_mean_derivatives_channelwise_slopes_and_inactive_units():
    net = mlp([3, 4, 2], activation="prelu_channelwise", bias=-100.0)
    with torch.no_grad():
        net.prelu1.weight.copy_(torch.tensor([0.1, 0.5, 1.5, 0.0]))
    d = mean_derivatives(net, torch.rand(7, 3))["prelu1"]
    assert torch.allclose(d, torch.tensor([0.1, 0.5, 1.5, 0.0]))
    assert net.prelu1.weight.grad is None  # the model's own gradients are untouched


def test_mean_derivatives_leaves_no_hooks_and_validates():
    net = mlp([2, 3, 1])
    mean_derivatives(net, torch.randn(4, 2))
    assert all(not m._forward_pre_hooks for m in net.modules())
    with pytest.raises(ValueError, match="activation layer"):
        mean_derivatives(nn.Linear(2, 2), torch.zeros(2, 2))


# ------------------------------------------------------ dead fraction by step


@pytest.mark.parametrize("kwargs", [dict(lr=0.7), dict(lr=0.01, optimizer="adam", batch_size=50)])
def test_dead_fraction_by_step_trains_exactly_like_train(kwargs):
    tr = train_test_split(digits(), 0.25, seed=0)[0]
    ref = mlp([64, 16, 16, 10], seed=1)
    h = train(ref, tr, epochs=2, seed=4, **kwargs)
    net = mlp([64, 16, 16, 10], seed=1)
    trace = dead_fraction_by_step(net, tr, epochs=2, seed=4, **kwargs)
    for p, q in zip(net.parameters(), ref.parameters()):
        assert torch.equal(p, q)
    steps_per_epoch = -(-len(tr) // kwargs.get("batch_size", 64))
    assert trace.dead_fraction.shape == (2 * steps_per_epoch + 1,)
    assert trace.gradient_norm.shape == (2 * steps_per_epoch,)
    # the per-epoch records of train are every steps_per_epoch-th entry
    assert trace.dead_fraction[::steps_per_epoch].tolist() == h.dead_fraction
    assert np.all(trace.gradient_norm > 0)
    # gross deaths and revivals add up to the net change of the dead count
    units = 32
    net_change = np.diff(trace.dead_fraction) * units
    assert np.allclose(trace.killed - trace.revived, net_change)
    assert trace.killed.shape == trace.revived.shape == (2 * steps_per_epoch,)
    assert (trace.killed >= 0).all() and (trace.revived >= 0).all()


def test_dead_fraction_by_step_killed_and_revived_match_dead_units():
    tr = train_test_split(digits(), 0.25, seed=0)[0]
    ref = mlp([64, 16, 16, 10], seed=2)
    before = torch.cat(list(dead_units(ref, tr.X).values()))
    train(ref, tr, epochs=1, lr=3.0, seed=0, batch_size=len(tr))
    after = torch.cat(list(dead_units(ref, tr.X).values()))
    trace = dead_fraction_by_step(mlp([64, 16, 16, 10], seed=2), tr, epochs=1, lr=3.0,
                                  batch_size=len(tr))
    assert trace.killed.tolist() == [int((after & ~before).sum())]
    assert trace.revived.tolist() == [int((before & ~after).sum())]
    assert trace.killed[0] > 0  # a step this large kills units


def test_dead_fraction_by_step_gradient_norm_is_that_of_the_minibatch():
    data = xor()
    net = mlp([2, 4, 2], seed=0)
    trace = dead_fraction_by_step(mlp([2, 4, 2], seed=0), data, epochs=1, batch_size=len(data), lr=0.1)
    nn.functional.cross_entropy(net(data.X), data.y).backward()
    expected = torch.cat([p.grad.double().reshape(-1) for p in net.parameters()]).norm()
    assert trace.gradient_norm[0] == pytest.approx(float(expected), rel=1e-6)


def test_dead_fraction_by_step_validation():
    with pytest.raises(TypeError, match="model"):
        dead_fraction_by_step("net", xor())
    with pytest.raises(TypeError, match="data"):
        dead_fraction_by_step(mlp([2, 2, 2]), (1, 2))
    with pytest.raises(ValueError, match="lr"):
        dead_fraction_by_step(mlp([2, 2, 2]), xor(), lr=0.0)
    with pytest.raises(ValueError, match="epochs"):
        dead_fraction_by_step(mlp([2, 2, 2]), xor(), epochs=0)
    with pytest.raises(ValueError, match="optimizer"):
        dead_fraction_by_step(mlp([2, 2, 2]), xor(), optimizer="rmsprop")


# ----------------------------------------------------------- PReLU slopes


def test_prelu_slopes_shared_and_channelwise():
    shared = prelu_slopes(mlp([2, 3, 4, 1], activation="prelu"))
    channel = prelu_slopes(mlp([2, 3, 4, 1], activation="prelu_channelwise"))
    assert {k: v.shape for k, v in shared.items()} == {"prelu1": (1,), "prelu2": (1,)}
    assert {k: v.shape for k, v in channel.items()} == {"prelu1": (3,), "prelu2": (4,)}
    assert all(np.all(v == 0.25) and v.dtype == np.float64 for v in channel.values())


def test_prelu_slopes_are_copies():
    net = mlp([2, 3, 1], activation="prelu")
    before = prelu_slopes(net)
    with torch.no_grad():
        net[1].weight.fill_(0.5)
    assert before["prelu1"].tolist() == [0.25]


def test_prelu_slopes_validation():
    with pytest.raises(TypeError, match="model"):
        prelu_slopes([1, 2])
    with pytest.raises(ValueError, match="PReLU"):
        prelu_slopes(mlp([2, 3, 1]))


# -------------------------------------------------------- train_recording


@pytest.mark.parametrize("kwargs", [
    dict(lr=0.3, momentum=0.9),
    dict(lr=0.01, optimizer="adam", batch_size=50),
])
def test_train_recording_trains_exactly_like_train(kwargs):
    tr, te = train_test_split(digits(), 0.25, seed=0)
    h_ref = train(mlp([64, 16, 10], seed=1), tr, epochs=3, seed=4, test_data=te, **kwargs)
    h, rec = train_recording(mlp([64, 16, 10], seed=1), tr, lambda m: 1, epochs=3, seed=4, test_data=te, **kwargs)
    assert h == h_ref
    assert rec == [1, 1, 1, 1]


def test_train_recording_records_prelu_slopes_and_leaves_model_training():
    net = mlp([2, 8, 8, 2], activation="prelu_channelwise", seed=0)
    modes = []

    def record(m):
        modes.append(m.training)
        return prelu_slopes(m)

    history, slopes = train_recording(net, xor(), record, epochs=5, lr=0.5)
    assert len(slopes) == 6 and history.epochs == 5
    assert np.all(slopes[0]["prelu1"] == 0.25)
    assert not np.array_equal(slopes[-1]["prelu1"], slopes[0]["prelu1"])
    assert modes == [False] * 6 and net.training


def test_train_recording_validation():
    with pytest.raises(TypeError, match="record"):
        train_recording(mlp([2, 2, 2]), xor(), "slopes")
    with pytest.raises(ValueError, match="lr"):
        train_recording(mlp([2, 2, 2]), xor(), prelu_slopes, lr=-1.0)
    with pytest.raises(ValueError, match="epochs"):
        train_recording(mlp([2, 2, 2]), xor(), prelu_slopes, epochs=-1)


def test_residual_switched_off_matches_a_direct_computation():
    from relu_lab.dying import residual_switched_off
    width, depth, n = 2, 6, 300
    r = residual_switched_off(width, depth, n_networks=n, n_points=5, seed=3)
    # the same networks, one at a time, with torch's own layers
    g = torch.Generator().manual_seed(3)
    x = torch.linspace(-1, 1, 5, dtype=torch.float64).reshape(1, -1, 1)
    w1 = torch.randn(n, 1, width, generator=g, dtype=torch.float64) * 2**0.5
    ws = [torch.randn(n, width, width, generator=g, dtype=torch.float64) for _ in range(depth - 1)]
    off = const = 0
    for i in range(n):
        h, dark = x[0] @ w1[i], False
        for w in ws:
            a = torch.relu(h)
            dark |= bool((a == 0).all())
            h = h + a @ w[i] * (2 / width / (depth - 1)) ** 0.5
        off += dark
        const += bool((h == h[0]).all())
    assert r.block_off == off / n and r.constant == const / n
    assert 0 <= r.block_off <= 1


def test_residual_switched_off_narrow_plain_vs_residual():
    from relu_lab.dying import residual_switched_off
    r = residual_switched_off(3, 30, n_networks=500)
    assert r.constant == 0.0 and r.block_off < 0.05
    assert born_dead_probability(3, 30, n_networks=500, n_points=16)[-1] > 0.8


@pytest.mark.parametrize("kwargs, exc", [
    (dict(width=0, depth=5), ValueError), (dict(width=3, depth=1), ValueError),
    (dict(width=3, depth=5, n_points=1), ValueError), (dict(width=3.0, depth=5), TypeError),
    (dict(width=3, depth=5, seed=-1), ValueError)])
def test_residual_switched_off_validates(kwargs, exc):
    from relu_lab.dying import residual_switched_off
    with pytest.raises(exc):
        residual_switched_off(**kwargs)
