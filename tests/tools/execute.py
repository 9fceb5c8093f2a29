"""Re-execute notebooks in place, so that their stored outputs are fresh.

Usage: python -m tests.tools.execute [--slowest N] [notebooks/NAME.ipynb ...]
(default: all chapters; --slowest N also lists each notebook's N slowest cells)

Each notebook runs in its own directory with the venv's kernel, and its execution time
is printed. Markdown cells are run as JupyterLab runs them (jupyterlab-myst): the values
of their ``{eval}`` expressions are stored in the cell's ``user_expressions`` metadata,
so that a chapter opened in Lab shows its numbers (``tests/tools/evals.py``). `make execute` calls this after a chapter or relu_lab changes.
"""

from __future__ import annotations

import sys
import time
from datetime import datetime
from pathlib import Path

import nbformat
from tests.tools.evals import lab_client_class
from tests.tools.kernels import use_ipc_transport


def _cell_seconds(cell) -> float:
    stamps = cell.metadata.get("execution", {})
    try:
        start = datetime.fromisoformat(stamps["iopub.execute_input"].replace("Z", "+00:00"))
        end = datetime.fromisoformat(stamps["shell.execute_reply"].replace("Z", "+00:00"))
    except (KeyError, ValueError):
        return 0.0
    return (end - start).total_seconds()


def execute(path: Path, timeout: int = 300, slowest: int = 0) -> tuple[float, list[str]]:
    """Run ``path`` in place; its seconds, and the {eval} expressions that JupyterLab
    could not evaluate where they stand (see main)."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    lab_client_class()(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                   coalesce_streams=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    for i, cell in sorted(code, key=lambda ic: -_cell_seconds(ic[1]))[:slowest]:
        first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
        print(f"    cell {i:>3}: {_cell_seconds(cell):5.1f} s  {first[:60]}")
    # Drop the per-cell timestamps nbclient adds: they would change on every run.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    failed = []
    for i, cell in enumerate(nb.cells):
        for item in cell.metadata.get("user_expressions", []) if cell.cell_type == "markdown" else []:
            if item["result"].get("status") != "ok":
                failed.append(f"{path}: cell {i}: {{eval}}`{item['expression']}` gave "
                              f"{item['result'].get('ename')}: {item['result'].get('evalue')}")
    return elapsed, failed


def main(args: list[str]) -> int:
    slowest = 0
    if args[:1] == ["--slowest"]:
        slowest, args = int(args[1]), args[2:]
    paths = [Path(a) for a in args] or sorted(Path("notebooks").glob("*.ipynb"))
    total, failed = 0.0, []
    for p in paths:
        seconds, errors = execute(p, slowest=slowest)
        total += seconds
        failed += errors
        print(f"{p}: {seconds:.1f} s")
    print(f"total: {total:.1f} s")
    if failed:
        # Lab evaluates a markdown cell in order, after the code above it only (the book,
        # after the whole chapter): a number used before it is computed is an error there.
        print("{eval} values JupyterLab would show as errors (compute the number above "
              "the sentence that shows it):\n  " + "\n  ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    use_ipc_transport()
    sys.exit(main(sys.argv[1:]))
