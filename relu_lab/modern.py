"""ReLU's relatives in today's networks, on NumPy arrays, with their derivatives.

Introduced in chapter 11, *ReLU in modern networks*:

* **Bounded and cheap** (mobile networks): :func:`relu6`, ``min(max(0, x), 6)``
  (MobileNetV2), and :func:`hardswish`, ``x * relu6(x + 3) / 6`` (MobileNetV3).
* **Self-normalising**: :func:`selu`, a scaled ELU whose two constants keep activations
  at mean 0 and variance 1 through depth (Klambauer et al., 2017).
* **Squared ReLU**, ``relu(x) ** 2`` (Primer, So et al., 2021).
* **Quantisation**: :func:`quantize` rounds activations to 8-bit levels, to measure
  what a bounded range (ReLU6) does to the error; :func:`quantization_error` and
  :func:`quantized_accuracy` measure it on a network's hidden outputs.
* **Gated linear units** (transformer feed-forward blocks, Shazeer 2020): the input is
  split in two halves ``a, b`` along ``dim`` and the second half gates the first:
  :func:`glu` ``a * sigmoid(b)``, :func:`geglu` ``a * gelu(b)``, :func:`swiglu`
  ``a * silu(b)``.

Semantics follow :mod:`relu_lab.activations`, and therefore ``torch.nn.functional``
(``F.relu6``, ``F.hardswish``, ``F.selu``, ``F.glu``) and PyTorch's autograd, which
``tests/test_modern.py`` checks value for value, edge values and dtypes included:

* At a kink the derivative is PyTorch's: ``relu6'`` is 0 at 0 and at 6, ``hardswish'``
  is 0 at -3 and 1 at 3. ``relu6'(nan)`` is 1 (PyTorch's backward tests
  ``x <= 0 or x >= 6``, false for NaN, in its scalar path), as ``relu'(nan)`` is.
* ``hardswish'(nan)`` and ``selu'(nan)`` are NaN, as for
  :func:`relu_lab.activations.elu_derivative`: PyTorch's own backward gives 1 or NaN
  there depending on where the NaN sits in the tensor (vectorised body or scalar tail).
* ``hardswish(-inf)`` is ``-inf * 0 = nan``, as in PyTorch.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from collections.abc import Sequence

import torch
from torch import nn

from relu_lab._validation import as_float_array
from relu_lab.activations import _compute_dtype, _like, _quiet, _sigmoid, gelu, silu

__all__ = [
    "relu6",
    "relu6_derivative",
    "hardswish",
    "hardswish_derivative",
    "selu",
    "selu_derivative",
    "squared_relu",
    "squared_relu_derivative",
    "glu",
    "geglu",
    "swiglu",
    "SELU_ALPHA",
    "SELU_SCALE",
    "MODERN_ACTIVATIONS",
    "quantize",
    "quantization_error",
    "quantized_accuracy",
]

#: SELU's alpha, as in PyTorch (Klambauer et al., 2017, eq. 14).
SELU_ALPHA = 1.6732632423543772848170429916717
#: SELU's scale (lambda), as in PyTorch (Klambauer et al., 2017, eq. 14).
SELU_SCALE = 1.0507009873554804934193349852946


# ------------------------------------------------------------- bounded: ReLU6, hard-swish


@_quiet
def relu6(x: ArrayLike) -> np.ndarray:
    """ReLU capped at 6, ``min(max(0, x), 6)``, as :func:`torch.nn.functional.relu6`.

    The cap keeps activations in a fixed range, which suits 8-bit arithmetic
    (MobileNetV2, Sandler et al., 2018).

    Examples
    --------
    >>> relu6([-1.0, 3.0, 10.0])
    array([0., 3., 6.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = xc.dtype.type
    # Like relu: np.maximum returns its second argument on a tie, so -0.0 stays -0.0.
    return _like(np.minimum(np.maximum(t(0), xc), t(6)), x)


@_quiet
def relu6_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`relu6`: 1 where ``0 < x < 6``, else 0 (and 1 at NaN).

    Examples
    --------
    >>> relu6_derivative([0.0, 3.0, 6.0])
    array([0., 1., 0.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    return _like(~((xc <= 0) | (xc >= 6)), x)


@_quiet
def hardswish(x: ArrayLike) -> np.ndarray:
    """Hard-swish, ``x * relu6(x + 3) / 6``, as :func:`torch.nn.functional.hardswish`.

    A piecewise-quadratic stand-in for SiLU (``x * sigmoid(x)``) without an exponential
    (MobileNetV3, Howard et al., 2019): 0 below -3, ``x`` above 3.

    Examples
    --------
    >>> hardswish([-4.0, 0.0, 1.0, 4.0])
    array([-0.        ,  0.        ,  0.66666667,  4.        ])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = xc.dtype.type
    return _like(xc * np.minimum(np.maximum(xc + t(3), t(0)), t(6)) / t(6), x)


@_quiet
def hardswish_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`hardswish`: 0 for ``x <= -3``, ``x / 3 + 1/2`` below 3, then 1.

    Examples
    --------
    >>> hardswish_derivative([-3.0, 0.0, 3.0])
    array([0. , 0.5, 1. ])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = xc.dtype.type
    middle = xc / t(3) + t(0.5)
    # NaN fails both tests and lands in the middle piece: NaN, as IEEE propagation gives.
    return _like(np.where(xc <= -3, t(0), np.where(xc >= 3, t(1), middle)), x)


# ------------------------------------------------------------------------ SELU


@_quiet
def selu(x: ArrayLike) -> np.ndarray:
    """Scaled exponential linear unit, ``scale * (x if x > 0 else alpha * (exp(x) - 1))``.

    With :data:`SELU_ALPHA` and :data:`SELU_SCALE`, as :func:`torch.nn.functional.selu`.

    Examples
    --------
    >>> selu([0.0, 1.0])
    array([0.        , 1.05070099])
    >>> round(float(selu(-50.0)), 4)  # -scale * alpha
    -1.7581
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = xc.dtype.type
    # expm1 on every element (its overflow above 88 is never selected) keeps -0.0's sign.
    neg = t(SELU_ALPHA) * np.expm1(xc)
    return _like(t(SELU_SCALE) * np.where(xc > 0, xc, neg), x)


@_quiet
def selu_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`selu`: ``scale`` where ``x > 0``, else ``scale * alpha * exp(x)``.

    Examples
    --------
    >>> selu_derivative([1.0])
    array([1.05070099])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = xc.dtype.type
    neg = t(SELU_SCALE * SELU_ALPHA) * np.exp(np.minimum(xc, t(0)))
    return _like(np.where(xc > 0, t(SELU_SCALE), np.where(np.isnan(xc), np.nan, neg)), x)


# ----------------------------------------------------------------- squared ReLU


@_quiet
def squared_relu(x: ArrayLike) -> np.ndarray:
    """Squared ReLU, ``relu(x) ** 2`` (Primer, So et al., 2021).

    PyTorch has no function of its own for it; this is ``F.relu(x).square()``.

    Examples
    --------
    >>> squared_relu([-2.0, 3.0])
    array([0., 9.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    r = np.maximum(xc.dtype.type(0), xc)
    return _like(r * r, x)


@_quiet
def squared_relu_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`squared_relu`, ``2 * relu(x)`` (NaN at NaN, as autograd gives).

    Examples
    --------
    >>> squared_relu_derivative([-2.0, 3.0])
    array([0., 6.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    return _like(xc.dtype.type(2) * np.maximum(xc.dtype.type(0), xc) + xc.dtype.type(0), x)


# ------------------------------------------------------------- gated linear units


def _halves(x: ArrayLike, dim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = as_float_array(x)
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an integer, got {type(dim).__name__}")
    if x.ndim == 0:
        raise ValueError("x must have at least one dimension to split in two halves, got a scalar")
    if not -x.ndim <= dim < x.ndim:
        raise ValueError(f"dim must be in [{-x.ndim}, {x.ndim - 1}] for an input with {x.ndim} dimensions, got {dim}")
    size = x.shape[dim]
    if size % 2:
        raise ValueError(f"x must have an even size along dim={dim} (its two halves are value and gate), got {size}")
    a, b = np.split(_compute_dtype(x), 2, axis=dim)
    return x, a, b


@_quiet
def glu(x: ArrayLike, dim: int = -1) -> np.ndarray:
    """Gated linear unit: split ``x`` into halves ``a, b`` along ``dim``; ``a * sigmoid(b)``.

    As :func:`torch.nn.functional.glu` (Dauphin et al., 2017): the output has half
    as many entries along ``dim``.

    Examples
    --------
    >>> glu([2.0, 0.0])  # a = 2, gate sigmoid(0) = 1/2
    array([1.])
    """
    x, a, b = _halves(x, dim)
    return _like(a * _sigmoid(b), x)


@_quiet
def geglu(x: ArrayLike, dim: int = -1) -> np.ndarray:
    """GELU-gated linear unit: halves ``a, b`` along ``dim``; ``a * gelu(b)`` (Shazeer, 2020).

    Examples
    --------
    >>> geglu([[2.0, 10.0]])
    array([[20.]])
    """
    x, a, b = _halves(x, dim)
    return _like(a * gelu(b), x)


@_quiet
def swiglu(x: ArrayLike, dim: int = -1) -> np.ndarray:
    """SiLU-gated (Swish-gated) linear unit: halves ``a, b``; ``a * silu(b)`` (Shazeer, 2020).

    The feed-forward activation of PaLM and LLaMA.

    Examples
    --------
    >>> swiglu([3.0, 0.0])  # silu(0) = 0 closes the gate
    array([0.])
    """
    x, a, b = _halves(x, dim)
    return _like(a * silu(b), x)


#: The elementwise activations above, each name mapped to ``(function, derivative)``;
#: :func:`relu_lab.activations.get_activation` finds them too.
MODERN_ACTIVATIONS = {
    "relu6": (relu6, relu6_derivative),
    "hardswish": (hardswish, hardswish_derivative),
    "selu": (selu, selu_derivative),
    "squared_relu": (squared_relu, squared_relu_derivative),
}


# ------------------------------------------------------------------ quantisation


def quantize(x: ArrayLike, high: float, *, bits: int = 8) -> np.ndarray:
    """Round non-negative activations to ``2 ** bits`` evenly spaced levels on ``[0, high]``.

    The affine quantisation of integer-only inference (Jacob et al., 2018) with zero
    point 0, as for the output of a ReLU: ``q = clip(round(x / s), 0, 2**bits - 1)`` with
    step ``s = high / (2**bits - 1)``, returned dequantised, ``s * q``, in the dtype of
    ``x``. Values above ``high`` are clipped to it; NaN stays NaN. A bounded activation
    such as :func:`relu6` fixes ``high`` in advance (6); for ReLU it must be chosen from
    data, and the largest value seen sets the step for all the others.

    Parameters
    ----------
    x : array_like
        Values to quantise (negative ones are clipped to 0).
    high : float
        The largest representable value, positive and finite.
    bits : int, default 8
        Bits per value, from 1 to 16.

    Examples
    --------
    >>> quantize([0.0, 0.02, 1.0, 7.0], 6.0)  # step 6/255
    array([0.        , 0.02352941, 0.98823529, 6.        ])
    >>> quantize([0.4, 0.6], 1.0, bits=1)
    array([0., 1.])
    """
    x = as_float_array(x)
    if isinstance(high, bool) or not isinstance(high, (int, float, np.integer, np.floating)):
        raise TypeError(f"high must be a real number, got {type(high).__name__}")
    if not (np.isfinite(high) and high > 0):
        raise ValueError(f"high must be positive and finite, got {high}")
    if isinstance(bits, bool) or not isinstance(bits, (int, np.integer)):
        raise TypeError(f"bits must be an integer, got {type(bits).__name__}")
    if not 1 <= bits <= 16:
        raise ValueError(f"bits must be between 1 and 16, got {bits}")
    xc = _compute_dtype(x)
    step = float(high) / (2 ** int(bits) - 1)
    with np.errstate(invalid="ignore"):
        q = np.clip(np.rint(xc / step), 0, 2 ** int(bits) - 1)
    return _like(q * step, x)


def _check_highs(highs: Sequence[float], n: int) -> list[float]:
    if isinstance(highs, (str, bytes)) or not isinstance(highs, Sequence):
        raise TypeError(f"highs must be a sequence of numbers, one per layer, got {type(highs).__name__}")
    if len(highs) != n:
        raise ValueError(f"highs must hold one range per layer: {n} layers, got {len(highs)} values")
    return [float(h) for h in highs]


def quantization_error(outputs: Sequence[torch.Tensor], highs: Sequence[float], *, bits: int = 8) -> float:
    """Relative error of rounding layer outputs with :func:`quantize`, all layers pooled.

    ``rms(rounded - exact) / rms(exact)``, where ``outputs[i]`` is rounded on
    ``[0, highs[i]]``: the size of the rounding (and clipping) error relative to the size
    of the outputs.

    Parameters
    ----------
    outputs : sequence of torch.Tensor
        One tensor per layer, such as the hidden outputs that
        :func:`relu_lab.sparsity.capture_activations` returns; not all zero.
    highs : sequence of float
        The largest representable value of each layer, positive and finite.
    bits : int, default 8
        As for :func:`quantize`.

    Examples
    --------
    >>> quantization_error([torch.tensor([0.0, 2.0])], [2.0], bits=1)  # on the levels
    0.0
    >>> out = [torch.tensor([0.0, 1.0, 2.0])]
    >>> round(quantization_error(out, [1.0], bits=1), 3)  # 2 clipped to 1: 1 / sqrt(5)
    0.447
    """
    outputs = list(outputs)
    if not outputs or not all(isinstance(a, torch.Tensor) for a in outputs):
        raise TypeError("outputs must be a non-empty sequence of torch tensors")
    highs = _check_highs(highs, len(outputs))
    err = sum(float(((torch.as_tensor(quantize(a.detach().numpy(), hi, bits=bits)) - a) ** 2).sum())
              for a, hi in zip(outputs, highs))
    size = sum(float((a ** 2).sum()) for a in outputs)
    if size == 0:
        raise ValueError("outputs are all zero: the relative error is undefined")
    return (err / size) ** 0.5


def quantized_accuracy(
    model: nn.Module,
    X: torch.Tensor,
    y: torch.Tensor,
    highs: Sequence[float],
    *,
    layers: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6),
    bits: int = 8,
) -> float:
    """Accuracy of ``model`` on ``(X, y)`` when each hidden output is rounded to ``bits`` bits.

    The output of every module of a type in ``layers`` (in the order of
    ``model.modules()``) is replaced by :func:`quantize` of it on ``[0, highs[i]]``, through
    forward hooks that are removed afterwards; the model itself is not changed.

    Parameters
    ----------
    model : torch.nn.Module
        A classifier: ``model(X)`` gives one row of scores per example.
    X, y : torch.Tensor
        Inputs and integer labels.
    highs : sequence of float
        One range per rounded layer.
    layers : tuple of module types, default (nn.ReLU, nn.ReLU6)
        Which modules' outputs to round.
    bits : int, default 8
        As for :func:`quantize`.

    Examples
    --------
    >>> net = nn.Sequential(nn.Linear(1, 1), nn.ReLU(), nn.Linear(1, 2))
    >>> with torch.no_grad():
    ...     _ = net[0].weight.fill_(1.0), net[0].bias.zero_()
    ...     _ = net[2].weight.copy_(torch.tensor([[-1.0], [1.0]])), net[2].bias.zero_()
    >>> X, y = torch.tensor([[0.1], [0.7]]), torch.tensor([1, 1])
    >>> quantized_accuracy(net, X, y, [1.0])  # both stay above 0: class 1
    1.0
    >>> quantized_accuracy(net, X, y, [1.0], bits=1)  # 0.1 rounds to 0: a tie, class 0
    0.5
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    modules = [m for m in model.modules() if isinstance(m, layers)]
    highs = _check_highs(highs, len(modules))

    def rounder(high: float):
        return lambda module, args, out: torch.as_tensor(quantize(out.numpy(), high, bits=bits))

    hooks = [m.register_forward_hook(rounder(hi)) for m, hi in zip(modules, highs)]
    try:
        with torch.no_grad():
            return float((model(X).argmax(1) == y).float().mean())
    finally:
        for h in hooks:
            h.remove()
