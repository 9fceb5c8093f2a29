"""Explorables (interactive figures) in the book, offline.

A chapter displays a `relu_lab.explorables.Explorable`: one output bundle with the
explorable's HTML under its own mime type (`relu_lab.explorables.MIME`), its static
fallback as `image/png`, and a caption as `text/plain`. This extension

- has the HTML rendered by `relu_lab._book.Explorables`, a myst-nb mime renderer plugin
  that relu_lab declares through the `myst_nb.mime_renderers` entry point;
- before myst-nb picks one representation per output, moves the fallback image, which
  myst-nb has already written out like any figure, into the explorable's HTML (at
  `FALLBACK_SLOT`, with the class `explorable-fallback` and the chart's alt text) and
  offers the result as the output's `text/html`; builders without HTML get the image;
- loads the shared scripts only on pages that hold an explorable, once per page:
  Vega, Vega-Lite and vega-embed (vendored from npm in `book/_static/vendor/vega`, with
  their licences) and `book/_static/explorables.{js,css}`.

Why the bundle and not a `text/html` output with the image inside: nbval compares every
representation but `image/png`, so the fallback, drawn from numbers that may come out of
training, stays out of the comparison like every other figure of the book, while the
HTML (specification, data, readouts) is compared, with `≈` digits masked off the pinned
machine; and JupyterLab, which has no renderer for the explorable's type, shows the
fallback image instead of an inert shell.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "book" / "_static"
from relu_lab.explorables import FALLBACK_SLOT, MIME  # relu_lab is installed with the book

VENDOR = ["vendor/vega/vega-6.4.0.min.js", "vendor/vega/vega-lite-6.5.0.min.js",
          "vendor/vega/vega-embed-7.3.0.min.js"]
ALT = re.compile(r'data-fallback-alt="([^"]*)"')
ROOT_ELEMENT = re.compile(r'<figure class="explorable[ "]')


class MergeFallback(SphinxPostTransform):
    """Put each explorable's fallback image inside it, before myst-nb selects a mime type."""

    default_priority = 3  # myst-nb's SelectMimeType runs at 4

    def run(self, **kwargs) -> None:
        html = self.app.builder.format == "html"
        for bundle in list(self.document.findall(nodes.container)):
            if bundle.get("nb_element") != "mime_bundle":
                continue
            parts = {child.get("mime_type"): child for child in bundle.children
                     if isinstance(child, nodes.container)}
            own = parts.get(MIME)
            if own is None:
                continue
            if not html:
                bundle.remove(own)  # LaTeX and the rest: the fallback image
                continue
            raw = next(iter(own.findall(nodes.raw)))
            before, _, after = raw.astext().partition(FALLBACK_SLOT)
            alt = ALT.search(before)
            pieces = [nodes.raw(text=before, format="html")]
            png = parts.get("image/png")
            if png is not None:
                for image in png.findall(nodes.image):
                    image["classes"].append("explorable-fallback")
                    image["alt"] = alt.group(1).replace("&quot;", '"').replace("&amp;", "&") if alt else ""
                    pieces.append(image.deepcopy())
                    break
                bundle.remove(png)
            pieces.append(nodes.raw(text=after, format="html"))
            own.children = []
            own.extend(pieces)
            own["mime_type"] = "text/html"
            for other in list(parts):
                if other not in (MIME, "image/png") and parts[other] in bundle.children:
                    bundle.remove(parts[other])


def _has_explorable(doctree) -> bool:
    return doctree is not None and any(
        ROOT_ELEMENT.search(n.astext()) for n in doctree.findall(nodes.raw))


def _add_assets(app, pagename, templatename, context, doctree) -> None:
    if not _has_explorable(doctree):
        return
    for path in VENDOR:
        app.add_js_file(path, defer="defer")
    app.add_js_file("explorables.js", defer="defer")
    app.add_css_file("explorables.css")


def _add_static(app) -> None:
    if str(STATIC) not in app.config.html_static_path:
        app.config.html_static_path.append(str(STATIC))


def _digest() -> str:
    files = sorted(STATIC.glob("explorables.*")) + sorted((STATIC / "vendor").rglob("*.js"))
    return hashlib.sha256(b"".join(f.read_bytes() for f in files)).hexdigest()[:16]


def setup(app):
    # An edit of the shared script or style rewrites every page (see accessibility.py).
    app.add_config_value("explorables_assets_digest", _digest(), "html")
    app.connect("builder-inited", _add_static)
    app.add_post_transform(MergeFallback)
    app.connect("html-page-context", _add_assets)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
