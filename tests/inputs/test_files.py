"""Readers: folders of CSV and Parquet files -> RawTables with spreadsheet row numbers."""

from __future__ import annotations

import polars as pl
import pytest

from _folders import VALID, write_folder
from drawdown.errors import InputError
from drawdown.inputs.files import read_source
from drawdown.params import Params


def test_csv_cells_are_read_as_text_with_spreadsheet_rows(tmp_path):
    # header is row 1, so the four usage rows are rows 2..5
    raw = read_source(write_folder(tmp_path), Params())
    usage = raw["usage"].frame
    assert usage["_row"].to_list() == [2, 3, 4, 5]
    assert usage.schema["quantity"] == pl.String()
    assert raw["usage"].origin == str(tmp_path / "usage.csv")


def test_parquet_is_read_with_records_numbered_from_one(tmp_path):
    folder = write_folder(tmp_path, usage=None)
    pl.DataFrame({"account_id": ["A1"], "meter": ["api"], "quantity": [1.5]}).write_parquet(
        folder / "usage.parquet"
    )
    usage = read_source(folder, Params())["usage"].frame
    assert usage["_row"].to_list() == [1]
    assert usage.schema["quantity"] == pl.Float64()


def test_extra_columns_are_kept(tmp_path):
    folder = write_folder(
        tmp_path, usage=VALID["usage"].replace("quantity\n", "quantity,note\n", 1)
    )
    assert "note" in read_source(folder, Params())["usage"].frame.columns


def test_absent_optional_tables_are_left_out(tmp_path):
    assert set(read_source(write_folder(tmp_path), Params())) == {
        "accounts",
        "contracts",
        "rate_card",
        "usage",
    }


def test_missing_required_table_names_table_and_folder(tmp_path):
    folder = write_folder(tmp_path, rate_card=None)
    with pytest.raises(
        InputError, match=r"rule missing_table: .*no rate_card\.csv or rate_card\.parquet"
    ):
        read_source(folder, Params())


def test_table_in_both_formats_names_both_files(tmp_path):
    folder = write_folder(tmp_path)
    pl.read_csv(folder / "usage.csv").write_parquet(folder / "usage.parquet")
    with pytest.raises(
        InputError, match=r"rule ambiguous_table: both .*usage\.csv and .*usage\.parquet"
    ):
        read_source(folder, Params())


def test_unreadable_file_names_the_file(tmp_path):
    folder = write_folder(tmp_path)
    (folder / "accounts.parquet").unlink(missing_ok=True)
    (folder / "accounts.csv").unlink()
    (folder / "accounts.parquet").write_bytes(b"not parquet")
    with pytest.raises(InputError, match=r"rule unreadable_file: cannot read .*accounts\.parquet"):
        read_source(folder, Params())


def test_a_source_that_is_not_a_folder_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="is not a folder"):
        read_source(tmp_path / "nowhere", Params())


def test_database_uris_go_to_the_database_reader(monkeypatch):
    seen = {}

    def fake_read_database(uri, params):
        seen["uri"] = uri
        return {}

    monkeypatch.setattr("drawdown.inputs.database.read_database", fake_read_database)
    assert read_source("postgresql://me@db/book", Params()) == {}
    assert seen["uri"] == "postgresql://me@db/book"
