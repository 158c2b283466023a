"""The database source (drawdown.inputs.database): names, secrets, the pushed-down usage query, and a real
PostgreSQL server (``tests/postgres_server.py``) holding the sample book and small handmade ones."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from drawdown.cli import app
from drawdown.errors import InputError, ParamsError
from drawdown.inputs.contract import Book
from drawdown.inputs.database import (
    connection_uri,
    hide_password,
    quote_name,
    read_database,
    redact,
    strip_password,
    table_names,
    usage_events,
    usage_query,
    write_book,
)
from drawdown.inputs.files import read_source
from drawdown.inputs.raw import EVENTS_COLUMN
from drawdown.inputs.validate import load_book
from drawdown.inputs.warehouse import daily_usage_sql
from drawdown.metrics import compute_artifacts
from drawdown.params import Params, load_params
from postgres_server import PASSWORD, Server, postgres_server

USAGE_DATE = pa.schema(
    {
        "account_id": pa.string(),
        "meter": pa.string(),
        "usage_date": pa.date32(),
        "quantity": pa.float64(),
    }
)


def _usage_ts(tz: str | None) -> pa.Schema:
    return pa.schema(
        {
            "account_id": pa.string(),
            "meter": pa.string(),
            "usage_ts": pa.timestamp("us", tz=tz),
            "quantity": pa.float64(),
        }
    )


# -- secrets ------------------------------------------------------------------------------------


def test_redact_replaces_the_password():
    assert redact("postgresql://ann:pw@db:5432/book") == "postgresql://ann:***@db:5432/book"


def test_redact_leaves_a_uri_without_password_unchanged():
    assert redact("postgresql://ann@db:5432/book") == "postgresql://ann@db:5432/book"


def test_strip_password_returns_the_bare_uri_and_the_decoded_password():
    assert strip_password("postgresql://ann:p%40ss@db/book") == ("postgresql://ann@db/book", "p@ss")


def test_strip_password_takes_a_password_from_the_query():
    assert strip_password("postgresql://ann@db/book?password=pw&sslmode=require") == (
        "postgresql://ann@db/book?sslmode=require",
        "pw",
    )


def test_redact_hides_a_password_given_in_the_query():
    assert redact("postgresql://ann@db/book?password=pw") == "postgresql://ann:***@db/book"


def test_hide_password_moves_the_password_into_pgpassword(monkeypatch):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    assert hide_password("postgresql://ann:pw@db/book") == "postgresql://ann@db/book"
    assert os.environ["PGPASSWORD"] == "pw"


def test_connection_uri_takes_the_password_from_password_env(monkeypatch):
    monkeypatch.setenv("BOOK_DB_PASSWORD", "p&w")
    params = Params(source={"uri": "x", "password_env": "BOOK_DB_PASSWORD"})
    uri = connection_uri("postgresql://ann@db/book", params)
    assert uri == "postgresql://ann@db/book?connect_timeout=10&password=p%26w"


def test_connection_uri_without_password_env_leaves_the_password_to_libpq():
    assert connection_uri("postgresql://ann@db/book", Params()) == (
        "postgresql://ann@db/book?connect_timeout=10"
    )


def test_connection_uri_names_an_unset_password_env(monkeypatch):
    monkeypatch.delenv("BOOK_DB_PASSWORD", raising=False)
    params = Params(source={"uri": "x", "password_env": "BOOK_DB_PASSWORD"})
    with pytest.raises(InputError, match="BOOK_DB_PASSWORD, which is not set"):
        connection_uri("postgresql://ann@db/book", params)


def test_connection_uri_refuses_an_unsupported_scheme():
    with pytest.raises(InputError, match="scheme must be one of postgresql, postgres"):
        connection_uri("mysql://ann:pw@db/book", Params())


# -- names ---------------------------------------------------------------------------------------


def test_quote_name_quotes_every_part():
    assert quote_name("analytics.usage_events") == '"analytics"."usage_events"'


@pytest.mark.parametrize(
    "name", ["usage; DROP TABLE accounts", 'usage"', "a.b.c.d", "1usage", "", "usage.", "us age"]
)
def test_quote_name_refuses_anything_but_plain_identifiers(name):
    with pytest.raises(ParamsError, match="is not a table name"):
        quote_name(name)


def test_table_names_map_through_params_and_default_to_the_spec_names():
    params = Params(source={"uri": "x", "tables": {"usage": "analytics.usage_events"}})
    names = table_names(params)
    assert (names["usage"], names["accounts"]) == ("analytics.usage_events", "accounts")


def test_table_names_refuse_an_unknown_table():
    with pytest.raises(ParamsError, match=r"source\.tables\.usgae") as caught:
        load_params(overrides={"source": {"uri": "x", "tables": {"usgae": "usage_events"}}})
    assert caught.value.exit_code == 2


# -- the usage query -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schema", "day"),
    [
        (USAGE_DATE, "usage_date"),
        (_usage_ts("UTC"), "timestamptz"),
        (_usage_ts(None), "timestamp"),
    ],
)
def test_usage_query_is_the_one_daily_definition_in_postgres(schema, day):
    # docs/scale.md#warehouse-pushdown: the query DuckDB, Spark SQL and the warehouses receive
    assert usage_query("usage", schema, "Europe/Berlin") == daily_usage_sql(
        "usage", day, "Europe/Berlin", "postgres"
    )


def test_usage_query_converts_a_timestamptz_to_a_date_in_the_timezone():
    query = usage_query("usage", _usage_ts("UTC"), "Europe/Berlin")
    assert "CAST(usage_ts AT TIME ZONE 'Europe/Berlin' AS DATE) AS usage_date" in query


def test_usage_query_takes_the_date_of_a_naive_timestamp_as_is():
    query = usage_query("usage", _usage_ts(None), "Europe/Berlin")
    assert "CAST(usage_ts AS DATE) AS usage_date" in query


def test_usage_query_names_a_missing_column():
    schema = pa.schema(
        {"account_id": pa.string(), "usage_date": pa.date32(), "quantity": pa.float64()}
    )
    with pytest.raises(InputError, match="has no column meter"):
        usage_query("usage", schema, "UTC")


def test_usage_query_refuses_a_quantity_that_is_not_a_number():
    schema = USAGE_DATE.set(3, pa.field("quantity", pa.string()))
    with pytest.raises(InputError, match="column quantity of database table usage holds string"):
        usage_query("usage", schema, "UTC")


# -- events for the sample loader ------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0.0, 1.0, 2.0, 1234.5678, 0.1, 7e12 + 0.3])
def test_usage_events_sum_exactly_to_the_daily_quantity(quantity):
    daily = pl.DataFrame(
        {
            "account_id": ["a"],
            "meter": ["m"],
            "usage_date": [date(2026, 3, 1)],
            "quantity": [quantity],
        }
    )
    events = usage_events(daily, 3)
    # 3 events; the sum must be exact in any order
    assert events.height == 3
    assert events["quantity"].sum() == quantity
    assert events["quantity"].reverse().sum() == quantity


def test_usage_events_fall_on_the_day_between_nine_and_fifteen_utc():
    daily = pl.DataFrame(
        {"account_id": ["a"], "meter": ["m"], "usage_date": [date(2026, 3, 1)], "quantity": [9.0]}
    )
    # 6 hours over 3 events: 09:00, 11:00, 13:00 UTC
    assert usage_events(daily, 3)["usage_ts"].dt.hour().to_list() == [9, 11, 13]


def test_usage_events_keep_an_offending_row_as_one_event():
    daily = pl.DataFrame(
        {
            "account_id": ["a", "a"],
            "meter": ["m", "m"],
            "usage_date": [date(2026, 3, 1), date(2026, 3, 2)],
            "quantity": [-4.0, None],
        }
    )
    assert_frame_equal(usage_events(daily, 3)["quantity"].to_frame(), daily["quantity"].to_frame())


def test_write_book_names_a_file_that_does_not_fit_the_contract(tmp_path):
    (tmp_path / "accounts.csv").write_text("account_id,is_strategic\nA1,maybe\n")
    with pytest.raises(InputError, match=r"cannot load .*accounts.csv into the database"):
        write_book("postgresql://ann@127.0.0.1:1/book", tmp_path)


# -- against a real server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with postgres_server() as running:
        yield running


@pytest.fixture(scope="module")
def sample_uri(server, small_book) -> str:
    """The sample book in database ``sample``, usage as 3 timestamped events per daily row."""
    uri = server.database("sample")
    write_book(uri, small_book, events_per_day=3)
    return uri


@pytest.fixture(scope="module")
def small_uri(server) -> str:
    """Two accounts with a contract each; usage as raw events, one negative and one null."""
    uri = server.database("small")
    book = Book.from_frames(
        accounts=pl.DataFrame(
            {
                "account_id": ["a1", "a2"],
                "account_name": ["Acme", "Beta"],
                "segment": ["ent", "smb"],
                "is_strategic": [False] * 2,
            }
        ),
        contracts=pl.DataFrame(
            {
                "contract_id": ["c1", "c2"],
                "account_id": ["a1", "a2"],
                "start_date": [date(2026, 1, 1)] * 2,
                "end_date": [date(2026, 12, 31)] * 2,
                "commit_amount": [1200.0, 0.0],
                "currency": ["USD"] * 2,
            }
        ),
        rate_card=pl.DataFrame(
            {"contract_id": ["c1", "c2"], "meter": ["api"] * 2, "unit_price": [1.0, 2.0]}
        ),
    )
    for table in ("accounts", "contracts", "rate_card"):
        server.ingest(uri, table, getattr(book, table).collect())
    server.execute(
        uri,
        "CREATE TABLE usage (account_id text, meter text, usage_ts timestamptz, quantity numeric)",
        # a1 on 2 March (UTC): 2 + 3 + 4 -> 9; 23:30 UTC is 3 March in Berlin
        "INSERT INTO usage VALUES ('a1', 'api', '2026-03-02 08:00Z', 2), ('a1', 'api', '2026-03-02 12:00Z', 3),"
        " ('a1', 'api', '2026-03-02 23:30Z', 4), ('a2', 'api', '2026-03-02 10:00Z', -1),"
        " ('a2', 'api', '2026-03-02 11:00Z', NULL), ('a2', 'api', '2026-03-02 12:00Z', 6)",
    )
    return uri


def _closed_port_uri() -> str:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"postgresql://drawdown@127.0.0.1:{port}/drawdown"


@pytest.mark.postgres
def test_usage_comes_back_summed_per_day_with_offending_rows_one_by_one(small_uri):
    usage = read_database(small_uri, Params())["usage"].frame
    expected = pl.DataFrame(
        {
            "account_id": ["a1", "a2", "a2", "a2"],
            "meter": ["api"] * 4,
            "usage_date": [date(2026, 3, 2)] * 4,
            "quantity": [9.0, -1.0, None, 6.0],
            EVENTS_COLUMN: [3, 1, 1, 1],
        }
    )
    assert_frame_equal(
        usage.sort("account_id", "quantity", nulls_last=True),
        expected.sort("account_id", "quantity", nulls_last=True),
    )


@pytest.mark.postgres
def test_usage_day_follows_the_timezone(small_uri):
    usage = read_database(small_uri, Params(timezone="Europe/Berlin"))["usage"].frame
    a1 = usage.filter(pl.col("account_id") == "a1").select("usage_date", "quantity")
    # 23:30 UTC on 2 March is 00:30 on 3 March in Berlin
    assert a1.rows() == [(date(2026, 3, 2), 5.0), (date(2026, 3, 3), 4.0)]


@pytest.mark.postgres
def test_database_tables_are_named_by_key_and_origin(small_uri):
    usage = read_database(small_uri, Params())["usage"]
    assert (usage.origin, usage.row_reference) == ("database table usage", "key")
    assert "_row" not in usage.frame.columns


@pytest.mark.postgres
def test_absent_optional_tables_are_left_out(small_uri):
    assert set(read_database(small_uri, Params())) == {
        "accounts",
        "contracts",
        "rate_card",
        "usage",
    }


@pytest.mark.postgres
def test_numeric_columns_arrive_as_float(small_uri):
    assert read_database(small_uri, Params())["usage"].frame.schema["quantity"] == pl.Float64


@pytest.mark.postgres
def test_mapped_table_is_read_from_its_schema(server, small_uri):
    server.execute(
        small_uri,
        "CREATE SCHEMA IF NOT EXISTS analytics",
        "CREATE OR REPLACE VIEW analytics.usage_events AS SELECT * FROM usage WHERE account_id = 'a1'",
    )
    params = Params(source={"uri": small_uri, "tables": {"usage": "analytics.usage_events"}})
    usage = read_database(small_uri, params)["usage"]
    assert (usage.origin, usage.frame["account_id"].unique().to_list()) == (
        "database table analytics.usage_events",
        ["a1"],
    )


@pytest.mark.postgres
def test_missing_required_table_is_a_one_line_input_error(small_uri):
    params = Params(source={"uri": small_uri, "tables": {"usage": "usage_missing"}})
    with pytest.raises(InputError) as raised:
        read_database(small_uri, params)
    assert "usage: rule missing_table" in str(raised.value)
    assert "database table usage_missing not found" in str(raised.value)
    assert "\n" not in str(raised.value)


@pytest.mark.postgres
def test_wrong_password_is_a_one_line_input_error_without_the_password(server):
    bad = server.uri.replace("drawdown@", "drawdown:not-the-password@")
    with pytest.raises(InputError) as raised:
        read_database(bad, Params())
    message = str(raised.value)
    assert "password authentication failed" in message
    assert "not-the-password" not in message and "\n" not in message


@pytest.mark.postgres
def test_unreachable_server_is_a_one_line_input_error():
    with pytest.raises(InputError, match=r"^cannot connect to database .*: Connection refused$"):
        read_database(_closed_port_uri(), Params())


@pytest.mark.postgres
def test_usage_rows_fetched_are_the_distinct_account_meter_days(small_book, sample_uri):
    usage = read_database(sample_uri, Params())["usage"].frame
    daily = read_source(small_book, Params())["usage"].frame
    # 3 events per daily row went in; one row per (account, meter, day) came out
    assert usage.height == daily.select("account_id", "meter", "usage_date").n_unique()
    assert usage[EVENTS_COLUMN].sum() == 3 * daily.height


@pytest.mark.postgres
def test_database_book_equals_file_book(small_book, sample_uri):
    from_files = load_book(small_book, Params()).book.tables()
    from_database = load_book(sample_uri, Params()).book.tables()
    for table, frame in from_files.items():
        assert_frame_equal(from_database[table].collect(), frame.collect(), check_row_order=False)


@pytest.mark.postgres
def test_database_artifacts_equal_file_artifacts(small_book, sample_uri):
    from_files = compute_artifacts(load_book(small_book, Params()).book, Params())
    from_database = compute_artifacts(load_book(sample_uri, Params()).book, Params())
    assert from_files.keys() == from_database.keys()
    for name, frame in from_files.items():
        assert_frame_equal(from_database[name], frame)


@pytest.mark.postgres
def test_load_sample_moves_a_typed_password_out_of_its_output(server, tmp_path):
    uri = server.database("loaded")
    typed = uri.replace("drawdown@", f"drawdown:{PASSWORD}@")
    result = CliRunner().invoke(
        app, ["load-sample", "--into", typed, "--accounts", "40", "--days", "365"]
    )
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    assert set(read_database(uri, Params())) >= {"accounts", "contracts", "rate_card", "usage"}


@pytest.mark.postgres
@pytest.mark.parametrize(
    "source",
    ["wrong_password", "closed_port", "missing_table"],
)
def test_cli_reports_a_database_error_in_one_line_with_exit_2(server, small_uri, source):
    uri = {
        "wrong_password": server.uri.replace("drawdown@", "drawdown:not-the-password@"),
        "closed_port": _closed_port_uri(),
        "missing_table": server.uri,  # database drawdown holds no tables
    }[source]
    result = CliRunner().invoke(app, ["validate", "--data", uri])
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "not-the-password" not in result.output


@pytest.mark.postgres
def test_run_folder_never_holds_the_password(sample_uri, tmp_path):
    typed = sample_uri.replace("drawdown@", f"drawdown:{PASSWORD}@")
    out = tmp_path / "run"
    result = CliRunner().invoke(
        app, ["run", "--data", typed, "--out", str(out), "--format", "none"]
    )
    assert result.exit_code == 0, result.output
    leaks = [
        path for path in out.rglob("*") if path.is_file() and PASSWORD.encode() in path.read_bytes()
    ]
    assert leaks == []
    assert PASSWORD not in result.output


@pytest.mark.postgres
def test_offending_database_rows_are_rejected_by_the_validator(small_uri):
    quality = load_book(small_uri, Params()).quality.tables["usage"]
    # a2's -1 and NULL events came back one by one; a1's three events and a2's 6 were summed
    assert quality.rejected_by_rule == {"quantity|min": 1, "quantity|nullability": 1}
