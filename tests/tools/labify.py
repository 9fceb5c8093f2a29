"""Convert chapters from myst-nb's glue to MyST ``{eval}``, so that JupyterLab shows their numbers.

Usage: python -m tests.tools.labify [--check] notebooks/NAME.ipynb ...

``{glue:text}`` is resolved by Sphinx alone: in JupyterLab a glued number is a line of
markup. ``{eval}`` is read by both (see ``tests/tools/evals.py``). For each notebook:

- ``from myst_nb import glue`` becomes ``glued = {}  # the numbers the text shows``;
- each ``glue(KEY, VALUE, display=False)`` statement becomes ``glued[KEY] = VALUE``
  (keys built in loops included: ``glue(f"ch04_x_{i}", v)`` becomes ``glued[f"ch04_x_{i}"] = v``);
- ``{doc}`NAME``` (a chapter) becomes ``[Its title](NAME.ipynb)``: a link that opens the
  notebook in JupyterLab and that the book resolves to the chapter's page;
- ``{cite:t}`KEY``` becomes ``[Saxe et al. (2014)](cite:t:KEY)`` and ``{cite:p}`K1,K2```
  ``[(A, 2010; B et al., 2011)](cite:p:K1,K2)``: JupyterLab shows the text, the book the
  same citation as before (``book/_ext/citation_links.py``);
- in markdown, ``{glue:text}`KEY``` becomes ``{eval}`glued["KEY"]``` and
  ``{glue:text}`KEY:SPEC``` becomes ``{eval}`format(glued["KEY"], "SPEC")```: the same
  text, since ``{glue:text}`` shows the value's text/plain (quotes stripped), as ``{eval}`` does.

It is idempotent (a converted notebook is left as it is) and refuses, naming the cell,
any glue it cannot convert faithfully (another form of call, a ``{glue}`` role of
another kind, a name ``glued`` already in use). ``--check`` changes nothing and exits 1
when a notebook still needs converting. Code outputs are left as they were: run
``python -m tests.tools.execute`` on the converted notebooks afterwards, which stores
fresh outputs and the values JupyterLab shows.
"""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat

from tests.tools.evals import forward_uses

STORE = "glued"
IMPORT = re.compile(r"^from myst_nb import glue[ \t]*$", re.M)
IMPORT_NEW = f"{STORE} = {{}}  # the numbers the text shows, by name: {{eval}}`{STORE}[\"name\"]`"
GLUE_TEXT = re.compile(r"\{glue:text\}`([A-Za-z_][A-Za-z0-9_]*)(?::([^`]+))?`")
OTHER_GLUE = re.compile(r"\{glue(?::[a-z]+)?\}`")
#: ``{doc}`NAME``` or ``{doc}`text <NAME>```, NAME a chapter beside this one.
DOC = re.compile(r"\{doc\}`(?:([^`<]*?)\s*<([^`>]+)>|([^`<]+))`")


class CannotConvert(ValueError):
    pass


def _offsets(source: bytes) -> list[int]:
    """Byte offset of each line's start (``ast`` counts columns in UTF-8 bytes)."""
    starts, pos = [], 0
    for line in source.splitlines(keepends=True):
        starts.append(pos)
        pos += len(line)
    starts.append(pos)
    return starts


