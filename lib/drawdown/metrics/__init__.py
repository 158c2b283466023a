"""The metrics of docs/metrics.md, computed from a validated book into the run's artifacts.

``compute_artifacts`` is the entry point: it rates the usage once and runs the stages in order.
The stages (``health_stage`` … ``changes_stage``) are what the compute notebooks call one by one,
each from the artifacts the earlier ones wrote.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.artifacts import conform
from drawdown.errors import InputError
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.actions import account_actions
from drawdown.metrics.backtest import OFFSETS, forecast_backtest
from drawdown.metrics.budgets import account_budgets
from drawdown.metrics.changes import changes
from drawdown.metrics.forecast import (
    HORIZON_DAYS,
    QUIET_DAYS,
    WINDOW_DAYS,
    consumption_forecast,
    limit_crossing,
)
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.metrics.overconsumption import (
    MONTHS_SHOWN,
    meter_months,
    over_meters,
    rank_cases,
    with_patterns,
)
from drawdown.metrics.reset import reset_comparison, reset_tracker
from drawdown.metrics.retention import retention
from drawdown.metrics.scenarios import renewal_scenarios
from drawdown.metrics.segments import segment_summary
from drawdown.metrics.series import account_months, daily_spend, sorted_daily_spend
from drawdown.params import Params

__all__ = [
    "WEEK_DAYS",
    "actions_stage",
    "changes_stage",
    "compute_artifacts",
    "forecast_stage",
    "health_stage",
    "overconsumption_stage",
    "portfolio_stage",
    "reset_stage",
    "resolve_as_of",
    "seen_at",
]

WEEK_DAYS = 7
"""Without a previous run, what changed is measured against the book as of A − 7 days."""


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


def health_stage(
    book: Book, params: Params, rated: pl.LazyFrame, forecast: bool = True
) -> dict[str, pl.DataFrame]:
    """Usage health and commit bands: daily_spend, account_health, ttfbe_cohorts, account_months.

    ``rated`` is ``rate_usage(book)`` (collected once by the caller and reused). Without
    ``forecast`` the exhaustion quantiles of account_health are left null.
    """
    as_of = resolve_as_of(book, params)
    sorted_daily = sorted_daily_spend(rated, as_of)
    daily = sorted_daily.lazy()
    health = account_health(book, rated, params, as_of, daily, forecast)
    return {"daily_spend": sorted_daily} | _collect(
        account_health=health,
        ttfbe_cohorts=ttfbe_cohorts(health, params.health),
        account_months=account_months(book, daily, as_of),
    )


def overconsumption_stage(
    book: Book, params: Params, rated: pl.LazyFrame, health: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Meters against their limits and the ranked, triaged cases: meter_months (with each
    meter's pattern), overage_cases.

    meter_months covers twelve months, or the lookback when that is longer.
    """
    as_of = resolve_as_of(book, params)
    shown = max(MONTHS_SHOWN, params.overconsumption.lookback_months)
    months = meter_months(book, rated, as_of, shown).collect().lazy()
    over = over_meters(months, book, params, as_of).collect().lazy()
    return _collect(
        meter_months=with_patterns(months, over),
        overage_cases=rank_cases(over, health.lazy(), book, params, as_of),
    )


