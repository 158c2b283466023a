"""Readers (docs/data-contract.md): a data source -> one ``RawTable`` per table, nothing parsed yet.

A source is a folder holding ``<table>.csv`` or ``<table>.parquet`` per table (detected per
table), or a database URI (``postgresql://...``, any ``scheme://``) read by
``drawdown.inputs.database.read_database``. The stages are separate so that messier inputs can plug in:

- ``_decode_csv``: bytes -> a frame of strings (every column ``pl.String``, so that a value that
  does not parse can be named later with its row and text);
- ``_number_rows``: adds ``_row``, the 1-based row as a spreadsheet shows the file (CSV: the
  header is row 1, the first data row 2; Parquet, which has no header: the first record is row 1);
- parsing into the contract's types and checking the rules happen in ``drawdown.inputs.validate``.

Structural problems found while reading (a missing required table, a table present as both CSV
and Parquet, an unreadable file, a header naming a column twice) raise ``InputError`` naming every
one of them; an unreadable CSV is named down to its first bad row where that can be found (a
byte that is not UTF-8, a record with more fields than the header).

Normalisations of real exports, all silent: a UTF-8 byte-order mark and Windows line endings are
accepted; CSV records whose every cell is empty (blank lines, ``,,,``) hold nothing and are
skipped, while row numbers still count them.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from drawdown.errors import InputError
from drawdown.inputs.contract import REQUIRED_TABLES, TABLES
from drawdown.inputs.quality import Finding, format_findings
from drawdown.inputs.raw import ROW_COLUMN, RawTable
from drawdown.params import Params, redact_secrets

SUFFIXES = (".csv", ".parquet")


def read_source(uri: str | Path, params: Params) -> dict[str, RawTable]:
    """Every table of the source, as read: a folder of files or a database URI.

    Absent optional tables are left out of the result. Raises InputError for a missing folder,
    a missing required table, a table with both a .csv and a .parquet file, or an unreadable file.
    """
    if str(uri).startswith("duckdb://"):
        from drawdown.inputs.warehouse import read_duckdb

        return read_duckdb(str(uri), params)
    if "://" in str(uri):
        from drawdown.inputs.database import read_database

        return read_database(str(uri), params)
    return read_folder(Path(uri))


def read_folder(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, RawTable]:
    """One RawTable per ``<table>.csv`` / ``<table>.parquet`` file in ``folder``.

    Tables in ``skip`` are checked (present when required, not ambiguous) but not read: a
    sharded run streams the usage file instead (``drawdown.run.shards``, ``table_file``).
    """
    if not folder.is_dir():
        raise InputError(
            f"data source {redact_secrets(str(folder))} is not a folder (nor a database URI)"
        )
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
        elif files and table not in skip:
            try:
                tables[table] = read_file(table, files[0])
            except UnreadableFile as exc:
                findings.append(_finding(table, exc.rule, f"{files[0]}: {exc}"))
            except (OSError, UnicodeDecodeError, pl.exceptions.PolarsError) as exc:
                findings.append(
                    _finding(
                        table,
                        "unreadable_file",
                        f"cannot read {files[0]}: {_csv_problem(files[0]) or _first_line(exc)}",
                    )
                )
    if findings:
        raise InputError(format_findings(findings))
    return tables


def table_file(folder: Path, table: str) -> Path | None:
    """The file holding ``table`` in ``folder`` (``.csv`` before ``.parquet``), None when absent."""
    return next(
        (
            folder / f"{table}{suffix}"
            for suffix in SUFFIXES
            if (folder / f"{table}{suffix}").is_file()
        ),
        None,
    )


class UnreadableFile(Exception):
    """A file that reads but cannot be taken as a table; ``rule`` names why (``duplicate_column``)."""

    def __init__(self, rule: str, text: str) -> None:
        super().__init__(text)
        self.rule = rule


def read_file(table: str, path: Path) -> RawTable:
    """One table file, CSV (every column as text) or Parquet (its own types), with ``_row``.

    Raises UnreadableFile for a CSV header naming a column twice; OSError, UnicodeDecodeError or
    PolarsError for a file that does not read.
    """
    if path.suffix == ".csv":
        frame = _skip_blank(_number_rows(_decode_csv(path), first=2))
    else:
        frame = _number_rows(pl.read_parquet(path), first=1)
    return RawTable(name=table, origin=str(path), frame=frame)


def _decode_csv(path: Path) -> pl.DataFrame:
    """The CSV's cells as strings (UTF-8, comma-separated, header on row 1); empty cells are null."""
    frame = pl.read_csv(path, infer_schema=False)
    header = csv_header(path)
    repeated = sorted({column for column in header if header.count(column) > 1})
    if repeated:
        raise UnreadableFile(
            "duplicate_column",
            f"column {', '.join(repeated)} appears more than once in the header: keep one",
        )
    return frame


def csv_header(path: Path) -> list[str]:
    """The column names on the CSV's first record, as written (a byte-order mark removed)."""
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle), [])


def _skip_blank(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` without the records whose every cell is empty."""
    return frame.filter(~pl.all_horizontal(pl.exclude(ROW_COLUMN).is_null()))


def _csv_problem(path: Path) -> str | None:
    """Where a CSV that does not read goes wrong, for the message: an empty file, the first byte
    that is not UTF-8, or the first record with more fields than the header (None otherwise).

    Runs only after Polars refused the file.
    """
    if path.suffix != ".csv":
        return None
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return (
            f"line {line} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}): "
            "save the file as UTF-8"
        )
    records = csv.reader(io.StringIO(text, newline=""))
    header = next(records, None)
    if header is None:
        return "the file is empty: a table needs at least its header row"
    ragged = next(
        (row for row, record in enumerate(records, start=2) if len(record) > len(header)), None
    )
    if ragged is None:
        return None
    return (
        f"row {ragged} has more fields than the header's {len(header)}: "
        "quote values that contain a comma"
    )


def _number_rows(frame: pl.DataFrame, first: int) -> pl.DataFrame:
    """``frame`` with ``_row`` (Int64) first: ``first`` for the first record, then +1 each."""
    return frame.with_row_index(ROW_COLUMN, offset=first).with_columns(
        pl.col(ROW_COLUMN).cast(pl.Int64)
    )


def _finding(table: str, rule: str, text: str) -> Finding:
    return Finding(table=table, rule=rule, rows=1, lines=(f"{table}: rule {rule}: {text}",))


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
