"""A careful timing harness: warm-up, repeats, median and spread.

Introduced in chapter 4 to compare the cost of activations; ``make bench`` uses the same
function, so the book and the benchmark measure in the same way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from relu_lab._validation import check_positive_int

__all__ = ["Timing", "time_call"]


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median over repeats, and the quartiles around it."""

    median: float
    q1: float
    q3: float
    repeats: int

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (0.05 means +-5 %-ish noise)."""
        return (self.q3 - self.q1) / self.median if self.median > 0 else 0.0

    def __str__(self) -> str:
        return f"{self.median * 1e3:.3f} ms (IQR {self.spread:.0%}, n={self.repeats})"


def time_call(fn: Callable[..., Any], *args: Any, repeats: int = 15, warmup: int = 3, number: int = 1) -> Timing:
    """Time ``fn(*args)``: ``warmup`` untimed calls, then ``repeats`` timed samples.

    Each sample runs ``fn`` ``number`` times and is divided by ``number``, so very
    fast functions can be timed above the clock's resolution.

    Examples
    --------
    >>> t = time_call(sum, range(100), repeats=5)
    >>> t.repeats, t.median > 0
    (5, True)
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    repeats = check_positive_int(repeats, "repeats")
    warmup = check_positive_int(warmup, "warmup", minimum=0)
    number = check_positive_int(number, "number")
    for _ in range(warmup):
        fn(*args)
    samples = np.empty(repeats)
    for i in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        samples[i] = (time.perf_counter() - start) / number
    q1, med, q3 = np.percentile(samples, [25, 50, 75])
    return Timing(float(med), float(q1), float(q3), repeats)
