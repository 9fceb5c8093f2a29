"""Input checks shared by the public functions of :mod:`relu_lab`.

Every public function validates what it is given once, at the edge, and raises a
``TypeError`` (wrong kind of thing) or ``ValueError`` (right kind, wrong value) whose
message names the argument and says what was expected.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "as_float_array",
    "check_real",
    "check_positive_int",
    "check_probability",
]


def _describe(value: Any) -> str:
    """A short description of ``value`` for error messages."""
    text = repr(value)
    if len(text) > 40:
        text = text[:37] + "..."
    return f"{type(value).__name__} {text}"


def as_float_array(x: Any, name: str = "x") -> np.ndarray:
    """Convert an array-like to a floating-point NumPy array.

    Floating dtypes (float16, float32, float64) are kept. Booleans and integers are
    promoted to float64, as NumPy's own ``np.exp`` or ``np.tanh`` do. Torch tensors are
    detached and moved to the CPU. Strings, objects and complex numbers are rejected.
    """
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{name} must be a real number or an array of real numbers, got {_describe(x)}")
    if type(x).__module__.startswith("torch"):
        try:
            x = x.detach().cpu().numpy()
        except Exception as exc:  # e.g. a torch dtype NumPy has no equivalent for
            raise TypeError(f"{name}: cannot convert torch tensor of dtype {x.dtype} to NumPy ({exc})") from None
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError) as exc:  # ragged nested lists, for instance
        raise TypeError(f"{name} must be a real number or an array of real numbers ({exc})") from None
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "biu":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{name} must hold real numbers, got complex dtype {arr.dtype}")
    raise TypeError(
        f"{name} must be a real number or an array of real numbers, got {_describe(x)} (dtype {arr.dtype})"
    )


def check_real(value: Any, name: str, *, finite: bool = True) -> float:
    """Return ``value`` as a float, checking that it is a real (and finite) number."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {_describe(value)}")
    value = float(value)
    if finite and not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive_int(value: Any, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int, checking that it is an integer >= ``minimum``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {_describe(value)}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def check_probability(value: Any, name: str) -> float:
    """Return ``value`` as a float in [0, 1)."""
    value = check_real(value, name)
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value}")
    return value
