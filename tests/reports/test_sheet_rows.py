"""sheet_rows.py: the workbook's data rows as sheet XML, one column at a time."""

from __future__ import annotations

import math
import re
import zipfile
from datetime import date, datetime

import polars as pl

from drawdown.reports import sheet_rows
from drawdown.reports.exports import write_workbook


def test_each_kind_of_value_is_written_as_xlsxwriter_writes_it() -> None:
    frame = pl.DataFrame(
        {
            "text": ["A & <B>\x01", "", None],
            "flag": [True, False, None],
            "day": [date(1970, 1, 1), date(2026, 11, 15), None],
            "count": [3, None, -1],
            "share": [0.1, math.nan, math.inf],
        }
    )
    xml = sheet_rows.rows_xml(frame, {"A": ' s="2"', "D": ' s="5"'})
    assert xml == (
        '<row r="2"><c r="A2" s="2" t="inlineStr"><is><t xml:space="preserve">'
        "A &amp; &lt;B&gt;_x0001_</t></is></c>"
        '<c r="B2" t="b"><v>1</v></c><c r="C2"><v>25569</v></c>'
        '<c r="D2" s="5"><v>3</v></c><c r="E2"><v>0.1</v></c></row>'
        '<row r="3"><c r="B3" t="b"><v>0</v></c><c r="C3"><v>46341</v></c></row>'
        '<row r="4"><c r="D4" s="5"><v>-1</v></c></row>'
    )


def test_a_moment_is_a_day_serial_and_any_other_type_is_text() -> None:
    # no sheet has one today; a new artifact column must not stop the exports
    frame = pl.DataFrame(
        {"at": [datetime(1970, 1, 2, 12)], "cat": pl.Series(["x"], dtype=pl.Categorical)}
    )
    assert sheet_rows.rows_xml(frame, {}) == (
        '<row r="2"><c r="A2"><v>25570.5</v></c>'
        '<c r="B2" t="inlineStr"><is><t xml:space="preserve">x</t></is></c></row>'
    )


def test_the_probe_row_has_a_value_for_every_column_that_holds_one() -> None:
    frame = pl.DataFrame({"a": [None, 2, 3], "b": [None, None, "x"], "c": [None, None, None]})
    assert sheet_rows.probe(frame).rows() == [(2, "x", None)]
    assert sheet_rows.probe(frame.head(0)).height == 0


def test_every_row_is_in_its_sheet_and_in_its_table(tmp_path) -> None:
    # the sheets once written cell by cell by XlsxWriter: 3 accounts, 1,000 forecasts, no cases
    accounts = pl.DataFrame(
        {"account_id": ["A1", "A2", "A3"], "account_name": ["Acme", None, "=1+1"]}
    )
    forecasts = pl.DataFrame({"account_id": ["A1"] * 1000, "p50": [1.5] * 1000})
    cases = pl.DataFrame({"account_id": []}, schema={"account_id": pl.String})
    sheets = {"Accounts": accounts, "Forecasts": forecasts, "Cases": cases}
    path = write_workbook(sheets, tmp_path / "accounts.xlsx", "USD")
    with zipfile.ZipFile(path) as book:
        xml = {name: book.read(name).decode("utf-8") for name in book.namelist()}
    for number, (rows, last) in enumerate([(4, "B4"), (1001, "B1001"), (1, None)], start=1):
        sheet, table = xml[f"xl/worksheets/sheet{number}.xml"], xml[f"xl/tables/table{number}.xml"]
        assert sheet.count("<row ") == rows
        if last:
            assert f'<dimension ref="A1:{last}"/>' in sheet
            assert table.count(f'ref="A1:{last}"') == 2  # the table and its filter
    accounts_xml = xml["xl/worksheets/sheet1.xml"]
    assert ">'=1+1</t>" in accounts_xml and "<f>" not in accounts_xml  # text, never a formula
    assert re.search(r'<c r="B3"', accounts_xml) is None  # a null is no cell


def test_the_same_sheets_write_the_same_bytes(tmp_path) -> None:
    sheets = {"Accounts": pl.DataFrame({"account_id": ["A1", "A2"], "value": [1.0, 2.5]})}
    first = write_workbook(sheets, tmp_path / "a.xlsx", "USD").read_bytes()
    assert write_workbook(sheets, tmp_path / "b.xlsx", "USD").read_bytes() == first
