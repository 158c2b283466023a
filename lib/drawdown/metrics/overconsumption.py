"""Overconsumption against contractual limits (docs/metrics.md#overconsumption-against-contractual-limits).

A meter's limit is the rate card's ``included_quantity`` per calendar month. It accrues day by day:
on day d the daily limit is included_quantity / (days in d's month), from the contract covering d.
``meter_months`` compares each month's usage with the limit accrued over the month's limited days
up to A; ``overage_cases`` turns the over months of the lookback into ranked, triaged cases with
the three owners of the motion (detect, first conversation, expansion).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.artifacts import SCHEMAS
from drawdown.exact import exact_sum
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import contract_prices
from drawdown.metrics.periods import shift_months
from drawdown.params import Params

MONTHS_SHOWN = 12
"""Calendar months ending with A's month that ``meter_months`` covers by default."""

SUSTAINED, EMERGING, SPIKE = "sustained", "emerging", "spike"
_SEVERITY = {SPIKE: 1, EMERGING: 2, SUSTAINED: 3}

CONVERSATION, WAIT, UNASSIGNED, WATCH, MONITOR = (
    "conversation",
    "wait",
    "unassigned",
    "watch",
    "monitor",
)

MOTION_ACTIVITIES = ("overconsumption_conversation", "expansion_opportunity", "scope_reduction")
"""Activities that place a case in the motion; on one date the later one in this order wins."""

_KEY = ["account_id", "meter"]
_MONTH_KEY = [*_KEY, "month"]


def artifact_columns(name: str, without: tuple[str, ...] = ()) -> list[pl.Expr]:
    """The artifact's columns of ``SCHEMAS[name]`` (but ``without``), in order and cast to their
    dtypes."""
    return [
        pl.col(column).cast(dtype)
        for column, dtype in SCHEMAS[name].items()
        if column not in without
    ]


def first_month(as_of: date, months: int) -> date:
    """The first day of the calendar month ``months - 1`` months before A's month.

    ``first_month(date(2024, 3, 10), 3)`` is 2024-01-01: a window of ``months`` calendar months
    ending with A's month.
    """
    return shift_months(as_of.replace(day=1), -(months - 1))


def _limited_spans(book: Book, as_of: date, since: date) -> pl.LazyFrame:
    """The limited days of [since, A], one row per (contract, meter, calendar month) as a span.

    A day d is limited for (account, meter) when the contract covering d has a rate-card row for
    the meter with an ``included_quantity`` above 0. Columns: account_id, meter, contract_id, month (first
    day), day_from, day_to (the span's first and last day in the month), days, daily_limit
    (included_quantity / days in the month), unit_price, overage_unit_price (null = unit_price).
    Spans are columnar ranges, not one row per day.
    """
    rates = contract_prices(book.rate_card).filter(has_limit())
    return (
        book.contracts.select(
            "account_id",
            "contract_id",
            pl.max_horizontal("start_date", pl.lit(since)).alias("span_from"),
            pl.min_horizontal("end_date", pl.lit(as_of)).alias("span_to"),
        )
        .filter(pl.col("span_from") <= pl.col("span_to"))
        .join(rates, on="contract_id")
        .with_columns(
            pl.date_ranges(pl.col("span_from").dt.month_start(), "span_to", interval="1mo").alias(
                "month"
            )
        )
        .explode("month")
        .with_columns(
            pl.max_horizontal("span_from", "month").alias("day_from"),
            pl.min_horizontal("span_to", pl.col("month").dt.month_end()).alias("day_to"),
            (pl.col("included_quantity") / pl.col("month").dt.days_in_month()).alias("daily_limit"),
        )
        .with_columns(((pl.col("day_to") - pl.col("day_from")).dt.total_days() + 1).alias("days"))
        .select(
            *_MONTH_KEY,
            "contract_id",
            "day_from",
            "day_to",
            "days",
            "daily_limit",
            "unit_price",
            "overage_unit_price",
        )
    )


def has_limit() -> pl.Expr:
    """A rate-card row limits its meter when included_quantity > 0: null or 0 means pay-per-use,
    never a limit to cross (docs/metrics.md#overconsumption-against-contractual-limits)."""
    return pl.col("included_quantity").fill_null(0.0) > 0


