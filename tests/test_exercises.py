"""relu_lab.exercises: right answers pass, classic wrong answers fail with a useful message."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import special

from relu_lab import activations as A
from relu_lab.exercises import GRADE_LOG_ENV, Result, check

CORRECT = {
    "relu": lambda x: np.where(x < 0, 0.0, x).astype(x.dtype),
    "relu_strict": lambda x: np.where(x < 0, 0.0, x).astype(x.dtype),
    "relu_derivative": lambda x: (x > 0).astype(x.dtype),
    "leaky_relu": lambda x, negative_slope=0.01: np.where(x > 0, x, negative_slope * x),
    "sigmoid": lambda x: special.expit(x).astype(x.dtype),
    "sigmoid_derivative": lambda x: (special.expit(x) * (1 - special.expit(x))).astype(x.dtype),
    "tanh_derivative": lambda x: 1 - np.tanh(x) ** 2,
    "silu": lambda x: (x * special.expit(x)).astype(x.dtype),
    "gelu": lambda x: (x * (1 + special.erf(x / math.sqrt(2))) / 2).astype(x.dtype),
    "relu6": lambda x: np.clip(x, 0, 6),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "sparsity": lambda a: float(np.mean(a == 0)),
    "dead_units": lambda acts: np.all(acts == 0, axis=0),
    "he_std": lambda fan_in: math.sqrt(2 / fan_in),
    "linear_collapse": lambda W1, b1, W2, b2: (W2 @ W1, W2 @ b1 + b2),
    "clip_by_norm": lambda g, max_norm: g * min(1.0, max_norm / max(np.linalg.norm(g), 1e-300)),
}


def test_every_exercise_has_a_correct_answer_here():
    assert sorted(CORRECT) == check.names()


@pytest.mark.parametrize("name", sorted(CORRECT))
def test_correct_answers_pass(name, capsys):
    result = check(name, CORRECT[name])
    assert isinstance(result, Result) and result and result.cases >= 4
    assert f"✓ {name}" in capsys.readouterr().out


@pytest.mark.parametrize("name", ["relu", "relu_derivative", "leaky_relu", "sigmoid", "silu"])
def test_the_reference_itself_passes(name):
    assert check(name, getattr(A, name), verbose=False)


def test_hardswish_zero_at_minus_infinity_passes_with_a_note():
    from scipy import special as _  # noqa: F401  (same imports as the chapter's learners)

    result = check("hardswish", lambda x: np.where(x <= -3, 0, x * np.clip(x + 3, 0, 6) / 6).astype(x.dtype),
                   verbose=False)
    assert result and any("x = -inf" in n and "defensible" in n for n in result.notes)


WRONG = [
    # (exercise, answer, words the feedback must contain)
    ("relu", lambda x: x * (x > 0), ["x = -inf", "returns nan", "-inf * 0 is nan"]),
    ("relu", lambda x: x, ["x = -3", "returns -3", "PyTorch returns 0.0"]),
    ("relu", lambda x: np.where(x > 0, x, 0.0).astype(x.dtype), ["x = nan", "Hiding a NaN"]),
    ("relu", lambda x: np.maximum(x, 0.5 * 0).astype(np.float64), ["dtype float64", "keeps the input's dtype float32"]),
    ("relu", lambda x: np.maximum(x, 0).ravel(), ["shape (12,)", "expected (3, 4)"]),
    ("relu_strict", lambda x: np.maximum(x, 0).astype(x.dtype),
     ["x = -0.0", "returns 0.0", "PyTorch returns -0.0", "np.signbit", "below 0"]),
    ("relu_strict", lambda x: np.where(x > 0, x, 0.0).astype(x.dtype), ["x = nan", "Hiding a NaN"]),
    ("relu_derivative", lambda x: (x >= 0).astype(x.dtype), ["x = -0.0", "left derivative, 0"]),
    ("relu_derivative", lambda x: np.ones_like(x), ["x = -3", "returns 1"]),
    ("leaky_relu", lambda x, negative_slope=0.01: np.where(x > 0, x, 0.01 * x), ["negative_slope=0.2", "-0.6"]),
    ("sigmoid_derivative", lambda x: special.expit(x), ["your sigmoid_derivative returns"]),
    ("tanh_derivative", lambda x: 1 - np.tanh(x), ["your tanh_derivative returns"]),
    ("gelu", lambda x: 0.5 * x * (1 + special.erf(x / np.sqrt(2))), ["dtype float64", "upcast"]),
    ("relu6", lambda x: np.maximum(x, 0), ["x = inf", "returns inf", "caps every input at 6"]),
    ("relu6", lambda x: np.clip(x, 0, 6).astype(np.float64), ["dtype float64"]),
    ("hardswish", lambda x: (x * special.expit(x)).astype(x.dtype), ["x = -3", "exactly 0 for every x <= -3"]),
    ("hardswish", lambda x: x * np.clip(x + 3, 0, 6) / 3, ["your hardswish returns"]),
    ("sparsity", lambda a: float(np.mean(a != 0)), ["fraction of non-zeros"]),
    ("sparsity", lambda a: np.mean(a == 0, axis=0), ["expected one number"]),
    ("dead_units", lambda acts: np.any(acts == 0, axis=0), ["zero for *some* example"]),
    ("dead_units", lambda acts: np.all(acts == 0, axis=1), ["wrong axis"]),
    ("dead_units", lambda acts: ~np.all(acts == 0, axis=0), ["live units"]),
    ("he_std", lambda fan_in: 2 / fan_in, ["That is the variance"]),
    ("he_std", lambda fan_in: math.sqrt(1 / fan_in), ["zeroes half of its inputs"]),
    ("linear_collapse", lambda W1, b1, W2, b2: (W2 @ W1, b2), ["b = W2 @ b1 + b2"]),
    ("linear_collapse", lambda W1, b1, W2, b2: (W1.T @ W2.T, b2), ["shape"]),
    ("linear_collapse", lambda W1, b1, W2, b2: W2 @ W1, ["return a pair (W, b)"]),
    ("clip_by_norm", lambda g, m: np.clip(g, -m, m), ["clipping by value"]),
    ("clip_by_norm", lambda g, m: g * m / np.linalg.norm(g), ["a short gradient", "passes unchanged"]),
    ("clip_by_norm", lambda g, m: g / np.linalg.norm(g) * min(np.linalg.norm(g), m),
     ["the zero gradient", "no division by 0"]),
    ("clip_by_norm", lambda g, m: g / np.linalg.norm(g) if np.linalg.norm(g) > m else g, ["should be max_norm"]),
]


@pytest.mark.parametrize("name, answer, words", WRONG, ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_classic_wrong_answers_fail_with_specific_feedback(name, answer, words, capsys):
    result = check(name, answer)
    out = capsys.readouterr().out
    assert not result and out.startswith(f"✗ {name}: not yet")
    feedback = " ".join(result.problems)  # the printed text wraps these at 76 columns
    for w in words:
        assert w in feedback, f"{w!r} missing from feedback:\n{out}"


def test_sign_of_zero_is_a_note_not_a_failure():
    result = check("relu", lambda x: np.maximum(x, 0).astype(x.dtype) + 0.0, verbose=False)
    assert result and any("np.signbit" in n for n in result.notes)


def test_overflow_warnings_are_notes():
    result = check("sigmoid", lambda x: 1 / (1 + np.exp(-x)), verbose=False)
    assert result


def test_stub_says_not_yet():
    def my_relu(x):
        raise NotImplementedError

    result = check("relu", my_relu, verbose=False)
    assert not result and "NotImplementedError" in result.problems[0]


@pytest.mark.parametrize("name, answer, words", [
    ("rleu", np.abs, ["no exercise called 'rleu'", "Did you mean 'relu'"]),
    (3, np.abs, ["no exercise called 3"]),
    ("relu", 3, ["must be a function", "check('relu', my_function)"]),
    ("relu", np.zeros(3), ["must be a function"]),
    ("relu", ..., ["must be a function"]),
    ("relu", lambda x: None, ["returned None", "return"]),
    ("relu", lambda x: 1 / 0, ["raised ZeroDivisionError"]),
    ("he_std", lambda: 1.0, ["raised TypeError"]),
])
def test_bad_input_gets_a_message_not_a_traceback(name, answer, words):
    result = check(name, answer, verbose=False)
    assert not result
    for w in words:
        assert w in result.problems[0]


def test_result_repr_and_report():
    ok = check("he_std", CORRECT["he_std"], verbose=False)
    assert repr(ok) == "<check 'he_std': passed>" and "all 6 checks passed" in ok.report()
    bad = check("he_std", lambda n: 1.0, verbose=False)
    assert repr(bad) == "<check 'he_std': not yet>" and bad.report().startswith("✗ he_std: not yet.")


def test_grade_log_records_each_call_and_printing_is_unchanged(tmp_path, monkeypatch, capsys):
    log = tmp_path / "sub" / "log.jsonl"
    monkeypatch.delenv(GRADE_LOG_ENV, raising=False)
    check("he_std", CORRECT["he_std"])
    printed = capsys.readouterr().out
    monkeypatch.setenv(GRADE_LOG_ENV, str(log))
    check("he_std", CORRECT["he_std"])
    assert capsys.readouterr().out == printed
    assert not log.exists()  # an unwritable log is skipped silently: check never raises
    log.parent.mkdir()
    ok = check("he_std", CORRECT["he_std"])
    bad = check("he_std", lambda n: 1.0, verbose=False)
    check("rleu", np.abs, verbose=False)
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert records == [
        {"name": "he_std", "passed": True, "report": ok.report()},
        {"name": "he_std", "passed": False, "report": bad.report()},
        {"name": "rleu", "passed": False, "report": check("rleu", np.abs, verbose=False).report()},
    ]
