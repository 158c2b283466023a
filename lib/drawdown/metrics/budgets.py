"""Budget and alert status per account (docs/metrics.md#budget-and-alert-status).

The budget in force at A is the account's latest budget enabled on or before A. Its use is the
spend of A's month so far against the monthly budget; the alert is reached when that use is at
or above ``alert_threshold_pct``. Accounts without a budget have no row.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.exact import exact_sum


def account_budgets(
    health: pl.LazyFrame, budgets: pl.LazyFrame, daily: pl.LazyFrame, as_of: date
) -> pl.LazyFrame:
    """One row per account of ``health`` with a budget enabled on or before ``as_of``:
    monthly_budget, alert_threshold_pct and enabled_date of the latest such budget;
    month_to_date = Σ c over [first day of A's month, A] (``exact_sum``: the same bits
    whatever order the days come in, whole book, shard or Spark); budget_used = month_to_date /
    monthly_budget; alert_reached = budget_used ≥ alert_threshold_pct."""
    in_force = (
        budgets.filter(pl.col("enabled_date") <= as_of)
        .sort("account_id", "enabled_date")
        .group_by("account_id")
        .last()
    )
    month_to_date = (
        daily.filter(pl.col("usage_date").is_between(as_of.replace(day=1), as_of))
        .group_by("account_id")
        .agg(exact_sum(pl.col("amount")).alias("month_to_date"))
    )
    return (
        health.select("account_id")
        .join(in_force, on="account_id", how="inner")
        .join(month_to_date, on="account_id", how="left")
        .with_columns(pl.col("month_to_date").fill_null(0.0))
        .with_columns((pl.col("month_to_date") / pl.col("monthly_budget")).alias("budget_used"))
        .with_columns(
            (pl.col("budget_used") >= pl.col("alert_threshold_pct")).alias("alert_reached")
        )
        .select(
            "account_id",
            "monthly_budget",
            "alert_threshold_pct",
            "enabled_date",
            "month_to_date",
            "budget_used",
            "alert_reached",
        )
        .sort("account_id")
    )
