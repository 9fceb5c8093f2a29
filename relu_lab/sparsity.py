"""Sparsity and dead units: how many activations are exactly zero.

Introduced in chapter 4 (:func:`zero_fraction`, :func:`capture_activations`); chapter 8
uses :func:`dead_units` and :func:`dead_fraction` to watch ReLU units die.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import torch
from torch import nn

from relu_lab._validation import as_float_array

__all__ = ["zero_fraction", "ACTIVATION_LAYERS", "capture_activations", "dead_units", "dead_fraction"]

#: Module types that :func:`capture_activations` treats as activation layers.
ACTIVATION_LAYERS: tuple[type[nn.Module], ...] = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.RReLU, nn.ELU, nn.SELU, nn.CELU,
    nn.GELU, nn.SiLU, nn.Mish, nn.Sigmoid, nn.Tanh, nn.Softplus, nn.Hardtanh,
)


def zero_fraction(x: Any) -> float:
    """Fraction of entries of ``x`` that are exactly zero (``-0.0`` counts; NaN does not).

    Parameters
    ----------
    x : array_like or torch.Tensor
        A non-empty array of real numbers.

    Examples
    --------
    >>> zero_fraction([0.0, 1.5, 0.0, -2.0])
    0.5
    >>> zero_fraction(torch.relu(torch.tensor([-1.0, 2.0])))
    0.5
    """
    if isinstance(x, torch.Tensor):
        if x.dtype.is_complex or x.dtype == torch.bool:
            raise TypeError(f"x must hold real numbers, got a tensor of dtype {x.dtype}")
        if x.numel() == 0:
            raise ValueError("x must not be empty: the zero fraction of no values is undefined")
        return float((x.detach() == 0).sum().item() / x.numel())
    arr = as_float_array(x)
    if arr.size == 0:
        raise ValueError("x must not be empty: the zero fraction of no values is undefined")
    return float(np.count_nonzero(arr == 0) / arr.size)


def _check_model_inputs(model: Any, inputs: Any) -> None:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor):
        raise TypeError(f"inputs must be a torch.Tensor, got {type(inputs).__name__}")
    if inputs.ndim == 0 or inputs.shape[0] == 0:
        raise ValueError(f"inputs must hold at least one example (a batch dimension first), got shape {tuple(inputs.shape)}")


def capture_activations(
    model: nn.Module,
    inputs: torch.Tensor,
    layer_types: tuple[type[nn.Module], ...] = ACTIVATION_LAYERS,
    *,
    of: str = "output",
) -> OrderedDict[str, torch.Tensor]:
    """Run ``model`` on ``inputs`` and return every activation layer's output (or input).

    Forward hooks record the tensors and are removed afterwards, even if the forward
    pass raises. The pass runs without gradient tracking.

    Parameters
    ----------
    model : torch.nn.Module
        A network containing at least one module of ``layer_types``.
    inputs : torch.Tensor
        A batch, examples along dimension 0.
    layer_types : tuple of module types
        Which modules count as activation layers; default :data:`ACTIVATION_LAYERS`.
    of : {"output", "input"}, default "output"
        Record what each layer returns, or what it is given (its pre-activations).

    Returns
    -------
    OrderedDict
        Module name to tensor, in the order the layers ran.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> acts = capture_activations(mlp([2, 4, 4, 1]), torch.randn(5, 2))
    >>> {name: tuple(out.shape) for name, out in acts.items()}
    {'relu1': (5, 4), 'relu2': (5, 4)}
    """
    _check_model_inputs(model, inputs)
    targets = [(name, m) for name, m in model.named_modules() if isinstance(m, layer_types)]
    if not targets:
        names = ", ".join(t.__name__ for t in layer_types)
        raise ValueError(f"model has no activation layer (looked for modules of type {names})")
    if of not in ("output", "input"):
        raise ValueError(f"of must be 'output' or 'input', got {of!r}")
    captured: OrderedDict[str, torch.Tensor] = OrderedDict()

    def hook_for(name: str):
        def output_hook(module: nn.Module, args: Any, output: torch.Tensor) -> None:
            captured[name] = output.detach().clone()

        def input_hook(module: nn.Module, args: tuple[Any, ...]) -> None:
            captured[name] = args[0].detach().clone()

        return output_hook if of == "output" else input_hook

    register = "register_forward_hook" if of == "output" else "register_forward_pre_hook"
    handles = [getattr(m, register)(hook_for(name)) for name, m in targets]
    try:
        with torch.no_grad():
            model(inputs)
    finally:
        for h in handles:
            h.remove()
    return captured


def dead_units(model: nn.Module, inputs: torch.Tensor) -> OrderedDict[str, torch.Tensor]:
    """For each activation layer, which units output exactly zero for every input.

    A *unit* is one position of the layer's output after the batch dimension (one
    neuron of an MLP layer). A ReLU unit that is zero on the whole data set gets no
    gradient from any of it, so gradient descent cannot revive it.

    Returns
    -------
    OrderedDict
        Layer name to a boolean tensor with one entry per unit (True = dead).

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> net = mlp([2, 3, 1], bias=-100.0)  # every pre-activation is very negative
    >>> dead_units(net, torch.randn(10, 2))["relu1"].tolist()
    [True, True, True]
    """
    return OrderedDict((name, (out == 0).all(dim=0)) for name, out in capture_activations(model, inputs).items())


def dead_fraction(model: nn.Module, inputs: torch.Tensor) -> float:
    """Fraction of all activation units of ``model`` that are dead on ``inputs``.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> dead_fraction(mlp([2, 3, 1], bias=-100.0), torch.randn(10, 2))
    1.0
    """
    dead = dead_units(model, inputs)
    total = sum(d.numel() for d in dead.values())
    return float(sum(int(d.sum()) for d in dead.values()) / total)
