"""Exports for other systems (docs/outputs.md#exports): the CRM-ready case file and the alert digest.

Data text is inert in both (``drawdown.reports.inert``): every text cell of the CSV is safe to
open in a spreadsheet, and the digest neutralises chat markup, links and mentions in data text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from drawdown.reports.inert import chat_text, spreadsheet_cells

EXPORTED_TRIAGE = ("conversation", "unassigned")

CRM_COLUMNS = {
    "rank": "priority_rank",
    "account_id": "account_id",
    "account_name": "account_name",
    "owner_first_conversation": "owner_csm",
    "owner_expansion": "owner_ae",
    "meter": "meter",
    "pattern": "pattern",
    "pct_over_percent": "percent_past_line",
    "overage_amount": "value_past_line",
    "account_value": "account_value",
    "triage": "triage",
    "opportunity_type": "suggested_opportunity_type",
    "reason": "reason",
}


def crm_cases(cases: pl.DataFrame, currency: str) -> pl.DataFrame:
    """The cases that earn a conversation (triage ``conversation`` or ``unassigned``), in rank
    order, with the columns a CRM import takes (``CRM_COLUMNS``): money rounded to cents, the
    percent past the line as a number (12.5 = 12.5 %), a suggested opportunity type and a one-line
    reason.
    """
    percent = (pl.col("pct_over") * 100).round(1)
    return (
        cases.filter(pl.col("triage").is_in(EXPORTED_TRIAGE))
        .sort("rank")
        .with_columns(
            percent.alias("pct_over_percent"),
            pl.col("overage_amount", "account_value").round(2),
            pl.when(pl.col("owner_first_conversation").is_null())
            .then(pl.lit("Assign a CSM, then expansion"))
            .otherwise(pl.lit("Expansion: commit to the run-rate"))
            .alias("opportunity_type"),
            pl.format(
                "{} is {}% past its included quantity ({} overconsumption over {} of the lookback "
                "months); {} {} past the line",
                "meter",
                percent,
                "pattern",
                "months_over",
                pl.lit(currency),
                (pl.col("overage_amount") + 0.5).floor().cast(pl.Int64),
            ).alias("reason"),
        )
        .select(pl.col(source).alias(target) for source, target in CRM_COLUMNS.items())
    )


def alert_digest(
    cases: pl.DataFrame,
    previous_week: pl.DataFrame | None,
    as_of: date,
    currency: str,
    report_link: str = "../reports/executive_review.html",
) -> str:
    """A short Markdown digest for chat or email (well under 400 words): new cases since last
    week, the top five cases by rank with owner and numbers, unowned steps, and the report link.

    A case is *new* when its account was not a case in ``previous_week`` (all are new without it).
    """
    known = set() if previous_week is None else set(previous_week["account_id"].to_list())
    new_cases = cases.filter(~pl.col("account_id").is_in(list(known)))
    unowned = cases.filter(pl.col("missing_owners").list.len() > 0)
    lines = [
        f"**drawdown overconsumption digest — {as_of.isoformat()}**",
        "",
        f"{cases.height} open cases, {new_cases.height} new since last week; "
        f"{cases.filter(pl.col('triage') == 'conversation').height} ready for a first conversation.",
        "",
    ]
    if cases.height:
        lines.append("Top cases:")
        for row in cases.sort("rank").head(5).iter_rows(named=True):
            owner = row["owner_first_conversation"] or "no CSM"
            lines.append(
                f"{row['rank']}. {chat_text(row['account_name'])} — {chat_text(row['meter'])} "
                f"{row['pct_over']:.0%} past the line, {chat_text(row['pattern'])}, "
                f"{currency} {row['overage_amount']:,.0f} past the line; owner: {chat_text(owner)} "
                f"({chat_text(row['triage'])})"
            )
        lines.append("")
    if unowned.height:
        names = ", ".join(chat_text(name) for name in unowned.sort("rank")["account_name"].head(5))
        more = f" and {unowned.height - 5} more" if unowned.height > 5 else ""
        lines.append(f"Unowned steps: {unowned.height} cases lack a CSM or an AE ({names}{more}).")
        lines.append("")
    lines.append(f"Full review: [executive review]({report_link})")
    return "\n".join(lines) + "\n"


def write_exports(
    cases: pl.DataFrame,
    previous_week: pl.DataFrame | None,
    as_of: date,
    currency: str,
    folder: Path,
) -> list[Path]:
    """Write ``overconsumption_cases.csv`` and ``alert_digest.md`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "overconsumption_cases.csv"
    spreadsheet_cells(crm_cases(cases, currency)).write_csv(csv_path)
    digest_path = folder / "alert_digest.md"
    digest_path.write_text(alert_digest(cases, previous_week, as_of, currency), encoding="utf-8")
    return [csv_path, digest_path]
