"""nbval's run of a chapter is also the book's: a pytest plugin that caches what nbval executed.

Usage: ``pytest -p tests.tools.nbval_cache --nbval ...`` (``make test-notebooks``).

``make test`` executes every chapter in nbval, and then the book build would execute
every chapter again (``tests/tools/prewarm.py``), in the same configuration (the same
``REPRO`` environment, IPC kernels, the venv's Python). This plugin makes the first run
serve both. nbval's kernel runs as the build's kernels do, drawing the figures' dark
twins (``RELU_LAB_DARK_TWINS=1``; a twin travels in an output's metadata, which nbval
does not compare). When the last cell of a chapter has run, the plugin runs in the same
kernel the extra cell that evaluates the prose's ``{eval}`` expressions, as the build's
own executions do (``tests/tools/evals.py``), and stores the chapter, with the outputs
nbval received, in the build's execution cache, as ``prewarm`` would. ``prewarm`` then
finds it cached and skips it, and the build only renders.

Only a chapter whose every cell passed is stored: one that failed, timed out or was cut
short (``-x``, a keyboard interrupt) is left to the build, which executes it itself and
reports what goes wrong, as before.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

import nbformat
import pytest
from nbval.plugin import IPyNbCell

from relu_lab.plotting import DARK_TWINS_ENV

_runs: dict[Path, dict] = {}   # per notebook: start time, outputs per cell, failed


def pytest_configure(config) -> None:
    os.environ[DARK_TWINS_ENV] = "1"  # nbval's kernels inherit it, like the build's


def _is_nbval_cell(item) -> bool:
    return isinstance(item, IPyNbCell)


def _path(item) -> Path:
    return Path(str(item.parent.fspath)).resolve()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    report = (yield).get_result()
    if _is_nbval_cell(item) and (report.failed or report.skipped):
        _runs.setdefault(_path(item), {})["failed"] = True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item) -> None:
    if _is_nbval_cell(item):
        _runs.setdefault(_path(item), {}).setdefault("start", time.perf_counter())


@pytest.hookimpl(tryfirst=True)  # before the runner tears the notebook down (its kernel)
def pytest_runtest_teardown(item, nextitem) -> None:
    if not _is_nbval_cell(item):
        return
    path = _path(item)
    run = _runs.setdefault(path, {})
    run.setdefault("outputs", {})[item.cell_num] = item.test_outputs
    last = nextitem is None or nextitem.parent is not item.parent
    if last and not run.get("failed"):
        _store(item.parent, path, run)


def _eval_outputs(notebook_item, cell) -> list | None:
    """Run the {eval} cell in the notebook's kernel, through nbval's own cell runner."""
    item = IPyNbCell.from_parent(notebook_item, name="{eval} values", cell_num=-1, cell=cell,
                                 options={"check": False, "skip": False, "check_exception": False})
    try:
        item.runtest()
    except Exception:  # an error in the cell: leave the chapter to the build
        return None
    return item.test_outputs


def _store(notebook_item, path: Path, run: dict) -> None:
    from tests.tools.evals import with_eval_cell
    from tests.tools.prewarm import CACHE, store

    # The notebook as nbval read it from disk, with the {eval} cell, if it has one, last.
    n_chapter = sum(c.cell_type == "code" for c in notebook_item.nb.cells)
    nb = with_eval_cell(notebook_item.nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    outputs = run.get("outputs", {})
    if sorted(outputs) != list(range(n_chapter)) or any(o is None for o in outputs.values()):
        return  # a cell that did not run
    if n_chapter < len(code):
        extra = _eval_outputs(notebook_item, code[-1])
        if extra is None:
            return
        outputs = {**outputs, n_chapter: extra}
    for count, cell in enumerate(code, start=1):
        cell.outputs = [nbformat.from_dict(dict(o)) for o in outputs[count - 1]]
        cell.execution_count = count
        for o in cell.outputs:
            if o.output_type == "execute_result":
                o.execution_count = count
    seconds = time.perf_counter() - run.get("start", time.perf_counter())
    lock = Path(f"{CACHE}.lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as held:  # two nbval workers write to one SQLite cache
        fcntl.flock(held, fcntl.LOCK_EX)
        store(str(path), nb, seconds)
