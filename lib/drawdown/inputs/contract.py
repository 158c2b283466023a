"""The data contract (docs/data-contract.md): every table, column, type and rule, declared once.

``COLUMNS`` maps each table to its columns and their Polars dtypes after validation.
``SCHEMAS`` holds one dataframely schema per table: the per-row rules and the keys.
``RULES`` names every rule, in the order a rejected row's ``reason`` is chosen, with its columns
and its class: *structural* (the run stops, exit 2) or *row* (the row is rejected and counted).
``Book`` is a validated book of business: what every metric takes.

Rule names appear verbatim in error messages, rejects files and ``data_quality.json``. Rules
that dataframely derives from a column are named ``<column>|<check>`` (``quantity|min``: a
negative quantity; ``quantity|nullability``: an empty one; ``quantity|nan``); rules across columns,
tables or rows have plain names (``primary_key``, ``unknown_account``, ``overlapping_contracts``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Literal

import dataframely as dy
import polars as pl

REQUIRED_TABLES = ("accounts", "contracts", "rate_card", "usage")
OPTIONAL_TABLES = ("workflows", "outcomes", "activities", "budgets")
TABLES = REQUIRED_TABLES + OPTIONAL_TABLES

ACTIVITY_TYPES = (
    "value_review",
    "usage_clinic",
    "onboarding_review",
    "technical_counterpart_assigned",
    "overconsumption_conversation",
    "expansion_opportunity",
    "scope_reduction",
)

COLUMNS: dict[str, dict[str, pl.DataType]] = {
    "accounts": {
        "account_id": pl.String(),
        "account_name": pl.String(),
        "segment": pl.String(),
        "csm_owner": pl.String(),
        "ae_owner": pl.String(),
        "technical_counterpart": pl.String(),
        "is_strategic": pl.Boolean(),
    },
    "contracts": {
        "contract_id": pl.String(),
        "account_id": pl.String(),
        "start_date": pl.Date(),
        "end_date": pl.Date(),
        "commit_amount": pl.Float64(),
        "currency": pl.String(),
        "renewal_of": pl.String(),
    },
    "rate_card": {
        "contract_id": pl.String(),
        "meter": pl.String(),
        "unit_price": pl.Float64(),
        "included_quantity": pl.Float64(),
        "overage_unit_price": pl.Float64(),
    },
    "usage": {
        "account_id": pl.String(),
        "meter": pl.String(),
        "usage_date": pl.Date(),
        "quantity": pl.Float64(),
    },
    "workflows": {
        "account_id": pl.String(),
        "workflow_id": pl.String(),
        "production_date": pl.Date(),
        "retired_date": pl.Date(),
    },
    "outcomes": {
        "account_id": pl.String(),
        "month": pl.Date(),
        "outcome_count": pl.Float64(),
    },
    "activities": {
        "activity_date": pl.Date(),
        "account_id": pl.String(),
        "activity_type": pl.String(),
        "owner": pl.String(),
    },
    "budgets": {
        "account_id": pl.String(),
        "monthly_budget": pl.Float64(),
        "alert_threshold_pct": pl.Float64(),
        "enabled_date": pl.Date(),
    },
}


OPTIONAL_COLUMNS: dict[str, dict[str, pl.Expr]] = {
    "accounts": {"is_strategic": pl.lit(False)},
}
"""Columns a source may omit, with the value they take when absent or empty."""

USAGE_TIMESTAMP = "usage_ts"
"""The column ``usage`` may carry instead of ``usage_date``: a timestamp, converted to a date in
``params.timezone`` (a timestamp with an offset or zone is converted; one without is taken as
wall-clock time in ``params.timezone``)."""

TRUE_WORDS = ("true", "1", "yes")
FALSE_WORDS = ("false", "0", "no")
"""Accepted spellings of a boolean, compared case-insensitively."""

DATE_FORMAT = "%Y-%m-%d"

ROW_KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "contracts": ("contract_id",),
    "rate_card": ("contract_id", "meter"),
    "usage": ("account_id", "meter", "usage_date"),
    "workflows": ("account_id", "workflow_id"),
    "outcomes": ("account_id", "month"),
    "activities": ("account_id", "activity_date", "activity_type"),
    "budgets": ("account_id", "enabled_date"),
}
"""Columns that name a row where there is no file row (database tables)."""

PARENTS: dict[str, tuple[str, str]] = {
    "contracts": ("account_id", "accounts"),
    "rate_card": ("contract_id", "contracts"),
    "usage": ("account_id", "accounts"),
    "workflows": ("account_id", "accounts"),
    "outcomes": ("account_id", "accounts"),
    "activities": ("account_id", "accounts"),
    "budgets": ("account_id", "accounts"),
}
"""Foreign keys: table -> (column, parent table whose accepted rows hold that key). A null key in
``activities.account_id`` is a portfolio-level activity, not an unknown account."""

LIMITS: dict[str, float] = {
    "quantity": 1e12,
    "included_quantity": 1e12,
    "outcome_count": 1e12,
    "unit_price": 1e6,
    "overage_unit_price": 1e6,
    "commit_amount": 1e15,
    "monthly_budget": 1e15,
}
"""The largest value each number column accepts (rule ``<column>|check__too_large``).

