"""Readers (SPEC section 2): a data source -> one ``RawTable`` per table, nothing parsed yet.

A source is a folder holding ``<table>.csv`` or ``<table>.parquet`` per table (detected per
table), or a database URI (``postgresql://...``, any ``scheme://``) read by
``drawdown.sql.read_database``. The stages are separate so that messier inputs can plug in:

- ``_decode_csv``: bytes -> a frame of strings (every column ``pl.String``, so that a value that
  does not parse can be named later with its row and text);
- ``_number_rows``: adds ``_row``, the 1-based row as a spreadsheet shows the file (CSV: the
  header is row 1, the first data row 2; Parquet, which has no header: the first record is row 1);
- parsing into the contract's types and checking the rules happen in ``drawdown.validate``.

Structural problems found while reading (a missing required table, a table present as both CSV
and Parquet, an unreadable file) raise ``InputError`` naming every one of them.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from drawdown.errors import InputError
from drawdown.params import Params
from drawdown.quality import Finding, format_findings
from drawdown.raw import ROW_COLUMN, RawTable
from drawdown.schema import REQUIRED_TABLES, TABLES

SUFFIXES = (".csv", ".parquet")


def read_source(uri: str | Path, params: Params) -> dict[str, RawTable]:
    """Every table of the source, as read: a folder of files or a database URI.

    Absent optional tables are left out of the result. Raises InputError for a missing folder,
    a missing required table, a table with both a .csv and a .parquet file, or an unreadable file.
    """
    if "://" in str(uri):
        from drawdown.sql import read_database

        return read_database(str(uri), params)
    return read_folder(Path(uri))


def read_folder(folder: Path) -> dict[str, RawTable]:
    """One RawTable per ``<table>.csv`` / ``<table>.parquet`` file in ``folder``."""
    if not folder.is_dir():
        raise InputError(f"data source {folder} is not a folder (nor a database URI)")
    findings: list[Finding] = []
    tables: dict[str, RawTable] = {}
    for table in TABLES:
        files = [
            folder / f"{table}{suffix}"
            for suffix in SUFFIXES
            if (folder / f"{table}{suffix}").is_file()
        ]
        if len(files) > 1:
            findings.append(
                _finding(
                    table, "ambiguous_table", f"both {files[0]} and {files[1]} exist: keep one"
                )
            )
        elif not files and table in REQUIRED_TABLES:
            findings.append(
                _finding(
                    table,
                    "missing_table",
                    f"required table missing: no {table}.csv or {table}.parquet in {folder}",
                )
            )
        elif files:
            try:
                tables[table] = read_file(table, files[0])
            except (OSError, pl.exceptions.PolarsError) as exc:
                findings.append(
                    _finding(
                        table, "unreadable_file", f"cannot read {files[0]}: {_first_line(exc)}"
                    )
                )
    if findings:
        raise InputError(format_findings(findings))
    return tables


def read_file(table: str, path: Path) -> RawTable:
    """One table file, CSV (every column as text) or Parquet (its own types), with ``_row``."""
    frame = _decode_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)
    return RawTable(
        name=table,
        origin=str(path),
        frame=_number_rows(frame, first=2 if path.suffix == ".csv" else 1),
    )


def _decode_csv(path: Path) -> pl.DataFrame:
    """The CSV's cells as strings (UTF-8, comma-separated, header on row 1); empty cells are null."""
    return pl.read_csv(path, infer_schema=False)


def _number_rows(frame: pl.DataFrame, first: int) -> pl.DataFrame:
    """``frame`` with ``_row`` (Int64) first: ``first`` for the first record, then +1 each."""
    return frame.with_row_index(ROW_COLUMN, offset=first).with_columns(
        pl.col(ROW_COLUMN).cast(pl.Int64)
    )


def _finding(table: str, rule: str, text: str) -> Finding:
    return Finding(table=table, rule=rule, rows=1, lines=(f"{table}: rule {rule}: {text}",))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
