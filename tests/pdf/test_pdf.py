"""The PDF edition (`make pdf`, tests/tools/pdf.py), read back with poppler-utils.

The session builds the PDF once (single-page build, then Chromium) and every test reads
it. `BOOK_PDF=path/to.pdf` tests that file instead, without building. Without Chromium,
poppler-utils or Playwright the tests skip and say which is missing; `.ci/run` installs
them (with the Amiri font).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from tests.tools import offline
from tests.tools import pdf as tool

ROOT = tool.ROOT
POPPLER = ("pdfinfo", "pdftotext", "pdfimages", "pdffonts", "pdftohtml")
# Text the layout engine adds around right-to-left runs; not part of the words.
BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))
QUOTES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def norm(text: str) -> str:
    """Compare text as a reader sees it: Unicode NFKC (Arabic presentation forms become
    letters), no bidi controls, straight quotes, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(BIDI).translate(QUOTES)
    return re.sub(r"\s+", " ", text).strip()


def run(*cmd: str) -> str:
    return subprocess.run(cmd, capture_output=True, text=True, check=True).stdout


# ---------------------------------------------------------------- the book's sources

def toc_files() -> list[str]:
    root, parts = tool.toc_parts()
    return [root] + [f for _, pages in parts for page, subs in pages for f in [page, *subs]]


def source(doc: str) -> Path:
    return next(p for p in (ROOT / f"{doc}{ext}" for ext in (".ipynb", ".md", ".rst")) if p.exists())


def title(doc: str) -> str:
    """The page's title as its source spells it (first `# ` heading, or rST title)."""
    path = source(doc)
    if path.suffix == ".ipynb":
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    else:
        text = path.read_text(encoding="utf-8")
    if path.suffix == ".rst":
        heading = re.search(r"^(\S.*)\n=+\s*$", text, re.M).group(1)
    else:
        heading = re.search(r"^# (.+)$", text, re.M).group(1)
    return norm(re.sub(r"[`*]", "", heading))


def chapter_docs() -> list[str]:
    return [d for d in toc_files() if tool.CHAPTER.match(d)]


# ---------------------------------------------------------------- the PDF

@pytest.fixture(scope="session")
def pdf() -> Path:
    if os.environ.get("BOOK_PDF"):
        return Path(os.environ["BOOK_PDF"])
    missing = [t for t in POPPLER if shutil.which(t) is None]
    if missing:
        pytest.skip(f"no {', '.join(missing)}: install Debian's poppler-utils to test the PDF")
    if tool.chromium() is None:
        pytest.skip("no Chromium: install Debian's `chromium` package to build and test the PDF")
    pytest.importorskip("playwright.sync_api")
    result = subprocess.run([sys.executable, "-m", "tests.tools.pdf"], cwd=ROOT,
                            capture_output=True, text=True)
    if result.returncode:
        pytest.fail(f"make pdf failed:\n{(result.stdout + result.stderr)[-4000:]}")
    print(result.stdout.strip().splitlines()[-1])
    return tool.OUT


@pytest.fixture(scope="session")
def pages(pdf) -> list[str]:
    """Each page's text (pdftotext -layout), page 1 first."""
    return run("pdftotext", "-layout", str(pdf), "-").split("\f")[:-1]


@lru_cache(maxsize=None)
def _text(pdf: Path) -> str:
    return norm(run("pdftotext", str(pdf), "-"))


def page_of(pages: list[str], heading: str) -> int:
    found = [i + 1 for i, p in enumerate(pages) if norm(p).startswith(heading)]
    assert found, f"no page starts with {heading!r}"
    return found[0]


def test_it_opens_as_a4(pdf):
    info = run("pdfinfo", str(pdf))
    assert int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1)) >= 50
    assert "(A4)" in info


def test_every_page_title_is_in_the_text(pdf):
    text = _text(pdf)
    missing = [t for t in map(title, toc_files()) if t not in text]
    assert not missing, f"titles missing from the PDF's text: {missing}"


def test_contents_give_each_chapter_its_page(pdf, pages):
    contents = norm(pages[1])
    assert contents.startswith("Contents")
    for doc in chapter_docs():
        number = int(tool.CHAPTER.match(doc).group(1))
        m = re.search(rf"{number} {re.escape(title(doc))} (\d+)", contents)
        assert m, f"contents lack chapter {number}, {title(doc)!r}, with its page"
        assert norm(pages[int(m.group(1)) - 1]).startswith(f"CHAPTER {number} {title(doc)}"), \
            f"contents say chapter {number} starts on page {m.group(1)}; it does not"


def test_pages_are_numbered(pages):
    feet = [norm((p.strip().splitlines() or [""])[-1]) for p in pages]
    unnumbered = [i for i, foot in enumerate(feet, start=1) if i > 1 and foot != str(i)]
    assert not unnumbered, f"pages without their number at the foot: {unnumbered[:10]}"
    assert not feet[0].isdigit(), "the title page carries a number"


