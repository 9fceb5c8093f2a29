"""Learner copies: solutions become stubs, checks stay, and the copy runs without crashing."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.tools.practice import BEGIN, END, STUB, learner_copy, main, strip_solutions

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_strip_keeps_indentation_and_code_around():
    src = f"def f(x):\n    '''doc'''\n    {BEGIN}\n    y = x\n    return y\n    {END}\n\nprint(1)"
    assert strip_solutions(src) == f"def f(x):\n    '''doc'''\n    {STUB}\n\nprint(1)"


def test_unbalanced_markers_are_an_error():
    with pytest.raises(ValueError, match="unbalanced"):
        strip_solutions(f"{BEGIN}\nx = 1\n")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_learner_copy_has_no_solutions_or_outputs(path):
    source = nbformat.read(path, as_version=4)
    copy = learner_copy(source)
    text = "\n".join(c.source for c in copy.cells)
    assert BEGIN not in text and END not in text
    assert "{solution" not in text, "a solution cell is not tagged `solution`"
    assert all(not c.get("outputs") for c in copy.cells if c.cell_type == "code")
    n_checks = sum("check(" in c.source for c in source.cells if c.cell_type == "code")
    assert sum("check(" in c.source for c in copy.cells if c.cell_type == "code") == n_checks
    assert text.count(STUB) == sum(c.source.count(BEGIN) for c in source.cells)


def test_every_chapter_with_an_exercise_has_a_coded_check():
    for path in CHAPTERS:
        nb = nbformat.read(path, as_version=4)
        if any("{exercise}" in c.source for c in nb.cells):
            assert any("check(" in c.source for c in nb.cells if c.cell_type == "code"), path.name


def test_learner_copy_runs_and_checks_say_not_yet(tmp_path):
    assert main([str(tmp_path)]) == 0
    assert (tmp_path / "README.md").exists()
    nb = nbformat.read(tmp_path / "03_relu_function.ipynb", as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(ROOT / "notebooks")}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" and "check(" in c.source for o in c.outputs]
    text = "".join(o.get("text", "") for o in outputs)
    assert text.count("not yet") >= 2 and "NotImplementedError" in text
    assert not any(o.output_type == "error" for c in nb.cells if c.cell_type == "code" for o in c.outputs)
