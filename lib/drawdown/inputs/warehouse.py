"""Warehouse pushdown with one definition (docs/scale.md#warehouse-pushdown): the raw-event →
daily (account_id, meter, day) aggregation, written once and transpiled by sqlglot to each
warehouse's dialect, and an embedded DuckDB file as a source (``duckdb:///path/book.duckdb``).

``daily_usage_sql`` writes the query in PostgreSQL's dialect (``DEFINITION``) and transpiles it:
the day is ``usage_date``, or ``usage_ts`` in ``params.timezone`` (an instant converted with
``AT TIME ZONE``, which sqlglot turns into ``CONVERT_TIMEZONE`` for Snowflake, ``DATETIME(ts,
zone)`` for BigQuery and ``FROM_UTC_TIMESTAMP`` for Databricks/Spark SQL; a timestamp without
zone is already wall-clock time); quantities are summed as ``DECIMAL(38, 18)`` (BigQuery:
``BIGNUMERIC``), exact, and cast back to double; rows failing a row rule come back one by one so
that the validator rejects them by their key, as with PostgreSQL (``drawdown.inputs.database``).
A DuckDB file's usage rows are sorted as PostgreSQL's (``database.sort_usage``), or streamed
into a Parquet file ``BATCH_ROWS`` at a time for a sharded run (``read_duckdb(usage_file=)``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

import polars as pl
import pyarrow as pa
import sqlglot

from drawdown.errors import InputError
from drawdown.inputs.contract import OPTIONAL_TABLES, TABLES
from drawdown.inputs.database import quote_name, sort_usage, table_names, write_batches
from drawdown.inputs.raw import RawTable
from drawdown.params import Params

DIALECTS = ("postgres", "duckdb", "snowflake", "bigquery", "databricks", "spark")
"""The dialects the daily query is transpiled to; ``tests/inputs/golden_sql/`` holds each."""

DaySource = Literal["usage_date", "timestamptz", "timestamp"]

DEFINITION = """
SELECT account_id, meter, usage_date,
       CAST(SUM(CAST(quantity AS DECIMAL(38, 18))) AS DOUBLE PRECISION) AS quantity,
       COUNT(*) AS "_events"
FROM ({events}) AS events
WHERE {passes}
GROUP BY account_id, meter, usage_date
UNION ALL
SELECT account_id, meter, usage_date, quantity, 1 AS "_events"
FROM ({events}) AS events
WHERE NOT {passes}
"""
"""The one definition, in PostgreSQL's dialect; ``{events}`` and ``{passes}`` filled in below."""

_EVENTS = (
    "SELECT CAST(account_id AS TEXT) AS account_id, CAST(meter AS TEXT) AS meter, "
    "{day} AS usage_date, CAST(quantity AS DOUBLE PRECISION) AS quantity FROM {table}"
)
_PASSES = (
    "COALESCE(account_id IS NOT NULL AND meter IS NOT NULL AND usage_date IS NOT NULL "
    "AND quantity >= 0 AND quantity <> CAST('NaN' AS DOUBLE PRECISION), FALSE)"
)


def daily_usage_sql(table: str, day: DaySource, timezone: str, dialect: str) -> str:
    """The daily usage query over the events table ``table`` (one to three dotted identifiers,
    each quoted, so matched exactly as written) in ``dialect`` (one of ``DIALECTS``).

    ParamsError for a name that is not plain identifiers (``database.quote_name``)."""
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}; accepted: {', '.join(DIALECTS)}")
    quoted = quote_name(table)
    zone = timezone.replace("'", "''")
    expression = {
        "usage_date": "usage_date",
        "timestamptz": f"CAST(usage_ts AT TIME ZONE '{zone}' AS DATE)",
        "timestamp": "CAST(usage_ts AS DATE)",
    }[day]
    events = _EVENTS.format(day=expression, table=quoted)
    sql = DEFINITION.format(events=events, passes=_PASSES)
    return sqlglot.transpile(sql, read="postgres", write=dialect, pretty=True)[0]


# -- DuckDB --------------------------------------------------------------------------------------

BATCH_ROWS = 131_072
"""How many rows of the usage result DuckDB hands over at a time when streaming it."""

STREAM_MEMORY_LIMIT = "256MB"
"""DuckDB's ``memory_limit`` while it streams the usage (``read_duckdb(usage_file=)``): DuckDB
sums the events inside drawdown's process, and past this its aggregation spills to a folder
beside ``usage_file`` (exact DECIMAL sums: the same result). Its default is 80 % of the RAM."""


def duckdb_path(uri: str) -> Path:
    """The database file of ``duckdb:///path/book.duckdb`` (``duckdb://relative.duckdb`` too)."""
    parts = urlsplit(uri)
    return Path(parts.netloc + parts.path)


