"""The metrics of docs/metrics.md, computed from a validated book into the run's artifacts.

``compute_artifacts`` is the entry point: it rates the usage once and runs the stages in order.
The stages (``health_stage`` … ``reset_stage``) are what the compute notebooks call one by one,
each from the artifacts the earlier ones wrote.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.artifacts import conform
from drawdown.errors import InputError
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.metrics.overconsumption import MONTHS_SHOWN, meter_months, overage_cases
from drawdown.metrics.reset import reset_comparison, reset_tracker
from drawdown.metrics.retention import retention
from drawdown.metrics.segments import segment_summary
from drawdown.metrics.series import account_months, by_account_day, daily_spend
from drawdown.params import Params

__all__ = [
    "compute_artifacts",
    "health_stage",
    "overconsumption_stage",
    "portfolio_stage",
    "reset_stage",
    "resolve_as_of",
]


def resolve_as_of(book: Book, params: Params) -> date:
    """A: ``params.as_of`` when set, else the latest usage_date of the book.

    Raises InputError when neither exists (no as_of and no usage).
    """
    if params.as_of is not None:
        return params.as_of
    latest = book.usage.select(pl.col("usage_date").max()).collect().item()
    if latest is None:
        raise InputError("the usage table has no rows: set as_of to compute metrics")
    return latest


def health_stage(book: Book, params: Params, rated: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    """Usage health and commit bands: daily_spend, account_health, ttfbe_cohorts, account_months.

    ``rated`` is ``rate_usage(book)`` (collected once by the caller and reused).
    """
    as_of = resolve_as_of(book, params)
    daily = daily_spend(rated, as_of).collect().lazy()
    health = account_health(book, rated, params, as_of, daily)
    return _collect(
        daily_spend=by_account_day(daily),
        account_health=health,
        ttfbe_cohorts=ttfbe_cohorts(health, params.health),
        account_months=account_months(book, daily, as_of),
    )


def overconsumption_stage(
    book: Book, params: Params, rated: pl.LazyFrame, health: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Meters against their limits and the ranked, triaged cases: meter_months, overage_cases.

    meter_months covers twelve months, or the lookback when that is longer.
    """
    as_of = resolve_as_of(book, params)
    shown = max(MONTHS_SHOWN, params.overconsumption.lookback_months)
    months = meter_months(book, rated, as_of, shown).collect().lazy()
    return _collect(
        meter_months=months,
        overage_cases=overage_cases(months, health.lazy(), book, params, as_of),
    )


def portfolio_stage(
    book: Book, params: Params, health: pl.DataFrame, cases: pl.DataFrame, daily: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The segment summary: bands, TTFBE, cases and GRR/NRR per segment and ``All``."""
    ratios = retention(book.accounts, daily.lazy(), resolve_as_of(book, params))
    return _collect(segment_summary=segment_summary(health.lazy(), cases.lazy(), ratios))


def reset_stage(
    book: Book,
    params: Params,
    rated: pl.LazyFrame,
    health: pl.DataFrame,
    cases: pl.DataFrame,
    daily: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The 60-day reset tracker and its start-versus-now comparison (needs reset.start_date).

    ``daily`` (the daily_spend artifact), when given, spares re-aggregating ``rated``.
    """
    inputs = (book, rated, health.lazy(), cases.lazy(), params, resolve_as_of(book, params))
    spend = None if daily is None else daily.lazy()
    return _collect(
        reset_tracker=reset_tracker(*inputs), reset_comparison=reset_comparison(*inputs, spend)
    )


def compute_artifacts(
    book: Book, params: Params, rated: pl.DataFrame | None = None
) -> dict[str, pl.DataFrame]:
    """Every artifact of ``artifacts.SCHEMAS``, conformed, as of ``resolve_as_of``.

    The stages in order, the rated usage computed once (or ``rated``, ``rate_usage(book)`` as
    the validation holds it): health, overconsumption, portfolio, and the reset
    (reset_tracker and reset_comparison only when ``params.reset.start_date`` is set).
    """
    rated = (rate_usage(book).collect() if rated is None else rated).lazy()
    frames = health_stage(book, params, rated)
    frames |= overconsumption_stage(book, params, rated, frames["account_health"])
    cases, health = frames["overage_cases"], frames["account_health"]
    frames |= portfolio_stage(book, params, health, cases, frames["daily_spend"])
    if params.reset.start_date is not None:
        frames |= reset_stage(book, params, rated, health, cases, frames["daily_spend"])
    return {name: conform(name, frame) for name, frame in frames.items()}


def _collect(**lazy: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))
