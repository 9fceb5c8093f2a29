"""Multilayer perceptrons with a chosen activation and initialisation, built from a seed.

Introduced in chapter 2 (a two-unit network for XOR); chapters 6 to 10 build deep ones.
Chapter 11 adds what today's networks put around the activation: skip connections
(``residual=True``, :class:`Residual`) and normalisation before it (``norm="batch"`` or
``"layer"``); :mod:`relu_lab.transformer` builds the transformer's feed-forward block.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Union

import torch
from torch import nn

from relu_lab._validation import check_positive_int, check_real

__all__ = ["mlp", "Residual", "SquaredReLU", "ACTIVATION_MODULES", "INITS", "NORMS"]


class SquaredReLU(nn.Module):
    """``relu(x) ** 2``, the feed-forward activation of Primer (So et al., 2021).

    Examples
    --------
    >>> SquaredReLU()(torch.tensor([-2.0, 3.0]))
    tensor([0., 9.])
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x).square()


class Residual(nn.Module):
    """A skip connection around ``branch``: ``h + branch(h)`` (He et al., 2016).

    Examples
    --------
    >>> block = Residual(nn.Sequential(nn.ReLU(), nn.Linear(2, 2)))
    >>> isinstance(block.branch, nn.Sequential)
    True
    """

    def __init__(self, branch: nn.Module) -> None:
        super().__init__()
        if not isinstance(branch, nn.Module):
            raise TypeError(f"branch must be a torch.nn.Module, got {type(branch).__name__}")
        self.branch = branch

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return h + self.branch(h)

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
    # chapter 11
    "gelu_tanh": lambda width: nn.GELU(approximate="tanh"),
    "relu6": lambda width: nn.ReLU6(),
    "hardswish": lambda width: nn.Hardswish(),
    "selu": lambda width: nn.SELU(),
    "squared_relu": lambda width: SquaredReLU(),
}

#: Normalisation layers accepted by :func:`mlp` (``norm=``), placed before each activation.
NORMS: dict[str, Callable[[int], nn.Module]] = {
    "batch": lambda width: nn.BatchNorm1d(width),
    "layer": lambda width: nn.LayerNorm(width),
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
    norm: str | None = None,
    residual: bool = False,
    branch_scale: float | None = None,
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
    norm : {None, "batch", "layer"}, default None
        A normalisation layer between each hidden linear layer and its activation
        (``Linear -> norm -> activation``): ``"batch"`` is ``nn.BatchNorm1d`` (Ioffe &
        Szegedy, 2015), ``"layer"`` is ``nn.LayerNorm`` (Ba et al., 2016), each with its
        learned scale (gamma, starting at 1) and shift (beta, starting at 0). Modules
        named ``norm1, norm2, ...``.
    residual : bool, default False
        Add skip connections (He et al., 2016). The plain network is the sequence
        ``linear1, [norm1], act1, linear2, [norm2], act2, ..., linear<L>``; with
        ``residual=True`` every group ``[norm<i>], act<i>, linear<i+1>`` whose linear
        layer keeps the width becomes a :class:`Residual` block ``h + group(h)``, named
        ``residual<i+1>`` (the "full pre-activation" order of He et al.'s identity
        mappings). The same seed gives the same weights as the plain network, except
        that each block's linear weights are multiplied by ``branch_scale``. Needs at
        least one such group (two hidden layers of equal width).
    branch_scale : float, optional
        Factor for the weights of each residual block's linear layer at initialisation;
        by default ``1 / sqrt(number of blocks)``, as GPT-2 scales its residual layers
        (Radford et al., 2019), so that the signal grows by a bounded factor (at most
        about ``e`` in variance with He weights) instead of doubling at every block.
        Only with ``residual=True``.

    Returns
    -------
    torch.nn.Sequential
        Modules named ``linear1, relu1, linear2, ...`` (and ``norm<i>``,
        ``residual<i>`` with the options above).

    Examples
    --------
    >>> net = mlp([2, 3, 1])
    >>> [name for name, _ in net.named_children()]
    ['linear1', 'relu1', 'linear2']
    >>> torch.equal(mlp([2, 3, 1])[0].weight, net[0].weight)  # same seed, same weights
    True
    >>> [name for name, _ in mlp([2, 3, 3, 1], norm="layer").named_children()]
    ['linear1', 'norm1', 'relu1', 'linear2', 'norm2', 'relu2', 'linear3']
    >>> deep = mlp([2, 3, 3, 3, 1], residual=True)
    >>> [name for name, _ in deep.named_children()]
    ['linear1', 'residual2', 'residual3', 'relu3', 'linear4']
    >>> [name for name, _ in deep.residual2.branch.named_children()]
    ['relu1', 'linear2']
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
    if norm is not None and not isinstance(norm, str):
        raise TypeError(f"norm must be None, 'batch' or 'layer', got {type(norm).__name__}")
    if norm is not None and norm not in NORMS:
        raise ValueError(f"norm must be None, 'batch' or 'layer', got {norm!r}")
    if not isinstance(residual, bool):
        raise TypeError(f"residual must be True or False, got {type(residual).__name__}")
    # a block wraps linear<i+1> (i from 1) when it keeps the width
    blocks = [i for i in range(1, len(sizes) - 2) if sizes[i] == sizes[i + 1]] if residual else []
    if residual and not blocks:
        raise ValueError(f"residual=True needs two consecutive hidden layers of equal width, got sizes {sizes}")
    if branch_scale is not None:
        if not residual:
            raise ValueError("branch_scale applies to residual blocks only: pass residual=True")
        branch_scale = check_real(branch_scale, "branch_scale")
        if branch_scale <= 0:
            raise ValueError(f"branch_scale must be positive, got {branch_scale}")
    elif blocks:
        branch_scale = len(blocks) ** -0.5
    act_name = activation if isinstance(activation, str) else "act"
    if act_name == "prelu_channelwise":
        act_name = "prelu"

    # The plain sequence, one entry per module, in the order the seed draws the weights.
    flat: list[tuple[str, nn.Module]] = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
            linear = nn.Linear(fan_in, fan_out)
            _initialise(linear, init, bias)
            flat.append((f"linear{i}", linear))
            if i < len(sizes) - 1:
                if norm is not None:
                    flat.append((f"norm{i}", NORMS[norm](fan_out)))
                flat.append((f"{act_name}{i}", make_activation(fan_out)))
    layers: OrderedDict[str, nn.Module] = OrderedDict()
    group: list[tuple[str, nn.Module]] = []  # [norm<i>], act<i> waiting for linear<i+1>
    for name, module in flat:
        if not isinstance(module, nn.Linear):
            group.append((name, module))
            continue
        index = int(name[len("linear"):])
        if index - 1 in blocks:
            with torch.no_grad():
                module.weight.mul_(branch_scale)
            layers[f"residual{index}"] = Residual(nn.Sequential(OrderedDict(group + [(name, module)])))
        else:
            layers.update(group)
            layers[name] = module
        group = []
    return nn.Sequential(layers)
