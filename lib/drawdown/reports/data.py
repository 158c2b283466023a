"""What the reports read: a run's artifacts, loaded once, and the small views the reports show.

The report notebooks read only the artifacts of ``drawdown.artifacts.SCHEMAS`` from
``<run_dir>/artifacts/`` (plus the optional ``previous_month/`` and ``previous_week/`` folders).
Every view here is a pure function of collected frames: the notebooks call one function per cell.
Text read from the artifacts is ``inert.plain_text`` (no bidirectional or other control
characters) in every column but ``account_id``, the key reports look accounts up by.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.artifacts import OPTIONAL_ARTIFACTS, SCHEMAS
from drawdown.reports.inert import plain_frame, plain_text

LIST_ROWS = 15
"""The most rows a report list (accounts, cases, warnings, unowned steps) shows: the largest first.
The full lists stay in the run folder (``ACCOUNTS_FILE``, ``CASES_FILE``, ``CRM_FILE``)."""
ACCOUNTS_FILE = "artifacts/account_health.parquet"
CASES_FILE = "artifacts/overage_cases.parquet"
CRM_FILE = "exports/overconsumption_cases.csv"

PREVIOUS_MONTH = ("account_health", "segment_summary", "overage_cases")
PREVIOUS_WEEK = ("overage_cases",)

TOO_SLOW_ACTIONS = {
    "not_live": "Unblock data: get the first billable event flowing",
    "first_billable": "Unblock data: put the first workflow in production",
    "one_workflow": "Automate the second workflow",
    "multi_workflow": "In-product guidance to deepen use",
    "steady_draw": "In-product guidance to deepen use",
}
TOO_FAST_SPIKY = "Review rate limits (uneven daily draw)"
TOO_FAST_SMOOTH = "Caching and routing to a cheaper path"

NEXT_RUNG = {
    "not_live": "First billable event",
    "first_billable": "First workflow in production",
    "one_workflow": "A second workflow (two-workflow adoption)",
    "multi_workflow": "Steady draw: healthy band and a smooth daily line",
    "steady_draw": "Top rung reached: keep it steady and look for expansion",
}

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
    """A run's artifacts: ``tables`` by artifact name, the as-of date and the optional comparisons.

    ``previous_month`` / ``previous_week`` are None when the pipeline did not write them.
    """

    run_dir: Path
    as_of: date
    tables: dict[str, pl.DataFrame]
    data_quality: dict[str, Any]
    previous_month: dict[str, pl.DataFrame] | None
    previous_week: dict[str, pl.DataFrame] | None
    segment: str | None = None

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def get(self, name: str) -> pl.DataFrame | None:
        """An optional artifact (``reset_tracker``, ``reset_comparison``) or None."""
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
        for name in SCHEMAS
        if name not in OPTIONAL_ARTIFACTS or (folder / f"{name}.parquet").exists()
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
        previous_week=_read_optional(folder / "previous_week", PREVIOUS_WEEK),
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
        previous_week=narrow(run.previous_week) if run.previous_week else None,
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


def burn_actions(health: pl.DataFrame, burn: str) -> pl.DataFrame:
    """Accounts whose burn is ``burn`` (too_slow / too_fast) with the action it maps to.

    Too slow maps by adoption stage (unblock data, automate the second workflow, in-product
    guidance); too fast by the daily line (uneven: review rate limits; smooth: caching and routing
    to a cheaper path). Largest accounts first.
    """
    if burn == "too_slow":
        action = pl.col("adoption_stage").replace_strict(
            TOO_SLOW_ACTIONS, default=TOO_SLOW_ACTIONS["multi_workflow"]
        )
    else:
        action = (
            pl.when(pl.col("is_smooth").fill_null(False))
            .then(pl.lit(TOO_FAST_SMOOTH))
            .otherwise(pl.lit(TOO_FAST_SPIKY))
        )
    return (
        health.filter(pl.col("burn") == burn)
        .with_columns(action.alias("action"))
        .sort(["account_value", "account_id"], descending=[True, False])
    )


def briefing_groups(health: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """Every account with its portfolio-briefing group and the reason, most valuable first.

    ``action_required``: a case to take up now (triage conversation or unassigned) or a renewal /
    breakage risk. ``watch``: any other case, a band off target or an early warning. ``healthy``:
    the rest.
    """
    triage = cases.select("account_id", "triage", "pattern")
    joined = health.join(triage, on="account_id", how="left")
    warnings = pl.col("early_warnings").fill_null([])
    urgent_case = pl.col("triage").is_in(["conversation", "unassigned"])
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
    return (
        joined.with_columns(group.alias("group"), reasons.list.join("; ").alias("reason"))
        .drop("triage", "pattern")
        .sort(["account_value", "account_id"], descending=[True, False], nulls_last=True)
    )


def with_spend_trend(accounts: pl.DataFrame, months: pl.DataFrame, n: int = 6) -> pl.DataFrame:
    """``accounts`` with ``spend_trend``: the list of its last ``n`` monthly amounts (oldest first)."""
    trend = (
        months.sort("month")
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


def new_cases(run: RunData) -> pl.DataFrame | None:
    """Cases whose account had no case a week earlier; None when previous_week is missing."""
    if run.previous_week is None:
        return None
    known = run.previous_week["overage_cases"]["account_id"]
    return run["overage_cases"].filter(~pl.col("account_id").is_in(known.implode()))


# --- the account review ---


@dataclass(frozen=True)
class AccountData:
    """One account's slice of the run: its health row, its case (or None) and its series."""

    account_id: str
    health: dict[str, Any]
    case: dict[str, Any] | None
    daily: pl.DataFrame
    meters: pl.DataFrame
    months: pl.DataFrame
    as_of: date


