"""Auto-checked coding exercises: ``check(name, answer)`` with specific feedback.

Each chapter has a "write it yourself" exercise whose last cell calls, for example,
``check("relu", my_relu)``. The check runs the learner's function on the inputs where
implementations usually go wrong (0, -0.0, +-inf, NaN, empty arrays, float16/32/64,
large arrays), compares it with the reference in ``relu_lab`` (which matches
PyTorch), and prints what it found in plain words, with a pointer to the section that
explains it. It never raises: an unknown name, an answer that is not a function, or a
function that crashes all get a message instead of a traceback.

For grading (``make grade``): when the environment variable ``RELU_LAB_GRADE_LOG``
names a file, each call also appends one JSON line to it, ``{"name": ..., "passed":
..., "report": ...}``, where ``report`` is the feedback as printed. The grader reads
this record instead of the printed text, so a learner who prints something that looks
like a pass does not get one. What is printed does not change.

Examples
--------
>>> import numpy as np
>>> result = check("relu", lambda x: np.maximum(x, 0), verbose=False)
>>> bool(result)
True
>>> bool(check("relu", lambda x: x, verbose=False))  # the identity is not ReLU
False

``"relu"`` accepts a zero of either sign for -0.0 (with a note); ``"relu_strict"``
(chapter 3) asks for PyTorch's -0.0, which ``np.maximum`` does not give:

>>> bool(check("relu_strict", lambda x: np.maximum(x, 0), verbose=False))
False
>>> "he_std" in check.names()
True
"""

from __future__ import annotations

import difflib
import json
import math
import os
import textwrap
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from relu_lab import activations as A
from relu_lab import modern as M

__all__ = ["Result", "Checker", "check", "GRADE_LOG_ENV"]

#: The environment variable naming the file where each :data:`check` appends its result.
GRADE_LOG_ENV = "RELU_LAB_GRADE_LOG"

_SPECIAL = np.array([-np.inf, -3.0, -1.0, -0.5, -0.0, 0.0, 0.5, 1.0, 3.0, np.inf, np.nan])


@dataclass
class Result:
    """The outcome of one :func:`check`: truthy when the answer passed.

    Attributes
    ----------
    name : str
        The exercise.
    passed : bool
        Whether every case agreed with the reference.
    problems : list of str
        What went wrong, one sentence each (empty on a pass).
    notes : list of str
        Things worth knowing that do not make the answer wrong.
    cases : int
        How many cases were tried.
    """

    name: str
    passed: bool
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cases: int = 0

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        verdict = "passed" if self.passed else "not yet"
        return f"<check {self.name!r}: {verdict}>"

    def _ipython_display_(self) -> None:
        """Show nothing in Jupyter: :data:`check` has already printed the feedback."""

    def report(self) -> str:
        """The feedback as text, as :data:`check` prints it (wrapped at 76 columns, so
        that it fits a book page's output box and an 80-column terminal)."""
        if self.passed:
            lines = [f"✓ {self.name}: all {self.cases} checks passed."]
        else:
            lines = [f"✗ {self.name}: not yet."]
            lines += [textwrap.fill(p, 76, initial_indent="  - ", subsequent_indent="    ") for p in self.problems]
        lines += [textwrap.fill(n, 76, initial_indent="  Note: ", subsequent_indent="    ") for n in self.notes]
        return "\n".join(lines)


class _Fail(Exception):
    """Raised inside a checker to stop at the first real problem."""


def _fmt(v: Any) -> str:
    """A number as a learner would write it (-0.0, nan, inf, 0.25)."""
    try:
        f = float(v)
    except (TypeError, ValueError):
        return repr(v)
    if math.isnan(f):
        return "nan"
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    if f == 0:
        return "-0.0" if math.copysign(1, f) < 0 else "0.0"
    return f"{f:.6g}"


