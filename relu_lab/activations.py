"""Activation functions and their derivatives, on NumPy arrays.

Introduced in the chapter *The ReLU function* (``notebooks/03_relu_function.ipynb``);
Leaky and Parametric ReLU in chapter 9, ELU, GELU and SiLU in chapter 10.

Every function takes a number or an array-like (lists, NumPy arrays, CPU torch tensors)
and returns a NumPy array of the same shape. The semantics are those of
``torch.nn.functional`` and of PyTorch's autograd, and ``tests/test_activations.py``
checks them value for value:

* **dtype.** float16, float32 and float64 are kept. Booleans and integers are promoted
  to float64, as ``np.exp`` does (PyTorch would keep integers for ``relu`` and refuse
  them for ``leaky_relu``; one rule for every function is easier to remember).
* **Derivative at 0.** ``relu_derivative(0) == 0``: PyTorch's backward pass zeroes the
  gradient where ``x <= 0``, picking the left derivative at the kink.
* **NaN** propagates through every forward function. The piecewise-linear derivatives
  follow autograd, which tests ``x <= 0`` (ReLU) or ``x > 0`` (Leaky, PReLU): both
  comparisons are false for NaN, so ``relu_derivative(nan) == 1`` and
  ``leaky_relu_derivative(nan) == negative_slope``. The smooth derivatives return NaN.
* **Signed zero.** ``relu(-0.0)`` is ``-0.0`` in PyTorch and here. It compares equal
  to ``0.0``; only ``np.signbit`` tells them apart.
* **Infinities.** ``relu(-inf) == 0`` but ``leaky_relu(-inf, 0.0)`` is
  ``-inf * 0 = nan``, and ``gelu(-inf)`` and ``silu(-inf)`` are NaN, exactly as in PyTorch.
"""

from __future__ import annotations

import functools
import math
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from relu_lab._validation import as_float_array, check_real

__all__ = [
    "relu",
    "relu_derivative",
    "leaky_relu",
    "leaky_relu_derivative",
    "prelu",
    "prelu_derivative",
    "sigmoid",
    "sigmoid_derivative",
    "tanh",
    "tanh_derivative",
    "elu",
    "elu_derivative",
    "gelu",
    "gelu_derivative",
    "silu",
    "silu_derivative",
    "ACTIVATIONS",
    "get_activation",
]

_SQRT_HALF = 0.5**0.5  # Python floats: they never upcast a float32 array
_INV_SQRT_2PI = 1.0 / (2.0 * math.pi) ** 0.5


def _quiet(fn: Callable[..., np.ndarray]) -> Callable[..., np.ndarray]:
    """Compute without NumPy's floating-point warnings: overflow to inf and inf * 0 = NaN
    are the IEEE results PyTorch gives too, not mistakes to warn about."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> np.ndarray:
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)

    return wrapper


def _compute_dtype(x: np.ndarray) -> np.ndarray:
    """float16 input is computed in float32 and rounded back, as PyTorch does on CPU."""
    return x.astype(np.float32) if x.dtype == np.float16 else x


def _like(result: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``result`` as an array (never a NumPy scalar) of ``x``'s dtype."""
    return np.asarray(result).astype(x.dtype, copy=False)


# --------------------------------------------------------------------------- ReLU


@_quiet
def relu(x: ArrayLike) -> np.ndarray:
    """Rectified linear unit, ``max(0, x)``, elementwise.

    Parameters
    ----------
    x : array_like
        Real numbers; float dtypes are kept, integers and booleans become float64.

    Returns
    -------
    numpy.ndarray
        ``x`` where ``x > 0``, else 0. NaN stays NaN and ``relu(-0.0)`` is ``-0.0``,
        as in :func:`torch.nn.functional.relu`.

    Examples
    --------
    >>> relu([-2.0, 0.5, 3.0])
    array([0. , 0.5, 3. ])
    >>> relu(np.array([-1, 2], dtype=np.float32)).dtype
    dtype('float32')
    """
    x = as_float_array(x)
    # For float32/64, np.maximum returns its second argument on a tie, so -0.0 stays
    # -0.0 as in torch, and it propagates NaN. NumPy's float16 loop returns +0.0 on a
    # tie, so float16 goes through float32, as PyTorch computes it on the CPU.
    xc = _compute_dtype(x)
    return _like(np.maximum(xc.dtype.type(0), xc), x)


