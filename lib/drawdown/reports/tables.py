"""great_tables builders for the reports, and the house table style.

Every builder takes a collected frame and returns an unrendered ``GT``; none writes files or
changes its input. great_tables escapes cell text, so account names and owners render as text.
Apply the house style with ``table.pipe(table_theme, brand)``.

The list tables (accounts, cases, burn, warnings) show at most ``report_data.LIST_ROWS`` rows, in
the order given (the report_data views sort the largest first), and say in a note how many there
are and which file of the run folder holds them all.
"""

from __future__ import annotations

from datetime import date

import polars as pl
from great_tables import GT, loc, style

from drawdown.metrics.periods import Comparison
from drawdown.params import Brand
from drawdown.reports import glossary
from drawdown.reports.charts import BAND_COLORS, BAND_LABELS, FONT
from drawdown.reports.data import (
    ACCOUNTS_FILE,
    CASES_FILE,
    CHANGES_FILE,
    CRM_FILE,
    LIST_ROWS,
    WORKBOOK,
)

MISSING = "—"
ALL_SEGMENTS = "All segments"
ACCOUNT_LABELS = {"account_name": "Account", "segment": "Segment", "csm_owner": "CSM"}
STATUS_SYMBOLS = {
    "done": "✓ done",
    "on_track": "◔ on track",
    "late": "✗ late",
    "not_started": "○ not started",
}
COMPARISON_LABELS = {
    "share_healthy": "Share of accounts in the healthy band",
    "median_ttfbe_days": "Median days to the first billable event",
    "overage_amount": "Value past the line",
    "median_cv_28d_top_accounts": "Day-to-day variation of the top accounts (median, 28 days)",
}
"""The reset's before/after measures in words."""
STATUS_COLORS = {
    "done": "#2e8b57",
    "on_track": "#5b7db1",
    "late": "#c0392b",
    "not_started": "#7f8c8d",
}


def table_theme(table: GT, brand: Brand | None = None) -> GT:
    """The house table look: the report font, a brand-coloured heading rule, compact rows."""
    primary = (brand or Brand()).primary_color
    return (
        table.opt_table_font(font=[font.strip() for font in FONT.split(",")], add=False)
        .tab_options(
            table_font_size="12px",
            heading_title_font_size="15px",
            heading_align="left",
            heading_border_bottom_color=primary,
            column_labels_border_bottom_color=primary,
            column_labels_font_weight="bold",
            table_border_top_color=primary,
            data_row_padding="3px",
            table_width="100%",
        )
        .sub_missing(missing_text=MISSING)
    )


def cases_table(
    cases: pl.DataFrame,
    *,
    currency: str = "USD",
    title: str = "Overconsumption cases",
    rows: int = LIST_ROWS,
    empty: str = "No account is over its contractual limits.",
) -> GT:
    """The first ``rows`` ranked overconsumption cases: pattern, meter, owners per step, value
    past the line; ``empty`` is the note shown when there is no case."""
    owners = ["owner_detect", "owner_first_conversation", "owner_expansion"]
    shown = cases.head(rows)
    data = shown.select(
        "rank",
        "account_name",
        "meter",
        "pattern",
        "pct_over",
        "months_over",
        "overage_amount",
        "priority_score",
        "triage",
        *owners,
        pl.col("status").str.replace_all("_", " "),
    ).with_columns(pl.col(owners).fill_null("⚠ unowned"))
    table = (
        GT(data)
        .tab_header(title, "Ranked by priority (account value × share over the limit)")
        .tab_spanner("Owners", owners)
        .cols_label(
            rank="#",
            account_name="Account",
            meter="Meter",
            pattern="Pattern",
            pct_over="Over limit",
            months_over="Months over",
            overage_amount="Value past the line",
            priority_score="Priority",
            triage="Triage",
            owner_detect="Detect",
            owner_first_conversation="First conversation",
            owner_expansion="Expansion",
            status="Status",
        )
        .fmt_percent("pct_over", decimals=0, force_sign=True)
        .fmt_currency(["overage_amount", "priority_score"], currency=currency, decimals=0)
    )
    for column in owners:
        if unowned := [i for i, owner in enumerate(shown[column]) if owner is None]:
            table = table.tab_style(
                style.text(color="#c0392b", weight="bold"), loc.body(columns=column, rows=unowned)
            )
    where = f"{CASES_FILE} (those earning a conversation also in {CRM_FILE})"
    table = _capped(table, data.height, cases.height, "priority", where)
    return _empty_note(table, data.height, empty)


