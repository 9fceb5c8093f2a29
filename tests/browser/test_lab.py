"""The chapters read in JupyterLab (with jupyterlab-myst) as a learner opens them.

Starts the venv's JupyterLab on 127.0.0.1 (a free port, no token, stopped at the end,
settings and workspaces in a temporary folder), loads Lab once in headless Chromium with
every request outside that server blocked, opens every chapter and one practice copy in
it, one after another, as a learner opens them from the file browser (each closed, and
its kernel stopped, before the next), waits for the markdown to render, and checks each
rendered markdown cell: no raw MyST (a role such as
``{term}`...```, a ``:::{`` or ```` ```{ ```` fence, an option line such as ``:class:``),
every value stored for its ``{eval}`` expressions visible (the numbers of the prose,
before anything runs), no error shown, no dialog. Screenshots go to
``_build/screenshots/lab/``. Skips without Chromium, like the book's browser tests.

``python -m tests.browser.test_lab [FOLDER]`` prints the raw fragments per chapter of the
notebooks in FOLDER (default: notebooks) as Lab shows them.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from tests.tools import offline
from tests.tools.evals import shown_text

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "_build" / "screenshots" / "lab"
CHAPTERS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
# Not _build/practice, where a learner's work may be; one folder per pytest-xdist worker.
PRACTICE = ROOT / "_build" / "lab-test" / os.environ.get("PYTEST_XDIST_WORKER", "main") / "practice"

#: What raw MyST looks like once Lab has rendered a cell (text, not source).
RAW_MYST = re.compile(r"\{[a-z][a-z-]*(?::[a-z-]+)?\}(?=[`\w])|:::+\s*\{|```+\s*\{|^\s*:(?:class|label|name|"
                      r"caption|alt|width|align|open|nonumber|hidden|dropdown):", re.M)

_LAB_SETTINGS = {
    # Render every cell, not only those on screen, so that all of them can be checked.
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    # No "would you like news?" toast: nothing asks the network.
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"},
}


def raw_fragments(text: str) -> list[str]:
    """The raw MyST fragments in a rendered cell's text.

    >>> raw_fragments("All {eval}`x` and a {term}`ReLU`; plain `code` is fine")
    ['{eval}', '{term}']
    >>> raw_fragments("Lab's own renderer shows {glue:text}ch01_n as code")
    ['{glue:text}']
    """
    return [m.group(0).strip() for m in RAW_MYST.finditer(text)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(root: Path, home: Path) -> tuple[subprocess.Popen, str]:
    """JupyterLab from this venv serving ``root``, its settings under ``home``."""
    for rel, value in _LAB_SETTINGS.items():
        path = home / "settings" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(value), encoding="utf-8")
    port = _free_port()
    config = home / "config"
    if os.environ.get("LAB_WITHOUT_MYST"):  # for "before" counts: Lab as it was, without jupyterlab-myst
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": {"jupyterlab-myst": True}}), encoding="utf-8")
        os.environ["JUPYTER_CONFIG_DIR"] = str(config)
    env = dict(os.environ, JUPYTERLAB_SETTINGS_DIR=str(home / "settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "workspaces"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    cmd = [str(Path(sys.executable).with_name("jupyter-lab")), "--no-browser",
           f"--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           "--IdentityProvider.token=", f"--ServerApp.root_dir={root}",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           # window.jupyterapp: the tests open each notebook with Lab's own command, in
           # the Lab already loaded, instead of loading Lab again (4 to 8 s) per notebook.
           "--LabApp.expose_app_in_browser=True"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")  # containers and CI run as root
    log = open(home / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited: {(home / 'lab.log').read_text()[-2000:]}")
        try:
            urllib.request.urlopen(f"{url}/api/status", timeout=2)
            return proc, url
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("JupyterLab did not answer within 60 s")


def stop_lab(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def lab():
    from tests.browser.conftest import CHROMIUM
    if CHROMIUM is None:
        pytest.skip("no Chromium: install Debian's `chromium` package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    subprocess.run([sys.executable, "-m", "tests.tools.practice", str(PRACTICE)], cwd=ROOT, check=True,
                   capture_output=True)
    with tempfile.TemporaryDirectory(prefix="relu-lab-jupyterlab-") as home:
        proc, url = start_lab(ROOT, Path(home))
        try:
            with sync_api.sync_playwright() as p:
                browser = offline.launch(p, CHROMIUM)
                yield boot_lab(browser, url)
                browser.close()
        finally:
            stop_lab(proc)


#: The markdown cells of the notebook on show (not those of a tab in the background).
_MD = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-MarkdownCell"
#: Where a markdown cell's rendering lands: jupyterlab-myst's element, or Lab's own
#: renderer's (LAB_WITHOUT_MYST, for the "before" counts).
_RENDERED = ".jp-RenderedMarkdown" if os.environ.get("LAB_WITHOUT_MYST") else ".myst"


def read_cells(pg) -> list[str]:
    """The text each markdown cell of the notebook on show renders (what a reader sees)."""
    return pg.evaluate(f"() => [...document.querySelectorAll({_MD!r})].map(c => c.querySelector({_RENDERED!r}).innerText)")


def boot_lab(browser, url: str):
    """A page with Lab loaded and started, no notebook open; ``pg.blocked`` lists the
    requests outside the server that were refused (every one is)."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    blocked = offline.block_outside(context, allow=(url + "/",))
    pg = context.new_page()
    pg.blocked = blocked
    pg.goto(f"{url}/lab?reset", wait_until="load")  # ?reset: no restored tabs
    pg.wait_for_function("() => window.jupyterapp !== undefined", timeout=60_000)
    pg.evaluate("async () => { await window.jupyterapp.started; await window.jupyterapp.restored; }")
    return pg


