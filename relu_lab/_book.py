"""The book build's myst-nb renderers (not for chapters).

myst-nb loads both plugins through the ``myst_nb.mime_renderers`` entry point (see
``pyproject.toml``).

:class:`Explorables` renders an explorable's HTML (:data:`relu_lab.explorables.MIME`) as
raw HTML; ``book/_ext/explorables.py`` does the rest (the fallback image, the scripts).

:class:`DarkTwins`, the book's side of :func:`relu_lab.plotting.dark_twin`: for a PNG output that carries a dark twin in its metadata it
renders two images, the figure as drawn (class ``figure-light``) and its twin (classes
``figure-dark`` and ``dark-light``, the theme's mark for an image made for dark pages);
``book/_static/dark_figures.css`` shows the one that matches the reader's scheme.
Outputs without a twin are left to myst-nb.
"""

from __future__ import annotations

import dataclasses

from relu_lab.explorables import MIME
from relu_lab.plotting import DARK_TWIN_KEY


class Explorables:
    """A myst-nb mime renderer plugin: an explorable's HTML as a raw HTML node."""

    mime_priority_overrides: tuple = ()

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != MIME:
            return None
        from docutils import nodes  # the build's dependency, not the chapters'

        return [nodes.raw(text=data.string, format="html", classes=["output", "text_html"])]


class DarkTwins:
    """A myst-nb mime renderer plugin: a PNG and its dark twin, side by side."""

    mime_priority_overrides: tuple = ()

    @staticmethod
    def handle_mime(renderer, data, inline):
        if data.mime_type != "image/png":
            return None
        twin = data.output_metadata.get("image/png", {}).get(DARK_TWIN_KEY)
        if not twin:
            return None
        light = renderer.render_image(data)
        dark = renderer.render_image(dataclasses.replace(data, content=twin))
        for node, classes in [(light, ["figure-light"]), (dark, ["figure-dark", "dark-light"])]:
            node[0]["classes"] = node[0].get("classes", []) + classes
        return light + dark
