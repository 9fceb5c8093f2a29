"""How the book prints numbers that depend on the machine, and statistics over seeds.

A number computed in closed form, or by a few exact floating-point operations, comes out
the same on every computer. A number that comes out of training does not: PyTorch, MKL,
OpenBLAS and NumPy choose their kernels by CPU, the kernels differ in the last bit, and
training amplifies last bits into visibly different accuracies after a few epochs.

The book prints every such number in one marked form, ``≈0.844``, made by
:func:`measured`. Its tests treat the two kinds differently:

- the pinned run (``make test``, every x86-64 CPU on the same code paths) compares every
  printed digit, marked or not;
- an unpinned run (``make test REPRO=``: native kernels, as on a learner's laptop) masks
  the digits after each ``≈`` (``tests/nbval_sanitize_unpinned.cfg``), and the chapter's
  ``assert`` statements check the claims themselves, with margins taken from the spread
  over seeds.

A count of seeds (or of training starts) is machine-dependent too, but "≈3 of 5 seeds"
reads badly: :func:`seed_count` prints it plainly, ``"3 of 5 seeds"``, and that phrase
(a count, "of", a total, "seeds", "starts" or "runs") is itself the marked form: the unpinned
sanitizer masks the count and keeps the total. Negative numbers are printed with a true
minus sign, ``≈−0.5``, as in the prose.

Introduced with the second edition (chapters 5 to 11); :func:`median_range` and
:func:`paired` summarise several seeds, as the book does for every training result.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from relu_lab._validation import as_float_array, check_positive_int, check_real

__all__ = ["MARK", "MINUS", "measured", "median_range", "seed_count", "times_ten", "Paired", "paired"]

#: The prefix that marks a machine-dependent number in printed output and in the prose.
MARK = "≈"
#: The minus sign of printed numbers (U+2212, as in the prose), not the hyphen "-".
MINUS = "\u2212"


def _check_spec(spec: object) -> str:
    if not isinstance(spec, str):
        raise TypeError(f"spec must be a format specification such as '.3f' or '.0%', got {type(spec).__name__}")
    try:
        format(0.5, spec)
    except ValueError as exc:
        raise ValueError(f"spec {spec!r} is not a valid format for a float ({exc})") from None
    return spec


def measured(value: float, spec: str = ".3g") -> str:
    """``value`` formatted with ``spec`` and marked as machine-dependent: ``"≈0.844"``.

    Use it for every printed or glued number that comes out of training or timing.

    Parameters
    ----------
    value : float
        A real number (NaN and infinities are printed as Python formats them).
    spec : str, default ".3g"
        A format specification, as in ``format(value, spec)``.

    Returns
    -------
    str

    Examples
    --------
    >>> measured(0.84375, ".3f")
    '≈0.844'
    >>> measured(0.84375, ".0%")
    '≈84%'
    >>> measured(-0.5, ".1f")       # a true minus sign
    '≈−0.5'
    >>> measured(-0.004, ".2f")     # rounds to 0: no sign
    '≈0.00'
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        else:
            raise TypeError(f"value must be a real number, got {type(value).__name__}")
    value = float(value)
    text = format(value, _check_spec(spec))
    if text.startswith("-") and math.isfinite(value) and not any(d in "123456789" for d in text.split("e")[0]):
        text = text[1:]  # a small negative number that rounds to 0 prints as 0, not −0
    return MARK + (MINUS + text[1:] if text.startswith("-") else text)


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def times_ten(value: float, digits: int = 1) -> str:
    """``value`` in the prose's scientific notation: ``"4.5 × 10⁻⁵"``, not ``"4.5e-05"``.

    For exact numbers (closed forms, bounds); it adds no ``≈`` mark. ``value`` is a real
    number or a 0-d array; ``digits`` is the number of digits after the mantissa's
    point; a negative value gets a true minus.

    Examples
    --------
    >>> times_ten(4.54e-05)
    '4.5 × 10⁻⁵'
    >>> times_ten(0.25 ** 10, digits=2)
    '9.54 × 10⁻⁷'
    >>> times_ten(-1234.0)
    '−1.2 × 10³'
    """
    if isinstance(value, np.ndarray) and value.ndim == 0:  # what NumPy functions return
        value = value.item()
    value = check_real(value, "value")
    digits = check_positive_int(digits, "digits", minimum=0)
    mantissa, exponent = f"{value:.{digits}e}".split("e")
    if mantissa.startswith("-"):
        mantissa = MINUS + mantissa[1:]
    return f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"


