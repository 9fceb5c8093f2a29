"""The book's small Sphinx extensions (book/_ext), tested without a build."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

import accessibility  # noqa: E402
import chapter_numbers  # noqa: E402
import single_page  # noqa: E402


def test_items_are_numbered_per_chapter_in_page_order():
    raw = {
        "notebooks/08_dying_relu": {"exercise": {"e2": (30,), "e1": (29,)}, "figure": {"f": (40,)}},
        "notebooks/10_beyond_relu": {"exercise": {"e": (33,)}},
        "book/course": {"figure": {"x": (3,), "y": (2,)}},
    }
    assert chapter_numbers.per_chapter(raw) == {
        "notebooks/08_dying_relu": {"exercise": {"e1": (8, 1), "e2": (8, 2)}, "figure": {"f": (8, 1)}},
        "notebooks/10_beyond_relu": {"exercise": {"e": (10, 1)}},
        "book/course": {"figure": {"y": (1,), "x": (2,)}},
    }


def test_an_empty_book_stays_empty():
    assert chapter_numbers.per_chapter({}) == {}


def test_singlehtml_gets_the_html_visitors_it_lacks():
    html = {"HideCodeCellNode": ("visit", "depart"), "exercise_node": ("html-visit", None)}
    handlers = {"html": html, "singlehtml": {"exercise_node": ("own-visit", None)}}
    single_page.inherit_handlers(handlers, "singlehtml", "html")
    assert handlers["singlehtml"] == {"exercise_node": ("own-visit", None),
                                      "HideCodeCellNode": ("visit", "depart")}
    assert handlers["html"] is html and len(html) == 2


def test_sidebar_toggles_are_named_after_their_section():
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(
        '<ul><li class="toctree-l1 has-children"><a class="reference internal" href="api/index.html">'
        'API <code>reference</code></a><details><summary><span class="toctree-toggle" role="presentation">'
        '<i class="fa-solid fa-chevron-down"></i></span></summary><ul><li>x</li></ul></details></li>'
        '<li class="toctree-l0 has-children"><details><summary><p class="caption">Part</p></summary></details></li>'
        '</ul>', "html.parser")
    accessibility._label_summaries(soup)
    first, second = soup.select("summary")
    assert first["aria-label"] == "Sub-pages of API reference"
    assert not second.has_attr("aria-label")  # its caption text already names it


def test_citations_are_list_items_of_their_list():
    from docutils.core import publish_parts
    from docutils.writers.html5_polyglot import HTMLTranslator, Writer

    writer = Writer()
    writer.translator_class = type("T", (accessibility._CitationListItems, HTMLTranslator), {})
    body = publish_parts("See [A1]_ and [B2]_.\n\n.. [A1] One.\n.. [B2] Two.\n", writer=writer)["body"]
    assert body.count('<div role="list" class="citation-list">') == 1
    assert body.count('role="listitem"') == 2 and "doc-biblioentry" not in body
