"""tests/tools/nbval_cache.py: nbval's run of a notebook is stored for the book build.

Each test runs nbval (with the plugin) on a small notebook in a temporary folder, with a
temporary execution cache, as ``make test-notebooks`` does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from jupyter_cache import get_cache

from relu_lab.plotting import DARK_TWIN_KEY
from tests.tools.evals import MIME, split_eval_cell, with_eval_cell

ROOT = Path(__file__).resolve().parents[1]


def notebook(path: Path, cells: list[str], prose: str) -> Path:
    """Write ``cells`` to ``path`` as a notebook stored executed, with ``prose`` first."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_markdown_cell(prose)] + [nbformat.v4.new_code_cell(c) for c in cells]
    for i, cell in enumerate(nb.cells[1:], start=1):
        cell.execution_count = i
    nbformat.write(nb, path)
    return path


def run_nbval(path: Path, cache: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, RELU_LAB_BOOK_CACHE=str(cache), PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "-p", "tests.tools.kernels", "-p", "tests.tools.nbval_cache",
                           "--nbval-lax", "--nbval-current-env", str(path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def cached(path: Path, cache: Path):
    """The executed notebook cached for ``path`` (matched as the build matches it), or None."""
    if not cache.exists():
        return None
    try:  # as myst-nb reads it: the cached outputs merged into the notebook
        return get_cache(str(cache)).merge_match_into_notebook(
            with_eval_cell(nbformat.read(path, as_version=4)))[1]
    except KeyError:
        return None


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """One nbval run, as `make test-notebooks` does, over a notebook that passes and one
    that fails: (folder, cache, the run)."""
    folder = tmp_path_factory.mktemp("notebooks")
    notebook(folder / "ok.ipynb", [
        "x = 6 * 7\nprint('x is', x)",
        "import matplotlib.pyplot as plt\nfrom relu_lab.plotting import use_style\nuse_style()\n"
        "fig, ax = plt.subplots(figsize=(2, 2)); ax.plot([0, 1]); plt.show()",
    ], prose="The answer is {eval}`x`.")
    notebook(folder / "bad.ipynb", ["y = 1", "raise ValueError('no')"], prose="{eval}`y`")
    cache = folder / "cache"
    return folder, cache, run_nbval(folder, cache)


def test_a_passing_notebook_is_cached_with_its_eval_values_and_dark_twins(ran):
    folder, cache, result = ran
    assert "1 failed" in result.stdout, result.stdout + result.stderr  # bad.ipynb's last cell
    nb = cached(folder / "ok.ipynb", cache)
    assert nb is not None, "not cached"
    nb, values = split_eval_cell(nb)
    assert values["x"]["data"]["text/plain"] == "42"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[0].outputs[0].text == "x is 42\n"
    figure = [o for o in code[1].outputs if "image/png" in o.get("data", {})]
    assert figure and DARK_TWIN_KEY in figure[0].metadata["image/png"]  # drawn as the build draws it
    assert MIME not in str(nb)  # the {eval} cell is gone from what split_eval_cell returned


def test_a_failing_notebook_is_left_to_the_build(ran):
    folder, cache, _ = ran
    assert cached(folder / "bad.ipynb", cache) is None
