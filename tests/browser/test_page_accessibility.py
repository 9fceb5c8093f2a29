"""axe-core audit of every page of the built book, in the light and the dark scheme.

axe-core's script ships inside `axe-playwright-python` and is injected into each page, so
the audit needs no network (`book_page` blocks it anyway). A page passes with no
violation of impact "serious" or "critical". Every violation found, whatever its impact,
is written to `_build/axe/<page>.<scheme>.json`; to print them as a table by rule:

    .venv/bin/python -m tests.browser.test_page_accessibility

Each page is loaded once for all its tests (see `book_page`): the light audit opens what a
reader can open, and the dark audit switches the reader's setting on the same page.
Time on 2 cores: about 1 to 6 s of CPU per page, nearly all of it in axe itself.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict

import pytest

from tests.browser.conftest import SHOTS
from tests.browser.test_book_in_browser import PAGES, redirect_target

AXE_SCRIPT = pytest.importorskip("axe_playwright_python.base").AXE_SCRIPT

RESULTS = SHOTS.parent / "axe"
SCHEMES = ("light", "dark")
FAILING = ("serious", "critical")
OPTIONS = {"resultTypes": ["violations"]}
# axe skips what is hidden, so open what a reader can open: every <details> (quiz
# options, hidden cells, the sidebar's sections) and every collapsed solution
# (sphinx-togglebutton); then let the page react (the theme re-measures what overflows).
REVEAL = """async () => {
  document.querySelectorAll('details').forEach(d => { d.open = true; });
  document.querySelectorAll('.toggle-hidden > .admonition-title .toggle-button').forEach(b => b.click());
  await new Promise(r => setTimeout(r, 50));
  await new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)));
}"""
# Colour contrast is most of axe's time, and most of the text it checks is code:
# the spans of highlighted code blocks (2,300 on chapter 8) and the word spans of inline
# code (300 on an API page). Such a span's contrast depends only on its own colours,
# weight and size and on its block's background, when that background is opaque. So the
# contrast rule checks one span of each kind per page and skips the repeats, marked here
# (axe.configure narrows the rule's selector; every other rule still sees every node).
MARK_REPEATED_CODE = """() => {
  const opaque = c => /^rgb\\(/.test(c);
  const spans = [...document.querySelectorAll('.highlight pre span, code span.pre')];
  const keys = spans.map(s => {  // read every style first, then write: no relayout per span
    const c = getComputedStyle(s), box = getComputedStyle(s.closest('pre, code'));
    if (s.children.length || !opaque(box.backgroundColor) || box.opacity !== '1') return null;
    return [c.color, c.backgroundColor, c.fontWeight, c.fontSize, c.opacity, box.backgroundColor].join('|');
  });
  const seen = new Set();
  spans.forEach((s, i) => {
    if (keys[i] === null || !seen.has(keys[i])) seen.add(keys[i]);
    else s.setAttribute('data-axe-repeat', '');
  });
  axe.configure({rules: [{id: 'color-contrast', selector: '*:not([data-axe-repeat])'}]});
  return [spans.length, document.querySelectorAll('[data-axe-repeat]').length];
}"""


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("rel", PAGES, scope="session")  # page by page, one load each
def test_page_has_no_serious_accessibility_violations(book_page, rel, scheme):
    if redirect_target(rel):  # the root index.html: no content of its own; its target is audited
        return
    page = book_page(rel, scheme)
    if not getattr(page, "axe_ready", False):
        page.changed = True
        page.evaluate(REVEAL)
        page.evaluate(AXE_SCRIPT)
        page.evaluate(MARK_REPEATED_CODE)
        page.axe_ready = True
    # The scheme changes colours only (the theme's dark mode is a set of colour variables;
    # run with every rule in both, the first audit found the same non-colour violations in
    # each): every rule runs in light, and the rules about colour run again in dark.
    options = OPTIONS if scheme == "light" else {**OPTIONS, "runOnly": ["color-contrast", "link-in-text-block"]}
    violations = page.evaluate("options => axe.run(document, options)", options)["violations"]
    assert page.blocked == [], f"{rel} tried to reach the network: {page.blocked}"

    RESULTS.mkdir(parents=True, exist_ok=True)
    found = [{"id": v["id"], "impact": v["impact"], "help": v["help"],
              "nodes": [{"target": n["target"], "html": n["html"][:300], "summary": n.get("failureSummary", "")}
                        for n in v["nodes"]]} for v in violations]
    (RESULTS / f"{rel.replace('/', '__').removesuffix('.html')}.{scheme}.json").write_text(
        json.dumps(found, indent=1, ensure_ascii=False), encoding="utf-8")
    serious = [v for v in found if v["impact"] in FAILING]
    assert not serious, f"{rel} ({scheme}): " + "; ".join(
        f"{v['id']} ({v['impact']}, {len(v['nodes'])} nodes: {v['help']}) e.g. {v['nodes'][0]['target']}"
        for v in serious)


def summary() -> str:
    """A table of the violations recorded in _build/axe/: rule, impact, pages and nodes per scheme."""
    pages: dict[tuple[str, str], dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    nodes: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    audited = defaultdict(int)
    for f in sorted(RESULTS.glob("*.json")):
        name, scheme = f.stem.rsplit(".", 1)
        audited[scheme] += 1
        for v in json.loads(f.read_text(encoding="utf-8")):
            pages[v["id"], v["impact"]][scheme].add(name)
            nodes[v["id"], v["impact"]][scheme] += len(v["nodes"])
    order = {"critical": 0, "serious": 1, "moderate": 2, "minor": 3}
    lines = ["pages audited: " + ", ".join(f"{s} {audited[s]}" for s in SCHEMES),
             "| rule | impact | light: pages (nodes) | dark: pages (nodes) |", "| --- | --- | --- | --- |"]
    for key in sorted(pages, key=lambda k: (order.get(k[1], 9), k[0])):
        cells = [f"{len(pages[key][s])} ({nodes[key][s]})" if pages[key][s] else "0" for s in SCHEMES]
        lines.append(f"| {key[0]} | {key[1]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(summary() + "\n")
