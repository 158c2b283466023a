"""What the reports read: a run's artifacts, loaded once, and the small views the reports show.

The report notebooks read only the artifacts of ``drawdown.artifacts.SCHEMAS`` from
``<run_dir>/artifacts/`` (plus the optional ``previous_month/`` folder). Every view here is a pure
function of collected frames: the notebooks call one function per cell. Recommendations come from
``account_actions`` and nowhere else; every period compared is one of
``drawdown.metrics.periods`` (complete months, named). Text read from the artifacts is
``inert.plain_text`` (no bidirectional or other control characters) in every column but
``account_id``, the key reports look accounts up by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.artifacts import OPTIONAL_ARTIFACTS, RUN_ARTIFACTS, SCHEMAS
from drawdown.metrics import periods
from drawdown.reports import glossary
from drawdown.reports.inert import plain_frame, plain_text

LIST_ROWS = 15
"""The most rows a report list (accounts, cases, warnings, unowned steps) shows: the largest first.
The full lists stay in the run folder (``ACCOUNTS_FILE``, ``CASES_FILE``, ``CRM_FILE``)."""
ACCOUNTS_FILE = "exports/accounts.xlsx (sheet Accounts)"
CASES_FILE = "exports/accounts.xlsx (sheet Cases)"
CRM_FILE = "exports/overconsumption_cases.csv"
CHANGES_FILE = "exports/accounts.xlsx (sheet Changes)"

PREVIOUS_MONTH = ("account_health", "segment_summary", "overage_cases")
FORECASTS = ("consumption_forecast", "limit_crossing", "forecast_backtest")
"""Forecast artifacts (docs/metrics.md): read when the run wrote them; a report shows its
forecast layer only then."""

ACTION_LABELS = glossary.VALUES["next_action"]
"""The next actions of ``account_actions`` in the words a report uses, in ladder order."""
ROLE_LABELS = glossary.VALUES["owner_role"]
CHANGE_LABELS = {
    "new_case": "new cases",
    "escalated": "escalated",
    "resolved": "resolved",
    "went_live": "went live",
    "band_change": "band changes",
    "burn_change": "burn changes",
}
"""The kinds of ``changes``, as the clinic and the digest count them."""

HEADLINE_MEASURES = {
    "accounts": "Accounts under contract",
    "commit_total": "Commit",
    "consumed_to_date_total": "Consumed to date",
    "share_healthy": "Share in the healthy band",
    "share_under": "Share under",
    "share_over": "Share over",
    "overage_amount": "Value past the line",
    "cases_conversation": "Cases earning a conversation",
    "grr": "GRR",
    "nrr": "NRR",
}


@dataclass(frozen=True)
class RunData:
    """A run's artifacts: ``tables`` by artifact name, the as-of date and the optional comparison.

    ``previous_month`` is None when the pipeline did not write it.
    """

    run_dir: Path
    as_of: date
    tables: dict[str, pl.DataFrame]
    data_quality: dict[str, Any]
    previous_month: dict[str, pl.DataFrame] | None
    segment: str | None = None

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def get(self, name: str) -> pl.DataFrame | None:
        """An optional artifact (``reset_tracker``, ``reset_comparison``, ``changes``) or None."""
        return self.tables.get(name)


def load_run(
    run_dir: Path | str, as_of: date | str | None = None, account_id: str | None = None
) -> RunData:
    """Read ``<run_dir>/artifacts``: every artifact, data_quality.json and the previous folders.

    ``as_of`` defaults to the date the artifacts were computed at (term_start + elapsed_days - 1).
    With ``account_id``, the per-account artifacts hold that account's rows only: an account
    review reads its slice (the artifacts are sorted by account, so Parquet skips the other row
    groups) rather than, at 50,000 accounts, tens of millions of daily rows.
    """
    run_dir = Path(run_dir)
    folder = run_dir / "artifacts"
    tables = {
        name: _read_artifact(folder / f"{name}.parquet", account_id)
        for name in dict.fromkeys([*SCHEMAS, *FORECASTS])
        if (name in SCHEMAS and name not in (*OPTIONAL_ARTIFACTS, *RUN_ARTIFACTS))
        or (folder / f"{name}.parquet").exists()
    }
    quality_file = folder / "data_quality.json"
    quality = json.loads(quality_file.read_text(encoding="utf-8")) if quality_file.exists() else {}
    resolved = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return RunData(
        run_dir=run_dir,
        as_of=resolved or _as_of_from(tables["account_health"]),
        tables=tables,
        data_quality=quality,
        previous_month=_read_optional(folder / "previous_month", PREVIOUS_MONTH),
    )


def _read_artifact(path: Path, account_id: str | None = None) -> pl.DataFrame:
    if account_id is None or "account_id" not in pl.read_parquet_schema(path):
        frame = pl.read_parquet(path)
    else:
        frame = pl.scan_parquet(path).filter(pl.col("account_id") == account_id).collect()
    return plain_frame(frame, keep=("account_id",))


def scoped(run: RunData, segment: str | None) -> RunData:
    """The run narrowed to one segment (its accounts, cases, cohorts and summary row); None: all."""
    if segment is None:
        return run
    segment = plain_text(segment)
    ids = run["account_health"].filter(pl.col("segment") == segment)["account_id"]

    def narrow(tables: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        return {name: _narrow(name, frame, segment, ids) for name, frame in tables.items()}

    return replace(
        run,
        tables=narrow(run.tables),
        previous_month=narrow(run.previous_month) if run.previous_month else None,
        segment=segment,
    )


def headline_figures(run: RunData) -> pl.DataFrame:
    """The portfolio row of segment_summary against last month: measure, label, current, previous.

    The portfolio row is ``All`` (or the scoped segment); ``previous`` is null without last month.
    """
    current = _portfolio_row(run["segment_summary"], run.segment)
    previous = (
        _portfolio_row(run.previous_month["segment_summary"], run.segment)
        if run.previous_month
        else {}
    )
    return pl.DataFrame(
        {
            "measure": list(HEADLINE_MEASURES),
            "label": list(HEADLINE_MEASURES.values()),
            "current": [_float(current.get(key)) for key in HEADLINE_MEASURES],
            "previous": [_float(previous.get(key)) for key in HEADLINE_MEASURES],
        },
        schema={
            "measure": pl.String,
            "label": pl.String,
            "current": pl.Float64,
            "previous": pl.Float64,
        },
    ).with_columns((pl.col("current") - pl.col("previous")).alias("change"))


def segment_rows(summary: pl.DataFrame) -> pl.DataFrame:
    """segment_summary without the ``All`` row, by segment name."""
    return summary.filter(pl.col("segment") != "All").sort("segment")


def band_mix(summary: pl.DataFrame) -> pl.DataFrame:
    """Long band shares per segment: segment, band, share (bands in their natural order)."""
    bands = ["paygo", "not_live", "under", "healthy", "over"]
    return (
        summary.select("segment", *[f"share_{band}" for band in bands])
        .unpivot(index="segment", variable_name="band", value_name="share")
        .with_columns(pl.col("band").str.strip_prefix("share_"))
    )


def burn_actions(health: pl.DataFrame, actions: pl.DataFrame, burn: str) -> pl.DataFrame:
    """Accounts whose burn is ``burn`` (too_slow / too_fast) with their next action, owner and
    reason (``with_actions``), largest accounts first."""
    return with_actions(health.filter(pl.col("burn") == burn), actions).sort(
        ["account_value", "account_id"], descending=[True, False]
    )


def with_actions(accounts: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """``accounts`` with their row of ``account_actions`` (next_action, owner, owner_role,
    reason, days_to_renewal) and ``action``: the next action in words with its owner."""
    joined = accounts.join(
        actions.select(
            "account_id", "next_action", "owner", "owner_role", "reason", "days_to_renewal"
        ),
        on="account_id",
        how="left",
        maintain_order="left",
    )
    return joined.with_columns(action_text().alias("action"))


def action_text() -> pl.Expr:
    """ "Open the conversation (Kim Lee, CSM)"; "(no CSM named)" when the step has no owner."""
    label = pl.col("next_action").replace_strict(ACTION_LABELS, default=pl.col("next_action"))
    role = pl.col("owner_role").replace_strict(ROLE_LABELS, default=pl.col("owner_role"))
    owner = (
        pl.when(pl.col("owner").is_not_null())
        .then(pl.format("{}, {}", pl.col("owner"), role))
        .otherwise(pl.format("no {} named", role))
    )
    return pl.format("{} ({})", label, owner)


def briefing_groups(
    health: pl.DataFrame, cases: pl.DataFrame, actions: pl.DataFrame
) -> pl.DataFrame:
    """Every account with its portfolio-briefing group, the reason and its next action
    (``with_actions``), most valuable first.

    ``action_required``: an open case to take up now (triage conversation or unassigned; a case
    closed by a scope reduction is not) or a renewal / breakage risk. ``watch``: any other case,
    a band off target or an early warning. ``healthy``: the rest.
    """
    triage = cases.select("account_id", "triage", "pattern", "status")
    joined = health.join(triage, on="account_id", how="left")
    warnings = pl.col("early_warnings").fill_null([])
    closed = pl.col("status").fill_null("") == "scope_reduction"
    urgent_case = pl.col("triage").is_in(["conversation", "unassigned"]) & ~closed
    risk = warnings.list.contains("renewal_risk") | warnings.list.contains("breakage_risk")
    off_band = pl.col("band").is_in(["under", "over", "not_live"])
    group = (
        pl.when(urgent_case | risk)
        .then(pl.lit("action_required"))
        .when(pl.col("triage").is_not_null() | off_band | (warnings.list.len() > 0))
        .then(pl.lit("watch"))
        .otherwise(pl.lit("healthy"))
    )
    reasons = pl.concat_list(
        pl.when(pl.col("triage").is_not_null())
        .then(pl.format("{} case ({})", pl.col("pattern"), pl.col("triage")))
        .otherwise(None),
        pl.when(off_band).then(pl.format("band {}", pl.col("band"))).otherwise(None),
        warnings.list.join(", ").replace("", None),
    ).list.drop_nulls()
    grouped = joined.with_columns(group.alias("group"), reasons.list.join("; ").alias("why"))
    return (
        with_actions(grouped.drop("triage", "pattern", "status"), actions)
        .drop("reason")
        .rename({"why": "reason"})
        .sort(["account_value", "account_id"], descending=[True, False], nulls_last=True)
    )


def with_spend_trend(
    accounts: pl.DataFrame, months: pl.DataFrame, as_of: date, n: int = 6
) -> pl.DataFrame:
    """``accounts`` with ``spend_trend``: the list of its last ``n`` complete monthly amounts
    (oldest first; A's month, incomplete, is left out)."""
    trend = (
        complete_months(months, as_of)
        .sort("month")
        .group_by("account_id")
        .agg(pl.col("amount").tail(n).alias("spend_trend"))
    )
    return accounts.join(trend, on="account_id", how="left", maintain_order="left")


def unowned_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """Cases with at least one step (first conversation, expansion) that names no owner."""
    return cases.filter(pl.col("missing_owners").list.len() > 0)


def early_warning_list(health: pl.DataFrame) -> pl.DataFrame:
    """One row per (account, early warning), most valuable accounts first."""
    return (
        health.filter(pl.col("early_warnings").list.len() > 0)
        .explode("early_warnings")
        .rename({"early_warnings": "warning"})
        .sort(["account_value", "account_id", "warning"], descending=[True, False, False])
    )


def top_accounts(health: pl.DataFrame, n: int) -> pl.DataFrame:
    """The ``n`` accounts with the highest account_value (ties by account_id)."""
    return health.sort(["account_value", "account_id"], descending=[True, False]).head(n)


def daily_lines(
    daily: pl.DataFrame, accounts: pl.DataFrame, as_of: date, days: int = 90
) -> pl.DataFrame:
    """Daily spend of ``accounts`` over the last ``days`` days to as_of, zeros filled.

    Columns: account_id, account_name, usage_date, amount.
    """
    first = as_of - timedelta(days=days - 1)
    dates = pl.date_range(first, as_of, eager=True).alias("usage_date")
    grid = accounts.select("account_id", "account_name").join(dates.to_frame(), how="cross")
    shown = daily.filter(
        pl.col("usage_date").is_between(first, as_of),
        pl.col("account_id").is_in(accounts["account_id"].implode()),
    )
    return grid.join(shown, on=["account_id", "usage_date"], how="left").with_columns(
        pl.col("amount").fill_null(0.0)
    )


def ttfbe_trend(cohorts: pl.DataFrame) -> pl.DataFrame:
    """Median ttfbe_days by cohort month over all segments, weighted by live accounts.

    Columns: cohort_month, live_accounts, median_ttfbe_days; months without live accounts dropped.
    """
    return (
        cohorts.filter(pl.col("live_accounts") > 0)
        .group_by("cohort_month")
        .agg(
            pl.col("live_accounts").sum(),
            (
                (pl.col("median_ttfbe_days") * pl.col("live_accounts")).sum()
                / pl.col("live_accounts").sum()
            ).alias("median_ttfbe_days"),
        )
        .sort("cohort_month")
    )


def adoption_funnel(health: pl.DataFrame) -> pl.DataFrame:
    """Per segment (and ``All``): accounts at contract start, first billable event, two workflows
    and steady draw. Long: segment, step, step_order, accounts, share (of contract start)."""
    steps = {
        "Contract start": pl.len(),
        "First billable event": pl.col("first_billable_date").is_not_null().sum(),
        "Two workflows live": (pl.col("workflows_live") >= 2).sum(),
        "Steady draw": (pl.col("adoption_stage") == "steady_draw").sum(),
    }
    aggregations = [expr.cast(pl.Int64).alias(name) for name, expr in steps.items()]
    per_segment = health.group_by("segment").agg(aggregations).sort("segment")
    overall = health.select(aggregations).with_columns(pl.lit("All").alias("segment"))
    wide = pl.concat([per_segment, overall.select(per_segment.columns)])
    order = pl.DataFrame({"step": list(steps), "step_order": list(range(len(steps)))})
    return (
        wide.unpivot(index="segment", variable_name="step", value_name="accounts")
        .join(order, on="step")
        .with_columns(
            (
                pl.col("accounts")
                / pl.col("accounts").first().over("segment", order_by="step_order")
            ).alias("share")
        )
        .sort(["segment", "step_order"])
    )


def change_counts(changes: pl.DataFrame | None) -> dict[str, int] | None:
    """How many changes of each kind since the previous run (``CHANGE_LABELS`` order, zeros
    included); None without a changes artifact."""
    if changes is None:
        return None
    counts = dict(changes.group_by("change").len().iter_rows())
    return {kind: int(counts.get(kind, 0)) for kind in CHANGE_LABELS}


def counts_text(counts: dict[str, int]) -> str:
    """ "new cases 1, escalated 0, resolved 2, …": every kind with its count (``change_counts``)."""
    return ", ".join(f"{label} {counts[kind]}" for kind, label in CHANGE_LABELS.items())


def previous_as_of(changes: pl.DataFrame | None) -> date | None:
    """The as-of date of the run the changes compare with (None without changes or rows)."""
    if changes is None or changes.height == 0:
        return None
    return changes["previous_as_of"][0]


def changed_accounts(
    changes: pl.DataFrame, health: pl.DataFrame, kinds: tuple[str, ...]
) -> pl.DataFrame:
    """The changes of ``kinds`` with the account's name, segment and CSM (accounts that left
    the book keep their id), in ``kinds`` order, then by account_value."""
    order = pl.col("change").replace_strict({kind: i for i, kind in enumerate(kinds)})
    names = health.select("account_id", "account_name", "segment", "csm_owner", "account_value")
    return (
        changes.filter(pl.col("change").is_in(kinds))
        .join(names, on="account_id", how="left")
        .with_columns(pl.col("account_name").fill_null(pl.col("account_id")))
        .sort(
            [order, "account_value", "account_id"], descending=[False, True, False], nulls_last=True
        )
    )


# --- the account review ---


@dataclass(frozen=True)
class AccountData:
    """One account's slice of the run: its health row, its next action (``account_actions``),
    its case (or None) and its series."""

    account_id: str
    health: dict[str, Any]
    action: dict[str, Any]
    case: dict[str, Any] | None
    daily: pl.DataFrame
    meters: pl.DataFrame
    months: pl.DataFrame
    as_of: date


def account_data(run: RunData, account_id: str) -> AccountData:
    """The account's rows of every artifact. Raises KeyError naming an unknown account_id."""
    mine = pl.col("account_id") == account_id
    health = run["account_health"].filter(mine)
    if health.height == 0:
        raise KeyError(f"account {account_id!r} has no row in account_health")
    case = run["overage_cases"].filter(mine)
    return AccountData(
        account_id=account_id,
        health=health.row(0, named=True),
        action=run["account_actions"].filter(mine).row(0, named=True),
        case=case.row(0, named=True) if case.height else None,
        daily=run["daily_spend"].filter(mine).sort("usage_date"),
        meters=run["meter_months"].filter(mine).sort(["meter", "month"]),
        months=run["account_months"].filter(mine).sort("month"),
        as_of=run.as_of,
    )


def quarter_comparison(account: AccountData) -> tuple[periods.Comparison, pl.DataFrame]:
    """The last three complete months before as_of's month against the three before
    (``periods.quarter_comparison``): consumption (from ``account_actions``), outcomes and
    workflows live at the end of each quarter.

    Returns the comparison (its periods and label) and a frame: measure, previous, current,
    change (relative; null without a base).
    """
    comparison = periods.quarter_comparison(account.as_of)
    months = account.months

    def totals(period: periods.Period) -> list[float | None]:
        rows = months.filter(period.holds("month"))
        outcomes = rows["outcome_count"].drop_nulls()
        return [
            float(outcomes.sum()) if outcomes.len() else None,
            _float(rows["workflows_live"].last()) if rows.height else None,
        ]

    action = account.action
    frame = pl.DataFrame(
        {
            "measure": ["Consumption", "Outcomes", "Workflows live"],
            "previous": [action["consumption_prior_quarter"], *totals(comparison.previous)],
            "current": [action["consumption_last_quarter"], *totals(comparison.current)],
        },
        schema={"measure": pl.String, "previous": pl.Float64, "current": pl.Float64},
    ).with_columns(
        pl.when(pl.col("previous") != 0)
        .then(pl.col("current") / pl.col("previous") - 1)
        .alias("change")
    )
    return comparison, frame


def month_to_date(account: AccountData) -> dict[str, Any]:
    """As-of's month, shown only as month-to-date beside its projection (never compared):
    label, amount (Σ c over the month to as_of), days_left, projection (amount + run_rate ×
    days left)."""
    period = periods.month_to_date(account.as_of)
    amount = float(account.daily.filter(period.holds())["amount"].sum())
    days_left = periods.days_left_in_month(account.as_of)
    run_rate = account.health["run_rate"] or 0.0
    return {
        "label": period.label,
        "month": f"{account.as_of:%B %Y}",
        "amount": amount,
        "days_left": days_left,
        "projection": amount + run_rate * days_left,
    }


def monthly_consumption(daily: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Consumption of the last complete month, the month before and the same month a year
    before (``periods``: complete months only). Columns: period, label, amount."""
    shown = {
        "last_month": periods.complete_months(as_of, 1),
        "month_before": periods.complete_months(as_of, 1, skip=1),
        "year_before": periods.complete_months(as_of, 1, skip=12),
    }
    return pl.DataFrame(
        {
            "period": list(shown),
            "label": [period.label for period in shown.values()],
            "amount": [
                float(daily.filter(period.holds())["amount"].sum()) for period in shown.values()
            ],
        }
    )


def burnup(account: AccountData) -> pl.DataFrame:
    """The commit burn-up: series ``consumed`` (running total, ending at consumed_to_date), ``linear pace`` (commit spread
    evenly over the term) and ``projection`` (run_rate from as_of to term_end).

    Columns: date, series, amount. Empty for pay-as-you-go (no commit to burn).
    """
    health = account.health
    columns = {"date": pl.Date, "series": pl.String, "amount": pl.Float64}
    if not health["commit_amount"]:
        return pl.DataFrame(schema=columns)
    start, end, as_of = health["term_start"], health["term_end"], account.as_of
    term = pl.date_range(start, end, eager=True).alias("date").to_frame()
    spent = pl.col("amount").fill_null(0.0)
    consumed = (
        term.filter(pl.col("date") <= as_of)
        .join(account.daily.rename({"usage_date": "date"}), on="date", how="left")
        .sort("date")
        .select(
            "date",
            (health["consumed_to_date"] - spent.sum() + spent.cum_sum()).alias("amount"),
            series=pl.lit("consumed"),
        )
    )
    elapsed = (pl.col("date") - start).dt.total_days() + 1
    pace = term.select(
        "date",
        (elapsed / health["term_days"] * health["commit_amount"]).alias("amount"),
        series=pl.lit("linear pace"),
    )
    projection = term.filter(pl.col("date") >= as_of).select(
        "date",
        (
            health["consumed_to_date"]
            + (pl.col("date") - as_of).dt.total_days() * (health["run_rate"] or 0.0)
        ).alias("amount"),
        series=pl.lit("projection"),
    )
    frames = [frame.select(list(columns)).cast(columns) for frame in (consumed, pace, projection)]
    return pl.concat(frames)


def complete_months(months: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The rows of ``months`` (account_months) of complete months: as_of's month is left out."""
    return months.filter(pl.col("month") <= periods.last_complete_month(as_of))


def spend_predictability(months: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Month-to-month change of spend over complete months of steady use: after the first month
    with spend (a ramp-up month is partial) and before as_of's month (never complete: it is
    only shown as month-to-date, docs/metrics.md#periods-compared-in-reports).
    Columns: month, amount, change (relative to the month before)."""
    first_spend = months.filter(pl.col("amount") > 0)["month"].min()
    steady = complete_months(months, as_of).filter(
        pl.col("month") > first_spend if first_spend is not None else pl.lit(False)
    )
    return steady.select("month", "amount").with_columns(
        (pl.col("amount") / pl.col("amount").shift(1) - 1).fill_nan(None).alias("change")
    )


def spend_variation(months: pl.DataFrame, as_of: date) -> float | None:
    """Coefficient of variation of monthly spend over complete months (None with fewer than 2)."""
    amounts = spend_predictability(months, as_of)["amount"]
    if amounts.len() < 2 or not amounts.mean():
        return None
    return float(amounts.std() / amounts.mean())


def renewal_options(scenarios: pl.DataFrame | None, account_id: str) -> pl.DataFrame:
    """The account's renewal scenarios (``renewal_scenarios``: the next term priced at the
    forecast median, docs/forecasts.md#renewal-scenarios), cheapest first, with the option in
    words. None for a not-live or pay-as-you-go account (empty frame).

    Columns: option, commit, cost, over_cheapest (what it costs more than the cheapest),
    is_cheapest, renewal_date."""
    columns = {
        "option": pl.String,
        "commit": pl.Float64,
        "cost": pl.Float64,
        "over_cheapest": pl.Float64,
        "is_cheapest": pl.Boolean,
        "renewal_date": pl.Date,
    }
    if scenarios is None:
        return pl.DataFrame(schema=columns)
    return (
        scenarios.filter(pl.col("account_id") == account_id)
        .sort(["cost", "scenario"])
        .select(
            glossary.value_words("scenario").alias("option"),
            pl.col("commit_amount").alias("commit"),
            "cost",
            pl.col("cost_over_cheapest").alias("over_cheapest"),
            "is_cheapest",
            "renewal_date",
        )
        .cast(columns)
    )


def forecast_cone(account: AccountData, forecast: pl.DataFrame | None) -> pl.DataFrame:
    """The forecast range drawn on the burn-up: consumed to date plus p10 and p90 of each
    forecast horizon (``consumption_forecast``), from as_of (no spread) onwards.

    Columns: date, low, high. Empty without a forecast for the account or without a commit."""
    columns = {"date": pl.Date, "low": pl.Float64, "high": pl.Float64}
    health = account.health
    if forecast is None or not health["commit_amount"]:
        return pl.DataFrame(schema=columns)
    mine = forecast.filter(pl.col("account_id") == account.account_id).sort("horizon_days")
    if mine.height == 0:
        return pl.DataFrame(schema=columns)
    consumed = health["consumed_to_date"] or 0.0
    start = pl.DataFrame({"date": [account.as_of], "low": [consumed], "high": [consumed]})
    ahead = mine.select(
        (pl.lit(account.as_of) + pl.duration(days=pl.col("horizon_days"))).alias("date"),
        (consumed + pl.col("p10")).alias("low"),
        (consumed + pl.col("p90")).alias("high"),
    )
    return pl.concat([start.cast(columns), ahead.cast(columns)])


def spend_by_month(account: AccountData, months: int = 12) -> pl.DataFrame:
    """The account's spend in each of the last ``months`` calendar months with spend, as_of's
    month included as month-to-date (``period`` ``so far``, never compared); months before the
    first spend are left out. Columns: month, amount, period (``complete`` or ``so far``)."""
    this_month = account.as_of.replace(day=1)
    first = periods.shift_months(this_month, -(months - 1))
    first_spend = account.months.filter(pl.col("amount") > 0)["month"].min()
    shown = account.months.filter(
        pl.col("month") >= first,
        pl.col("month") >= first_spend if first_spend is not None else pl.lit(False),
    )
    return shown.select(
        "month",
        "amount",
        pl.when(pl.col("month") == this_month)
        .then(pl.lit("so far"))
        .otherwise(pl.lit("complete"))
        .alias("period"),
    ).sort("month")


def has_usage(meters: pl.DataFrame) -> bool:
    """Whether any meter month of ``meters`` has usage (a chart of zeros is an empty chart)."""
    return meters.height > 0 and bool(meters["usage"].fill_null(0).sum() > 0)


def account_budget(run: RunData, account_id: str) -> dict[str, Any] | None:
    """The account's row of ``account_budgets`` (budget, alert threshold, use this month), or
    None when it has no budget in force."""
    budgets = run.get("account_budgets")
    if budgets is None:
        return None
    mine = budgets.filter(pl.col("account_id") == account_id)
    return mine.row(0, named=True) if mine.height else None


def quarter_with_unit_cost(quarter: pl.DataFrame) -> pl.DataFrame:
    """``quarter_comparison``'s frame with a ``Cost per outcome`` row (consumption / outcomes
    of each quarter; null without outcomes), after Outcomes."""
    by = {row["measure"]: row for row in quarter.iter_rows(named=True)}
    consumption, outcomes = by["Consumption"], by["Outcomes"]

    def per(column: str) -> float | None:
        spent, count = consumption[column], outcomes[column]
        return spent / count if spent is not None and count else None

    unit = pl.DataFrame(
        {
            "measure": ["Cost per outcome"],
            "previous": [per("previous")],
            "current": [per("current")],
        },
        schema={"measure": pl.String, "previous": pl.Float64, "current": pl.Float64},
    ).with_columns(
        pl.when(pl.col("previous") != 0)
        .then(pl.col("current") / pl.col("previous") - 1)
        .alias("change")
    )
    order = ["Consumption", "Outcomes", "Cost per outcome", "Workflows live"]
    return pl.concat([quarter, unit]).sort(
        pl.col("measure").replace_strict({name: i for i, name in enumerate(order)}, default=9)
    )


def _as_of_from(health: pl.DataFrame) -> date:
    as_of = health.select(
        (pl.col("term_start") + pl.duration(days=pl.col("elapsed_days") - 1)).max()
    ).item()
    return as_of if as_of is not None else date.today()


def _read_optional(folder: Path, names: tuple[str, ...]) -> dict[str, pl.DataFrame] | None:
    if not all((folder / f"{name}.parquet").exists() for name in names):
        return None
    return {name: _read_artifact(folder / f"{name}.parquet") for name in names}


def _narrow(name: str, frame: pl.DataFrame, segment: str, ids: pl.Series) -> pl.DataFrame:
    if "segment" in frame.columns:
        return frame.filter(pl.col("segment") == segment)
    if "account_id" in frame.columns:
        return frame.filter(pl.col("account_id").is_in(ids.implode()))
    return frame


def _portfolio_row(summary: pl.DataFrame, segment: str | None) -> dict[str, Any]:
    rows = summary.filter(pl.col("segment") == (segment or "All"))
    return rows.row(0, named=True) if rows.height else {}


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def meter_marks(account: AccountData, lookback_months: int, months: int = 12) -> pl.DataFrame:
    """The account's meter months (the last ``months``) with ``mark``: ``within`` the limit;
    an over month of the lookback is marked with its meter's pattern from meter_months (spike,
    emerging, sustained: docs/metrics.md#overconsumption-against-contractual-limits, exactly as
    the case); an over month before the lookback is ``over``."""
    this_month = account.as_of.replace(day=1)
    first = periods.shift_months(this_month, -(months - 1))
    lookback = periods.shift_months(this_month, -(lookback_months - 1))
    mark = (
        pl.when(~pl.col("is_over"))
        .then(pl.lit("within"))
        .when((pl.col("month") >= lookback) & pl.col("pattern").is_not_null())
        .then(pl.col("pattern"))
        .otherwise(pl.lit("over"))
    )
    return account.meters.filter(pl.col("month") >= first).with_columns(mark.alias("mark"))