def actions_stage(
    book: Book,
    params: Params,
    health: pl.DataFrame,
    cases: pl.DataFrame,
    months: pl.DataFrame,
    daily: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """One next action per account (account_actions), from the health, cases, account_months and
    daily_spend artifacts, and each account's budget and alert status (account_budgets)."""
    as_of = resolve_as_of(book, params)
    lazy = (frame.lazy() for frame in (health, cases, months, daily))
    return _collect(
        account_actions=account_actions(*lazy, params=params, as_of=as_of),
        account_budgets=account_budgets(health.lazy(), book.budgets, daily.lazy(), as_of),
    )


def forecast_stage(
    book: Book,
    params: Params,
    rated: pl.LazyFrame,
    health: pl.DataFrame,
    months: pl.DataFrame,
    daily: pl.DataFrame,
) -> dict[str, pl.DataFrame]:
    """The forecasts of docs/forecasts.md: consumption_forecast, limit_crossing (from the
    meter_months artifact), forecast_backtest and renewal_scenarios."""
    as_of = resolve_as_of(book, params)
    spend = forecast_spend(daily.lazy(), as_of)
    forecast = consumption_forecast(health.lazy(), spend, as_of).collect()
    return {"consumption_forecast": forecast} | _collect(
        limit_crossing=limit_crossing(
            months.lazy(), rated, book.contracts, book.rate_card, spend, as_of
        ),
        forecast_backtest=forecast_backtest(
            book.contracts, spend, as_of, params.bands.run_rate_window_days
        ),
        renewal_scenarios=renewal_scenarios(health.lazy(), forecast.lazy(), rated, as_of),
    )


def forecast_spend(daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The daily spend the forecasts read: every window and horizon of the forecasts and the
    back-test lies in the last ``max(OFFSETS) + WINDOW_DAYS + QUIET_DAYS + HORIZON_DAYS`` days."""
    reach = max(OFFSETS) + WINDOW_DAYS + QUIET_DAYS + HORIZON_DAYS
    return daily.filter(pl.col("usage_date") > as_of - timedelta(days=reach)).collect().lazy()


def changes_stage(
    current: dict[str, pl.DataFrame], previous: dict[str, pl.DataFrame], previous_as_of: date
) -> dict[str, pl.DataFrame]:
    """What changed since the previous run: ``current`` and ``previous`` hold account_health and
    overage_cases (this run's and the previous run's, as of ``previous_as_of``)."""
    frames = (
        source[name].lazy()
        for source in (current, previous)
        for name in ("account_health", "overage_cases")
    )
    return _collect(changes=changes(*frames, previous_as_of=previous_as_of))


def seen_at(
    book: Book,
    params: Params,
    rated: pl.LazyFrame,
    as_of: date,
    with_summary: bool = False,
    daily: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The same book as of an earlier ``as_of``, for comparisons: account_health and
    overage_cases (and segment_summary ``with_summary``). The comparisons read no forecast: the
    exhaustion quantiles of that account_health are left null.

    ``daily``, when given, is the daily_spend artifact as of any later date: the spend up to
    ``as_of`` is its rows up to ``as_of`` (the same sums), so ``rated`` is not aggregated again.
    Only what the comparisons read is computed (no series, no cohorts).
    """
    earlier = params.with_overrides({"as_of": as_of.isoformat()})
    spend = (daily_spend(rated, as_of) if daily is None else daily.lazy()).filter(
        pl.col("usage_date") <= as_of
    )
    spend = spend.collect().lazy()
    frames = _collect(
        account_health=account_health(book, rated, earlier, as_of, spend, forecast=False)
    )
    frames |= overconsumption_stage(book, earlier, rated, frames["account_health"])
    names = ["account_health", "overage_cases"]
    if with_summary:
        health, cases = frames["account_health"], frames["overage_cases"]
        frames |= portfolio_stage(book, earlier, health, cases, spend.collect())
        names.append("segment_summary")
    return {name: frames[name] for name in names}


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
    the validation holds it): health, overconsumption, actions, portfolio, forecasts, the reset
    (reset_tracker and reset_comparison only when ``params.reset.start_date`` is set), and the
    changes since the book as of A − ``WEEK_DAYS`` days (a run compares with its previous run).
    """
    rated = (rate_usage(book).collect() if rated is None else rated).lazy()
    frames = health_stage(book, params, rated)
    frames |= overconsumption_stage(book, params, rated, frames["account_health"])
    cases, health, daily = frames["overage_cases"], frames["account_health"], frames["daily_spend"]
    frames |= actions_stage(book, params, health, cases, frames["account_months"], daily)
    frames |= portfolio_stage(book, params, health, cases, daily)
    frames |= forecast_stage(book, params, rated, health, frames["meter_months"], daily)
    if params.reset.start_date is not None:
        frames |= reset_stage(book, params, rated, health, cases, daily)
    week_ago = resolve_as_of(book, params) - timedelta(days=WEEK_DAYS)
    earlier = seen_at(book, params, rated, week_ago, daily=daily)
    frames |= changes_stage(frames, earlier, week_ago)
    return {name: conform(name, frame) for name, frame in frames.items()}


def _collect(**lazy: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))
