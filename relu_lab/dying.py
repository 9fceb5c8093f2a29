"""Dying ReLU: networks born dead, units that never switch on, and learned slopes.

Introduced in chapter 8 (:func:`born_dead_probability`, networks that compute a
constant before any training, and :func:`dead_fraction_by_step`, to see in which steps
units die) and chapter 9 (:func:`inactive_units`, a fair count of "switched-off" units
for leaky activations, :func:`mean_derivatives`, how much gradient each unit lets
through, and :func:`train_recording` with :func:`prelu_slopes`, to follow a Parametric
ReLU's learned slope through training).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, TypeVar

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from relu_lab._validation import check_positive_int, check_real
from relu_lab.data import Dataset
from relu_lab.sparsity import capture_activations, dead_units
from relu_lab.training import History, make_optimizer, train

__all__ = ["born_dead_probability", "StepTrace", "dead_fraction_by_step", "inactive_units", "inactive_fraction",
           "mean_derivatives", "prelu_slopes", "train_recording", "SwitchedOff", "residual_switched_off"]

T = TypeVar("T")


def born_dead_probability(
    width: int,
    depth: int,
    *,
    n_networks: int = 1000,
    input_dim: int = 1,
    n_points: int = 64,
    bias_std: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """Estimate, by sampling, how likely a deep narrow ReLU network is *born dead*.

    A network is born dead when, straight after random initialisation, it computes a
    constant on its whole input domain, here the cube ``[-1, 1] ** input_dim``. It
    happens as soon as one hidden layer outputs the same values for every input (in
    practice: every unit of that layer is 0 everywhere), because all later layers then
    see a constant. Lu, Shin, Su & Karniadakis (2019) prove that for a fixed width the
    probability tends to 1 as the depth grows.

    ``n_networks`` networks of ``depth`` hidden layers of ``width`` units are drawn
    with He-normal weights (standard deviation ``sqrt(2 / fan_in)``) and normal biases
    of standard deviation ``bias_std`` (0: zero biases, as ``relu_lab.models.mlp``).
    Each is evaluated in float64 on ``n_points`` inputs: evenly spaced on ``[-1, 1]``
    when ``input_dim`` is 1 (with zero biases the end points alone decide, so the
    answer is exact), otherwise drawn uniformly from the cube. The first ``L`` layers
    of a sampled network form a sampled network of depth ``L``, so one pass gives the
    estimate for every depth from 1 to ``depth``.

    Parameters
    ----------
    width : int
        Units per hidden layer, at least 1.
    depth : int
        Largest number of hidden layers, at least 1.
    n_networks : int, default 1000
        Networks sampled; the standard error is at most ``0.5 / sqrt(n_networks)``.
    input_dim : int, default 1
        Dimension of the input domain.
    n_points : int, default 64
        Inputs at which each network is evaluated, at least 2.
    bias_std : float, default 0.0
        Standard deviation of the biases, non-negative.
    seed : int, default 0
        Seed of the weights (and of the inputs when ``input_dim > 1``).

    Returns
    -------
    numpy.ndarray
        Shape ``(depth,)``: entry ``L - 1`` is the fraction of sampled networks with
        ``L`` hidden layers that are born dead. It never decreases with ``L``.

    Examples
    --------
    >>> p = born_dead_probability(width=2, depth=30, n_networks=500)
    >>> p.shape, float(p[0]), bool(p[-1] > 0.9)
    ((30,), 0.0, True)
    >>> bool(born_dead_probability(8, 30, n_networks=500)[-1] < p[-1])  # wider: less often
    True
    """
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth")
    n_networks = check_positive_int(n_networks, "n_networks")
    input_dim = check_positive_int(input_dim, "input_dim")
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    bias_std = check_real(bias_std, "bias_std")
    if bias_std < 0:
        raise ValueError(f"bias_std must be >= 0, got {bias_std}")
    seed = check_positive_int(seed, "seed", minimum=0)

    g = torch.Generator().manual_seed(seed)
    if input_dim == 1:
        x = torch.linspace(-1.0, 1.0, n_points, dtype=torch.float64).reshape(-1, 1)
    else:
        x = torch.rand(n_points, input_dim, generator=g, dtype=torch.float64) * 2 - 1
    h = x.expand(n_networks, -1, -1)
    dead = torch.zeros(n_networks, dtype=torch.bool)
    probability = np.empty(depth)
    fan_in = input_dim
    for layer in range(depth):
        w = torch.randn(n_networks, fan_in, width, generator=g, dtype=torch.float64) * (2.0 / fan_in) ** 0.5
        b = torch.randn(n_networks, 1, width, generator=g, dtype=torch.float64) * bias_std
        h = torch.relu(h @ w + b)
        fan_in = width
        dead |= (h.amax(dim=1) == h.amin(dim=1)).all(dim=1)  # every unit constant over the inputs
        probability[layer] = dead.double().mean().item()
    return probability


class SwitchedOff(NamedTuple):
    """What :func:`residual_switched_off` counts, each a fraction of the sampled networks."""

    block_off: float
    """Networks with at least one block whose units are all 0 on every input."""
    constant: float
    """Networks whose output is the same for every input (born dead)."""


def residual_switched_off(
    width: int,
    depth: int,
    *,
    n_networks: int = 1000,
    n_points: int = 16,
    seed: int = 0,
) -> SwitchedOff:
    """Chapter 8's born-dead test for residual networks: blocks switched off, constants.

    Samples ``n_networks`` networks on one input ``x`` in ``[-1, 1]`` (``n_points``
    evenly spaced values, float64): a first layer ``h = x w`` with He-normal weights,
    then ``depth - 1`` residual blocks ``h + ReLU(h) W`` (He et al., 2016, with the
    activation first as in their identity-mappings paper) whose weights have variance
    ``2 / (width * (depth - 1))``: He's variance scaled by ``1 / (depth - 1)``, so that
    the blocks together do not blow the signal up (as GPT-2 scales its residual
    weights). Biases are 0, as in :func:`born_dead_probability`, whose plain networks
    of ``depth`` hidden layers are the comparison.

    Parameters
    ----------
    width : int
        Units per layer, at least 1.
    depth : int
        Hidden layers: the first layer and ``depth - 1`` blocks; at least 2.
    n_networks : int, default 1000
        Networks sampled.
    n_points : int, default 16
        Inputs at which each network is evaluated, at least 2.
    seed : int, default 0
        Seed of the weights.

    Returns
    -------
    SwitchedOff
        ``block_off``: the fraction of networks in which some block's units are all 0
        on every input; ``constant``: the fraction whose last layer is the same for
        every input.

    Examples
    --------
    >>> r = residual_switched_off(3, 30, n_networks=200)
    >>> r.constant
    0.0
    >>> bool(born_dead_probability(3, 30, n_networks=200, n_points=16)[-1] > 0.8)
    True
    """
    width = check_positive_int(width, "width")
    depth = check_positive_int(depth, "depth", minimum=2)
    n_networks = check_positive_int(n_networks, "n_networks")
    n_points = check_positive_int(n_points, "n_points", minimum=2)
    seed = check_positive_int(seed, "seed", minimum=0)
    g = torch.Generator().manual_seed(seed)
    x = torch.linspace(-1, 1, n_points, dtype=torch.float64).reshape(1, -1, 1)
    w1 = torch.randn(n_networks, 1, width, generator=g, dtype=torch.float64)
    h = x @ (w1 * 2**0.5)
    off = torch.zeros(n_networks, dtype=torch.bool)
    scale = (2 / width / (depth - 1)) ** 0.5
    for _ in range(depth - 1):
        a = torch.relu(h)
        off |= (a == 0).all(dim=2).all(dim=1)  # every unit 0 on every input
        w = torch.randn(n_networks, width, width, generator=g, dtype=torch.float64)
        h = h + a @ (w * scale)
    constant = (h.amax(dim=1) == h.amin(dim=1)).all(dim=1)
    return SwitchedOff(off.double().mean().item(), constant.double().mean().item())


@dataclass(frozen=True)
class StepTrace:
    """What :func:`dead_fraction_by_step` records, one entry per optimiser step.

    Attributes
    ----------
    dead_fraction : numpy.ndarray
        Shape ``(steps + 1,)``: the fraction of dead units on the whole training set
        before training (entry 0) and after every step.
    gradient_norm : numpy.ndarray
        Shape ``(steps,)``: the Euclidean norm of the minibatch gradient of all
        parameters together, taken just before each step.
    killed : numpy.ndarray
        Shape ``(steps,)``: how many units each step killed (dead after the step, not
        dead before it). ``killed - revived`` is the step's net change in dead units.
    revived : numpy.ndarray
        Shape ``(steps,)``: how many dead units each step brought back to life.
    """

    dead_fraction: np.ndarray
    gradient_norm: np.ndarray
    killed: np.ndarray
    revived: np.ndarray


def dead_fraction_by_step(
    model: nn.Module,
    data: Dataset,
    *,
    epochs: int = 1,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    seed: int = 0,
) -> StepTrace:
    """Train ``model`` as :func:`relu_lab.training.train` does, recording every step.

    ``train`` records the dead fraction once per epoch, which cannot tell one large
    step from many small ones. This loop takes the same steps (same minibatches in the
    same order for the same ``seed``, same optimiser; the tests check that the trained
    weights are bit for bit those of ``train``) and after each step measures the dead
    fraction on the whole of ``data``, and before it the size of the gradient.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier with at least one activation layer; trained in place, on the CPU.
    data : Dataset
        Training data.
    epochs, lr, batch_size, optimizer, seed
        As for :func:`relu_lab.training.train` (SGD without momentum, or Adam).

    Returns
    -------
    StepTrace

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.models import mlp
    >>> trace = dead_fraction_by_step(mlp([2, 4, 2]), xor(), epochs=3, batch_size=100)
    >>> trace.dead_fraction.shape, trace.gradient_norm.shape
    ((7,), (6,))
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a relu_lab.data.Dataset, got {type(data).__name__}")
    epochs = check_positive_int(epochs, "epochs")
    batch_size = check_positive_int(batch_size, "batch_size")
    lr = check_real(lr, "lr")
    if lr <= 0:
        raise ValueError(f"lr must be positive, got {lr}")
    seed = check_positive_int(seed, "seed", minimum=0)
    opt = make_optimizer(optimizer, model.parameters(), lr=lr)
    X, y = data.X, data.y
    generator = torch.Generator().manual_seed(seed)

    def measure() -> torch.Tensor:
        model.eval()
        with torch.no_grad():
            mask = torch.cat([m.reshape(-1) for m in dead_units(model, X).values()])
        model.train()
        return mask

    masks, norms = [measure()], []
    for _ in range(epochs):
        order = torch.randperm(len(data), generator=generator)
        for start in range(0, len(data), batch_size):
            idx = order[start:start + batch_size]
            opt.zero_grad()
            F.cross_entropy(model(X[idx]), y[idx]).backward()
            grads = [p.grad.double().reshape(-1) for p in model.parameters() if p.grad is not None]
            norms.append(float(torch.cat(grads).norm()))
            opt.step()
            masks.append(measure())
    dead = torch.stack(masks)  # (steps + 1, units)
    killed = (dead[1:] & ~dead[:-1]).sum(dim=1)
    revived = (~dead[1:] & dead[:-1]).sum(dim=1)
    return StepTrace(dead.double().mean(dim=1).numpy(), np.array(norms),
                     killed.numpy(), revived.numpy())


