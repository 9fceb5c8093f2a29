"""Numbers in the prose, the same in the book and in JupyterLab: MyST's ``{eval}`` role.

A chapter keeps the numbers its prose shows in one dict, in plain sight::

    glued = {}                                  # first code cell
    glued["ch02_miss"] = f"{miss:.0%}"          # where the number is computed

and its markdown shows them with ``{eval}`glued["ch02_miss"]```. Two readers resolve it:

- **JupyterLab** (jupyterlab-myst) sends each markdown cell's expressions to the kernel
  as ``user_expressions`` when the cell is run, and stores the replies in the cell's
  ``user_expressions`` metadata, from which it renders them when the notebook is opened.
  ``python -m tests.tools.execute`` stores them the same way (:func:`evaluate_cell`), so
  a chapter opened in Lab shows every number before the learner runs anything, and the
  learner's own run replaces them.
- **The book** (this module as a Sphinx extension, ``local_extensions`` in
  ``_config.yml``) keeps myst-nb's ``cache`` execution mode. Its executions (myst-nb's,
  and ``tests.tools.prewarm``'s) run the notebook with one extra code cell at the end,
  :func:`with_eval_cell`, that asks IPython for every expression's value the way the
  kernel answers Lab; the cache stores that cell's output with the others, and the
  ``{eval}`` role reads the value from it. The book thus shows the numbers of its own
  run, and a rebuild with nothing changed executes nothing. The extra cell is part of
  the cache key, so adding an ``{eval}`` to a chapter's prose re-executes that chapter.

The build compares the stored values (what Lab shows) with its own, through the same
sanitizer as nbval (``EVAL_SANITIZE``, set by the Makefile: every digit on the pinned
run, the digits after ≈ masked elsewhere), and warns on any difference; the strict
build (``-W``) fails on it. nbval does not look at markdown metadata; this does.
"""

from __future__ import annotations

import configparser
import json
import os
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
#: ``{eval}`expression``` in markdown, as jupyterlab-myst and myst-nb read it.
EVAL_ROLE = re.compile(r"\{eval\}`([^`]+)`")
EVAL_CELL_MARK = "# relu-lab: the values of the prose's {eval} expressions (not stored)"
MIME = "application/vnd.relu-lab.eval+json"


def expressions(source: str) -> list[str]:
    """The ``{eval}`` expressions of a markdown source, in order, without repeats.

    >>> expressions('{eval}`glued["a"]` and {eval}`format(glued["b"], ".2f")`, {eval}`glued["a"]`')
    ['glued["a"]', 'format(glued["b"], ".2f")']
    """
    return list(dict.fromkeys(m.group(1) for m in EVAL_ROLE.finditer(source)))


def notebook_expressions(nb) -> list[str]:
    """Every ``{eval}`` expression of a notebook's markdown cells, in order, without repeats."""
    found: list[str] = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found += expressions(cell.source)
    return list(dict.fromkeys(found))


#: ``glued[KEY] = ...`` in a code cell; KEY a string literal or an f-string.
_ASSIGN = re.compile(r"""\bglued\[(f?)(["'])(.*?)\2\]\s*=(?!=)""")
#: ``glued["KEY"]`` inside an ``{eval}`` expression.
_KEY = re.compile(r"""\bglued\[(["'])(.*?)\1\]""")


def _key_pattern(is_f: str, key: str) -> re.Pattern:
    """The keys an assignment can set: the key itself, or for an f-string any text in
    place of each ``{...}`` field."""
    if not is_f:
        return re.compile(re.escape(key) + r"\Z")
    parts = re.split(r"\{[^{}]*\}", key)
    return re.compile(".+?".join(re.escape(p) for p in parts) + r"\Z")


def assigned(source: str) -> list[re.Pattern]:
    """The keys a code cell stores in ``glued``, as patterns.

    >>> [p.pattern for p in assigned('glued["ch_a"] = 1\\nfor k in ks:\\n    glued[f"ch_b_{k}"] = k')]
    ['ch_a\\\\Z', 'ch_b_.+?\\\\Z']
    """
    return [_key_pattern(m.group(1), m.group(3)) for m in _ASSIGN.finditer(source)]


def keys(expression: str) -> list[str]:
    """The ``glued`` keys an ``{eval}`` expression reads.

    >>> keys('format(glued["ch_p"], ".1%")')
    ['ch_p']
    """
    return [m.group(2) for m in _KEY.finditer(expression)]


