"""The book's small Sphinx extensions (book/_ext), tested without a build."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "book" / "_ext"))

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
