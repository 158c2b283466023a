"""Rating (docs/data-contract.md): price each day's usage with the contract covering that day.

Usage on day d for account a is rated with the contract of a that covers d and that contract's
rate-card row for the meter: amount = quantity × unit_price. Usage on a day no contract covers is
``out_of_contract``; usage of a meter the covering contract has no rate-card row for is
``unrated``. Both keep their rows (amount 0) so they can be counted, never dropped.
"""

from __future__ import annotations

import polars as pl

from drawdown.exact import exact_sum
from drawdown.inputs.contract import Book

RATED = "rated"
OUT_OF_CONTRACT = "out_of_contract"
UNRATED = "unrated"


def covers(day: str | pl.Expr, start: str = "start_date", end: str = "end_date") -> pl.Expr:
    """True where a contract covers the day: start_date ≤ day ≤ end_date (null end = evergreen)."""
    day_expr = pl.col(day) if isinstance(day, str) else day
    return (day_expr >= pl.col(start)) & (pl.col(end).is_null() | (day_expr <= pl.col(end)))


def rate_usage(book: Book) -> pl.LazyFrame:
    """Daily usage with its covering contract, prices and rating status.

    Columns: account_id, meter, usage_date, quantity, contract_id (null when out of contract),
    unit_price, included_quantity, overage_unit_price (null overage price = unit_price),
    rating_status (``rated`` / ``out_of_contract`` / ``unrated``) and amount (0 unless rated).
    Validation guarantees the contracts of an account do not overlap, so they and the gaps
    between them split the account's calendar (``_calendar_piece``): each usage row, joined with
    its account's contracts, is kept once, with the contract whose piece holds its day. The rows
    keep the usage's order (a validated book's: by account_id, meter, usage_date), which
    ``series.sorted_daily_spend`` groups on cheaply.
    """
    pieces = book.contracts.select(
        "account_id",
        "contract_id",
        "start_date",
        "end_date",
        pl.col("start_date").shift(-1).over("account_id", order_by="start_date").alias("_next"),
        (pl.col("start_date") == pl.col("start_date").min().over("account_id")).alias("_first"),
    )
    return (
        book.usage.join(pieces, on="account_id", how="left", maintain_order="left")
        .filter(pl.col("contract_id").is_null() | _calendar_piece("usage_date"))
        .with_columns(
            pl.when(covers("usage_date")).then(pl.col("contract_id")).alias("contract_id")
        )
        .drop("start_date", "end_date", "_next", "_first")
        .join(
            contract_prices(book.rate_card),
            on=["contract_id", "meter"],
            how="left",
            maintain_order="left",
        )
        .with_columns(rating_status(), amount())
    )


def _calendar_piece(day: str) -> pl.Expr:
    """True where a contract's piece of its account's calendar holds the day: its term
    [start_date, end_date], the gap after it up to the next contract's start (``_next``; no end
    after the last), and for the first contract (``_first``) every day before its start."""
    value = pl.col(day)
    after = pl.col("end_date").is_not_null() & (value > pl.col("end_date"))
    before_next = pl.col("_next").is_null() | (value < pl.col("_next"))
    return covers(day) | (after & before_next) | (pl.col("_first") & (value < pl.col("start_date")))


def contract_prices(rate_card: pl.LazyFrame) -> pl.LazyFrame:
    """Each (contract_id, meter)'s unit_price, included_quantity and overage_unit_price, a null
    overage price meaning the unit price."""
    return rate_card.select(
        "contract_id",
        "meter",
        "unit_price",
        "included_quantity",
        pl.coalesce("overage_unit_price", "unit_price").alias("overage_unit_price"),
    )


def rating_status() -> pl.Expr:
    """``out_of_contract`` without a covering contract, ``unrated`` without a rate-card row."""
    return (
        pl.when(pl.col("contract_id").is_null())
        .then(pl.lit(OUT_OF_CONTRACT))
        .when(pl.col("unit_price").is_null())
        .then(pl.lit(UNRATED))
        .otherwise(pl.lit(RATED))
        .alias("rating_status")
    )


def amount() -> pl.Expr:
    """Rated amount: quantity × unit_price; 0 for out-of-contract and unrated usage."""
    return (pl.col("quantity") * pl.col("unit_price")).fill_null(0.0).alias("amount")


def rating_exceptions(rated: pl.LazyFrame) -> pl.LazyFrame:
    """Out-of-contract and unrated usage per account: rows and quantity, by rating_status.

    Columns: account_id, rating_status, rows, quantity; sorted by account_id, rating_status.
    """
    return (
        rated.filter(pl.col("rating_status") != RATED)
        .group_by("account_id", "rating_status")
        .agg(pl.len().alias("rows"), exact_sum(pl.col("quantity")).alias("quantity"))
        .sort("account_id", "rating_status")
    )
