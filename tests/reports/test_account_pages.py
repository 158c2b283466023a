"""Render check of the account documents on two books: the sample and a book the team never
looked at (``drawdown sample --seed 11 --accounts 2000``). For a large, a small, a not-live and a
pay-as-you-go account of each, the customer review and the prep sheet are executed and printed to
PDF, and what can be checked mechanically is: page counts (customer review at most 4 pages,
prep sheet 1), no "parquet" and no column, value or parameter name in the PDF text, and no chart
without a drawn mark."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import papermill as pm
import polars as pl
import pytest
from pydantic import BaseModel
from typer.testing import CliRunner

from drawdown.artifacts import SCHEMAS
from drawdown.cli import app
from drawdown.params import Params
from drawdown.reports import glossary, render

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        render.chromium_path() is None or shutil.which("pdftotext") is None,
        reason="needs Chromium and poppler (make system-deps)",
    ),
]

BOOKS = {"sample": [], "seed11": ["--seed", "11", "--accounts", "2000"]}
PAGES = {"account_review": 4, "account_prep": 1}
SHAPES = ("large", "small", "not_live", "paygo")


def _parameter_names(model: type[BaseModel]) -> set[str]:
    """Every field name of the params model and its sections, at any depth."""
    names = set()
    for name, field in model.model_fields.items():
        names.add(name)
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names |= _parameter_names(field.annotation)
    return names


CODE_NAMES = {
    name
    for name in (
        {column for schema in SCHEMAS.values() for column in schema}
        | {code for values in glossary.VALUES.values() for code in values}
        | _parameter_names(Params)
    )
    if "_" in name
}
"""Names a reader must never meet: artifact columns, coded values and parameter names."""
DRAWN = {"bar", "line mark", "area mark", "point", "symbol", "tick", "rect"}
"""Vega marks that draw data (an axis, a legend, a title or a rule alone is an empty chart)."""


def _pick(health: pl.DataFrame) -> dict[str, str]:
    """A large, a small (committed and live), a not-live and a pay-as-you-go account."""
    ranked = health.sort(["account_value", "account_id"], descending=[True, False])
    live = ranked.filter(pl.col("commit_amount") > 0, pl.col("band") != "not_live")
    return {
        "large": ranked["account_id"][0],
        "small": live["account_id"][-1],
        "not_live": ranked.filter(pl.col("band") == "not_live")["account_id"][0],
        "paygo": ranked.filter(pl.col("band") == "paygo")["account_id"][0],
    }


@pytest.fixture(scope="module", params=list(BOOKS))
def documents(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Per account shape and document: the executed notebook, the PDF and its text."""
    root = tmp_path_factory.mktemp(request.param)
    runner = CliRunner()
    book, run_dir = root / "book", root / "run"
    made = runner.invoke(app, ["sample", "--out", str(book), *BOOKS[request.param]])
    assert made.exit_code == 0, made.output
    ran = runner.invoke(
        app, ["run", "--data", str(book), "--out", str(run_dir), "--format", "none"]
    )
    assert ran.exit_code == 0, ran.output
    picked = _pick(pl.read_parquet(run_dir / "artifacts" / "account_health.parquet"))
    params = Params.model_validate({}).to_notebook()
    notebooks = []
    for shape, account_id in picked.items():
        for stem in PAGES:
            target = root / "notebooks" / f"{stem}_{shape}.ipynb"
            target.parent.mkdir(exist_ok=True)
            pm.execute_notebook(
                render.REPORTS_DIR / f"{stem}.ipynb",
                target,
                parameters={"run_dir": str(run_dir), "params": params, "account_id": account_id},
                kernel_name="drawdown",
                progress_bar=False,
            )
            notebooks.append(target)
    render.render_reports(notebooks, root / "out", ["pdf"])
    return {
        (shape, stem): {
            "notebook": root / "notebooks" / f"{stem}_{shape}.ipynb",
            "pages": _pages(root / "out" / f"{stem}_{shape}.pdf"),
            "text": subprocess.run(
                ["pdftotext", str(root / "out" / f"{stem}_{shape}.pdf"), "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        }
        for shape in picked
        for stem in PAGES
    }


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    return int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE).group(1))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("stem", list(PAGES))
def test_page_count_is_within_bounds(documents: dict, shape: str, stem: str) -> None:
    assert 1 <= documents[shape, stem]["pages"] <= PAGES[stem]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("stem", list(PAGES))
def test_the_pdf_never_names_a_file_format_a_column_or_a_parameter(
    documents: dict, shape: str, stem: str
) -> None:
    text = documents[shape, stem]["text"]
    assert "parquet" not in text.lower()
    words = set(re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", text))
    assert not words & set(CODE_NAMES)


@pytest.mark.parametrize("shape", SHAPES)
def test_every_chart_draws_its_data(documents: dict, shape: str) -> None:
    charts = _svg_outputs(documents[shape, "account_review"]["notebook"])
    for chart in charts:
        drawn = set(re.findall(r'aria-roledescription="([^"]+)"', chart)) & DRAWN
        assert drawn, "a chart with nothing drawn"


def test_the_prep_sheet_has_no_chart_and_states_the_next_action(documents: dict) -> None:
    for shape in SHAPES:
        assert _svg_outputs(documents[shape, "account_prep"]["notebook"]) == []
        assert "Next action:" in documents[shape, "account_prep"]["text"]


def _svg_outputs(notebook: Path) -> list[str]:
    import nbformat

    book = nbformat.read(notebook, as_version=4)
    return [
        output["data"]["image/svg+xml"]
        for cell in book.cells
        for output in cell.get("outputs", [])
        if "image/svg+xml" in output.get("data", {})
    ]
