"""Notebooks read and written without nbformat's schema check (drawdown.notebook_files) are the
same notebooks, and the same bytes, as nbformat's own."""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from drawdown.notebook_files import read_notebook, write_notebook


def _executed() -> nbformat.NotebookNode:
    """A small executed notebook: a parameters cell, a display with HTML and SVG over several
    lines, a stream, text outside ASCII."""
    return new_notebook(
        cells=[
            new_markdown_cell("# Überblick — €"),
            new_code_cell('account_id = "A00001"', metadata={"tags": ["parameters"]}),
            new_code_cell(
                "show()",
                execution_count=2,
                outputs=[
                    new_output(
                        "display_data",
                        data={
                            "text/html": "<table>\n<tr><td>1</td></tr>\n</table>",
                            "image/svg+xml": "<svg>\n</svg>",
                        },
                    ),
                    new_output("stream", name="stdout", text="line 1\nline 2\n"),
                ],
            ),
        ],
        metadata={
            "kernelspec": {"name": "drawdown", "display_name": "drawdown", "language": "python"}
        },
    )


def test_write_notebook_writes_the_bytes_nbformat_writes(tmp_path: Path) -> None:
    book, ours, theirs = _executed(), tmp_path / "ours.ipynb", tmp_path / "theirs.ipynb"
    write_notebook(book, ours)
    nbformat.write(book, theirs)
    assert ours.read_bytes() == theirs.read_bytes()


def test_read_notebook_reads_what_nbformat_reads(tmp_path: Path) -> None:
    path = tmp_path / "book.ipynb"
    nbformat.write(_executed(), path)
    assert read_notebook(path) == nbformat.read(path, as_version=4)


def test_an_older_notebook_is_read_as_version_4(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    old = nbformat.v3.new_notebook(
        worksheets=[nbformat.v3.new_worksheet(cells=[nbformat.v3.new_code_cell("1 + 1")])]
    )
    path.write_text(nbformat.versions[3].writes_json(old), encoding="utf8")
    book = read_notebook(path)
    assert (book.nbformat, [cell.source for cell in book.cells]) == (4, ["1 + 1"])
