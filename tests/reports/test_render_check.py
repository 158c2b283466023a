"""The render check: on two books, run drawdown with its reports and assert what can be asserted
mechanically on the PDF text (``pdftotext``), the HTML and the CSM books.

Books: the sample (``drawdown sample``) and a larger one the reports were not tuned on
(``drawdown sample --seed 11 --accounts 2000``). The reports rendered are the executive review,
the usage clinic and the CSM books (no account review: ``--top 0``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from pydantic import BaseModel

from drawdown.artifacts import SCHEMAS
from drawdown.inputs.sample import write_sample
from drawdown.params import Params, load_params
from drawdown.reports import books
from drawdown.reports.inert import markdown_text
from drawdown.reports.render import chromium_path
from drawdown.run import pipeline
from drawdown.run.pipeline import RunRequest

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        chromium_path() is None or shutil.which("pdftotext") is None,
        reason="Chromium and poppler (pdftotext) are needed to render and read the PDFs",
    ),
]

BOOKS = {"sample": {}, "seed11": {"seed": 11, "accounts": 2000}}
PAGES = {"executive_review": (2, 10), "usage_clinic": (1, 6)}
"""The bounds of each PDF's page count."""


@pytest.fixture(scope="module", params=list(BOOKS))
def run_dir(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp(request.param)
    book = write_sample(root / "book", **BOOKS[request.param])
    params = load_params(
        overrides={"source": {"uri": str(book)}, "reset": {"start_date": "2026-10-05"}}
    )
    return pipeline.run(params, RunRequest(out=root / "runs" / "run", top=0)).run_dir


def _pdf_text(pdf: Path) -> list[str]:
    """The text of each page of ``pdf``."""
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return text.split("\f")[:-1] if text.endswith("\f") else text.split("\f")


def _names(model: type[BaseModel]) -> set[str]:
    found = set()
    for name, field in model.model_fields.items():
        found.add(name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            found |= _names(field.annotation)
    return found


TECHNICAL = sorted(
    name
    for name in _names(Params) | {column for schema in SCHEMAS.values() for column in schema}
    if "_" in name
)
"""Parameter and column names with an underscore: a report must use words instead."""


def _headings(html: str) -> list[str]:
    return [
        re.sub(r"<[^>]+>|¶", "", found).strip()
        for found in re.findall(r"<h2[^>]*>(.*?)</h2>", html)
    ]


@pytest.mark.parametrize("report", list(PAGES))
def test_page_count_within_bounds(run_dir: Path, report: str) -> None:
    pages = _pdf_text(run_dir / "reports" / f"{report}.pdf")
    low, high = PAGES[report]
    assert low <= len(pages) <= high


@pytest.mark.parametrize("report", list(PAGES))
def test_no_parquet_and_no_parameter_or_column_names(run_dir: Path, report: str) -> None:
    text = "\n".join(_pdf_text(run_dir / "reports" / f"{report}.pdf"))
    assert "parquet" not in text.lower()
    found = [name for name in TECHNICAL if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text)]
    assert found == []


@pytest.mark.parametrize("report", list(PAGES))
def test_no_empty_chart(run_dir: Path, report: str) -> None:
    html = (run_dir / "reports" / f"{report}.html").read_text(encoding="utf-8")
    charts = html.split('class="jp-RenderedSVG')[1:]
    for chart in charts:
        svg = chart[: chart.index("</svg>")]
        # a mark container (rect, line, area …) holding at least one drawn element
        marks = re.findall(
            r'class="mark-[a-z]+ role-mark[^"]*"[^>]*>\s*<(path|line|rect|text)', svg
        )
        assert marks, "a chart without a single mark"


@pytest.mark.parametrize("report", list(PAGES))
def test_no_heading_repeated_or_alone_at_a_page_foot(run_dir: Path, report: str) -> None:
    html = (run_dir / "reports" / f"{report}.html").read_text(encoding="utf-8")
    headings = _headings(html)
    titles = [
        re.sub(r"<[^>]+>", "", found).strip()
        for found in re.findall(r'class="gt_heading gt_title[^>]*>(.*?)</td>', html)
    ]
    assert len(set(headings)) == len(headings)
    assert not set(headings) & set(titles), "a table titled as its section"
    for page in _pdf_text(run_dir / "reports" / f"{report}.pdf")[:-1]:
        last = [line.strip() for line in page.splitlines() if line.strip()][-1]
        assert last not in headings, f"heading {last!r} alone at a page foot"


def test_every_account_is_in_its_csm_book(run_dir: Path) -> None:
    health = pl.read_parquet(run_dir / "artifacts" / "account_health.parquet")
    folder = run_dir / books.FOLDER
    listed = 0
    for csm, accounts in health.group_by("csm_owner"):
        page = (folder / books.book_filename(csm[0])).read_text(encoding="utf-8")
        table = page[page.index('<table class="book">') : page.index("</table>")]
        rows = re.findall(r"<tr><td>(.*?)</td>", table)
        assert sorted(rows) == sorted(markdown_text(name) for name in accounts["account_name"])
        listed += len(rows)
    assert listed == health.height
    assert "parquet" not in " ".join(
        path.read_text(encoding="utf-8").lower() for path in folder.iterdir()
    )


def test_reset_item_one_counts_the_books_written(run_dir: Path) -> None:
    tracker = pl.read_parquet(run_dir / "artifacts" / "reset_tracker.parquet")
    item = tracker.filter(pl.col("item_id") == "csm_books").row(0, named=True)
    assert (item["measured"], item["status"]) == (1.0, "done")


def test_no_claim_on_a_group_under_min_group(run_dir: Path) -> None:
    min_group = Params().report.min_group
    text = " ".join(" ".join(_pdf_text(run_dir / "reports" / "executive_review.pdf")).split())
    for claim in re.finditer(r"cohort \((\d+) live accounts?\) took", text):
        assert int(claim.group(1)) >= min_group
    summary = pl.read_parquet(run_dir / "artifacts" / "segment_summary.parquet")
    size: dict[Any, int] = dict(zip(summary["segment"], summary["accounts"], strict=True))
    for claim in re.finditer(r"(\S+) has the lowest gross retention", text):
        assert size[claim.group(1)] >= min_group
