"""The 60-day reset tracker (docs/metrics.md#the-60-day-reset-tracker): eight items over eight weeks from ``reset.start_date``.

Each item has a due date (the last day of its due week: start + 7 × week − 1), a measured value,
a target and a status. Alongside, ``reset_comparison`` sets the state at start_date beside the
state at A. Both are empty when no reset is configured (``reset.start_date`` null).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

import polars as pl

from drawdown.artifacts import SCHEMAS
from drawdown.exact import exact_sum
from drawdown.inputs.contract import Book
from drawdown.metrics.accounts import account_health
from drawdown.metrics.overconsumption import artifact_columns, meter_months, overage_cases
from drawdown.params import Params

DONE, ON_TRACK, LATE, NOT_STARTED, PENDING = "done", "on_track", "late", "not_started", "pending"
CSM_BOOKS = "csm_books"

TOP_TEN = 10
"""The reset's "top ten" accounts by account_value (item 3), fixed by the plan."""

DAY_OF_LADDER = 60
"""The two-workflow ladder is measured on first_contract_start + 60 days."""

CLINIC_WEEKS = range(5, 9)

_AT_LEAST, _AT_MOST = "at_least", "at_most"

# item_id, week label, due week, item, measured as, direction of the target
_ITEMS = (
    (
        CSM_BOOKS,
        "1",
        1,
        "usage-health metrics published to every CSM",
        "share of CSMs with an active account whose CSM book was written in this run",
        _AT_LEAST,
    ),
    (
        "onboarding_ttfbe",
        "2",
        2,
        "onboarding rebuilt around the first billable event",
        "median ttfbe_days of accounts whose first contract started on or after start_date",
        _AT_MOST,
    ),
    (
        "two_workflow_ladder",
        "2",
        2,
        "two-workflow adoption ladder",
        "share of those accounts with ≥ 2 workflows live by day 60 (of those past day 60)",
        _AT_LEAST,
    ),
    (
        "budgets_alerts",
        "3",
        3,
        "budgets and alerts for all new customers and the top ten",
        "share of (accounts started on or after start_date ∪ top 10 by account_value)"
        " with a budget enabled on or before A",
        _AT_LEAST,
    ),
    (
        "value_reviews",
        "4",
        4,
        "value review with unit economics for three key accounts",
        "value_review activities on or after start_date",
        _AT_LEAST,
    ),
    (
        "usage_clinic",
        "5–8",
        8,
        "weekly usage clinic",
        "weeks 5–8 elapsed so far that have ≥ 1 usage_clinic activity, over weeks elapsed",
        _AT_LEAST,
    ),
    (
        "technical_counterparts",
        "5–8",
        8,
        "technical counterpart for each strategic account",
        "share of strategic accounts with a technical_counterpart",
        _AT_LEAST,
    ),
    (
        "comp_weights",
        "5–8",
        8,
        "variable pay favours retention, adoption depth and stability",
        "reset.comp_weights retention + adoption + stability",
        _AT_LEAST,
    ),
)


def due_date(start: date, week: int) -> date:
    """The last day of reset week ``week``: start + 7 × week − 1 (week 1 ends on start + 6)."""
    return start + timedelta(days=7 * week - 1)


def _has_name(column: str) -> pl.Expr:
    """True where the column holds a non-blank name."""
    return (pl.col(column).str.strip_chars() != "").fill_null(False)


def _new_accounts(health: pl.LazyFrame, start: date) -> pl.LazyFrame:
    """Accounts in health whose first contract started on or after start_date."""
    return health.filter(pl.col("first_contract_start") >= start)


