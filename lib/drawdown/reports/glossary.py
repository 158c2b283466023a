"""The words the reports use, in one place: every heading, axis title, legend and value a reader
sees is looked up here, so a CS leader reads "Projected use at term end", never
``projected_utilization``.

- ``COLUMNS``: an artifact column -> its heading in words (tables, chart axes, spreadsheet
  headers).
- ``VALUES``: a coded value of a column (band, burn, adoption stage, pattern, triage, status,
  next action, owner role, early warning, change, meter mark) -> its words.
- ``KINDS``: how a column's numbers read (money, percent, count, days, ratio, date), so a table,
  an axis and a spreadsheet format the same column the same way.
- ``DEFINITIONS``: the terms a report uses, each in one sentence (the reports' glossary).

``label``, ``value`` and ``value_words`` are the lookups; a column or value not listed falls back
to its name in words (underscores to spaces), never the raw name. Definitions follow
docs/metrics.md.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

Kind = Literal["money", "percent", "count", "days", "ratio", "date", "text"]

COLUMNS: dict[str, str] = {
    # the account
    "account_id": "Account ID",
    "account_name": "Account",
    "segment": "Segment",
    "csm_owner": "CSM",
    "ae_owner": "Account executive",
    "technical_counterpart": "Technical counterpart",
    "is_strategic": "Strategic",
    "contract_id": "Contract",
    # commit and bands
    "commit_amount": "Commit",
    "term_start": "Term start",
    "term_end": "Term end",
    "term_days": "Term (days)",
    "elapsed_days": "Days elapsed",
    "elapsed_fraction": "Term elapsed",
    "consumed_to_date": "Consumed to date",
    "utilization": "Commit used",
    "pacing_index": "Pace (1.00 = on pace)",
    "run_rate": "Daily run rate",
    "remaining_days": "Days left in term",
    "projected_consumption": "Projected consumption at term end",
    "projected_utilization": "Projected use at term end",
    "band_low": "Healthy band from",
    "band_high": "Healthy band to",
    "band": "Band",
    "burn": "Burn",
    "exhaustion_date": "Commit runs out on",
    "exhausts_before_term_end": "Runs out before term end",
    "account_value": "Annual value",
    # usage health
    "first_contract_start": "First contract start",
    "first_billable_date": "First billable day",
    "ttfbe_days": "Days to first billable event",
    "cv_28d": "Daily spend variation (28 days)",
    "is_smooth": "Draws smoothly",
    "workflows_live": "Workflows live",
    "workflows_at_90d": "Workflows live at 90 days",
    "workflows_at_180d": "Workflows live at 180 days",
    "two_workflows_date": "Two workflows live since",
    "adoption_stage": "Adoption stage",
    "early_warnings": "Early warnings",
    "warning": "Early warning",
    # overconsumption
    "rank": "Priority rank",
    "meter": "Meter",
    "pct_over": "Over the limit",
    "pattern": "Pattern",
    "meters_over": "Meters over",
    "months_over": "Months over",
    "latest_over_month": "Latest month over",
    "overage_amount": "Value past the line",
    "priority_score": "Priority",
    "triage": "Triage",
    "owner_detect": "Owner: detection",
    "owner_first_conversation": "Owner: first conversation",
    "owner_expansion": "Owner: expansion",
    "missing_owners": "Steps with no owner",
    "status": "Status",
    # segments
    "accounts": "Accounts",
    "commit_total": "Commit",
    "consumed_to_date_total": "Consumed to date",
    "share_paygo": "Pay-as-you-go",
    "share_not_live": "Not live",
    "share_under": "Under",
    "share_healthy": "Healthy",
    "share_over": "Over",
    "median_ttfbe_days": "Median days to first billable event",
    "p75_ttfbe_days": "Days to first billable event (slowest quarter from)",
    "cases_conversation": "Cases earning a conversation",
    "grr": "Gross revenue retention",
    "nrr": "Net revenue retention",
    # cohorts
    "cohort_month": "Cohort (month of contract start)",
    "live_accounts": "Live accounts",
    "share_live_within_target": "Live within target",
    # reset tracker
    "item_id": "Item",
    "week": "Week",
    "due_date": "Due",
    "item": "Item",
    "measured_as": "Measured as",
    "measured": "Measured",
    "target": "Target",
    "measure": "Measure",
    "at_start": "At the start",
    "at_as_of": "Now",
    # series
    "usage_date": "Day",
    "amount": "Spend",
    "month": "Month",
    "limit": "Monthly limit",
    "usage": "Usage",
    "over_units": "Units over the limit",
    "is_over": "Over the limit",
    "unit_price": "Unit price",
    "overage_unit_price": "Overage unit price",
    "outcome_count": "Outcomes",
    "cost_per_outcome": "Cost per outcome",
    # next action
    "next_action": "Next action",
    "owner": "Owner",
    "owner_role": "Owner's role",
    "days_to_renewal": "Days to renewal",
    "reason": "Why",
    "consumption_last_quarter": "Consumption, last complete quarter",
    "consumption_prior_quarter": "Consumption, quarter before",
    "consumption_change": "Change on the quarter before",
    # budgets
    "monthly_budget": "Monthly budget",
    "alert_threshold_pct": "Budget alert at",
    "enabled_date": "Budget since",
    "month_to_date": "Spend this month so far",
    "budget_used": "Budget used this month",
    "alert_reached": "Budget alert reached",
    # changes
    "change": "Change",
    "from": "Then",
    "to": "Now",
    "previous_as_of": "Compared with the run of",
    # forecasts
    "horizon_days": "Days ahead",
    "p10": "Low (1 in 10 below)",
    "p50": "Median forecast",
    "p90": "High (1 in 10 above)",
    "exhaustion_p10": "Commit runs out, early case (days)",
    "exhaustion_p50": "Commit runs out, median (days)",
    "exhaustion_p90": "Commit runs out, late case (days)",
    "p_exhaust_before_term_end": "Chance the commit runs out before term end",
    "crossing_date": "Crosses the limit on",
    "as_of_made": "Forecast made on",
    "coverage_p10_p90": "Actuals inside the forecast range",
    "horizon": "Forecast period",
    "usage_to_date": "Usage this month so far",
    "projected_usage": "Projected usage this month",
    "projected_pct_over": "Projected over the limit",
    "mdape_p50": "Typical forecast error",
    "mdape_run_rate": "Typical error of the straight line",
    # renewal scenarios
    "renewal_date": "Renewal date",
    "scenario": "Renewal option",
    "next_term_days": "Next term (days)",
    "forecast_consumption": "Forecast consumption next term",
    "is_cheapest": "Cheapest",
    "cost": "Cost next term",
    "cost_over_cheapest": "More than the cheapest",
}
"""Artifact column -> heading in words."""

VALUES: dict[str, dict[str, str]] = {
    "band": {
        "over": "Over",
        "healthy": "Healthy",
        "under": "Under",
        "not_live": "Not live",
        "paygo": "Pay-as-you-go",
    },
    "burn": {"too_slow": "Too slow", "on_pace": "On pace", "too_fast": "Too fast"},
    "adoption_stage": {
        "not_live": "Not live",
        "first_billable": "First billable event",
        "one_workflow": "One workflow",
        "multi_workflow": "Several workflows",
        "steady_draw": "Steady draw",
    },
    "pattern": {"spike": "Spike", "emerging": "Emerging", "sustained": "Sustained"},
    "mark": {
        "within": "Within the limit",
        "spike": "Spike",
        "emerging": "Emerging",
        "sustained": "Sustained",
        "over": "Over (earlier)",
    },
    "triage": {
        "conversation": "Conversation now",
        "unassigned": "No owner yet",
        "wait": "Wait",
        "watch": "Watch",
        "monitor": "Monitor",
    },
    "status": {
        "overconsumption_conversation": "Conversation held",
        "expansion_opportunity": "Expansion opportunity",
        "scope_reduction": "Scope reduced",
    },
    "next_action": {
        "rescue": "Rescue",
        "activate": "Activate",
        "verify_usage": "Verify the usage",
        "open_conversation": "Open the conversation",
        "expansion": "Expansion",
        "cost_review": "Cost review",
        "unblock": "Unblock",
        "second_workflow": "Second workflow",
        "keep_steady": "Keep steady",
    },
    "owner_role": {"csm": "CSM", "ae": "AE", "technical_counterpart": "technical counterpart"},
    "warning": {
        "usage_drop": "Usage drop",
        "zero_streak": "Days without usage",
        "renewal_risk": "Renewal risk",
        "breakage_risk": "Breakage risk",
    },
    "change": {
        "new_case": "New case",
        "escalated": "Escalated",
        "resolved": "Resolved",
        "went_live": "Went live",
        "band_change": "Band change",
        "burn_change": "Burn change",
    },
    "missing_owners": {"first_conversation": "first conversation", "expansion": "expansion"},
    "scenario": {
        "pay_overage": "Renew as is",
        "expand_commit": "Expand the commit to the forecast",
        "right_size": "Right-size the commit to the forecast",
    },
    "horizon": {"next_28_days": "Next 28 days", "term_end": "To the end of the term"},
}
"""Column -> coded value -> its words. ``early_warnings`` values are those of ``warning``."""
VALUES["early_warnings"] = VALUES["warning"]

KINDS: dict[str, Kind] = {
    **dict.fromkeys(
        (
            "commit_amount",
            "consumed_to_date",
            "run_rate",
            "projected_consumption",
            "account_value",
            "overage_amount",
            "priority_score",
            "commit_total",
            "consumed_to_date_total",
            "amount",
            "cost_per_outcome",
            "unit_price",
            "overage_unit_price",
            "consumption_last_quarter",
            "consumption_prior_quarter",
            "p10",
            "p50",
            "p90",
            "monthly_budget",
            "month_to_date",
            "forecast_consumption",
            "cost",
            "cost_over_cheapest",
        ),
        "money",
    ),
    **dict.fromkeys(
        (
            "elapsed_fraction",
            "utilization",
            "projected_utilization",
            "band_low",
            "band_high",
            "cv_28d",
            "pct_over",
            "share_paygo",
            "share_not_live",
            "share_under",
            "share_healthy",
            "share_over",
            "grr",
            "nrr",
            "share_live_within_target",
            "consumption_change",
            "p_exhaust_before_term_end",
            "coverage_p10_p90",
            "alert_threshold_pct",
            "budget_used",
            "projected_pct_over",
            "mdape_p50",
            "mdape_run_rate",
        ),
        "percent",
    ),
    **dict.fromkeys(
        (
            "term_days",
            "elapsed_days",
            "remaining_days",
            "ttfbe_days",
            "median_ttfbe_days",
            "p75_ttfbe_days",
            "days_to_renewal",
            "horizon_days",
            "exhaustion_p10",
            "exhaustion_p50",
            "exhaustion_p90",
            "next_term_days",
        ),
        "days",
    ),
    **dict.fromkeys(
        (
            "rank",
            "meters_over",
            "months_over",
            "workflows_live",
            "workflows_at_90d",
            "workflows_at_180d",
            "accounts",
            "cases_conversation",
            "live_accounts",
            "limit",
            "usage",
            "over_units",
            "outcome_count",
            "usage_to_date",
            "projected_usage",
        ),
        "count",
    ),
    "pacing_index": "ratio",
}
"""Column -> how its numbers read; dates are known by their dtype, the rest is text."""

DEFINITIONS: dict[str, str] = {
    "Commit": "The amount the customer agreed to consume over the contract term.",
    "Commit used": "Consumption so far as a share of the commit.",
    "Pace": "Commit used against term elapsed: 1.00 is on pace, below is slow, above is fast.",
    "Projected use at term end": "Where the account ends the term if it keeps its last 28 days' "
    "daily spend.",
    "Band": "Healthy when the projection ends inside the agreed range of the commit; under or over "
    "outside it; not live before the first billable event; pay-as-you-go without a commit.",
    "Burn": "Too slow or too fast when the pace is outside the agreed range.",
    "Value past the line": "What usage above a meter's contractual limit is worth at the overage "
    "price.",
    "Spike, emerging, sustained": "Over the limit in one month, in two months, or in three or more "
    "months of the look-back.",
    "Annual value": "The commit for a year of the term; for pay-as-you-go, the last 365 days' "
    "spend.",
    "Early warning": "A usage drop, days without usage, a renewal at risk (under band near the "
    "renewal) or breakage (little of the commit used late in the term).",
    "Days to first billable event": "Days from the first contract start to the first day with "
    "billable usage.",
    "Gross revenue retention": "The last 90 days' spend of the accounts that spent in the same 90 "
    "days a year earlier, each capped at what it spent then, against what they spent then.",
    "Net revenue retention": "The same without the cap: expansion counts.",
    "Forecast range": "Eight times in ten the consumption should land between the low and the high "
    "forecast.",
    "Spend variation": "How much spend moves from one period to the next, relative to its average.",
}
"""Term -> one sentence: the glossary a report prints."""


def label(column: str) -> str:
    """The heading for ``column``: its words in ``COLUMNS``, else the name in words
    (``"days_live"`` -> ``"Days live"``)."""
    if column in COLUMNS:
        return COLUMNS[column]
    words = column.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def labels(columns: list[str] | tuple[str, ...]) -> dict[str, str]:
    """``{column: label(column)}`` for a table's ``cols_label``."""
    return {column: label(column) for column in columns}


