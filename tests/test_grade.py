"""make grade: a folder of mixed submissions is graded, row by row, and left untouched."""

from __future__ import annotations

import hashlib
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tests.tools import grade
from tests.tools.practice import learner_copy

ROOT = Path(__file__).resolve().parents[1]
CHAPTER = ROOT / "notebooks" / "03_relu_function.ipynb"

IMPORTS = "import numpy as np\nfrom relu_lab.exercises import check"
RELU = "def my_relu(x):\n    return np.where(x < 0, x.dtype.type(0), x)"
CHECK = 'check("relu", my_relu)'


def _notebook(*sources: str) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_markdown_cell("# A learner's notebook")] +
                      [new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def _exercises_only(chapter: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A chapter's exercise cells (the functions and their checks) after `import numpy`:
    graded the same as the whole chapter, without its slower cells."""
    return _notebook("import numpy as np", *[
        c.source for c in chapter.cells
        if c.cell_type == "code" and ("def my_" in c.source or "check(" in c.source)])


#: Synthetic submissions, one per kind of bad notebook; cell numbers count the heading.
SYNTHETIC = {
    "syntax_error.ipynb": _notebook(IMPORTS, "def my_relu(x)\n    return np.maximum(x, 0)", CHECK),
    "exception.ipynb": _notebook(IMPORTS, "ratio = 1 / 0", RELU, CHECK),
    "renamed.ipynb": _notebook(IMPORTS, RELU.replace("my_relu", "relu_mine"), CHECK),
    "infinite_loop.ipynb": _notebook(
        IMPORTS, "import time\n\nwhile True:\n    time.sleep(0.1)", RELU, CHECK,
        "def my_he_std(fan_in):\n    while True:\n        fan_in += 1", 'check("he_std", my_he_std)'),
    "prints_a_lot.ipynb": _notebook(IMPORTS, "for i in range(20_000):\n    print('x' * 99)", RELU, CHECK),
    "fake_pass.ipynb": _notebook(IMPORTS, "def my_relu(x):\n    return x",
                                 'print("✓ relu: all 6 checks passed.")\ncheck("relu", my_relu)'),
    "kernel_dies.ipynb": _notebook(IMPORTS, "import os\nos._exit(1)", RELU, CHECK),
}


def _hashes(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Grade one folder of mixed submissions once; the tests read the results."""
    subs = tmp_path_factory.mktemp("submissions")
    (subs / "ada").mkdir()
    chapter = nbformat.read(CHAPTER, as_version=4)
    nbformat.write(_exercises_only(chapter), subs / "ada" / CHAPTER.name)  # the book's solutions
    (subs / "ben").mkdir()
    nbformat.write(_exercises_only(learner_copy(chapter)), subs / "ben" / CHAPTER.name)  # stubs
    (subs / "not_json.ipynb").write_text('{"cells": [', encoding="utf-8")
    (subs / "bad").mkdir()
    for name, nb in SYNTHETIC.items():
        nbformat.write(nb, subs / "bad" / name)
    (subs / "bad" / ".ipynb_checkpoints").mkdir()
    nbformat.write(SYNTHETIC["fake_pass.ipynb"], subs / "bad" / ".ipynb_checkpoints" / "old.ipynb")
    before = _hashes(subs)
    out = tmp_path_factory.mktemp("grades")
    code = grade.main([str(subs), "--out", str(out), "--cell-timeout", "3", "--timeout", "60",
                       "--output-limit", "100000", "--jobs", "2"])
    return code, subs, before, out


def test_grades_csv_exactly(graded):
    code, _, _, out = graded
    assert code == 0
    header = ("notebook,clip_by_norm,dead_units,gelu,hardswish,he_std,leaky_relu,linear_collapse,relu,relu6,"
              "relu_derivative,relu_strict,sigmoid,sigmoid_derivative,silu,sparsity,tanh_derivative,total,problems")
    assert grade.COLUMNS == header.split(",")
    assert (out / "grades.csv").read_text(encoding="utf-8").splitlines() == [
        header,
        "ada/03_relu_function.ipynb,,,,,,,,,,1,1,,,,,,2,ok",
        "bad/exception.ipynb,,,,,,,,1,,,,,,,,,1,exception: cell 3: ZeroDivisionError: division by zero",
        "bad/fake_pass.ipynb,,,,,,,,0,,,,,,,,,0,ok",
        "bad/infinite_loop.ipynb,,,,,0,,,1,,,,,,,,,1,"
        "timed out: cell 3 ran past 3 s and was interrupted; timed out: cell 7 ran past 3 s and was interrupted",
        "bad/kernel_dies.ipynb,,,,,,,,0,,,,,,,,,0,kernel died: cell 3 ended the Python process; later cells did not run",
        "bad/prints_a_lot.ipynb,,,,,,,,1,,,,,,,,,1,"
        "output truncated: cell 3 printed 2.0 MB (limit 100 kB; the grader keeps none of it)",
        "bad/renamed.ipynb,,,,,,,,0,,,,,,,,,0,"
        "function missing: cell 4 (check 'relu'): name 'my_relu' is not defined",
        "bad/syntax_error.ipynb,,,,,,,,0,,,,,,,,,0,"
        "syntax error: cell 3: expected ':' (line 1); function missing: cell 4 (check 'relu'): "
        "name 'my_relu' is not defined",
        "ben/03_relu_function.ipynb,,,,,,,,,,0,0,,,,,,0,ok",
        "not_json.ipynb,,,,,,,,,,,,,,,,,0,"
        "invalid notebook: not valid JSON (Expecting value: line 1 column 12 (char 11))",
    ]


def test_submissions_are_never_modified(graded):
    _, subs, before, _ = graded
    assert _hashes(subs) == before


def test_feedback_files_hold_what_check_printed(graded):
    _, _, _, out = graded
    feedback = out / "feedback"
    files = sorted(p.relative_to(feedback).as_posix() for p in feedback.rglob("*.txt"))
    assert files == ["ada/03_relu_function.txt", "bad/exception.txt", "bad/fake_pass.txt",
                     "bad/infinite_loop.txt", "bad/kernel_dies.txt", "bad/prints_a_lot.txt",
                     "bad/renamed.txt", "bad/syntax_error.txt", "ben/03_relu_function.txt",
                     "not_json.txt"]
    ada = (feedback / "ada/03_relu_function.txt").read_text(encoding="utf-8")
    assert "Exercises passed: 2 of 2." in ada and "✓ relu_strict: all 6 checks passed." in ada
    ben = (feedback / "ben/03_relu_function.txt").read_text(encoding="utf-8")
    assert "Exercises passed: 0 of 2." in ben and ben.count("still raises NotImplementedError") == 2
    fake = (feedback / "bad/fake_pass.txt").read_text(encoding="utf-8")
    assert "relu: not yet\n✗ relu: not yet.\n  - for x = -3" in fake
    exc = (feedback / "bad/exception.txt").read_text(encoding="utf-8")
    assert "ZeroDivisionError" in exc and "ratio = 1 / 0" in exc  # the traceback's end
    renamed = (feedback / "bad/renamed.txt").read_text(encoding="utf-8")
    assert "relu: not yet\n(the check cell did not finish" in renamed
    prints = (feedback / "bad/prints_a_lot.txt").read_text(encoding="utf-8")
    assert "xxxx" not in prints and len(prints) < 2000
    assert "not valid JSON" in (feedback / "not_json.txt").read_text(encoding="utf-8")


def test_missing_or_empty_folder_is_an_error(tmp_path, capsys):
    assert grade.main([str(tmp_path / "nowhere")]) == 2
    assert grade.main([str(tmp_path)]) == 2
    assert "no .ipynb files" in capsys.readouterr().err


def test_valid_json_that_is_not_a_notebook(tmp_path):
    (tmp_path / "list.ipynb").write_text("[1, 2]", encoding="utf-8")
    g = grade.grade_notebook(tmp_path / "list.ipynb", "list.ipynb")
    assert g.row()[-2:] == ["0", g.problems[0]] and g.problems[0].startswith("invalid notebook: not a Jupyter")


def test_log_keeps_each_exercise_last_record_and_skips_junk(tmp_path):
    log = tmp_path / "log.jsonl"
    log.write_text("\n".join([
        '{"name": "relu", "passed": false, "report": "first"}',
        "✓ relu: all 6 checks passed.",
        '{"name": "relu", "passed": true, "report": "second"}',
        '{"name": "rleu", "passed": true, "report": "unknown exercise"}',
        '{"name": "he_std", "passed": "yes", "report": "not a boolean"}',
        '{"name": "gelu"}',
    ]), encoding="utf-8")
    assert grade._read_log(log) == {"relu": {"passed": True, "report": "second"}}
    assert grade._read_log(tmp_path / "missing.jsonl") == {}