def over_units() -> pl.Expr:
    """Units past the line in a month: max(0, usage − limit)."""
    return (pl.col("usage") - pl.col("limit")).clip(lower_bound=0.0).alias("over_units")


def pct_over() -> pl.Expr:
    """How far past the line: usage / limit − 1 (negative under the line; limits are > 0)."""
    return (pl.col("usage") / pl.col("limit") - 1.0).alias("pct_over")


def is_over() -> pl.Expr:
    """A month is over when usage > limit."""
    return (pl.col("usage") > pl.col("limit")).alias("is_over")


def overage_amount() -> pl.Expr:
    """Value past the line: over_units × overage_unit_price of the month's last limited day."""
    return (pl.col("over_units") * pl.col("overage_unit_price")).alias("overage_amount")


def meter_months(
    book: Book, rated: pl.LazyFrame, as_of: date, months: int = MONTHS_SHOWN
) -> pl.LazyFrame:
    """Each (account, meter) with a limit against it, month by month (docs/metrics.md#overconsumption-against-contractual-limits).

    For the ``months`` calendar months ending with A's month, over the days of month m that are
    ≤ A and limited (covering contract with an included_quantity above 0 for the meter):
    limit = Σ daily limits (included_quantity / days in m, from the contract covering each day;
    a renewal part-way through m changes it part-way), usage = Σ quantity over those days only,
    over_units = max(0, usage − limit), pct_over = usage / limit − 1, is_over = usage > limit,
    overage_amount = over_units × overage_unit_price; unit_price and overage_unit_price (null =
    unit_price) are those of the contract covering the month's last limited day. The current
    month counts to A, so its limit is pro rata. Months without a limited day have no row.
    Columns ``SCHEMAS['meter_months']`` but ``pattern`` (``with_patterns`` adds it), sorted by
    account_id, meter, month. ``months`` must cover the overconsumption lookback.
    """
    since = first_month(as_of, months)
    usage = (
        rated.filter(
            has_limit(),
            pl.col("usage_date").is_between(since, as_of),
        )
        .group_by("account_id", "meter", pl.col("usage_date").dt.month_start().alias("month"))
        .agg(exact_sum(pl.col("quantity")).alias("usage"))
    )
    return (
        _limited_spans(book, as_of, since)
        .group_by(_MONTH_KEY)
        .agg(
            exact_sum(pl.col("days") * pl.col("daily_limit")).alias("limit"),
            pl.col("unit_price").sort_by("day_to").last(),
            pl.col("overage_unit_price").sort_by("day_to").last(),
        )
        .join(usage, on=_MONTH_KEY, how="left")
        .with_columns(pl.col("usage").fill_null(0.0))
        .with_columns(over_units(), pct_over(), is_over())
        .with_columns(overage_amount())
        .select(artifact_columns("meter_months", without=("pattern",)))
        .sort(_MONTH_KEY)
    )


def with_patterns(meter_months: pl.LazyFrame, over: pl.LazyFrame) -> pl.LazyFrame:
    """The meter_months artifact: each row with its meter's ``pattern`` over the lookback
    (``over_meters``; null for a meter with no over month in the lookback), so every output
    marks a meter spike / emerging / sustained exactly as its case does."""
    return (
        meter_months.join(over.select(*_KEY, "pattern"), on=_KEY, how="left")
        .select(artifact_columns("meter_months"))
        .sort(_MONTH_KEY)
    )


def _typical_at(over: pl.LazyFrame, book: Book, as_of: date, since: date) -> pl.LazyFrame:
    """Typical month at each meter's latest over month m*: median daily quantity × days.

    Over the limited days of m* up to A, zeros included (days without usage count as 0).
    ``book.usage`` is daily (one row per account, meter and day). Only the m* days of the
    over meters are laid out day by day. Columns: account_id, meter, typical.
    """
    days = (
        _limited_spans(book, as_of, since)
        .join(over.select(*_KEY, pl.col("latest_over_month").alias("month")), on=_MONTH_KEY)
        .select(*_KEY, pl.date_ranges("day_from", "day_to").alias("usage_date"))
        .explode("usage_date")
    )
    usage = book.usage.filter(pl.col("usage_date").is_between(since, as_of))
    return (
        days.join(usage, on=[*_KEY, "usage_date"], how="left")
        .group_by(_KEY)
        .agg((pl.col("quantity").fill_null(0.0).median() * pl.len()).alias("typical"))
    )


