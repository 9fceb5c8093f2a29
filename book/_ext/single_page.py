"""Let the single-page HTML build (the PDF edition's source) render every node the HTML
build renders.

Sphinx looks up the visitors of extension nodes by builder name first and by output
format only when that name has none. sphinx-exercise registers its nodes for
``singlehtml`` by name, so for that builder every other extension's HTML visitors are
never looked up, and the build fails on the first one (myst-nb's hidden code cells:
"unknown node type: HideCodeCellNode"). At the start of such a build, this copies the
format's visitors to the builder's name wherever the name has none of its own.
"""

from __future__ import annotations

from typing import Any


def inherit_handlers(handlers: dict[str, dict[str, Any]], name: str, fmt: str) -> None:
    """Give builder ``name`` the visitors registered for its format ``fmt`` that it lacks.

    >>> h = {"html": {"a": 1, "b": 2}, "singlehtml": {"b": 3}}
    >>> inherit_handlers(h, "singlehtml", "html"); h["singlehtml"]
    {'b': 3, 'a': 1}
    >>> inherit_handlers(h, "dirhtml", "html"); "dirhtml" in h  # no own entry: Sphinx falls back
    False
    """
    own = handlers.get(name)
    if own is None or name == fmt:
        return
    for node, visitors in handlers.get(fmt, {}).items():
        own.setdefault(node, visitors)


def _builder_inited(app) -> None:
    inherit_handlers(app.registry.translation_handlers, app.builder.name, app.builder.format)


def setup(app):
    app.connect("builder-inited", _builder_inited)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