def csm_book_share(health: pl.LazyFrame, written: Collection[str] | None) -> pl.LazyFrame:
    """Item 1: share of CSMs with an active account (a non-blank csm_owner in ``health``) whose
    CSM book was written in this run (``written``: the CSM names of the book files written).

    Null when no active account names a CSM (the measure cannot exist), and when the books are
    not written yet (``written`` None: the metrics are computed before the run writes them, and
    ``compute_all`` writes none): ``pending``, never 0 / ``late``. The run measures the item
    once its books step is over (``with_csm_books``; none written without reports: 0).
    """
    csms = health.filter(_has_name("csm_owner")).select(pl.col("csm_owner").unique())
    if written is None:
        return csms.select(pl.lit(None, pl.Float64).alias("measured"))
    return csms.select(
        pl.when(pl.len() > 0)
        .then(pl.col("csm_owner").is_in(pl.Series(list(written), dtype=pl.String).implode()).mean())
        .otherwise(None)
        .cast(pl.Float64)
        .alias("measured")
    )


def new_account_ttfbe(health: pl.LazyFrame, start: date) -> pl.LazyFrame:
    """Item 2: median ttfbe_days of new accounts (first contract on or after start_date).

    Over live accounts (ttfbe_days not null); null when none is live.
    """
    return _new_accounts(health, start).select(
        pl.col("ttfbe_days").cast(pl.Float64).median().alias("measured")
    )


def two_workflow_share(health: pl.LazyFrame, book: Book, start: date, as_of: date) -> pl.LazyFrame:
    """Item 3: share of new accounts past day 60 with ≥ 2 workflows live on day 60.

    Day 60 = first_contract_start + 60 days, counted when ≤ A; a workflow is live on day 60 when
    production_date ≤ day 60 and (retired_date null or > day 60). Null when no new account is past
    day 60.
    """
    day_60 = pl.col("first_contract_start") + pl.duration(days=DAY_OF_LADDER)
    live = (pl.col("production_date") <= pl.col("day_60")) & (
        pl.col("retired_date").is_null() | (pl.col("retired_date") > pl.col("day_60"))
    )
    return (
        _new_accounts(health, start)
        .select("account_id", day_60.alias("day_60"))
        .filter(pl.col("day_60") <= as_of)
        .join(book.workflows, on="account_id", how="left")
        .group_by("account_id")
        .agg(live.sum().alias("live"))
        .select((pl.col("live") >= 2).mean().alias("measured"))
    )


def budget_share(health: pl.LazyFrame, book: Book, start: date, as_of: date) -> pl.LazyFrame:
    """Item 4: share of (new accounts ∪ top ten by account_value) with a budget enabled ≤ A.

    Top ten among the accounts of ``health``, account_value descending, ties by account_id.
    Null when the set is empty.
    """
    top = health.sort(
        ["account_value", "account_id"], descending=[True, False], nulls_last=True
    ).head(TOP_TEN)
    budgeted = (
        book.budgets.filter(pl.col("enabled_date") <= as_of)
        .select("account_id")
        .unique()
        .with_columns(pl.lit(True).alias("budgeted"))
    )
    return (
        pl.concat([_new_accounts(health, start).select("account_id"), top.select("account_id")])
        .unique()
        .join(budgeted, on="account_id", how="left")
        .select(pl.col("budgeted").fill_null(False).mean().alias("measured"))
    )


def value_reviews(book: Book, start: date, as_of: date) -> pl.LazyFrame:
    """Item 5: number of value_review activities dated in [start_date, A]."""
    return book.activities.select(
        (
            (pl.col("activity_type") == "value_review")
            & pl.col("activity_date").is_between(start, as_of)
        )
        .sum()
        .cast(pl.Float64)
        .alias("measured")
    )


