"""The database source (docs/data-contract.md): input tables read from PostgreSQL through ADBC.

``read_database(uri, params)`` returns the same ``dict[str, RawTable]`` as the folder reader, with
``row_reference="key"`` (no file rows) and the origin ``database table <name>``.

Table names. ``params.source.tables`` maps the contract's table names to database names (``{"usage":
"analytics.usage_events"}``); unmapped tables use the contract's name, found through the connection's
search path. A name is one to three plain identifiers (``[A-Za-z_][A-Za-z0-9_]*``) joined by dots;
anything else is refused before any SQL is built, and every part is double-quoted, so a name is
matched exactly as written (case-sensitive) and can never inject SQL. An optional table that does
not exist is left out of the result; a required one is an ``InputError``.

Usage is summed to daily IN THE DATABASE (``usage_query``: the one daily definition of
``drawdown.inputs.warehouse`` in PostgreSQL's dialect, quantities summed as numeric): the day is
``usage_date`` when the table has it, else ``usage_ts`` as a date in ``params.timezone``: a ``timestamptz`` is an instant,
converted with ``AT TIME ZONE``; a naive ``timestamp`` is already wall-clock time there (its date
is taken as is), as ``drawdown.inputs.validate`` reads a timestamp without offset from a file.
Only rows that pass the row-level rules (account_id, meter and day present; quantity ≥ 0, not NaN)
are summed; every other row comes back as it is, beside the daily sums, so that the validator
rejects it by its key exactly as it would a file row. The column ``_events`` counts the raw rows
behind each returned row (1 for an offending row): raw events in, daily rows out, nothing lost.
The rows come back sorted by ``USAGE_ORDER`` (``sort_usage``), in Polars' order, not the
database's collation. Other tables are read whole; ``numeric`` columns arrive as float64, other
driver-specific types as text.

Streaming. ``read_database(uri, params, usage_file=path)`` does not hold the usage result: it is
fetched as Arrow record batches of about ``BATCH_BYTES`` and written to the Parquet file ``path``
batch by batch (``write_batches``), unsorted, and the usage RawTable holds its columns only. A
sharded run (``drawdown.run.shards``) routes that file as it routes a usage file, and sorts each
shard's rows by ``USAGE_ORDER``.

Secrets. A URI carried through drawdown never holds a password (``strip_password``,
``hide_password``); ``connection_uri`` adds it only for the connection, from the variable named by
``params.source.password_env``, else libpq's own ``PGPASSWORD`` / ``~/.pgpass``. Messages name the
database by ``redact(uri)``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, parse_qsl, unquote, urlencode, urlsplit, urlunsplit

import adbc_driver_manager
import adbc_driver_manager.dbapi
import adbc_driver_postgresql
import adbc_driver_postgresql.dbapi
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from drawdown.errors import ConnectionFailed, InputError, ParamsError
from drawdown.inputs.contract import COLUMNS, OPTIONAL_TABLES, TABLES
from drawdown.inputs.raw import EVENTS_COLUMN, RawTable
from drawdown.params import Params

if TYPE_CHECKING:
    from drawdown.inputs.warehouse import DaySource

SCHEMES = ("postgresql", "postgres")
"""URI schemes read through the PostgreSQL ADBC driver."""

CONNECT_TIMEOUT_SECONDS = 10
"""Default libpq ``connect_timeout``: an unreachable host fails instead of hanging."""

EVENT_HOURS_UTC = (9, 15)
"""``write_book`` spreads a day's events over these UTC hours: the same calendar day in every
time zone from UTC-9 to UTC+8, so the daily book reads back unchanged there."""

USAGE_ORDER = ("account_id", "meter", "usage_date", "quantity", EVENTS_COLUMN)
"""Every column of the daily usage query, in the order its rows are sorted (nulls last): a total
order, so the same rows come back in the same order from any database, whole or shard by shard,
and the usage rejects with them (``drawdown.run.shards.merge_quality``)."""

BATCH_BYTES = 16 * 2**20
"""About how many bytes of the usage result the driver fetches at a time when streaming it."""

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){0,2}")
_UNDEFINED_TABLE = "42P01"
_USAGE_KEYS = ("account_id", "meter")


def redact(uri: str) -> str:
    """``uri`` with its password (if any, in the user part or the query) shown as ``***``."""
    bare, password = strip_password(uri)
    if password is None:
        return uri
    parts = urlsplit(bare)
    return urlunsplit(parts._replace(netloc=_netloc(parts, "***")))


def strip_password(uri: str) -> tuple[str, str | None]:
    """``(uri without its password, the password or None)``: to move a typed password aside.

    The password may be typed as ``user:password@host`` (percent-encoded, or raw: a ``#``, ``?``,
    ``/`` or ``@`` in it is taken as part of it, up to the last ``@``) or ``?password=``.
    """
    raw = _RAW_PASSWORD.match(uri)
    if raw is not None and "@" not in urlsplit(uri).netloc:
        return f"{raw['scheme']}{raw['user']}@{raw['rest']}", unquote(raw["password"])
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True)
    in_query = [value for key, value in query if key == "password"]
    password = unquote(parts.password) if parts.password is not None else next(iter(in_query), None)
    if password is None:
        return uri, None
    bare = parts._replace(
        netloc=_netloc(parts, None),
        query=urlencode([(key, value) for key, value in query if key != "password"]),
    )
    return urlunsplit(bare), password


_RAW_PASSWORD = re.compile(
    r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^:/?#@]*):(?P<password>.*)@(?P<rest>[^@]*)$",
    re.S,
)
"""``scheme://user:password@rest`` with reserved characters typed raw in the password, which a
URL parser would cut at the first ``#``, ``?`` or ``/``."""