def meter_pattern(sustained_months: int) -> pl.Expr:
    """A meter's pattern over the lookback.

    ``sustained`` if months_over ≥ sustained_months; else ``spike`` if the latest over month m*
    passes the spike test (typical ≤ limit at m*: the typical day is inside the line and a few
    days carried the month over); else ``emerging``. Only for meters with months_over ≥ 1.
    """
    return (
        pl.when(pl.col("months_over") >= sustained_months)
        .then(pl.lit(SUSTAINED))
        .when(pl.col("typical") <= pl.col("limit"))
        .then(pl.lit(SPIKE))
        .otherwise(pl.lit(EMERGING))
        .alias("pattern")
    )


def over_meters(
    meter_months: pl.LazyFrame, book: Book, params: Params, as_of: date
) -> pl.LazyFrame:
    """Per (account, meter) with ≥ 1 over month in the lookback: how and how often it went over.

    Lookback = the ``lookback_months`` calendar months ending with A's month (A's month to A).
    Columns: account_id, meter, months_over (over months in the lookback), latest_over_month (m*),
    pct_over and limit at m*, overage_amount (Σ over the lookback), typical (spike test) and
    pattern (``meter_pattern``).
    """
    settings = params.overconsumption
    since = first_month(as_of, settings.lookback_months)
    over = (
        meter_months.filter(pl.col("month").is_between(since, as_of))
        .group_by(_KEY)
        .agg(
            pl.col("is_over").sum().cast(pl.Int64).alias("months_over"),
            pl.col("month").filter("is_over").max().alias("latest_over_month"),
            pl.col("pct_over").sort_by("is_over", "month").last(),
            pl.col("limit").sort_by("is_over", "month").last(),
            exact_sum(pl.col("overage_amount")).alias("overage_amount"),
        )
        .filter(pl.col("months_over") >= 1)
    )
    return over.join(_typical_at(over, book, as_of, since), on=_KEY, how="left").with_columns(
        meter_pattern(settings.sustained_months)
    )


def named_owner(column: str) -> pl.Expr:
    """The owner's name, null when empty or blank."""
    return (
        pl.when(pl.col(column).str.strip_chars() != "").then(pl.col(column)).otherwise(None)
    ).alias(column)


def priority_score() -> pl.Expr:
    """account_value × pct_over: how much value sits behind how far past the line."""
    return (pl.col("account_value") * pl.col("pct_over")).alias("priority_score")


def triage(min_pct_over: float, value_floor: float, max_cases_per_csm: int) -> pl.Expr:
    """The case's next step (a CSM's queue follows ``rank``, whatever the rows' order).

    eligible = pattern ``sustained`` and pct_over ≥ min_pct_over and account_value ≥ value_floor
    (a null account_value is not eligible). Eligible without a CSM → ``unassigned``; eligible with
    a CSM → the CSM's first ``max_cases_per_csm`` eligible cases in rank order → ``conversation``,
    the rest → ``wait``. Not eligible → ``watch`` (sustained, emerging) or ``monitor`` (spike).
    """
    eligible = (
        (pl.col("pattern") == SUSTAINED)
        & (pl.col("pct_over") >= min_pct_over)
        & (pl.col("account_value") >= value_floor)
    ).fill_null(False)
    place_in_csm_queue = eligible.cast(pl.Int64).cum_sum().over("csm_owner", order_by="rank")
    return (
        pl.when(eligible & pl.col("csm_owner").is_null())
        .then(pl.lit(UNASSIGNED))
        .when(eligible & (place_in_csm_queue <= max_cases_per_csm))
        .then(pl.lit(CONVERSATION))
        .when(eligible)
        .then(pl.lit(WAIT))
        .when(pl.col("pattern") == SPIKE)
        .then(pl.lit(MONITOR))
        .otherwise(pl.lit(WATCH))
        .alias("triage")
    )


def missing_owners() -> pl.Expr:
    """The steps of the motion with no named owner: ``first_conversation`` (no CSM) and
    ``expansion`` (no AE), in that order; empty when both are named. Detection is always owned."""
    return (
        pl.concat_list(
            pl.when(pl.col("csm_owner").is_null()).then(pl.lit("first_conversation")),
            pl.when(pl.col("ae_owner").is_null()).then(pl.lit("expansion")),
        )
        .list.drop_nulls()
        .alias("missing_owners")
    )


