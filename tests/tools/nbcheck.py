"""Find code cells that are stored without having been executed.

nbval re-executes a notebook and compares each cell's fresh output with the stored
one; a cell stored with no outputs and no execution count gives it nothing to compare,
so a notebook saved unexecuted passes nbval vacuously. This check closes that gap.

Usage: python -m tests.tools.nbcheck notebooks/*.ipynb
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def unexecuted_cells(path: str | Path) -> list[int]:
    """Indices of the non-empty code cells of notebook ``path`` that were never executed."""
    nb = nbformat.read(str(path), as_version=4)
    return [
        i for i, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and cell.source.strip() and cell.get("execution_count") is None
    ]


def main(paths: list[str]) -> int:
    if not paths:
        print("nbcheck: no notebooks given", file=sys.stderr)
        return 2
    bad = {p: unexecuted_cells(p) for p in paths}
    bad = {p: cells for p, cells in bad.items() if cells}
    for p, cells in bad.items():
        print(f"{p}: code cell(s) {cells} stored unexecuted; run `make execute`", file=sys.stderr)
    if not bad:
        print(f"nbcheck: all code cells of {len(paths)} notebook(s) are stored executed")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
