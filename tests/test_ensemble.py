"""Tests for relu_lab.ensemble: many seeds in one vectorised run equal separate runs."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from relu_lab.data import Dataset, digits, train_test_split
from relu_lab.dying import prelu_slopes, train_recording
from relu_lab.ensemble import SeedRuns, train_seeds
from relu_lab.models import mlp
from relu_lab.sparsity import dead_fraction
from relu_lab.training import train

# Tolerances. train_seeds performs, per seed, the operations train performs, except
# that each layer's matrix product is one batched product for all seeds
# (torch.baddbmm) instead of one torch.addmm per seed. The two kernels may add the
# terms of an entry in a different order, so an entry may differ in its last bits, and
# each SGD or Adam step carries such a difference into the weights. Differences stay
# of that size as long as no example's pre-activation sits so close to a ReLU kink
# that the two runs see it on different sides; if one does, the runs part ways
# (measured: 1.6e-2 in a weight after 3 float32 epochs for one seed in twenty).
# So the equivalence tests run in float64 (train_seeds computes in data.X's dtype;
# train on mlp(...).double()): ulp 2.2e-16, largest differences measured after 3
# epochs 6e-15 in a weight and 1.4e-14 (relative) in a loss, and a kink closer than
# ~1e-15 is vanishingly unlikely. The tolerances below are 100 times those and still
# a million times below float32's resolution; counts (accuracies, dead units) must be
# equal. One float32 test checks the chapters' dtype on a short, gentle run (1 epoch,
# small learning rate), where the differences measured are 1.2e-7 in a weight and
# 1e-6 (relative) in a loss, against a tolerance of 2e-6 and 1e-5.
TOL64 = dict(rtol=1e-10, atol=1e-12)
TOL32 = dict(rtol=1e-5, atol=2e-6)


@pytest.fixture(scope="module")
def split() -> tuple[Dataset, Dataset]:
    return train_test_split(digits(), test_fraction=0.25, seed=0)


@pytest.fixture(scope="module")
def split64(split) -> tuple[Dataset, Dataset]:
    """The same digits in float64; 640 training examples (10 steps of 64) keep it quick."""
    (train_set, test_set), n = split, 640
    return Dataset(train_set.X[:n].double(), train_set.y[:n]), Dataset(test_set.X.double(), test_set.y)


def separate_runs(sizes, activation, init, seeds, data, bias=None, **kwargs):
    """What train_seeds replaces: one mlp and one train call per seed (in data's dtype)."""
    nets, histories = [], []
    for s in seeds:
        net = mlp(sizes, activation, init, bias=bias, seed=s).to(data.X.dtype)
        histories.append(train(net, data, seed=s, **kwargs))
        nets.append(net)
    return nets, histories


def assert_same_runs(runs: SeedRuns, nets, histories, tol=TOL64) -> None:
    assert len(runs.histories) == len(histories) == len(runs.models)
    for net, model, expected, got in zip(nets, runs.models, histories, runs.histories):
        for (name, p), (name_q, q) in zip(net.named_parameters(), model.named_parameters()):
            assert name == name_q
            torch.testing.assert_close(q, p, **tol)
        np.testing.assert_allclose(got.loss, expected.loss, rtol=tol["rtol"])
        assert got.accuracy == expected.accuracy
        assert got.test_accuracy == expected.test_accuracy
        assert got.dead_fraction == expected.dead_fraction


@pytest.mark.parametrize(
    ("activation", "optimizer", "lr", "momentum"),
    [
        ("relu", "sgd", 0.05, 0.9),
        ("relu", "adam", 0.01, 0.0),
        ("prelu", "sgd", 0.05, 0.9),
        ("prelu_channelwise", "adam", 0.01, 0.0),
        ("gelu", "sgd", 0.3, 0.0),
    ],
)
def test_equals_separate_train_runs(split64, activation, optimizer, lr, momentum):
    train_set, test_set = split64
    sizes, seeds = [64, 16, 16, 10], [0, 1, 7]
    kw = dict(epochs=3, lr=lr, momentum=momentum, optimizer=optimizer, batch_size=64, test_data=test_set)
    runs = train_seeds(sizes, activation, data=train_set, seeds=seeds, **kw)
    nets, histories = separate_runs(sizes, activation, "he", seeds, train_set, **kw)
    assert runs.seeds == (0, 1, 7)
    assert_same_runs(runs, nets, histories)


def test_float32_as_in_the_chapters(split):
    train_set, test_set = split
    sizes, seeds = [64, 32, 32, 10], [0, 1, 2]
    kw = dict(epochs=1, lr=0.02, momentum=0.9, test_data=test_set)
    runs = train_seeds(sizes, data=train_set, seeds=seeds, **kw)
    assert runs.models[0][0].weight.dtype == torch.float32
    nets, histories = separate_runs(sizes, "relu", "he", seeds, train_set, **kw)
    assert_same_runs(runs, nets, histories, tol=TOL32)


def test_learned_slopes_are_per_seed(split):
    train_set, _ = split
    sizes = [64, 16, 16, 10]
    for kind, n_slopes in [("prelu", 1), ("prelu_channelwise", 16)]:
        runs = train_seeds(sizes, kind, data=train_set, seeds=[0, 1], epochs=2, lr=0.1)
        slopes = [prelu_slopes(m) for m in runs.models]
        assert list(slopes[0]) == ["prelu1", "prelu2"] and slopes[0]["prelu1"].shape == (n_slopes,)
        assert not np.array_equal(slopes[0]["prelu1"], np.full(n_slopes, 0.25))  # learned
        assert not np.array_equal(slopes[0]["prelu1"], slopes[1]["prelu1"])  # each seed its own


def test_negative_bias_dead_units_and_float_init(split64):
    train_set, test_set = split64
    sizes, seeds = [64, 32, 32, 10], [0, 2]
    kw = dict(epochs=3, lr=0.3, batch_size=128, test_data=test_set)
    runs = train_seeds(sizes, "relu", 0.1, bias=-1.0, data=train_set, seeds=seeds, **kw)
    nets, histories = separate_runs(sizes, "relu", 0.1, seeds, train_set, bias=-1.0, **kw)
    assert_same_runs(runs, nets, histories)
    assert all(h.dead_fraction[0] > 0.1 for h in runs.histories)  # the bias kills units
    for model, h in zip(runs.models, runs.histories):  # the definition of sparsity.dead_fraction
        assert h.dead_fraction[-1] == dead_fraction(model, train_set.X)


def test_callable_and_identity_activations(split64):
    train_set, _ = split64
    sizes, seeds = [64, 16, 16, 10], [3, 4]
    kw = dict(epochs=2, lr=0.2, batch_size=100)
    leaky = lambda: nn.LeakyReLU(0.2)  # noqa: E731
    runs = train_seeds(sizes, leaky, "xavier", data=train_set, seeds=seeds, **kw)
    assert_same_runs(runs, *separate_runs(sizes, leaky, "xavier", seeds, train_set, **kw))
    assert isinstance(runs.models[0][1], nn.LeakyReLU) and runs.models[0][1].negative_slope == 0.2
    # nn.Identity is no activation layer: no dead units recorded, as with train
    runs = train_seeds(sizes, "identity", data=train_set, seeds=seeds, **kw)
    assert_same_runs(runs, *separate_runs(sizes, "identity", "he", seeds, train_set, **kw))
    assert runs.histories[0].dead_fraction == []
    # no hidden layer at all
    runs = train_seeds([64, 10], data=train_set, seeds=seeds, **kw)
    assert_same_runs(runs, *separate_runs([64, 10], "relu", "he", seeds, train_set, **kw))


def test_a_seed_does_not_depend_on_the_others(split64):
    train_set, _ = split64
    kw = dict(data=train_set, epochs=2, lr=0.05, momentum=0.9)
    alone = train_seeds([64, 16, 10], seeds=[5], **kw)
    together = train_seeds([64, 16, 10], seeds=[1, 5, 9], **kw)
    for p, q in zip(alone.models[0].parameters(), together.models[1].parameters()):
        torch.testing.assert_close(q, p, **TOL64)


def test_on_epoch_sees_every_seed_in_eval_mode(split64):
    train_set, test_set = split64
    sizes, seeds = [64, 16, 16, 10], [0, 1]
    seen: list[list[dict]] = []
    given: list[tuple[nn.Module, ...]] = []

    def record(models):
        assert isinstance(models, tuple) and len(models) == 2
        assert all(isinstance(m, nn.Sequential) and not m.training for m in models)
        seen.append([prelu_slopes(m) for m in models])
        given.append(models)

    runs = train_seeds(sizes, "prelu", data=train_set, seeds=seeds, epochs=3, lr=0.1, on_epoch=record)
    assert len(seen) == 4  # before training and after each epoch
    assert all(models is runs.models for models in given)  # the same networks, updated
    for k, s in enumerate(seeds):  # the slopes train_recording records for each seed alone
        _, expected = train_recording(mlp(sizes, "prelu", seed=s).double(), train_set, prelu_slopes,
                                      epochs=3, lr=0.1, seed=s)
        for got_epoch, expected_epoch in zip([epoch[k] for epoch in seen], expected):
            for layer in expected_epoch:
                np.testing.assert_allclose(got_epoch[layer], expected_epoch[layer], **TOL64)
    assert seen[0][0]["prelu1"].tolist() == [0.25]



def test_score_epochs_false_scores_only_the_ends_and_trains_the_same(split64):
    train_set, test_set = split64
    kw = dict(data=train_set, seeds=[0, 1], epochs=3, lr=0.05, momentum=0.9, test_data=test_set)
    every = train_seeds([64, 16, 10], **kw)
    seen = []
    ends = train_seeds([64, 16, 10], score_epochs=False, on_epoch=lambda models: seen.append(1), **kw)
    assert len(seen) == 4  # on_epoch is still called before training and after every epoch
    for a, b in zip(every.models, ends.models):  # scoring does not touch the training
        for p, q in zip(a.parameters(), b.parameters()):
            assert torch.equal(p, q)
    for metric in ("loss", "accuracy", "test_accuracy", "dead_fraction"):
        got, full = ends.curves(metric), every.curves(metric)
        assert np.isnan(got[:, 1:-1]).all()
        np.testing.assert_array_equal(got[:, [0, -1]], full[:, [0, -1]])
        np.testing.assert_array_equal(ends.final(metric), every.final(metric))
    assert ends.histories[0].epochs == 3
    test_only = train_seeds([64, 16, 10], score_epochs="test", **kw)  # test curves, training ends
    np.testing.assert_array_equal(test_only.curves("test_accuracy"), every.curves("test_accuracy"))
    assert np.isnan(test_only.curves("loss")[:, 1:-1]).all()
    np.testing.assert_array_equal(test_only.final("dead_fraction"), every.final("dead_fraction"))
    with pytest.raises(ValueError, match="score_epochs must be True, False or 'test'"):
        train_seeds([64, 16, 10], data=train_set, epochs=1, score_epochs="no")
    with pytest.raises(ValueError, match="pass test_data"):
        train_seeds([64, 16, 10], data=train_set, epochs=1, score_epochs="test")

def test_statistics(split):
    train_set, test_set = split
    runs = train_seeds([64, 16, 10], data=train_set, seeds=range(3), epochs=4, lr=0.05, momentum=0.9,
                       test_data=test_set)
    assert runs.seeds == (0, 1, 2)
    curves = runs.curves("test_accuracy")
    assert curves.shape == (3, 5) and curves.dtype == np.float64
    np.testing.assert_array_equal(runs.final("accuracy"), [h.accuracy[-1] for h in runs.histories])
    np.testing.assert_array_equal(runs.curves("loss")[:, 0], [h.loss[0] for h in runs.histories])
    reach = runs.epochs_to_reach(0.5)
    assert reach.tolist() == [h.epochs_to_reach(0.5) for h in runs.histories]
    assert np.isnan(runs.epochs_to_reach(1.01)).all()  # never reached: NaN
    assert runs.epochs_to_reach(0.0).tolist() == [0, 0, 0]
    assert runs.epochs_to_reach(0.5, "test_accuracy").shape == (3,)
    with pytest.raises(ValueError, match="metric"):
        runs.curves("gradient")
    with pytest.raises(ValueError, match="metric"):
        runs.epochs_to_reach(0.5, "loss")
    with pytest.raises(TypeError, match="threshold"):
        runs.epochs_to_reach("high")
    without = train_seeds([64, 16, 10], "identity", data=train_set, seeds=[0], epochs=0)
    assert without.histories[0].epochs == 0
    with pytest.raises(ValueError, match="test_data"):
        without.final("test_accuracy")
    with pytest.raises(ValueError, match="track_dead"):
        without.final("dead_fraction")
    with pytest.raises(AttributeError):
        runs.seeds = (1,)  # frozen


def test_models_start_as_mlp_builds_them_and_rng_is_untouched(split):
    train_set, _ = split
    state = torch.get_rng_state()
    runs = train_seeds([64, 8, 10], "tanh", "xavier", bias=0.5, data=train_set, seeds=[4, 2], epochs=0)
    assert torch.equal(state, torch.get_rng_state())
    for model, s in zip(runs.models, [4, 2]):
        expected = mlp([64, 8, 10], "tanh", "xavier", bias=0.5, seed=s)
        assert [n for n, _ in model.named_children()] == ["linear1", "tanh1", "linear2"]
        assert all(torch.equal(p, q) for p, q in zip(model.parameters(), expected.parameters()))


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        (dict(seeds="012"), TypeError, "seeds"),
        (dict(seeds=5), TypeError, "seeds"),
        (dict(seeds=[]), ValueError, "seeds"),
        (dict(seeds=[0, -1]), ValueError, r"seeds\[1\]"),
        (dict(seeds=[0.5]), TypeError, r"seeds\[0\]"),
        (dict(data=[1, 2]), TypeError, "data"),
        (dict(test_data="test"), TypeError, "test_data"),
        (dict(epochs=-1), ValueError, "epochs"),
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(lr=0.0), ValueError, "lr"),
        (dict(lr=float("nan")), ValueError, "lr"),
        (dict(momentum=1.0), ValueError, "momentum"),
        (dict(optimizer="rmsprop"), ValueError, "optimizer"),
        (dict(on_epoch="print"), TypeError, "on_epoch"),
        (dict(device=3), TypeError, "device"),
        (dict(device="tpu"), ValueError, "device"),
        (dict(sizes=[63, 8, 10]), ValueError, r"sizes\[0\]"),
        (dict(sizes=[64, 8, 5]), ValueError, r"sizes\[-1\]"),
        (dict(sizes=[64]), ValueError, "sizes"),
        (dict(activation="swish"), ValueError, "activation"),
        (dict(activation=lambda: nn.PReLU()), ValueError, "without parameters"),
        (dict(activation=lambda: nn.Softmax(dim=1)), ValueError, "on its own"),
        (dict(init="lecun"), ValueError, "init"),
        (dict(bias="zero"), TypeError, "bias"),
    ],
)
def test_validation(split, kwargs, error, match):
    train_set, _ = split
    args = dict(sizes=[64, 8, 10], data=train_set, seeds=[0], epochs=1)
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_seeds(**args)