def close_all(pg) -> None:
    """Close every tab, without saving, and stop the kernels their sessions started."""
    pg.evaluate("""async () => {
      const app = window.jupyterapp;
      await app.commands.execute('application:close-all');
      await app.serviceManager.sessions.refreshRunning();
      await Promise.all([...app.serviceManager.sessions.running()]
        .map(s => app.serviceManager.sessions.shutdown(s.id)));
    }""")


def open_in_lab(pg, rel: str, root: Path = ROOT) -> list[str]:
    """Open notebook ``rel`` (relative to Lab's root) in the Lab of ``pg`` with Lab's
    "open" command, as the file browser does; return the rendered text of each of its
    markdown cells. Waits until every markdown cell has rendered and stopped changing."""
    # Not awaited: the command's promise waits for the notebook's kernel, not its cells.
    pg.evaluate("path => { window.jupyterapp.commands.execute('docmanager:open', {path}); }", rel)
    n_md = sum(c.cell_type == "markdown" for c in nbformat.read(root / rel, as_version=4).cells)
    # jupyterlab-myst renders a markdown cell asynchronously, into a `.myst` element after
    # the (hidden) editor; until then the cell reads as empty. Windowing is off
    # (_LAB_SETTINGS), so every cell renders, not only those on screen.
    pg.wait_for_function(f"n => [...document.querySelectorAll({_MD!r})].filter(c => c.querySelector({_RENDERED!r})).length >= n",
                         arg=n_md, timeout=120_000)
    texts, last = None, None
    for _ in range(30):  # the whole-notebook pass (references, numbering) follows: wait until stable
        texts = read_cells(pg)
        if texts == last and any(t.strip() for t in texts):
            break
        last = texts
        pg.wait_for_timeout(1000)
    return texts