def hide_password(uri: str) -> str:
    """Move a password typed into ``uri`` into ``PGPASSWORD``; return the URI without it.

    The command line calls this first, so the password reaches no params, notebook, report, log
    or manifest; libpq (here and in notebook kernels, which inherit the environment) reads it back.
    """
    bare, password = strip_password(uri)
    if password is not None:
        os.environ["PGPASSWORD"] = password
    return bare


def connection_uri(uri: str, params: Params) -> str:
    """The URI actually used to connect: ``uri`` plus the password and a connect timeout.

    The password comes from the environment variable named by ``params.source.password_env``
    (an InputError when that variable is unset); without it libpq reads ``PGPASSWORD`` or
    ``~/.pgpass`` itself. Never print or record the result: print ``redact(uri)``.
    """
    parts = urlsplit(uri)
    if parts.scheme not in SCHEMES:
        raise InputError(
            f"unsupported database URI {redact(uri)}: the scheme must be one of {', '.join(SCHEMES)}"
        )
    query = dict(parse_qsl(parts.query))
    query.setdefault("connect_timeout", str(CONNECT_TIMEOUT_SECONDS))
    variable = params.source.password_env
    if variable is not None:
        if variable not in os.environ:
            raise InputError(
                f"source.password_env names the environment variable {variable}, which is not set"
            )
        query["password"] = os.environ[variable]
    return urlunsplit(parts._replace(query=urlencode(query)))


def quote_name(name: str) -> str:
    """``schema.table`` -> ``"schema"."table"``; a ParamsError for anything but plain identifiers."""
    if not _IDENTIFIER.fullmatch(name):
        raise ParamsError(
            f"bad value for 'source.tables': {name!r} is not a table name "
            "(one to three identifiers of letters, digits and _, joined by dots)"
        )
    return ".".join(f'"{part}"' for part in name.split("."))


def table_names(params: Params) -> dict[str, str]:
    """Contract table name -> database table name: ``params.source.tables`` (whose keys the
    params model keeps to the contract's names) over the contract's names."""
    return {table: params.source.tables.get(table, table) for table in TABLES}


def usage_query(table: str, schema: pa.Schema, timezone: str) -> str:
    """The SQL that reads usage summed per (account_id, meter, day), day in ``timezone``.

    ``schema`` is the table's Arrow schema (from the driver); it decides the day column. Rows that
    pass the row-level rules are summed (``_events`` = how many); the rest come back one by one.
    """
    columns = {field.name: field.type for field in schema}
    needs = [name for name in (*_USAGE_KEYS, "quantity") if name not in columns]
    if not {"usage_date", "usage_ts"} & set(columns):
        needs.append("usage_date or usage_ts")
    if needs:
        raise InputError(
            f"usage: rule missing_column: database table {table} has no column {', '.join(needs)}"
        )
    if not (
        pa.types.is_integer(columns["quantity"])
        or pa.types.is_floating(columns["quantity"])
        or _is_numeric(columns["quantity"])
    ):
        raise InputError(
            f"usage: rule bad_type: column quantity of database table {table} holds "
            f"{_type_name(columns['quantity'])}, not numbers"
        )
    # the one definition (docs/scale.md#warehouse-pushdown); imported here: warehouse imports
    # quote_name from this module
    from drawdown.inputs.warehouse import daily_usage_sql

    return daily_usage_sql(table, _day(table, columns), timezone, "postgres")


def table_query(table: str, schema: pa.Schema) -> str:
    """The SQL that reads a whole table: numeric columns as float64, driver-specific types as text."""
    return (
        f"SELECT {', '.join(_select_as_read(field) for field in schema)} FROM {quote_name(table)}"
    )


