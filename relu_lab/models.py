"""Multilayer perceptrons with a chosen activation and initialisation, built from a seed.

Introduced in chapter 2 (a two-unit network for XOR); chapters 6 to 10 build deep ones.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Union

import torch
from torch import nn

from relu_lab._validation import check_positive_int, check_real

__all__ = ["mlp", "ACTIVATION_MODULES", "INITS"]

#: Activation names accepted by :func:`mlp`, each mapped to a factory taking the layer width.
ACTIVATION_MODULES: dict[str, Callable[[int], nn.Module]] = {
    "relu": lambda width: nn.ReLU(),
    "leaky_relu": lambda width: nn.LeakyReLU(0.01),
    "prelu": lambda width: nn.PReLU(num_parameters=1, init=0.25),
    "prelu_channelwise": lambda width: nn.PReLU(num_parameters=width, init=0.25),
    "sigmoid": lambda width: nn.Sigmoid(),
    "tanh": lambda width: nn.Tanh(),
    "elu": lambda width: nn.ELU(),
    "gelu": lambda width: nn.GELU(),
    "silu": lambda width: nn.SiLU(),
    "identity": lambda width: nn.Identity(),
}

#: Initialisation schemes accepted by :func:`mlp` (a positive float is also accepted).
INITS = ("he", "xavier", "default")

Activation = Union[str, Callable[[], nn.Module]]


def _activation_factory(activation: Activation) -> Callable[[int], nn.Module]:
    if isinstance(activation, str):
        if activation not in ACTIVATION_MODULES:
            raise ValueError(f"activation must be one of {sorted(ACTIVATION_MODULES)} or a callable, got {activation!r}")
        return ACTIVATION_MODULES[activation]
    if callable(activation):
        def factory(width: int) -> nn.Module:
            module = activation()
            if not isinstance(module, nn.Module):
                raise TypeError(f"activation() must return a torch.nn.Module, got {type(module).__name__}")
            return module
        return factory
    raise TypeError(f"activation must be a name or a callable returning an nn.Module, got {type(activation).__name__}")


def _initialise(layer: nn.Linear, init: str | float, bias: float | None) -> None:
    if init == "he":
        nn.init.kaiming_normal_(layer.weight, mode="fan_in", nonlinearity="relu")
        nn.init.zeros_(layer.bias)
    elif init == "xavier":
        nn.init.xavier_normal_(layer.weight)
        nn.init.zeros_(layer.bias)
    elif init == "default":
        pass  # nn.Linear's own: uniform(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases
    else:
        nn.init.normal_(layer.weight, mean=0.0, std=float(init))
        nn.init.zeros_(layer.bias)
    if bias is not None:
        nn.init.constant_(layer.bias, bias)


def mlp(
    sizes: Sequence[int],
    activation: Activation = "relu",
    init: str | float = "he",
    *,
    bias: float | None = None,
    seed: int = 0,
) -> nn.Sequential:
    """Build a fully connected network ``Linear -> activation -> ... -> Linear``.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, at least two, e.g. ``[64, 32, 32, 10]``.
    activation : str or callable, default "relu"
        A name from :data:`ACTIVATION_MODULES`, or a callable with no arguments that
        returns a fresh ``nn.Module`` (such as ``lambda: nn.LeakyReLU(0.2)``). The
        output layer has no activation.
    init : {"he", "xavier", "default"} or float, default "he"
        ``"he"``: normal weights with standard deviation ``sqrt(2 / fan_in)`` (He et al.,
        2015); ``"xavier"``: standard deviation ``sqrt(2 / (fan_in + fan_out))`` (Glorot &
        Bengio, 2010); ``"default"``: PyTorch's own initialisation; a positive float:
        normal weights with that standard deviation. Biases start at 0, except with
        ``"default"``.
    bias : float, optional
        If given, every bias starts at this value (chapter 8 uses a large negative one).
    seed : int, default 0
        Seed for the weights. The global random state is left untouched.

    Returns
    -------
    torch.nn.Sequential
        Modules named ``linear1, relu1, linear2, ...``.

    Examples
    --------
    >>> net = mlp([2, 3, 1])
    >>> [name for name, _ in net.named_children()]
    ['linear1', 'relu1', 'linear2']
    >>> torch.equal(mlp([2, 3, 1])[0].weight, net[0].weight)  # same seed, same weights
    True
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least an input and an output width, got {list(sizes)}")
    sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    make_activation = _activation_factory(activation)
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS} or a positive float, got {init!r}")
    else:
        std = check_real(init, "init")
        if std <= 0:
            raise ValueError(f"init must be a positive standard deviation, got {std}")
    if bias is not None:
        bias = check_real(bias, "bias")
    seed = check_positive_int(seed, "seed", minimum=0)
    act_name = activation if isinstance(activation, str) else "act"
    if act_name == "prelu_channelwise":
        act_name = "prelu"

    layers: OrderedDict[str, nn.Module] = OrderedDict()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            linear = nn.Linear(fan_in, fan_out)
            _initialise(linear, init, bias)
            layers[f"linear{i}"] = linear
            if i < len(sizes) - 1:
                layers[f"{act_name}{i}"] = make_activation(fan_out)
    return nn.Sequential(layers)
