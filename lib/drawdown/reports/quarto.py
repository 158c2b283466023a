"""What drawdown hands to Quarto, and what it reads back from it.

``for_quarto`` turns an executed report notebook into the copy Quarto renders. Every output becomes
Markdown, so that Quarto neither injects its widget scripts (require.js and jQuery from a CDN,
added to any page whose notebook has a ``text/html`` output) nor drops what Typst cannot take:

- a ``text/html`` output (a great_tables table) becomes a raw HTML block for the HTML page and,
  for a table, a raw Typst block drawn by ``drawdown.reports.typst.gt_table`` for the PDF;
- an ``image/svg+xml`` output (a chart) becomes an inline ``<svg>`` for the page (as the
  nbconvert page has it) and a Typst image block of its printed size;
- a Markdown output that holds a heading asks Typst for the room of the heading and what follows
  it (``#needspace``, from the Typst template), so that no heading ends a page alone;
- logs (``stream`` outputs) and cell metadata are left out.

``warnings`` picks Quarto's (and pandoc's) warnings out of its stderr, by report;
``is_external_fetch`` tells the ones that mean a resource was to be fetched from the network.
"""

from __future__ import annotations

import copy
import itertools
import math
import re

import nbformat

from drawdown.reports import typst

TABLE_ROOM_PT = 70.0
"""Room asked below a heading followed by a table: its title, column labels and two rows."""
TEXT_ROOM_PT = 45.0
"""Room asked below a heading followed by text: three lines."""
MAX_ROOM_PT = 720.0
"""At most the page's text height (A4 less the margins: about 750 pt)."""
CHARS_PER_LINE = 105
"""Characters of 10 pt body text on one line of the A4 text width."""
_HEADING = re.compile(r"^#{1,6}\s", re.MULTILINE)
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_PROGRESS = re.compile(r"^\[\s*\d+/\d+\]\s+(\S+?)(?:\.ipynb)?\s*$")
_WARNING = re.compile(r"\[WARNING\]|^WARN(?:ING)?\b|^\s*WARN(?:ING)?:", re.IGNORECASE)
_FETCH = re.compile(r"could not fetch|fetch(?:ing)? resource|https?://", re.IGNORECASE)


def for_quarto(
    book: nbformat.NotebookNode, brand_color: str | None = None
) -> nbformat.NotebookNode:
    """A copy of the executed notebook ``book`` whose outputs are all Markdown (module docstring),
    headings and rules in ``brand_color`` (``#rrggbb``; the template's blue when None)."""
    made = copy.deepcopy(book)
    if brand_color and re.fullmatch(r"#[0-9a-fA-F]{6}", brand_color):
        brand = raw_block("html", f"<style>:root {{ --brand: {brand_color}; }}</style>")
        brand += raw_block("typst", f'#drawdown-brand.update(rgb("{brand_color}"))')
        first = next((i for i, cell in enumerate(made.cells) if cell.cell_type == "code"), 0)
        made.cells.insert(first, nbformat.v4.new_code_cell("", outputs=[_markdown_output(brand)]))
    outputs = [
        output
        for cell in made.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("output_type") in ("display_data", "execute_result")
    ]
    following = {id(output): after for output, after in itertools.pairwise(outputs)}
    for cell in made.cells:
        cell.metadata = {}
        if cell.cell_type != "code":
            continue
        cell.outputs = [
            _markdown_output(_as_markdown(output, following.get(id(output))))
            for output in cell.get("outputs", [])
            if output.get("output_type") in ("display_data", "execute_result")
        ]
    return made


def _as_markdown(output: nbformat.NotebookNode, after: nbformat.NotebookNode | None) -> str:
    data = output.get("data", {})
    if "text/html" in data:
        html = _text(data["text/html"])
        table = typst.gt_table(html) if typst.is_gt_table(html) else ""
        return raw_block("html", html) + (raw_block("typst", table) if table else "")
    if "image/svg+xml" in data:
        svg = _text(data["image/svg+xml"])
        return raw_block("html", f'<div class="drawdown-chart">\n{svg}\n</div>') + raw_block(
            "typst", typst.svg_chart(svg)
        )
    if "text/markdown" in data:
        text = _text(data["text/markdown"])
        if not _HEADING.search(text):
            return text
        room = min(MAX_ROOM_PT, _text_height_pt(text) + _room_after(after))
        return raw_block("typst", f"#needspace({room:.0f}pt)") + text
    return _text(data.get("text/plain", ""))


def _room_after(output: nbformat.NotebookNode | None) -> float:
    """The height to keep with a heading: the chart that follows, or a table's first rows, or
    three lines of text."""
    data = output.get("data", {}) if output is not None else {}
    if "image/svg+xml" in data:
        return typst.svg_height_pt(_text(data["image/svg+xml"])) + 20
    if "text/html" in data:
        return TABLE_ROOM_PT
    return TEXT_ROOM_PT


def _text_height_pt(markdown: str) -> float:
    """About how high ``markdown`` prints: a heading 30 pt, a paragraph its lines at 14.5 pt."""
    height = 0.0
    for block in re.split(r"\n\s*\n", markdown.strip()):
        if _HEADING.match(block):
            height += 30
        else:
            height += 14.5 * max(1, math.ceil(len(block) / CHARS_PER_LINE)) + 6
    return height


def raw_block(fmt: str, content: str) -> str:
    """``content`` as a pandoc raw block for ``fmt``, fenced by more backticks than it holds."""
    longest = max((len(run) for run in re.findall(r"`+", content)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{{={fmt}}}\n{content}\n{fence}\n\n"


def _markdown_output(text: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_output("display_data", data={"text/markdown": text})


def _text(value: str | list[str]) -> str:
    return "".join(value) if isinstance(value, list) else value


def warnings(stderr: str, reports: list[str]) -> list[tuple[str, str]]:
    """Quarto's and pandoc's warnings in ``stderr``, each with the report it was rendering
    (from Quarto's ``[n/m] <file>`` progress lines; the first of ``reports`` before any)."""
    found: list[tuple[str, str]] = []
    current = reports[0] if reports else ""
    for line in _ANSI.sub("", stderr).splitlines():
        if progress := _PROGRESS.match(line.strip()):
            current = progress.group(1)
        elif _WARNING.search(line):
            found.append((current, line.strip()))
    return found


def current_report(stderr: str, reports: list[str]) -> str:
    """The report Quarto was rendering when ``stderr`` ended (its last ``[n/m] <file>`` line)."""
    current = reports[0] if len(reports) == 1 else ", ".join(reports)
    for line in _ANSI.sub("", stderr).splitlines():
        if progress := _PROGRESS.match(line.strip()):
            current = progress.group(1)
    return current


def is_external_fetch(warning: str) -> bool:
    """Whether a warning means that a resource was to come from the network."""
    return bool(_FETCH.search(warning))
