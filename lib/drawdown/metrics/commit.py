"""Commit utilization, pacing, run rate, bands, burn and exhaustion (docs/metrics.md#commit-utilization-and-bands).

One row per account with a contract covering A. Stages take and return LazyFrames; each metric is
an expression named for its output, with its definition in the docstring.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.inputs.rating import covers
from drawdown.params import Bands

PAYGO, NOT_LIVE, UNDER, HEALTHY, OVER = "paygo", "not_live", "under", "healthy", "over"
TOO_SLOW, ON_PACE, TOO_FAST = "too_slow", "on_pace", "too_fast"


def covering_terms(contracts: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The contract covering A per account, with its current term.

    Columns: account_id, contract_id, commit_amount, term_start, term_end.
    A fixed-term contract's term is [start_date, end_date]. An evergreen contract's term is the
    contract year holding A: [start + k years, start + (k+1) years − 1 day] for the largest k
    with start + k years ≤ A. A 29 February start falls on 28 February in common years (the
    calendar rule of ``dt.offset_by``, dateutil and pandas), so the years still tile with no gap.
    """
    start = pl.col("start_date")
    whole_years = pl.lit(as_of.year) - start.dt.year()
    candidate = _years_after(start, whole_years)
    term_start = (
        pl.when(candidate > as_of).then(_years_after(start, whole_years - 1)).otherwise(candidate)
    )
    return (
        contracts.filter(covers(pl.lit(as_of)))
        .with_columns(
            pl.when(pl.col("end_date").is_null())
            .then(term_start)
            .otherwise(start)
            .alias("term_start")
        )
        .with_columns(
            pl.col("end_date")
            .fill_null(_years_after(pl.col("term_start"), pl.lit(1)).dt.offset_by("-1d"))
            .alias("term_end")
        )
        .select("account_id", "contract_id", "commit_amount", "term_start", "term_end")
    )


def _years_after(day: pl.Expr, years: pl.Expr) -> pl.Expr:
    """``day`` plus a whole number of calendar years (29 Feb → 28 Feb in common years)."""
    return day.dt.offset_by(pl.format("{}y", years))


def term_consumption(
    terms: pl.LazyFrame, daily: pl.LazyFrame, as_of: date, window_days: int
) -> pl.LazyFrame:
    """Sums of c(a, d) each account's commit metrics need, joined onto ``terms``.

    consumed_to_date: Σ c over [term_start, A] (the running total's last value).
    _run_window_amount: Σ c over [max(term_start, A − W + 1), A], W = ``window_days``.
    _trailing_year_amount: Σ c over [A − 364, A] (any contract: pay-as-you-go account value).
    _reached_date: the first day in [term_start, A] on which the running total ≥ commit_amount
    (null when never reached, and for commit_amount = 0).
    Accounts without spend get 0 sums. Each sum's rows are marked row by row before one plain
    group_by (a filter inside the aggregation takes Polars' slow per-group path).
    """
    day, amount = pl.col("usage_date"), pl.col("amount")
    in_term = day >= pl.col("term_start")
    running = (
        pl.when(in_term)
        .then(amount)
        .otherwise(0.0)
        .cum_sum()
        .over("account_id", order_by="usage_date")
    )
    earliest = pl.min_horizontal(pl.col("term_start"), pl.lit(as_of - timedelta(days=364)))
    reached = (
        in_term & (pl.col("commit_amount") > 0) & (pl.col("_running") >= pl.col("commit_amount"))
    )
    sums = (
        terms.select("account_id", "term_start", "commit_amount")
        .join(daily, on="account_id")
        .filter(day >= earliest)
        .with_columns(
            running.alias("_running"),
            pl.when(day >= run_rate_window_start(as_of, window_days)).then(amount).alias("_window"),
            pl.when(day >= as_of - timedelta(days=364)).then(amount).alias("_year"),
        )
        .with_columns(pl.when(reached).then(day).alias("_reached"))
        .group_by("account_id")
        .agg(
            pl.col("_running").max().alias("consumed_to_date"),
            exact_sum(pl.col("_window")).alias("_run_window_amount"),
            exact_sum(pl.col("_year")).alias("_trailing_year_amount"),
            pl.col("_reached").min().alias("_reached_date"),
        )
    )
    return terms.join(sums, on="account_id", how="left").with_columns(
        pl.col("consumed_to_date", "_run_window_amount", "_trailing_year_amount").fill_null(0.0)
    )


