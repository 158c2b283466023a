"""Validation: structural errors stop with a message naming file, row, column, rule and value;
row errors are rejected, counted and the run goes on; the Book has the contract's types."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from _folders import VALID, with_rows, write_folder
from drawdown.errors import InputError
from drawdown.inputs.contract import COLUMNS, RULES, SCHEMAS, TABLES
from drawdown.inputs.files import read_source
from drawdown.inputs.raw import RawTable
from drawdown.inputs.validate import daily_usage, load_book, validate
from drawdown.params import Params

WORKFLOWS = "account_id,workflow_id,production_date,retired_date\nA1,W1,2026-02-01,\n"
OUTCOMES = "account_id,month,outcome_count\nA1,2026-03-01,10\n"
ACTIVITIES = "activity_date,account_id,activity_type,owner\n2026-03-02,,usage_clinic,cs1\n"
BUDGETS = "account_id,monthly_budget,alert_threshold_pct,enabled_date\nA1,500,0.8,2026-01-15\n"


def _reconciles(validated) -> bool:
    """rows_read = rows_accepted + rows_rejected for every table."""
    tables = validated.quality.to_json()["tables"].values()
    return all(t["rows_read"] == t["rows_accepted"] + t["rows_rejected"] for t in tables)


# -- the valid book --------------------------------------------------------------------------


# the Book casts every table to COLUMNS, so its schema alone cannot fail; the parsed values can:
# "yes" -> True and a blank -> False (is_strategic), a blank end_date -> null (evergreen),
# "1200" -> 1200.0, an empty overage price -> null
def test_valid_book_parses_the_contract_values(tmp_path):
    book = load_book(write_folder(tmp_path), Params()).book
    accounts = book.accounts.sort("account_id").collect()
    assert accounts.select("account_id", "is_strategic").rows() == [("A1", True), ("A2", False)]
    contracts = book.contracts.sort("contract_id").collect()
    assert contracts.select("end_date", "commit_amount").rows() == [
        (date(2026, 12, 31), 1200.0),
        (None, 0.0),
    ]
    rates = book.rate_card.sort("contract_id").collect()
    assert rates.select("included_quantity", "overage_unit_price").rows() == [
        (100.0, None),
        (None, None),
    ]


def test_raw_usage_rows_are_summed_per_account_meter_and_day(tmp_path):
    # A1 api 2026-03-01: 5 + 7 = 12; four raw rows become three daily rows
    validated = load_book(write_folder(tmp_path), Params())
    usage = validated.book.usage.collect()
    assert usage.filter(account_id="A1", usage_date=date(2026, 3, 1))["quantity"].item() == 12
    assert validated.quality.usage_daily_rows == 3
    assert validated.quality.tables["usage"].rows_accepted == 4


def test_a_database_daily_sum_is_kept_as_the_database_summed_it(tmp_path):
    # Three events of 1063: a file of them is summed by the validator to 3189.0 (exact_sum). A
    # database sums them itself (docs/scale.md#warehouse-pushdown) and returns 3189.0 with
    # _events = 3; rounding that through the fixed point again (exact_value) would make it
    # 3188.9999999999995, so that the same events gave other bits from a database than from a file
    raw = read_source(write_folder(tmp_path), Params())
    day = {"account_id": ["A1"], "meter": ["api"], "usage_date": [date(2026, 3, 1)]}
    events = pl.DataFrame(
        {name: values * 3 for name, values in day.items()} | {"quantity": [1063.0] * 3}
    )
    summed = pl.DataFrame(day | {"quantity": [3189.0], "_events": [3]})
    raw["usage"] = RawTable("usage", "database table usage", summed, "key")
    usage = validate(raw, Params()).book.usage.collect()
    assert usage["quantity"].to_list() == daily_usage(events)["quantity"].to_list() == [3189.0]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("yes", True), ("TRUE", True), ("1", True), ("no", False), ("False", False), ("", False)],
)
def test_is_strategic_accepts_common_spellings_and_defaults_to_false(tmp_path, cell, expected):
    accounts = VALID["accounts"].replace("tc1,yes", f"tc1,{cell}")
    book = load_book(write_folder(tmp_path, accounts=accounts), Params()).book
    assert book.accounts.collect()["is_strategic"].to_list() == [expected, False]


def test_is_strategic_column_may_be_absent(tmp_path):
    accounts = (
        "account_id,account_name,segment,csm_owner,ae_owner,technical_counterpart\nA1,Acme,E,,,\n"
    )
    usage = "account_id,meter,usage_date,quantity\nA1,api,2026-03-01,1\n"
    book = load_book(write_folder(tmp_path, accounts=accounts, usage=usage), Params()).book
    assert book.accounts.collect()["is_strategic"].to_list() == [False]


def test_parquet_and_csv_give_the_same_book(tmp_path):
    from_csv = load_book(write_folder(tmp_path / "csv"), Params()).book
    folder = write_folder(tmp_path / "pq", usage=None)
    pl.read_csv(tmp_path / "csv" / "usage.csv", try_parse_dates=True).write_parquet(
        folder / "usage.parquet"
    )
    from_parquet = load_book(folder, Params()).book
    assert from_parquet.usage.collect().equals(from_csv.usage.collect())


@pytest.mark.parametrize(
    ("timezone", "day"),
    [("America/New_York", date(2026, 3, 1)), ("Europe/Berlin", date(2026, 3, 2))],
)
def test_usage_ts_becomes_the_date_in_the_timezone(tmp_path, timezone, day):
    # 2026-03-01T23:30Z is 18:30 in New York (still March 1st) and 00:30 on March 2nd in Berlin
    usage = "account_id,meter,usage_ts,quantity\nA1,api,2026-03-01T23:30:00Z,1\n"
    book = load_book(write_folder(tmp_path, usage=usage), Params(timezone=timezone)).book
    assert book.usage.collect()["usage_date"].to_list() == [day]


def test_usage_ts_without_offset_is_wall_clock_time_in_the_timezone(tmp_path):
    usage = "account_id,meter,usage_ts,quantity\nA1,api,2026-03-01 23:30:00,1\n"
    book = load_book(write_folder(tmp_path, usage=usage), Params(timezone="Europe/Berlin")).book
    assert book.usage.collect()["usage_date"].to_list() == [date(2026, 3, 1)]


def test_numeric_parquet_usage_ts_is_a_wrong_type_error(tmp_path):
    # a Parquet usage_ts typed as a number (epoch seconds?) is not a timestamp: stop, naming it
    folder = write_folder(tmp_path, usage=None)
    pl.DataFrame(
        {"account_id": ["A1"], "meter": ["api"], "usage_ts": [1.7e9], "quantity": [1.0]}
    ).write_parquet(folder / "usage.parquet")
    with pytest.raises(InputError, match=r"column usage_ts.*wrong_type.*Float64"):
        load_book(folder, Params())


def test_tz_aware_parquet_timestamps_are_converted(tmp_path):
    folder = write_folder(tmp_path, usage=None)
    pl.DataFrame(
        {
            "account_id": ["A1"],
            "meter": ["api"],
            "usage_ts": pl.Series(["2026-03-01T23:30:00Z"]).str.to_datetime(time_zone="UTC"),
            "quantity": [1.0],
        }
    ).write_parquet(folder / "usage.parquet")
    book = load_book(folder, Params(timezone="Europe/Berlin")).book
    assert book.usage.collect()["usage_date"].to_list() == [date(2026, 3, 2)]


# -- structural errors -----------------------------------------------------------------------

STRUCTURAL = [
    # (tables, table, row, column, rule, value)
    (
        {"usage": with_rows("usage", "A1,api,03/04/2026,1")},
        "usage",
        6,
        "usage_date",
        "wrong_type",
        "03/04/2026",
    ),
    (
        {"usage": with_rows("usage", "A1,api,2026-03-04,lots")},
        "usage",
        6,
        "quantity",
        "wrong_type",
        "lots",
    ),
    (
        {"accounts": with_rows("accounts", "A3,Gamma,SMB,,,,maybe")},
        "accounts",
        4,
        "is_strategic",
        "wrong_type",
        "maybe",
    ),
    (
        {"accounts": with_rows("accounts", "A1,Acme again,SMB,,,,")},
        "accounts",
        4,
        "account_id",
        "primary_key",
        "A1",
    ),
    (
        {"contracts": with_rows("contracts", "C1,A2,2027-01-01,,0,USD,")},
        "contracts",
        4,
        "contract_id",
        "primary_key",
        "C1",
    ),
    (
        {"rate_card": with_rows("rate_card", "C1,api,3.0,,")},
        "rate_card",
        4,
        "contract_id/meter",
        "primary_key",
        "contract_id='C1', meter='api'",
    ),
    (
        {"workflows": WORKFLOWS + "A1,W1,2026-02-03,\n"},
        "workflows",
        3,
        "account_id/workflow_id",
        "primary_key",
        "account_id='A1', workflow_id='W1'",
    ),
    (
        {"contracts": with_rows("contracts", "C3,A2,2025-06-01,2025-05-31,0,USD,")},
        "contracts",
        4,
        "start_date/end_date",
        "end_before_start",
        "start_date='2025-06-01', end_date='2025-05-31'",
    ),
    (
        {"contracts": with_rows("contracts", "C3,A2,2025-01-01,2025-12-31,0,EUR,")},
        "contracts",
        4,
        "currency",
        "currency_mismatch",
        "EUR",
    ),
]


@pytest.mark.parametrize(("tables", "table", "row", "column", "rule", "value"), STRUCTURAL)
def test_structural_error_names_file_row_column_rule_and_value(
    tmp_path, tables, table, row, column, rule, value
):
    folder = write_folder(tmp_path, **tables)
    with pytest.raises(InputError) as raised:
        load_book(folder, Params())
    shown = value if "=" in value else f"'{value}'"
    expected = f"{table} ({folder / f'{table}.csv'}) row {row}, column {column}, rule {rule}: value {shown}"
    assert expected in str(raised.value)


def test_overlapping_contracts_name_both_contracts_and_rows(tmp_path):
    # C1 runs through 2026; C3 of the same account starts mid-2026 -> overlap
    contracts = with_rows("contracts", "C3,A1,2026-06-01,,0,USD,")
    with pytest.raises(InputError) as raised:
        load_book(write_folder(tmp_path, contracts=contracts), Params())
    message = str(raised.value)
    assert "row 2 and row 4" in message and "rule overlapping_contracts" in message
    assert "'C1' (2026-01-01 to 2026-12-31) and 'C3' (2026-06-01 to open-ended)" in message


def test_contracts_that_touch_without_overlapping_are_fine(tmp_path):
    contracts = with_rows("contracts", "C3,A1,2027-01-01,,0,USD,")
    assert load_book(write_folder(tmp_path, contracts=contracts), Params()).book


def test_missing_column_names_table_file_and_column(tmp_path):
    usage = "account_id,meter,usage_date\nA1,api,2026-03-01\n"
    with pytest.raises(
        InputError, match=r"usage \(.*usage\.csv\) column quantity: rule missing_column"
    ):
        load_book(write_folder(tmp_path, usage=usage), Params())


def test_missing_required_table_is_structural_for_any_reader():
    with pytest.raises(InputError, match="usage: rule missing_table"):
        validate({}, Params())


def test_error_message_is_capped_with_a_count_of_the_rest(tmp_path):
    # 25 bad dates: 20 listed, "… and 5 more"
    usage = with_rows("usage", *(f"A1,api,bad{n},1" for n in range(25)))
    with pytest.raises(InputError) as raised:
        load_book(write_folder(tmp_path, usage=usage), Params())
    lines = str(raised.value).splitlines()
    assert len(lines) == 22 and lines[-1].strip() == "… and 5 more"


def test_database_rows_are_named_by_their_key():
    frame = pl.DataFrame(
        {
            "account_id": ["A1", "A1"],
            "account_name": ["Acme", "Acme 2"],
            "segment": ["E", "E"],
            "csm_owner": [None, None],
            "ae_owner": [None, None],
            "technical_counterpart": [None, None],
            "is_strategic": [False, False],
        }
    )
    raw = {
        table: RawTable(
            table, f"database table {table}", pl.DataFrame(schema=COLUMNS[table]), "key"
        )
        for table in ("contracts", "rate_card", "usage")
    } | {"accounts": RawTable("accounts", "database table accounts", frame, "key")}
    with pytest.raises(
        InputError,
        match=r"accounts \(database table accounts\) key account_id='A1', column account_id, rule primary_key",
    ):
        validate(raw, Params())


# -- row errors --------------------------------------------------------------------------------

ROW_ERRORS = [
    # (table, tables, row, rule, column, value)
    (
        "usage",
        {"usage": with_rows("usage", "A1,api,2026-03-04,-2")},
        6,
        "quantity|min",
        "quantity",
        "-2",
    ),
    (
        "usage",
        {"usage": with_rows("usage", "A1,api,2026-03-04,")},
        6,
        "quantity|nullability",
        "quantity",
        None,
    ),
    (
        "usage",
        {"usage": with_rows("usage", "A1,api,2026-03-04,NaN")},
        6,
        "quantity|nan",
        "quantity",
        "NaN",
    ),
    (
        "usage",
        {"usage": with_rows("usage", "A9,api,2026-03-04,1")},
        6,
        "unknown_account",
        "account_id",
        "A9",
    ),
    (
        "usage",
        {"usage": with_rows("usage", ",api,2026-03-04,1")},
        6,
        "account_id|nullability",
        "account_id",
        None,
    ),
    (
        "accounts",
        {"accounts": with_rows("accounts", "   ,Blank,SMB,,,,")},
        4,
        "account_id|regex",
        "account_id",
        "   ",
    ),
    (
        "contracts",
        {"contracts": with_rows("contracts", "C3,A9,2026-01-01,,0,USD,")},
        4,
        "unknown_account",
        "account_id",
        "A9",
    ),
    (
        "contracts",
        {"contracts": with_rows("contracts", "C3,A1,2028-01-01,,-5,USD,")},
        4,
        "commit_amount|min",
        "commit_amount",
        "-5",
    ),
    (
        "rate_card",
        {"rate_card": with_rows("rate_card", "C9,api,1.0,,")},
        4,
        "unknown_contract",
        "contract_id",
        "C9",
    ),
    (
        "rate_card",
        {"rate_card": with_rows("rate_card", "C1,db,-1.0,,")},
        4,
        "unit_price|min",
        "unit_price",
        "-1.0",
    ),
    (
        "rate_card",
        {"rate_card": with_rows("rate_card", "C1,db,1.0,-3,")},
        4,
        "included_quantity|min",
        "included_quantity",
        "-3",
    ),
    (
        "workflows",
        {"workflows": WORKFLOWS + "A1,W2,2026-02-01,2026-01-01\n"},
        3,
        "retired_before_production",
        "production_date/retired_date",
        "2026-01-01",
    ),
    (
        "workflows",
        {"workflows": WORKFLOWS + "A9,W2,2026-02-01,\n"},
        3,
        "unknown_account",
        "account_id",
        "A9",
    ),
    (
        "outcomes",
        {"outcomes": OUTCOMES + "A1,2026-04-15,3\n"},
        3,
        "month|check__first_of_month",
        "month",
        "2026-04-15",
    ),
    (
        "outcomes",
        {"outcomes": OUTCOMES + "A1,2026-04-01,-3\n"},
        3,
        "outcome_count|min",
        "outcome_count",
        "-3",
    ),
    (
        "activities",
        {"activities": ACTIVITIES + "2026-03-03,A1,coffee,cs1\n"},
        3,
        "activity_type|check__known_type",
        "activity_type",
        "coffee",
    ),
    (
        "activities",
        {"activities": ACTIVITIES + "2026-03-03,A9,usage_clinic,cs1\n"},
        3,
        "unknown_account",
        "account_id",
        "A9",
    ),
    (
        "budgets",
        {"budgets": BUDGETS + "A2,0,0.8,2026-01-15\n"},
        3,
        "monthly_budget|min_exclusive",
        "monthly_budget",
        "0",
    ),
    (
        "budgets",
        {"budgets": BUDGETS + "A2,100,2.5,2026-01-15\n"},
        3,
        "alert_threshold_pct|max",
        "alert_threshold_pct",
        "2.5",
    ),
    (
        "budgets",
        {"budgets": BUDGETS + "A2,100,0,2026-01-15\n"},
        3,
        "alert_threshold_pct|min_exclusive",
        "alert_threshold_pct",
        "0",
    ),
]


@pytest.mark.parametrize(("table", "tables", "row", "rule", "column", "value"), ROW_ERRORS)
def test_row_error_is_rejected_with_its_rule_row_and_value(
    tmp_path, table, tables, row, rule, column, value
):
    validated = load_book(write_folder(tmp_path, **tables), Params())
    rejected = validated.rejects[table]
    last_column = column.split("/")[-1]
    assert rejected.select("_row", last_column, "reason").rows() == [(row, value, rule)]
    assert validated.quality.tables[table].rejected_by_rule == {rule: 1}
    assert _reconciles(validated)


@pytest.mark.parametrize(("table", "tables", "row", "rule", "column", "value"), ROW_ERRORS)
def test_row_error_stops_a_strict_run_naming_file_row_column_rule_and_value(
    tmp_path, table, tables, row, rule, column, value
):
    folder = write_folder(tmp_path, **tables)
    with pytest.raises(InputError) as raised:
        load_book(folder, Params(strict=True))
    shown = "" if value is None else value
    expected = (
        f"{table} ({folder / f'{table}.csv'}) row {row}, column {column}, rule {rule}: value "
    )
    expected += (
        f"production_date='2026-02-01', retired_date='{shown}'" if "/" in column else f"'{shown}'"
    )
    assert expected in str(raised.value)


def test_a_rejected_contract_takes_its_rate_card_rows_with_it(tmp_path):
    # C3 belongs to an unknown account -> rejected; its rate-card row then has no contract
    contracts = with_rows("contracts", "C3,A9,2026-01-01,,0,USD,")
    rate_card = with_rows("rate_card", "C3,api,1.0,,")
    validated = load_book(
        write_folder(tmp_path, contracts=contracts, rate_card=rate_card), Params()
    )
    assert validated.rejects["rate_card"]["reason"].to_list() == ["unknown_contract"]


def test_rejects_keep_the_row_as_read_including_extra_columns(tmp_path):
    usage = "account_id,meter,usage_date,quantity,note\nA1,api,2026-03-01,1,ok\nA1,api,2026-03-04,-1,why\n"
    rejected = load_book(write_folder(tmp_path, usage=usage), Params()).rejects["usage"]
    assert rejected.row(0, named=True) == {
        "_row": 3,
        "account_id": "A1",
        "meter": "api",
        "usage_date": "2026-03-04",
        "quantity": "-1",
        "note": "why",
        "reason": "quantity|min",
    }


def test_a_row_breaking_several_rules_is_rejected_under_the_first_declared(tmp_path):
    # empty account_id (declared first) and a negative quantity
    usage = with_rows("usage", ",api,2026-03-04,-1")
    rejected = load_book(write_folder(tmp_path, usage=usage), Params()).rejects["usage"]
    assert rejected["reason"].to_list() == ["account_id|nullability"]


def test_portfolio_activities_without_an_account_are_accepted(tmp_path):
    validated = load_book(write_folder(tmp_path, activities=ACTIVITIES), Params())
    assert validated.book.activities.collect().height == 1
    assert "activities" not in validated.rejects


# -- reconciliation and rating exceptions ------------------------------------------------------


def test_every_fixture_reconciles_read_with_accepted_plus_rejected(tmp_path):
    tables = {
        "usage": with_rows("usage", "A1,api,2026-03-04,-2", "A9,api,2026-03-04,1"),
        "workflows": WORKFLOWS + "A9,W2,2026-02-01,\n",
        "outcomes": OUTCOMES,
        "activities": ACTIVITIES,
        "budgets": BUDGETS,
    }
    validated = load_book(write_folder(tmp_path, **tables), Params())
    assert _reconciles(validated)
    assert validated.quality.tables["usage"].rows_read == 6


def test_out_of_contract_and_unrated_usage_are_counted_not_rejected(tmp_path):
    # A1 on 2027-02-01: after C1 ends -> out of contract; A2 meter db: C2 has no db row -> unrated
    usage = with_rows("usage", "A1,api,2027-02-01,4", "A2,db,2026-03-01,6", "A2,db,2026-03-02,1")
    validated = load_book(write_folder(tmp_path, usage=usage), Params())
    quality = validated.quality.to_json()
    assert "usage" not in validated.rejects
    assert quality["out_of_contract"] == {
        "rows": 1,
        "quantity": 4.0,
        "accounts": [{"account_id": "A1", "rows": 1, "quantity": 4.0}],
    }
    assert quality["unrated"]["rows"] == 2 and quality["unrated"]["quantity"] == 7.0


# -- the contract itself -----------------------------------------------------------------------


@pytest.mark.parametrize("table", TABLES)
def test_every_rule_dataframely_derives_is_declared(table):
    declared = {rule.name for rule in RULES[table]}
    assert set(SCHEMAS[table]._validation_rules(with_cast=False)) <= declared


@pytest.mark.parametrize("table", TABLES)
def test_structural_rules_are_declared_before_row_rules(table):
    kinds = [rule.kind for rule in RULES[table]]
    assert kinds == sorted(kinds, key=lambda kind: kind != "structural")


# -- the validate command ----------------------------------------------------------------------


def test_cli_validate_prints_the_report_and_exits_0(tmp_path):
    from typer.testing import CliRunner

    from drawdown.cli import app

    usage = with_rows("usage", "A1,api,2026-03-04,-2")
    result = CliRunner().invoke(
        app, ["validate", "--data", str(write_folder(tmp_path, usage=usage))]
    )
    assert result.exit_code == 0, result.output
    assert "quantity|min" in result.output


def test_cli_validate_exits_2_naming_the_problem_without_traceback(tmp_path):
    from typer.testing import CliRunner

    from drawdown.cli import app

    usage = with_rows("usage", "A1,api,2026-13-01,1")
    result = CliRunner().invoke(
        app, ["validate", "--data", str(write_folder(tmp_path, usage=usage))]
    )
    assert result.exit_code == 2
    assert "row 6, column usage_date, rule wrong_type: value '2026-13-01'" in result.output
    assert "Traceback" not in result.output


def test_cli_validate_writes_rejects_when_asked(tmp_path):
    from typer.testing import CliRunner

    from drawdown.cli import app

    usage = with_rows("usage", "A9,api,2026-03-04,1")
    folder = write_folder(tmp_path / "data", usage=usage)
    result = CliRunner().invoke(
        app, ["validate", "--data", str(folder), "--rejects", str(tmp_path / "rejects")]
    )
    assert result.exit_code == 0, result.output
    rejected = pl.read_csv(tmp_path / "rejects" / "usage.csv", infer_schema=False)
    assert rejected.select("_row", "reason").rows() == [("6", "unknown_account")]


def test_validation_releases_the_rows_as_read_and_keeps_their_origin(tmp_path):
    # the tables as read are the largest frames while the usage is rated; validation empties
    # them once every row is checked, and the book and its counts come from the checked rows
    raw = read_source(write_folder(tmp_path), Params())
    origins = {table: read.origin for table, read in raw.items()}
    rows_read = {table: read.frame.height for table, read in raw.items()}
    validated = validate(raw, Params())
    assert {table: read.frame.height for table, read in raw.items()} == dict.fromkeys(raw, 0)
    assert {table: read.origin for table, read in raw.items()} == origins
    tables = validated.quality.to_json()["tables"]
    assert {table: tables[table]["rows_read"] for table in raw} == rows_read
    assert validated.book.usage.collect().height == validated.quality.usage_daily_rows > 0