def read_database(uri: str, params: Params, usage_file: Path | None = None) -> dict[str, RawTable]:
    """Every table of the database source, usage summed to daily in the database.

    Absent optional tables are left out. InputError (one line, no password) for a login refused,
    a server not reached, a required table missing, or a query the database refuses.
    ``usage_file``: the usage rows are written there, not returned (see Streaming above).
    """
    names = table_names(params)
    with _connect(uri, params) as cursor:
        schemas = {table: _table_schema(cursor, name) for table, name in names.items()}
        missing = [
            t for t, schema in schemas.items() if schema is None and t not in OPTIONAL_TABLES
        ]
        if missing:
            raise InputError(
                f"{', '.join(missing)}: rule missing_table: required table missing: database "
                f"table {', '.join(names[table] for table in missing)} not found in {redact(uri)} "
                f"(map tables with source.tables)"
            )
        return {
            table: _read_table(cursor, table, names[table], schema, params.timezone, usage_file)
            for table, schema in schemas.items()
            if schema is not None
        }


def sort_usage(frame: pl.DataFrame) -> pl.DataFrame:
    """A database's daily usage rows in ``USAGE_ORDER``, nulls last."""
    return frame.sort(USAGE_ORDER, nulls_last=True)


def write_batches(reader: pa.RecordBatchReader, path: Path) -> pa.Schema:
    """A query's result written to the Parquet file ``path`` one record batch at a time (one
    batch in memory, never the whole result); its schema."""
    with pq.ParquetWriter(path, reader.schema) as writer:
        for batch in reader:
            writer.write_batch(batch)
    return reader.schema


def count_rows(uri: str, params: Params, table: str) -> int:
    """How many rows the contract table ``table`` holds (named as ``table_names`` names it): one
    ``SELECT COUNT(*)``, nothing read. InputError when it cannot be counted (no connection, no
    such table)."""
    with _connect(uri, params) as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {quote_name(table_names(params)[table])}")
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def write_book(uri: str, folder: Path, events_per_day: int = 4) -> dict[str, int]:
    """Load the book in ``folder`` (CSV or Parquet per table) into the database; rows per table.

    Each table is created or replaced under its contract name; a table absent from the folder is
    dropped. With ``events_per_day`` K ≥ 1, each daily usage row becomes K ``usage_ts`` events
    (timestamptz, between ``EVENT_HOURS_UTC``) whose quantities sum exactly to the day's
    (K-1 whole parts and the remainder); K = 0 keeps the daily ``usage_date`` rows.
    """
    frames = {table: _read_book_file(folder, table) for table in TABLES}
    if frames["usage"] is not None and events_per_day > 0:
        frames["usage"] = usage_events(frames["usage"], events_per_day)
    with _connect(uri, Params()) as cursor:
        for table, frame in frames.items():
            if frame is None:
                cursor.execute(f"DROP TABLE IF EXISTS {quote_name(table)}")
            else:
                cursor.adbc_ingest(table, frame.to_arrow(), mode="replace")
    return {table: frame.height for table, frame in frames.items() if frame is not None}


def usage_events(usage: pl.DataFrame, events_per_day: int) -> pl.DataFrame:
    """Daily usage rows -> ``events_per_day`` timestamped events each, same daily sums, exactly.

    Parts are ``floor(q / K)`` K-1 times and the remainder ``q - (K-1)·floor(q / K)``: whole numbers
    and one remainder add up to q in any order without rounding. A row that breaks a rule (null or
    negative quantity) stays one event, so it is rejected once, as in the file.
    """
    first, last = EVENT_HOURS_UTC
    step_us = (last - first) * 3_600_000_000 // events_per_day
    splits = pl.col("quantity").is_not_null() & (pl.col("quantity") >= 0)
    part = (pl.col("quantity") / events_per_day).floor()
    return (
        usage.with_columns(
            pl.int_ranges(0, pl.when(splits).then(events_per_day).otherwise(1)).alias("_event")
        )
        .explode("_event")
        .with_columns(
            (
                pl.col("usage_date").cast(pl.Datetime("us", "UTC"))
                + pl.duration(hours=first)
                + pl.duration(microseconds=pl.col("_event") * step_us)
            ).alias("usage_ts"),
            pl.when(~splits)
            .then(pl.col("quantity"))
            .when(pl.col("_event") < events_per_day - 1)
            .then(part)
            .otherwise(pl.col("quantity") - (events_per_day - 1) * part)
            .alias("quantity"),
        )
        .select(
            [name for name in usage.columns if name not in ("usage_date", "quantity")]
            + ["usage_ts", "quantity"]
        )
    )


def _netloc(parts: SplitResult, password: str | None) -> str:
    """The URI's user@host:port with the password replaced (None: removed); user kept as typed."""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    if password is None:
        return f"{user}@{hostport}" if user else hostport
    return f"{user}:{password}@{hostport}"


