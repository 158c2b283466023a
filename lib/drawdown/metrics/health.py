"""Usage health (docs/metrics.md#usage-health): first billable event, volatility, workflows, adoption, warnings.

``usage_health`` adds the per-account columns to the frame of accounts covering A;
``adoption_stage`` and ``early_warnings`` then need the band (docs/metrics.md#commit-utilization-and-bands); ``ttfbe_cohorts``
summarizes the account health frame.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_mean, exact_std, exact_sum
from drawdown.inputs.contract import Book
from drawdown.metrics.commit import HEALTHY, UNDER
from drawdown.metrics.series import live_workflows
from drawdown.params import Health

NOT_LIVE, FIRST_BILLABLE, ONE_WORKFLOW, MULTI_WORKFLOW, STEADY_DRAW = (
    "not_live",
    "first_billable",
    "one_workflow",
    "multi_workflow",
    "steady_draw",
)
USAGE_DROP, ZERO_STREAK, RENEWAL_RISK, BREAKAGE_RISK = (
    "usage_drop",
    "zero_streak",
    "renewal_risk",
    "breakage_risk",
)
CV_WINDOW_DAYS = 28


def usage_health(
    accounts: pl.LazyFrame, book: Book, daily: pl.LazyFrame, as_of: date
) -> pl.LazyFrame:
    """Adds first_contract_start, first_billable_date, ttfbe_days, cv_28d, workflows_live,
    workflows_at_90d, workflows_at_180d, two_workflows_date to ``accounts`` (one row per account_id), plus the
    private sums the early warnings read: _recent_28d (Σ c over [A−27, A]), _prior_28d
    (Σ c over [A−55, A−28]) and _zero_days_at_as_of (A − the last day with c > 0).
    """
    starts = book.contracts.group_by("account_id").agg(
        pl.col("start_date").min().alias("first_contract_start")
    )
    with_starts = accounts.join(starts, on="account_id", how="left")
    return (
        with_starts.join(_spend_facts(with_starts, daily, as_of), on="account_id", how="left")
        .join(cv_28d(accounts, daily, as_of), on="account_id", how="left")
        .join(_workflow_counts(with_starts, book.workflows, as_of), on="account_id", how="left")
        .join(two_workflows_date(book.workflows, as_of), on="account_id", how="left")
        .with_columns(
            ttfbe_days(),
            pl.col("_recent_28d", "_prior_28d").fill_null(0.0),
            pl.col("workflows_live").fill_null(0),
            *(
                pl.when(_milestone(days) <= as_of)
                .then(pl.col(f"workflows_at_{days}d").fill_null(0))
                .otherwise(None)
                .alias(f"workflows_at_{days}d")
                for days in (90, 180)
            ),
        )
    )


def _spend_facts(starts: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account: first_billable_date (first day ≥ first_contract_start with c > 0, ≤ A),
    _zero_days_at_as_of, _recent_28d and _prior_28d (see ``usage_health``)."""
    day = pl.col("usage_date")
    first_billable = (
        starts.select("account_id", "first_contract_start")
        .join(daily.filter(pl.col("amount") > 0), on="account_id")
        .group_by("account_id")
        .agg(pl.when(day >= pl.col("first_contract_start")).then(day).min())
        .select("account_id", pl.col("usage_date").alias("first_billable_date"))
    )
    return first_billable.join(warning_facts(daily, as_of), on="account_id", how="left")


