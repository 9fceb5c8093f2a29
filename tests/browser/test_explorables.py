"""Every explorable (interactive figure) of the built book, in Chromium, offline.

An explorable is a `<figure class="explorable">` written by `relu_lab.explorables` and
brought to life by `book/_static/explorables.js`. For each one the page stores, next to
the chart, a few settings and the readout that `relu_lab` computed for each when the
chapter ran (`checks`). The tests set each control with the keyboard only (Home, then
the arrow keys; or typing into the number box), and assert that the live readout equals
the stored one, that the chart was drawn again, and that nothing was logged as an error
or requested from outside the machine. Without JavaScript, and in print, the figure
shows its static fallback image and its caption.

The tests of a page share one load of it with the page's other browser tests
(``book_page``); only the test without JavaScript loads it again, in its own context.
Screenshots are of the explorables alone, one file per figure and scheme.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import HTML, SHOTS

#: The explorables the book must have (by id), each on its chapter's page.
EXPECTED = {
    "explorable-gate": "notebooks/01_eli5.html",
    "explorable-relu-curve": "notebooks/02_why_nonlinearity.html",
    "explorable-init-depth": "notebooks/07_initialization.html",
    "explorable-dying-rate": "notebooks/08_dying_relu.html",
    "explorable-leaky-slope": "notebooks/09_leaky_and_parametric.html",
}


def _pages() -> list[str]:
    if not HTML.exists():
        return []
    return sorted(p.relative_to(HTML).as_posix() for p in HTML.rglob("*.html")
                  if not p.relative_to(HTML).parts[0].startswith("_")
                  and 'class="explorable' in p.read_text(encoding="utf-8"))


PAGES = _pages()


@pytest.fixture
def live(book_page):
    """`live(rel, scheme="light", fresh=False)`: page `rel` (see `book_page`) shown in
    `scheme`, every explorable drawn."""
    def get(rel: str, scheme: str = "light", fresh: bool = False):
        pg = book_page(rel, scheme, fresh=fresh)
        n = pg.locator("figure.explorable").count()
        pg.wait_for_function(f"() => document.querySelectorAll('figure.explorable.explorable-live').length === {n}",
                             timeout=20_000)
        return pg

    return get


def _shoot(pg, rel: str, suffix: str = "") -> None:
    """A screenshot of each explorable of the page, as it is now."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    stem = "explorables__" + rel.replace("/", "__").removesuffix(".html")
    for figure in pg.locator("figure.explorable").all():
        figure.screenshot(path=str(SHOTS / f"{stem}__{figure.get_attribute('id')}{suffix}.jpg"),
                          type="jpeg", quality=85)


def test_the_book_has_its_explorables():
    if not (HTML / "index.html").exists():
        pytest.skip("the book is not built: run `make book` first")
    found = {}
    for rel in PAGES:
        for ident in re.findall(r'<figure class="explorable[^"]*" id="([^"]+)"', (HTML / rel).read_text("utf-8")):
            found[ident] = rel
    missing = {k: v for k, v in EXPECTED.items() if found.get(k) != v}
    assert not missing, f"explorables missing from their pages: {missing} (found {found})"


def _set_with_keyboard(pg, figure, param: str, value: float) -> None:
    slider = figure.locator(f'input[type="range"][data-param="{param}"]')
    low, step = float(slider.get_attribute("min")), float(slider.get_attribute("step"))
    slider.focus()
    pg.keyboard.press("Home")
    for _ in range(round((value - low) / step)):
        pg.keyboard.press("ArrowRight")
    assert float(slider.input_value()) == pytest.approx(value), f"{param}: the slider did not reach {value}"


def _chart(figure) -> str:
    return figure.locator(".explorable-chart svg").first.inner_html()


