"""Grade a folder of learner notebooks: which ``check(...)`` exercises pass.

Usage: python -m tests.tools.grade SUBMISSIONS [--out _build/grades] [--timeout 180]
       [--cell-timeout 30] [--output-limit 1000000] [--jobs 1]

Every ``*.ipynb`` under SUBMISSIONS (hidden folders such as ``.ipynb_checkpoints``
skipped) is copied into a scratch folder and run there, top to bottom, in its own
kernel, with the kernel's working directory in the scratch folder. Submissions are
only read, never written.

- Each cell may run ``--cell-timeout`` seconds; then the kernel is interrupted and the
  next cell runs, so a later exercise is still graded. The notebook as a whole may run
  ``--timeout`` seconds; cells not started by then are not run. A cell that raises does
  not stop the run either. The kernel is killed at the end.
- Results come from :data:`relu_lab.exercises.check` itself: with the environment
  variable ``RELU_LAB_GRADE_LOG`` set, every call appends its verdict and feedback to a
  file in the scratch folder. Printed text is never parsed, so a learner who prints
  "✓ relu: all 6 checks passed." gets no pass from it.
- Outputs are counted, not kept: a cell that prints more than ``--output-limit``
  characters is reported, and memory stays small however much a notebook prints.

Writes ``OUT/grades.csv`` (one row per notebook, keyed by its path relative to
SUBMISSIONS; one column per exercise that ``check`` knows, in ``check.names()`` order:
1 passed, 0 not yet, blank when the notebook has no check for it; ``total``, the number
passed; ``problems``, what went wrong while running it, or ``ok``) and one feedback
file per notebook, ``OUT/feedback/<path>.txt``, with the problems and the messages
``check`` printed. An exercise whose check cell is present but did not finish (a
missing function, a timeout, a dead kernel) counts 0.

This runs the learners' code with your permissions, like opening their notebooks in
Jupyter would: it is a grader, not a sandbox.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async

from relu_lab.exercises import GRADE_LOG_ENV, check
from tests.tools.kernels import use_ipc_transport

EXERCISES: list[str] = check.names()
COLUMNS = ["notebook", *EXERCISES, "total", "problems"]
#: ``check("relu", ...)`` or ``relu_lab.exercises.check('relu', ...)`` in a code cell.
_CHECK_CALL = re.compile(r"""\bcheck\(\s*(["'])(\w+)\1""")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_SYNTAX = ("SyntaxError", "IndentationError", "TabError")
#: How much of the check log is read (a runaway loop of checks cannot exhaust memory).
_LOG_LIMIT = 4_000_000
_REPORT_LIMIT = 4_000
_PRELOAD = "import relu_lab.exercises"
_PRELOAD_TIMEOUT = 120


def _short(text: str, limit: int = 160) -> str:
    """One line of at most ``limit`` characters, without terminal colours."""
    text = " ".join(_ANSI.sub("", str(text)).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


@dataclass
class Graded:
    """One notebook's grades, problems and feedback."""

    notebook: str
    #: exercise -> 1 (passed) or 0 (not yet), for the exercises the notebook checks, in
    #: the order of their check cells
    scores: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    #: exercise -> the feedback ``check`` printed, for those it ran
    reports: dict[str, str] = field(default_factory=dict)
    #: problem -> a longer account (the traceback's end), for the feedback file
    details: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.scores.values())

    def row(self) -> list[str]:
        cells = [str(self.scores[name]) if name in self.scores else "" for name in EXERCISES]
        return [self.notebook, *cells, str(self.total), "; ".join(self.problems) or "ok"]

    def feedback(self) -> str:
        lines = [f"ReLU Lab: feedback on {self.notebook}", ""]
        if self.scores:
            lines.append(f"Exercises passed: {self.total} of {len(self.scores)}.")
        else:
            lines.append("No check(...) exercise found in this notebook.")
        if self.problems:
            lines += ["", "Problems while running the notebook (cells are counted from the top, "
                      "markdown cells included):"]
            for p in self.problems:
                lines.append(f"- {p}")
                if p in self.details:
                    lines.append(self.details[p])
        for name in self.scores:
            lines += ["", f"{name}: {'passed' if self.scores[name] else 'not yet'}"]
            lines.append(self.reports.get(name) or
                         "(the check cell did not finish, so there is no feedback: see the problems above)")
        return "\n".join(lines) + "\n"


class _GradingClient(NotebookClient):
    """nbclient with a notebook deadline, timeouts recorded, errors recorded from the
    execute replies, and outputs counted instead of kept."""

    def __init__(self, nb: nbformat.NotebookNode, *, scratch: str, cell_timeout: float,
                 timeout: float) -> None:
        super().__init__(
            nb, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
            # A reply stands in for the interrupted cell's, so a kernel that ignores the
            # interrupt cannot hold the grader; the real reply is ignored when it comes.
            error_on_timeout={"ename": "CellTimeout", "evalue": "", "traceback": []},
            shutdown_kernel="immediate", timeout=int(cell_timeout), store_widget_state=False,
            resources={"metadata": {"path": scratch}})
        self.cell_timeout = cell_timeout
        self.notebook_timeout = timeout
        self.deadline = float("inf")
        self.timeout_func = self._timeout_for
        self.on_cell_start = self._started
        self.on_cell_executed = self._executed
        self.current = -1
        #: cell index -> the timeout it ran into (less than cell_timeout near the deadline)
        self.timed_out: dict[int, int] = {}
        self.errors: dict[int, dict] = {}
        self.printed: dict[int, int] = {}
        self.died_at: int | None = None
        self.stopped_at: int | None = None

    async def _preload(self) -> None:
        """Import relu_lab (and so PyTorch) before the first cell, outside the time limits:
        a few seconds that are the same for every learner."""
        assert self.kc is not None
        msg_id = await ensure_async(self.kc.execute(_PRELOAD, silent=True, store_history=False))
        end = time.monotonic() + _PRELOAD_TIMEOUT
        while time.monotonic() < end:
            try:
                reply = await ensure_async(self.kc.get_shell_msg(timeout=max(0.1, end - time.monotonic())))
            except Empty:
                break
            if reply["parent_header"].get("msg_id") == msg_id:
                return

    def _timeout_for(self, cell: nbformat.NotebookNode) -> int:
        left = self.deadline - time.monotonic()
        return max(1, int(min(self.cell_timeout, left) + 0.999))

    def _started(self, cell: nbformat.NotebookNode, cell_index: int) -> None:
        self.current = cell_index

    def _executed(self, cell: nbformat.NotebookNode, cell_index: int, execute_reply: dict) -> None:
        content = execute_reply.get("content", {})
        if content.get("status") == "error" and cell_index not in self.timed_out:
            self.errors[cell_index] = {
                "ename": str(content.get("ename", "")), "evalue": str(content.get("evalue", ""))[:2000],
                "traceback": [str(t)[:500] for t in content.get("traceback", [])[-20:]]}

    async def _async_handle_timeout(self, timeout: int, cell: nbformat.NotebookNode | None = None):
        self.timed_out.setdefault(self.current, timeout)
        return await super()._async_handle_timeout(timeout, cell)

    def output(self, outs, msg, display_id, cell_index):  # noqa: ANN001 (nbclient's signature)
        """Count the text a cell prints; keep nothing (grading needs only the check log)."""
        content = msg.get("content", {})
        n = len(content.get("text", ""))
        data = content.get("data", {})
        if isinstance(data, dict):
            n += len(str(data.get("text/plain", "")))
        self.printed[cell_index] = self.printed.get(cell_index, 0) + n
        return None

    async def grade(self, env: dict[str, str]) -> None:
        """Run every code cell in order until the deadline or the kernel's death."""
        self.reset_execution_trackers()
        # The kernel's own stdout and stderr (not the notebook's outputs) are not needed.
        async with self.async_setup_kernel(env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL):
            await self._preload()
            self.deadline = time.monotonic() + self.notebook_timeout
            for index, cell in enumerate(self.nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if time.monotonic() >= self.deadline:
                    self.stopped_at = index
                    break
                try:
                    await self.async_execute_cell(cell, index, execution_count=self.code_cells_executed + 1)
                except DeadKernelError:
                    self.died_at = index
                    break


def _read_notebook(path: Path, graded: Graded) -> nbformat.NotebookNode | None:
    raw = path.read_bytes()
    try:
        json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        graded.problems.append(f"invalid notebook: not valid JSON ({_short(exc, 100)})")
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
            nbformat.validate(nb)
    except Exception as exc:  # any malformed notebook is reported, never fatal
        graded.problems.append(f"invalid notebook: not a Jupyter notebook ({_short(exc, 100)})")
        return None
    return nb


def _checks_in(cell: nbformat.NotebookNode) -> list[str]:
    if cell.cell_type != "code":
        return []
    return [m.group(2) for m in _CHECK_CALL.finditer(cell.source) if m.group(2) in EXERCISES]


def _read_log(path: Path) -> dict[str, dict]:
    """The last record of each known exercise in the check log."""
    last: dict[str, dict] = {}
    if not path.exists():
        return last
    with path.open("rb") as f:
        text = f.read(_LOG_LIMIT).decode("utf-8", errors="replace")
    for line in text.splitlines():
        try:
            record = json.loads(line)
            name, passed, report = record["name"], record["passed"], record["report"]
        except (json.JSONDecodeError, KeyError, TypeError):
            continue
        if name in EXERCISES and isinstance(passed, bool):
            last[name] = {"passed": passed, "report": str(report)[:_REPORT_LIMIT]}
    return last


def _describe_error(index: int, error: dict, checks: list[str]) -> str:
    ename, evalue = error["ename"], error["evalue"]
    where = f"cell {index + 1}"
    if ename in _SYNTAX:
        # IPython names a temporary file: "invalid syntax (3407532.py, line 2)".
        evalue = re.sub(r"\s*\([^()]*, line (\d+)\)$", r" (line \1)", evalue)
        return f"syntax error: {where}: {_short(evalue, 100)}"
    if ename == "NameError" and checks:
        return f"function missing: {where} (check {', '.join(map(repr, checks))}): {_short(evalue, 100)}"
    return f"exception: {where}: {ename}: {_short(evalue, 100)}"


def grade_notebook(path: Path, name: str, *, timeout: float = 180, cell_timeout: float = 30,
                   output_limit: int = 1_000_000) -> Graded:
    """Run one notebook in a scratch copy and grade its ``check`` exercises."""
    start = time.monotonic()
    graded = Graded(name)
    with tempfile.TemporaryDirectory(prefix="relu-lab-grade-") as scratch:
        copy = Path(scratch) / path.name
        shutil.copyfile(path, copy)
        nb = _read_notebook(copy, graded)
        if nb is None:
            graded.seconds = time.monotonic() - start
            return graded
        checks = {i: _checks_in(c) for i, c in enumerate(nb.cells)}
        for names in checks.values():
            for n in names:
                graded.scores.setdefault(n, 0)
        log = Path(scratch) / ".relu_lab_grade_log.jsonl"
        client = _GradingClient(nb, scratch=scratch, cell_timeout=cell_timeout, timeout=timeout)
        env = {**os.environ, GRADE_LOG_ENV: str(log)}
        try:
            # Last resort, should nbclient itself hang (kernel start, shutdown).
            asyncio.run(asyncio.wait_for(client.grade(env), timeout + cell_timeout + 120))
        except Exception as exc:  # a kernel that cannot start, or the last resort above
            graded.problems.append(f"grader error: {type(exc).__name__}: {_short(exc, 100)}")
        records = _read_log(log)
    for i in sorted({*client.errors, *client.timed_out, *client.printed}):
        if i in client.timed_out:
            if client.timed_out[i] >= cell_timeout:
                graded.problems.append(f"timed out: cell {i + 1} ran past {cell_timeout:g} s and was interrupted")
            else:
                graded.problems.append(f"timed out: cell {i + 1} was interrupted at the notebook's "
                                       f"{timeout:g} s limit")
        elif i in client.errors:
            error = client.errors[i]
            problem = _describe_error(i, error, checks.get(i, []))
            graded.problems.append(problem)
            trace = "\n".join(_ANSI.sub("", t) for t in error["traceback"]).splitlines()[-15:]
            graded.details[problem] = "\n".join(f"    {line[:200]}" for line in trace)
        if client.printed.get(i, 0) > output_limit:
            graded.problems.append(f"output truncated: cell {i + 1} printed {_size(client.printed[i])} "
                                   f"(limit {_size(output_limit)}; the grader keeps none of it)")
    if client.died_at is not None:
        graded.problems.append(f"kernel died: cell {client.died_at + 1} ended the Python process; "
                               "later cells did not run")
    if client.stopped_at is not None:
        graded.problems.append(f"timed out: the notebook ran past {timeout:g} s; cells from "
                               f"{client.stopped_at + 1} on did not run")
    for name, record in records.items():
        graded.scores[name] = int(record["passed"])
        graded.reports[name] = record["report"]
    graded.seconds = time.monotonic() - start
    return graded


def find_notebooks(root: Path, exclude: Path | None = None) -> list[Path]:
    """Every ``.ipynb`` under ``root``, sorted, skipping hidden folders and ``exclude``."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                         and (exclude is None or (Path(folder) / d).resolve() != exclude.resolve()))
        found += [Path(folder) / f for f in files if f.endswith(".ipynb") and not f.startswith(".")]
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def write_csv(graded: list[Graded]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(g.row() for g in graded)
    return buffer.getvalue()


def _grade_one(args: tuple[Path, str, dict]) -> Graded:
    path, name, options = args
    use_ipc_transport()  # a spawned worker: set up its kernels like every other tool's
    return grade_notebook(path, name, **options)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.grade", description=__doc__.split("\n")[0])
    parser.add_argument("submissions", type=Path, help="folder of learner notebooks (searched recursively)")
    parser.add_argument("--out", type=Path, default=Path("_build/grades"), help="default: %(default)s")
    parser.add_argument("--timeout", type=float, default=180, help="seconds per notebook (default: %(default)s)")
    parser.add_argument("--cell-timeout", type=float, default=30, help="seconds per cell (default: %(default)s)")
    parser.add_argument("--output-limit", type=int, default=1_000_000,
                        help="characters a cell may print before it is reported (default: %(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at once (default: %(default)s)")
    args = parser.parse_args(argv)
    root: Path = args.submissions
    if not root.is_dir():
        print(f"grade: {root} is not a folder of notebooks", file=sys.stderr)
        return 2
    paths = find_notebooks(root, exclude=args.out)
    if not paths:
        print(f"grade: no .ipynb files under {root}", file=sys.stderr)
        return 2
    options = {"timeout": args.timeout, "cell_timeout": args.cell_timeout, "output_limit": args.output_limit}
    work = [(p, p.relative_to(root).as_posix(), options) for p in paths]
    start = time.monotonic()
    graded: list[Graded] = []
    if args.jobs > 1:
        with ProcessPoolExecutor(args.jobs, mp_context=get_context("spawn")) as pool:
            for g in pool.map(_grade_one, work):
                graded.append(g)
                print(f"{g.notebook}: {g.total} of {len(g.scores)} passed, "
                      f"{'; '.join(g.problems) or 'ok'} ({g.seconds:.1f} s)", flush=True)
    else:
        for item in work:
            g = _grade_one(item)
            graded.append(g)
            print(f"{g.notebook}: {g.total} of {len(g.scores)} passed, "
                  f"{'; '.join(g.problems) or 'ok'} ({g.seconds:.1f} s)", flush=True)
    out: Path = args.out
    feedback = out / "feedback"
    shutil.rmtree(feedback, ignore_errors=True)
    for g in graded:
        target = feedback / Path(g.notebook).with_suffix(".txt")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(g.feedback(), encoding="utf-8")
    (out / "grades.csv").write_text(write_csv(graded), encoding="utf-8")
    print(f"graded {len(graded)} notebooks in {time.monotonic() - start:.0f} s: {out / 'grades.csv'}, "
          f"feedback in {feedback}/")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