def burn_table(
    burning: pl.DataFrame, *, title: str, currency: str = "USD", rows: int = LIST_ROWS
) -> GT:
    """The first ``rows`` accounts burning too slow or too fast with their next action and its
    owner (``burn_actions``)."""
    data = burning.head(rows).select(
        "account_name",
        "segment",
        "csm_owner",
        "pacing_index",
        "utilization",
        pl.col("adoption_stage").str.replace_all("_", " ").alias("stage"),
        "account_value",
        "action",
    )
    return (
        GT(data)
        .tab_header(title)
        .cols_label(
            **ACCOUNT_LABELS,
            pacing_index="Pacing",
            utilization="Used",
            stage="Adoption stage",
            account_value="Annual value",
            action="Next action",
        )
        .fmt_number("pacing_index", decimals=2)
        .fmt_percent("utilization", decimals=0)
        .fmt_currency("account_value", currency=currency, decimals=0)
        .tab_style(style.text(weight="bold"), loc.body(columns="action"))
        .pipe(_capped, data.height, burning.height, "annual value", ACCOUNTS_FILE)
        .pipe(_empty_note, data.height)
    )


def segment_table(segments: pl.DataFrame, *, currency: str = "USD", note: str | None = None) -> GT:
    """Per segment: accounts, commit, consumed, under/healthy/over shares, TTFBE, GRR and NRR;
    the ``All`` row, when present, reads "All segments" in bold; ``note`` (on GRR and NRR, say)
    under the table."""
    shares = ["share_under", "share_healthy", "share_over"]
    data = segments.select(
        pl.col("segment").replace("All", ALL_SEGMENTS),
        "accounts",
        "commit_total",
        "consumed_to_date_total",
        *shares,
        "median_ttfbe_days",
        "overage_amount",
        "cases_conversation",
        "grr",
        "nrr",
    )
    table = (
        GT(data, rowname_col="segment")
        .tab_header("Segments")
        .cols_label(
            accounts="Accounts",
            commit_total="Commit",
            consumed_to_date_total="Consumed",
            share_under="Under",
            share_healthy="Healthy",
            share_over="Over",
            median_ttfbe_days="Median TTFBE (days)",
            overage_amount="Value past the line",
            cases_conversation="Conversations",
            grr="GRR",
            nrr="NRR",
        )
        .fmt_currency(
            ["commit_total", "consumed_to_date_total", "overage_amount"],
            currency=currency,
            decimals=0,
        )
        .fmt_integer(["accounts", "cases_conversation"])
        .fmt_percent([*shares, "grr", "nrr"], decimals=0)
        .fmt_number("median_ttfbe_days", decimals=0)
        .tab_style(
            style.text(weight="bold"), loc.body(rows=_rows_equal(data["segment"], ALL_SEGMENTS))
        )
    )
    return table if note is None else table.tab_source_note(note)


def reset_comparison_table(
    comparison: pl.DataFrame, *, start: date | None = None, currency: str = "USD"
) -> GT:
    """The reset's before/after: each measure at start_date and at as_of, formatted by its kind
    (shares as percent, amounts as money, days whole, cv to two decimals)."""
    measures = comparison["measure"].to_list()
    table = (
        GT(
            comparison.with_columns(
                pl.col("measure").replace_strict(
                    COMPARISON_LABELS, default=pl.col("measure").str.replace_all("_", " ")
                )
            ),
            rowname_col="measure",
        )
        .tab_header("Reset: where we started and where we are")
        .cols_label(at_start=f"At start{f' ({start:%d %b %Y})' if start else ''}", at_as_of="Now")
        .sub_missing(missing_text="—")
    )
    for kind, rows in _measure_rows(measures).items():
        table = (
            table.fmt_number(["at_start", "at_as_of"], rows=rows, decimals=2)
            if kind == "ratio"
            else _fmt(table, ["at_start", "at_as_of"], kind, currency, rows)
        )
    return table


