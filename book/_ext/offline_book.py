"""A small Sphinx extension that keeps the built book self-contained and quiet.

Jupyter Book always loads sphinx-thebe, which adds an inline script pointing at
unpkg.com and, on some pages, adds it twice (a console error: "THEBE_JS_URL has already
been declared"). Launch buttons and Thebe are off in this book, so its scripts are
dropped from every page, and any script listed twice is kept once.
"""

from __future__ import annotations

from typing import Any


def _is_thebe(script: Any) -> bool:
    body = getattr(script, "attributes", {}).get("body", "") or ""
    return "THEBE_JS_URL" in body or str(script).endswith("sphinx-thebe.js")


def _clean_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    kept = []
    for s in scripts:
        key = (str(s), getattr(s, "attributes", {}).get("body", "") or "")
        if _is_thebe(s) or key in seen:
            continue
        seen.add(key)
        kept.append(s)
    scripts[:] = kept


def setup(app):
    app.connect("html-page-context", _clean_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
