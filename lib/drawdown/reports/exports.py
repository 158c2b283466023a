"""Exports for other systems (docs/outputs.md#exports): the CRM-ready case file and the alert digest.

Both carry the next action of ``account_actions`` (never one of their own), and the digest leads
with the changes since the previous run (``changes``). Data text is inert in both
(``drawdown.reports.inert``): every text cell of the CSV is safe to open in a spreadsheet, and the
digest neutralises chat markup, links and mentions in data text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from drawdown.reports.data import change_counts, counts_text, previous_as_of, with_actions
from drawdown.reports.inert import chat_text, spreadsheet_cells

EXPORTED_TRIAGE = ("conversation", "unassigned")
CLOSED_STATUS = "scope_reduction"
"""A case whose customer reduced scope is closed for this motion: it is not exported."""
CASE_KEY_SEPARATOR = "|"

CRM_COLUMNS = (
    "case_key",
    "as_of",
    "currency",
    "account_id",
    "account_name",
    "meter",
    "pattern",
    "triage",
    "status",
    "priority_rank",
    "percent_past_line",
    "value_past_line",
    "account_value",
    "next_action",
    "next_action_owner",
    "next_action_owner_role",
    "next_action_reason",
    "days_to_renewal",
    "owner_detect",
    "owner_first_conversation",
    "owner_expansion",
    "missing_owners",
)
"""The columns of overconsumption_cases.csv, in order (docs/outputs.md#overconsumption_casescsv)."""


def crm_cases(
    cases: pl.DataFrame, actions: pl.DataFrame, as_of: date, currency: str
) -> pl.DataFrame:
    """The cases that earn a conversation (triage ``conversation`` or ``unassigned``), in rank
    order, as a CRM import takes them (``CRM_COLUMNS``): a stable case key (account_id and
    meter), the as-of date and currency, the case's status, its next action with owner and reason
    (``account_actions``), the owner of each step and the missing ones. A case closed by a scope
    reduction is left out. Amounts are numbers rounded to cents, the percent past the line a
    number (12.5 = 12.5 %); missing_owners is ``;``-separated.
    """
    exported = cases.filter(
        pl.col("triage").is_in(EXPORTED_TRIAGE),
        pl.col("status").fill_null("") != CLOSED_STATUS,
    ).join(actions, on="account_id", how="left")
    return (
        exported.sort("rank")
        .with_columns(
            pl.concat_str("account_id", "meter", separator=CASE_KEY_SEPARATOR).alias("case_key"),
            pl.lit(as_of).alias("as_of"),
            pl.lit(currency).alias("currency"),
            pl.col("rank").alias("priority_rank"),
            (pl.col("pct_over") * 100).round(1).alias("percent_past_line"),
            pl.col("overage_amount").round(2).alias("value_past_line"),
            pl.col("account_value").round(2),
            pl.col("owner").alias("next_action_owner"),
            pl.col("owner_role").alias("next_action_owner_role"),
            pl.col("reason").alias("next_action_reason"),
            pl.col("missing_owners").list.join(";"),
        )
        .select(CRM_COLUMNS)
    )


def alert_digest(
    cases: pl.DataFrame,
    actions: pl.DataFrame,
    changes: pl.DataFrame | None,
    as_of: date,
    currency: str,
    report_link: str = "../reports/executive_review.html",
) -> str:
    """A short Markdown digest for chat or email (well under 400 words): what changed since the
    previous run first (``changes`` counts), then the open cases and their value past the line,
    the top five cases with their next action and owner, unowned steps, and the report link."""
    lines = [f"**drawdown overconsumption digest — {as_of.isoformat()}**", ""]
    if changes is not None:
        lines += [_changes_line(changes), ""]
    lines += [_totals_line(cases, changes, currency), ""]
    if cases.height:
        lines.append("Top cases:")
        for row in with_actions(cases.sort("rank").head(5), actions).iter_rows(named=True):
            lines.append(
                f"{row['rank']}. {chat_text(row['account_name'])} — {chat_text(row['meter'])} "
                f"{row['pct_over']:.0%} past the line, {chat_text(row['pattern'])}, "
                f"{currency} {row['overage_amount']:,.0f} past the line; "
                f"next: {chat_text(row['action'])}"
            )
        lines.append("")
    unowned = cases.filter(pl.col("missing_owners").list.len() > 0)
    if unowned.height:
        names = ", ".join(chat_text(name) for name in unowned.sort("rank")["account_name"].head(5))
        more = f" and {unowned.height - 5} more" if unowned.height > 5 else ""
        lines.append(f"Unowned steps: {unowned.height} cases lack a CSM or an AE ({names}{more}).")
        lines.append("")
    lines.append(f"Full review: [executive review]({report_link})")
    return "\n".join(lines) + "\n"


def _changes_line(changes: pl.DataFrame) -> str:
    counts, since = change_counts(changes) or {}, previous_as_of(changes)
    when = f" (as of {since.isoformat()})" if since else ""
    return f"Since the previous run{when}: {counts_text(counts)}."


def _totals_line(cases: pl.DataFrame, changes: pl.DataFrame | None, currency: str) -> str:
    value = float(cases["overage_amount"].sum()) if cases.height else 0.0
    ready = cases.filter(pl.col("triage") == "conversation").height
    counts = change_counts(changes)
    net = f" (+{counts['new_case']} new, −{counts['resolved']} resolved)" if counts else ""
    return (
        f"{cases.height} open cases{net} carry {currency} {value:,.0f} past the line; "
        f"{ready} ready for a first conversation."
    )


def write_exports(
    cases: pl.DataFrame,
    actions: pl.DataFrame,
    changes: pl.DataFrame | None,
    as_of: date,
    currency: str,
    folder: Path,
) -> list[Path]:
    """Write ``overconsumption_cases.csv`` and ``alert_digest.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "overconsumption_cases.csv"
    spreadsheet_cells(crm_cases(cases, actions, as_of, currency)).write_csv(csv_path)
    digest_path = folder / "alert_digest.md"
    digest_path.write_text(alert_digest(cases, actions, changes, as_of, currency), encoding="utf-8")
    return [csv_path, digest_path]