def _measure_rows(measures: list[str]) -> dict[str, list[int]]:
    """Row indices by display kind, from the measure's name."""
    kinds: dict[str, list[int]] = {}
    for index, measure in enumerate(measures):
        kind = (
            "share"
            if measure.startswith("share")
            else "money"
            if measure.endswith("amount")
            else "days"
            if measure.endswith("days")
            else "ratio"
        )
        kinds.setdefault(kind, []).append(index)
    return kinds


def quarter_table(quarter: pl.DataFrame, comparison: Comparison, *, currency: str = "USD") -> GT:
    """The last complete quarter against the one before, each named
    (``report_data.quarter_comparison``)."""
    table = (
        GT(quarter.select("measure", "previous", "current", "change"), rowname_col="measure")
        .tab_header("The last complete quarter", comparison.label)
        .cols_label(
            previous=comparison.previous.label, current=comparison.current.label, change="Change"
        )
        .fmt_percent("change", decimals=0, force_sign=True)
    )
    rows = {measure: i for i, measure in enumerate(quarter["measure"])}
    money_rows = [rows[m] for m in ("Consumption",) if m in rows]
    unit_rows = [rows[m] for m in ("Cost per outcome",) if m in rows]
    count_rows = [rows[m] for m in ("Outcomes", "Workflows live") if m in rows]
    table = _fmt(table, ["previous", "current"], "money", currency, money_rows)
    if unit_rows:
        table = table.fmt_currency(["previous", "current"], rows=unit_rows, currency=currency)
    return _fmt(table, ["previous", "current"], "count", currency, count_rows)


def options_table(options: pl.DataFrame, *, currency: str = "USD") -> GT:
    """The renewal options over the next term (``report_data.renewal_options``): the commit,
    the cost and what each costs more than the cheapest."""
    return (
        GT(options.select("option", "commit", "cost", "over_cheapest"), rowname_col="option")
        .tab_header("The next term", "Cost of each option at the forecast usage")
        .cols_label(commit="Commit", cost="Cost next term", over_cheapest="More than the cheapest")
        .fmt_currency(["commit", "cost", "over_cheapest"], currency=currency, decimals=0)
    )


def changes_table(changed: pl.DataFrame, *, title: str, empty: str, rows: int = LIST_ROWS) -> GT:
    """The first ``rows`` changes since the previous run (``report_data.changed_accounts``):
    account, what changed, from and to."""
    data = changed.head(rows).select(
        "account_name",
        "segment",
        "csm_owner",
        glossary.value_words("change"),
        *(_change_value(column) for column in ("from", "to")),
    )
    table = (
        GT(data)
        .tab_header(title)
        .cols_label(**ACCOUNT_LABELS, change="Change", **{"from": "Then", "to": "Now"})
    )
    table = _capped(table, data.height, changed.height, "annual value", CHANGES_FILE)
    return _empty_note(table, data.height, empty)


def _change_value(column: str) -> pl.Expr:
    """A change's ``from`` / ``to`` in the workbook's words, a date (went live) as a date."""
    day = pl.col(column).str.to_date("%Y-%m-%d", strict=False).dt.strftime("%d %b %Y")
    return pl.coalesce(day, glossary.change_value_words(column)).alias(column)


def _share_or_count(column: str) -> pl.Expr:
    """A reset value as text: a percentage when the item's target is a share (≤ 1), else a count."""
    value = pl.col(column)
    percent = pl.format("{}%", (value * 100).round(0).cast(pl.Int64))
    count = value.round(1).cast(pl.String).str.strip_suffix(".0")
    return pl.when(pl.col("target") <= 1).then(percent).otherwise(count).alias(column)


def _capped(
    table: GT, shown: int, total: int, by: str, where: str = WORKBOOK, *, first: str = "largest"
) -> GT:
    """A note when the table shows ``shown`` rows of ``total``: how many (the ``first`` by
    ``by``), and where they all are: the run folder's spreadsheet (``WORKBOOK``), never a
    Parquet file."""
    if shown >= total:
        return table
    return table.tab_source_note(
        f"Showing the {shown} {first} of {total:,} by {by}; "
        f"all {total:,} are in the run folder's {where}."
    )