def case_status(book: Book, as_of: date) -> pl.LazyFrame:
    """Each account's place in the motion: the latest motion activity on or before A.

    Motion activities are ``MOTION_ACTIVITIES``; on one date the later one in that order wins
    (scope_reduction over expansion_opportunity over overconsumption_conversation).
    Columns: account_id, status (the activity_type); accounts without one have no row.
    """
    step = pl.col("activity_type").replace_strict(
        {activity: order for order, activity in enumerate(MOTION_ACTIVITIES)},
        default=None,
        return_dtype=pl.Int64,
    )
    return (
        book.activities.filter(
            pl.col("activity_type").is_in(MOTION_ACTIVITIES),
            pl.col("activity_date") <= as_of,
            pl.col("account_id").is_not_null(),
        )
        .group_by("account_id")
        .agg(pl.col("activity_type").sort_by("activity_date", step).last().alias("status"))
    )


def overage_cases(
    meter_months: pl.LazyFrame,
    health: pl.LazyFrame,
    book: Book,
    params: Params,
    as_of: date,
) -> pl.LazyFrame:
    """Overconsumption cases, one per account, in rank order (docs/metrics.md#overconsumption-against-contractual-limits):
    ``rank_cases`` of the ``over_meters`` of ``meter_months``."""
    return rank_cases(over_meters(meter_months, book, params, as_of), health, book, params, as_of)


def rank_cases(
    over: pl.LazyFrame, health: pl.LazyFrame, book: Book, params: Params, as_of: date
) -> pl.LazyFrame:
    """The cases of the over meters ``over`` (``over_meters``), ranked and triaged.

    A case is an account in ``health`` (a contract covering A) with ≥ 1 over month in the
    lookback. meter = the meter with the highest pct_over at its own latest over month (ties: the
    first meter name); pct_over and latest_over_month are that meter's; pattern = the most severe
    over the account's meters (sustained > emerging > spike); meters_over = meters with an over
    month; months_over = the most over months of any meter (so sustained ⇔ months_over ≥
    sustained_months); overage_amount = Σ overage over the lookback, all meters; priority_score
    = account_value × pct_over; rank 1, 2, … by priority_score descending (nulls last), ties by
    account_id; triage as in ``triage``; owners detect = ``system``, first_conversation =
    csm_owner, expansion = ae_owner (blank = missing); status from ``case_status``.
    Columns ``SCHEMAS['overage_cases']``.
    """
    settings = params.overconsumption
    severity = pl.col("pattern").replace_strict(_SEVERITY, return_dtype=pl.Int64)
    by_case_meter = [pl.col("pct_over"), pl.col("meter")]
    accounts = over.group_by("account_id").agg(
        pl.col("meter").sort_by(by_case_meter, descending=[True, False]).first(),
        pl.col("pct_over").sort_by(by_case_meter, descending=[True, False]).first(),
        pl.col("latest_over_month").sort_by(by_case_meter, descending=[True, False]).first(),
        severity.max().alias("severity"),
        pl.len().cast(pl.Int64).alias("meters_over"),
        pl.col("months_over").max(),
        exact_sum(pl.col("overage_amount")).alias("overage_amount"),
    )
    owners = health.select(
        "account_id",
        "account_name",
        "segment",
        named_owner("csm_owner"),
        named_owner("ae_owner"),
        "account_value",
    )
    return (
        accounts.join(owners, on="account_id")
        .with_columns(
            pl.col("severity")
            .replace_strict({rank: name for name, rank in _SEVERITY.items()})
            .alias("pattern"),
            priority_score(),
        )
        .sort(["priority_score", "account_id"], descending=[True, False], nulls_last=True)
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"))
        .with_columns(
            triage(settings.min_pct_over, settings.value_floor, settings.max_cases_per_csm),
            pl.lit("system").alias("owner_detect"),
            pl.col("csm_owner").alias("owner_first_conversation"),
            pl.col("ae_owner").alias("owner_expansion"),
            missing_owners(),
        )
        .join(case_status(book, as_of), on="account_id", how="left")
        .sort("rank")
        .select(artifact_columns("overage_cases"))
    )
