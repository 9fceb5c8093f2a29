"""Fixes for what the axe-core audit (tests/browser/test_accessibility.py) found in the theme.

- The sidebar's expand/collapse toggles (a <summary> holding only a chevron icon) have
  no accessible name (axe `summary-name`, serious): each gets an `aria-label` naming the
  section it opens, e.g. "Sub-pages of API reference".
- docutils wraps citations in `<div role="list">` but gives each entry the DPUB role
  `doc-biblioentry`, deprecated in DPUB-ARIA 1.1, so the list has no `listitem` children
  (axe `aria-required-children`, critical; `aria-deprecated-role` and
  `aria-allowed-role`, minor): the entries get `role="listitem"`, as DPUB-ARIA 1.1 advises.
- Colours that fall below WCAG AA contrast live in `book/_static/accessibility.css`,
  which is loaded after the theme's stylesheets; each rule there says what it fixes.
- `book/_static/accessibility.js` makes code that overflows inside a collapsed solution
  or hidden cell keyboard-scrollable once opened (axe `scrollable-region-focusable`,
  serious); the theme only measures overflow on load, while such code is hidden.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

STATIC = Path(__file__).resolve().parent.parent / "_static"


class _CitationListItems:
    """Translator mixin: citation entries are `listitem`s of docutils' `role="list"`."""

    def visit_citation(self, node) -> None:
        if not isinstance(node.previous_sibling(), type(node)):
            self.body.append('<div role="list" class="citation-list">\n')
        self.body.append(self.starttag(node, "div", classes=[node.tagname], role="listitem"))


def _add_citation_mixin(app) -> None:
    # Runs before pydata-sphinx-theme's own builder-inited hook, which then wraps this
    # translator in its Bootstrap mixin as it does Sphinx's.
    if app.builder.format != "html":
        return
    base = app.registry.translators.get(app.builder.name) or getattr(app.builder, "default_translator_class", None)
    if base is None:
        return
    app.set_translator(app.builder.name, type("AccessibleHTML5Translator", (_CitationListItems, base), {}),
                       override=True)


def _label_summaries(soup: Any) -> Any:
    for summary in soup.select("li.has-children > details > summary"):
        if summary.get_text(strip=True) or summary.get("aria-label"):
            continue
        link = summary.find_parent("li").find("a", recursive=False)
        title = link.get_text(" ", strip=True) if link else ""
        summary["aria-label"] = f"Sub-pages of {title}" if title else "Sub-pages"
    return soup


def _wrap_toctree(app, pagename, templatename, context, doctree) -> None:
    generate = context.get("generate_toctree_html")
    if generate is None or getattr(generate, "_labels_summaries", False):
        return

    def generate_toctree_html(kind, *args, **kwargs):
        out = generate(kind, *args, **kwargs)
        return _label_summaries(out) if kind == "sidebar" and hasattr(out, "select") else out

    generate_toctree_html._labels_summaries = True
    context["generate_toctree_html"] = generate_toctree_html


def _add_static(app) -> None:
    app.config.html_static_path.append(str(STATIC))


def _digest() -> str:
    return hashlib.sha256(b"".join(f.read_bytes() for f in sorted(STATIC.glob("accessibility.*")))).hexdigest()[:16]


def setup(app):
    # Pages link these files with a checksum and are only rewritten when their source or
    # an "html" config value changes: this value makes an edit of them rewrite every page.
    app.add_config_value("accessibility_assets_digest", _digest(), "html")
    app.connect("builder-inited", _add_static)
    app.connect("builder-inited", _add_citation_mixin, priority=400)
    # After pydata-sphinx-theme puts generate_toctree_html in the context (priority 500).
    app.connect("html-page-context", _wrap_toctree, priority=900)
    # Last of the stylesheets, so that its rules win over the theme's at equal specificity.
    app.add_css_file("accessibility.css", priority=900)
    app.add_js_file("accessibility.js", defer="defer")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