def convert_code(source: str, where: str = "") -> str:
    """Rewrite the glue statements of one code cell.

    >>> convert_code('from myst_nb import glue\\nx = 1\\nglue("ch_x", f"{x:.0%}", display=False)')
    'glued = {}  # the numbers the text shows, by name: {eval}`glued["name"]`\\nx = 1\\nglued["ch_x"] = f"{x:.0%}"'
    >>> print(convert_code('for k in "ab":\\n    glue(f"ch_{k}", median(\\n        k), display=False)'))
    for k in "ab":
        glued[f"ch_{k}"] = median(
            k)
    >>> print(convert_code('glue("a", "⁻¹", display=False)\\nglue("b", 2, display=False)'))
    glued["a"] = "⁻¹"
    glued["b"] = 2
    """
    if "glue" not in source:
        return source
    source = IMPORT.sub(IMPORT_NEW, source)
    tree = ast.parse(source)
    edits = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "glue":
            parent_ok = any(isinstance(s, ast.Expr) and s.value is node for s in ast.walk(tree))
            kwargs = {k.arg: k.value for k in node.keywords}
            if (not parent_ok or len(node.args) != 2 or set(kwargs) - {"display"}
                    or ("display" in kwargs and not (isinstance(kwargs["display"], ast.Constant)
                                                     and kwargs["display"].value is False))):
                raise CannotConvert(f"{where}: cannot convert {ast.get_source_segment(source, node)!r}")
            edits.append(node)
        elif isinstance(node, ast.Name) and node.id == STORE and isinstance(node.ctx, ast.Store):
            if not source.startswith(IMPORT_NEW) and IMPORT_NEW not in source:
                raise CannotConvert(f"{where}: the name {STORE!r} is already in use")
    if not edits:
        return source
    encoded = source.encode("utf-8")
    starts = _offsets(encoded)
    for node in sorted(edits, key=lambda n: (n.lineno, n.col_offset), reverse=True):
        key = ast.get_source_segment(source, node.args[0])
        value = ast.get_source_segment(source, node.args[1])
        start = starts[node.lineno - 1] + node.col_offset
        end = starts[node.end_lineno - 1] + node.end_col_offset
        new = f"{STORE}[{key}] = {value}"
        try:
            ast.parse(new)
        except SyntaxError:
            new = f"{STORE}[{key}] = ({value})"
        encoded = encoded[:start] + new.encode("utf-8") + encoded[end:]
    source = encoded.decode("utf-8")
    ast.parse(source)
    if re.search(r"\bglue\b", IMPORT.sub("", source).replace(IMPORT_NEW, "")):
        leftover = [ln for ln in source.splitlines() if re.search(r"\bglue\b", ln)]
        raise CannotConvert(f"{where}: glue left after converting: {leftover}")
    return source


