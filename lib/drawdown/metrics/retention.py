"""Gross and net revenue retention (docs/metrics.md#retention), per segment and for all accounts."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.metrics.periods import Period

ALL = "All"


def current_window(as_of: date) -> Period:
    """The current revenue window: the last 90 days [A − 89, A]."""
    return Period(as_of - timedelta(days=89), as_of)


def prior_window(as_of: date) -> Period:
    """The prior revenue window: the current one a year earlier, [A − 454, A − 365]."""
    return Period(as_of - timedelta(days=454), as_of - timedelta(days=365))


def window_revenue(daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account with spend since the start of ``prior_window``: rev_current = Σ c over
    ``current_window`` and rev_prior = Σ c over ``prior_window``."""
    day, amount = pl.col("usage_date"), pl.col("amount")
    current, prior = current_window(as_of), prior_window(as_of)
    return (
        daily.filter(day >= prior.first)
        .group_by("account_id")
        .agg(
            exact_sum(pl.when(day >= current.first).then(amount)).alias("rev_current"),
            exact_sum(pl.when(day <= prior.last).then(amount)).alias("rev_prior"),
        )
    )


def account_revenue(accounts: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account of the book: segment, rev_current and rev_prior (``window_revenue``; 0
    without spend)."""
    return (
        accounts.select("account_id", "segment")
        .join(window_revenue(daily, as_of), on="account_id", how="left")
        .with_columns(pl.col("rev_current", "rev_prior").fill_null(0.0))
    )


def _retention_ratios() -> list[pl.Expr]:
    """Aggregations over accounts: grr and nrr of the cohort (rev_prior > 0).

    GRR = Σ min(rev_current, rev_prior) / Σ rev_prior; NRR = Σ rev_current / Σ rev_prior;
    both null when the cohort is empty.
    """
    in_cohort = pl.col("rev_prior") > 0
    prior = exact_sum(pl.col("rev_prior").filter(in_cohort))
    kept = exact_sum(pl.min_horizontal("rev_current", "rev_prior").filter(in_cohort))
    current = exact_sum(pl.col("rev_current").filter(in_cohort))
    return [
        pl.when(prior > 0).then(kept / prior).alias("grr"),
        pl.when(prior > 0).then(current / prior).alias("nrr"),
    ]


def retention(accounts: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """GRR and NRR per segment (the account's current segment), sorted, then one row ``All``.

    Every account of the book counts, with or without a contract covering A (churn is the
    point). Columns: segment, grr, nrr; a segment whose cohort is empty has null ratios.
    """
    return retention_ratios(account_revenue(accounts, daily, as_of))


def retention_ratios(revenue: pl.LazyFrame) -> pl.LazyFrame:
    """GRR and NRR per segment, sorted, then ``All``, from ``account_revenue``'s rows (the
    combine pass of a sharded run concatenates them from its shards)."""
    return pl.concat(
        [
            revenue.group_by("segment").agg(_retention_ratios()).sort("segment"),
            revenue.select(pl.lit(ALL).alias("segment"), *_retention_ratios()),
        ]
    )