def run_rate_window_start(as_of: date, window_days: int) -> pl.Expr:
    """First day of the run-rate window: max(term_start, A − W + 1)."""
    return pl.max_horizontal(pl.col("term_start"), pl.lit(as_of - timedelta(days=window_days - 1)))


def term_days() -> pl.Expr:
    """term_end − term_start + 1, in days."""
    return ((pl.col("term_end") - pl.col("term_start")).dt.total_days() + 1).alias("term_days")


def elapsed_days(as_of: date) -> pl.Expr:
    """A − term_start + 1, in days (≥ 1: the term covers A)."""
    return ((pl.lit(as_of) - pl.col("term_start")).dt.total_days() + 1).alias("elapsed_days")


def remaining_days(as_of: date) -> pl.Expr:
    """term_end − A, in days (0 on the term's last day)."""
    return (pl.col("term_end") - pl.lit(as_of)).dt.total_days().alias("remaining_days")


def elapsed_fraction() -> pl.Expr:
    """elapsed_days / term_days, in (0, 1]."""
    return (pl.col("elapsed_days") / pl.col("term_days")).alias("elapsed_fraction")


def utilization() -> pl.Expr:
    """consumed_to_date / commit_amount; null for pay-as-you-go (commit_amount = 0)."""
    return (
        pl.when(pl.col("commit_amount") > 0)
        .then(pl.col("consumed_to_date") / pl.col("commit_amount"))
        .alias("utilization")
    )


def run_rate(as_of: date, window_days: int) -> pl.Expr:
    """Average daily spend over [max(term_start, A − W + 1), A]: its Σ c / its number of days.

    Near the term start the window is shorter than W and the divisor shrinks with it.
    """
    window_length = (pl.lit(as_of) - run_rate_window_start(as_of, window_days)).dt.total_days() + 1
    return (pl.col("_run_window_amount") / window_length).alias("run_rate")


def pacing_index() -> pl.Expr:
    """utilization / elapsed_fraction: 1.0 burns the commit in a straight line; null for paygo."""
    return (pl.col("utilization") / pl.col("elapsed_fraction")).alias("pacing_index")


def projected_consumption() -> pl.Expr:
    """consumed_to_date + run_rate × remaining_days: the term's spend at the current run rate."""
    return (pl.col("consumed_to_date") + pl.col("run_rate") * pl.col("remaining_days")).alias(
        "projected_consumption"
    )


def projected_utilization() -> pl.Expr:
    """projected_consumption / commit_amount; null for pay-as-you-go."""
    return (
        pl.when(pl.col("commit_amount") > 0)
        .then(pl.col("projected_consumption") / pl.col("commit_amount"))
        .alias("projected_utilization")
    )


def exhaustion_date(as_of: date) -> pl.Expr:
    """The forecast day the commit runs out.

    If consumed_to_date ≥ commit_amount: the first day in the term the running total reached it;
    else if run_rate > 0: A + ceil((commit_amount − consumed_to_date) / run_rate) days;
    else null. Null for pay-as-you-go (no commit to exhaust).
    """
    days_left = ((pl.col("commit_amount") - pl.col("consumed_to_date")) / pl.col("run_rate")).ceil()
    return (
        pl.when(pl.col("commit_amount") <= 0)
        .then(None)
        .when(pl.col("consumed_to_date") >= pl.col("commit_amount"))
        .then(pl.col("_reached_date"))
        .when(pl.col("run_rate") > 0)
        .then(pl.lit(as_of) + pl.duration(days=days_left.cast(pl.Int64)))
        .alias("exhaustion_date")
    )