def read_duckdb(uri: str, params: Params, usage_file: Path | None = None) -> dict[str, RawTable]:
    """Every table of an embedded DuckDB file, usage summed to daily inside DuckDB by
    ``daily_usage_sql``. Tables named as in the contract or mapped by ``source.tables``.
    ``usage_file``: the usage rows are written there batch by batch (``database.write_batches``),
    unsorted, DuckDB's memory held to ``STREAM_MEMORY_LIMIT``, and the usage RawTable holds its
    columns only.

    InputError for a missing file, a missing required table or a usage table without its columns.
    """
    import duckdb

    path = duckdb_path(uri)
    if not path.is_file():
        raise InputError(f"data source {uri}: no DuckDB file at {path}")
    names = {table: params.source.tables.get(table, table) for table in TABLES}
    with duckdb.connect(str(path), read_only=True) as connection:
        if usage_file is not None:
            spill = str(usage_file.with_suffix(".spill")).replace("'", "''")
            connection.execute(f"SET memory_limit = '{STREAM_MEMORY_LIMIT}'")
            connection.execute(f"SET temp_directory = '{spill}'")
        present = {row[0] for row in connection.execute("SHOW TABLES").fetchall()}
        missing = [t for t in TABLES if names[t] not in present and t not in OPTIONAL_TABLES]
        if missing:
            raise InputError(
                f"{', '.join(missing)}: rule missing_table: required table missing: DuckDB table "
                f"{', '.join(names[table] for table in missing)} not found in {path}"
            )
        tables = {}
        for table in TABLES:
            name = names[table]
            if name not in present:
                continue
            if table == "usage":
                query = daily_usage_sql(
                    name, _day_source(connection, name), params.timezone, "duckdb"
                )
            else:
                query = f"SELECT * FROM {quote_name(name)}"
            relation = connection.sql(query)
            if table == "usage" and usage_file is not None:
                result = write_batches(_batches(relation), usage_file).empty_table()
            else:
                result = relation.to_arrow_table()
            frame = pl.from_arrow(result)
            assert isinstance(frame, pl.DataFrame)
            if table == "usage":
                frame = sort_usage(frame)
            tables[table] = RawTable(table, f"DuckDB table {name}", frame, row_reference="key")
    return tables


def count_duckdb_rows(uri: str, params: Params, table: str) -> int:
    """How many rows the contract table ``table`` of a DuckDB file holds (mapped by
    ``source.tables``): one ``SELECT COUNT(*)``, the file opened read-only. InputError when it
    cannot be counted (no file, no such table)."""
    import duckdb

    path = duckdb_path(uri)
    if not path.is_file():
        raise InputError(f"data source {uri}: no DuckDB file at {path}")
    name = table_names(params)[table]
    try:
        with duckdb.connect(str(path), read_only=True) as connection:
            row = connection.execute(f"SELECT COUNT(*) FROM {quote_name(name)}").fetchone()
    except duckdb.Error as exc:
        raise InputError(f"data source {uri}: cannot count DuckDB table {name}: {exc}") from None
    assert row is not None
    return int(row[0])


def _batches(relation: Any) -> pa.RecordBatchReader:
    """A DuckDB relation's result as a reader of ``BATCH_ROWS``-row record batches."""
    if hasattr(relation, "to_arrow_reader"):  # fetch_arrow_reader is deprecated where it exists
        return relation.to_arrow_reader(BATCH_ROWS)
    return relation.fetch_arrow_reader(BATCH_ROWS)


def _day_source(connection: object, table: str) -> DaySource:
    """Which day column the usage table has: usage_date, else usage_ts with or without zone."""
    rows = connection.execute(  # type: ignore[attr-defined]
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
        [table],
    ).fetchall()
    types = {name: kind.upper() for name, kind in rows}
    if "usage_date" in types:
        return "usage_date"
    if "usage_ts" not in types:
        raise InputError(
            f"usage: rule missing_column: DuckDB table {table} has no column usage_date or usage_ts"
        )
    return "timestamptz" if "TIME ZONE" in types["usage_ts"] else "timestamp"


def write_duckdb_book(path: Path, folder: Path, events_per_day: int = 4) -> dict[str, int]:
    """Load the book in ``folder`` into the DuckDB file ``path`` (replaced), as ``write_book``
    loads PostgreSQL: usage as ``events_per_day`` timestamped events (UTC instants) per daily
    row. Returns the rows per table."""
    import duckdb

    from drawdown.inputs.database import _read_book_file, usage_events

    path.unlink(missing_ok=True)
    counts = {}
    with duckdb.connect(str(path)) as connection:
        for table in TABLES:
            frame = _read_book_file(folder, table)
            if frame is None:
                continue
            if table == "usage" and events_per_day > 0:
                frame = usage_events(frame, events_per_day)
            arrow = frame.to_arrow()  # noqa: F841 (read by DuckDB's replacement scan below)
            connection.execute(f'CREATE TABLE "{table}" AS SELECT * FROM arrow')
            counts[table] = frame.height
    return counts
