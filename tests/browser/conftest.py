"""Headless Chromium (Debian's package) driven by Playwright, for tests of the built book.

The tests skip, with a message saying why, when the book is not built or no Chromium
is installed (`apt-get install -y --no-install-recommends chromium`; `.ci/run` does it).
Screenshots go to `_build/screenshots/` for a developer to look at; they are not committed.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tools import offline

ROOT = Path(__file__).resolve().parents[2]
HTML = Path(os.environ.get("BOOK_HTML", ROOT / "_build" / "html"))  # override to test another build
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = offline.chromium()


@pytest.fixture(scope="session")
def browser():
    if not (HTML / "index.html").exists():
        pytest.skip("the book is not built: run `make book` first")
    if CHROMIUM is None:
        pytest.skip("no Chromium: install Debian's `chromium` package to run the browser tests")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = offline.launch(p, CHROMIUM)
        yield b
        b.close()


def new_page(browser, color_scheme: str = "light"):
    """A page in a fresh context whose requests outside file:// are blocked and recorded.

    `color_scheme` is what the page sees as the reader's system setting
    (prefers-color-scheme); the book's theme follows it (`default_mode: auto`).
    """
    context = browser.new_context(viewport={"width": 1200, "height": 900}, color_scheme=color_scheme)
    blocked = offline.block_outside(context)
    pg = context.new_page()
    pg.blocked = blocked
    pg.console_errors = []
    pg.on("console", lambda m: m.type == "error" and pg.console_errors.append(m.text))
    pg.on("pageerror", lambda e: pg.console_errors.append(str(e)))
    return pg


def open_book_page(pg, rel: str) -> None:
    """Load a page of the built book and wait until MathJax has typeset it."""
    pg.goto((HTML / rel).as_uri(), wait_until="load")
    # MathJax typesets asynchronously; wait for it where the page has math.
    pg.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)", timeout=10_000)
    pg.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")


def show_scheme(pg, scheme: str) -> None:
    """Switch the reader's system setting; the theme (`default_mode: auto`) follows it live."""
    pg.emulate_media(color_scheme=scheme)
    pg.wait_for_function("s => document.documentElement.dataset.theme === s", arg=scheme, timeout=5_000)
    # The theme's colours change with CSS transitions: end them now, before anyone reads a
    # colour. (Awaiting their `finished` promises instead has no timeout, and hung a test
    # when a page stopped producing frames.)
    pg.evaluate("() => document.getAnimations()"
                ".filter(a => a.effect.getTiming().iterations !== Infinity).forEach(a => a.finish())")


@pytest.fixture
def page(browser):
    """A page in the light scheme, network blocked (see `new_page`)."""
    pg = new_page(browser)
    yield pg
    pg.context.close()


@pytest.fixture(scope="session")
def _open_page(browser):
    held: dict = {}
    yield held
    if held:
        held["page"].context.close()


@pytest.fixture
def book_page(browser, _open_page):
    """`book_page(rel, scheme="light", fresh=False)`: page `rel` of the built book, loaded
    with MathJax typeset and shown in `scheme`, network blocked (see `new_page`).

    Loading a page is most of a browser test's time, so the tests of one page share one
    load. Tests parametrised over PAGES with `scope="session"` run page by page (pytest
    groups them by that parameter, across modules), and the page stays open until a test
    asks for another one, or asks for it `fresh` after a test has changed it (a test that
    changes the page sets `pg.changed = True`).
    """
    def get(rel: str, scheme: str = "light", fresh: bool = False):
        pg = _open_page.get("page")
        if pg is None or _open_page["rel"] != rel or (fresh and pg.changed):
            if pg is not None:
                pg.context.close()
            pg = new_page(browser, color_scheme=scheme)
            pg.changed = False
            open_book_page(pg, rel)
            _open_page.update(page=pg, rel=rel)
        show_scheme(pg, scheme)
        return pg

    return get