def seed_count(count: int, total: int, noun: str = "seeds") -> str:
    """How many of ``total`` seeds (starts, runs) something happened on: ``"3 of 5 seeds"``.

    The count comes out of training, so it may differ on another machine. The phrase is
    its own mark: the unpinned sanitizer masks the count in "N of M seeds", "N of M
    starts" and "N of M runs" (``tests/nbval_sanitize_unpinned.cfg``), where a ≈ on a count would
    read as if the count were approximate.

    Examples
    --------
    >>> seed_count(3, 5)
    '3 of 5 seeds'
    >>> seed_count(10, 10, "starts")
    '10 of 10 starts'
    """
    for name, value in (("count", count), ("total", total)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    if not 0 <= count <= total:
        raise ValueError(f"count must be between 0 and total ({total}), got {count}")
    if noun not in ("seeds", "starts", "runs"):
        raise ValueError(f"noun must be 'seeds', 'starts' or 'runs' (the words the sanitizer knows), got {noun!r}")
    return f"{int(count)} of {int(total)} {noun}"


def _seed_values(values: object, name: str) -> np.ndarray:
    arr = as_float_array(values, name)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D sequence (one value per seed), got shape {arr.shape}")
    return arr.astype(np.float64)


def median_range(values: Sequence[float], spec: str = ".3g") -> str:
    """The median of ``values`` and their range, all marked: ``"≈84% (≈78% to ≈87%)"``.

    The book's summary of one quantity measured over several seeds. When every seed
    prints the same at this precision, it says so instead of a range of one value.

    Examples
    --------
    >>> median_range([0.80, 0.84, 0.87], ".0%")
    '≈84% (≈80% to ≈87%)'
    >>> median_range([0.091, 0.094, 0.089], ".0%")
    '≈9% on every seed'
    """
    arr = _seed_values(values, "values")
    spec = _check_spec(spec)
    low, mid, high = (measured(float(v), spec) for v in (arr.min(), np.median(arr), arr.max()))
    if low == high:
        return f"{mid} on every seed"
    return f"{mid} ({low} to {high})"


@dataclass(frozen=True)
class Paired:
    """A comparison of two conditions paired by seed: ``a[i]`` and ``b[i]`` share seed ``i``.

    Attributes
    ----------
    differences : numpy.ndarray
        ``a - b``, one value per seed.
    """

    differences: np.ndarray

    @property
    def median(self) -> float:
        """Median of the paired differences."""
        return float(np.median(self.differences))

    @property
    def low(self) -> float:
        """Smallest paired difference."""
        return float(self.differences.min())

    @property
    def high(self) -> float:
        """Largest paired difference."""
        return float(self.differences.max())

    @property
    def wins(self) -> int:
        """Number of seeds on which ``a`` is larger than ``b``."""
        return int((self.differences > 0).sum())

    @property
    def seeds(self) -> int:
        """Number of seeds compared."""
        return int(self.differences.size)

    def describe(self, spec: str = ".3g") -> str:
        """One line: median difference, range, and on how many seeds ``a`` was larger.

        Every measured number is marked; the count of seeds is printed by
        :func:`seed_count` (it too can change from one machine to another).

        Examples
        --------
        >>> paired([0.9, 0.8, 0.85], [0.7, 0.75, 0.86]).describe(".2f")
        'median ≈0.05 (≈−0.01 to ≈0.20), larger on 2 of 3 seeds'
        """
        return (f"median {measured(self.median, spec)} "
                f"({measured(self.low, spec)} to {measured(self.high, spec)}), "
                f"larger on {seed_count(self.wins, self.seeds)}")

    def points(self, *, every: bool = False) -> str:
        """One line for a gap between two fractions, in percentage points.

        Parameters
        ----------
        every : bool
            Say "on every seed" (the chapter asserts it) instead of the count of seeds
            on which ``a`` was higher. Raises ``ValueError`` if ``a`` was
            not higher on every seed, so the words never say more than the numbers.

        Examples
        --------
        >>> paired([0.5, 0.4, 0.6], [0.2, 0.3, 0.25]).points(every=True)
        '≈30 percentage points (median; ≈10 to ≈35), on every seed'
        >>> paired([0.5, 0.2], [0.2, 0.3]).points()
        '≈10 percentage points (median; ≈−10 to ≈30), higher on 1 of 2 seeds'
        """
        if not isinstance(every, bool):
            raise TypeError(f"every must be a bool, got {type(every).__name__}")
        if every and self.wins != self.seeds:
            raise ValueError(f"every=True, but a was higher on only {self.wins} of "
                             f"{self.seeds} seeds")
        d = 100 * self.differences
        seeds = ("on every seed" if every else
                 f"higher on {seed_count(self.wins, self.seeds)}")
        return (f"{measured(float(np.median(d)), '.0f')} percentage points (median; "
                f"{measured(float(d.min()), '.0f')} to {measured(float(d.max()), '.0f')}), "
                f"{seeds}")


def paired(a: Sequence[float], b: Sequence[float]) -> Paired:
    """Compare two conditions seed by seed (``a[i]`` and ``b[i]`` used the same seed).

    Comparing the two medians hides how much of a gap is noise: seeds that are lucky for
    one condition are often lucky for the other too. Pairing by seed cancels that part.

    Parameters
    ----------
    a, b : sequence of float
        One value per seed, in the same seed order; equal lengths.

    Returns
    -------
    Paired

    Examples
    --------
    >>> p = paired([0.95, 0.93, 0.96], [0.91, 0.92, 0.90])
    >>> p.wins, round(p.median, 2)
    (3, 0.04)
    """
    a_arr, b_arr = _seed_values(a, "a"), _seed_values(b, "b")
    if a_arr.shape != b_arr.shape:
        raise ValueError(f"a and b must hold one value per seed each, got {a_arr.size} and {b_arr.size} values")
    if not (np.isfinite(a_arr).all() and np.isfinite(b_arr).all()):
        # A diverged run (NaN loss) is a result, but not one a difference can summarise.
        bad = [i for i in range(a_arr.size) if not (math.isfinite(a_arr[i]) and math.isfinite(b_arr[i]))]
        raise ValueError(f"a and b must be finite; seeds at positions {bad} are not")
    return Paired(a_arr - b_arr)
