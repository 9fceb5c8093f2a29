"""Execute the chapters two at a time into the book's execution cache, before a build.

Usage: python -m tests.tools.prewarm [notebooks/NAME.ipynb ...]   (default: all chapters)

`jupyter-book build` executes changed notebooks one after another (myst-nb's "cache"
mode). On two cores this runs them two at a time, exactly as myst-nb would (same
jupyter-cache function, working directory, timeout and cache record), and stores each
result in `_build/.jupyter_cache`, where the build then finds it and only renders.
Each notebook runs with the extra cell that evaluates its prose's ``{eval}`` expressions,
as the build's own executions do (``tests/tools/evals.py``), so that the build finds it.
Its kernels draw the figures' dark twins, as the build's do
(``book/_ext/dark_figures.py``). Nothing else changes: a notebook already cached is skipped, and a notebook that fails
is not cached, so the build executes it again itself and reports the error as usual.
`make book` and `make test` call this before `jupyter-book build`. In `make test` the
pinned nbval run has usually cached every chapter already (``tests/tools/nbval_cache.py``).
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

from relu_lab.plotting import DARK_TWINS_ENV
from tests.tools.evals import with_eval_cell
from tests.tools.kernels import use_ipc_transport

ROOT = Path(__file__).resolve().parents[2]
#: The build's execution cache (``RELU_LAB_BOOK_CACHE`` names another one, for tests).
CACHE = Path(os.environ.get("RELU_LAB_BOOK_CACHE", ROOT / "_build" / ".jupyter_cache"))


def _timeout() -> int:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    return int(config.get("execute", {}).get("timeout", 30))


def _run(path: str, timeout: int) -> tuple[str, nbformat.NotebookNode | None, float, str]:
    nb = with_eval_cell(nbformat.read(path, as_version=4))
    result = single_nb_execution(nb, cwd=str(Path(path).parent), timeout=timeout,
                                 allow_errors=False, meta_override=True)
    return path, nb, result.time, "" if result.err is None else type(result.err).__name__


def store(path: str, nb: nbformat.NotebookNode, seconds: float, cache=None) -> None:
    """Put notebook ``path``, executed as ``nb`` (with its {eval} cell), in the build's
    cache, as myst-nb's "cache" mode would after executing it itself."""
    cache = cache or get_cache(str(CACHE))
    record = cache.add_nb_to_project(path)
    cache.cache_notebook_bundle(CacheBundleIn(nb, record.uri, data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def main(args: list[str]) -> int:
    paths = [str(Path(a).resolve()) for a in args] or sorted(
        str(p) for p in (ROOT / "notebooks").glob("*.ipynb"))
    cache = get_cache(str(CACHE))
    todo = []
    for p in paths:
        try:
            cache.match_cache_notebook(with_eval_cell(nbformat.read(p, as_version=4)))
        except KeyError:
            todo.append(p)
    if not todo:
        print("prewarm: every notebook is already cached")
        return 0
    workers = min(len(todo), os.cpu_count() or 1, 2)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for path, nb, seconds, error in pool.map(_run, todo, [_timeout()] * len(todo)):
            name = Path(path).relative_to(ROOT)
            if error:
                print(f"prewarm: {name} failed ({error}); the build will run it and report why")
                continue
            store(path, nb, seconds, cache)
            print(f"prewarm: {name} executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    use_ipc_transport()
    os.environ[DARK_TWINS_ENV] = "1"  # as the build sets it (book/_ext/dark_figures.py)
    sys.exit(main(sys.argv[1:]))
