"""The book build's side of :func:`relu_lab.plotting.dark_twin` (not for chapters).

myst-nb loads :class:`DarkTwins` through the ``myst_nb.mime_renderers`` entry point
(see ``pyproject.toml``). For a PNG output that carries a dark twin in its metadata it
renders two images, the figure as drawn (class ``figure-light``) and its twin (classes
``figure-dark`` and ``dark-light``, the theme's mark for an image made for dark pages);
``book/_static/dark_figures.css`` shows the one that matches the reader's scheme.
Outputs without a twin are left to myst-nb.
"""

from __future__ import annotations

import dataclasses

from relu_lab.plotting import DARK_TWIN_KEY


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
