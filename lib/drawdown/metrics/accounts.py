"""The account health frame: one row per account with a contract covering A (docs/metrics.md#commit-utilization-and-bands, docs/metrics.md#usage-health)."""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.artifacts import SCHEMAS
from drawdown.inputs.contract import Book
from drawdown.metrics.commit import band, band_edges, burn, commit_utilization, covering_terms
from drawdown.metrics.forecast import EXHAUSTION_COLUMNS, exhaustion_quantiles, first_spend
from drawdown.metrics.health import adoption_stage, early_warnings, is_smooth, usage_health
from drawdown.metrics.series import daily_spend
from drawdown.params import Params


def account_health(
    book: Book,
    rated: pl.LazyFrame,
    params: Params,
    as_of: date,
    daily: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """Every metric of docs/metrics.md#commit-utilization-and-bands and docs/metrics.md#usage-health per account with a contract covering ``as_of``.

    ``rated`` is ``rating.rate_usage(book)``. ``daily``, when the caller already holds it, is
    ``series.daily_spend(rated, d)`` for any d ≥ as_of: it spares re-aggregating ``rated``.
    Columns: exactly ``SCHEMAS['account_health']`` (the account's name, segment and owners
    first; the exhaustion quantiles of docs/forecasts.md last); sorted by account_id.
    """
    daily = (
        daily_spend(rated, as_of) if daily is None else daily.filter(pl.col("usage_date") <= as_of)
    )
    accounts = covering_terms(book.contracts, as_of).join(book.accounts, on="account_id")
    linear = [name for name in SCHEMAS["account_health"] if name not in EXHAUSTION_COLUMNS]
    health = (
        commit_utilization(accounts, daily, as_of, params.bands.run_rate_window_days)
        .pipe(usage_health, book, daily, as_of)
        .with_columns(*band_edges(params.bands), is_smooth(params.health))
        .with_columns(band(), burn(params.bands))
        .with_columns(adoption_stage(params.health), early_warnings(params.health))
        .select(linear)
    )
    return (
        health.join(
            exhaustion_quantiles(health, daily, first_spend(daily), as_of),
            on="account_id",
            how="left",
        )
        .select(SCHEMAS["account_health"].keys())
        .sort("account_id")
    )