def _call(fn: Callable[..., Any], label: str, *args: Any) -> tuple[Any, list[str]]:
    """Call the learner's function; turn exceptions into messages, collect warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            out = fn(*args)
        except NotImplementedError:
            raise _Fail("your function still raises NotImplementedError: replace that line with your code.") from None
        except Exception as exc:  # the learner's bug, reported without a traceback
            raise _Fail(f"your function raised {type(exc).__name__}: {exc} (on {label}).") from None
    notes = sorted({f"{label}: {w.category.__name__}: {w.message}" for w in caught})
    if out is None:
        raise _Fail("your function returned None: did you forget `return`?")
    return out, notes


# ------------------------------------------------------------- elementwise


@dataclass(frozen=True)
class _Elementwise:
    reference: Callable[..., np.ndarray]
    see: str
    exact: bool
    kwargs: tuple[dict[str, float], ...] = ({},)
    #: inputs where any of these outputs is accepted, with a note (PyTorch quirks)
    lenient: dict[str, tuple[float, ...]] = field(default_factory=dict)
    #: (input, wrong output) -> hint; a wrong output of None matches any
    hints: dict[tuple[str, str | None], str] = field(default_factory=dict)
    #: a zero of the other sign than PyTorch's fails (otherwise it passes with a note)
    signed_zero: bool = False

    def cases(self) -> Iterator[tuple[str, np.ndarray]]:
        rng = np.random.default_rng(0)
        yield "the special values", _SPECIAL.copy()
        for dt in (np.float32, np.float16):
            yield f"{np.dtype(dt).name} input", _SPECIAL.astype(dt)
        yield "a 2-D array", rng.standard_normal((3, 4))
        yield "an empty array", np.zeros(0)
        yield "a large array (1,000,000 values)", rng.standard_normal(1_000_000) * 5

    def __call__(self, fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
        n, notes = 0, []
        for kw in self.kwargs:
            for label, x in self.cases():
                desc = label + (f" with {', '.join(f'{k}={v}' for k, v in kw.items())}" if kw else "")
                out, new_notes = _call(fn, desc, x.copy(), *kw.values())
                notes += new_notes
                ref = self.reference(x, **kw)
                self._compare(name, desc, x, np.asarray(out), ref, notes)
                n += 1
        return n, notes

    def _compare(self, name: str, desc: str, x: np.ndarray, out: np.ndarray, ref: np.ndarray, notes: list[str]) -> None:
        if out.shape != ref.shape:
            raise _Fail(f"for {desc} your {name} returns shape {out.shape}, expected {ref.shape} "
                        "(the same shape as the input).")
        if out.dtype != ref.dtype:
            raise _Fail(f"for {desc} your {name} returns dtype {out.dtype}; PyTorch keeps the input's "
                        f"dtype {ref.dtype}. (A NumPy constant such as np.sqrt(2), or a SciPy function, may upcast "
                        "it; `.astype(x.dtype)` converts back.)")
        if not np.issubdtype(out.dtype, np.floating):
            raise _Fail(f"your {name} returns dtype {out.dtype}; expected floating-point numbers.")
        flat_x, flat_out, flat_ref = x.ravel(), out.ravel(), ref.ravel()
        # Exact functions must match exactly, except in float16, where computing in
        # float16 or in float32 may round the last bit differently.
        tol = {2: 2e-3, 4: 2e-6, 8: 1e-9}[ref.dtype.itemsize]
        if self.exact and ref.dtype != np.float16:
            tol = 0.0
        with np.errstate(invalid="ignore"):
            close = (flat_out == flat_ref) | (np.isnan(flat_out) & np.isnan(flat_ref))
            if tol:
                close |= np.abs(flat_out.astype(float) - flat_ref) <= tol * (1 + np.abs(flat_ref.astype(float)))
        # Report ordinary numbers before the special ones: they are the likelier mistake.
        for i in sorted(np.flatnonzero(~close), key=lambda i: not np.isfinite(flat_x[i])):
            xi, oi, ri = flat_x[i], flat_out[i], flat_ref[i]
            key = _fmt(xi)
            if key in self.lenient and (_fmt(oi) in map(_fmt, self.lenient[key])):
                see = _SEE3 if key == "nan" else self.see  # chapter 3 discusses NaN there
                notes.append(f"at x = {key} your {name} returns {_fmt(oi)} and PyTorch {_fmt(ri)}; "
                             f"both are defensible, so this passes. See {see}.")
                continue
            hint = self.hints.get((key, _fmt(oi)), self.hints.get((key, None), ""))
            raise _Fail(f"for x = {key} ({desc}) your {name} returns {_fmt(oi)}, "
                        f"but PyTorch returns {_fmt(ri)}. {hint}See {self.see}.".replace("  ", " "))
        zeros = (flat_ref == 0) & (flat_out == 0)
        if np.any(np.signbit(flat_out[zeros]) != np.signbit(flat_ref[zeros])):
            i = np.flatnonzero(zeros & (np.signbit(flat_out) != np.signbit(flat_ref)))[0]
            if self.signed_zero:
                raise _Fail(f"for x = {_fmt(flat_x[i])} ({desc}) your {name} returns {_fmt(flat_out[i])}, "
                            f"but PyTorch returns {_fmt(flat_ref[i])}. The two zeros compare equal, so "
                            f"only np.signbit tells them apart, and this exercise asks for PyTorch's sign "
                            f"too: replace only the inputs that are below 0 and pass every other input "
                            f"through unchanged. See {self.see}.")
            note = (f"for x = {_fmt(flat_x[i])} your {name} returns {_fmt(flat_out[i])} and PyTorch "
                    f"{_fmt(flat_ref[i])}. The two zeros compare equal, so this passes; only "
                    f"np.signbit tells them apart. See {self.see}.")
            if note not in notes:
                notes.append(note)


# ------------------------------------------------------------ other shapes


def _check_sparsity(fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
    rng = np.random.default_rng(1)
    big = np.maximum(rng.standard_normal(100_000), 0)
    cases = [
        ("[0, 1, 0, 2]", np.array([0.0, 1.0, 0.0, 2.0]), 0.5),
        ("[-0.0, 1.0] (-0.0 is a zero too)", np.array([-0.0, 1.0]), 0.5),
        ("[nan, 0.0, 3.0] (NaN is not zero)", np.array([np.nan, 0.0, 3.0]), 1 / 3),
        ("a 2-D array", np.array([[0.0, 1.0, 2.0], [0.0, 0.0, 5.0]]), 0.5),
        ("a float16 array", np.array([0, 0, 0, 1], dtype=np.float16), 0.75),
        ("an array with no zeros", np.array([1e-300, -2.0]), 0.0),
        ("ReLU of 100,000 normal samples", big, float(np.mean(big == 0))),
    ]
    notes: list[str] = []
    for label, a, expected in cases:
        out, w = _call(fn, label, a.copy())
        notes += w
        try:
            got = float(out)
        except (TypeError, ValueError):
            raise _Fail(f"for {label} your {name} returns {type(out).__name__} {out!r}; expected one number "
                        "between 0 and 1.") from None
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-12):
            hint = ""
            if math.isclose(got, 1 - expected, abs_tol=1e-12):
                hint = " That is the fraction of non-zeros: count the zeros instead."
            elif a.ndim == 2 and math.isclose(got, np.mean(a[0] == 0)):
                hint = " Did you count only the first row? Use every entry."
            raise _Fail(f"for {label} your {name} returns {_fmt(got)}, expected {_fmt(expected)}.{hint} "
                        "See chapter 4, 'Sparsity'.")
    return len(cases), notes


def _check_dead_units(fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
    rng = np.random.default_rng(2)
    acts = np.maximum(rng.standard_normal((200, 30)), 0)
    acts[:, [3, 17]] = 0.0
    cases = [
        ("3 examples x 4 units", np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.5, 0.0]])),
        ("a unit that fires for one example only", np.array([[0.0, 0.0], [0.0, 0.0], [4.0, 0.0]])),
        ("zeros written as -0.0", np.array([[-0.0, 1.0], [0.0, 1.0]])),
        ("a single example", np.array([[0.0, 3.0, 0.0]])),
        ("200 examples x 30 units", acts),
    ]
    notes: list[str] = []
    for label, a in cases:
        out, w = _call(fn, label, a.copy())
        notes += w
        ref = np.all(a == 0, axis=0)
        got = np.asarray(out)
        if got.shape != ref.shape:
            hint = " (Did you reduce over the wrong axis? Examples are rows, units are columns.)" \
                if got.shape == (a.shape[0],) else ""
            raise _Fail(f"for {label} your {name} returns shape {got.shape}, expected one entry per unit, "
                        f"shape {ref.shape}.{hint}")
        if not np.array_equal(got.astype(bool), ref):
            hint = ""
            if np.array_equal(got.astype(bool), np.any(a == 0, axis=0)):
                hint = " You marked units that are zero for *some* example; dead means zero for *every* one."
            elif np.array_equal(got.astype(bool), ~ref):
                hint = " You returned the live units; True should mean dead."
            raise _Fail(f"for {label} your {name} returns {got.astype(bool).tolist()}, expected "
                        f"{ref.tolist()}.{hint} See chapter 8.")
        if got.dtype != bool:
            notes.append(f"your {name} returns dtype {got.dtype}; a boolean array (True = dead) is clearer.")
    return len(cases), sorted(set(notes))


def _check_he_std(fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
    notes: list[str] = []
    for fan_in in (1, 2, 64, 100, 784, 4096):
        out, w = _call(fn, f"fan_in={fan_in}", fan_in)
        notes += w
        expected = math.sqrt(2 / fan_in)
        try:
            got = float(out)
        except (TypeError, ValueError):
            raise _Fail(f"for fan_in={fan_in} your {name} returns {out!r}; expected a number.") from None
        if not math.isclose(got, expected, rel_tol=1e-9):
            hint = ""
            if math.isclose(got, 2 / fan_in, rel_tol=1e-9):
                hint = " That is the variance 2/fan_in; the standard deviation is its square root."
            elif math.isclose(got, math.sqrt(1 / fan_in), rel_tol=1e-9):
                hint = (" That is sqrt(1/fan_in); He et al. double the variance because ReLU zeroes "
                        "half of its inputs.")
            raise _Fail(f"for fan_in={fan_in} your {name} returns {_fmt(got)}, expected "
                        f"sqrt(2/{fan_in}) = {_fmt(expected)}.{hint} See chapter 7.")
    return 6, notes


def _check_linear_collapse(fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
    rng = np.random.default_rng(3)
    notes: list[str] = []
    shapes = [(2, 3, 1), (4, 8, 3), (5, 5, 5), (1, 1, 1)]
    for d_in, d_hidden, d_out in shapes:
        W1, b1 = rng.standard_normal((d_hidden, d_in)), rng.standard_normal(d_hidden)
        W2, b2 = rng.standard_normal((d_out, d_hidden)), rng.standard_normal(d_out)
        label = f"layers {d_in} -> {d_hidden} -> {d_out}"
        out, w = _call(fn, label, W1.copy(), b1.copy(), W2.copy(), b2.copy())
        notes += w
        try:
            W, b = (np.asarray(o, dtype=float) for o in out)
        except (TypeError, ValueError):
            raise _Fail(f"your {name} should return a pair (W, b); it returned {type(out).__name__}.") from None
        if W.shape != (d_out, d_in) or b.shape != (d_out,):
            raise _Fail(f"for {label} your W has shape {W.shape} and b {b.shape}; expected ({d_out}, {d_in}) "
                        f"and ({d_out},). With y = x @ W.T + b, the combined W is W2 @ W1.")
        x = rng.standard_normal((7, d_in))
        expected = (x @ W1.T + b1) @ W2.T + b2
        if not np.allclose(x @ W.T + b, expected, rtol=1e-9, atol=1e-9):
            hint = ""
            if np.allclose(W, W2 @ W1) and not np.allclose(b, W2 @ b1 + b2):
                hint = " W is right; the bias of layer 1 also passes through W2: b = W2 @ b1 + b2."
            raise _Fail(f"for {label} your single layer gives different outputs from the two layers.{hint} "
                        "See chapter 2.")
    return len(shapes), notes



def _check_clip_by_norm(fn: Callable[..., Any], name: str) -> tuple[int, list[str]]:
    """Clipping by the gradient's norm, as torch.nn.utils.clip_grad_norm_ does (chapter 6)."""
    rng = np.random.default_rng(6)
    notes: list[str] = []
    cases = [("a short gradient", rng.standard_normal(5) * 0.1, 1.0),
             ("a long gradient", rng.standard_normal(8) * 10, 1.0),
             ("a long gradient, max_norm 5", rng.standard_normal(100) * 3, 5.0),
             ("a gradient exactly at max_norm", np.array([3.0, 4.0]), 5.0),
             ("the zero gradient", np.zeros(4), 1.0),
             ("a gradient with one huge entry", np.array([1e6, 1.0, -1.0]), 2.0)]
    for label, g, max_norm in cases:
        original = g.copy()
        out, w = _call(fn, f"{label} (max_norm={_fmt(max_norm)})", g, max_norm)
        notes += w
        try:
            got = np.asarray(out, dtype=float)
        except (TypeError, ValueError):
            raise _Fail(f"for {label} your {name} returns {type(out).__name__}; expected an array.") from None
        if not np.array_equal(g, original):
            notes.append("your function changed the array it was given; return a new one "
                         "(clip_grad_norm_ works in place, but this exercise asks for a copy).")
        norm = float(np.linalg.norm(original))
        expected = original * (max_norm / norm) if norm > max_norm else original
        if got.shape != original.shape:
            raise _Fail(f"for {label} your {name} returns shape {got.shape}; expected {original.shape}: "
                        "clipping changes the length of the gradient, not its shape.")
        if np.allclose(got, expected, rtol=1e-5, atol=1e-12):
            continue
        hint = ""
        if np.isnan(got).any() and norm == 0:
            hint = " The zero gradient has norm 0: it is short, so return it unchanged (no division by 0)."
        elif np.allclose(got, np.clip(original, -max_norm, max_norm)):
            hint = (" That clips each entry on its own (clipping by value), which turns the gradient's "
                    "direction; scale the whole vector instead, g * max_norm / ||g||.")
        elif norm <= max_norm and math.isclose(float(np.linalg.norm(got)), max_norm, rel_tol=1e-5):
            hint = " Only a gradient longer than max_norm is scaled down; a shorter one passes unchanged."
        elif norm > max_norm:
            hint = (f" Its norm is {_fmt(np.linalg.norm(got))}; after clipping it should be max_norm = "
                    f"{_fmt(max_norm)}, pointing the same way: g * max_norm / ||g||, with ||g|| = "
                    "np.linalg.norm(g).")
        raise _Fail(f"for {label} (norm {_fmt(norm)}, max_norm {_fmt(max_norm)}) your {name} returns "
                    f"{_fmt_vec(got)}, expected {_fmt_vec(expected)}.{hint} See chapter 6, 'Exploding "
                    "gradients and gradient clipping'.")
    return len(cases), notes


