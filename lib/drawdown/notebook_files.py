"""Reading and writing the notebooks a run executes, without nbformat's whole-notebook check.

``nbformat.read`` and ``nbformat.write`` check the whole notebook against its JSON schema every
time, and only log what they find. drawdown reads here only notebooks it wrote, and writes only
notebooks executed by nbclient, which builds each output through nbformat (checked as it
arrives) — so the checks never found anything, and at 100 account reviews they held the run's
interpreter lock for about 3 s, which the kernels' clients wait for. The files are byte for
byte those of ``nbformat.write``.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat import reader

VERSION = 4
"""The notebook format version drawdown's notebooks are in and are written in."""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook at ``path``, as nbformat 4 (converted if older)."""
    return nbformat.convert(reader.reads(Path(path).read_text(encoding="utf8")), VERSION)


def write_notebook(notebook: nbformat.NotebookNode, path: Path) -> None:
    """Write ``notebook`` (nbformat 4) to ``path`` as ``nbformat.write`` does."""
    text = nbformat.versions[VERSION].writes_json(notebook)
    Path(path).write_text(text if text.endswith("\n") else text + "\n", encoding="utf8")
