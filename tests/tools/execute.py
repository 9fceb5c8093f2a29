"""Re-execute notebooks in place, so that their stored outputs are fresh.

Usage: python -m tests.tools.execute [notebooks/NAME.ipynb ...]   (default: all chapters)

Each notebook runs in its own directory with the venv's kernel, and its execution time
is printed. `make execute` calls this after a chapter or relu_lab changes.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path, timeout: int = 300) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    elapsed = time.perf_counter() - start
    # Drop the per-cell timestamps nbclient adds: they would change on every run.
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return elapsed


def main(args: list[str]) -> int:
    paths = [Path(a) for a in args] or sorted(Path("notebooks").glob("*.ipynb"))
    total = 0.0
    for p in paths:
        seconds = execute(p)
        total += seconds
        print(f"{p}: {seconds:.1f} s")
    print(f"total: {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
