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
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.artifacts import (
    OPTIONAL_ARTIFACTS,
    RUN_ARTIFACTS,
    SCHEMAS,
    artifact_exists,
    compared_with_run,
    scan_artifact,
)
from drawdown.exact import exact_sum
from drawdown.inputs.contract import OPTIONAL_TABLES
from drawdown.metrics import periods
from drawdown.metrics.retention import prior_window, window_revenue
from drawdown.metrics.scenarios import PAY_OVERAGE
from drawdown.reports import glossary
from drawdown.reports.inert import plain_frame, plain_text

LIST_ROWS = 15
"""The most rows a report list (accounts, cases, warnings, unowned steps) shows: the largest first.
The full lists stay in the run folder (``ACCOUNTS_FILE``, ``CASES_FILE``, ``CRM_FILE``)."""
WORKBOOK = "exports/accounts.xlsx"
"""The spreadsheet with every account, case, change and forecast: where a report sends a reader
for a full list (never to a Parquet file)."""
ACCOUNTS_FILE = f"{WORKBOOK} (sheet Accounts)"
CASES_FILE = f"{WORKBOOK} (sheet Cases)"
CHANGES_FILE = f"{WORKBOOK} (sheet Changes)"
CRM_FILE = "exports/overconsumption_cases.csv"

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
    compared_with_run: bool = True
    """Whether ``changes`` compares with a previous run; False when there was none and the book
    was recomputed a week earlier."""

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
    With ``account_id``, the per-account artifacts (those of ``previous_month`` too) hold that
    account's rows only: an account review reads its slice (the series from the one part holding
    the account; the other artifacts are sorted by account, so Parquet skips their other row
    groups) rather than, at 50,000 accounts, tens of millions of daily rows.
    """
    run_dir = Path(run_dir)
    folder = run_dir / "artifacts"
    tables = {
        name: _read_artifact(folder, name, account_id)
        for name in dict.fromkeys([*SCHEMAS, *FORECASTS])
        if (name in SCHEMAS and name not in (*OPTIONAL_ARTIFACTS, *RUN_ARTIFACTS))
        or artifact_exists(folder, name)
    }
    quality_file = folder / "data_quality.json"
    quality = json.loads(quality_file.read_text(encoding="utf-8")) if quality_file.exists() else {}
    resolved = date.fromisoformat(as_of) if isinstance(as_of, str) else as_of
    return RunData(
        run_dir=run_dir,
        as_of=resolved or _as_of_from(tables["account_health"]),
        tables=tables,
        data_quality=quality,
        previous_month=_read_optional(folder / "previous_month", PREVIOUS_MONTH, account_id),
        compared_with_run=compared_with_run(folder / "changes.parquet"),
    )


def load_tables(run_dir: Path | str, names: tuple[str, ...], as_of: date | None) -> RunData:
    """Only the artifacts ``names`` of a run (no series, no previous folders): for a writer that
    needs a few tables, such as the CSM books."""
    folder = Path(run_dir) / "artifacts"
    tables = {name: _read_artifact(folder, name) for name in names}
    return RunData(
        run_dir=Path(run_dir),
        as_of=as_of or _as_of_from(tables["account_health"]),
        tables=tables,
        data_quality={},
        previous_month=None,
    )


def _read_artifact(folder: Path, name: str, account_id: str | None = None) -> pl.DataFrame:
    """Artifact ``name``; with ``account_id``, that account's rows of a per-account artifact
    (from its part alone when the artifact is partitioned). A partitioned series read whole
    comes part after part, not in account order: what the reports make of a whole series
    (``churned``, ``first_spend``) does not depend on the order of its rows."""
    by_account = account_id if "account_id" in SCHEMAS[name] else None
    frame = scan_artifact(folder, name, by_account, in_account_order=False).collect()
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


def segment_rows(summary: pl.DataFrame, *, total: bool = False) -> pl.DataFrame:
    """segment_summary's segments by name; with ``total``, the ``All`` row last (the whole book,
    for comparison), otherwise without it."""
    segments = summary.filter(pl.col("segment") != "All").sort("segment")
    return pl.concat([segments, summary.filter(pl.col("segment") == "All")]) if total else segments


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
        pl.when(off_band)
        .then(pl.format("band {}", pl.col("band").str.replace_all("_", " ")))
        .otherwise(None),
        warnings.list.join(", ").str.replace_all("_", " ").replace("", None),
    ).list.drop_nulls()
    grouped = joined.with_columns(group.alias("group"), reasons.list.join("; ").alias("why"))
    return (
        with_actions(grouped.drop("triage", "pattern", "status"), actions)
        .drop("reason")
        .rename({"why": "reason"})
        .sort(["account_value", "account_id"], descending=[True, False], nulls_last=True)
    )


def unowned_cases(cases: pl.DataFrame) -> pl.DataFrame:
    """Cases with at least one step (first conversation, expansion) that names no owner."""
    return cases.filter(pl.col("missing_owners").list.len() > 0)


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


def adoption_funnel(health: pl.DataFrame) -> pl.DataFrame:
    """Per segment (and ``All``): accounts at contract start, first billable event, two workflows
    and steady draw. Long: segment, step, step_order, accounts, share (of contract start; null
    when no contract started: a book whose as_of precedes every contract)."""
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
            pl.when(
                (starts := pl.col("accounts").first().over("segment", order_by="step_order")) > 0
            )
            .then(pl.col("accounts") / starts)
            .alias("share")
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


def changes_lead(since: str | None, with_run: bool = True) -> str:
    """What the change counts are counted since: "Since the previous run (as of <since>)", or,
    for a run with no earlier run (``with_run`` False: docs/metrics.md#changes-since-the-previous-run),
    "Since the book a week earlier (as of <since>; no earlier run to compare with)".
    ``since`` is the previous as-of date as the output writes dates; None (no change, so no row
    to carry it) leaves it out."""
    if not with_run:
        when = f"as of {since}; " if since else ""
        return f"Since the book a week earlier ({when}no earlier run to compare with)"
    return f"Since the previous run (as of {since})" if since else "Since the previous run"


def since_words(run: RunData) -> str:
    """What the run's changes compare with, as the reports say it inside a sentence: "since the
    previous run", or for a run with no earlier run "since 08 Nov 2026" (the day of the book
    recomputed a week earlier)."""
    since = previous_as_of(run.get("changes"))
    if run.compared_with_run:
        return "since the previous run"
    return f"since {since:%d %b %Y}" if since else "since the book a week earlier"


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
    month = periods.month_comparison(as_of)
    shown = {
        "last_month": month.current,
        "month_before": month.previous,
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
    forecast median, docs/forecasts.md#renewal-scenarios): the one it marks cheapest first, then
    by cost (ties in the scenarios' order), with the option in words ("Renew as is, paying
    overage" when the forecast passes today's commit). None for a not-live or pay-as-you-go
    account (empty frame).

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
        .sort(~pl.col("is_cheapest"), "cost", maintain_order=True)
        .select(
            _option_words().alias("option"),
            pl.col("commit_amount").alias("commit"),
            "cost",
            pl.col("cost_over_cheapest").alias("over_cheapest"),
            "is_cheapest",
            "renewal_date",
        )
        .cast(columns)
    )


def _option_words() -> pl.Expr:
    words = glossary.value_words("scenario")
    paying = (pl.col("scenario") == PAY_OVERAGE) & (pl.col("overage_amount") > 0)
    return pl.when(paying).then(pl.concat_str(words, pl.lit(", paying overage"))).otherwise(words)


def forecast_cone(account: AccountData, forecast: pl.DataFrame | None) -> pl.DataFrame:
    """The forecast range drawn on the burn-up: consumed to date plus p10 and p90 of each
    forecast horizon (``consumption_forecast``) up to the term end, from as_of (no spread)
    onwards. A horizon past the term end (the 28 days of a term ending sooner) forecasts the next
    term's spend: it is not drawn against this term's commit.

    Columns: date, low, high. Empty without a forecast for the account or without a commit."""
    columns = {"date": pl.Date, "low": pl.Float64, "high": pl.Float64}
    health = account.health
    if forecast is None or not health["commit_amount"]:
        return pl.DataFrame(schema=columns)
    days_left = (health["term_end"] - account.as_of).days
    mine = forecast.filter(
        pl.col("account_id") == account.account_id, pl.col("horizon_days") <= days_left
    ).sort("horizon_days")
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
    month included as month-to-date (``period`` ``so far``, never compared; ``complete`` when
    as_of is its last day); months before the first spend are left out. Columns: month,
    amount, period (``complete`` or ``so far``)."""
    this_month = account.as_of.replace(day=1)
    partial = periods.days_left_in_month(account.as_of) > 0
    first = periods.shift_months(this_month, -(months - 1))
    first_spend = account.months.filter(pl.col("amount") > 0)["month"].min()
    shown = account.months.filter(
        pl.col("month") >= first,
        pl.col("month") >= first_spend if first_spend is not None else pl.lit(False),
    )
    return shown.select(
        "month",
        "amount",
        pl.when(pl.lit(partial) & (pl.col("month") == this_month))
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


def _read_optional(
    folder: Path, names: tuple[str, ...], account_id: str | None = None
) -> dict[str, pl.DataFrame] | None:
    if not all(artifact_exists(folder, name) for name in names):
        return None
    return {name: _read_artifact(folder, name, account_id) for name in names}


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


# --- CSM books ---

NO_CSM = "unassigned"
"""The book of the accounts that name no CSM (not a CSM: reset item 1 does not count it)."""
ACTION_ORDER = {action: order for order, action in enumerate(ACTION_LABELS)}


def csm_names(health: pl.DataFrame) -> list[str]:
    """The CSMs with an active account (a non-blank csm_owner in account_health), sorted."""
    names = health.filter(pl.col("csm_owner").str.strip_chars() != "")["csm_owner"]
    return sorted(names.unique().to_list())


def csm_accounts(health: pl.DataFrame, actions: pl.DataFrame) -> dict[str | None, pl.DataFrame]:
    """The accounts of each CSM book with their next action (``with_actions``): for every CSM of
    ``csm_names`` its accounts, and under None the accounts that name no CSM (when any does);
    each in the next actions' ladder order, then the most valuable first. One join and one sort
    for every book (a book apiece would filter and sort the whole book again)."""
    owner = pl.col("csm_owner")
    unnamed = owner.is_null() | (owner.str.strip_chars() == "")
    ordered = (
        with_actions(health, actions)
        .with_columns(
            pl.col("next_action")
            .replace_strict(ACTION_ORDER, default=len(ACTION_ORDER))
            .alias("_order"),
            pl.when(~unnamed).then(owner).alias("_book"),
        )
        .sort(
            ["_order", "account_value", "account_id"],
            descending=[False, True, False],
            nulls_last=True,
        )
        .drop("_order")
    )
    books = ordered.partition_by("_book", as_dict=True, include_key=False, maintain_order=True)
    return {key[0]: accounts for key, accounts in books.items()}


def action_counts(accounts: pl.DataFrame) -> list[tuple[str, int]]:
    """(next action in words, accounts) for each next action present, in ladder order."""
    counts = Counter(accounts["next_action"].to_list())
    return [(label, counts[key]) for key, label in ACTION_LABELS.items() if counts.get(key)]


# --- the executive review's first page ---

BAND_ORDER = ("healthy", "under", "over", "not_live", "paygo")


@dataclass(frozen=True)
class Item:
    """A risk or a win of the executive review's first page: what it is, the money, and the
    accounts behind it (their number and the largest names)."""

    what: str
    amount: float
    accounts: int
    names: tuple[str, ...]


def band_counts(health: pl.DataFrame) -> dict[str, int]:
    """Accounts per band, in ``BAND_ORDER`` (zeros included)."""
    counts = dict(health.group_by("band").len().iter_rows())
    return {band: int(counts.get(band, 0)) for band in BAND_ORDER}


def _largest(
    accounts: pl.DataFrame, by: str | pl.Expr = "account_value", n: int = 3
) -> tuple[str, ...]:
    key = pl.col(by) if isinstance(by, str) else by
    ranked = accounts.with_columns(key.alias("_key")).sort(
        ["_key", "account_id"], descending=[True, False], nulls_last=True
    )
    return tuple(ranked["account_name"].head(n).to_list())


def _item(
    what: str, accounts: pl.DataFrame, amount: pl.Expr, by: str | pl.Expr = "account_value"
) -> Item | None:
    if accounts.height == 0:
        return None
    money = float(accounts.select(amount.sum()).item() or 0.0)
    return Item(what, money, accounts.height, _largest(accounts, by))


def risks(run: RunData, n: int = 3) -> list[Item]:
    """The ``n`` largest risks in money, each with the accounts behind it:

    - renewal at risk: accounts with the ``renewal_risk`` warning (renewing under their commit)
      — their annual value;
    - usage falling or silent: ``usage_drop`` or ``zero_streak`` — their annual value;
    - commit left unused: band ``under`` — Σ (commit − projected consumption), the commit the
      term will not draw;
    - not live past the onboarding target: next action ``activate`` — their commit;
    - value past the line with no one named to raise it: cases with a missing owner — Σ value
      past the line.
    """
    health = with_actions(run["account_health"], run["account_actions"])
    warnings = pl.col("early_warnings").fill_null([])
    cases = run["overage_cases"]
    unowned = cases.filter(pl.col("missing_owners").list.len() > 0)
    candidates = [
        _item(
            "renewing within the renewal window while under their commit",
            health.filter(warnings.list.contains("renewal_risk")),
            pl.col("account_value"),
        ),
        _item(
            "with usage falling or stopped (early warning)",
            health.filter(
                warnings.list.contains("usage_drop") | warnings.list.contains("zero_streak")
            ),
            pl.col("account_value"),
        ),
        _item(
            "of commit the term will leave unused (accounts under their band)",
            health.filter(pl.col("band") == "under"),
            (pl.col("commit_amount") - pl.col("projected_consumption")).clip(lower_bound=0),
            (pl.col("commit_amount") - pl.col("projected_consumption")),
        ),
        _item(
            "committed by accounts not live after the onboarding target",
            health.filter(pl.col("next_action") == "activate"),
            pl.col("commit_amount").fill_null(0.0),
            "commit_amount",
        ),
        _item(
            "past the line on cases with a step no one owns",
            unowned,
            pl.col("overage_amount"),
            "overage_amount",
        ),
    ]
    return _top(candidates, n)


def wins(run: RunData, renewal_days: int, n: int = 3) -> list[Item]:
    """The ``n`` largest wins in money, each with the accounts behind it:

    - expansion under way: next action ``expansion`` (a conversation or an expansion
      opportunity recorded) — Σ value past the line of their cases;
    - consumption grown: accounts whose last complete quarter beat the one before
      (``account_actions``) — Σ of the growth;
    - renewing healthy: accounts renewing within ``renewal_days`` (the run's
      ``health.renewal_window_days``, as for ``renewing`` and the renewal_risk warning) in band
      healthy or over — their annual value;
    - went live since the previous run (``changes``; ``since_words``) — their commit.
    """
    health = with_actions(run["account_health"], run["account_actions"])
    actions = run["account_actions"]
    cases = run["overage_cases"].select("account_id", "overage_amount")
    expansion = health.filter(pl.col("next_action") == "expansion").join(
        cases, on="account_id", how="left"
    )
    growth = pl.col("consumption_last_quarter") - pl.col("consumption_prior_quarter")
    grown = health.join(
        actions.select("account_id", "consumption_last_quarter", "consumption_prior_quarter"),
        on="account_id",
        how="left",
    ).filter(growth > 0)
    window = pl.col("days_to_renewal").is_between(0, renewal_days)
    changes = run.get("changes")
    live_ids = (
        changes.filter(pl.col("change") == "went_live")["account_id"]
        if changes is not None
        else pl.Series([], dtype=pl.String)
    )
    candidates = [
        _item(
            "past the line at accounts where the expansion conversation is under way",
            expansion,
            pl.col("overage_amount").fill_null(0.0),
            "overage_amount",
        ),
        _item("of consumption growth, quarter on quarter", grown, growth, growth),
        _item(
            f"of annual value renewing in the next {renewal_days} days on or above their commit",
            health.filter(window & pl.col("band").is_in(["healthy", "over"])),
            pl.col("account_value"),
        ),
        _item(
            f"committed by accounts that went live {since_words(run)}",
            health.filter(pl.col("account_id").is_in(live_ids.implode())),
            pl.col("commit_amount").fill_null(0.0),
            "commit_amount",
        ),
    ]
    return _top(candidates, n)


def _top(candidates: list[Item | None], n: int) -> list[Item]:
    found = [item for item in candidates if item is not None and item.amount > 0]
    return sorted(found, key=lambda item: -item.amount)[:n]


@dataclass(frozen=True)
class SegmentMove:
    """The segment that moved most: its GRR against the book's, a month earlier, its size."""

    segment: str
    grr: float
    grr_all: float | None
    grr_before: float | None
    accounts: int
    under: int


def segment_moved_most(run: RunData, min_group: int) -> SegmentMove | None:
    """The segment with the lowest GRR among segments of at least ``min_group`` accounts (a
    smaller segment is not claimed on); None when no segment qualifies or only one exists, when
    the lowest ties with the next one to the whole percent the reports show, and when the
    year-earlier window is only partly in the data (``retention_gap``)."""
    if retention_gap(run) is not None:
        return None
    summary = run["segment_summary"]
    segments = segment_rows(summary).filter(
        pl.col("accounts") >= min_group, pl.col("grr").is_not_null()
    )
    if segments.height < 2:
        return None
    low, next_lowest = segments.sort(["grr", "segment"]).head(2).iter_rows(named=True)
    if f"{low['grr']:.0%}" == f"{next_lowest['grr']:.0%}":
        return None
    every = _portfolio_row(summary, None)
    before = (
        segment_rows(run.previous_month["segment_summary"]).filter(
            pl.col("segment") == low["segment"]
        )
        if run.previous_month
        else pl.DataFrame()
    )
    health = run["account_health"].filter(pl.col("segment") == low["segment"])
    return SegmentMove(
        segment=low["segment"],
        grr=float(low["grr"]),
        grr_all=_float(every.get("grr")),
        grr_before=_float(before["grr"][0]) if before.height else None,
        accounts=int(low["accounts"]),
        under=int((health["band"] == "under").sum()),
    )


@dataclass(frozen=True)
class RetentionGap:
    """The book's spend starts inside the year-earlier window of docs/metrics.md#retention: GRR
    and NRR set the last 90 days against only the window's days from ``first_spend``."""

    prior: periods.Period
    first_spend: date

    @property
    def covered_days(self) -> int:
        """The days of the year-earlier window the data holds."""
        return periods.Period(self.first_spend, self.prior.last).days


def retention_gap(run: RunData) -> RetentionGap | None:
    """The gap when the book's first day of spend (``first_spend``) lies inside the year-earlier
    window but after its first day (a book exported with 13 months of history, say); None when
    the window is whole, or holds no spend at all (the ratios are then empty)."""
    prior = prior_window(run.as_of)
    first = first_spend(run["daily_spend"])
    if first is None or not prior.first < first <= prior.last:
        return None
    return RetentionGap(prior, first)


def first_spend(daily: pl.DataFrame) -> date | None:
    """The book's first day with spend in ``daily_spend`` (a day with an amount above 0)."""
    first = daily.filter(pl.col("amount") > 0)["usage_date"].min()
    return first if isinstance(first, date) else None


@dataclass(frozen=True)
class Churn:
    """Accounts that spent in the year-earlier window and nothing in the last 90 days
    (docs/metrics.md#retention), and what they spent then."""

    accounts: int
    lost: float
    prior: periods.Period
    cohort: int | None = None
    """Accounts that spent in the year-earlier window (None: not counted)."""
    first_spend: date | None = None
    """The book's first day of spend."""


def churned(run: RunData) -> Churn:
    """The retention cohort's accounts with no spend over [A − 89, A] (churned), from
    ``daily_spend``: the revenue they brought over [A − 454, A − 365]; and how many spent in
    that window at all, and since when the book has spend (a book younger than the window has
    no one who could churn)."""
    daily = run["daily_spend"]
    revenue = window_revenue(daily.lazy(), run.as_of).collect()
    lost = revenue.filter(pl.col("rev_prior") > 0, pl.col("rev_current") <= 0)
    return Churn(
        accounts=lost.height,
        lost=lost.select(exact_sum(pl.col("rev_prior"))).item(),
        prior=prior_window(run.as_of),
        cohort=revenue.filter(pl.col("rev_prior") > 0).height,
        first_spend=first_spend(daily),
    )


@dataclass(frozen=True)
class Renewals:
    """Accounts renewing within ``days`` (``account_actions.days_to_renewal``)."""

    days: int
    accounts: int
    commit: float
    under: int
    names_under: tuple[str, ...]


def renewing(run: RunData, days: int) -> Renewals:
    """Accounts whose term ends within ``days`` of as_of, their commit and those under band."""
    soon = with_actions(run["account_health"], run["account_actions"]).filter(
        pl.col("days_to_renewal").is_between(0, days)
    )
    under = soon.filter(pl.col("band") == "under")
    return Renewals(
        days=days,
        accounts=soon.height,
        commit=float(soon["commit_amount"].fill_null(0.0).sum()),
        under=under.height,
        names_under=_largest(under),
    )


def warned_accounts(health: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """Accounts with at least one early warning, one row each (warnings as a list) with the
    next action, most valuable first."""
    return with_actions(health.filter(pl.col("early_warnings").list.len() > 0), actions).sort(
        ["account_value", "account_id"], descending=[True, False], nulls_last=True
    )


def warning_counts(health: pl.DataFrame) -> dict[str, int]:
    """Accounts showing each early warning (an account with two counts under both)."""
    exploded = health.select("account_id", "early_warnings").explode("early_warnings")
    counts = dict(
        exploded.drop_nulls("early_warnings").group_by("early_warnings").len().iter_rows()
    )
    return {name: int(count) for name, count in sorted(counts.items())}


def ttfbe_cohort_table(
    cohorts: pl.DataFrame, as_of: date, target_days: int, min_group: int, months: int = 6
) -> pl.DataFrame:
    """The last ``months`` cohort months over all segments (median ttfbe_days weighted by live accounts), each
    with n and whether it may be claimed on: ``mature`` (the month is complete and every
    account of it had ``target_days`` to go live by as_of) and at least ``min_group`` live
    accounts. Columns: cohort_month, accounts, live_accounts, median_ttfbe_days, mature,
    claimable."""
    trend = (
        cohorts.group_by("cohort_month")
        .agg(
            pl.col("accounts").sum(),
            pl.col("live_accounts").sum(),
            (
                (pl.col("median_ttfbe_days") * pl.col("live_accounts")).sum()
                / pl.col("live_accounts").sum()
            ).alias("median_ttfbe_days"),
        )
        .sort("cohort_month")
        .tail(months)
    )
    month_end = pl.col("cohort_month").dt.month_end()
    mature = (month_end + pl.duration(days=target_days)) <= pl.lit(as_of)
    return trend.with_columns(
        mature.alias("mature"),
        (mature & (pl.col("live_accounts") >= min_group)).alias("claimable"),
    )


def absent_tables(quality: dict[str, Any]) -> tuple[str, ...]:
    """The optional tables (docs/data-contract.md) the source did not hold: ``origin`` null in
    data_quality.json, in the contract's order."""
    tables = quality.get("tables", {}) or {}
    return tuple(
        table
        for table in OPTIONAL_TABLES
        if table in tables and (tables[table] or {}).get("origin") is None
    )


def data_coverage(quality: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Usage the metrics could not use, from data_quality.json: ``unrated`` (no price on the
    meter) and ``out_of_contract`` (no contract covering the day), each with rows, quantity,
    accounts and the amount when a price exists; plus ``rejected``: rows rejected per table."""
    found: dict[str, dict[str, float]] = {}
    for kind in ("unrated", "out_of_contract"):
        entry = quality.get(kind) or {}
        found[kind] = {
            "rows": float(entry.get("rows", 0) or 0),
            "quantity": float(entry.get("quantity", 0) or 0),
            "accounts": float(len(entry.get("accounts", []) or [])),
            **({"amount": float(entry["amount"])} if entry.get("amount") is not None else {}),
        }
    tables = quality.get("tables", {}) or {}
    found["rejected"] = {
        table: float(info.get("rows_rejected", 0) or 0)
        for table, info in tables.items()
        if info.get("rows_rejected")
    }
    return found


def forecast_record(run: RunData) -> dict[str, Any] | None:
    """The forecast back-test's pooled row (``forecast_backtest``, docs/forecasts.md#back-test:
    the forecasts made 28, 56 and 84 days before as_of together) with the days they were made;
    None when the run has no back-test or it counted no account."""
    backtest = run.get("forecast_backtest")
    if backtest is None or backtest.height == 0:
        return None
    pooled = backtest.filter(pl.col("as_of_made").is_null())
    row = (pooled if pooled.height else backtest.tail(1)).row(0, named=True)
    if not row["accounts"]:
        return None
    made = backtest["as_of_made"].drop_nulls().sort()
    return row | {"made": made.to_list()}


def about_to_cross(run: RunData) -> pl.DataFrame:
    """Meters forecast to cross their limit later in as_of's month: ``crossings_ahead`` of the
    run's limit_crossing (none when the run has no forecasts)."""
    crossing = run.get("limit_crossing")
    if crossing is None:
        crossing = pl.DataFrame(schema=SCHEMAS["limit_crossing"])
    return crossings_ahead(crossing, run["account_health"], run["account_actions"], run.as_of)


def crossings_ahead(
    crossing: pl.DataFrame, health: pl.DataFrame, actions: pl.DataFrame, as_of: date
) -> pl.DataFrame:
    """The rows of ``crossing`` (limit_crossing) with a crossing_date after ``as_of``
    (docs/forecasts.md#limit-crossing): a case seen before the month closes. With the account's
    name, segment, CSM and next action (``with_actions``); the soonest first, then the furthest
    over. The reports' list and the workbook's sheet of them."""
    columns = health.select("account_id", "account_name", "segment", "csm_owner")
    soon = crossing.filter(pl.col("crossing_date") > as_of).join(
        columns, on="account_id", how="inner"
    )
    return with_actions(soon, actions).sort(
        ["crossing_date", "projected_pct_over", "account_id"],
        descending=[False, True, False],
        nulls_last=True,
    )


# --- the usage clinic ---

LADDER_DAY = 60
"""The two-workflow ladder's day (docs/metrics.md#the-60-day-reset-tracker): an account live for
longer than this without two workflows is stuck."""
STEADY_WITHIN_DAYS = 28
"""Days with two workflows after which the draw should be steady (the 28-day variation window)."""
STUCK_STAGES = {
    "not_live": "Contract signed, not live",
    "live": "Live, fewer than two workflows",
    "two_workflows": "Two workflows, draw not steady",
}


def funnel_days(health: pl.DataFrame) -> pl.DataFrame:
    """The funnel over all accounts with the median days from contract start to each step:
    step, accounts, share (of contract starts), median_days. Steady draw is a state (band
    healthy and a smooth 28-day draw), not a dated event: its median_days is null."""
    start = pl.col("first_contract_start")
    to_two = (pl.col("two_workflows_date") - start).dt.total_days().clip(lower_bound=0)
    total = health.height
    rows = [
        ("Contract start", total, 0.0),
        (
            "First billable event",
            int(health["first_billable_date"].is_not_null().sum()),
            _float(health["ttfbe_days"].cast(pl.Float64).median()),
        ),
        (
            "Two workflows live",
            int((health["workflows_live"] >= 2).sum()),
            _float(health.select(to_two.cast(pl.Float64).median()).item()),
        ),
        ("Steady draw", int((health["adoption_stage"] == "steady_draw").sum()), None),
    ]
    return pl.DataFrame(
        rows,
        schema={"step": pl.String, "accounts": pl.Int64, "median_days": pl.Float64},
        orient="row",
    ).with_columns((pl.col("accounts") / max(total, 1)).alias("share"))


def stuck_accounts(
    health: pl.DataFrame, actions: pl.DataFrame, as_of: date, target_days: int
) -> pl.DataFrame:
    """Accounts stuck at a stage of the funnel, with the days stuck and the next action's owner
    (``with_actions``):

    - ``not_live``: no first billable event more than ``target_days`` after the first contract
      start; days stuck since the contract start;
    - ``live``: live, fewer than two workflows, more than ``LADDER_DAY`` days after the contract
      start; days stuck since the first billable event;
    - ``two_workflows``: two workflows for more than ``STEADY_WITHIN_DAYS`` days and not in
      steady draw; days stuck since the day two were live.

    Columns of account_health plus stage, stage_label, days_stuck and the action columns; by
    stage, then the longest stuck first."""
    days_since = lambda column: (pl.lit(as_of) - pl.col(column)).dt.total_days()  # noqa: E731
    stage = pl.col("adoption_stage")
    stuck = (
        pl.when((stage == "not_live") & (days_since("first_contract_start") > target_days))
        .then(pl.lit("not_live"))
        .when(
            stage.is_in(["first_billable", "one_workflow"])
            & (days_since("first_contract_start") > LADDER_DAY)
        )
        .then(pl.lit("live"))
        .when((stage == "multi_workflow") & (days_since("two_workflows_date") > STEADY_WITHIN_DAYS))
        .then(pl.lit("two_workflows"))
    )
    since = (
        pl.when(pl.col("stage") == "not_live")
        .then(days_since("first_contract_start"))
        .when(pl.col("stage") == "live")
        .then(days_since("first_billable_date"))
        .otherwise(days_since("two_workflows_date"))
    )
    order = pl.col("stage").replace_strict({key: i for i, key in enumerate(STUCK_STAGES)})
    found = (
        health.with_columns(stuck.alias("stage"))
        .filter(pl.col("stage").is_not_null())
        .with_columns(
            since.alias("days_stuck"),
            pl.col("stage").replace_strict(STUCK_STAGES).alias("stage_label"),
        )
        .sort([order, "days_stuck", "account_id"], descending=[False, True, False])
    )
    return with_actions(found, actions)


def stuck_counts(stuck: pl.DataFrame) -> dict[str, int]:
    """Accounts stuck per stage (``STUCK_STAGES`` order, zeros included)."""
    counts = dict(stuck.group_by("stage").len().iter_rows())
    return {stage: int(counts.get(stage, 0)) for stage in STUCK_STAGES}
