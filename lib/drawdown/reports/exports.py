"""Exports for other systems (docs/outputs.md#exports): the CRM-ready case file and the alert digest.

Both carry the next action of ``account_actions`` (never one of their own), and the digest leads
with the changes since the previous run (``changes``). Data text is inert in both
(``drawdown.reports.inert``): every text cell of the CSV is safe to open in a spreadsheet, and the
digest neutralises chat markup, links and mentions in data text.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import xlsxwriter

from drawdown.reports import glossary, sheet_rows
from drawdown.reports.data import (
    change_counts,
    changes_lead,
    counts_text,
    previous_as_of,
    with_actions,
)
from drawdown.reports.inert import chat_text, spreadsheet_cells

WORKBOOK = "accounts.xlsx"
"""The accounts workbook in ``exports/``: the full tables a reader opens in a spreadsheet."""
SHEETS = ("Accounts", "Cases", "Changes", "Segments", "Forecasts", "Limit crossings")
"""Its sheets, in order; ``Changes``, ``Forecasts`` and ``Limit crossings`` only when the run has
them."""
CODED = (
    "band",
    "burn",
    "adoption_stage",
    "pattern",
    "triage",
    "status",
    "next_action",
    "owner_role",
    "change",
)
"""Columns whose coded values the workbook writes in words (``glossary.VALUES``)."""

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
    with_run: bool = True,
) -> str:
    """A short Markdown digest for chat or email (well under 400 words): what changed since the
    previous run first (``changes`` counts; not ``with_run``: since the book a week earlier),
    then the open cases and their value past the line, the top five cases with their next
    action and owner, unowned steps, and the report link."""
    lines = [f"**drawdown overconsumption digest — {as_of.isoformat()}**", ""]
    if changes is not None:
        lines += [_changes_line(changes, with_run), ""]
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
        cases_lack = "1 case lacks" if unowned.height == 1 else f"{unowned.height} cases lack"
        lines.append(f"Unowned steps: {cases_lack} a CSM or an AE ({names}{more}).")
        lines.append("")
    lines.append(f"Full review: [executive review]({report_link})")
    return "\n".join(lines) + "\n"


def _changes_line(changes: pl.DataFrame, with_run: bool) -> str:
    counts, since = change_counts(changes) or {}, previous_as_of(changes)
    lead = changes_lead(since.isoformat() if since else None, with_run)
    return f"{lead}: {counts_text(counts)}."


def _totals_line(cases: pl.DataFrame, changes: pl.DataFrame | None, currency: str) -> str:
    value = float(cases["overage_amount"].sum()) if cases.height else 0.0
    ready = cases.filter(pl.col("triage") == "conversation").height
    counts = change_counts(changes) or {}
    new, resolved = counts.get("new_case", 0), counts.get("resolved", 0)
    net = f" (+{new} new, −{resolved} resolved)" if new or resolved else ""
    open_cases = "1 open case" if cases.height == 1 else f"{cases.height:,} open cases"
    carry = "carries" if cases.height == 1 else "carry"
    return (
        f"{open_cases}{net} {carry} {currency} {value:,.0f} past the line; "
        f"{ready:,} ready for a first conversation."
    )


def write_exports(
    cases: pl.DataFrame,
    actions: pl.DataFrame,
    changes: pl.DataFrame | None,
    as_of: date,
    currency: str,
    folder: Path,
    with_run: bool = True,
) -> list[Path]:
    """Write ``overconsumption_cases.csv`` and ``alert_digest.md`` into ``folder`` (``with_run``:
    ``alert_digest``'s)."""
    folder.mkdir(parents=True, exist_ok=True)
    csv_path = folder / "overconsumption_cases.csv"
    spreadsheet_cells(crm_cases(cases, actions, as_of, currency)).write_csv(csv_path)
    digest_path = folder / "alert_digest.md"
    digest = alert_digest(cases, actions, changes, as_of, currency, with_run=with_run)
    digest_path.write_text(digest, encoding="utf-8")
    return [csv_path, digest_path]


def accounts_sheet(
    health: pl.DataFrame,
    actions: pl.DataFrame,
    budgets: pl.DataFrame | None = None,
    forecast: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every account of account_health with every metric, its next action (owner, role, reason,
    days to renewal, consumption of the last two complete quarters), its budget status and,
    when the run has forecasts, the median forecast of its longest horizon; most valuable first."""
    joined = health.join(actions, on="account_id", how="left", maintain_order="left")
    if budgets is not None:
        joined = joined.join(
            budgets.select("account_id", "monthly_budget", "alert_threshold_pct", "budget_used"),
            on="account_id",
            how="left",
            maintain_order="left",
        )
    if forecast is not None and forecast.height:
        longest = (
            forecast.sort("horizon_days")
            .group_by("account_id")
            .last()
            .select("account_id", "horizon_days", "p10", "p50", "p90")
        )
        joined = joined.join(longest, on="account_id", how="left", maintain_order="left")
    return joined.sort(["account_value", "account_id"], descending=[True, False], nulls_last=True)


def cases_sheet(cases: pl.DataFrame, actions: pl.DataFrame) -> pl.DataFrame:
    """Every overconsumption case in rank order with the account's next action."""
    return cases.sort("rank").join(
        actions.select("account_id", "next_action", "owner", "owner_role"),
        on="account_id",
        how="left",
        maintain_order="left",
    )


def changes_sheet(changes: pl.DataFrame, health: pl.DataFrame) -> pl.DataFrame:
    """Every change since the previous run with the account's name, segment and CSM (an
    account that left the book keeps only its id)."""
    names = health.select("account_id", "account_name", "segment", "csm_owner")
    return changes.join(names, on="account_id", how="left", maintain_order="left").select(
        "account_id",
        "account_name",
        "segment",
        "csm_owner",
        "change",
        "from",
        "to",
        "previous_as_of",
    )


def forecasts_sheet(forecast: pl.DataFrame, health: pl.DataFrame) -> pl.DataFrame:
    """The consumption forecasts with the account's name, by account and horizon."""
    names = health.select("account_id", "account_name")
    return forecast.join(names, on="account_id", how="left").sort("account_id", "horizon_days")


def crossings_sheet(crossings: pl.DataFrame) -> pl.DataFrame:
    """Every meter forecast to cross its limit later this month (``data.crossings_ahead``), in
    the reports' order: the account, the meter, the day, the month against the limit and the
    account's next action."""
    return crossings.select(
        "account_id",
        "account_name",
        "segment",
        "csm_owner",
        "meter",
        "crossing_date",
        "limit",
        "usage_to_date",
        "projected_usage",
        "projected_pct_over",
        "next_action",
        "owner",
        "owner_role",
    )


def in_words(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` as a reader sees it: coded values in words (``CODED``), ``from`` / ``to`` of a
    change in words, lists joined (``early_warnings``, ``missing_owners``), text inert
    (``inert.spreadsheet_cells``), and the headers of ``glossary.label``."""
    words = [glossary.value_words(column) for column in CODED if column in frame.columns]
    for column in ("from", "to"):
        if column in frame.columns:
            words.append(glossary.change_value_words(column))
    lists = [
        glossary.list_words(column)
        for column, dtype in frame.schema.items()
        if isinstance(dtype, pl.List)
    ]
    shown = spreadsheet_cells(frame.with_columns(*words, *lists))
    return shown.rename({column: glossary.label(column) for column in shown.columns})


WORKBOOK_CREATED = datetime(2000, 1, 1, tzinfo=UTC)
"""The creation time written into the workbook (XlsxWriter would write the clock's)."""


def write_workbook(sheets: dict[str, pl.DataFrame], path: Path, currency: str) -> Path:
    """Write ``sheets`` (name -> frame with artifact column names) to one .xlsx: headers in
    words, money in the currency, shares as percent, dates as dates, the header row frozen, and
    every text cell a string (never a formula or a link). XlsxWriter writes each sheet with one
    probe row, which ``sheet_rows.fill`` then replaces by all the sheet's rows."""
    options = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    shown: list[pl.DataFrame] = []
    with xlsxwriter.Workbook(path, options) as workbook:
        # a fixed creation time: two runs of the same book write the same bytes
        workbook.set_properties({"created": WORKBOOK_CREATED})
        for name, frame in sheets.items():
            formats = {
                glossary.label(column): _FORMATS[kind]
                if kind != "money"
                else _money_format(currency)
                for column in frame.columns
                if (kind := glossary.kind(column)) in _FORMATS or kind == "money"
            }
            shown.append(in_words(frame))
            sheet_rows.probe(shown[-1]).write_excel(
                workbook,
                worksheet=name,
                column_formats=formats,  # type: ignore[arg-type]
                dtype_formats={pl.Date: "dd mmm yyyy"},
                header_format={"bold": True, "text_wrap": True, "valign": "top"},
                freeze_panes="A2",
                column_widths={
                    glossary.label(column): _width(column, frame.schema[column])
                    for column in frame.columns
                },
                table_style="Table Style Light 1",
                hide_gridlines=True,
            )
    sheet_rows.fill(path, shown)
    return path


def workbook_sheets(
    health: pl.DataFrame,
    actions: pl.DataFrame,
    cases: pl.DataFrame,
    segments: pl.DataFrame,
    changes: pl.DataFrame | None = None,
    budgets: pl.DataFrame | None = None,
    forecast: pl.DataFrame | None = None,
    crossings: pl.DataFrame | None = None,
) -> dict[str, pl.DataFrame]:
    """The workbook's sheets (``SHEETS``) from the artifacts: accounts, cases, segments, and the
    changes, forecasts and limit crossings ahead (``data.crossings_ahead``) when the run has
    them."""
    sheets = {
        "Accounts": accounts_sheet(health, actions, budgets, forecast),
        "Cases": cases_sheet(cases, actions),
    }
    if changes is not None:
        sheets["Changes"] = changes_sheet(changes, health)
    sheets["Segments"] = segments
    if forecast is not None:
        sheets["Forecasts"] = forecasts_sheet(forecast, health)
    if crossings is not None:
        sheets["Limit crossings"] = crossings_sheet(crossings)
    return sheets


_FORMATS = {"percent": "0%", "count": "#,##0", "days": "#,##0", "ratio": "0.00"}
_WIDE = ("account_name", "reason", "early_warnings", "missing_owners", "measured_as", "item")


def _width(column: str, dtype: pl.DataType) -> int:
    """Column width in pixels: wide for names and sentences, else room for a wrapped header
    (autofit would read every cell: seconds on a large book)."""
    if column in _WIDE:
        return 260
    return 110 if dtype == pl.String or isinstance(dtype, pl.List) else 96


def _money_format(currency: str) -> str:
    return '"$"#,##0' if currency == "USD" else f'#,##0 "{_safe_code(currency)}"'


def _safe_code(currency: str) -> str:
    return "".join(ch for ch in currency if ch.isalnum())