def warning_facts(daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account with spend (rows with c > 0, days up to A), the numbers the usage_drop and
    zero_streak warnings test: _zero_days_at_as_of (A − the last day with c > 0), _recent_28d
    (Σ c over [A−27, A]) and _prior_28d (Σ c over [A−55, A−28]), 0 without spend in them.

    The sums read only the rows of their 56 days, filtered before grouping: summing a window
    of every account's whole history costs the fixed-point sum of every row."""
    day, amount = pl.col("usage_date"), pl.col("amount")
    spend = daily.filter(amount > 0)
    last_day = spend.group_by("account_id").agg(
        (pl.lit(as_of) - day.max()).dt.total_days().alias("_zero_days_at_as_of")
    )
    sums = (
        spend.filter(day >= warning_start(as_of)).group_by("account_id").agg(*warning_sums(as_of))
    )
    return last_day.join(sums, on="account_id", how="left").with_columns(
        pl.col("_recent_28d", "_prior_28d").fill_null(0.0)
    )


def warning_start(as_of: date) -> date:
    """A − 55: the first day the warning sums read."""
    return as_of - timedelta(days=2 * CV_WINDOW_DAYS - 1)


def warning_sums(as_of: date) -> list[pl.Expr]:
    """Aggregations over an account's daily spend rows of [``warning_start``, A]: _recent_28d
    (Σ c over [A−27, A]) and _prior_28d (Σ c over [A−55, A−28]).

    A window's rows are picked with ``when`` (null outside, which sums skip), not ``filter``: a
    filter inside an aggregation takes Polars' slower per-group path."""
    day, amount = pl.col("usage_date"), pl.col("amount")
    recent_start = as_of - timedelta(days=CV_WINDOW_DAYS - 1)
    return [
        exact_sum(pl.when(day >= recent_start).then(amount)).alias("_recent_28d"),
        exact_sum(pl.when((day >= warning_start(as_of)) & (day < recent_start)).then(amount)).alias(
            "_prior_28d"
        ),
    ]


def ttfbe_days() -> pl.Expr:
    """first_billable_date − first_contract_start, in days; null when not live."""
    return (
        (pl.col("first_billable_date") - pl.col("first_contract_start"))
        .dt.total_days()
        .alias("ttfbe_days")
    )


def cv_28d(accounts: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account: cv_28d over the 28 days [A − 27, A], zero days included.

    cv_28d = sample standard deviation (ddof = 1) of c(a, d) / its mean; null when the mean is 0.
    The zero-filled series is the cross join of the accounts with the 28 days (joined with the
    daily spend of those days only).
    """
    first_day = as_of - timedelta(days=CV_WINDOW_DAYS - 1)
    days = pl.LazyFrame({"usage_date": pl.date_range(first_day, as_of, eager=True)})
    spend = pl.col("amount").fill_null(0.0)
    return (
        accounts.select("account_id")
        .join(days, how="cross")
        .join(
            daily.filter(pl.col("usage_date").is_between(first_day, as_of)),
            on=["account_id", "usage_date"],
            how="left",
        )
        .group_by("account_id")
        .agg(
            pl.when(exact_mean(spend) > 0)
            .then(exact_std(spend, ddof=1) / exact_mean(spend))
            .alias("cv_28d")
        )
    )


def _milestone(days: int) -> pl.Expr:
    """first_contract_start + ``days`` days."""
    return pl.col("first_contract_start") + pl.duration(days=days)


def _workflow_counts(starts: pl.LazyFrame, workflows: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account with workflows: workflows live at A, at first_contract_start + 90 and + 180
    days (``series.live_workflows``). Accounts without workflow rows are absent."""
    return (
        starts.select("account_id", "first_contract_start")
        .join(workflows, on="account_id")
        .with_columns(
            pl.lit(as_of).alias("_as_of"),
            _milestone(90).alias("_day_90"),
            _milestone(180).alias("_day_180"),
        )
        .group_by("account_id")
        .agg(
            live_workflows("_as_of").alias("workflows_live"),
            live_workflows("_day_90").alias("workflows_at_90d"),
            live_workflows("_day_180").alias("workflows_at_180d"),
        )
    )


def two_workflows_date(workflows: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account: two_workflows_date, the first day ≤ A on which two workflows were live at
    once (``series.live_workflows``). The count of live workflows only rises on a production
    date, so the candidates are the production dates. Accounts that never had two are absent."""
    rows = workflows.select("account_id", "production_date", "retired_date").filter(
        pl.col("production_date") <= as_of
    )
    days = rows.select("account_id", pl.col("production_date").alias("_day")).unique()
    return (
        days.join(rows, on="account_id")
        .group_by("account_id", "_day")
        .agg(live_workflows("_day").alias("_live"))
        .filter(pl.col("_live") >= 2)
        .group_by("account_id")
        .agg(pl.col("_day").min().alias("two_workflows_date"))
    )


def is_smooth(health: Health) -> pl.Expr:
    """cv_28d ≤ smooth_cv_max; null when cv_28d is null (no spend in the 28 days)."""
    return (pl.col("cv_28d") <= health.smooth_cv_max).alias("is_smooth")


def adoption_stage(health: Health) -> pl.Expr:
    """``not_live`` without a first billable event; else by workflows_live: 0 ``first_billable``,
    1 ``one_workflow``, ≥ 2 ``multi_workflow``, or ``steady_draw`` when also band ``healthy`` and
    cv_28d ≤ smooth_cv_max."""
    steady = (pl.col("band") == HEALTHY) & (pl.col("cv_28d") <= health.smooth_cv_max)
    return (
        pl.when(pl.col("first_billable_date").is_null())
        .then(pl.lit(NOT_LIVE))
        .when(pl.col("workflows_live") == 0)
        .then(pl.lit(FIRST_BILLABLE))
        .when(pl.col("workflows_live") == 1)
        .then(pl.lit(ONE_WORKFLOW))
        .when(steady.fill_null(False))
        .then(pl.lit(STEADY_DRAW))
        .otherwise(pl.lit(MULTI_WORKFLOW))
        .alias("adoption_stage")
    )


def early_warnings(health: Health) -> pl.Expr:
    """The warnings that apply, in this order (an empty list when none):

    usage_drop: Σ c over [A−27, A] < (1 − drop_pct) × Σ c over [A−55, A−28], the latter > 0.
    zero_streak: a live account whose last zero_streak_days days or more up to A had c = 0.
    renewal_risk: remaining_days (term_end − A) ≤ renewal_window_days and band ``under``.
    breakage_risk: utilization < 0.20 and elapsed_fraction > 0.80 (never for pay-as-you-go).
    """
    recent, prior = pl.col("_recent_28d"), pl.col("_prior_28d")
    conditions = {
        USAGE_DROP: (prior > 0) & (recent < (1 - health.drop_pct) * prior),
        ZERO_STREAK: pl.col("first_billable_date").is_not_null()
        & (pl.col("_zero_days_at_as_of") >= health.zero_streak_days),
        RENEWAL_RISK: (pl.col("remaining_days") <= health.renewal_window_days)
        & (pl.col("band") == UNDER),
        BREAKAGE_RISK: (pl.col("utilization") < 0.20) & (pl.col("elapsed_fraction") > 0.80),
    }
    return (
        pl.concat_list(
            pl.when(condition.fill_null(False)).then(pl.lit(name))
            for name, condition in conditions.items()
        )
        .list.drop_nulls()
        .alias("early_warnings")
    )


def ttfbe_quantiles() -> list[pl.Expr]:
    """Aggregations: median_ttfbe_days and p75_ttfbe_days of live accounts (ttfbe_days not
    null), linear interpolation; null when none is live."""
    ttfbe = pl.col("ttfbe_days").cast(pl.Float64)
    return [
        ttfbe.quantile(0.5, interpolation="linear").alias("median_ttfbe_days"),
        ttfbe.quantile(0.75, interpolation="linear").alias("p75_ttfbe_days"),
    ]


def ttfbe_cohorts(health_frame: pl.LazyFrame, health: Health) -> pl.LazyFrame:
    """Accounts of the account health frame grouped by segment and cohort_month (the month of
    first_contract_start).

    accounts: accounts in the cohort; live_accounts: those with a first billable event;
    median_ttfbe_days, p75_ttfbe_days: of live accounts (``ttfbe_quantiles``);
    share_live_within_target: accounts live with ttfbe_days ≤ ttfbe_target_days / accounts
    (all accounts of the cohort, live or not). Sorted by segment, cohort_month.
    """
    return (
        health_frame.group_by(
            "segment", pl.col("first_contract_start").dt.month_start().alias("cohort_month")
        )
        .agg(
            pl.len().alias("accounts"),
            pl.col("ttfbe_days").count().alias("live_accounts"),
            *ttfbe_quantiles(),
            (pl.col("ttfbe_days") <= health.ttfbe_target_days)
            .fill_null(False)
            .mean()
            .alias("share_live_within_target"),
        )
        .sort("segment", "cohort_month")
    )