The metrics sum in 128-bit fixed point, exact below 1e20 (``drawdown.exact``): with
these bounds a rated usage row (quantity × unit_price) stays within 1e18, so sums of a book's
amounts cannot overflow. A larger value is rejected as a row error, never left to overflow later."""


def _too_large(column: str) -> dict[str, Callable[[pl.Expr], pl.Expr]]:
    """The dataframely check of ``column`` against ``LIMITS[column]`` (null passes)."""
    return {"too_large": lambda value: value <= LIMITS[column]}


INDEX = "_index"
"""Position of a row in its raw table (0-based), carried through validation to find it again."""


class _Table(dy.Schema):
    _index = dy.UInt32(nullable=True)


class AccountsSchema(_Table):
    """accounts: one row per account, ``account_id`` unique and non-blank."""

    account_id = dy.String(primary_key=True, regex=r"\S")
    account_name = dy.String()
    segment = dy.String()
    csm_owner = dy.String(nullable=True)
    ae_owner = dy.String(nullable=True)
    technical_counterpart = dy.String(nullable=True)
    is_strategic = dy.Bool(nullable=True)  # empty means false: filled while parsing


class ContractsSchema(_Table):
    """contracts: ``contract_id`` unique; end_date (null = evergreen) on or after start_date."""

    contract_id = dy.String(primary_key=True, regex=r"\S")
    account_id = dy.String()
    start_date = dy.Date()
    end_date = dy.Date(nullable=True)
    commit_amount = dy.Float64(min=0, check=_too_large("commit_amount"))
    currency = dy.String(nullable=True)
    renewal_of = dy.String(nullable=True)

    @dy.rule()
    def end_before_start(cls) -> pl.Expr:
        """end_date < start_date (a null on either side passes)."""
        return ~(pl.col("end_date") < pl.col("start_date")).fill_null(False)


class RateCardSchema(_Table):
    """rate_card: unique on (contract_id, meter); prices and included quantity ≥ 0."""

    contract_id = dy.String(primary_key=True)
    meter = dy.String(primary_key=True)
    unit_price = dy.Float64(min=0, check=_too_large("unit_price"))
    included_quantity = dy.Float64(nullable=True, min=0, check=_too_large("included_quantity"))
    overage_unit_price = dy.Float64(nullable=True, min=0, check=_too_large("overage_unit_price"))


class UsageSchema(_Table):
    """usage: raw rows (events or daily totals) with a finite quantity ≥ 0."""

    account_id = dy.String(regex=r"\S")
    meter = dy.String()
    usage_date = dy.Date()
    quantity = dy.Float64(min=0, check=_too_large("quantity"))


class WorkflowsSchema(_Table):
    """workflows: unique on (account_id, workflow_id); retired_date ≥ production_date."""

    account_id = dy.String(primary_key=True)
    workflow_id = dy.String(primary_key=True)
    production_date = dy.Date()
    retired_date = dy.Date(nullable=True)

    @dy.rule()
    def retired_before_production(cls) -> pl.Expr:
        """retired_date < production_date (a null retired_date passes)."""
        return ~(pl.col("retired_date") < pl.col("production_date")).fill_null(False)


class OutcomesSchema(_Table):
    """outcomes: a month on its first day and an outcome_count ≥ 0."""

    account_id = dy.String()
    month = dy.Date(check={"first_of_month": lambda month: month.dt.day() == 1})
    outcome_count = dy.Float64(min=0, check=_too_large("outcome_count"))


class ActivitiesSchema(_Table):
    """activities: a known activity_type; account_id may be null (portfolio-level)."""

    activity_date = dy.Date()
    account_id = dy.String(nullable=True)
    activity_type = dy.String(check={"known_type": lambda kind: kind.is_in(ACTIVITY_TYPES)})
    owner = dy.String(nullable=True)


class BudgetsSchema(_Table):
    """budgets: monthly_budget > 0 and alert_threshold_pct in (0, 2]."""

    account_id = dy.String()
    monthly_budget = dy.Float64(min_exclusive=0, check=_too_large("monthly_budget"))
    alert_threshold_pct = dy.Float64(min_exclusive=0, max=2)
    enabled_date = dy.Date()


SCHEMAS: dict[str, type[dy.Schema]] = {
    "accounts": AccountsSchema,
    "contracts": ContractsSchema,
    "rate_card": RateCardSchema,
    "usage": UsageSchema,
    "workflows": WorkflowsSchema,
    "outcomes": OutcomesSchema,
    "activities": ActivitiesSchema,
    "budgets": BudgetsSchema,
}


@dataclass(frozen=True)
class Rule:
    """One named rule of the contract.

    name: as it appears in errors, rejects and data_quality.json.
    columns: the columns whose values an error message shows.
    kind: ``structural`` stops the run (exit 2); ``row`` rejects the row and the run continues
        (unless ``params.strict``).
    """

    name: str
    columns: tuple[str, ...]
    kind: Literal["structural", "row"]
    description: str


def _rule(name: str, kind: Literal["structural", "row"], description: str) -> Rule:
    """A rule on one column, named ``<column>|<check>`` after that column."""
    return Rule(name, (name.split("|")[0],), kind, description)


def _column_rules(column: str, *checks: str) -> tuple[Rule, ...]:
    """Row rules dataframely derives from a column's declaration, in its naming."""
    meaning = {
        "nullability": "is empty",
        "regex": "is blank",
        "min": "is negative",
        "min_exclusive": "is not above its minimum",
        "max": "is above its maximum",
        "nan": "is NaN",
        "inf": "is infinite",
        "check__first_of_month": "is not the first day of a month",
        "check__known_type": f"is not one of {', '.join(ACTIVITY_TYPES)}",
        "check__too_large": f"is above {LIMITS.get(column, 0):g}, too large to sum exactly",
    }
    return tuple(
        _rule(f"{column}|{check}", "row", f"{column} {meaning[check]}") for check in checks
    )