def test_no_unrendered_tex_outside_code(pdf):
    """Every formula is typeset: no TeX in any text set in a text font. Code (set in a
    monospace font) may hold TeX legitimately, as in matplotlib labels like r"$x_1$"."""
    xml = run("pdftohtml", "-xml", "-i", "-q", "-stdout", str(pdf))
    mono = {m.group(1) for m in re.finditer(r'<fontspec id="(\d+)"[^>]*family="[^"]*Mono[^"]*"', xml)}
    tex = re.compile(r"\$|\\[()\[\]]|\\[A-Za-z]+")
    raw = []
    for page, body in enumerate(xml.split("<page ")[1:], start=1):
        for m in re.finditer(r'<text [^>]*font="(\d+)"[^>]*>(.*?)</text>', body):
            text = re.sub(r"<[^>]+>", "", m.group(2))
            if m.group(1) not in mono and tex.search(text):
                raw.append(f"page {page}: {text[:80]}")
    assert not raw, f"unrendered TeX: {raw[:10]}"


def test_no_text_is_cut_off_at_the_sides(pdf):
    """Every word lies between the side margins: long code lines wrap, wide tables
    and outputs fit (a clipped line would still be in the text, beyond the margin)."""
    sides = re.search(r"@page\s*{[^}]*?margin:\s*[\d.]+mm ([\d.]+)mm [\d.]+mm ([\d.]+)mm", tool.CSS.read_text())
    right_mm, left_mm = map(float, sides.groups())
    bbox = run("pdftotext", "-bbox", str(pdf), "-")
    outside = []
    for number, body in enumerate(bbox.split("<page ")[1:], start=1):
        width = float(re.match(r'width="([\d.]+)"', body).group(1))
        low, high = left_mm / 25.4 * 72 - 2, width - right_mm / 25.4 * 72 + 2
        outside += [f"page {number}: {w}" for x0, x1, w in
                    re.findall(r'<word xMin="([\d.]+)" yMin="[\d.]+" xMax="([\d.]+)"[^>]*>([^<]*)<', body)
                    if float(x0) < low or float(x1) > high]
    assert not outside, f"text beyond the side margins: {outside[:10]}"


def test_figures_are_present(pdf):
    """At least one image in the PDF per figure a chapter stores (image outputs)."""
    figures = 0
    for doc in toc_files():
        if source(doc).suffix == ".ipynb":
            cells = json.loads(source(doc).read_text(encoding="utf-8"))["cells"]
            figures += sum("image/png" in o.get("data", {}) for c in cells for o in c.get("outputs", []))
    images = [line.split() for line in run("pdfimages", "-list", str(pdf)).splitlines()[2:]]
    pictures = [row for row in images if row[2] == "image" and int(row[3]) >= 200 and int(row[4]) >= 100]
    assert figures >= 20 and len(pictures) >= figures, f"{len(pictures)} images for {figures} figures"


def test_solutions_and_self_check_answers_are_printed(pdf):
    solutions = 0
    for doc in chapter_docs():
        cells = json.loads(source(doc).read_text(encoding="utf-8"))["cells"]
        solutions += sum(bool(re.search(r"\{solution(-start)?\}", "".join(c["source"])))
                         for c in cells if c["cell_type"] == "markdown")
    text = _text(pdf)
    assert text.count("Solution to Exercise") == solutions
    assert text.count("Correct.") >= len(chapter_docs())


def test_arabic_summary_is_right_to_left_in_an_arabic_font(pdf, pages):
    heading = title("book/arabic_summary")
    assert heading in _text(pdf)
    number = page_of(pages, heading)
    assert "Amiri" in run("pdffonts", "-f", str(number), "-l", str(number), str(pdf)), \
        "the Arabic summary is not set in Amiri (install Debian's fonts-hosny-amiri)"
    # pdftotext -bbox lists words where they stand on the page: in right-to-left
    # text the first word of the heading stands right of the last.
    bbox = run("pdftotext", "-bbox", "-f", str(number), "-l", str(number), str(pdf), "-")
    x = {}
    for m in re.finditer(r'<word xMin="([\d.]+)"[^>]*>([^<]+)</word>', bbox):
        word = norm(m.group(2))
        x.setdefault(word, float(m.group(1)))
        x.setdefault(word[::-1], float(m.group(1)))
    words = heading.split()
    assert words[0] in x and words[-1] in x, f"heading words not found on page {number}"
    assert x[words[0]] > x[words[-1]], "the Arabic heading runs left to right"


def test_the_html_book_gets_a_copy_for_its_front_page_link(pdf):
    if os.environ.get("BOOK_PDF"):
        pytest.skip("BOOK_PDF given: nothing was built")
    assert tool.HTML_COPY.read_bytes() == pdf.read_bytes()
    assert 'href="../relu-lab.pdf"' in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")


def test_an_explorable_prints_its_fallback():
    """The convention in tests/tools/pdf_print.css, on a small page in print media."""
    if tool.chromium() is None:
        pytest.skip("no Chromium: install Debian's `chromium` package")
    sync_api = pytest.importorskip("playwright.sync_api")
    html = ('<div class="explorable"><input type="range" class="live"><output class="readout">1</output>'
            '<img class="explorable-fallback" style="display:none" alt="a fallback" '
            'src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><figcaption>caption</figcaption></div>')
    with sync_api.sync_playwright() as p:
        browser = offline.launch(p)
        page = browser.new_page()
        page.set_content(html)
        page.add_style_tag(path=str(tool.CSS))
        page.emulate_media(media="print")
        shown = page.evaluate("() => Object.fromEntries([...document.querySelectorAll('.explorable > *')]"
                              ".map(e => [e.className || e.tagName, getComputedStyle(e).display !== 'none']))")
        browser.close()
    assert shown == {"live": False, "readout": False, "explorable-fallback": True, "FIGCAPTION": True}