def inactive_units(model: nn.Module, inputs: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
    """For each activation layer, which units have pre-activation ``<= 0`` on every input.

    For ReLU this is the same as :func:`relu_lab.sparsity.dead_units` (output exactly 0
    on every input). A Leaky or Parametric ReLU unit never outputs 0 for a negative
    input, so ``dead_units`` cannot see that it is switched off; this function looks at
    the activation layer's *input* instead, which is fair to every activation.

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one activation layer (see
        :data:`relu_lab.sparsity.ACTIVATION_LAYERS`).
    inputs : torch.Tensor
        A batch, examples along dimension 0.

    Returns
    -------
    OrderedDict
        Activation layer name to a boolean tensor with one entry per unit (True =
        inactive on every input).

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 3, 1], activation="leaky_relu", bias=-100.0)
    >>> inactive_units(net, torch.randn(10, 2))["leaky_relu1"].tolist()
    [True, True, True]
    """
    pre_activations = capture_activations(model, inputs, of="input")
    return OrderedDict((name, (z <= 0).all(dim=0)) for name, z in pre_activations.items())


def inactive_fraction(model: nn.Module, inputs: torch.Tensor) -> float:
    """Fraction of all activation units of ``model`` that are inactive on ``inputs``.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> inactive_fraction(mlp([2, 3, 1], activation="prelu", bias=-100.0), torch.randn(10, 2))
    1.0
    """
    found = inactive_units(model, inputs)
    total = sum(u.numel() for u in found.values())
    return float(sum(int(u.sum()) for u in found.values()) / total)


def mean_derivatives(model: nn.Module, inputs: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
    """For each activation layer, every unit's derivative averaged over ``inputs``.

    Backpropagation multiplies the gradient that reaches a unit by the derivative of
    its activation at the unit's pre-activation, so this average is the share of the
    backward signal the unit lets through, on average over the data: 0 for a dead ReLU
    unit, ``alpha`` for a Leaky or Parametric ReLU unit that is inactive on every input,
    1 for a unit that is active on every input. Unlike :func:`inactive_units`, it can be
    compared across activations with different slopes.

    The derivative is the one PyTorch's autograd uses (for ReLU and its relatives, the
    left slope at 0), computed by differentiating the layer itself, so any activation
    that acts on each number on its own is supported.

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one activation layer (see
        :data:`relu_lab.sparsity.ACTIVATION_LAYERS`).
    inputs : torch.Tensor
        A batch, examples along dimension 0.

    Returns
    -------
    OrderedDict
        Activation layer name to a float tensor with one entry per unit.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 3, 1], activation="leaky_relu", bias=-100.0)  # off everywhere
    >>> mean_derivatives(net, torch.randn(10, 2))["leaky_relu1"].tolist()
    [0.009999999776482582, 0.009999999776482582, 0.009999999776482582]
    """
    pre_activations = capture_activations(model, inputs, of="input")
    modules = dict(model.named_modules())
    result: OrderedDict[str, torch.Tensor] = OrderedDict()
    for name, z in pre_activations.items():
        z = z.detach().requires_grad_(True)
        with torch.enable_grad():
            (slope,) = torch.autograd.grad(modules[name](z).sum(), z)
        result[name] = slope.mean(dim=0)
    return result


def prelu_slopes(model: nn.Module) -> OrderedDict[str, np.ndarray]:
    """The current negative slopes of every ``nn.PReLU`` in ``model``, as float64 copies.

    Returns
    -------
    OrderedDict
        Module name to a 1-D array: one slope (shared) or one per channel.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> slopes = prelu_slopes(mlp([2, 3, 3, 1], activation="prelu"))
    >>> {name: s.tolist() for name, s in slopes.items()}
    {'prelu1': [0.25], 'prelu2': [0.25]}
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    slopes = OrderedDict(
        (name, m.weight.detach().cpu().double().numpy().copy())
        for name, m in model.named_modules() if isinstance(m, nn.PReLU)
    )
    if not slopes:
        raise ValueError("model has no nn.PReLU layer")
    return slopes


def train_recording(
    model: nn.Module,
    data: Dataset,
    record: Callable[[nn.Module], T],
    *,
    epochs: int = 10,
    lr: float = 0.1,
    batch_size: int = 64,
    optimizer: str = "sgd",
    momentum: float = 0.0,
    seed: int = 0,
    test_data: Dataset | None = None,
) -> tuple[History, list[T]]:
    """:func:`relu_lab.training.train`, calling ``record(model)`` before and after each epoch.

    The training itself is exactly that of ``train`` with the same arguments (same
    minibatches, same optimiser, same :class:`~relu_lab.training.History`), on the CPU.
    ``record`` sees the model in evaluation mode and should not change it; whatever it
    returns is collected, so index 0 is the untrained model, as in ``History``.

    Parameters
    ----------
    model, data, epochs, lr, batch_size, optimizer, momentum, seed, test_data
        As for :func:`relu_lab.training.train`.
    record : callable
        Called with the model; for example :func:`prelu_slopes`, or
        ``lambda m: inactive_fraction(m, data.X)``.

    Returns
    -------
    (History, list)
        The training history and the ``epochs + 1`` recorded values.

    Examples
    --------
    >>> from relu_lab.data import xor
    >>> from relu_lab.models import mlp
    >>> history, slopes = train_recording(mlp([2, 8, 2], activation="prelu"), xor(),
    ...                                   prelu_slopes, epochs=3, lr=0.5)
    >>> len(slopes), history.epochs, float(slopes[0]["prelu1"][0])
    (4, 3, 0.25)
    """
    if not callable(record):
        raise TypeError(f"record must be a callable taking the model, got {type(record).__name__}")
    recorded: list[T] = []
    history = train(model, data, epochs=epochs, lr=lr, batch_size=batch_size, optimizer=optimizer,
                    momentum=momentum, seed=seed, test_data=test_data,
                    on_epoch=lambda m: recorded.append(record(m)))
    return history, recorded
