"""Citations as links (book/_ext/citation_links.py): the book renders them as the
``{cite}`` roles do, and JupyterLab's text agrees with the bibliography."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from tests.tools.labify import CITE, bibliography, citation_text

ROOT = Path(__file__).resolve().parents[1]
LINK = re.compile(r"\[([^\]]*(?:\[[^\]]*\][^\]]*)*)\]\(cite:(t|p):([^)\s]+)\)")
CHAPTERS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_citation_text_matches_the_bibliography(path):
    bib = bibliography()
    problems = []
    for i, cell in enumerate(nbformat.read(path, as_version=4).cells):
        if cell.cell_type != "markdown":
            continue
        for m in LINK.finditer(cell.source):
            text, kind, keys = m.group(1), m.group(2), m.group(3).split(",")
            missing = [k for k in keys if k not in bib]
            if missing:
                problems.append(f"cell {i}: not in references.bib: {missing}")
            elif text != citation_text(kind, keys, bib):
                problems.append(f"cell {i}: {m.group(0)!r} should read {citation_text(kind, keys, bib)!r}")
    assert not problems, "\n".join(problems)


def _text(html: str, start: str) -> str:
    i = html.index(start)
    return re.sub(r"<[^>]+>", "", html[i:html.index("</p>", i)])


def test_book_renders_a_citation_link_as_the_role(tmp_path):
    """A two-page Sphinx project: the link and the role give the same text and link."""
    shutil.copy(ROOT / "book" / "references.bib", tmp_path)
    (tmp_path / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(ROOT / 'book' / '_ext')!r})\n"
        "extensions = ['myst_parser', 'sphinxcontrib.bibtex', 'citation_links']\n"
        "bibtex_bibfiles = ['references.bib']\nbibtex_reference_style = 'author_year'\n")
    (tmp_path / "index.md").write_text(
        "# T\n\nLINK [Saxe et al. (2014)](cite:t:saxe2014exact) and "
        "[(Nair and Hinton, 2010; Glorot et al., 2011)](cite:p:nair2010rectified,glorot2011deep).\n\n"
        "ROLE {cite:t}`saxe2014exact` and {cite:p}`nair2010rectified,glorot2011deep`.\n\n"
        "```{bibliography}\n```\n")
    out = tmp_path / "_html"
    run = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-W", "-n", "-b", "html", str(tmp_path), str(out)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    html = (out / "index.html").read_text(encoding="utf-8")
    link, role = _text(html, "LINK").removeprefix("LINK "), _text(html, "ROLE").removeprefix("ROLE ")
    assert link == role == "Saxe et al. [2014] and [Glorot et al., 2011, Nair and Hinton, 2010]."
    assert "cite:t:" not in html and "cite:p:" not in html
    assert html.count('class="reference internal" href="#id') >= 6  # every cited key links its entry


def test_no_role_left_in_the_chapters():
    """Chapters cite with links, so that Lab shows author and year (labify converts)."""
    left = [f"{p.name}: {m.group(0)}" for p in CHAPTERS
            for c in nbformat.read(p, as_version=4).cells if c.cell_type == "markdown"
            for m in CITE.finditer(c.source)]
    assert not left, "convert with python -m tests.tools.labify:\n" + "\n".join(left)