# ------------------------------------------------- chapter 11: skips, norms, FFN blocks


@pytest.mark.parametrize(
    ("options", "optimizer"),
    [
        (dict(residual=True), "sgd"),
        (dict(norm="layer"), "adam"),
        (dict(norm="batch"), "sgd"),
        (dict(norm="batch", residual=True, branch_scale=0.5), "sgd"),
        (dict(norm="layer", residual=True), "sgd"),
    ],
)
def test_residual_and_normalised_mlps_equal_separate_runs(split64, options, optimizer):
    train_set, test_set = split64
    sizes, seeds = [64, 16, 16, 16, 10], [0, 3]
    kw = dict(epochs=2, lr=0.05 if optimizer == "sgd" else 0.01, momentum=0.9 if optimizer == "sgd" else 0.0,
              optimizer=optimizer, batch_size=64, test_data=test_set)
    runs = train_seeds(sizes, data=train_set, seeds=seeds, **options, **kw)
    nets, histories = [], []
    for s in seeds:
        net = mlp(sizes, seed=s, **options).double()
        histories.append(train(net, train_set, seed=s, **kw))
        nets.append(net)
    assert_same_runs(runs, nets, histories)
    for net, model in zip(nets, runs.models):  # batch norm's running statistics too
        for b, c in zip(net.buffers(), model.buffers()):
            torch.testing.assert_close(c, b, **TOL64)


