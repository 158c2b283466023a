"""Real Quarto renders (drawdown.reports.render with quarto.py and typst.py): a run on the small book with one account review, HTML and Typst PDF.

Skipped, with the reason shown, where no Quarto is found (``QUARTO_PATH`` or ``quarto`` on PATH;
``make quarto`` says how to install one). CI assembles one (``.ci/run``). A broken Typst template,
a report that references the network, a chart that is not SVG, a table wider than the page or a
heading alone at a page's foot fails here.
"""

from __future__ import annotations

import html
import re
import shutil
import subprocess
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner

from drawdown.cli import app
from drawdown.reports import quarto, render

pytestmark = [pytest.mark.quarto, pytest.mark.slow]

EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//|url\(\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
)
A4_WIDTH_PT, MARGIN_X_PT = 595.28, 1.4 / 2.54 * 72
KINDS = ("executive_review", "usage_clinic", "account_review")
HEADING_PT = 12.0
"""The height of a section heading's words (13 pt type); body and table text are smaller."""


def _quarto() -> str:
    found = render.quarto_path()
    if found is None or shutil.which(found) is None:
        pytest.skip("no Quarto found: set QUARTO_PATH or put quarto on PATH (make quarto)")
    return found


@pytest.fixture(scope="module")
def quarto_run(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full run rendered by Quarto: the executive review, the clinic, one account review."""
    _quarto()
    out = tmp_path_factory.mktemp("quarto") / "run"
    args = ["run", "--data", str(small_book), "--out", str(out), "--top", "1"]
    result = CliRunner().invoke(app, [*args, "--format", "html,pdf"])
    assert result.exit_code == 0, result.output
    return out


def _report(run: Path, kind: str, suffix: str) -> Path:
    (found,) = sorted((run / "reports").glob(f"{kind}*.{suffix}"))
    return found


def _notebook(run: Path, kind: str) -> nbformat.NotebookNode:
    (found,) = sorted((run / "notebooks" / "reports").glob(f"{kind}*.ipynb"))
    return nbformat.read(found, as_version=4)


def _outputs(book: nbformat.NotebookNode, mime: str) -> list[str]:
    return [
        "".join(output["data"][mime])
        for cell in book.cells
        for output in cell.get("outputs", [])
        if mime in output.get("data", {})
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_html_references_nothing_online(quarto_run: Path, kind: str) -> None:
    page = _report(quarto_run, kind, "html").read_text(encoding="utf-8")
    assert "<html" in page and not EXTERNAL.search(page)


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_html_has_every_chart_as_svg_and_every_sparkline(quarto_run: Path, kind: str):
    page = _report(quarto_run, kind, "html").read_text(encoding="utf-8")
    book = _notebook(quarto_run, kind)
    charts = _outputs(book, "image/svg+xml")
    sparklines = sum(html.count("<svg") for html in _outputs(book, "text/html"))
    assert charts, "every report has at least one chart"
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg"') >= len(charts)
    assert page.count("<svg") == len(charts) + sparklines
    assert not re.search(r"<img\b", page)


def test_run_log_has_no_quarto_warning_about_a_fetch(quarto_run: Path) -> None:
    log = (quarto_run / "run.log").read_text(encoding="utf-8")
    fetches = [
        line for line in log.splitlines() if "quarto" in line and quarto.is_external_fetch(line)
    ]
    assert fetches == []


def _pdf_text(pdf: Path, *options: str) -> str:
    return subprocess.run(
        ["pdftotext", *options, str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout


@pytest.fixture(scope="module")
def poppler() -> None:
    if shutil.which("pdftotext") is None or shutil.which("pdffonts") is None:
        pytest.skip("no poppler-utils (pdftotext, pdffonts): make system-deps")


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_pdf_is_a_pdf_with_the_title_in_a_sans_font(
    quarto_run: Path, poppler: None, kind: str
) -> None:
    pdf = _report(quarto_run, kind, "pdf")
    assert pdf.read_bytes().startswith(b"%PDF-")
    title = {"executive_review": "executive review", "usage_clinic": "usage clinic"}
    assert title.get(kind, "account value review") in _pdf_text(pdf).casefold()
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout
    assert "LiberationSans" in fonts
    assert "Libertine" not in fonts, "Typst fell back to its default serif font"


def _words(pdf: Path) -> list[tuple[int, float, float, float, float, str]]:
    """Every word of the PDF: page, xMin, yMin, xMax, yMax, text (pdftotext -bbox)."""
    words, page = [], 0
    for line in _pdf_text(pdf, "-bbox").splitlines():
        if "<page " in line:
            page += 1
        elif match := re.search(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>', line
        ):
            x0, y0, x1, y1 = map(float, match.groups()[:4])
            # Typst's hyphens read back as soft hyphens
            words.append((page, x0, y0, x1, y1, match.group(5).replace("\u00ad", "-")))
    return words


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_pdf_tables_fit_the_page(quarto_run: Path, poppler: None, kind: str) -> None:
    words = _words(_report(quarto_run, kind, "pdf"))
    right = A4_WIDTH_PT - MARGIN_X_PT + 2
    assert words and [word for word in words if word[3] > right or word[1] < MARGIN_X_PT - 2] == []


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_pdf_has_the_sparklines(quarto_run: Path, kind: str) -> None:
    """Each nanoplot and chart is an SVG that Typst draws as a form XObject; identical ones
    (the same account in two lists) are drawn once."""
    book = _notebook(quarto_run, kind)
    sparklines = {
        svg for html in _outputs(book, "text/html") for svg in re.findall(r"<svg.*?</svg>", html)
    }
    charts = set(_outputs(book, "image/svg+xml"))
    pdf = _report(quarto_run, kind, "pdf").read_bytes()
    forms = len(re.findall(rb"/Subtype\s*/Form", pdf))
    assert forms >= len(sparklines) + len(charts)


def _headings(book: nbformat.NotebookNode) -> list[str]:
    return [
        line.lstrip("#").strip()
        for text in _outputs(book, "text/markdown")
        for line in text.splitlines()
        if line.startswith("## ")
    ]


@pytest.mark.parametrize("kind", KINDS)
def test_quarto_pdf_has_no_heading_alone_at_a_page_foot(
    quarto_run: Path, poppler: None, kind: str
) -> None:
    """Below each section heading (found by its words, in the heading's larger type) on its
    page: another line of text, besides the page number. (Charts are drawn, not text.)"""
    words = _words(_report(quarto_run, kind, "pdf"))
    texts = [word[5] for word in words]
    headings = _headings(_notebook(quarto_run, kind))
    assert headings
    for heading in headings:
        wanted = html.escape(html.unescape(heading), quote=False).split()
        starts = [
            index
            for index in range(len(texts) - len(wanted) + 1)
            if texts[index : index + len(wanted)] == wanted
            and words[index][4] - words[index][2] >= HEADING_PT
        ]
        assert starts, f"{kind}: heading {heading!r} not found"
        for index in starts:
            page, bottom = words[index][0], words[index][4]
            below = {
                round(word[2])
                for word in words
                if word[0] == page and word[2] > bottom and not word[5].isdigit()
            }
            assert below, f"{kind}: heading {heading!r} ends page {page}"


def test_an_external_reference_shows_as_a_fetch_warning(tmp_path: Path) -> None:
    """The warning the run log checks for: Quarto (pandoc) cannot embed a network resource."""
    _quarto()
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_raw_cell('---\npagetitle: "Fetch"\n---'),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "display_data",
                    data={"text/markdown": "![](https://drawdown.invalid/logo.png)"},
                )
            ],
        ),
    ]
    notebook = tmp_path / "fetch.ipynb"
    nbformat.write(book, notebook)
    _, found = render.render_with_quarto([notebook], tmp_path / "work", ["html"])
    assert [line for _, line in found if quarto.is_external_fetch(line)]


def test_a_broken_typst_template_fails_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _quarto()
    reports = tmp_path / "reports"
    shutil.copytree(render.REPORTS_DIR, reports)
    template = reports / "typst-template.typ"
    template.write_text(template.read_text() + "\n#let broken(x) = {\n", encoding="utf-8")
    monkeypatch.setattr(render, "REPORTS_DIR", reports)
    book = nbformat.v4.new_notebook()
    book.cells = [nbformat.v4.new_code_cell("x", outputs=[])]
    notebook = tmp_path / "tiny.ipynb"
    nbformat.write(book, notebook)
    with pytest.raises(render.StepFailed, match="tiny"):
        render.render_with_quarto([notebook], tmp_path / "work", ["pdf"])