@_quiet
def relu_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`relu`: 1 where ``x > 0``, 0 where ``x <= 0``.

    At the kink ``x = 0`` the derivative does not exist; like PyTorch we return 0
    (the left derivative). Like PyTorch's autograd we return 1 for NaN, because the
    backward pass zeroes the gradient where ``x <= 0`` and that comparison is false
    for NaN.

    Examples
    --------
    >>> relu_derivative([-1.0, 0.0, 2.0])
    array([0., 0., 1.])
    """
    x = as_float_array(x)
    # not(x <= 0), as autograd tests it: NaN <= 0 is False, giving 1. (np.where with
    # scalar branches is several times slower than these byte-wide passes.)
    keep = np.less_equal(x, 0, out=np.empty(x.shape, dtype=bool))
    np.logical_not(keep, out=keep)
    return keep.astype(x.dtype)


# ------------------------------------------------------------------- Leaky ReLU


@_quiet
def leaky_relu(x: ArrayLike, negative_slope: float = 0.01) -> np.ndarray:
    """Leaky ReLU: ``x`` where ``x > 0``, else ``negative_slope * x``.

    Parameters
    ----------
    x : array_like
        Real numbers.
    negative_slope : float, default 0.01
        Slope for negative inputs; must be finite. The default is PyTorch's and that
        of Maas et al. (2013).

    Examples
    --------
    >>> leaky_relu([-100.0, 0.0, 2.0])
    array([-1.,  0.,  2.])
    >>> leaky_relu([-2.0, 2.0], negative_slope=0.5)
    array([-1.,  2.])
    """
    x = as_float_array(x)
    slope = check_real(negative_slope, "negative_slope")
    xc = _compute_dtype(x)
    if slope == 0:  # x * 0 is NaN at +inf, so max/min below would differ from torch there
        return _like(np.where(xc > 0, xc, xc * slope), x)
    # max(x, a*x) for a < 1 (min for a > 1) equals torch's `x > 0 ? x : a*x` on every
    # input, ties and NaN included, in two passes over memory instead of three.
    out = np.multiply(xc, slope, out=np.empty_like(xc))
    (np.maximum if slope < 1 else np.minimum)(xc, out, out=out)
    return _like(out, x)


@_quiet
def leaky_relu_derivative(x: ArrayLike, negative_slope: float = 0.01) -> np.ndarray:
    """Derivative of :func:`leaky_relu`: 1 where ``x > 0``, else ``negative_slope``.

    At 0 and for NaN it is ``negative_slope``, as in PyTorch's autograd.

    Examples
    --------
    >>> leaky_relu_derivative([-1.0, 0.0, 2.0], negative_slope=0.1)
    array([0.1, 0.1, 1. ])
    """
    x = as_float_array(x)
    slope = check_real(negative_slope, "negative_slope")
    one, a = x.dtype.type(1), x.dtype.type(slope)
    out = np.greater(x, 0, out=np.empty(x.shape, dtype=bool)).astype(x.dtype)  # NaN > 0 is False
    if (one - a) + a == one:  # then mask * (1 - a) + a is exactly 1 or a, and fast
        out *= one - a
        out += a
        return out
    return _like(np.where(out > 0, one, a), x)


# -------------------------------------------------------------- Parametric ReLU


def _prelu_weight(x: np.ndarray, weight: Any) -> np.ndarray:
    """Check ``weight`` and shape it to broadcast along dimension 1 of ``x``."""
    if isinstance(weight, (int, float, np.number)) and not isinstance(weight, (bool, np.bool_)):
        w = np.asarray(check_real(weight, "weight"), dtype=x.dtype)
        return w
    w = as_float_array(weight, "weight")
    if w.ndim != 1:
        raise ValueError(f"weight must be a number or a 1-D array, got an array of shape {w.shape}")
    if not np.all(np.isfinite(w)):
        raise ValueError("weight must hold finite numbers")
    channels = x.shape[1] if x.ndim >= 2 else 1
    if w.size == 1:
        return w.reshape(()).astype(x.dtype)
    if w.size != channels:
        raise ValueError(
            f"weight must have 1 element or one per channel (dimension 1 of x, here {channels}), got {w.size}"
        )
    return w.reshape((1, channels) + (1,) * (x.ndim - 2)).astype(x.dtype)


@_quiet
def prelu(x: ArrayLike, weight: ArrayLike = 0.25) -> np.ndarray:
    """Parametric ReLU (He et al., 2015): ``x`` where ``x > 0``, else ``weight * x``.

    Parameters
    ----------
    x : array_like
        Real numbers. If ``x`` has two or more dimensions, dimension 1 holds the
        channels, as in :func:`torch.nn.functional.prelu`.
    weight : float or array_like, default 0.25
        The learned slope: one number shared by all channels, or a 1-D array with one
        slope per channel. 0.25 is PyTorch's and He et al.'s initial value.

    Examples
    --------
    >>> prelu([-4.0, 2.0])
    array([-1.,  2.])
    >>> prelu([[-1.0, -1.0]], weight=[0.1, 0.5])
    array([[-0.1, -0.5]])
    """
    x = as_float_array(x)
    w = _prelu_weight(x, weight)
    xc, wc = _compute_dtype(x), _compute_dtype(w)
    return _like(np.where(xc > 0, xc, wc * xc), x)


@_quiet
def prelu_derivative(x: ArrayLike, weight: ArrayLike = 0.25) -> np.ndarray:
    """Derivative of :func:`prelu` with respect to ``x``: 1 where ``x > 0``, else ``weight``.

    Examples
    --------
    >>> prelu_derivative([-1.0, 0.0, 3.0])
    array([0.25, 0.25, 1.  ])
    """
    x = as_float_array(x)
    w = _prelu_weight(x, weight)
    return _like(np.where(x > 0, x.dtype.type(1), w), x)


# ------------------------------------------------------------ sigmoid and tanh


_BLOCK = 1 << 16  # elements: 256 kB (float32), so a block stays in L2 cache between passes


def _sigmoid_into(src: np.ndarray, dst: np.ndarray) -> None:
    np.negative(src, out=dst)
    np.exp(dst, out=dst)
    dst += 1
    np.reciprocal(dst, out=dst)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-x)), in four in-place passes over one buffer. exp overflows to inf
    for x < -88 (float32), and 1 / inf = 0 is the right answer, so the plain formula is
    accurate everywhere. A large array is done block by block, so that the four passes
    run over cache rather than over main memory; every element gets the same operations,
    so the result does not depend on the block size."""
    out = np.empty_like(x)  # for a 0-d input too: out= keeps it an array
    if x.size <= _BLOCK or not (x.flags.c_contiguous and out.flags.c_contiguous):
        _sigmoid_into(x, out)
        return out
    src, dst = x.reshape(-1), out.reshape(-1)
    for start in range(0, src.size, _BLOCK):
        _sigmoid_into(src[start:start + _BLOCK], dst[start:start + _BLOCK])
    return out