@pytest.mark.parametrize("rel", PAGES, scope="session")  # page by page (see `book_page`)
def test_each_explorable_answers_the_keyboard(live, rel):
    pg = live(rel, fresh=True)
    pg.changed = True
    figures = pg.locator("figure.explorable")
    for i in range(figures.count()):
        figure = figures.nth(i)
        name = figure.get_attribute("id")
        # Every control is labelled (an accessible name) and reachable with Tab.
        for control in figure.locator("input").all():
            label = control.evaluate(
                "e => e.labels && e.labels.length ? e.labels[0].textContent : e.getAttribute('aria-label')")
            assert label and label.strip(), f"{name}: a control without an accessible name"
            assert control.evaluate("e => e.tabIndex") >= 0
        readout = figure.locator(".explorable-readout")
        assert readout.get_attribute("aria-live") == "polite" and readout.get_attribute("role") == "status"
        checks = json.loads(figure.locator("script.explorable-checks").text_content())
        assert checks, f"{name}: no settings to check"
        for check in checks:
            before, said = _chart(figure), readout.text_content()
            for param, value in check["settings"].items():
                _set_with_keyboard(pg, figure, param, value)
            pg.wait_for_function("([e, t]) => e.textContent === t",
                                 arg=[readout.element_handle(), check["readout"]], timeout=5_000)
            assert readout.text_content() == check["readout"], f"{name} at {check['settings']}"
            if check["readout"] != said:
                assert _chart(figure) != before, f"{name}: the chart was not drawn again at {check['settings']}"
        # A number box, where there is one, takes a typed value.
        typed = figure.locator('input[type="number"]')
        if typed.count():
            check = checks[0]
            param, value = next(iter(check["settings"].items()))
            box = figure.locator(f'input[type="number"][data-param="{param}"]')
            box.focus()
            pg.keyboard.press("Control+A")
            pg.keyboard.type(f"{value:g}")
            pg.keyboard.press("Enter")
            pg.wait_for_function("([e, t]) => e.textContent === t",
                                 arg=[readout.element_handle(), check["readout"]], timeout=5_000)
    _shoot(pg, rel)
    assert pg.blocked == [], f"{rel} tried to reach the network: {pg.blocked}"
    assert pg.console_errors == [], f"{rel} console errors: {pg.console_errors}"


@pytest.mark.parametrize("rel", PAGES, scope="session")
def test_explorables_follow_the_dark_scheme(live, rel):
    """The reader switches to the dark scheme with the page open; the charts follow."""
    pg = live(rel, scheme="dark")
    ink = pg.evaluate("() => getComputedStyle(document.querySelector('.explorable-chart')).color")
    label = pg.evaluate("() => getComputedStyle(document.querySelector('.explorable-chart svg text')).fill")
    assert label == ink, "chart text is not in the page's ink"
    dark = [int(v) for v in re.findall(r"\d+", ink)[:3]]
    assert sum(dark) > 3 * 150, f"chart ink {ink} is not light on the dark page"
    _shoot(pg, rel, ".dark")
    assert pg.console_errors == [] and pg.blocked == []


@pytest.mark.parametrize("rel", PAGES, scope="session")
def test_without_javascript_and_in_print_the_fallback_shows(browser, live, rel):
    context = browser.new_context(java_script_enabled=False)
    try:
        pg = context.new_page()
        pg.goto((HTML / rel).as_uri(), wait_until="load")
        for figure in pg.locator("figure.explorable").all():
            image = figure.locator("img.explorable-fallback")
            assert image.is_visible() and image.get_attribute("alt"), "no visible fallback image without JavaScript"
            assert image.evaluate("i => i.complete && i.naturalWidth > 0")
            assert figure.locator("figcaption").is_visible()
            assert not figure.locator(".explorable-controls").is_visible()
    finally:
        context.close()
    pg = live(rel)
    pg.emulate_media(media="print")
    try:
        for figure in pg.locator("figure.explorable").all():
            assert figure.locator("img.explorable-fallback").is_visible()
            assert not figure.locator(".explorable-chart").is_visible()
            assert not figure.locator(".explorable-controls").is_visible()
            assert figure.locator("figcaption").is_visible()
    finally:
        pg.emulate_media(media="screen")
