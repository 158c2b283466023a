"""The metric artifacts of a run (docs/outputs.md#artifacts): their columns, dtypes and how they are written.

``SCHEMAS`` is the contract between the metrics (which must produce exactly these columns, in this
order) and the reports (which read only these files). ``daily_spend``, ``meter_months`` and
``account_months`` carry the series the reports chart. Every artifact has a subsection listing its
columns in docs/outputs.md#artifacts (``tests/test_docs.py`` checks it).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

_S, _F, _I, _D, _B = pl.String(), pl.Float64(), pl.Int64(), pl.Date(), pl.Boolean()
_LIST_S = pl.List(pl.String())

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    # one row per account with a contract covering as_of; docs/metrics.md#commit-utilization-and-bands and docs/metrics.md#usage-health
    "account_health": {
        "account_id": _S,
        "account_name": _S,
        "segment": _S,
        "csm_owner": _S,
        "ae_owner": _S,
        "technical_counterpart": _S,
        "is_strategic": _B,
        "contract_id": _S,
        "commit_amount": _F,
        "term_start": _D,
        "term_end": _D,
        "term_days": _I,
        "elapsed_days": _I,
        "elapsed_fraction": _F,
        "consumed_to_date": _F,
        "utilization": _F,
        "pacing_index": _F,
        "run_rate": _F,
        "remaining_days": _I,
        "projected_consumption": _F,
        "projected_utilization": _F,
        "band_low": _F,
        "band_high": _F,
        "band": _S,
        "burn": _S,
        "exhaustion_date": _D,
        "exhausts_before_term_end": _B,
        "account_value": _F,
        "first_contract_start": _D,
        "first_billable_date": _D,
        "ttfbe_days": _I,
        "cv_28d": _F,
        "is_smooth": _B,
        "workflows_live": _I,
        "workflows_at_90d": _I,
        "workflows_at_180d": _I,
        "two_workflows_date": _D,
        "adoption_stage": _S,
        "early_warnings": _LIST_S,
        "exhaustion_p10": _D,
        "exhaustion_p50": _D,
        "exhaustion_p90": _D,
        "p_exhaust_before_term_end": _F,
    },
    # one row per overconsumption case, in rank order; docs/metrics.md#overconsumption-against-contractual-limits
    "overage_cases": {
        "rank": _I,
        "account_id": _S,
        "account_name": _S,
        "segment": _S,
        "meter": _S,
        "pct_over": _F,
        "pattern": _S,
        "meters_over": _I,
        "months_over": _I,
        "latest_over_month": _D,
        "overage_amount": _F,
        "account_value": _F,
        "priority_score": _F,
        "triage": _S,
        "owner_detect": _S,
        "owner_first_conversation": _S,
        "owner_expansion": _S,
        "missing_owners": _LIST_S,
        "status": _S,
    },
    # one row per segment, then one row "All"; docs/metrics.md#segment-summary
    "segment_summary": {
        "segment": _S,
        "accounts": _I,
        "commit_total": _F,
        "consumed_to_date_total": _F,
        "share_paygo": _F,
        "share_not_live": _F,
        "share_under": _F,
        "share_healthy": _F,
        "share_over": _F,
        "median_ttfbe_days": _F,
        "p75_ttfbe_days": _F,
        "overage_amount": _F,
        "cases_conversation": _I,
        "grr": _F,
        "nrr": _F,
    },
    # one row per (segment, month of first_contract_start); docs/metrics.md#usage-health
    "ttfbe_cohorts": {
        "segment": _S,
        "cohort_month": _D,
        "accounts": _I,
        "live_accounts": _I,
        "median_ttfbe_days": _F,
        "p75_ttfbe_days": _F,
        "share_live_within_target": _F,
    },
    # one row per reset item, in week order; docs/metrics.md#the-60-day-reset-tracker (only when reset.start_date is set)
    "reset_tracker": {
        "item_id": _S,
        "week": _S,
        "due_date": _D,
        "item": _S,
        "measured_as": _S,
        "measured": _F,
        "target": _F,
        "status": _S,
    },
    # the reset's before/after comparison: state at start_date vs at as_of; docs/metrics.md#the-60-day-reset-tracker
    "reset_comparison": {"measure": _S, "at_start": _F, "at_as_of": _F},
    # rated spend per account and day (all meters), zeros not stored; for usage lines and burn-up
    "daily_spend": {"account_id": _S, "usage_date": _D, "amount": _F},
    # per account, meter and calendar month with a limit: the monthly quantities of docs/metrics.md#overconsumption-against-contractual-limits
    "meter_months": {
        "account_id": _S,
        "meter": _S,
        "month": _D,
        "limit": _F,
        "usage": _F,
        "over_units": _F,
        "pct_over": _F,
        "overage_amount": _F,
        "is_over": _B,
        "unit_price": _F,
        "overage_unit_price": _F,
        "pattern": _S,
    },
    # one next action per account of account_health; docs/metrics.md#next-action
    "account_actions": {
        "account_id": _S,
        "next_action": _S,
        "owner": _S,
        "owner_role": _S,
        "days_to_renewal": _I,
        "reason": _S,
        "consumption_last_quarter": _F,
        "consumption_prior_quarter": _F,
        "consumption_change": _F,
    },
    # one row per account with a budget in force at as_of; docs/metrics.md#budget-and-alert-status
    "account_budgets": {
        "account_id": _S,
        "monthly_budget": _F,
        "alert_threshold_pct": _F,
        "enabled_date": _D,
        "month_to_date": _F,
        "budget_used": _F,
        "alert_reached": _B,
    },
    # one row per change since the previous run; docs/metrics.md#changes-since-the-previous-run
    "changes": {
        "account_id": _S,
        "change": _S,
        "from": _S,
        "to": _S,
        "previous_as_of": _D,
    },
    # per account of account_health: p10/p50/p90 of the spend over the next 28 days and to term_end; docs/forecasts.md
    "consumption_forecast": {
        "account_id": _S,
        "horizon": _S,
        "horizon_days": _I,
        "p10": _F,
        "p50": _F,
        "p90": _F,
    },
    # per (account, meter) with a limit in as_of's month: the p50 path against the month's limit; docs/forecasts.md#limit-crossing
    "limit_crossing": {
        "account_id": _S,
        "meter": _S,
        "month": _D,
        "limit": _F,
        "usage_to_date": _F,
        "projected_usage": _F,
        "projected_pct_over": _F,
        "crossing_date": _D,
    },
    # the forecasts made 28, 56 and 84 days before as_of against what happened; docs/forecasts.md#back-test
    "forecast_backtest": {
        "as_of_made": _D,
        "horizon_days": _I,
        "accounts": _I,
        "coverage_p10_p90": _F,
        "mdape_p50": _F,
        "mdape_run_rate": _F,
    },
    # the next term priced three ways at the forecast median; docs/forecasts.md#renewal-scenarios
    "renewal_scenarios": {
        "account_id": _S,
        "renewal_date": _D,
        "scenario": _S,
        "next_term_days": _I,
        "forecast_consumption": _F,
        "commit_amount": _F,
        "overage_amount": _F,
        "cost": _F,
        "is_cheapest": _B,
        "cost_over_cheapest": _F,
    },
    # per account and calendar month: spend, outcomes, cost per outcome, workflows live at month end
    "account_months": {
        "account_id": _S,
        "month": _D,
        "amount": _F,
        "outcome_count": _F,
        "cost_per_outcome": _F,
        "workflows_live": _I,
    },
}

OPTIONAL_ARTIFACTS = ("reset_tracker", "reset_comparison")
RUN_ARTIFACTS = ("changes",)
"""Artifacts a run computes outside the cached metrics: they depend on the previous run."""


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with exactly the artifact's columns, in order and cast to their dtypes.

    Raises ValueError naming the missing columns: a metric that drifts from the contract fails
    loudly rather than writing a different file.
    """
    schema = SCHEMAS[name]
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise ValueError(f"artifact {name} lacks columns {missing}")
    return frame.select(pl.col(column).cast(dtype) for column, dtype in schema.items())


