"""Citations written as Markdown links, so that JupyterLab shows author and year too.

A chapter cites as ``[Saxe et al. (2014)](cite:t:saxe2014exact)`` (narrative) or
``[(Nair and Hinton, 2010; Glorot et al., 2011)](cite:p:nair2010rectified,glorot2011deep)``
(parenthetical). JupyterLab (jupyterlab-myst, which has no bibliography) shows the link's
text. The book turns each such link, while reading the page, into exactly what
``{cite:t}`saxe2014exact``` / ``{cite:p}`...``` give: sphinxcontrib-bibtex's citation,
styled by ``bibtex_reference_style``, linked to its entry on the references page and
counted as cited there. The link text is only for Lab: ``python -m tests.tools.labify``
writes it from ``book/references.bib``, and ``tests/test_citation_links.py`` checks that
every chapter's text still matches the bibliography.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

from docutils import nodes
from sphinx import addnodes
from sphinx.transforms import SphinxTransform

#: ``cite:t:KEY`` or ``cite:p:KEY1,KEY2``: the link targets this extension reads.
TARGET = re.compile(r"^cite:(t|p):([A-Za-z0-9_:.\-]+(?:,[A-Za-z0-9_:.\-]+)*)$")


def _target(node) -> str:
    if isinstance(node, addnodes.pending_xref):
        return node.get("reftarget", "")
    return node.get("refuri", "")


class CitationLinks(SphinxTransform):
    """Replace ``[text](cite:t:KEY)`` links by sphinxcontrib-bibtex citations."""

    default_priority = 5  # right after parsing, before references are collected

    def apply(self, **kwargs) -> None:
        from sphinxcontrib.bibtex.roles import CiteRole

        inliner = SimpleNamespace(document=self.document, reporter=self.document.reporter)
        for node in list(self.document.findall(lambda n: isinstance(n, (addnodes.pending_xref, nodes.reference)))):
            m = TARGET.match(_target(node))
            if not m:
                continue
            kind, keys = m.groups()
            lineno = node.line or 0
            new, messages = CiteRole()(f"cite:{kind}", f"{{cite:{kind}}}`{keys}`", keys, lineno,
                                       inliner, {}, [])
            node.replace_self(new + messages)


def setup(app):
    app.add_transform(CitationLinks)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
