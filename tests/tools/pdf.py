"""The PDF edition of the book: `make pdf` writes _build/pdf/relu-lab.pdf.

Usage: python -m tests.tools.pdf [--no-build] [--out PATH]

Route: the single-page HTML build of the book, printed by headless Chromium (Debian's
`chromium`, driven by the pinned Playwright, as the browser tests drive it).

1. `jupyter-book build --builder singlehtml` writes the whole book as one page in
   _build/singlehtml. It shares the HTML build's execution cache and doctrees, so no
   notebook runs again (`--no-build` reuses the last one).
2. Chromium opens that page from file:// with every other request blocked, waits for
   MathJax (vendored in book/_extra/mathjax) to typeset, adds tests/tools/pdf_print.css
   (A4, page numbers, no navigation, wrapped code, Arabic in Amiri, explorables as their
   static fallback), opens every dropdown (solutions, self-check answers) and puts a
   title page and a table of contents in front.
3. It prints with placeholder page numbers in the contents, reads the page of each
   chapter from the PDF's named destinations (`pdfinfo -dests`, poppler-utils), fills
   them in and prints again, until the numbers printed are the numbers read. The
   numbers are kept (relu-lab.pages.json) for the next run, which then prints once
   if nothing moved.

The PDF is also copied to _build/html/relu-lab.pdf, where the book's front page links it.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.tools import offline

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "_build"
SINGLE = BUILD / "singlehtml"
OUT = BUILD / "pdf" / "relu-lab.pdf"
HTML_COPY = BUILD / "html" / "relu-lab.pdf"
CSS = Path(__file__).with_name("pdf_print.css")
CHAPTER = re.compile(r"^notebooks/(\d+)_")  # as book/_ext/chapter_numbers.py


chromium = offline.chromium


def missing_tools() -> list[str]:
    """What `make pdf` needs from Debian and lacks here, as package names."""
    missing = []
    if chromium() is None:
        missing.append("chromium")
    if shutil.which("pdfinfo") is None:
        missing.append("poppler-utils")
    return missing


def toc_parts(toc_file: Path = ROOT / "_toc.yml") -> tuple[str, list[tuple[str, list[tuple[str, list[str]]]]]]:
    """The root page and, per part, its caption and (page, subpages) in order.

    >>> root, parts = toc_parts()
    >>> root, parts[1][0], parts[1][1][0]
    ('book/intro', 'Meet ReLU', ('notebooks/01_eli5', []))
    """
    toc = yaml.safe_load(toc_file.read_text(encoding="utf-8"))
    parts = []
    for part in toc.get("parts", [{"caption": "", "chapters": toc.get("chapters", [])}]):
        pages = [(c["file"], [s["file"] for s in c.get("sections", [])]) for c in part["chapters"]]
        parts.append((part.get("caption", ""), pages))
    return toc["root"], parts


def build_single_page() -> None:
    jb = Path(sys.executable).with_name("jupyter-book")
    cmd = [str(jb), "build", "-W", "-n", "--keep-going", "-q", "--builder", "singlehtml", "."]
    print("pdf: " + " ".join(cmd[1:]), flush=True)
    if subprocess.run(cmd, cwd=ROOT).returncode:
        raise SystemExit("pdf: the single-page build failed (its messages are above)")


def single_page(root_doc: str) -> Path:
    """The single page, copied to the output's root so that its relative links resolve.

    Sphinx writes it as `<root doc>.html` (book/intro.html) but computes its links to
    images and styles as if it sat at the root of _build/singlehtml.
    """
    source = SINGLE / f"{root_doc}.html"
    if not source.exists():
        raise SystemExit(f"pdf: {source.relative_to(ROOT)} is missing: build it without --no-build")
    target = SINGLE / "relu-lab.html"
    shutil.copyfile(source, target)
    return target


def book_meta() -> dict[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    meta = {"title": config.get("title", ""), "author": config.get("author", ""),
            "copyright": str(config.get("copyright", "")), "commit": "", "date": ""}
    try:
        out = subprocess.run(["git", "log", "-1", "--format=%h %cs"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
        meta["commit"], meta["date"] = out[0], out[1]
    except (OSError, subprocess.CalledProcessError, IndexError):
        pass
    return meta


# Runs in the page: light colours, links made internal, dropdowns opened, Arabic
# headings marked, chapters marked, and the title page and contents put in front.
PREPARE = r"""
({root, parts, meta}) => {
  const html = document.documentElement;
  html.dataset.theme = 'light'; html.dataset.mode = 'light';
  // Sphinx's single page links to itself by file name: make those links internal.
  for (const a of document.querySelectorAll('a[href]')) {
    const h = a.getAttribute('href');
    if (h.startsWith(root + '.html#')) a.setAttribute('href', h.slice(root.length + 5));
  }
  // Solutions, self-check answers and hidden outputs print open.
  for (const d of document.querySelectorAll('details')) d.open = true;
  for (const e of document.querySelectorAll('.toggle-hidden')) e.classList.remove('toggle-hidden');
  for (const img of document.querySelectorAll('img')) img.loading = 'eager';
  // A heading in Arabic script is set right to left in the Arabic font.
  for (const h of document.querySelectorAll('h1, h2, h3, h4')) {
    if (/^[\u0600-\u06FF]/.test(h.textContent.trim())) { h.dir = 'rtl'; h.lang = 'ar'; }
  }
  const esc = s => s.replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
  const titleOf = doc => {
    const marker = document.getElementById('document-' + doc);
    const section = marker && marker.nextElementSibling;
    const h = section && section.querySelector('h1, h2, h3, h4');
    if (!h) return null;
    // The marker moves into the page's section, so that it lands on the page where the
    // section starts (each chapter starts a new page, its marker would end the last).
    section.prepend(marker);
    const copy = h.cloneNode(true);
    copy.querySelectorAll('.headerlink').forEach(e => e.remove());
    return {section, title: copy.textContent.trim()};
  };
  const entries = [];
  let toc = '<div class="pdf-contents-title">Contents</div>';
  const entry = (doc, cls) => {
    const found = titleOf(doc);
    if (!found) throw new Error('no section for ' + doc);
    const m = doc.match(/^notebooks\/(\d+)_/);
    const number = m ? String(+m[1]) : '';
    if (!cls) {
      found.section.classList.add('pdf-chapter');
      if (number) found.section.dataset.chapter = number;
    }
    entries.push(doc);
    return `<a class="${cls}" href="#document-${esc(doc)}">` +
      `<span class="pdf-toc-title"><span class="pdf-toc-number">${number}</span>${esc(found.title)}</span>` +
      `<span class="pdf-toc-fill"></span><span class="pdf-toc-page" data-doc="${esc(doc)}">000</span></a>`;
    // "000": as wide as any page number, so that filling the numbers in moves nothing.
  };
  entries.push(root);
  toc += `<a href="#document-${esc(root)}"><span class="pdf-toc-title"><span class="pdf-toc-number"></span>` +
    `Introduction</span><span class="pdf-toc-fill"></span><span class="pdf-toc-page" data-doc="${esc(root)}">000</span></a>`;
  for (const [caption, pages] of parts) {
    if (caption) toc += `<div class="pdf-part">${esc(caption)}</div>`;
    for (const [doc, subs] of pages) {
      toc += entry(doc, '');
      for (const sub of subs) toc += entry(sub, 'pdf-toc-sub');
    }
  }
  const article = document.querySelector('article.bd-article') || document.body;
  const start = document.createElement('span');
  start.id = 'document-' + root;
  const intro = article.querySelector('section');
  if (intro) intro.classList.add('pdf-intro');
  (intro || article).prepend(start);
  // myst-nb's execution table marks success with an emoji that no installed font has.
  for (const cell of document.querySelectorAll('td')) {
    const mark = {'\u2705': '\u2714', '\u274C': '\u2718'}[cell.textContent.trim()];
    if (mark) (cell.querySelector('p') || cell).textContent = mark;
  }
  const contents = document.createElement('nav');
  contents.className = 'pdf-contents';
  contents.innerHTML = toc;
  article.prepend(contents);
  const title = document.createElement('div');
  title.className = 'pdf-title-page';
  title.innerHTML =
    `<p class="pdf-title">${esc(meta.title)}</p>` +
    `<p class="pdf-subtitle">An executable textbook about the rectified linear unit</p>` +
    `<p class="pdf-formula">ReLU(<i>x</i>) = max(0, <i>x</i>)</p>` +
    `<p class="pdf-meta">${esc(meta.author)}</p>` +
    (meta.commit ? `<p class="pdf-meta">PDF edition of ${esc(meta.date)}, commit ${esc(meta.commit)}</p>` : '') +
    `<p class="pdf-meta">Every number in this book is computed by code that CI re-runs.</p>`;
  article.prepend(title);
  return entries;
}
"""

FILL = r"""
(pages) => {
  for (const e of document.querySelectorAll('.pdf-toc-page')) {
    e.textContent = String(pages[e.dataset.doc]);
  }
}
"""


def destination_pages(pdf: Path, docs: list[str]) -> dict[str, int]:
    """The page on which each `document-<doc>` anchor lies (`pdfinfo -dests`)."""
    out = subprocess.run(["pdfinfo", "-dests", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages: dict[str, int] = {}
    for line in out.splitlines():
        m = re.match(r'\s*(\d+)\s+\[.*\]\s+"document-(.+)"\s*$', line)
        if m:
            pages[m.group(2)] = int(m.group(1))
    missing = [d for d in docs if d not in pages]
    if missing:
        raise RuntimeError(f"pdf: no destination in the PDF for {missing}")
    return {d: pages[d] for d in docs}


def print_pdf(html: Path, out: Path, meta: dict[str, str], root: str, parts: list) -> dict[str, int]:
    from playwright.sync_api import sync_playwright

    t0 = time.perf_counter()
    with sync_playwright() as p:
        browser = offline.launch(p)
        context = browser.new_context(viewport={"width": 1000, "height": 1400})
        blocked = offline.block_outside(context)
        page = context.new_page()
        page.set_default_timeout(300_000)
        page.emulate_media(media="print", color_scheme="light")
        page.goto(html.as_uri(), wait_until="load")
        page.wait_for_function("() => !window.MathJax || (MathJax.startup && MathJax.startup.promise)")
        page.evaluate("async () => { if (window.MathJax && MathJax.startup) await MathJax.startup.promise; }")
        page.add_style_tag(path=str(CSS))
        docs = page.evaluate(PREPARE, {"root": root, "parts": parts, "meta": meta})
        page.evaluate("async () => { await document.fonts.ready; await Promise.all([...document.images]"
                      ".filter(i => !i.complete).map(i => new Promise(r => { i.onload = i.onerror = r; })))}")
        untypeset = page.evaluate("() => document.querySelectorAll('.math:not(:has(mjx-container))').length")
        if untypeset:
            raise RuntimeError(f"pdf: {untypeset} formulas were not typeset by MathJax")
        print(f"pdf: page loaded and typeset in {time.perf_counter() - t0:.0f} s", flush=True)
        # Print with the contents' page numbers of the last run (placeholders the first
        # time), read where each chapter landed, and print again until the two agree:
        # twice from scratch, once when nothing moved since the last run.
        numbers = out.with_suffix(".pages.json")
        pages = json.loads(numbers.read_text()) if numbers.exists() else None
        if not pages or set(pages) != set(docs):
            pages = None
        part = out.with_name(out.stem + ".part.pdf")  # becomes `out` once it is right
        out.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(3):
            page.evaluate(FILL, pages or {d: "000" for d in docs})
            # Tagged (structure for screen readers), with an outline (bookmarks per heading).
            page.pdf(path=str(part), prefer_css_page_size=True, print_background=True,
                     tagged=True, outline=True)
            found = destination_pages(part, docs)
            print(f"pdf: printed in {time.perf_counter() - t0:.0f} s", flush=True)
            if found == pages:
                break
            pages = found
        else:
            raise RuntimeError(f"pdf: the contents' page numbers do not settle: {pages}")
        browser.close()
    if blocked:
        raise RuntimeError(f"pdf: the page tried to reach the network: {blocked}")
    part.replace(out)
    numbers.write_text(json.dumps(pages, indent=1))
    return pages


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-build", action="store_true", help="reuse the last single-page build")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    if missing := missing_tools():
        print(f"pdf: needs Debian's {' and '.join(missing)} (apt-get install {' '.join(missing)})",
              file=sys.stderr)
        return 2
    fonts = subprocess.run(["fc-list", ":lang=ar", "family"], capture_output=True, text=True).stdout \
        if shutil.which("fc-list") else ""
    if "Amiri" not in fonts:
        print("pdf: warning: the Amiri font is not installed (Debian's fonts-hosny-amiri); "
              "the Arabic summary will print in another font", file=sys.stderr)
    t0 = time.perf_counter()
    root, parts = toc_parts()
    if not args.no_build:
        build_single_page()
    html = single_page(root)
    pages = print_pdf(html, args.out, book_meta(), root, parts)
    if args.out.resolve() == OUT.resolve():
        HTML_COPY.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(OUT, HTML_COPY)
    info = subprocess.run(["pdfinfo", str(args.out)], capture_output=True, text=True).stdout
    count = re.search(r"^Pages:\s+(\d+)", info, re.M)
    print(f"pdf: wrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}: "
          f"{count.group(1) if count else '?'} pages, {len(pages)} chapters and pages, "
          f"{time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
