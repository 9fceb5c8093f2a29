"""Figures that follow the reader's colour scheme.

Each notebook figure is shown twice, as drawn and recoloured for a dark page
(`relu_lab.plotting.dark_twin`; myst-nb renders the pair through the plugin in
`relu_lab/_book.py`). The twins are drawn only for the book: this extension sets
`RELU_LAB_DARK_TWINS=1` in the build's environment, which the kernels it starts inherit
(`tests/tools/prewarm.py` does the same for the kernels it starts). `book/_static/dark_figures.css` shows the one that matches the
scheme: the theme's `data-theme` on <html>, which follows the reader's system setting.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from relu_lab.plotting import DARK_TWINS_ENV

STATIC = Path(__file__).resolve().parents[1] / "_static"
CSS = STATIC / "dark_figures.css"


def _add_static(app) -> None:
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def setup(app):
    os.environ[DARK_TWINS_ENV] = "1"  # for every kernel this build starts
    # An edit of the stylesheet must rewrite every page (they link it with a checksum).
    app.add_config_value("dark_figures_css_digest", hashlib.sha256(CSS.read_bytes()).hexdigest()[:16], "html")
    app.connect("builder-inited", _add_static)
    app.add_css_file(CSS.name, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
