"""The data contract (SPEC section 2): every table, column and type, declared once.

``COLUMNS`` maps each table to its columns and their Polars dtypes after validation.
``Book`` is a validated book of business: what every metric takes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

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
