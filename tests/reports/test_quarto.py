"""quarto.py: the Markdown-only copy Quarto renders, and Quarto's warnings read back."""

from __future__ import annotations

import nbformat

from drawdown.reports import quarto

GT = (
    '<div id="x"><style>#x .gt_col_headings { border-bottom-color: #1f4e79; }</style>'
    '<table class="gt_table"><thead><tr class="gt_col_headings">'
    '<th class="gt_col_heading gt_left">Account</th></tr></thead>'
    '<tbody class="gt_table_body"><tr><td class="gt_row gt_left">Acme</td></tr></tbody>'
    "</table></div>"
)
SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="200"><rect/></svg>'


def _book(*outputs: dict[str, str]) -> nbformat.NotebookNode:
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_raw_cell('---\npagetitle: "T"\n---'),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                *(nbformat.v4.new_output("display_data", data=data) for data in outputs),
                nbformat.v4.new_output("stream", name="stderr", text="a log line"),
            ],
            metadata={"papermill": {"duration": 1}},
        ),
    ]
    return book


def _markdown(book: nbformat.NotebookNode) -> list[str]:
    return [
        output["data"]["text/markdown"]
        for cell in book.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    ]


def test_every_output_becomes_markdown_and_logs_and_metadata_are_dropped() -> None:
    made = quarto.for_quarto(_book({"text/html": GT, "text/plain": "GT"}, {"image/svg+xml": SVG}))
    outputs = [output for cell in made.cells[1:] for output in cell.outputs]
    assert [list(output["data"]) for output in outputs] == [["text/markdown"]] * 2
    assert all(cell.metadata == {} for cell in made.cells)
    assert "a log line" not in str(made)


def test_a_table_is_raw_html_for_the_page_and_raw_typst_for_the_pdf() -> None:
    (table,) = _markdown(quarto.for_quarto(_book({"text/html": GT})))
    assert table.startswith("```{=html}\n" + GT)
    assert "```{=typst}\n#block" in table and "#table(" in table and '#"Acme"' in table


def test_a_chart_is_inline_svg_and_a_typst_image_of_its_printed_size() -> None:
    (chart,) = _markdown(quarto.for_quarto(_book({"image/svg+xml": SVG})))
    assert '<div class="drawdown-chart">\n' + SVG in chart
    assert 'image.decode("<svg xmlns=\\"http://www.w3.org/2000/svg\\"' in chart
    assert "width: 450.0pt" in chart  # 600 px at 0.75 pt


def test_a_heading_asks_for_room_for_itself_and_the_chart_below() -> None:
    heading, _ = _markdown(
        quarto.for_quarto(_book({"text/markdown": "## Usage"}, {"image/svg+xml": SVG}))
    )
    # 30 pt for the heading, 200 px * 0.75 = 150 pt for the chart, 20 pt around it
    assert heading.startswith("```{=typst}\n#needspace(200pt)\n```") and "## Usage" in heading


def test_text_without_a_heading_stays_as_it_is() -> None:
    assert _markdown(quarto.for_quarto(_book({"text/markdown": "Just *text*."}))) == [
        "Just *text*."
    ]


def test_the_brand_colour_goes_to_the_page_and_the_pdf() -> None:
    made = quarto.for_quarto(_book({"text/markdown": "x"}), "#aa0000")
    first = _markdown(made)[0]
    assert "--brand: #aa0000" in first and '#drawdown-brand.update(rgb("#aa0000"))' in first
    assert "--brand" not in str(quarto.for_quarto(_book({"text/markdown": "x"}), "red;}"))


def test_a_raw_block_fence_is_longer_than_any_backtick_run_inside() -> None:
    assert quarto.raw_block("html", "a ```` b").startswith("`````{=html}\n")


STDERR = """\x1b[1m[1/2] executive_review.ipynb\x1b[22m
pandoc
  to: html
[WARNING] Could not fetch resource https://example.invalid/a.png: HttpExceptionRequest
    host = "example.invalid"
[2/2] usage_clinic.ipynb
WARNING (/x/filters/main.lua) Unable to resolve crossref @fig-x
WARN: something else
Output created: usage_clinic.html
"""


def test_warnings_are_read_with_the_report_they_belong_to() -> None:
    found = quarto.warnings(STDERR, ["executive_review", "usage_clinic"])
    assert [report for report, _ in found] == ["executive_review", "usage_clinic", "usage_clinic"]
    assert [quarto.is_external_fetch(line) for _, line in found] == [True, False, False]


def test_the_failing_report_is_the_last_one_quarto_started() -> None:
    assert quarto.current_report(STDERR, ["a", "b"]) == "usage_clinic"
    assert quarto.current_report("ERROR: boom", ["only"]) == "only"
