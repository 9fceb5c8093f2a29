"""Number figures, exercises and other numbered items per chapter: Fig. 8.2, Exercise 8.1.

Sphinx numbers them per numbered toctree, and Jupyter Book puts each part of the book
in its own toctree, so without help the numbers run on through the whole book (the
exercises of chapter 8 would be 29 to 32) or, with ``numbered: true``, restart in every
part. A chapter is a page under ``notebooks/`` whose name starts with its number
(``notebooks/08_dying_relu``); its items become (8, 1), (8, 2), ... in page order. On
any other page they are numbered 1, 2, ... within the page.

Sphinx's own figure numbering runs first, unchanged; this only rewrites its result,
then tells Sphinx which pages' numbers changed since the last build, as Sphinx itself
does, so that incremental builds rewrite only those pages.
"""

from __future__ import annotations

import re
from typing import Any

from sphinx.environment.collectors.toctree import TocTreeCollector

CHAPTER = re.compile(r"^notebooks/(\d+)_")
_sphinx_assign = TocTreeCollector.assign_figure_numbers


def per_chapter(fignumbers: dict[str, dict[str, dict[str, tuple[int, ...]]]]) -> dict:
    """Renumber ``env.toc_fignumbers`` (page -> type -> id -> number) per chapter.

    >>> per_chapter({"notebooks/08_x": {"figure": {"a": (31,), "b": (30,)}}, "book/p": {"figure": {"c": (7,)}}})
    {'notebooks/08_x': {'figure': {'b': (8, 1), 'a': (8, 2)}}, 'book/p': {'figure': {'c': (1,)}}}
    """
    out: dict = {}
    for docname, types in fignumbers.items():
        match = CHAPTER.match(docname)
        prefix = (int(match.group(1)),) if match else ()
        out[docname] = {
            figtype: {ident: (*prefix, i) for i, (ident, _) in
                      enumerate(sorted(ids.items(), key=lambda kv: kv[1]), start=1)}
            for figtype, ids in types.items()
        }
    return out


def _assign_per_chapter(self: TocTreeCollector, env: Any) -> list[str]:
    old = env.toc_fignumbers
    _sphinx_assign(self, env)
    env.toc_fignumbers = per_chapter(env.toc_fignumbers)
    return [d for d, numbers in env.toc_fignumbers.items() if numbers != old.get(d)]


def setup(app):
    TocTreeCollector.assign_figure_numbers = _assign_per_chapter
    return {"parallel_read_safe": True, "parallel_write_safe": True}