def _empty_note(table: GT, rows: int, text: str = "None at this date.") -> GT:
    return table.tab_source_note(text) if rows == 0 else table


def _band_labels(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(pl.col("band").replace_strict(BAND_LABELS, default=pl.col("band")))


def _color_bands(table: GT, data: pl.DataFrame) -> GT:
    for band, label in BAND_LABELS.items():
        if rows := _rows_equal(data["band"], label):
            table = table.tab_style(
                [style.fill(color=BAND_COLORS[band]), style.text(color="white", weight="bold")],
                loc.body(columns="band", rows=rows),
            )
    return table


def _rows_equal(values: pl.Series, value: str) -> list[int]:
    return [i for i, item in enumerate(values) if item == value]


def _fmt(table: GT, columns: list[str], kind: str, currency: str, rows: list[int]) -> GT:
    if kind == "money":
        return table.fmt_currency(columns, rows=rows, currency=currency, decimals=0)
    if kind == "share":
        return table.fmt_percent(columns, rows=rows, decimals=0)
    return table.fmt_number(columns, rows=rows, decimals=0)


def warned_accounts_table(
    accounts: pl.DataFrame,
    *,
    currency: str = "USD",
    rows: int | None = None,
    title: str | None = None,
) -> GT:
    """One row per account with an early warning: its warnings in words, band, annual value and
    next action when present (``report_data.with_actions``); the first ``rows`` when given;
    "None at this date." when there is none."""
    shown = accounts if rows is None else accounts.head(rows)
    optional = [column for column in ("action",) if column in shown.columns]
    data = _band_labels(
        shown.select(
            "account_name",
            "segment",
            "csm_owner",
            pl.col("early_warnings").list.join(", ").str.replace_all("_", " ").alias("warnings"),
            "band",
            "account_value",
            *optional,
        )
    )
    table = GT(data)
    if title:
        table = table.tab_header(title)
    table = (
        table.cols_label(
            **ACCOUNT_LABELS,
            warnings="Early warnings",
            band="Band",
            account_value="Annual value",
            **({"action": "Next action"} if optional else {}),
        )
        .fmt_currency("account_value", currency=currency, decimals=0)
        .sub_missing(missing_text=MISSING)
    )
    table = _empty_note(_color_bands(table, data), data.height)
    return _capped(
        table, data.height, accounts.height, "annual value", f"{WORKBOOK} (sheet Accounts)"
    )


def story_table(rows: pl.DataFrame) -> GT:
    """The first page's headline figures (``narrative.headline_rows``): figure, now, and what
    it is compared with. No heading: the page's section names it."""
    return (
        GT(rows, rowname_col="figure")
        .cols_label(now="Now", against="Against")
        .tab_style(style.text(weight="bold"), loc.body(columns="now"))
    )


def briefing_table(
    accounts: pl.DataFrame,
    *,
    currency: str = "USD",
    rows: int = LIST_ROWS,
    by: str = "annual value",
) -> GT:
    """A briefing group's first ``rows`` accounts (``report_data.briefing_groups``): band,
    annual value, why, next action. No heading (the section names the group); a note points to
    the workbook when rows are left out."""
    data = _band_labels(
        accounts.head(rows).select(
            "account_name", "segment", "csm_owner", "band", "account_value", "reason", "action"
        )
    )
    table = (
        GT(data)
        .cols_label(
            **ACCOUNT_LABELS,
            band="Band",
            account_value="Annual value",
            reason="Why",
            action="Next action",
        )
        .fmt_currency("account_value", currency=currency, decimals=0)
        .tab_style(style.text(weight="bold"), loc.body(columns="action"))
    )
    table = _color_bands(table, data)
    table = _capped(table, data.height, accounts.height, by, f"{WORKBOOK} (sheet Accounts)")
    return _empty_note(table, data.height)


def reset_plain_table(rows: pl.DataFrame) -> GT:
    """The reset tracker in plain words (``narrative.reset_rows``), status coloured."""
    table = (
        GT(rows, groupname_col="week")
        .cols_label(item="Item", where="Where it stands", due="Due", status_label="Status")
        .cols_hide("status")
    )
    colors = STATUS_COLORS | {"pending": "#7f8c8d"}
    for status, color in colors.items():
        if found := _rows_equal(rows["status"], status):
            table = table.tab_style(
                style.text(color=color, weight="bold"), loc.body(columns="status_label", rows=found)
            )
    return table


def ttfbe_cohorts_table(cohorts: pl.DataFrame) -> GT:
    """Cohort months with n (``report_data.ttfbe_cohort_table``): accounts, live, median days
    to the first billable event, and whether the cohort is claimed on."""
    data = cohorts.select(
        pl.col("cohort_month").dt.strftime("%b %Y").alias("cohort"),
        "accounts",
        "live_accounts",
        "median_ttfbe_days",
        pl.when(pl.col("claimable"))
        .then(pl.lit("yes"))
        .when(~pl.col("mature"))
        .then(pl.lit("no: too recent"))
        .otherwise(pl.lit("no: too few live"))
        .alias("compared"),
    )
    return (
        GT(data)
        .cols_label(
            cohort="Contract start month",
            accounts="Accounts",
            live_accounts="Live",
            median_ttfbe_days="Median days to first billable event",
            compared="Compared",
        )
        .fmt_integer(["accounts", "live_accounts"])
        .fmt_number("median_ttfbe_days", decimals=0)
    )


def funnel_days_table(funnel: pl.DataFrame) -> GT:
    """The funnel with the median days from contract start to each step
    (``report_data.funnel_days``)."""
    return (
        GT(funnel.select("step", "accounts", "share", "median_days"), rowname_col="step")
        .cols_label(
            accounts="Accounts",
            share="Share of contract starts",
            median_days="Median days from contract start",
        )
        .fmt_integer("accounts")
        .fmt_percent("share", decimals=0)
        .fmt_number("median_days", decimals=0)
    )


def stuck_table(stuck: pl.DataFrame, *, rows: int = 8) -> GT:
    """The accounts stuck at each stage (``report_data.stuck_accounts``), the longest stuck
    first, at most ``rows`` per stage: days stuck, CSM and the next action with its owner."""
    shown = stuck.group_by("stage", maintain_order=True).head(rows)
    data = shown.select(
        "stage_label", "account_name", "segment", "csm_owner", "days_stuck", "action"
    )
    table = (
        GT(data, groupname_col="stage_label")
        .cols_label(**ACCOUNT_LABELS, days_stuck="Days stuck", action="Next action")
        .fmt_integer("days_stuck")
        .tab_style(style.text(weight="bold"), loc.body(columns="action"))
    )
    if shown.height < stuck.height:
        table = table.tab_source_note(
            f"Showing at most {rows} per stage, the longest stuck first ({stuck.height:,} in all); "
            f"every account is in the run folder's {WORKBOOK} and its CSM's book."
        )
    return _empty_note(table, data.height, "No account is stuck at any stage.")


def crossing_table(crossing: pl.DataFrame, *, rows: int = LIST_ROWS) -> GT:
    """Meters about to cross their limit this month (``report_data.about_to_cross``): the day,
    the month's end against the limit at the forecast median, the CSM and the next action."""
    data = crossing.head(rows).select(
        "account_name",
        "segment",
        "csm_owner",
        "meter",
        pl.col("crossing_date").dt.strftime("%d %b"),
        "projected_pct_over",
        "action",
    )
    table = (
        GT(data)
        .cols_label(
            **ACCOUNT_LABELS,
            meter="Meter",
            crossing_date="Crosses on",
            projected_pct_over="Month end against the limit",
            action="Next action",
        )
        .fmt_percent("projected_pct_over", decimals=0, force_sign=True)
        .tab_style(style.text(weight="bold"), loc.body(columns="action"))
    )
    where = f"{WORKBOOK} (sheet Limit crossings)"
    table = _capped(table, data.height, crossing.height, "crossing day", where, first="soonest")
    return _empty_note(table, data.height, "No meter is forecast to cross its limit this month.")
