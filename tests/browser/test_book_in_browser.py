"""Every page of the built book, opened from file:// with the network blocked."""

from __future__ import annotations

import re
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

import pytest

from tests.browser.conftest import HTML, SHOTS

PAGES = sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
               if not p.relative_to(HTML).parts[0].startswith("_") and p.name not in ("search.html", "genindex.html"))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if tag == "a" and a.get("href"):
            self.hrefs.append(a["href"])


@lru_cache(maxsize=None)
def _parse(path: Path) -> _Links:
    p = _Links()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def test_there_are_pages():
    if not (HTML / "index.html").exists():
        pytest.skip("the book is not built: run `make book` first")
    assert len(PAGES) >= 5


@pytest.mark.parametrize("rel", PAGES)
def test_internal_links_and_anchors_resolve(rel):
    page = HTML / rel
    broken = []
    for href in _parse(page).hrefs:
        if urlparse(href).scheme or href.startswith(("mailto:", "//")):
            continue
        target, anchor = urldefrag(href)
        path = (page.parent / unquote(target)).resolve() if target else page
        if path.is_dir():
            path = path / "index.html"
        if not path.exists():
            if path.name == "relu-lab.pdf":  # the PDF edition: `make pdf` writes it, `make book` does not
                continue
            broken.append(href)
        elif anchor and path.suffix == ".html" and anchor not in _parse(path).ids:
            broken.append(href)
    assert not broken, f"{rel}: broken links {broken}"


def redirect_target(rel: str) -> str | None:
    """Where page `rel` redirects to, if it only redirects (the root index.html)."""
    html = (HTML / rel).read_text(encoding="utf-8")
    redirect = re.search(r'http-equiv="Refresh" content="\d+; url=([^"]+)"', html, re.IGNORECASE)
    return redirect.group(1) if redirect else None


# scope="session": the tests of one page run one after another and share its load (book_page).
@pytest.mark.parametrize("rel", PAGES, scope="session")
def test_page_renders_offline(book_page, rel):
    redirect = redirect_target(rel)
    if redirect:  # the root index.html only redirects (to the intro); check where to
        assert (HTML / rel).parent.joinpath(redirect).exists(), f"{rel} redirects nowhere"
        return
    page = book_page(rel, fresh=True)
    SHOTS.mkdir(parents=True, exist_ok=True)
    # JPEG: a third of the time of a PNG of a long page, and plenty to look at.
    page.screenshot(path=str(SHOTS / (rel.replace("/", "__").removesuffix(".html") + ".jpg")),
                    full_page=True, type="jpeg", quality=80)

    assert page.blocked == [], f"{rel} tried to reach the network: {page.blocked}"
    assert page.console_errors == [], f"{rel} console errors: {page.console_errors}"
    broken_images = page.evaluate(
        "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    assert broken_images == [], f"{rel}: images that did not load: {broken_images}"
    no_alt = page.evaluate("() => [...document.querySelectorAll('main img')].filter(i => !i.alt).map(i => i.src)")
    assert no_alt == [], f"{rel}: images without alt text: {no_alt}"
    raw_math = page.evaluate(
        "() => [...document.querySelectorAll('.math, span.math, div.math')]"
        ".filter(e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60))")
    assert raw_math == [], f"{rel}: math left untypeset: {raw_math}"
    text = page.inner_text("main")
    assert not re.search(r"\\\(|\\\[", text), f"{rel}: raw TeX delimiters in the page text"
    levels = page.evaluate("() => [...document.querySelectorAll('main h1, main h2, main h3, main h4')]"
                           ".map(h => +h.tagName[1])")
    assert levels and levels[0] == 1, f"{rel}: the first heading is not an h1"
    for a, b in zip(levels, levels[1:]):
        assert b <= a + 1, f"{rel}: heading level jumps from h{a} to h{b}"


def test_figures_and_exercises_are_numbered_per_chapter(page):
    page.goto((HTML / "notebooks/08_dying_relu.html").as_uri(), wait_until="load")
    text = page.inner_text("main")
    assert "Fig. 8.1" in text and "Exercise 8.1" in text
    assert not re.search(r"Exercise (?!8[.])\d", text), "an exercise number of another chapter"


def test_quiz_gives_feedback_without_kernel_or_network(page):
    page.goto((HTML / "notebooks/03_relu_function.html").as_uri(), wait_until="load")
    options = page.locator("details.quiz-option")
    assert options.count() >= 6
    wrong, right = options.nth(0), options.nth(1)  # question 1: A is wrong, B is right
    assert not wrong.locator(".sd-summary-content").is_visible()
    wrong.locator("summary").click()
    assert wrong.locator(".sd-summary-content").is_visible()
    assert "Not quite." in wrong.inner_text()
    right.locator("summary").click()
    assert "Correct." in right.inner_text()
    assert page.blocked == [] and page.console_errors == []


SHOWN_FIGURES = """() => [...document.querySelectorAll('.cell_output img')]
  .filter(i => !i.closest('.explorable')).map(i => [i.className, i.checkVisibility()])"""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("rel", [p for p in PAGES if p.startswith("notebooks/")], scope="session")
def test_figures_follow_the_colour_scheme(book_page, rel, scheme):
    """Every notebook figure comes as drawn and as its dark twin; the scheme picks one."""
    figures = book_page(rel, scheme).evaluate(SHOWN_FIGURES)
    light = [shown for classes, shown in figures if "figure-light" in classes]
    dark = [shown for classes, shown in figures if "figure-dark" in classes]
    alone = [classes for classes, _ in figures if "figure-" not in classes]
    assert light and len(light) == len(dark), f"{rel}: {len(light)} figures, {len(dark)} dark twins"
    assert alone == [], f"{rel}: figures without a dark twin: {alone}"
    shown, hidden = (light, dark) if scheme == "light" else (dark, light)
    assert all(shown) and not any(hidden), f"{rel}: the other scheme's figures are shown in {scheme}"