def _fmt_vec(v: np.ndarray) -> str:
    """A short vector as a learner would write it, the first few entries of a long one."""
    items = ", ".join(_fmt(x) for x in v.ravel()[:4])
    return f"[{items}{', ...' if v.size > 4 else ''}]"


# ---------------------------------------------------------------- registry

_SEE3 = "chapter 3, 'NumPy against PyTorch, on the awkward inputs'"
_SEE11 = "chapter 11, 'Bounded and cheap: ReLU6 and hard-swish'"
#: the classic wrong ReLUs of both "relu" checks
_RELU_HINTS = {
    ("nan", None): "Hiding a NaN as 0 hides a bug upstream; test `x < 0` rather than `x > 0`. ",
    ("-inf", "nan"): "In floating point, -inf * 0 is nan. ",
}
_EXERCISES: dict[str, Callable[[Callable[..., Any], str], tuple[int, list[str]]]] = {
    "relu": _Elementwise(A.relu, _SEE3, exact=True, hints=_RELU_HINTS),
    "relu_strict": _Elementwise(A.relu, _SEE3, exact=True, signed_zero=True, hints=_RELU_HINTS),
    "relu_derivative": _Elementwise(A.relu_derivative, "chapter 3, 'The derivative at zero'", exact=True,
                                    lenient={"nan": (0.0, 1.0, float("nan"))}, hints={
        ("0.0", None): "ReLU has a kink at 0; PyTorch uses the left derivative, 0. ",
        ("-0.0", None): "ReLU has a kink at 0; PyTorch uses the left derivative, 0. ",
    }),
    "leaky_relu": _Elementwise(A.leaky_relu, "chapter 9", exact=True,
                               kwargs=({}, {"negative_slope": 0.2})),
    "sigmoid": _Elementwise(A.sigmoid, "chapter 5", exact=False),
    "sigmoid_derivative": _Elementwise(A.sigmoid_derivative, "chapter 5", exact=False),
    "tanh_derivative": _Elementwise(A.tanh_derivative, "chapter 6", exact=False),
    "silu": _Elementwise(A.silu, "chapter 10", exact=False),
    "gelu": _Elementwise(A.gelu, "chapter 10", exact=False),
    "relu6": _Elementwise(M.relu6, _SEE11, exact=True, hints={
        ("inf", None): "ReLU6 caps every input at 6, +inf included. ",
        ("nan", None): "NaN must stay NaN; np.clip and np.minimum/np.maximum keep it. ",
    }),
    "hardswish": _Elementwise(M.hardswish, _SEE11, exact=False, lenient={"-inf": (0.0, -0.0)}, hints={
        ("-3", None): "Hard-swish is exactly 0 for every x <= -3: its gate relu6(x + 3) / 6 is 0 there. ",
        ("3", None): "Hard-swish is exactly x for every x >= 3: its gate is 1 there. ",
    }),
    "sparsity": _check_sparsity,
    "dead_units": _check_dead_units,
    "he_std": _check_he_std,
    "linear_collapse": _check_linear_collapse,
    "clip_by_norm": _check_clip_by_norm,
}