@pytest.mark.parametrize("activation", ["relu", "gelu_tanh", "swiglu", "geglu", "glu"])
def test_feed_forward_blocks_equal_separate_runs(split64, activation):
    from relu_lab.ensemble import train_models
    from relu_lab.transformer import feed_forward

    train_set, test_set = split64
    hidden = 8 if activation.endswith("glu") else 12
    def build(s):
        return feed_forward(64, 10, activation, hidden=hidden, seed=s).double()
    kw = dict(epochs=2, lr=0.05, momentum=0.9, test_data=test_set)
    runs = train_models(build, data=train_set, seeds=[1, 2], **kw)
    nets = [build(s) for s in [1, 2]]
    histories = [train(net, train_set, seed=s, **kw) for net, s in zip(nets, [1, 2])]
    assert_same_runs(runs, nets, histories)


def test_train_models_validation(split):
    from relu_lab.ensemble import train_models

    train_set, _ = split
    with pytest.raises(TypeError, match="build"):
        train_models("mlp", data=train_set)
    with pytest.raises(TypeError, match=r"build\(0\) must return a torch.nn.Sequential"):
        train_models(lambda s: nn.Linear(64, 10), data=train_set, seeds=[0])
    with pytest.raises(ValueError, match="another structure"):
        train_models(lambda s: mlp([64, 10] if s else [64, 8, 10], seed=s), data=train_set, seeds=[0, 1])
