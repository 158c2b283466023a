"""Renewal scenarios (docs/forecasts.md#renewal-scenarios): the next term priced three ways at
the forecast median, for the account review."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.metrics.commit import NOT_LIVE, PAYGO, UNDER
from drawdown.metrics.forecast import HORIZON_DAYS, NEXT_28_DAYS, WINDOW_DAYS

PAY_OVERAGE, EXPAND_COMMIT, RIGHT_SIZE = "pay_overage", "expand_commit", "right_size"
SCENARIOS = (PAY_OVERAGE, EXPAND_COMMIT, RIGHT_SIZE)


def overage_ratio(rated: pl.LazyFrame, health: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account: Σ quantity × overage_unit_price / Σ amount over the forecast window's days
    [A − WINDOW_DAYS + 1, A] rated under the contract covering A — what a unit of spend costs
    past the commit (1.0 without such spend). Columns: account_id, _overage_ratio."""
    return (
        rated.filter(
            pl.col("usage_date").is_between(as_of - timedelta(days=WINDOW_DAYS - 1), as_of),
            pl.col("amount") > 0,
        )
        .join(health.select("account_id", "contract_id"), on=["account_id", "contract_id"])
        .group_by("account_id")
        .agg(
            (
                exact_sum(pl.col("quantity") * pl.col("overage_unit_price"))
                / exact_sum(pl.col("amount"))
            ).alias("_overage_ratio")
        )
    )


def renewal_scenarios(
    health: pl.LazyFrame, forecast: pl.LazyFrame, rated: pl.LazyFrame, as_of: date
) -> pl.LazyFrame:
    """The renewal scenarios of each committed, live account of account_health.

    The next term has the current term's length (next_term_days = term_days) and starts on the
    renewal_date (term_end + 1 day). forecast_consumption = the daily forecast median (p50 of the
    next 28 days / 28) × next_term_days, at today's unit prices. Scenarios:
    ``pay_overage`` (always): today's commit, plus the forecast past it at the overage price
    (overage_amount = max(0, forecast − commit) × the account's overage_ratio);
    ``expand_commit`` (forecast above today's commit): a commit of the forecast, at unit prices;
    ``right_size`` (band ``under``): a commit of the forecast. cost = commit_amount +
    overage_amount. No scenario for pay-as-you-go or ``not_live`` accounts. is_cheapest marks the
    lowest cost (ties: the order above); cost_over_cheapest = cost − that cost, so the cheapest's
    saving against each other scenario is that scenario's cost_over_cheapest. Columns:
    account_id, renewal_date, scenario, next_term_days, forecast_consumption, commit_amount,
    overage_amount, cost, is_cheapest, cost_over_cheapest; sorted by account_id, scenario order.
    """
    level = forecast.filter(pl.col("horizon") == NEXT_28_DAYS).select(
        "account_id", (pl.col("p50") / HORIZON_DAYS).alias("_level")
    )
    base = (
        health.filter(pl.col("commit_amount") > 0, ~pl.col("band").is_in([PAYGO, NOT_LIVE]))
        .join(level, on="account_id", how="left")
        .join(overage_ratio(rated, health, as_of), on="account_id", how="left")
        .select(
            "account_id",
            (pl.col("term_end") + pl.duration(days=1)).alias("renewal_date"),
            pl.col("term_days").alias("next_term_days"),
            (pl.col("_level").fill_null(0.0) * pl.col("term_days")).alias("forecast_consumption"),
            pl.col("commit_amount").alias("_commit"),
            pl.col("_overage_ratio").fill_null(1.0),
            "band",
        )
    )
    forecast_amount, commit = pl.col("forecast_consumption"), pl.col("_commit")
    past = (forecast_amount - commit).clip(lower_bound=0.0) * pl.col("_overage_ratio")
    options = pl.concat(
        [
            base.with_columns(
                pl.lit(PAY_OVERAGE).alias("scenario"),
                commit.alias("commit_amount"),
                past.alias("overage_amount"),
            ),
            base.filter(forecast_amount > commit).with_columns(
                pl.lit(EXPAND_COMMIT).alias("scenario"),
                forecast_amount.alias("commit_amount"),
                pl.lit(0.0).alias("overage_amount"),
            ),
            base.filter(pl.col("band") == UNDER).with_columns(
                pl.lit(RIGHT_SIZE).alias("scenario"),
                forecast_amount.alias("commit_amount"),
                pl.lit(0.0).alias("overage_amount"),
            ),
        ]
    )
    order = pl.col("scenario").replace_strict({name: i for i, name in enumerate(SCENARIOS)})
    cost = pl.col("cost")
    return (
        options.with_columns((pl.col("commit_amount") + pl.col("overage_amount")).alias("cost"))
        .sort("account_id", order)
        .with_columns(
            (pl.int_range(pl.len()).over("account_id") == cost.arg_min().over("account_id")).alias(
                "is_cheapest"
            ),
            (cost - cost.min().over("account_id")).alias("cost_over_cheapest"),
        )
        .select(
            "account_id",
            "renewal_date",
            "scenario",
            "next_term_days",
            "forecast_consumption",
            "commit_amount",
            "overage_amount",
            "cost",
            "is_cheapest",
            "cost_over_cheapest",
        )
    )
