"""Write learner copies of the chapters: outputs cleared, solutions replaced by stubs.

Usage: python -m tests.tools.practice [OUTDIR]   (default: _build/practice)

Solutions are marked in the source notebooks in one way (see README, "Exercises,
solutions and self-checks"):

- a markdown cell tagged ``solution`` (a ``{solution}`` dropdown, or the
  ``{solution-start}`` / ``{solution-end}`` gates around a coded solution) is removed;
- in a code cell, the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION`` are
  replaced by ``raise NotImplementedError`` at the same indentation (nbgrader's markers).

Every other cell, including each ``check(...)`` cell, is kept, so a learner who runs the
copy top to bottom sees "not yet" from each check until they fill in the stubs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
STUB = "raise NotImplementedError  # your code here"
_REGION = re.compile(rf"^([ \t]*){re.escape(BEGIN)}[^\n]*\n.*?^[ \t]*{re.escape(END)}[^\n]*$", re.M | re.S)

README = """# ReLU Lab: practice notebooks

These are learner copies of the book's chapters: the outputs are cleared, the worked
solutions are removed, and each "write it yourself" exercise has a stub,
`raise NotImplementedError  # your code here`, for you to replace with your code.
The cell after each stub calls `check(...)`, which tests your function on tricky
inputs (0, -0.0, infinities, NaN, empty arrays, float16/32/64) and tells you what it found.

## Open them

From the repository root, after `make book` or `make test` has set up `.venv`:

    make lab LAB_DIR=_build/practice

(JupyterLab with jupyterlab-myst, which shows the text as the book does, with the
numbers of the book's run until you run a chapter yourself.)

Run a notebook top to bottom (Run > Run All Cells). The checks say "not yet" until you
fill in the stubs; nothing crashes. `make practice` rewrites these copies from the book,
so keep your work under another name (File > Save Notebook As...).
"""


def strip_solutions(source: str) -> str:
    """Replace every marked solution region in ``source`` by a stub."""
    if source.count(BEGIN) != source.count(END):
        raise ValueError(f"unbalanced solution markers in cell:\n{source}")
    return _REGION.sub(lambda m: f"{m.group(1)}{STUB}", source)


def learner_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` without solutions and outputs."""
    nb = nbformat.from_dict(nb)
    cells = []
    for cell in nb.cells:
        if "solution" in cell.metadata.get("tags", []):
            continue
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source)
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)
        cells.append(cell)
    header = nbformat.v4.new_markdown_cell(
        "*Learner copy: solutions removed.* Replace each `raise NotImplementedError` with your "
        "code, then run the `check(...)` cell below it.")
    header.id = "learner-copy-note"
    nb.cells = cells[:1] + [header] + cells[1:]
    return nb


def main(args: list[str]) -> int:
    out = Path(args[0]) if args else Path("_build/practice")
    out.mkdir(parents=True, exist_ok=True)
    chapters = sorted(Path("notebooks").glob("*.ipynb"))
    for path in chapters:
        nbformat.write(learner_copy(nbformat.read(path, as_version=4)), out / path.name)
    (out / "README.md").write_text(README, encoding="utf-8")
    print(f"wrote {len(chapters)} learner notebooks and README.md to {out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
