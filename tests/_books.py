"""Builders of small handmade books for the metrics tests (account ``a``, meter ``m``)."""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.params import Params


def usage(account: str, first: date, last: date, quantity: float, meter: str = "m") -> pl.DataFrame:
    """One usage row per day of [first, last], each with the same quantity."""
    days = pl.date_range(first, last, eager=True)
    return pl.DataFrame(
        {"account_id": account, "meter": meter, "usage_date": days, "quantity": quantity}
    )


def contract(
    contract_id: str,
    start: date,
    end: date | None,
    commit: float,
    account: str = "a",
    renewal_of: str | None = None,
) -> dict[str, object]:
    """One contracts row in USD."""
    return {
        "contract_id": contract_id,
        "account_id": account,
        "start_date": start,
        "end_date": end,
        "commit_amount": commit,
        "currency": "USD",
        "renewal_of": renewal_of,
    }


def make_book(
    contracts: list[dict[str, object]],
    usage_frames: list[pl.DataFrame],
    prices: dict[str, float] | None = None,
    segments: dict[str, str] | None = None,
    **optional: pl.DataFrame,
) -> Book:
    """The contracts' accounts (segment ``mid`` unless given in ``segments``), meter ``m`` at
    unit price 1 unless given in ``prices`` (by contract_id), plus optional tables."""
    segments, prices = segments or {}, prices or {}
    account_ids = sorted({str(row["account_id"]) for row in contracts})
    return Book.from_frames(
        accounts=pl.DataFrame(
            {
                "account_id": account_ids,
                "account_name": account_ids,
                "segment": [segments.get(a, "mid") for a in account_ids],
            }
        ),
        contracts=pl.DataFrame(contracts, schema_overrides={"end_date": pl.Date}),
        rate_card=pl.DataFrame(
            {
                "contract_id": [row["contract_id"] for row in contracts],
                "meter": "m",
                "unit_price": [prices.get(str(row["contract_id"]), 1.0) for row in contracts],
            }
        ),
        usage=pl.concat(usage_frames)
        if usage_frames
        else pl.DataFrame(schema={"account_id": pl.String}),
        **optional,
    )


def health_rows(the_book: Book, as_of: date, params: Params | None = None) -> dict[str, dict]:
    """account_health rows, as dicts by account_id."""
    frame = account_health(the_book, rate_usage(the_book), params or Params(), as_of).collect()
    return {row["account_id"]: row for row in frame.to_dicts()}


def limit_book(contracts, rate_card, usage=(), activities=()) -> Book:
    """A book for overconsumption tests, commit 0 everywhere, segment ``mid``.

    contracts: (contract_id, account_id, start, end); rate_card: (contract_id, meter,
    unit_price, included_quantity, overage_unit_price); usage: (account_id, meter, day, quantity);
    activities: (account_id, activity_type, day).
    """
    contract_frame = pl.DataFrame(
        contracts,
        schema=["contract_id", "account_id", "start_date", "end_date"],
        schema_overrides={"end_date": pl.Date},
        orient="row",
    ).with_columns(commit_amount=pl.lit(0.0), currency=pl.lit("USD"))
    accounts = contract_frame.select("account_id").unique().with_columns(segment=pl.lit("mid"))
    return Book.from_frames(
        accounts=accounts,
        contracts=contract_frame,
        rate_card=pl.DataFrame(
            rate_card,
            schema={
                "contract_id": pl.String,
                "meter": pl.String,
                "unit_price": pl.Float64,
                "included_quantity": pl.Float64,
                "overage_unit_price": pl.Float64,
            },
            orient="row",
        ),
        usage=pl.DataFrame(
            usage,
            schema={
                "account_id": pl.String,
                "meter": pl.String,
                "usage_date": pl.Date,
                "quantity": pl.Float64,
            },
            orient="row",
        ),
        activities=pl.DataFrame(
            activities,
            schema={"account_id": pl.String, "activity_type": pl.String, "activity_date": pl.Date},
            orient="row",
        ),
    )
