"""relu_lab.models, training, data, gradients and seeding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from relu_lab import data as D
from relu_lab.gradients import gradient_norms
from relu_lab.models import ACTIVATION_MODULES, mlp
from relu_lab.seeding import seed_everything
from relu_lab import training as T
from relu_lab.training import History, accuracy, train

# ----------------------------------------------------------------- models


def test_mlp_structure_and_names():
    net = mlp([4, 8, 8, 3], activation="tanh")
    assert [n for n, _ in net.named_children()] == ["linear1", "tanh1", "linear2", "tanh2", "linear3"]
    assert net(torch.zeros(5, 4)).shape == (5, 3)


@pytest.mark.parametrize("activation", sorted(ACTIVATION_MODULES))
def test_every_activation_builds(activation):
    net = mlp([3, 5, 2], activation=activation)
    assert net(torch.randn(2, 3)).shape == (2, 2)


def test_prelu_channelwise_has_one_slope_per_unit():
    shared, channelwise = mlp([3, 5, 2], "prelu"), mlp([3, 5, 2], "prelu_channelwise")
    assert shared[1].weight.numel() == 1 and channelwise[1].weight.numel() == 5


def test_callable_activation():
    net = mlp([3, 5, 2], activation=lambda: nn.LeakyReLU(0.2))
    assert isinstance(net[1], nn.LeakyReLU) and net[1].negative_slope == 0.2


def test_mlp_is_seeded_and_leaves_global_rng_alone():
    torch.manual_seed(123)
    before = torch.rand(1)
    torch.manual_seed(123)
    a, b, c = mlp([10, 10, 2], seed=1), mlp([10, 10, 2], seed=1), mlp([10, 10, 2], seed=2)
    assert torch.rand(1) == before
    assert torch.equal(a[0].weight, b[0].weight) and not torch.equal(a[0].weight, c[0].weight)


@pytest.mark.parametrize("init, expected", [("he", math.sqrt(2 / 400)), ("xavier", math.sqrt(2 / 800)), (0.01, 0.01)])
def test_init_standard_deviations(init, expected):
    w = mlp([400, 400, 2], init=init)[0].weight
    assert w.std().item() == pytest.approx(expected, rel=0.02)
    assert torch.all(mlp([400, 400, 2], init=init)[0].bias == 0)


def test_default_init_is_pytorchs():
    w = mlp([400, 400, 2], init="default")[0].weight
    assert w.abs().max().item() <= 1 / math.sqrt(400)


def test_bias_override():
    assert torch.all(mlp([3, 4, 2], bias=-5.0)[0].bias == -5.0)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(sizes=[3]), ValueError, "at least an input and an output"),
    (dict(sizes="3,4"), TypeError, "sizes must be a sequence"),
    (dict(sizes=[3, -1, 2]), ValueError, r"sizes\[1\] must be >= 1"),
    (dict(sizes=[3, 2.5, 2]), TypeError, r"sizes\[1\] must be an integer"),
    (dict(sizes=[3, 2], activation="rulu"), ValueError, "activation must be one of"),
    (dict(sizes=[3, 2], activation=3), TypeError, "activation must be a name"),
    (dict(sizes=[3, 2], init="kaiming"), ValueError, "init must be one of"),
    (dict(sizes=[3, 2], init=-0.1), ValueError, "positive standard deviation"),
    (dict(sizes=[3, 2], init=float("nan")), ValueError, "init must be finite"),
    (dict(sizes=[3, 2], bias=float("inf")), ValueError, "bias must be finite"),
    (dict(sizes=[3, 2], seed=-1), ValueError, "seed must be >= 0"),
])
def test_mlp_bad_input(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        mlp(**kwargs)


def test_callable_activation_must_return_module():
    with pytest.raises(TypeError, match="must return a torch.nn.Module"):
        mlp([3, 4, 2], activation=lambda: "relu")

# ------------------------------------------- chapter 11: skips, norms, feed-forward


def test_norm_sits_between_linear_and_activation():
    for norm, kind in [("batch", nn.BatchNorm1d), ("layer", nn.LayerNorm)]:
        net = mlp([4, 6, 6, 3], norm=norm)
        assert [n for n, _ in net.named_children()] == [
            "linear1", "norm1", "relu1", "linear2", "norm2", "relu2", "linear3"]
        assert isinstance(net.norm1, kind) and net.norm1.weight.shape == (6,)
        plain = mlp([4, 6, 6, 3])
        assert all(torch.equal(a.weight, b.weight) for a, b in zip(
            [net.linear1, net.linear2], [plain.linear1, plain.linear2]))  # same seed, same weights


def test_residual_blocks_are_the_plain_layers_with_a_skip():
    plain, res = mlp([4, 5, 5, 5, 5, 3], seed=3), mlp([4, 5, 5, 5, 5, 3], seed=3, residual=True)
    assert [n for n, _ in res.named_children()] == ["linear1", "residual2", "residual3", "residual4", "relu4",
                                                     "linear5"]
    scale = 3 ** -0.5  # three blocks
    torch.testing.assert_close(res.residual3.branch.linear3.weight, plain.linear3.weight * scale)
    assert torch.equal(res.linear1.weight, plain.linear1.weight) and torch.equal(res.linear5.weight,
                                                                                  plain.linear5.weight)
    x = torch.randn(7, 4)
    h = plain.linear1(x)
    for i in (2, 3, 4):
        h = h + getattr(res, f"residual{i}").branch(h)
    torch.testing.assert_close(res(x), res.linear5(torch.relu(h)))
    one = mlp([4, 5, 5, 5, 5, 3], seed=3, residual=True, branch_scale=1.0)
    assert torch.equal(one.residual3.branch.linear3.weight, plain.linear3.weight)


def test_residual_only_where_the_width_is_kept():
    net = mlp([4, 8, 8, 6, 6, 2], residual=True)
    assert [n for n, _ in net.named_children()] == ["linear1", "residual2", "relu2", "linear3", "residual4",
                                                     "relu4", "linear5"]


def test_a_switched_off_block_passes_its_input_on():
    net = mlp([3, 4, 4, 4, 2], residual=True, bias=-100.0)  # every unit off
    x = torch.randn(6, 3)
    h = net.linear1(x)
    torch.testing.assert_close(net.residual3(net.residual2(h)), h + 2 * net.residual2.branch.linear2.bias)


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(norm="group"), ValueError, "norm must be None, 'batch' or 'layer'"),
    (dict(norm=1), TypeError, "norm must be None"),
    (dict(residual="yes"), TypeError, "residual must be True or False"),
    (dict(residual=True, sizes=[3, 4, 2]), ValueError, "two consecutive hidden layers"),
    (dict(branch_scale=0.5), ValueError, "pass residual=True"),
    (dict(residual=True, branch_scale=0.0), ValueError, "branch_scale must be positive"),
    (dict(residual=True, branch_scale="1"), TypeError, "branch_scale must be a real number"),
])
def test_mlp_options_bad_input(kwargs, exc, words):
    args = dict(sizes=[3, 4, 4, 2])
    args.update(kwargs)
    with pytest.raises(exc, match=words):
        mlp(**args)


@pytest.mark.parametrize("activation", ["relu", "gelu", "gelu_tanh", "squared_relu", "glu", "geglu", "swiglu"])
def test_feed_forward_shapes_and_parameter_counts(activation):
    from relu_lab.transformer import GATED_UNITS, feed_forward

    gated = activation in GATED_UNITS
    net = feed_forward(12, 4, activation, hidden=16 if gated else 24, seed=1)
    assert net(torch.randn(5, 12)).shape == (5, 4)
    weights = net.ffn.branch.up.weight.numel() + net.ffn.branch.down.weight.numel()
    assert weights == 2 * 12 * 24 and net.ffn.branch.up.bias is None
    assert torch.equal(net.head.weight, feed_forward(12, 4, activation, hidden=16 if gated else 24,
                                                     seed=1).head.weight)


def test_gated_units_match_relu_lab_modern():
    from relu_lab import modern
    from relu_lab.transformer import GatedUnit

    x = torch.randn(5, 8, dtype=torch.float64)
    for gate, ref in [("sigmoid", modern.glu), ("gelu", modern.geglu), ("silu", modern.swiglu)]:
        np.testing.assert_allclose(GatedUnit(gate)(x).numpy(), ref(x.numpy()), rtol=1e-12)
    torch.testing.assert_close(GatedUnit("sigmoid")(x), nn.functional.glu(x))
    with pytest.raises(ValueError, match="gate must be one of"):
        GatedUnit("tanh")
    with pytest.raises(ValueError, match="even"):
        GatedUnit()(torch.zeros(2, 3))


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(activation="swish"), ValueError, "activation must be one of"),
    (dict(activation=nn.ReLU), TypeError, "activation must be a name"),
    (dict(hidden=0), ValueError, "hidden must be >= 1"),
    (dict(d_model=2.0), TypeError, "d_model must be an integer"),
])
def test_feed_forward_bad_input(kwargs, exc, words):
    from relu_lab.transformer import feed_forward

    args = dict(d_model=4, n_classes=3)
    args.update(kwargs)
    with pytest.raises(exc, match=words):
        feed_forward(**args)


# ------------------------------------------------------------------- data


def test_xor_labels_are_xor_of_signs():
    d = D.xor(400, noise=0.0)
    signs = d.X > 0
    assert torch.equal(d.y.bool(), signs[:, 0] ^ signs[:, 1])


@pytest.mark.parametrize("make", [D.xor, D.two_moons, D.spirals])
def test_synthetic_sets_are_seeded(make):
    a, b, c = make(50, seed=3), make(50, seed=3), make(50, seed=4)
    assert torch.equal(a.X, b.X) and not torch.equal(a.X, c.X)
    assert a.X.dtype == torch.float32 and a.y.dtype == torch.int64 and len(a) == 50


def test_digits_are_scikit_learns_digits():
    from sklearn.datasets import load_digits

    d, ref = D.digits(), load_digits()
    assert (len(d), d.n_features, d.n_classes) == (1797, 64, 10)
    assert torch.equal(d.X, torch.as_tensor(ref.data / 16.0, dtype=torch.float32))
    assert torch.equal(d.y, torch.as_tensor(ref.target))


def test_digits_load_without_importing_sklearn():
    import subprocess
    import sys

    code = "import sys, relu_lab.data as d; d.digits(); print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_split_is_disjoint_and_seeded():
    d = D.xor(100, noise=0.0)
    tr, te = D.train_test_split(d, 0.2, seed=1)
    assert (len(tr), len(te)) == (80, 20)
    tr2, _ = D.train_test_split(d, 0.2, seed=1)
    assert torch.equal(tr.X, tr2.X)


@pytest.mark.parametrize("call, exc, words", [
    (lambda: D.xor(0), ValueError, "n must be >= 4"),
    (lambda: D.xor("many"), TypeError, "n must be an integer"),
    (lambda: D.xor(10, noise=-1), ValueError, "noise must be >= 0"),
    (lambda: D.two_moons(10, noise=float("nan")), ValueError, "noise must be finite"),
    (lambda: D.spirals(10, turns=0), ValueError, "turns > 0"),
    (lambda: D.train_test_split([1, 2], 0.2), TypeError, "data must be a relu_lab.data.Dataset"),
    (lambda: D.train_test_split(D.xor(4), 0.1), ValueError, "empty training or test set"),
    (lambda: D.train_test_split(D.xor(8), 1.5), ValueError, r"test_fraction must be in \[0, 1\)"),
    (lambda: D.Dataset(torch.zeros(0, 2), torch.zeros(0, dtype=torch.int64)), ValueError, "at least one example"),
    (lambda: D.Dataset(torch.zeros(3, 2), torch.zeros(2, dtype=torch.int64)), ValueError, "y must have shape"),
    (lambda: D.Dataset(np.zeros((3, 2)), torch.zeros(3)), TypeError, "torch tensors"),
])
def test_data_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()

# --------------------------------------------------------------- training


def test_training_is_deterministic_and_learns_xor():
    runs = [train(mlp([2, 8, 2], seed=0), D.xor(), epochs=40, lr=0.5, seed=0) for _ in range(2)]
    assert runs[0] == runs[1]
    h = runs[0]
    assert isinstance(h, History) and h.epochs == 40
    assert len(h.loss) == len(h.accuracy) == len(h.dead_fraction) == 41
    assert h.loss[-1] < h.loss[0] and h.accuracy[-1] == 1.0
    assert h.epochs_to_reach(1.0) is not None and h.epochs_to_reach(1.01) is None


def test_linear_model_cannot_learn_xor():
    net = mlp([2, 2], activation="identity")
    h = train(net, D.xor(), epochs=50, lr=0.5)
    assert h.dead_fraction == []  # no activation layer to track
    assert h.accuracy[-1] <= 0.75


def test_adam_and_test_data():
    tr, te = D.train_test_split(D.digits(), 0.25)
    h = train(mlp([64, 32, 10]), tr, epochs=3, lr=1e-2, optimizer="adam", test_data=te)
    assert len(h.test_accuracy) == 4 and h.test_accuracy[-1] > 0.8
    assert accuracy(mlp([64, 32, 10]), te) < 0.5


@pytest.mark.parametrize("kwargs, exc, words", [
    (dict(lr=0), ValueError, "lr must be positive"),
    (dict(lr=float("nan")), ValueError, "lr must be finite"),
    (dict(epochs=-1), ValueError, "epochs must be >= 0"),
    (dict(batch_size=0), ValueError, "batch_size must be >= 1"),
    (dict(optimizer="rmsprop"), ValueError, "optimizer must be"),
    (dict(momentum=1.0), ValueError, "momentum must be in"),
    (dict(device="tpu:banana"), ValueError, "not a valid torch device"),
    (dict(device=0.5), TypeError, "device must be a string"),
])
def test_train_bad_input(kwargs, exc, words):
    with pytest.raises(exc, match=words):
        train(mlp([2, 4, 2]), D.xor(), **kwargs)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(ValueError, match="no CUDA GPU"):
        train(mlp([2, 4, 2]), D.xor(), device="cuda")


def test_train_rejects_wrong_types():
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        train("net", D.xor())
    with pytest.raises(TypeError, match="data must be a relu_lab.data.Dataset"):
        train(mlp([2, 4, 2]), (torch.zeros(3, 2), torch.zeros(3)))

# -------------------------------------------------------------- gradients


def test_gradient_norms_match_manual_backward_and_leave_grads_alone():
    net = mlp([4, 16, 16, 3])
    x, y = torch.randn(32, 4, generator=torch.Generator().manual_seed(0)), torch.arange(32) % 3
    norms = gradient_norms(net, x, y)
    assert all(p.grad is None for p in net.parameters())
    torch.nn.functional.cross_entropy(net(x), y).backward()
    expected = [net.linear1.weight.grad.norm().item(), net.linear2.weight.grad.norm().item(),
                net.linear3.weight.grad.norm().item()]
    assert list(norms) == ["linear1", "linear2", "linear3"]
    assert list(norms.values()) == pytest.approx(expected)


def test_sigmoid_gradients_vanish_with_depth():
    x, y = torch.randn(64, 8, generator=torch.Generator().manual_seed(0)), torch.arange(64) % 2
    norms = list(gradient_norms(mlp([8] + [32] * 10 + [2], "sigmoid", "xavier"), x, y).values())
    assert norms[0] < norms[-1] / 100


@pytest.mark.parametrize("call, exc, words", [
    (lambda: gradient_norms("net", torch.zeros(2, 2), torch.zeros(2)), TypeError, "model must be"),
    (lambda: gradient_norms(mlp([2, 2]), [[0.0, 0.0]], torch.zeros(1)), TypeError, "torch tensors"),
    (lambda: gradient_norms(mlp([2, 2]), torch.zeros(0, 2), torch.zeros(0)), ValueError, "at least one example"),
    (lambda: gradient_norms(mlp([2, 2]), torch.zeros(3, 2), torch.zeros(2)), ValueError, "one entry per input"),
    (lambda: gradient_norms(nn.ReLU(), torch.zeros(3, 2), torch.zeros(3)), ValueError, "no nn.Linear"),
])
def test_gradient_norms_bad_input(call, exc, words):
    with pytest.raises(exc, match=words):
        call()

# ---------------------------------------------------------------- seeding


def test_seed_everything_repeats_numpy_and_torch():
    seed_everything(7)
    a = (np.random.rand(), torch.rand(1).item())
    rng = seed_everything(7)
    assert (np.random.rand(), torch.rand(1).item()) == a
    assert isinstance(rng, np.random.Generator)
    with pytest.raises(ValueError, match="seed must be >= 0"):
        seed_everything(-3)
    with pytest.raises(TypeError, match="seed must be an integer"):
        seed_everything("7")


@pytest.mark.parametrize("name, momentum", [("sgd", 0.0), ("sgd", 0.9), ("adam", 0.0)])
def test_optimisers_match_torch_optim_bit_for_bit(name, momentum):
    data = D.xor(64, seed=1)
    ours, theirs = mlp([2, 16, 16, 2], seed=0), mlp([2, 16, 16, 2], seed=0)
    opt = T.make_optimizer(name, ours.parameters(), lr=0.05, momentum=momentum)
    if name == "sgd":
        ref = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=momentum)
    else:
        ref = torch.optim.Adam(theirs.parameters(), lr=0.05)
    for step in range(6):
        idx = torch.arange(step * 8, step * 8 + 16) % 64
        for net, o in ((ours, opt), (theirs, ref)):
            o.zero_grad()
            torch.nn.functional.cross_entropy(net(data.X[idx]), data.y[idx]).backward()
            o.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.equal(a, b)


def test_optimisers_skip_parameters_without_gradient():
    net = mlp([2, 4, 2], seed=0)
    frozen = net.linear2.weight.detach().clone()
    opt = T.SGD(net.parameters(), lr=0.1, momentum=0.9)
    net(torch.ones(3, 2))[:, 0].sum().backward()
    net.linear2.weight.grad = None
    opt.step()
    assert torch.equal(net.linear2.weight, frozen)


def test_training_does_not_import_torch_compile():
    import subprocess
    import sys

    code = ("import sys; from relu_lab.models import mlp; from relu_lab.training import train;"
            "from relu_lab.data import xor; train(mlp([2, 4, 2]), xor(), epochs=1);"
            "train(mlp([2, 4, 2]), xor(), epochs=1, optimizer='adam');"
            "print('torch._dynamo' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_on_epoch_sees_the_model_in_eval_mode_once_per_record():
    seen = []
    net = mlp([2, 4, 2], seed=0)
    h = train(net, D.xor(), epochs=3, on_epoch=lambda m: seen.append(m.training))
    assert seen == [False] * (h.epochs + 1) and net.training


def test_on_epoch_must_be_callable():
    with pytest.raises(TypeError, match="on_epoch must be a callable"):
        train(mlp([2, 2]), D.xor(), epochs=1, on_epoch="slopes")
