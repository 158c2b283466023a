"""The data-quality record: counts per table and rule, rating exceptions, error messages."""

from __future__ import annotations

import json

import polars as pl
from rich.console import Console

from drawdown.inputs.contract import TABLES
from drawdown.inputs.quality import (
    DataQuality,
    Finding,
    TableQuality,
    format_findings,
    quality_report,
)


def _quality(exceptions: pl.DataFrame | None = None) -> DataQuality:
    # usage: 10 read, 7 accepted, 2 negative + 1 unknown account rejected
    tables = {table: TableQuality(table, None, 0, 0, {}) for table in TABLES} | {
        "usage": TableQuality(
            "usage", "data/usage.csv", 10, 7, {"unknown_account": 1, "quantity|min": 2}
        )
    }
    empty = pl.DataFrame(
        schema={
            "account_id": pl.String,
            "rating_status": pl.String,
            "rows": pl.UInt32,
            "quantity": pl.Float64,
        }
    )
    return DataQuality(
        tables,
        usage_daily_rows=5,
        rating_exceptions=exceptions if exceptions is not None else empty,
    )


def _render(renderable) -> str:
    console = Console(width=200, record=True)
    console.print(renderable)
    return console.export_text()


def test_rows_rejected_is_the_sum_over_rules():
    assert _quality().tables["usage"].rows_rejected == 3


def test_json_lists_every_table_with_rules_sorted():
    usage = _quality().to_json()["tables"]["usage"]
    assert list(_quality().to_json()["tables"]) == list(TABLES)
    assert usage == {
        "origin": "data/usage.csv",
        "rows_read": 10,
        "rows_accepted": 7,
        "rows_rejected": 3,
        "rejected_by_rule": {"quantity|min": 2, "unknown_account": 1},
    }


def test_json_is_the_same_for_the_same_record():
    assert json.dumps(_quality().to_json()) == json.dumps(_quality().to_json())


def test_json_counts_out_of_contract_and_unrated_per_account():
    # B: 2 rows / 5.0 out of contract; A: 1 row / 1.5 unrated
    exceptions = pl.DataFrame(
        {
            "account_id": ["B", "A"],
            "rating_status": ["out_of_contract", "unrated"],
            "rows": pl.Series([2, 1], dtype=pl.UInt32),
            "quantity": [5.0, 1.5],
        }
    )
    record = _quality(exceptions).to_json()
    assert record["out_of_contract"] == {
        "rows": 2,
        "quantity": 5.0,
        "accounts": [{"account_id": "B", "rows": 2, "quantity": 5.0}],
    }
    assert record["unrated"]["accounts"] == [{"account_id": "A", "rows": 1, "quantity": 1.5}]


def test_report_shows_counts_per_table_and_rule():
    text = _render(quality_report(_quality()))
    assert "quantity|min: 2" in text and "unknown_account: 1" in text
    assert "5 daily rows" in text


def test_report_prints_account_ids_as_text_not_markup():
    exceptions = pl.DataFrame(
        {
            "account_id": ["[bold]x[/bold]"],
            "rating_status": ["unrated"],
            "rows": pl.Series([1], dtype=pl.UInt32),
            "quantity": [1.0],
        }
    )
    assert "[bold]x[/bold]" in _render(quality_report(_quality(exceptions)))


def test_findings_message_is_capped_with_the_count_of_the_rest():
    # 30 bad rows, 3 lines known: 3 shown, then "… and 27 more"
    finding = Finding("usage", "quantity|min", 30, ("a", "b", "c"))
    lines = format_findings([finding]).splitlines()
    assert lines[0].startswith(
        "the input breaks the data contract (30 problems; usage: quantity|min)"
    )
    assert lines[1:] == ["  a", "  b", "  c", "  … and 27 more"]
