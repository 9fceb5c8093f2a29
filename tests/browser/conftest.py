"""Headless Chromium (Debian's package) driven by Playwright, for tests of the built book.

The tests skip, with a message saying why, when the book is not built or no Chromium
is installed (`apt-get install -y --no-install-recommends chromium`; `.ci/run` does it).
Screenshots go to `_build/screenshots/` for a developer to look at; they are not committed.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))  # override to test another build
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser():
    if not (HTML / "index.html").exists():
        pytest.skip("the book is not built: run `make book` first")
    if CHROMIUM is None:
        pytest.skip("no Chromium: install Debian's `chromium` package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu",
                                                              "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page whose requests outside file:// are blocked and recorded."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    blocked: list[str] = []

    def route(r):
        if urlparse(r.request.url).scheme in ("file", "data", "blob"):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    pg = context.new_page()
    pg.blocked = blocked
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    yield pg
    context.close()
