"""Links between the tutorial's notebooks, re-pointed for an executed copy.

The sources link to each other as ``NN-name.md`` (jupytext files). An executed copy in ``runs/<time>/`` sits
beside the other executed copies, ``NN-name.ipynb``, and no ``.md``: its links are re-pointed to the sibling
``.ipynb`` (JupyterLab, nbviewer and the site all follow them). Only Markdown link targets that name one of the
given notebooks change; anything else (web links, other files) is left as it is.
"""

from __future__ import annotations

import re

# a Markdown inline link's target: ](NN-name.md) or ](NN-name.md#anchor), the form the tutorial uses
_TARGET = re.compile(r"\]\((\d\d-[A-Za-z0-9_-]+)\.md(#[^)\s]*)?\)")


def relink(source: str, names: set[str], suffix: str = ".ipynb") -> str:
    """``source`` with each link to ``NAME.md`` (NAME in ``names``) pointing to ``NAME`` + ``suffix``."""

    def swap(match: re.Match) -> str:
        name, anchor = match.group(1), match.group(2) or ""
        return f"]({name}{suffix}{anchor})" if name in names else match.group(0)

    return _TARGET.sub(swap, source)


def relink_notebook(nb, names: set[str], suffix: str = ".ipynb"):
    """Every Markdown cell of ``nb`` (an nbformat notebook) relinked in place; returns ``nb``."""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = relink(cell.source, names, suffix)
    return nb