def account_data(run: RunData, account_id: str) -> AccountData:
    """The account's rows of every artifact. Raises KeyError naming an unknown account_id."""
    health = run["account_health"].filter(pl.col("account_id") == account_id)
    if health.height == 0:
        raise KeyError(f"account {account_id!r} has no row in account_health")
    case = run["overage_cases"].filter(pl.col("account_id") == account_id)
    mine = pl.col("account_id") == account_id
    return AccountData(
        account_id=account_id,
        health=health.row(0, named=True),
        case=case.row(0, named=True) if case.height else None,
        daily=run["daily_spend"].filter(mine).sort("usage_date"),
        meters=run["meter_months"].filter(mine).sort(["meter", "month"]),
        months=run["account_months"].filter(mine).sort("month"),
        as_of=run.as_of,
    )


def quarter_comparison(months: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The last three calendar months (ending with as_of's month) against the three before:
    consumption, outcomes and workflows live at the end of each quarter.

    Columns: measure, previous_quarter, this_quarter, change (relative; null without a base).
    """
    this_start = _months_back(as_of.replace(day=1), 2)
    previous_start = _months_back(this_start, 3)

    def totals(first: date, last: date) -> list[float | None]:
        rows = months.filter(pl.col("month").is_between(first, last))
        outcomes = rows["outcome_count"].drop_nulls()
        return [
            float(rows["amount"].sum()) if rows.height else None,
            float(outcomes.sum()) if outcomes.len() else None,
            _float(rows["workflows_live"].last()) if rows.height else None,
        ]

    return pl.DataFrame(
        {
            "measure": ["Consumption", "Outcomes", "Workflows live"],
            "previous_quarter": totals(previous_start, this_start - timedelta(days=1)),
            "this_quarter": totals(this_start, as_of),
        },
        schema={"measure": pl.String, "previous_quarter": pl.Float64, "this_quarter": pl.Float64},
    ).with_columns(
        pl.when(pl.col("previous_quarter") != 0)
        .then(pl.col("this_quarter") / pl.col("previous_quarter") - 1)
        .alias("change")
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


def spend_predictability(months: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """Month-to-month change of spend over complete months of steady use: after the first month
    with spend (a ramp-up month is partial) and before as_of's month (unless it ends on as_of).
    Columns: month, amount, change (relative to the month before)."""
    first_spend = months.filter(pl.col("amount") > 0)["month"].min()
    steady = months.filter(
        (pl.col("month") <= _last_complete_month(as_of))
        & (pl.col("month") > first_spend if first_spend is not None else pl.lit(False))
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


def renewal_scenarios(account: AccountData) -> pl.DataFrame:
    """Next-term cost of three renewal choices at the current run-rate over one more term.

    usage = run_rate x term days (365 for pay-as-you-go). ``pay overage``: the commit plus usage
    above it at the overage price (overage/unit price ratio of the latest month's metered usage,
    1.0 without limits); ``expand commit``: a commit that covers the usage; ``reduce scope``: a
    commit cut to the usage of the meters in use (never above today's commit).
    Columns: scenario, commit, cost, change (cost against today's commit).
    """
    health = account.health
    commit = health["commit_amount"] or 0.0
    days = health["term_days"] if commit else 365
    usage = (health["run_rate"] or 0.0) * days
    ratio = _overage_ratio(account.meters) if commit else 1.0
    reduced = min(commit, usage)
    rows = [
        ("Pay overage at the overage price", commit, commit + max(0.0, usage - commit) * ratio),
        ("Expand the commit to the run-rate", max(commit, usage), max(commit, usage)),
        ("Reduce scope to the used meters", reduced, reduced + max(0.0, usage - reduced) * ratio),
    ]
    return pl.DataFrame(
        rows, schema={"scenario": pl.String, "commit": pl.Float64, "cost": pl.Float64}, orient="row"
    ).with_columns((pl.col("cost") - commit).alias("change"))


def _overage_ratio(meters: pl.DataFrame) -> float:
    if meters.height == 0:
        return 1.0
    latest = meters.filter(pl.col("month") == pl.col("month").max())
    list_value = (latest["usage"] * latest["unit_price"]).sum()
    over_value = (latest["usage"] * latest["overage_unit_price"]).sum()
    return float(over_value / list_value) if list_value else 1.0


def _months_back(first_of_month: date, months: int) -> date:
    index = first_of_month.year * 12 + first_of_month.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _last_complete_month(as_of: date) -> date:
    first = as_of.replace(day=1)
    return (
        first
        if (as_of + timedelta(days=1)).day == 1
        else (first - timedelta(days=1)).replace(day=1)
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


def meter_marks(account: AccountData, sustained_months: int, months: int = 12) -> pl.DataFrame:
    """The account's meter months (the last ``months``) with ``mark``: ``within`` the limit, else
    the case pattern on the case's meter, else ``sustained`` (over in at least
    ``sustained_months`` months shown) or ``over``."""
    first = _months_back(account.as_of.replace(day=1), months - 1)
    shown = account.meters.filter(pl.col("month") >= first)
    case_meter, pattern = (
        (account.case["meter"], account.case["pattern"]) if account.case else (None, None)
    )
    over_months = pl.col("is_over").sum().over("meter")
    mark = (
        pl.when(~pl.col("is_over"))
        .then(pl.lit("within"))
        .when(pl.col("meter") == pl.lit(case_meter, dtype=pl.String))
        .then(pl.lit(pattern, dtype=pl.String))
        .when(over_months >= sustained_months)
        .then(pl.lit("sustained"))
        .otherwise(pl.lit("over"))
    )
    return shown.with_columns(mark.alias("mark"))