def forward_uses(nb) -> list[str]:
    """``{eval}`` expressions that read a key no code cell above has stored yet.

    The book evaluates them after the whole chapter has run, but JupyterLab evaluates a
    markdown cell when it is run, in order: there such a number is a ``KeyError``. Move
    the computation above the sentence, or the sentence below it."""
    known: list[re.Pattern] = []
    found = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            known += assigned(cell.source)
        elif cell.cell_type == "markdown":
            for expr in expressions(cell.source):
                for key in keys(expr):
                    if not any(p.match(key) for p in known):
                        found.append(f"cell {i}: {{eval}}`{expr}` reads {key!r} before a code cell stores it")
    return found


def timing_keys(nb) -> list[re.Pattern]:
    """Keys stored by cells marked ``# NBVAL_IGNORE_OUTPUT`` (timings): nbval does not
    compare those cells' outputs, and the numbers they store differ from run to run."""
    found: list[re.Pattern] = []
    for cell in nb.cells:
        if cell.cell_type == "code" and "NBVAL_IGNORE_OUTPUT" in cell.source:
            found += assigned(cell.source)
    return found


def with_eval_cell(nb):
    """A copy of ``nb`` with one code cell appended that evaluates every ``{eval}``
    expression as the kernel answers JupyterLab (IPython's ``user_expressions``) and
    displays the replies as JSON. Unchanged (a copy) when the prose has no ``{eval}``."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    exprs = notebook_expressions(nb)
    if exprs:
        request = json.dumps({str(i): e for i, e in enumerate(exprs)})
        cell = nbformat.v4.new_code_cell(
            f"{EVAL_CELL_MARK}\n__import__('IPython').display.display("
            f"{{{MIME!r}: get_ipython().user_expressions({request})}}, raw=True)")
        cell.id = "relu-lab-eval-values"
        nb.cells.append(cell)
    return nb


def split_eval_cell(nb) -> tuple[object, dict[str, dict]]:
    """Undo :func:`with_eval_cell` on an executed notebook: ``(nb without the cell,
    {expression: IPython's reply})``; no cell, no values."""
    if not nb.cells or not nb.cells[-1].source.startswith(EVAL_CELL_MARK):
        return nb, {}
    cell = nb.cells.pop()
    exprs = notebook_expressions(nb)
    for output in cell.get("outputs", []):
        replies = output.get("data", {}).get(MIME)
        if replies is not None:
            return nb, {exprs[int(k)]: v for k, v in replies.items()}
    return nb, {}


def as_output(reply: dict) -> dict:
    """IPython's reply for one expression as a notebook output (what myst-nb renders)."""
    if reply.get("status") == "ok":
        return nbformat.v4.new_output("display_data", data=reply.get("data", {}),
                                      metadata=reply.get("metadata", {}))
    return nbformat.v4.new_output("error", ename=reply.get("ename", ""),
                                  evalue=reply.get("evalue", ""), traceback=[])


# --- storing the values in the notebook, as jupyterlab-myst does -------------------------

def lab_request(cell) -> dict | None:
    """The execute request jupyterlab-myst sends when markdown ``cell`` is run: empty
    code, the cell's expressions as ``user_expressions`` keyed "0", "1", ...; None when
    the cell has no ``{eval}``."""
    exprs = expressions(cell.source)
    if not exprs:
        return None
    return {"code": "", "silent": False, "store_history": True,
            "user_expressions": {str(i): e for i, e in enumerate(exprs)}}


def store_reply(cell, request: dict | None, content: dict | None) -> None:
    """Store the kernel's reply in ``cell.metadata.user_expressions`` as jupyterlab-myst
    does (``[{expression, result}]`` in the request's order); no request, no key."""
    if request is None:
        cell.metadata.pop("user_expressions", None)
        return
    if content.get("status") != "ok":
        raise RuntimeError(f"the kernel refused {request['user_expressions']}: {content}")
    cell.metadata["user_expressions"] = [
        {"expression": e, "result": content["user_expressions"][k]}
        for k, e in request["user_expressions"].items()]


def lab_client_class():
    """An nbclient ``NotebookClient`` that also runs markdown cells as JupyterLab with
    jupyterlab-myst does (Run All): each ``{eval}`` cell's expressions are evaluated in
    place, in the kernel, after the code above it, and stored in its metadata."""
    from nbclient import NotebookClient

    class LabNotebookClient(NotebookClient):
        async def async_execute_cell(self, cell, cell_index, execution_count=None,
                                     store_history=True):
            if cell.cell_type != "markdown":
                return await super().async_execute_cell(cell, cell_index, execution_count,
                                                        store_history)
            request = lab_request(cell)
            content = None
            if request is not None:
                msg_id = self.kc.execute(**request)
                content = (await self.async_wait_for_reply(msg_id, cell))["content"]
            store_reply(cell, request, content)
            return cell

    return LabNotebookClient


def stored_values(nb) -> dict[str, dict]:
    """``{expression: stored result}`` over every markdown cell's ``user_expressions``."""
    values: dict[str, dict] = {}
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for item in cell.metadata.get("user_expressions", []):
                values.setdefault(item["expression"], item["result"])
    return values


def shown_text(result: dict | None) -> str | None:
    """The text both readers show for a result: its ``text/plain``, quotes stripped
    (jupyterlab-myst and myst-nb both strip a string's quotes); an error as ``ename``."""
    if not result:
        return None
    if result.get("status", "ok") != "ok":
        return f"<{result.get('ename', 'error')}>"
    text = result.get("data", {}).get("text/plain")
    return None if text is None else re.sub(r"""^(["'])(.*)\1$""", r"\2", text, flags=re.S)


def sanitizer(files: list[Path] | None = None):
    """A function that applies nbval's sanitize files (``[section] regex: replace:``)."""
    if files is None:
        env = os.environ.get("EVAL_SANITIZE")
        files = ([Path(f) for f in env.split(os.pathsep) if f] if env else
                 [ROOT / "tests" / "nbval_sanitize.cfg", ROOT / "tests" / "nbval_sanitize_unpinned.cfg"])
    rules = []
    for f in files:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(f, encoding="utf-8")
        for section in parser.sections():
            rules.append((re.compile(parser[section]["regex"]), parser[section]["replace"]))

    def apply(text: str | None) -> str | None:
        for rx, rep in rules:
            text = text if text is None else rx.sub(rep, text)
        return text
    return apply


def disagreements(nb, fresh: dict[str, dict], clean=None, clean_timing=None) -> list[str]:
    """Expressions whose stored value (what Lab shows) is missing, an error, or differs
    from ``fresh``. A number stored by a timing cell (``# NBVAL_IGNORE_OUTPUT``, which
    nbval does not compare) is compared with the digits after its ≈ masked, as on an
    unpinned run: its form is checked, not the machine's speed at that moment."""
    clean = clean or sanitizer()
    clean_timing = clean_timing or sanitizer(
        [ROOT / "tests" / "nbval_sanitize.cfg", ROOT / "tests" / "nbval_sanitize_unpinned.cfg"])
    timing = timing_keys(nb)
    stored = stored_values(nb)
    problems = []
    for expr in notebook_expressions(nb):
        old, new = shown_text(stored.get(expr)), shown_text(fresh.get(expr))
        how = clean_timing if any(p.match(k) for k in keys(expr) for p in timing) else clean
        if old is None:
            problems.append(f"{expr}: no stored value (Lab shows the bare expression)")
        elif old.startswith("<") and stored[expr].get("status", "ok") != "ok":
            problems.append(f"{expr}: stored {old} (in JupyterLab it is evaluated before the code "
                            "that computes it: move the computation above the sentence)")
        elif how(old) != how(new):
            problems.append(f"{expr}: stored {old!r}, this run {new!r}")
    return problems


# --- the Sphinx extension -----------------------------------------------------------------

def _cache_client_class():
    from myst_nb.core.execute.cache import NotebookClientCache

    class EvalCacheClient(NotebookClientCache):
        """myst-nb's cache client, run with :func:`with_eval_cell`; answers ``{eval}``
        from that cell's output and checks the stored values against it."""

        def start_client(self):
            source = self._notebook
            self._notebook = with_eval_cell(source)
            super().start_client()
            self._notebook, self._eval_values = split_eval_cell(self._notebook)
            if self._eval_values:
                for problem in disagreements(source, self._eval_values):
                    self.logger.warning(
                        f"{{eval}} value for JupyterLab out of date: {problem} "
                        f"(store fresh values: python -m tests.tools.execute {self.path})",
                        subtype="eval")

        def eval_variable(self, name: str):
            values = getattr(self, "_eval_values", {})
            if name not in values:
                raise KeyError(f"{name!r} was not evaluated (not an {{eval}} of this notebook)")
            return [as_output(values[name])]

    return EvalCacheClient


def _install(app, config) -> None:
    if config.nb_execution_mode != "cache":
        return
    import myst_nb.sphinx_ as sphinx_mod
    original = sphinx_mod.create_client
    if getattr(original, "_relu_lab_eval", False):
        return
    client_class = _cache_client_class()

    def create_client(notebook, source, nb_config, logger, read_fmt=None):
        if nb_config.execution_mode == "cache" and notebook_expressions(notebook):
            path = Path(source) if Path(source).is_file() else None
            return client_class(notebook, path, nb_config, logger, read_fmt=read_fmt)
        return original(notebook, source, nb_config, logger, read_fmt)

    create_client._relu_lab_eval = True
    sphinx_mod.create_client = create_client


def setup(app):
    app.connect("config-inited", _install)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