class Checker:
    """Check a learner's answer to a named exercise; see :data:`check`."""

    def names(self) -> list[str]:
        """The exercise names that :data:`check` knows, sorted."""
        return sorted(_EXERCISES)

    def __call__(self, name: str, answer: Any, *, verbose: bool = True) -> Result:
        """Run exercise ``name`` on ``answer`` and print feedback.

        Parameters
        ----------
        name : str
            One of :meth:`names`.
        answer : callable
            The learner's function (pass the function itself, not its result).
        verbose : bool, default True
            Print the feedback.

        Returns
        -------
        Result
            Truthy on a pass. Never raises.
        """
        result = self._run(name, answer)
        if verbose:
            print(result.report())
        _log_for_grading(result)
        return result

    def _run(self, name: Any, answer: Any) -> Result:
        if not isinstance(name, str) or name not in _EXERCISES:
            close = difflib.get_close_matches(str(name), _EXERCISES, n=1)
            guess = f" Did you mean {close[0]!r}?" if close else ""
            return Result(str(name), False, [f"there is no exercise called {name!r}.{guess} "
                                             f"Known exercises: {', '.join(self.names())}."])
        if not callable(answer):
            return Result(name, False, [f"the answer must be a function, got {type(answer).__name__} "
                                        f"{_fmt(answer) if not isinstance(answer, np.ndarray) else 'array'}. "
                                        f"Pass the function itself: check({name!r}, my_function), "
                                        "not check(..., my_function(x))."])
        try:
            with np.errstate(all="ignore"):
                cases, notes = _EXERCISES[name](answer, name)
        except _Fail as fail:
            return Result(name, False, [str(fail)])
        return Result(name, True, notes=list(dict.fromkeys(notes)), cases=cases)


def _log_for_grading(result: Result) -> None:
    """Append ``result`` as a JSON line to the file named by ``RELU_LAB_GRADE_LOG``, if set."""
    path = os.environ.get(GRADE_LOG_ENV)
    if not path:
        return
    record = {"name": result.name[:200], "passed": result.passed, "report": result.report()}
    try:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps(record, ensure_ascii=False) + "\n")
    except OSError:  # check() never raises; the grader reports a missing record itself
        pass


#: ``check(name, answer)`` tests a learner's answer and prints feedback;
#: ``check.names()`` lists the exercises.
check = Checker()
