"""The report series: rated spend per account and day, and per account and calendar month.

``daily_spend`` is also the c(a, d) every other metric sums: the rated amount of an account on a
day, all meters, up to the as-of date. Days without spend are not stored (c = 0 there).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.exact import exact_sum
from drawdown.inputs.contract import Book


def daily_spend(rated: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """c(a, d): the rated amount of account a on day d, summed over meters, for days d ≤ A.

    Columns: account_id, usage_date, amount. Days whose amount is 0 (no usage, or only
    out-of-contract / unrated usage) are not stored. Rows are in no particular order (sort
    for display: the metrics that need an order say so).
    """
    return (
        rated.filter(pl.col("usage_date") <= as_of, pl.col("amount") > 0)
        .group_by("account_id", "usage_date")
        .agg(exact_sum(pl.col("amount")).alias("amount"))
    )


def sorted_daily_spend(rated: pl.LazyFrame, as_of: date) -> pl.DataFrame:
    """``by_account_day(daily_spend(rated, as_of))``, collected: the same sums in the same order.

    When ``rated`` is in account_id order (``rate_usage`` keeps a validated book's usage order),
    the rows are grouped on one integer instead of on text and date: the account's place among
    the sorted account_ids (its run of equal account_ids) × 2³², plus the day, which is also the
    order of the result. Otherwise, ``by_account_day(daily_spend(rated, as_of))``.
    """
    if not _in_account_order(rated):
        return by_account_day(daily_spend(rated, as_of)).collect()
    spend = (
        rated.filter(pl.col("usage_date") <= as_of, pl.col("amount") > 0)
        .select("account_id", "usage_date", "amount")
        .collect()
    )
    accounts = spend.select(
        pl.col("account_id").rle().struct.field("value").alias("account_id")
    ).with_row_index("_place")
    day = pl.col("usage_date").cast(pl.Int64) + 2**31
    key = pl.col("account_id").rle_id().cast(pl.Int64) * 2**32 + day
    return (
        spend.lazy()
        .group_by(key.alias("_key"))
        .agg(exact_sum(pl.col("amount")).alias("amount"))
        .sort("_key")
        .with_columns(
            (pl.col("_key") // 2**32).cast(pl.UInt32).alias("_place"),
            (pl.col("_key") % 2**32 - 2**31).cast(pl.Int32).cast(pl.Date).alias("usage_date"),
        )
        .join(accounts.lazy(), on="_place", how="left", maintain_order="left")
        .select("account_id", "usage_date", "amount")
        .collect()
    )


def _in_account_order(frame: pl.LazyFrame) -> bool:
    """Whether every row's account_id is ≥ the row before's (no null account_id)."""
    account = pl.col("account_id")
    return (
        frame.select(
            ((account >= account.shift(1)).all() & account.is_not_null().all()).fill_null(True)
        )
        .collect()
        .item()
    )


def by_account_day(daily: pl.LazyFrame) -> pl.LazyFrame:
    """``daily`` sorted by account_id, then usage_date (no null day).

    The same order as ``sort("account_id", "usage_date")``, sorted on one integer instead: the
    account's place among the frame's sorted account_ids × 2³², plus the day (several times
    cheaper than a sort on text and date at tens of millions of rows).
    """
    places = daily.select(pl.col("account_id").unique().sort()).with_row_index("_place")
    key = pl.col("_place").cast(pl.Int64) * 2**32 + pl.col("usage_date").cast(pl.Int64) + 2**31
    return daily.join(places, on="account_id", how="left").sort(key).drop("_place")


def live_workflows(day: str) -> pl.Expr:
    """Aggregation: how many workflow rows are live on the date in column ``day``.

    Live: production_date ≤ day and (retired_date null or retired_date > day). Evaluate inside
    ``group_by(...).agg`` over workflow rows joined with the day.
    """
    return (
        (pl.col("production_date") <= pl.col(day))
        & (pl.col("retired_date").is_null() | (pl.col("retired_date") > pl.col(day)))
    ).sum()


def account_months(book: Book, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account and calendar month, from the month of its first contract start to A's month.

    amount: Σ c(a, d) over the month's days ≤ A (0 for a month without spend).
    outcome_count: the outcomes row of that month (summed if repeated; null without one).
    cost_per_outcome: amount / outcome_count; null without outcomes or when outcome_count = 0.
    workflows_live: workflows live at the month's end, or at A for A's month.
    Accounts whose first contract starts after A have no rows. Sorted by account_id, month.
    """
    months = (
        book.contracts.group_by("account_id")
        .agg(pl.col("start_date").min())
        .filter(pl.col("start_date") <= as_of)
        .select(
            "account_id",
            pl.date_ranges(
                pl.col("start_date").dt.month_start(),
                pl.lit(as_of).dt.month_start(),
                interval="1mo",
            ).alias("month"),
        )
        .explode("month")
    )
    spend = daily.group_by("account_id", pl.col("usage_date").dt.month_start().alias("month")).agg(
        exact_sum(pl.col("amount")).alias("amount")
    )
    outcomes = book.outcomes.group_by("account_id", pl.col("month").dt.month_start()).agg(
        exact_sum(pl.col("outcome_count")).alias("outcome_count")
    )
    workflows = (
        months.join(book.workflows, on="account_id")
        .with_columns(
            pl.min_horizontal(pl.col("month").dt.month_end(), pl.lit(as_of)).alias("_month_end")
        )
        .group_by("account_id", "month")
        .agg(live_workflows("_month_end").alias("workflows_live"))
    )
    return (
        months.join(spend, on=["account_id", "month"], how="left")
        .join(outcomes, on=["account_id", "month"], how="left")
        .join(workflows, on=["account_id", "month"], how="left")
        .with_columns(
            pl.col("amount").fill_null(0.0),
            pl.col("workflows_live").fill_null(0),
            pl.when(pl.col("outcome_count") > 0)
            .then(pl.col("amount").fill_null(0.0) / pl.col("outcome_count"))
            .alias("cost_per_outcome"),
        )
        .select(
            "account_id", "month", "amount", "outcome_count", "cost_per_outcome", "workflows_live"
        )
        .sort("account_id", "month")
    )