@_quiet
def sigmoid(x: ArrayLike) -> np.ndarray:
    """Logistic sigmoid, ``1 / (1 + exp(-x))``, computed without overflow.

    Examples
    --------
    >>> sigmoid([0.0])
    array([0.5])
    >>> float(sigmoid(-1000.0))  # no overflow warning
    0.0
    """
    x = as_float_array(x)
    return _like(_sigmoid(_compute_dtype(x)), x)


@_quiet
def sigmoid_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`sigmoid`, ``s * (1 - s)``; at most 1/4, reached at 0.

    Examples
    --------
    >>> sigmoid_derivative([0.0])
    array([0.25])
    """
    x = as_float_array(x)
    s = _sigmoid(_compute_dtype(x))
    out = np.subtract(1, s, out=np.empty_like(s))
    out *= s
    return _like(out, x)


@_quiet
def tanh(x: ArrayLike) -> np.ndarray:
    """Hyperbolic tangent.

    Examples
    --------
    >>> tanh([0.0, 100.0])
    array([0., 1.])
    """
    x = as_float_array(x)
    return _like(np.tanh(_compute_dtype(x)), x)


@_quiet
def tanh_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`tanh`, ``1 - tanh(x)**2``; at most 1, reached at 0.

    Examples
    --------
    >>> tanh_derivative([0.0, 100.0])
    array([1., 0.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    t = np.tanh(xc, out=np.empty_like(xc))
    np.multiply(t, t, out=t)
    np.subtract(1, t, out=t)
    return _like(t, x)


# ------------------------------------------------------------ ELU, GELU, SiLU


@_quiet
def elu(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """Exponential linear unit: ``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)``.

    Examples
    --------
    >>> elu([0.0, 2.0])
    array([0., 2.])
    >>> round(float(elu(-50.0)), 6)
    -1.0
    """
    x = as_float_array(x)
    a = check_real(alpha, "alpha")
    xc = _compute_dtype(x)
    return _like(np.where(xc > 0, xc, a * np.expm1(np.minimum(xc, 0))), x)


@_quiet
def elu_derivative(x: ArrayLike, alpha: float = 1.0) -> np.ndarray:
    """Derivative of :func:`elu`: 1 where ``x > 0``, else ``alpha * exp(x)``.

    NaN gives NaN. (PyTorch's own ELU backward returns 1 or NaN for a NaN input
    depending on where in the tensor it sits, vectorised or not; we pick IEEE
    propagation.)

    Examples
    --------
    >>> elu_derivative([0.0, 2.0])
    array([1., 1.])
    """
    x = as_float_array(x)
    a = check_real(alpha, "alpha")
    xc = _compute_dtype(x)
    return _like(np.where(xc > 0, 1, a * np.exp(np.minimum(xc, 0))), x)


@_quiet
def gelu(x: ArrayLike) -> np.ndarray:
    """Gaussian error linear unit (exact form), ``x * Phi(x)``.

    ``Phi`` is the standard normal cumulative distribution function; this is
    :func:`torch.nn.functional.gelu` with ``approximate='none'``.

    Examples
    --------
    >>> gelu([0.0, 10.0])
    array([ 0., 10.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    return _like(xc * (1 + special.erf(xc * _SQRT_HALF)) * 0.5, x)


@_quiet
def gelu_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`gelu`, ``Phi(x) + x * phi(x)``.

    Examples
    --------
    >>> gelu_derivative([0.0])
    array([0.5])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    cdf = 0.5 * (1 + special.erf(xc * _SQRT_HALF))
    pdf = np.exp(-0.5 * xc * xc) * _INV_SQRT_2PI
    return _like(cdf + xc * pdf, x)


@_quiet
def silu(x: ArrayLike) -> np.ndarray:
    """Sigmoid-weighted linear unit (SiLU, also called Swish), ``x * sigmoid(x)``.

    Examples
    --------
    >>> silu([0.0])
    array([0.])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    return _like(xc * _sigmoid(xc), x)


@_quiet
def silu_derivative(x: ArrayLike) -> np.ndarray:
    """Derivative of :func:`silu`, ``s * (1 + x * (1 - s))`` with ``s = sigmoid(x)``.

    Examples
    --------
    >>> silu_derivative([0.0])
    array([0.5])
    """
    x = as_float_array(x)
    xc = _compute_dtype(x)
    s = _sigmoid(xc)
    return _like(s * (1 + xc * (1 - s)), x)


#: Each activation's name mapped to ``(function, derivative)``.
ACTIVATIONS: dict[str, tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]] = {
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
    "prelu": (prelu, prelu_derivative),
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "elu": (elu, elu_derivative),
    "gelu": (gelu, gelu_derivative),
    "silu": (silu, silu_derivative),
}


def get_activation(name: str) -> tuple[Callable[..., np.ndarray], Callable[..., np.ndarray]]:
    """Look up an activation and its derivative by name (chapter 11's too: ``"relu6"``...).

    Examples
    --------
    >>> f, df = get_activation("relu")
    >>> f([-1.0, 1.0]), df([-1.0, 1.0])
    (array([0., 1.]), array([0., 1.]))
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, got {type(name).__name__}")
    from relu_lab.modern import MODERN_ACTIVATIONS  # chapter 11's; it imports this module

    known = {**ACTIVATIONS, **MODERN_ACTIVATIONS}
    try:
        return known[name]
    except KeyError:
        raise ValueError(f"name must be one of {sorted(known)}, got {name!r}") from None
