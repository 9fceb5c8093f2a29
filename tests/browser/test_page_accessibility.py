"""axe-core audit of every page of the built book, in the light and the dark scheme.

axe-core's script ships inside `axe-playwright-python` and is injected into each page, so
the audit needs no network (`book_page` blocks it anyway). A page passes with no
violation of impact "serious" or "critical". Every violation found, whatever its impact,
is written to `_build/axe/<page>.<scheme>.json`; to print them as a table by rule:

    .venv/bin/python -m tests.browser.test_page_accessibility

Each page is loaded once for all its tests (see `book_page`): the light audit opens what a
reader can open, and the dark audit switches the reader's setting on the same page.
The audit costs about 5 s of CPU per page (both schemes), nearly all of it in axe itself.
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
  // Two frames, or one second if the page produces none (an evaluate has no timeout).
  await Promise.race([new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r))),
                      new Promise(r => setTimeout(r, 1000))]);
}"""
# Colour contrast is most of axe's time (several ms per element on a chapter page), and
# a page repeats the same few kinds of text thousands of times: 3,600 elements with text
# on chapter 4, in 60 kinds, most of them code tokens. An element's contrast depends on
# its text's colour, size, weight, shadow and stroke, on its ancestors' opacity and on
# the backgrounds down to the first opaque one, unless something positioned lies over or
# under it. So the contrast rule checks the first element of each kind on the page and
# skips the repeats, marked here (axe.configure narrows that rule's selector; every other
# rule still sees every element). Elements with a background image, filter, blend mode or
# pseudo-element background in that chain, or crossed by a positioned element, are always
# checked. On the book before its fixes this flags the same 4 pages (4 of 6 elements).
MARK_REPEATED_TEXT = """() => {
  const styles = new Map(), pseudo = new Map();
  const cs = e => { if (!styles.has(e)) styles.set(e, getComputedStyle(e)); return styles.get(e); };
  const pseudoBackground = e => {
    if (!pseudo.has(e)) pseudo.set(e, ['::before', '::after'].some(p => {
      const s = getComputedStyle(e, p);
      return s.content !== 'none' && (s.backgroundColor !== 'rgba(0, 0, 0, 0)' || s.backgroundImage !== 'none');
    }));
    return pseudo.get(e);
  };
  const kind = e => {
    const c = cs(e);
    const parts = [c.color, c.fontSize, c.fontWeight, c.textShadow, c.webkitTextStrokeWidth, c.webkitTextFillColor];
    let opaque = false;
    for (let a = e; a; a = a.parentElement) {
      const s = cs(a);
      if (!opaque) {
        if (s.backgroundImage !== 'none' || s.filter !== 'none' || s.mixBlendMode !== 'normal' || pseudoBackground(a)) return null;
        parts.push(s.backgroundColor);
        opaque = /^rgb\\(/.test(s.backgroundColor);
      }
      parts.push(s.opacity);
    }
    return parts.join('|');
  };
  const all = [...document.querySelectorAll('body *')];
  const positioned = all.filter(e => ['absolute', 'fixed', 'sticky'].includes(cs(e).position))
    .map(e => [e, e.getBoundingClientRect()]).filter(([, r]) => r.width > 1 && r.height > 1);
  const crossed = e => {
    const r = e.getBoundingClientRect();
    return positioned.some(([o, q]) => !o.contains(e) && !e.contains(o) &&
      q.left < r.right && r.left < q.right && q.top < r.bottom && r.top < q.bottom);
  };
  const texts = all.filter(e => [...e.childNodes].some(n => n.nodeType === 3 && n.textContent.trim()));
  const kinds = texts.map(e => crossed(e) ? null : kind(e));  // read every style first, then write
  const seen = new Set();
  texts.forEach((e, i) => {
    if (kinds[i] === null || !seen.has(kinds[i])) seen.add(kinds[i]);
    else e.setAttribute('data-axe-repeat', '');
  });
  axe.configure({rules: [{id: 'color-contrast', selector: '*:not([data-axe-repeat])'}]});
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
        page.evaluate(MARK_REPEATED_TEXT)
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
