"""Changes since the previous run (docs/metrics.md#changes-since-the-previous-run).

``changes`` compares this run's account_health and overage_cases with those of a previous run —
the run ``latest`` pointed at, a folder named by ``compare_to``, or the same book recomputed at
A − 7 days — and lists what moved: new, escalated and resolved cases, band and burn changes and
accounts that went live. The clinic and the digest lead with these counts.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.metrics.overconsumption import (
    CONVERSATION,
    EMERGING,
    MONITOR,
    SPIKE,
    SUSTAINED,
    UNASSIGNED,
    WAIT,
    WATCH,
    artifact_columns,
)

NEW_CASE, ESCALATED, RESOLVED, BAND_CHANGE, WENT_LIVE, BURN_CHANGE = (
    "new_case",
    "escalated",
    "resolved",
    "band_change",
    "went_live",
    "burn_change",
)
KINDS = (NEW_CASE, ESCALATED, RESOLVED, BAND_CHANGE, WENT_LIVE, BURN_CHANGE)
"""The kinds of change, in the order the artifact lists them."""

PATTERN_LEVEL = {SPIKE: 1, EMERGING: 2, SUSTAINED: 3}
TRIAGE_LEVEL = {MONITOR: 1, WATCH: 2, WAIT: 3, CONVERSATION: 4, UNASSIGNED: 4}
"""How far a case has gone: a rise in either is an escalation (conversation and unassigned are
the same step, one with an owner and one without)."""

_THEN = "_then"
_CASE_FIELDS = ("account_id", "pattern", "triage")
_ACCOUNT_FIELDS = ("account_id", "band", "burn", "first_billable_date")


def changes(
    health: pl.LazyFrame,
    cases: pl.LazyFrame,
    previous_health: pl.LazyFrame,
    previous_cases: pl.LazyFrame,
    previous_as_of: date,
) -> pl.LazyFrame:
    """What changed between the previous run (as of ``previous_as_of``) and now, one row per
    account and kind of change (docs/metrics.md#changes-since-the-previous-run).

    ``new_case``: a case now, none then (from null, to the pattern). ``resolved``: a case then,
    none now (from the pattern then, to null). ``escalated``: a case then and now whose pattern
    rose (spike → emerging → sustained; from/to the patterns) or, the pattern not having risen,
    whose triage rose (monitor → watch → wait → conversation or unassigned; from/to the triages).
    ``band_change`` and ``burn_change``: an account in both runs whose band (burn) differs, null
    included (from/to the values). ``went_live``: a first_billable_date now and none then (an
    account absent then counts when its first billable date is after ``previous_as_of``; to the
    date, ISO). Columns ``SCHEMAS['changes']``, by kind (``KINDS`` order), then account_id.
    """
    case_now, case_then = (frame.select(_CASE_FIELDS) for frame in (cases, previous_cases))
    now, then = (frame.select(_ACCOUNT_FIELDS) for frame in (health, previous_health))
    both_cases = case_now.join(case_then, on="account_id", suffix=_THEN)
    both_accounts = now.join(then, on="account_id", suffix=_THEN)
    frames = [
        _rows(case_now.join(case_then, on="account_id", how="anti"), NEW_CASE, None, "pattern"),
        _escalations(both_cases),
        _rows(case_then.join(case_now, on="account_id", how="anti"), RESOLVED, "pattern", None),
        _differences(both_accounts, "band", BAND_CHANGE),
        _went_live(now, then, previous_as_of),
        _differences(both_accounts, "burn", BURN_CHANGE),
    ]
    order = pl.col("change").replace_strict({kind: i for i, kind in enumerate(KINDS)})
    return (
        pl.concat(frames)
        .with_columns(pl.lit(previous_as_of).alias("previous_as_of"))
        .sort(order, "account_id")
        .select(artifact_columns("changes"))
    )


def _rows(frame: pl.LazyFrame, kind: str, before: str | None, after: str | None) -> pl.LazyFrame:
    """``frame``'s accounts as changes of ``kind``, from/to the named columns (None: null)."""
    return frame.select(
        "account_id",
        pl.lit(kind).alias("change"),
        (pl.col(before) if before else pl.lit(None)).cast(pl.String).alias("from"),
        (pl.col(after) if after else pl.lit(None)).cast(pl.String).alias("to"),
    )


def _escalations(both: pl.LazyFrame) -> pl.LazyFrame:
    """Cases of both runs whose pattern rose, else whose triage rose."""

    def level(column: str, levels: dict[str, int]) -> pl.Expr:
        return pl.col(column).replace_strict(levels, default=0, return_dtype=pl.Int64)

    pattern_rose = level("pattern", PATTERN_LEVEL) > level(f"pattern{_THEN}", PATTERN_LEVEL)
    triage_rose = level("triage", TRIAGE_LEVEL) > level(f"triage{_THEN}", TRIAGE_LEVEL)
    field = pl.when(pattern_rose).then(pl.lit("pattern")).otherwise(pl.lit("triage"))
    return both.filter(pattern_rose | triage_rose).select(
        "account_id",
        pl.lit(ESCALATED).alias("change"),
        pl.when(field == "pattern")
        .then(pl.col(f"pattern{_THEN}"))
        .otherwise(pl.col(f"triage{_THEN}"))
        .alias("from"),
        pl.when(field == "pattern").then(pl.col("pattern")).otherwise(pl.col("triage")).alias("to"),
    )


def _differences(both: pl.LazyFrame, column: str, kind: str) -> pl.LazyFrame:
    """Accounts of both runs whose ``column`` differs (a null differs from a value)."""
    return _rows(
        both.filter(pl.col(column).ne_missing(pl.col(f"{column}{_THEN}"))),
        kind,
        f"{column}{_THEN}",
        column,
    )


def _went_live(
    health: pl.LazyFrame, previous_health: pl.LazyFrame, previous_as_of: date
) -> pl.LazyFrame:
    """Accounts live now that were not live then."""
    then = previous_health.select(
        "account_id", pl.col("first_billable_date").alias("_live_then"), pl.lit(True).alias("_seen")
    )
    live_now = pl.col("first_billable_date")
    was_live = (
        pl.when(pl.col("_seen").is_not_null())
        .then(pl.col("_live_then").is_not_null())
        .otherwise(live_now <= previous_as_of)
    )
    return _rows(
        health.join(then, on="account_id", how="left").filter(live_now.is_not_null() & ~was_live),
        WENT_LIVE,
        None,
        "first_billable_date",
    )
