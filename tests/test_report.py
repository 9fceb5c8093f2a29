"""relu_lab.report: the marked form of machine-dependent numbers, and seed statistics."""

import re
from pathlib import Path

import numpy as np
import pytest

from relu_lab.report import MARK, MINUS, measured, median_range, paired, seed_count, times_ten

ROOT = Path(__file__).resolve().parents[1]


def _unpinned_patterns():
    text = (ROOT / "tests" / "nbval_sanitize_unpinned.cfg").read_text(encoding="utf-8")
    return re.findall(r"^regex: (.*)$\n^replace: (.*)$", text, flags=re.MULTILINE)


def _sanitize(text):
    for regex, replace in _unpinned_patterns():
        text = re.sub(regex, replace, text)
    return text


@pytest.mark.parametrize("value,spec", [
    (0.84375, ".3f"), (0.84375, ".0%"), (-0.012, ".1%"), (1.5e-13, ".1e"), (12345.6, ",.1f"),
    (3.0, ".0f"), (float("nan"), ".3f"), (float("-inf"), ".2f"), (2.5e8, ".3g"), (0.5, ".2%"),
])
def test_every_measured_number_is_masked_whole_by_the_unpinned_sanitizer(value, spec):
    line = f"He: median {measured(value, spec)} over 5 seeds"
    assert _sanitize(line) == f"He: median {MARK}# over 5 seeds"


def test_negative_numbers_carry_a_true_minus_sign():
    assert measured(-0.5, ".1f") == f"{MARK}{MINUS}0.5" and measured(-float("inf"), ".1f") == "≈−inf"
    assert measured(1e-5, ".0e") == "≈1e-05"  # the exponent's sign is Python's
    assert measured(-0.004, ".0%") == "≈0%" and measured(-0.0, ".1f") == "≈0.0"  # no "≈−0"
    assert measured(-4e-7, ".1e") == "≈−4.0e-07"


def test_seed_counts_read_plainly_and_only_the_count_is_masked():
    assert seed_count(3, 5) == "3 of 5 seeds" and seed_count(10, 10, "starts") == "10 of 10 starts"
    assert seed_count(np.int64(2), 5) == "2 of 5 seeds"
    assert _sanitize(f"higher on {seed_count(4, 5)}; 10 of 10 starts") == "higher on # of 5 seeds; # of 10 starts"
    assert _sanitize("layers 1 of 5 are wide") == "layers 1 of 5 are wide"
    with pytest.raises(ValueError, match="count must be between 0 and total"):
        seed_count(6, 5)
    with pytest.raises(TypeError, match="count must be an int"):
        seed_count(2.0, 5)
    assert _sanitize(seed_count(20, 20, "runs")) == "# of 20 runs"
    with pytest.raises(ValueError, match="noun must be"):
        seed_count(1, 5, "networks")


def test_unmarked_numbers_are_left_alone():
    line = "epochs 5, 10, 20; std 0.685; ratio 1.0e-3 and 84%"
    assert _sanitize(line) == line


def test_glued_strings_are_masked_inside_their_quotes():
    assert _sanitize(repr(median_range([0.8, 0.84, 0.87], ".0%"))) == "'≈# (≈# to ≈#)'"


def test_measured_formats_like_format():
    assert measured(0.84375, ".3f") == "≈0.844"
    assert measured(np.float32(0.5), ".1f") == "≈0.5"
    assert measured(np.array(0.25), ".2f") == "≈0.25"
    assert measured(7, ".0f") == "≈7"


@pytest.mark.parametrize("value,error", [("0.5", TypeError), (True, TypeError), ([0.5], TypeError)])
def test_measured_rejects_non_numbers(value, error):
    with pytest.raises(error, match="value must be a real number"):
        measured(value)


def test_measured_rejects_bad_specs():
    with pytest.raises(TypeError, match="spec must be a format"):
        measured(0.5, 3)
    with pytest.raises(ValueError, match="spec 'd' is not a valid format"):
        measured(0.5, "d")


def test_median_range():
    assert median_range([0.87, 0.80, 0.84], ".0%") == "≈84% (≈80% to ≈87%)"
    assert median_range([0.091, 0.094], ".0%") == "≈9% on every seed"  # not "≈9% (≈9% to ≈9%)"
    assert median_range([1.0, 2.0], ".1f") == "≈1.5 (≈1.0 to ≈2.0)"
    with pytest.raises(ValueError, match="values must be a non-empty 1-D"):
        median_range([], ".1f")
    with pytest.raises(ValueError, match="values must be a non-empty 1-D"):
        median_range([[1.0]], ".1f")


def test_paired_differences_follow_the_seed_order():
    p = paired([0.95, 0.93, 0.96], [0.91, 0.94, 0.90])
    np.testing.assert_allclose(p.differences, [0.04, -0.01, 0.06])
    assert (p.wins, p.seeds) == (2, 3)
    assert p.low == pytest.approx(-0.01) and p.high == pytest.approx(0.06)
    assert p.median == pytest.approx(0.04)
    assert p.describe(".2f") == "median ≈0.04 (≈−0.01 to ≈0.06), larger on 2 of 3 seeds"


def test_paired_rejects_unequal_or_non_finite_inputs():
    with pytest.raises(ValueError, match="one value per seed each, got 2 and 3"):
        paired([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"seeds at positions \[1\]"):
        paired([1.0, float("nan")], [1.0, 2.0])
    with pytest.raises(TypeError):
        paired("abc", [1.0])


def test_points_reads_a_gap_between_fractions_in_percentage_points():
    p = paired([0.50, 0.42, 0.61], [0.20, 0.30, 0.25])
    assert p.points() == ("≈30 percentage points (median; ≈12 to ≈36), "
                          "higher on 3 of 3 seeds")
    assert p.points(every=True).endswith("), on every seed")


def test_points_never_says_every_seed_when_it_is_not_so():
    p = paired([0.5, 0.2], [0.2, 0.3])
    with pytest.raises(ValueError, match="higher on only 1 of 2 seeds"):
        p.points(every=True)
    with pytest.raises(TypeError, match="every must be a bool"):
        p.points(every=1)


def test_times_ten_writes_the_prose_notation():
    assert times_ten(4.54e-05) == "4.5 × 10⁻⁵" and times_ten(9.54e-07) == "9.5 × 10⁻⁷"
    assert times_ten(3.1e12, digits=0) == "3 × 10¹²" and times_ten(0.0) == "0.0 × 10⁰"
    assert times_ten(-2.5e-3) == "\u22122.5 × 10⁻³"  # a true minus, as the prose writes it
    assert times_ten(np.float32(1e-10)) == "1.0 × 10⁻¹⁰" and times_ten(np.array(4.54e-5)) == "4.5 × 10⁻⁵"
    with pytest.raises(ValueError, match="value"):
        times_ten(float("nan"))
    with pytest.raises(TypeError, match="value"):
        times_ten("1e-5")
    with pytest.raises(TypeError, match="value"):
        times_ten(np.array([1e-5, 2e-5]))
    with pytest.raises(ValueError, match="digits"):
        times_ten(1.0, digits=-1)
