"""Re-runs: unchanged inputs and metric parameters reuse the metrics; a report whose own
parameters are unchanged is reused as well, and only the changed reports execute again. A run
with nothing to execute starts no kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from drawdown.cli import app

pytestmark = pytest.mark.slow
runner = CliRunner()
REUSED = re.compile(r"step (\S+) reused from the cache")


def _run(book: Path, out: Path, *extra: str) -> tuple[set[str], bool]:
    """Run into ``out``: the names of the steps it reused, and whether it started a kernel."""
    result = runner.invoke(
        app, ["run", "--data", str(book), "--out", str(out), "--format", "html", *extra]
    )
    assert result.exit_code == 0, result.output
    log = (out / "run.log").read_text(encoding="utf-8")
    return set(REUSED.findall(log)), "kernel started" in log


def test_a_rerun_reuses_what_did_not_change(small_book: Path, tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    assert _run(small_book, runs / "cold", "--top", "1") == (set(), True)

    same, started = _run(small_book, runs / "same", "--top", "1")
    reviews = {name for name in same if name.startswith("account_review:")}
    assert len(reviews) == 1 and {"executive_review", "usage_clinic"} <= same and not started
    for page in ("executive_review.html", "usage_clinic.html"):
        assert (runs / "same" / "reports" / page).read_bytes() == (
            runs / "cold" / "reports" / page
        ).read_bytes()

    assert _run(small_book, runs / "one_more", "--top", "2") == (same, True)

    # a brand change renders every report again from its executed notebook: no kernel starts
    rebranded = ("--set", "report.brand.vendor_name=Zed Cloud")
    rebranded += ("--set", "report.brand.primary_color='#a0522d'")
    assert _run(small_book, runs / "rebranded", "--top", "1", *rebranded) == (same, False)
    page = (runs / "rebranded" / "reports" / "executive_review.html").read_text()
    notebook = (runs / "rebranded" / "notebooks" / "reports" / "executive_review.ipynb").read_text()
    for text in (page, notebook):
        assert "Zed Cloud" in text and "#a0522d" in text
        assert "DrawdownBrandMark" not in text and "#010203" not in text
    assert "exports reused from the cache" in (runs / "rebranded" / "run.log").read_text()
    assert (runs / "rebranded" / "exports" / "accounts.xlsx").read_bytes() == (
        runs / "cold" / "exports" / "accounts.xlsx"
    ).read_bytes()