def value(column: str, coded: str | None) -> str:
    """The words for one coded value of ``column`` (``value("band", "not_live")`` -> ``"Not
    live"``); an unknown value in words (underscores to spaces); ``""`` for None."""
    if coded is None:
        return ""
    return VALUES.get(column, {}).get(coded, coded.replace("_", " "))


def value_words(column: str, expr: pl.Expr | None = None) -> pl.Expr:
    """An expression turning ``column``'s coded values into words (``VALUES``); values not
    listed keep their text with underscores as spaces. ``expr`` defaults to ``pl.col(column)``."""
    source = pl.col(column) if expr is None else expr
    return source.replace_strict(
        VALUES.get(column, {}), default=source.str.replace_all("_", " "), return_dtype=pl.String
    )


def change_value_words(column: str) -> pl.Expr:
    """``from`` / ``to`` of a change (``changes``) hold a band, burn, pattern or triage code (or a
    date, as text): each code in words, anything else as it is."""
    mapping = {
        code: words
        for kind in ("band", "burn", "pattern", "triage")
        for code, words in VALUES[kind].items()
    }
    source = pl.col(column)
    return source.replace_strict(mapping, default=source, return_dtype=pl.String).alias(column)


def list_words(column: str, separator: str = ", ") -> pl.Expr:
    """A list column of coded values (``early_warnings``, ``missing_owners``) as one text of
    words, joined by ``separator``; an empty list gives ``""``."""
    return (
        pl.col(column)
        .list.eval(value_words(column, pl.element()))
        .list.join(separator)
        .alias(column)
    )


def kind(column: str) -> Kind:
    """How ``column``'s numbers read (``KINDS``); ``text`` when not listed."""
    return KINDS.get(column, "text")