def exhausts_before_term_end() -> pl.Expr:
    """exhaustion_date ≤ term_end. False when a commit has no forecast exhaustion (run rate 0:
    it never runs out at this pace); null for pay-as-you-go."""
    return (
        pl.when(pl.col("commit_amount") > 0)
        .then((pl.col("exhaustion_date") <= pl.col("term_end")).fill_null(False))
        .alias("exhausts_before_term_end")
    )


def account_value() -> pl.Expr:
    """Annualized value: commit_amount × 365 / term_days; pay-as-you-go: Σ c over [A − 364, A]."""
    return (
        pl.when(pl.col("commit_amount") > 0)
        .then(pl.col("commit_amount") * 365 / pl.col("term_days"))
        .otherwise(pl.col("_trailing_year_amount"))
        .alias("account_value")
    )


def commit_utilization(
    terms: pl.LazyFrame, daily: pl.LazyFrame, as_of: date, window_days: int
) -> pl.LazyFrame:
    """Every amount and ratio of docs/metrics.md#commit-utilization-and-bands for the accounts in ``terms`` (``covering_terms``).

    Adds term_days, elapsed_days, elapsed_fraction, consumed_to_date, utilization,
    pacing_index, run_rate, remaining_days, projected_consumption, projected_utilization,
    exhaustion_date, exhausts_before_term_end and account_value (band and burn: ``band``,
    ``burn``), plus the private ``_``-columns of ``term_consumption``.
    """
    return (
        term_consumption(terms, daily, as_of, window_days)
        .with_columns(
            term_days(),
            elapsed_days(as_of),
            remaining_days(as_of),
            utilization(),
            run_rate(as_of, window_days),
        )
        .with_columns(elapsed_fraction(), projected_consumption(), exhaustion_date(as_of))
        .with_columns(
            pacing_index(),
            projected_utilization(),
            exhausts_before_term_end(),
            account_value(),
        )
    )


def band_edges(bands: Bands) -> list[pl.Expr]:
    """band_low and band_high of each account's segment: its override where set, else global."""
    overrides = {segment: bands.limits_for(segment) for segment in bands.segments}
    return [
        pl.col("segment")
        .replace_strict(
            {segment: limits[i] for segment, limits in overrides.items()},
            default=default,
            return_dtype=pl.Float64,
        )
        .alias(name)
        for i, (name, default) in enumerate(
            [("band_low", bands.band_low), ("band_high", bands.band_high)]
        )
    ]


def band() -> pl.Expr:
    """``paygo`` if commit_amount = 0; else ``not_live`` without a first billable event by A;
    else ``under`` if projected_utilization < band_low; ``over`` if > band_high; else
    ``healthy``. Needs columns band_low, band_high (``band_edges``) and first_billable_date."""
    return (
        pl.when(pl.col("commit_amount") <= 0)
        .then(pl.lit(PAYGO))
        .when(pl.col("first_billable_date").is_null())
        .then(pl.lit(NOT_LIVE))
        .when(pl.col("projected_utilization") < pl.col("band_low"))
        .then(pl.lit(UNDER))
        .when(pl.col("projected_utilization") > pl.col("band_high"))
        .then(pl.lit(OVER))
        .otherwise(pl.lit(HEALTHY))
        .alias("band")
    )


def burn(bands: Bands) -> pl.Expr:
    """For commit_amount > 0: ``too_slow`` if pacing_index < burn_slow, ``too_fast`` if >
    burn_fast, else ``on_pace``. Null for pay-as-you-go."""
    return (
        pl.when(pl.col("commit_amount") <= 0)
        .then(None)
        .when(pl.col("pacing_index") < bands.burn_slow)
        .then(pl.lit(TOO_SLOW))
        .when(pl.col("pacing_index") > bands.burn_fast)
        .then(pl.lit(TOO_FAST))
        .otherwise(pl.lit(ON_PACE))
        .alias("burn")
    )