_FILE_RULES = (
    Rule("missing_table", (), "structural", "a required table is absent from the source"),
    Rule("ambiguous_table", (), "structural", "a table exists as both .csv and .parquet"),
    Rule("unreadable_file", (), "structural", "the file cannot be read as CSV or Parquet"),
    Rule("missing_column", (), "structural", "a required column is absent"),
    Rule("duplicate_column", (), "structural", "the header names a column twice"),
    Rule("wrong_type", (), "structural", "a value does not parse as its column's type"),
)
_MONEY = ("nullability", "min", "nan", "inf", "check__too_large")
_OPTIONAL_MONEY = ("min", "nan", "inf", "check__too_large")

RULES: dict[str, tuple[Rule, ...]] = {
    "accounts": (
        *_FILE_RULES,
        Rule("primary_key", ("account_id",), "structural", "account_id is not unique"),
        *_column_rules("account_id", "nullability", "regex"),
        *_column_rules("account_name", "nullability"),
        *_column_rules("segment", "nullability"),
    ),
    "contracts": (
        *_FILE_RULES,
        Rule("primary_key", ("contract_id",), "structural", "contract_id is not unique"),
        Rule(
            "end_before_start",
            ("start_date", "end_date"),
            "structural",
            "end_date is before start_date",
        ),
        Rule("currency_mismatch", ("currency",), "structural", "currency is not params.currency"),
        Rule(
            "overlapping_contracts",
            ("contract_id", "start_date", "end_date"),
            "structural",
            "two contracts of one account cover the same day",
        ),
        *_column_rules("contract_id", "nullability", "regex"),
        *_column_rules("account_id", "nullability"),
        *_column_rules("start_date", "nullability"),
        *_column_rules("commit_amount", *_MONEY),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
    "rate_card": (
        *_FILE_RULES,
        Rule("primary_key", ("contract_id", "meter"), "structural", "(contract_id, meter) repeats"),
        *_column_rules("contract_id", "nullability"),
        *_column_rules("meter", "nullability"),
        *_column_rules("unit_price", *_MONEY),
        *_column_rules("included_quantity", *_OPTIONAL_MONEY),
        *_column_rules("overage_unit_price", *_OPTIONAL_MONEY),
        Rule(
            "unknown_contract",
            ("contract_id",),
            "row",
            "contract_id is not an accepted contract",
        ),
    ),
    "usage": (
        *_FILE_RULES,
        Rule(
            "bad_type",
            ("quantity", "usage_ts"),
            "structural",
            "database usage: quantity is not numeric, or usage_ts is not a timestamp",
        ),
        *_column_rules("account_id", "nullability", "regex"),
        *_column_rules("meter", "nullability"),
        *_column_rules("usage_date", "nullability"),
        *_column_rules("quantity", "nullability", "nan", "inf", "min", "check__too_large"),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
    "workflows": (
        *_FILE_RULES,
        Rule(
            "primary_key",
            ("account_id", "workflow_id"),
            "structural",
            "(account_id, workflow_id) repeats",
        ),
        *_column_rules("account_id", "nullability"),
        *_column_rules("workflow_id", "nullability"),
        *_column_rules("production_date", "nullability"),
        Rule(
            "retired_before_production",
            ("production_date", "retired_date"),
            "row",
            "retired_date is before production_date",
        ),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
    "outcomes": (
        *_FILE_RULES,
        *_column_rules("account_id", "nullability"),
        *_column_rules("month", "nullability", "check__first_of_month"),
        *_column_rules("outcome_count", *_MONEY),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
    "activities": (
        *_FILE_RULES,
        *_column_rules("activity_date", "nullability"),
        *_column_rules("activity_type", "nullability", "check__known_type"),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
    "budgets": (
        *_FILE_RULES,
        *_column_rules("account_id", "nullability"),
        *_column_rules(
            "monthly_budget", "nullability", "min_exclusive", "nan", "inf", "check__too_large"
        ),
        *_column_rules("alert_threshold_pct", "nullability", "min_exclusive", "max", "nan", "inf"),
        *_column_rules("enabled_date", "nullability"),
        Rule("unknown_account", ("account_id",), "row", "account_id is not an accepted account"),
    ),
}
"""Every rule per table, in the order a row failing several is given its ``reason`` (the first)."""


def rule(table: str, name: str) -> Rule:
    """The rule ``name`` of ``table``; KeyError if the contract does not declare it."""
    return {declared.name: declared for declared in RULES[table]}[name]


def empty_frame(table: str) -> pl.LazyFrame:
    """A table with the contract's columns and no rows (an absent optional table)."""
    return pl.LazyFrame(schema=COLUMNS[table])


@dataclass(frozen=True)
class Book:
    """A validated book of business, one LazyFrame per table with exactly ``COLUMNS[table]``.

    ``usage`` is daily: one row per (account_id, meter, usage_date), raw events summed.
    Optional tables that were absent are empty frames.
    """

    accounts: pl.LazyFrame
    contracts: pl.LazyFrame
    rate_card: pl.LazyFrame
    usage: pl.LazyFrame
    workflows: pl.LazyFrame
    outcomes: pl.LazyFrame
    activities: pl.LazyFrame
    budgets: pl.LazyFrame

    @classmethod
    def from_frames(cls, **frames: pl.DataFrame | pl.LazyFrame) -> Book:
        """Build a book from frames (tests, samples); missing optional tables become empty.

        Columns are cast to the contract's dtypes and put in contract order.
        """
        tables = {}
        for table in TABLES:
            frame = frames.get(table)
            if frame is None:
                tables[table] = empty_frame(table)
                continue
            columns = COLUMNS[table]
            tables[table] = frame.lazy().select(
                pl.col(name).cast(dtype)
                if name in frame.lazy().collect_schema()
                else pl.lit(None, dtype).alias(name)
                for name, dtype in columns.items()
            )
        unknown = set(frames) - set(TABLES)
        if unknown:
            raise ValueError(f"unknown tables: {sorted(unknown)}")
        return cls(**tables)

    def tables(self) -> dict[str, pl.LazyFrame]:
        """The tables by name."""
        return {field.name: getattr(self, field.name) for field in fields(self)}
