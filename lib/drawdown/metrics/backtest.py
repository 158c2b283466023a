"""The forecasts' track record (docs/forecasts.md#back-test): the same forecasts made 28, 56 and
84 days before A, compared with what happened."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.metrics.commit import covering_terms
from drawdown.metrics.forecast import HORIZON_DAYS, forecast_at

OFFSETS = (28, 56, 84)
"""Days before A the back-tested forecasts were made."""


def forecast_backtest(
    contracts: pl.LazyFrame,
    daily: pl.LazyFrame,
    as_of: date,
    run_rate_days: int,
) -> pl.LazyFrame:
    """One row per forecast date M = A − 28, A − 56, A − 84 (horizon 28 days), then one row for
    the three together (as_of_made null).

    At M, for each account with a contract covering M: the forecast's p10, p50, p90 of Σ c over
    (M, M + 28] (``forecast_at``, reading only days ≤ M), the 28-day run-rate line (3.1's
    run_rate at M × 28) and the actual Σ c over (M, M + 28]. Counted: accounts with spend in
    the forecast's window or in the horizon (an account with neither is trivially right).
    coverage_p10_p90: share of them whose actual lies in [p10, p90]. mdape_p50 and
    mdape_run_rate: median of |forecast − actual| / actual over those with actual > 0 (null
    when none). Columns: as_of_made, horizon_days, accounts, coverage_p10_p90, mdape_p50,
    mdape_run_rate.
    """
    return backtest_scores(backtest_outcomes(contracts, daily, as_of, run_rate_days))


def backtest_outcomes(
    contracts: pl.LazyFrame,
    daily: pl.LazyFrame,
    as_of: date,
    run_rate_days: int,
) -> pl.LazyFrame:
    """Per forecast date and account: the forecast and the actual (``forecast_backtest``'s rows
    before they are scored; a sharded run concatenates them from its shards)."""
    return pl.concat(
        [_outcomes(contracts, daily, as_of - timedelta(days=k), run_rate_days) for k in OFFSETS]
    )


def backtest_scores(made: pl.LazyFrame) -> pl.LazyFrame:
    """``forecast_backtest`` from ``backtest_outcomes``."""
    per_date = made.group_by("as_of_made").agg(*_scores()).sort("as_of_made", descending=True)
    pooled = made.select(pl.lit(None, pl.Date).alias("as_of_made"), *_scores())
    return pl.concat([per_date, pooled]).select(
        "as_of_made",
        pl.lit(HORIZON_DAYS, pl.Int64).alias("horizon_days"),
        "accounts",
        "coverage_p10_p90",
        "mdape_p50",
        "mdape_run_rate",
    )


def _outcomes(
    contracts: pl.LazyFrame,
    daily: pl.LazyFrame,
    made: date,
    run_rate_days: int,
) -> pl.LazyFrame:
    """Per account counted at ``made``: p10, p50, p90, line and actual."""
    end = made + timedelta(days=HORIZON_DAYS)
    terms = covering_terms(contracts, made).select("account_id", "term_start")
    line_from = pl.max_horizontal("term_start", pl.lit(made - timedelta(days=run_rate_days - 1)))
    sums = (
        daily.filter(pl.col("usage_date").is_between(made - timedelta(days=run_rate_days - 1), end))
        .join(terms, on="account_id")
        .group_by("account_id")
        .agg(
            exact_sum(pl.when(pl.col("usage_date") > made).then("amount")).alias("actual"),
            exact_sum(
                pl.when(pl.col("usage_date").is_between(line_from, made)).then("amount")
            ).alias("_line_sum"),
            line_from.first().alias("_line_from"),
        )
    )
    line_days = (pl.lit(made) - pl.col("_line_from")).dt.total_days() + 1
    return (
        forecast_at(terms, daily.filter(pl.col("usage_date") <= made), made, pl.lit(HORIZON_DAYS))
        .join(sums, on="account_id", how="left")
        .with_columns(
            pl.col("actual").fill_null(0.0),
            (pl.col("_line_sum") / line_days * HORIZON_DAYS).fill_null(0.0).alias("line"),
        )
        .filter((pl.col("p50") > 0) | (pl.col("actual") > 0))
        .select(
            pl.lit(made).alias("as_of_made"), "account_id", "p10", "p50", "p90", "line", "actual"
        )
    )


def _scores() -> list[pl.Expr]:
    actual = pl.col("actual")
    inside = (actual >= pl.col("p10")) & (actual <= pl.col("p90"))

    def mdape(forecast: str) -> pl.Expr:
        return ((pl.col(forecast) - actual).abs() / actual).filter(actual > 0).median()

    return [
        pl.len().cast(pl.Int64).alias("accounts"),
        inside.mean().alias("coverage_p10_p90"),
        mdape("p50").alias("mdape_p50"),
        mdape("line").alias("mdape_run_rate"),
    ]
