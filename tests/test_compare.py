"""Tests for relu_lab.compare: the activation comparison of chapter 10."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from relu_lab.compare import Comparison, activation_costs, compare_activations, training_step_costs
from relu_lab.data import train_test_split, xor
from relu_lab.timing import Timing


@pytest.fixture(scope="module")
def split():
    return train_test_split(xor(80, seed=1), test_fraction=0.25, seed=0)


@pytest.fixture(scope="module")
def comparison(split) -> Comparison:
    train_set, test_set = split
    return compare_activations(["relu", "sigmoid", "gelu"], train_set, test_set, hidden=[6],
                               seeds=[0, 3], epochs=4, lr=0.2)


def test_layout(comparison):
    assert comparison.activations == ("relu", "sigmoid", "gelu")
    assert comparison.seeds == (0, 3)
    for name in comparison.activations:
        assert len(comparison.histories[name]) == 2 and len(comparison.models[name]) == 2
        assert all(h.epochs == 4 for h in comparison.histories[name])
    curves = comparison.curves("accuracy")
    assert list(curves) == ["relu", "sigmoid", "gelu"]
    assert all(c.shape == (2, 5) for c in curves.values())
    final = comparison.final("test_accuracy")
    assert all(f.shape == (2,) and np.all((0 <= f) & (f <= 1)) for f in final.values())
    losses = comparison.final("loss")
    assert all(np.all(np.isfinite(v)) for v in losses.values())


def test_models_are_the_trained_networks(comparison, split):
    train_set, _ = split
    for name in comparison.activations:
        for net, h in zip(comparison.models[name], comparison.histories[name]):
            with torch.no_grad():
                acc = float((net(train_set.X).argmax(dim=1) == train_set.y).float().mean())
            assert acc == pytest.approx(h.accuracy[-1])
    # the activation named is the one in the network
    assert isinstance(comparison.models["gelu"][0][1], torch.nn.GELU)


def test_deterministic_and_same_start(split):
    train_set, test_set = split
    kw = dict(hidden=[5], seeds=[2], epochs=3, lr=0.1)
    a = compare_activations(["relu", "tanh"], train_set, test_set, **kw)
    b = compare_activations(["relu", "tanh"], train_set, test_set, **kw)
    for name in ["relu", "tanh"]:
        assert a.histories[name][0] == b.histories[name][0]
    # the same seed gives every activation the same initial weights
    c = compare_activations(["relu", "tanh"], train_set, None, hidden=[5], seeds=[2], epochs=0)
    w_relu, w_tanh = (c.models[n][0][0].weight for n in ["relu", "tanh"])
    assert torch.equal(w_relu, w_tanh)


def test_table_sorted_best_first(comparison):
    lines = comparison.table().splitlines()
    assert lines[0].split()[:3] == ["activation", "train", "acc"]
    names = [line.split()[0] for line in lines[1:]]
    assert sorted(names) == sorted(comparison.activations)
    means = [float(line.split()[2]) for line in lines[1:]]
    assert means == sorted(means, reverse=True)


def test_without_test_data(split):
    train_set, _ = split
    c = compare_activations(["relu"], train_set, hidden=[4], epochs=1)
    assert "train range" in c.table()
    with pytest.raises(ValueError, match="test data"):
        c.final("test_accuracy")
    with pytest.raises(ValueError, match="metric"):
        c.curves("dead_fraction")


def test_global_random_state_untouched(split):
    train_set, _ = split
    state = torch.get_rng_state()
    compare_activations(["relu"], train_set, hidden=[4], epochs=1)
    activation_costs(["relu"], n=10, repeats=1, number=1)
    assert torch.equal(state, torch.get_rng_state())


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(activations="relu"), TypeError, "activations"),
        (dict(activations=[]), ValueError, "activations"),
        (dict(activations=["relu", 3]), TypeError, "activations"),
        (dict(activations=["swish"]), ValueError, "swish"),
        (dict(activations=["relu", "relu"]), ValueError, "repeat"),
        (dict(seeds=[]), ValueError, "seeds"),
        (dict(seeds=3), TypeError, "seeds"),
        (dict(seeds=[-1]), ValueError, r"seeds\[0\]"),
        (dict(hidden=8), TypeError, "hidden"),
        (dict(hidden=[0]), ValueError, r"hidden\[0\]"),
        (dict(epochs=-1), ValueError, "epochs"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(data="digits"), TypeError, "data"),
        (dict(test_data=[1, 2]), TypeError, "test_data"),
    ],
)
def test_compare_validation(split, kwargs, error, match):
    train_set, _ = split
    args = dict(activations=["relu"], data=train_set, hidden=[4], epochs=1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        compare_activations(**args)


def test_activation_costs():
    costs = activation_costs(["relu", "prelu", "silu"], n=500, repeats=3, number=1)
    assert list(costs) == ["relu", "prelu", "silu"]
    assert all(isinstance(t, Timing) and t.repeats == 3 and t.median > 0 for t in costs.values())
    back = activation_costs(["relu", "prelu"], n=500, backward=True, repeats=2, number=1)
    assert all(t.median > 0 for t in back.values())


@pytest.mark.parametrize("backward", [False, True])
def test_activation_costs_warms_up_every_activation_first(monkeypatch, backward):
    import relu_lab.compare as compare

    runs: list[str] = []
    first_timed: list[list[str]] = []

    def counting(name):
        module = compare.ACTIVATION_MODULES[name](1)

        class Counting(torch.nn.Module):
            def forward(self, x):
                runs.append(name)
                return module(x)

        return lambda _channels: Counting()

    modules = {name: counting(name) for name in ["relu", "silu"]}
    real_time_call = compare.time_call

    def time_call(fn, **kwargs):
        if not first_timed:
            first_timed.append(sorted(set(runs)))
        return real_time_call(fn, **kwargs)

    monkeypatch.setattr(compare, "ACTIVATION_MODULES", {**compare.ACTIVATION_MODULES, **modules})
    monkeypatch.setattr(compare, "time_call", time_call)
    activation_costs(["relu", "silu"], n=50, backward=backward, repeats=1, number=1)
    assert first_timed == [["relu", "silu"]]


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(activations=["nope"]), ValueError, "nope"),
        (dict(n=0), ValueError, "n must"),
        (dict(n=2.5), TypeError, "n must"),
        (dict(backward="yes"), TypeError, "backward"),
        (dict(repeats=0), ValueError, "repeats"),
        (dict(seed=-2), ValueError, "seed"),
    ],
)
def test_activation_costs_validation(kwargs, error, match):
    args = dict(activations=["relu"], n=10, repeats=1, number=1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        activation_costs(**args)


def test_training_step_costs(split):
    train_set, _ = split
    costs = training_step_costs(["relu", "elu"], train_set, hidden=[4], batch_size=8, repeats=2, number=1)
    assert list(costs) == ["relu", "elu"] and all(t.median > 0 for t in costs.values())
    with pytest.raises(TypeError, match="data"):
        training_step_costs(["relu"], train_set.X)
    with pytest.raises(ValueError, match="batch_size"):
        training_step_costs(["relu"], train_set, batch_size=0)
    with pytest.raises(TypeError, match="hidden"):
        training_step_costs(["relu"], train_set, hidden="64")


def test_training_step_costs_validation(split):
    train_set, _ = split
    for kwargs, error, match in [(dict(repeats=0), ValueError, "repeats"), (dict(number=1.5), TypeError, "number"),
                                 (dict(warmup=-1), ValueError, "warmup"), (dict(seed="0"), TypeError, "seed")]:
        with pytest.raises(error, match=match):
            training_step_costs(["relu"], train_set, hidden=[4], **kwargs)