@dataclass
class Artifacts:
    """Everything ``compute_all`` produces: the metric tables and the data-quality record.

    ``tables`` maps an artifact name of ``SCHEMAS`` to its collected frame; ``rejects`` maps an
    input table to its rejected rows (with a ``reason`` column).
    """

    tables: dict[str, pl.DataFrame]
    data_quality: dict[str, Any]
    rejects: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def write(self, folder: Path | str) -> Path:
        """Write ``<folder>/<name>.parquet``, ``data_quality.json`` and ``rejects/<table>.csv``.

        Output is deterministic: the same artifacts give byte-identical files.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        for name, frame in self.tables.items():
            write_artifact(conform(name, frame), folder / f"{name}.parquet")
        write_json(folder / "data_quality.json", self.data_quality)
        write_rejects(folder, self.rejects)
        return folder


ROW_GROUP_ROWS = 262_144
"""Rows per Parquet row group of an artifact file (Polars' default size, made explicit)."""


def write_artifact(frame: pl.DataFrame, path: Path) -> None:
    """``frame`` as a Parquet file whose bytes depend on its rows only: one chunk, cut into row
    groups of ``ROW_GROUP_ROWS`` (row groups otherwise follow the frame's chunks, which differ
    between a whole-book, a sharded and a Spark run of the same book), no statistics."""
    frame.rechunk().write_parquet(path, statistics=False, row_group_size=ROW_GROUP_ROWS)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Deterministic, readable JSON (sorted keys, two-space indent, trailing newline)."""
    path.write_text(
        json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def write_rejects(folder: Path, rejects: dict[str, pl.DataFrame]) -> None:
    """Rejected input rows as ``<folder>/rejects/<table>.csv`` (nothing when there are none)."""
    if rejects:
        (folder / "rejects").mkdir(exist_ok=True)
        for table, rejected in rejects.items():
            rejected.write_csv(folder / "rejects" / f"{table}.csv")
