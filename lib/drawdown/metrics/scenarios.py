"""Renewal scenarios (docs/forecasts.md#renewal-scenarios): the next term priced three ways at
the forecast median, for the account review."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.metrics.commit import NOT_LIVE, PAYGO, UNDER
from drawdown.metrics.forecast import HORIZON_DAYS, NEXT_28_DAYS, WINDOW_DAYS

PAY_OVERAGE, EXPAND_COMMIT, RIGHT_SIZE = "pay_overage", "expand_commit", "right_size"


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
    # Each account's scenarios as a list in the documented order, exploded into rows: the order
    # (and so the tie-break of is_cheapest) comes from the list, not from a sort, which Polars
    # does not keep stable.
    offered = pl.concat_list(
        _scenario(PAY_OVERAGE, commit, past, pl.lit(True)),
        _scenario(EXPAND_COMMIT, forecast_amount, pl.lit(0.0), forecast_amount > commit),
        _scenario(RIGHT_SIZE, forecast_amount, pl.lit(0.0), pl.col("band") == UNDER),
    ).list.drop_nulls()
    cost = pl.col("cost")
    return (
        base.sort("account_id")
        .with_columns(offered.alias("_scenario"))
        .explode("_scenario")
        .unnest("_scenario")
        .with_columns((pl.col("commit_amount") + pl.col("overage_amount")).alias("cost"))
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


def _scenario(
    name: str, commit_amount: pl.Expr, overage_amount: pl.Expr, offered: pl.Expr
) -> pl.Expr:
    """The scenario ``name`` as a struct (scenario, commit_amount, overage_amount) where
    ``offered``, null elsewhere."""
    return pl.when(offered).then(
        pl.struct(
            pl.lit(name).alias("scenario"),
            commit_amount.alias("commit_amount"),
            overage_amount.alias("overage_amount"),
        )
    )