def chapter_titles(folder: Path) -> dict[str, str]:
    """``{name: title}`` of the notebooks in ``folder``: the first ``# `` heading."""
    titles = {}
    for path in sorted(folder.glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            m = re.search(r"^# (.+)$", cell.source, re.M) if cell.cell_type == "markdown" else None
            if m:
                titles[path.stem] = m.group(1).strip()
                break
    return titles


def convert_doc(source: str, titles: dict[str, str], where: str = "") -> str:
    """Rewrite ``{doc}`` references to chapters as Markdown links to the notebook.

    In JupyterLab a link to ``NAME.ipynb`` opens that notebook; the book (MyST) resolves
    the same link to the chapter's page. The text is the one given, or the chapter's title
    (which ``{doc}`` shows in the book).

    >>> convert_doc("See {doc}`03_relu` and {doc}`this chapter <04_props>`.", {"03_relu": "The ReLU function"})
    'See [The ReLU function](03_relu.ipynb) and [this chapter](04_props.ipynb).'
    """
    def new(m: re.Match) -> str:
        text, name = (m.group(1), m.group(2)) if m.group(2) else (None, m.group(3))
        name = name.strip()
        if "/" in name or (text is None and name not in titles):
            raise CannotConvert(f"{where}: {{doc}} to something other than a chapter: {m.group(0)}")
        return f"[{text or titles[name]}]({name}.ipynb)"
    return DOC.sub(new, source)


#: ``{cite:t}`KEY``` or ``{cite:p}`KEY1,KEY2```.
CITE = re.compile(r"\{cite:(t|p)\}`([^`{}]+)`")


def bibliography(path: Path | None = None) -> dict[str, tuple[str, str]]:
    """``{key: (authors, year)}`` from ``book/references.bib``: "Saxe et al.", "2014"."""
    from pybtex.backends.plaintext import Backend
    from pybtex.database import parse_file
    from pybtex.richtext import Text

    path = path or Path(__file__).resolve().parents[2] / "book" / "references.bib"
    found = {}
    plain = Backend()  # render_as("text") would look the backend up, over every package, per name
    for key, entry in parse_file(str(path)).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [Text.from_latex(" ".join(p.prelast_names + p.last_names)).render(plain)
                 for p in people]
        who = (names[0] if len(names) == 1 else " and ".join(names) if len(names) == 2
               else f"{names[0]} et al." if names else key)
        found[key] = (who, entry.fields.get("year", "n.d."))
    return found


def citation_text(kind: str, keys: list[str], bib: dict[str, tuple[str, str]]) -> str:
    """What JupyterLab shows for a citation: "Saxe et al. (2014)", "(Saxe et al., 2014; ...)".

    >>> bib = {"a": ("Saxe et al.", "2014"), "b": ("Nair and Hinton", "2010")}
    >>> citation_text("t", ["a"], bib), citation_text("p", ["a", "b"], bib)
    ('Saxe et al. (2014)', '(Saxe et al., 2014; Nair and Hinton, 2010)')
    """
    if kind == "t":
        return "; ".join(f"{bib[k][0]} ({bib[k][1]})" for k in keys)
    return "(" + "; ".join(f"{bib[k][0]}, {bib[k][1]}" for k in keys) + ")"


def convert_cite(source: str, bib: dict[str, tuple[str, str]], where: str = "") -> str:
    """Rewrite ``{cite:t}``/``{cite:p}`` as links that the book reads as the same citation
    (``book/_ext/citation_links.py``) and JupyterLab shows as author and year.

    >>> convert_cite("As {cite:t}`a` showed {cite:p}`a,b`.", {"a": ("Saxe et al.", "2014"), "b": ("Nair and Hinton", "2010")})
    'As [Saxe et al. (2014)](cite:t:a) showed [(Saxe et al., 2014; Nair and Hinton, 2010)](cite:p:a,b).'
    """
    def new(m: re.Match) -> str:
        kind, keys = m.group(1), [k.strip() for k in m.group(2).split(",")]
        missing = [k for k in keys if k not in bib]
        if missing:
            raise CannotConvert(f"{where}: not in references.bib: {missing}")
        return f"[{citation_text(kind, keys, bib)}](cite:{kind}:{','.join(keys)})"
    return CITE.sub(new, source)


def convert_markdown(source: str, where: str = "") -> str:
    """Rewrite ``{glue:text}`` roles as ``{eval}`` expressions.

    >>> convert_markdown("All {glue:text}`ch_n` of them, {glue:text}`ch_p:.1%`.")
    'All {eval}`glued["ch_n"]` of them, {eval}`format(glued["ch_p"], ".1%")`.'
    """
    def new(m: re.Match) -> str:
        key, spec = m.group(1), m.group(2)
        if spec is None:
            return f'{{eval}}`{STORE}["{key}"]`'
        if '"' in spec:
            raise CannotConvert(f"{where}: format spec with a quote: {m.group(0)}")
        return f'{{eval}}`format({STORE}["{key}"], "{spec}")`'

    source = GLUE_TEXT.sub(new, source)
    if OTHER_GLUE.search(source):
        raise CannotConvert(f"{where}: a glue role other than {{glue:text}}`key`: "
                            f"{OTHER_GLUE.search(source).group(0)}...")
    return source


def convert(nb, titles: dict[str, str] | None = None, bib=None) -> bool:
    """Convert ``nb`` in place; True when anything changed. ``titles``: the chapters'
    titles, for ``{doc}`` links (default: the notebooks in ``notebooks/``); ``bib``:
    :func:`bibliography`."""
    if titles is None:
        titles = chapter_titles(Path(__file__).resolve().parents[2] / "notebooks")
    bib = bibliography() if bib is None else bib
    changed = False
    for i, cell in enumerate(nb.cells):
        where = f"cell {i}"
        new = (convert_code(cell.source, where) if cell.cell_type == "code"
               else convert_cite(convert_doc(convert_markdown(cell.source, where), titles, where), bib, where)
               if cell.cell_type == "markdown" else cell.source)
        if new != cell.source:
            cell.source, changed = new, True
    return changed


def main(args: list[str]) -> int:
    check = args[:1] == ["--check"]
    paths = [Path(a) for a in (args[1:] if check else args)]
    if not paths:
        print(__doc__)
        return 2
    status = 0
    titles, bib = chapter_titles(paths[0].parent), bibliography()
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        try:
            changed = convert(nb, titles, bib)
        except CannotConvert as exc:
            print(f"{path}: {exc}")
            status = 1
            continue
        for problem in forward_uses(nb):  # the book allows it; JupyterLab shows a KeyError
            print(f"{path}: {problem}: move the computation above the sentence")
            status = 1
        if changed and check:
            print(f"{path}: uses glue; convert it with python -m tests.tools.labify {path}")
            status = 1
        elif changed:
            nbformat.write(nb, path)
            print(f"{path}: converted (now run: python -m tests.tools.execute {path})")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
