"""Valid edge books run to the end and the reports say what is going on (exit 0), never a
notebook crash (docs/reliability.md#guarantees)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from _folders import write_folder
from drawdown.cli import app

pytestmark = pytest.mark.slow

PAY_AS_YOU_GO = {
    "contracts": (
        "contract_id,account_id,start_date,end_date,commit_amount,currency,renewal_of\n"
        "C1,A1,2026-01-01,,0,USD,\n"
        "C2,A2,2026-01-01,,0,USD,\n"
    ),
    "rate_card": (
        "contract_id,meter,unit_price,included_quantity,overage_unit_price\n"
        "C1,api,1.0,0,\n"
        "C2,api,2.0,,\n"
    ),
}


def _visible(path: Path) -> str:
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", "", path.read_text(), flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", text)))


@pytest.mark.parametrize(
    ("tables", "as_of", "says"),
    [
        ({}, "2025-12-31", "No account has a contract covering this date"),
        (PAY_AS_YOU_GO, "2026-03-02", "Every account is pay-as-you-go"),
    ],
    ids=["as_of_before_every_contract", "all_pay_as_you_go"],
)
def test_an_edge_book_renders_reports_that_say_so(
    tmp_path: Path, tables: dict[str, str], as_of: str, says: str
):
    book = write_folder(tmp_path / "book", **tables)
    result = CliRunner().invoke(
        app,
        [
            *("run", "--data", str(book), "--out", str(tmp_path / "runs" / "r")),
            *("--set", f"as_of={as_of}", "--format", "html", "--top", "2"),
        ],
    )
    assert result.exit_code == 0, result.output
    review = _visible(tmp_path / "runs" / "r" / "reports" / "executive_review.html")
    assert says in review
    assert (
        "inf" not in (tmp_path / "runs" / "r" / "exports" / "overconsumption_cases.csv").read_text()
    )
    assert (tmp_path / "runs" / "r" / "reports" / "usage_clinic.html").is_file()