def check_notebook(pg, rel: str, shot: str) -> None:
    nb = nbformat.read(ROOT / rel, as_version=4)
    before = (ROOT / rel).read_bytes()
    n_blocked = len(pg.blocked)
    try:
        texts = open_in_lab(pg, rel)
        md = [c for c in nb.cells if c.cell_type == "markdown"]
        assert len(texts) == len(md), f"{rel}: {len(texts)} markdown cells shown, {len(md)} in the file"
        SHOTS.mkdir(parents=True, exist_ok=True)
        pg.screenshot(path=str(SHOTS / f"{shot}.png"))
        problems = []
        # Solutions are collapsed: each solution cell shows a closed dropdown.
        closed = pg.evaluate(f"() => [...document.querySelectorAll({_MD!r})]"
                             ".map(c => [...c.querySelectorAll('details')].map(d => d.open))")
        for i, (cell, opened) in enumerate(zip(md, closed)):
            if "solution" in cell.metadata.get("tags", []) and re.search(r"\{solution(-start)?\}", cell.source):
                if not opened or any(opened):
                    problems.append(f"markdown cell {i}: solution not collapsed")
        # Open every dropdown, as a reader checking a solution does, and read the cells again.
        pg.evaluate("() => document.querySelectorAll('.jp-MarkdownCell details').forEach(d => { d.open = true; })")
        pg.wait_for_timeout(500)
        texts = read_cells(pg)
        for i, (cell, text) in enumerate(zip(md, texts)):
            raw = raw_fragments(text)
            if raw:
                problems.append(f"markdown cell {i}: raw MyST {raw}")
            for item in cell.metadata.get("user_expressions", []):
                value = shown_text(item["result"])
                if value is None or value not in text:
                    problems.append(f"markdown cell {i}: {item['expression']} = {value!r} not shown")
        errors = pg.evaluate("""() => [...document.querySelectorAll(
            '.jp-Dialog, .Toastify__toast--error, .jp-MarkdownCell [data-mime-type="application/vnd.jupyter.stderr"]')]
            .map(e => e.innerText.slice(0, 200))""")
        problems += [f"error shown: {e}" for e in errors]
        problems += [f"request outside the server: {u}" for u in pg.blocked[n_blocked:]]
        # Opening and rendering leave the file alone (no save behind the learner's back).
        dirty = pg.evaluate("() => !!document.querySelector('.jp-mod-dirty')")
        if dirty or (ROOT / rel).read_bytes() != before:
            problems.append("the notebook was changed by opening it")
        assert not problems, f"{rel} in JupyterLab:\n" + "\n".join(problems)
    finally:
        close_all(pg)


@pytest.mark.parametrize("rel", CHAPTERS)
def test_chapter_reads_in_lab(lab, rel):
    check_notebook(lab, rel, Path(rel).stem)


def test_practice_copy_reads_in_lab(lab):
    rel = (PRACTICE / Path(CHAPTERS[1]).name).relative_to(ROOT).as_posix()
    check_notebook(lab, rel, "practice-" + Path(rel).stem)


def _report(folder: str) -> None:
    from tests.browser.conftest import CHROMIUM
    from playwright.sync_api import sync_playwright
    root = Path(folder).resolve()
    with tempfile.TemporaryDirectory(prefix="relu-lab-jupyterlab-") as home, sync_playwright() as p:
        proc, url = start_lab(root, Path(home))
        try:
            pg = boot_lab(offline.launch(p, CHROMIUM), url)
            for path in sorted(root.glob("*.ipynb")):
                texts = open_in_lab(pg, path.name, root)
                counts = [len(raw_fragments(t)) for t in texts]
                if "-v" in sys.argv: print(sorted(set(f for t in texts for f in raw_fragments(t))))
                print(f"{path.name}: {sum(counts)} raw MyST fragments in "
                      f"{sum(c > 0 for c in counts)} of {len(texts)} markdown cells")
                close_all(pg)
        finally:
            stop_lab(proc)


if __name__ == "__main__":
    _report(sys.argv[1] if len(sys.argv) > 1 else "notebooks")