@contextmanager
def _connect(uri: str, params: Params) -> Iterator[adbc_driver_manager.dbapi.Cursor]:
    """An autocommit cursor on the database; driver errors become one-line InputErrors."""
    try:
        connection = adbc_driver_postgresql.dbapi.connect(
            connection_uri(uri, params), autocommit=True
        )
    except adbc_driver_manager.Error as exc:
        raise ConnectionFailed(_connect_message(uri, exc)) from None
    try:
        with connection, connection.cursor() as cursor:
            yield cursor
    except adbc_driver_manager.Error as exc:
        raise InputError(f"database {redact(uri)} refused a query: {_reason(exc)}") from None


def _table_schema(cursor: adbc_driver_manager.dbapi.Cursor, name: str) -> pa.Schema | None:
    """The Arrow schema of a database table, or None when it does not exist."""
    try:
        cursor.execute(f"SELECT * FROM {quote_name(name)} LIMIT 0")
    except adbc_driver_manager.Error as exc:
        if getattr(exc, "sqlstate", None) == _UNDEFINED_TABLE:
            return None
        raise
    return cursor.fetch_arrow_table().schema


def _read_table(
    cursor: adbc_driver_manager.dbapi.Cursor,
    table: str,
    name: str,
    schema: pa.Schema,
    timezone: str,
    usage_file: Path | None = None,
) -> RawTable:
    """One table read whole; usage streamed into ``usage_file`` when given (its columns kept)."""
    query = usage_query(name, schema, timezone) if table == "usage" else table_query(name, schema)
    streamed = table == "usage" and usage_file is not None
    if streamed:
        hint = adbc_driver_postgresql.StatementOptions.BATCH_SIZE_HINT_BYTES.value
        cursor.adbc_statement.set_options(**{hint: str(BATCH_BYTES)})
    cursor.execute(query)
    if streamed:
        assert usage_file is not None
        result = write_batches(cursor.fetch_record_batch(), usage_file).empty_table()
    else:
        result = cursor.fetch_arrow_table()
    frame = pl.from_arrow(result)
    assert isinstance(frame, pl.DataFrame)
    if table == "usage":
        frame = sort_usage(frame)
    return RawTable(name=table, origin=f"database table {name}", frame=frame, row_reference="key")


def _day(table: str, columns: Mapping[str, pa.DataType]) -> DaySource:
    """Which day a usage row has: usage_date, else usage_ts with or without a time zone."""
    if "usage_date" in columns:
        return "usage_date"
    kind = columns["usage_ts"]
    if not pa.types.is_timestamp(kind):
        raise InputError(
            f"usage: rule bad_type: column usage_ts of database table {table} holds "
            f"{_type_name(kind)}, not timestamps"
        )
    return "timestamp" if kind.tz is None else "timestamptz"


def _select_as_read(field: pa.Field) -> str:
    name = f'"{field.name}"'
    if _is_numeric(field.type):
        return f"CAST({name} AS double precision) AS {name}"
    if isinstance(field.type, pa.ExtensionType):
        return f"CAST({name} AS text) AS {name}"
    return name


def _is_numeric(kind: pa.DataType) -> bool:
    return isinstance(kind, pa.OpaqueType) and kind.type_name == "numeric"


def _type_name(kind: pa.DataType) -> str:
    return kind.type_name if isinstance(kind, pa.OpaqueType) else str(kind)


def _read_book_file(folder: Path, table: str) -> pl.DataFrame | None:
    """``<table>.parquet`` or ``<table>.csv`` of ``folder`` with the contract's types, or None."""
    paths = [folder / f"{table}{suffix}" for suffix in (".parquet", ".csv")]
    path = next((path for path in paths if path.is_file()), None)
    if path is None:
        return None
    try:
        frame = (
            pl.read_parquet(path)
            if path.suffix == ".parquet"
            else pl.read_csv(path, infer_schema_length=None, try_parse_dates=True)
        )
        contract = {name: dtype for name, dtype in COLUMNS[table].items() if name in frame.columns}
        return frame.cast(contract)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise InputError(f"cannot load {path} into the database: {_reason(exc)}") from None


def _connect_message(uri: str, exc: adbc_driver_manager.Error) -> str:
    reason = _reason(exc)
    hint = ""
    if "password" in reason:
        hint = " (the password comes from PGPASSWORD, ~/.pgpass or source.password_env)"
    return f"cannot connect to database {redact(uri)}: {reason}{hint}"


def _reason(exc: Exception) -> str:
    """The driver's message on one line: the end of its first line, after libpq's preambles."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return re.sub(r"\s+", " ", re.split(r"(?:FATAL|ERROR):\s+| failed: ", first)[-1]).strip()