def clinic_share(book: Book, start: date, as_of: date) -> pl.LazyFrame:
    """Item 6: weeks 5–8 begun by A with ≥ 1 usage_clinic activity, over weeks 5–8 begun by A.

    Week k runs [start + 7(k − 1), start + 7k − 1]; a week has elapsed once it has begun (its
    first day ≤ A), so the current week counts. Portfolio-level activities (no account) count.
    Null before week 5 begins.
    """
    first_day = start + timedelta(days=7 * (CLINIC_WEEKS[0] - 1))
    weeks_begun = min(len(CLINIC_WEEKS), max(0, (as_of - first_day).days // 7 + 1))
    if weeks_begun == 0:
        return pl.LazyFrame({"measured": [None]}, schema={"measured": pl.Float64})
    last_day = min(as_of, due_date(start, CLINIC_WEEKS[-1]))
    week = (pl.col("activity_date") - pl.lit(start)).dt.total_days() // 7
    return book.activities.filter(
        pl.col("activity_type") == "usage_clinic",
        pl.col("activity_date").is_between(first_day, last_day),
    ).select((week.n_unique() / weeks_begun).alias("measured"))


def counterpart_share(health: pl.LazyFrame) -> pl.LazyFrame:
    """Item 7: share of strategic accounts (of ``health``) with a named technical_counterpart.

    Null when no active account is strategic.
    """
    return health.filter(pl.col("is_strategic")).select(
        _has_name("technical_counterpart").mean().alias("measured")
    )


def comp_weight(params: Params) -> pl.LazyFrame:
    """Item 8: the share of variable pay on retention + adoption depth + stability."""
    weights = params.reset.comp_weights
    return pl.LazyFrame({"measured": [weights.retention + weights.adoption + weights.stability]})


def reset_status(as_of: date) -> pl.Expr:
    """``pending`` when nothing can be measured yet (measured null: no new account live or past
    day 60, no strategic account, before week 5, no CSM); else ``done`` when the target is met;
    else ``late`` past the due date; else ``on_track`` when progressing (measured > 0, or for
    the at-most ttfbe item any measured value); else ``not_started``."""
    at_most = pl.col("direction") == _AT_MOST
    met = (
        pl.when(at_most)
        .then(pl.col("measured") <= pl.col("target"))
        .otherwise(pl.col("measured") >= pl.col("target"))
    )
    progressing = (
        pl.when(at_most).then(pl.col("measured").is_not_null()).otherwise(pl.col("measured") > 0)
    )
    return (
        pl.when(pl.col("measured").is_null())
        .then(pl.lit(PENDING))
        .when(met.fill_null(False))
        .then(pl.lit(DONE))
        .when(pl.col("due_date") < as_of)
        .then(pl.lit(LATE))
        .when(progressing.fill_null(False))
        .then(pl.lit(ON_TRACK))
        .otherwise(pl.lit(NOT_STARTED))
        .alias("status")
    )


def reset_tracker(
    book: Book,
    rated: pl.LazyFrame,
    health: pl.LazyFrame,
    cases: pl.LazyFrame,
    params: Params,
    as_of: date,
    csm_books: Collection[str] | None = None,
) -> pl.LazyFrame:
    """The eight reset items of docs/metrics.md#the-60-day-reset-tracker in week order with due_date, measured, target, status.

    ``health`` is the account-health frame at A. Targets: 1.0 for shares, ttfbe_target_days
    (at most) for the onboarding item, reset.two_workflow_share, 3 value reviews,
    reset.comp_target. ``csm_books``: the CSMs whose book was written in this run (item 1); None
    (the default) before the books exist: item 1 is ``pending`` until the run measures it on the
    books it wrote (``with_csm_books``).
    Columns ``SCHEMAS['reset_tracker']``; no rows without reset.start_date.
    """
    start = params.reset.start_date
    if start is None:
        return pl.LazyFrame(schema=SCHEMAS["reset_tracker"])
    targets = [
        1.0,
        float(params.health.ttfbe_target_days),
        params.reset.two_workflow_share,
        1.0,
        3.0,
        1.0,
        1.0,
        params.reset.comp_target,
    ]
    measured = pl.concat(
        [
            csm_book_share(health, csm_books),
            new_account_ttfbe(health, start),
            two_workflow_share(health, book, start, as_of),
            budget_share(health, book, start, as_of),
            value_reviews(book, start, as_of),
            clinic_share(book, start, as_of),
            counterpart_share(health),
            comp_weight(params),
        ]
    ).select(pl.col("measured").cast(pl.Float64))
    items = pl.LazyFrame(
        [(*item, target) for item, target in zip(_ITEMS, targets, strict=True)],
        schema=["item_id", "week", "due_week", "item", "measured_as", "direction", "target"],
        orient="row",
    )
    return (
        pl.concat([items, measured], how="horizontal")
        .with_columns(
            (pl.lit(start) + pl.duration(days=7 * pl.col("due_week") - 1)).alias("due_date")
        )
        .with_columns(reset_status(as_of))
        .select(artifact_columns("reset_tracker"))
    )


def with_csm_books(
    tracker: pl.DataFrame, health: pl.DataFrame, written: Collection[str], as_of: date
) -> pl.DataFrame:
    """``tracker`` with item 1 measured on the CSM books written in this run (``written``: the
    CSM names) and its status re-derived; the other items are unchanged."""
    if tracker.height == 0:
        return tracker
    measured = csm_book_share(health.lazy(), written).collect().item()
    item = pl.col("item_id") == CSM_BOOKS
    return (
        tracker.with_columns(
            pl.when(item)
            .then(pl.lit(measured, pl.Float64))
            .otherwise("measured")
            .alias("measured"),
            pl.lit(_AT_LEAST).alias("direction"),
        )
        .with_columns(pl.when(item).then(reset_status(as_of)).otherwise("status").alias("status"))
        .select(artifact_columns("reset_tracker"))
    )


def _state(health: pl.LazyFrame, cases: pl.LazyFrame, top_accounts: int) -> pl.LazyFrame:
    """One row of the measures compared across the reset: share_healthy, median_ttfbe_days,
    overage_amount (Σ over cases) and median_cv_28d_top_accounts (top ``top_accounts`` by
    account_value, ties by account_id)."""
    top = health.sort(
        ["account_value", "account_id"], descending=[True, False], nulls_last=True
    ).head(top_accounts)
    return pl.concat(
        [
            health.select(
                (pl.col("band") == "healthy").mean().alias("share_healthy"),
                pl.col("ttfbe_days").cast(pl.Float64).median().alias("median_ttfbe_days"),
            ),
            cases.select(exact_sum(pl.col("overage_amount")).alias("overage_amount")),
            top.select(pl.col("cv_28d").median().alias("median_cv_28d_top_accounts")),
        ],
        how="horizontal",
    ).unpivot(variable_name="measure", value_name="value")


def reset_comparison(
    book: Book,
    rated: pl.LazyFrame,
    health: pl.LazyFrame,
    cases: pl.LazyFrame,
    params: Params,
    as_of: date,
    daily: pl.LazyFrame | None = None,
) -> pl.LazyFrame:
    """The state at reset.start_date beside the state at A (docs/metrics.md#the-60-day-reset-tracker).

    Measures: share_healthy (share of accounts with a contract covering the date in band
    ``healthy``), median_ttfbe_days (live accounts), overage_amount (Σ over the overconsumption
    cases), median_cv_28d_top_accounts (the ``report.top_accounts`` largest by account_value).
    At start_date, account health (without the exhaustion quantiles: no measure reads them),
    meter months and cases are recomputed as of start_date (``daily``, when given, is
    ``series.daily_spend(rated, A)``: see ``account_health``).
    Columns ``SCHEMAS['reset_comparison']``; no rows without reset.start_date.
    """
    start = params.reset.start_date
    if start is None:
        return pl.LazyFrame(schema=SCHEMAS["reset_comparison"])
    health_start = account_health(book, rated, params, start, daily, forecast=False)
    months_start = meter_months(book, rated, start, params.overconsumption.lookback_months)
    cases_start = overage_cases(months_start, health_start, book, params, start)
    return compare_states(health_start, cases_start, health, cases, params)


def compare_states(
    health_start: pl.LazyFrame,
    cases_start: pl.LazyFrame,
    health: pl.LazyFrame,
    cases: pl.LazyFrame,
    params: Params,
) -> pl.LazyFrame:
    """``reset_comparison`` from the account health and cases at start_date and at A."""
    top = params.report.top_accounts
    return pl.concat(
        [
            _state(health_start, cases_start, top).rename({"value": "at_start"}),
            _state(health, cases, top).select(pl.col("value").alias("at_as_of")),
        ],
        how="horizontal",
    ).select(artifact_columns("reset_comparison"))
