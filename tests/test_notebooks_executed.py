"""Every code cell of every chapter is stored executed (nbval cannot see the others)."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from tests.tools.nbcheck import main, unexecuted_cells

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks found under notebooks/"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_every_code_cell_is_stored_executed(path):
    assert unexecuted_cells(path) == [], f"{path.name}: run `make execute` and commit the outputs"


def _notebook(tmp_path, executed: bool) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# t"), nbformat.v4.new_code_cell("1 + 1"), nbformat.v4.new_code_cell("")]
    if executed:
        nb.cells[1].execution_count = 1
        nb.cells[1].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    return path


def test_check_catches_an_unexecuted_cell(tmp_path, capsys):
    path = _notebook(tmp_path, executed=False)
    assert unexecuted_cells(path) == [1]  # the empty cell does not count
    assert main([str(path)]) == 1
    assert "stored unexecuted" in capsys.readouterr().err


def test_check_passes_an_executed_notebook(tmp_path):
    assert main([str(_notebook(tmp_path, executed=True))]) == 0
