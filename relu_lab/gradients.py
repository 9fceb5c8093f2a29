"""Gradient flow through depth: how large each layer's gradient is.

Introduced in chapter 6, where deep sigmoid, tanh and ReLU networks are compared.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["gradient_norms"]


def gradient_norms(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = F.cross_entropy,
) -> OrderedDict[str, float]:
    """L2 norm of the loss gradient with respect to each linear layer's weights.

    The gradients are computed with :func:`torch.autograd.grad`, so the model's
    ``.grad`` attributes are left as they were.

    Parameters
    ----------
    model : torch.nn.Module
        A network with at least one ``nn.Linear`` or ``nn.Conv*d`` layer.
    inputs, targets : torch.Tensor
        One batch, and the targets ``loss_fn`` expects (class indices by default).
    loss_fn : callable, default ``torch.nn.functional.cross_entropy``
        ``loss_fn(model(inputs), targets)`` must return a scalar.

    Returns
    -------
    OrderedDict
        Layer name to gradient norm, from the input layer to the output layer.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> norms = gradient_norms(mlp([4, 8, 3]), torch.randn(16, 4), torch.arange(16) % 3)
    >>> list(norms)
    ['linear1', 'linear2']
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if not isinstance(inputs, torch.Tensor) or not isinstance(targets, torch.Tensor):
        raise TypeError("inputs and targets must be torch tensors")
    if inputs.ndim == 0 or inputs.shape[0] == 0:
        raise ValueError(f"inputs must hold at least one example, got shape {tuple(inputs.shape)}")
    if targets.shape[:1] != inputs.shape[:1]:
        raise ValueError(f"targets must have one entry per input: {tuple(targets.shape)} vs {tuple(inputs.shape)}")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    layers = [(name, m) for name, m in model.named_modules() if isinstance(m, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d))]
    if not layers:
        raise ValueError("model has no nn.Linear or nn.Conv layer whose gradient could be measured")
    loss = loss_fn(model(inputs), targets)
    if loss.ndim != 0:
        raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}")
    grads = torch.autograd.grad(loss, [m.weight for _, m in layers])
    return OrderedDict((name, float(g.norm())) for (name, _), g in zip(layers, grads))
