"""The metrics of SPEC section 3, computed from a validated book into the run's artifacts.

``compute_artifacts`` is the entry point: it rates the usage once, builds every artifact of
``artifacts.SCHEMAS`` as a lazy query and collects them together so shared sub-plans run once.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.artifacts import conform
from drawdown.errors import InputError
from drawdown.metrics.accounts import account_health
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.metrics.overconsumption import meter_months, overage_cases
from drawdown.metrics.rating import rate_usage
from drawdown.metrics.reset import reset_comparison, reset_tracker
from drawdown.metrics.retention import retention
from drawdown.metrics.segments import segment_summary
from drawdown.metrics.series import account_months, daily_spend
from drawdown.params import Params
from drawdown.schema import Book

__all__ = ["compute_artifacts", "resolve_as_of"]


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


def compute_artifacts(book: Book, params: Params) -> dict[str, pl.DataFrame]:
    """Every artifact of ``artifacts.SCHEMAS``, conformed, as of ``resolve_as_of``.

    reset_tracker and reset_comparison only when ``params.reset.start_date`` is set.
    Collected in stages so what many artifacts read is computed once: the rated usage, the
    daily spend, then account health with the meter months, then the rest together.
    """
    as_of = resolve_as_of(book, params)
    rated = rate_usage(book).collect().lazy()
    daily = daily_spend(rated, as_of).collect().lazy()
    health, months = (
        frame.lazy()
        for frame in pl.collect_all(
            [account_health(book, rated, params, as_of, daily), meter_months(book, rated, as_of)]
        )
    )
    cases = overage_cases(months, health, book, params, as_of)
    lazy = {
        "account_health": health,
        "overage_cases": cases,
        "segment_summary": segment_summary(health, cases, retention(book.accounts, daily, as_of)),
        "ttfbe_cohorts": ttfbe_cohorts(health, params.health),
        "daily_spend": daily.sort("account_id", "usage_date"),
        "meter_months": months,
        "account_months": account_months(book, daily, as_of),
    }
    if params.reset.start_date is not None:
        lazy["reset_tracker"] = reset_tracker(book, rated, health, cases, params, as_of)
        lazy["reset_comparison"] = reset_comparison(book, rated, health, cases, params, as_of)
    frames = pl.collect_all(lazy.values())
    return {name: conform(name, frame) for name, frame in zip(lazy, frames, strict=True)}
