"""Signals through depth: how large each layer's output is, measured and predicted.

Introduced in chapter 7, where He, Xavier and too-small initialisations are compared
on deep ReLU networks. :func:`layer_stds` measures the spread of every layer's output;
:func:`predicted_stds` gives what the variance recursion of He et al. (2015) predicts
for it; :func:`weight_std` says which weight standard deviation each scheme of
:func:`relu_lab.models.mlp` draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from relu_lab._validation import check_positive_int, check_real
from relu_lab.models import INITS
from relu_lab.sparsity import capture_activations

__all__ = ["weight_std", "predicted_stds", "layer_stds"]


def _check_init(init: str | float) -> str | float:
    if isinstance(init, str):
        if init not in INITS:
            raise ValueError(f"init must be one of {INITS} or a positive float, got {init!r}")
        return init
    std = check_real(init, "init")
    if std <= 0:
        raise ValueError(f"init must be a positive standard deviation, got {std}")
    return std


def weight_std(init: str | float, fan_in: int, fan_out: int) -> float:
    """Standard deviation of the weights that :func:`relu_lab.models.mlp` draws for one layer.

    Parameters
    ----------
    init : {"he", "xavier", "default"} or float
        The scheme, as in :func:`relu_lab.models.mlp`: ``"he"`` gives
        ``sqrt(2 / fan_in)``, ``"xavier"`` gives ``sqrt(2 / (fan_in + fan_out))``,
        ``"default"`` (PyTorch's uniform weights on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``)
        gives ``1 / sqrt(3 * fan_in)``, and a positive float is returned as it is.
    fan_in, fan_out : int
        Number of inputs and outputs of the layer.

    Returns
    -------
    float

    Examples
    --------
    >>> weight_std("he", 50, 10)
    0.2
    >>> round(weight_std("xavier", 64, 64), 4)
    0.125
    >>> weight_std(0.01, 64, 64)
    0.01
    """
    init = _check_init(init)
    fan_in = check_positive_int(fan_in, "fan_in")
    fan_out = check_positive_int(fan_out, "fan_out")
    if init == "he":
        return math.sqrt(2.0 / fan_in)
    if init == "xavier":
        return math.sqrt(2.0 / (fan_in + fan_out))
    if init == "default":
        return 1.0 / math.sqrt(3.0 * fan_in)
    return float(init)


def predicted_stds(
    sizes: Sequence[int],
    init: str | float = "he",
    *,
    input_second_moment: float,
    negative_slope: float = 0.0,
) -> np.ndarray:
    """Standard deviation of each layer's pre-activation, as the variance recursion predicts.

    For a layer ``y = W x`` with independent zero-mean weights of variance
    ``Var[w]``, each output has ``Var[y] = fan_in * Var[w] * E[x**2]``. If ``x`` is
    the ReLU of a pre-activation ``z`` that is symmetric around 0, then
    ``E[x**2] = Var[z] / 2``. Chaining the two gives the recursion of He et al.
    (2015)::

        Var[y_1] = n_0 Var[w_1] E[x_0**2],
        Var[y_l] = n_{l-1} Var[w_l] Var[y_{l-1}] / 2.

    A leaky ReLU with slope ``a`` for negative inputs keeps ``(1 + a**2) / 2`` of the
    variance instead of ``1 / 2``; ``negative_slope=1`` is a linear network.

    Parameters
    ----------
    sizes : sequence of int
        Layer widths from input to output, as in :func:`relu_lab.models.mlp`.
    init : {"he", "xavier"} or float, default "he"
        Weight scheme (see :func:`weight_std`). Biases are assumed to be zero, so
        ``"default"``, whose biases are random, is refused.
    input_second_moment : float
        ``E[x_0**2]``, the mean of the squared input entries (not their variance:
        inputs need not have mean 0).
    negative_slope : float, default 0.0
        Slope of the activation for negative inputs: 0 for ReLU, 0.01 for PyTorch's
        leaky ReLU, 1 for no activation at all.

    Returns
    -------
    numpy.ndarray
        One standard deviation per linear layer, from the first to the output layer.

    Examples
    --------
    >>> predicted_stds([100, 100, 100, 10], "he", input_second_moment=0.5).round(3)
    array([1., 1., 1.])
    >>> predicted_stds([100, 100, 100], "xavier", input_second_moment=1.0).round(3)
    array([1.   , 0.707])
    """
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence):
        raise TypeError(f"sizes must be a sequence of layer widths, got {type(sizes).__name__}")
    if len(sizes) < 2:
        raise ValueError(f"sizes must hold at least an input and an output width, got {list(sizes)}")
    sizes = [check_positive_int(s, f"sizes[{i}]") for i, s in enumerate(sizes)]
    init = _check_init(init)
    if init == "default":
        raise ValueError("init='default' draws random biases, which the recursion leaves out; use 'he', 'xavier' or a float")
    moment = check_real(input_second_moment, "input_second_moment")
    if moment < 0:
        raise ValueError(f"input_second_moment must be >= 0 (a mean of squares), got {moment}")
    slope = check_real(negative_slope, "negative_slope")
    kept = (1.0 + slope**2) / 2.0

    variances = []
    second_moment = moment
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        variance = fan_in * weight_std(init, fan_in, fan_out) ** 2 * second_moment
        variances.append(variance)
        second_moment = kept * variance
    return np.sqrt(np.array(variances, dtype=np.float64))


def layer_stds(
    model: nn.Module,
    inputs: torch.Tensor,
    layer_types: tuple[type[nn.Module], ...] = (nn.Linear,),
) -> np.ndarray:
    """Standard deviation of every entry of each layer's output, over a batch.

    By default the layers are the ``nn.Linear`` ones, so the values are the spreads
    of the pre-activations that enter each activation (and, last, of the network's
    output). The statistic is computed in float64, so signals far below float32's
    smallest normal number squared (about 1e-38) are still measured.

    Parameters
    ----------
    model : torch.nn.Module
        A network containing at least one module of ``layer_types``.
    inputs : torch.Tensor
        A batch, examples along dimension 0.
    layer_types : tuple of module types, default ``(nn.Linear,)``
        Which modules' outputs to measure, in the order they run.

    Returns
    -------
    numpy.ndarray
        One population standard deviation (``ddof=0``) per layer.

    Examples
    --------
    >>> from relu_lab.models import mlp
    >>> sizes = [64, 512, 512]
    >>> x = torch.randn(1000, 64, generator=torch.Generator().manual_seed(0))
    >>> stds = layer_stds(mlp(sizes, "relu", "he"), x)
    >>> predicted = predicted_stds(sizes, "he", input_second_moment=1.0)
    >>> predicted.round(3)  # inputs of variance 1 are not halved by a ReLU: sqrt(2) each
    array([1.414, 1.414])
    >>> stds.shape, bool(np.allclose(stds, predicted, rtol=0.1))
    ((2,), True)
    """
    outputs = capture_activations(model, inputs, layer_types=layer_types)
    return np.array([float(out.double().std(correction=0)) for out in outputs.values()])
