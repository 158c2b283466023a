"""tables.py: builders return new GT objects, format numbers and escape data text."""

from __future__ import annotations

from datetime import date
from html import escape

import polars as pl
import pytest
from great_tables import GT

from _report_run import EVIL_NAME, write_run
from drawdown.reports import data as report_data
from drawdown.reports import tables


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> report_data.RunData:
    return report_data.load_run(write_run(tmp_path_factory.mktemp("run")))


def test_cases_table_escapes_names_and_formats_money(run: report_data.RunData) -> None:
    cases = run["overage_cases"]
    before = cases.clone()
    html = tables.cases_table(cases).as_raw_html()
    assert EVIL_NAME not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "$1,200" in html and "+50%" in html and "unowned" in html
    assert cases.equals(before)


def test_empty_table_says_so(run: report_data.RunData) -> None:
    html = tables.burn_table(
        report_data.burn_actions(run["account_health"].head(0), run["account_actions"], "too_fast"),
        title="x",
    ).as_raw_html()
    assert "None at this date." in html


def test_table_theme_returns_a_new_table(run: report_data.RunData) -> None:
    table = tables.segment_table(report_data.segment_rows(run["segment_summary"]))
    themed = table.pipe(tables.table_theme)
    assert isinstance(themed, GT) and themed is not table


def test_segment_table_carries_a_note_on_retention(run: report_data.RunData) -> None:
    note = "GRR and NRR are not comparable: the year-earlier window holds 9 of its 90 days."
    rows = report_data.segment_rows(run["segment_summary"])
    assert note in tables.segment_table(rows, note=note).as_raw_html()
    assert "not comparable" not in tables.segment_table(rows).as_raw_html()


def test_options_table_shows_what_each_option_costs_over_the_cheapest(
    run: report_data.RunData,
) -> None:
    # A3: right-size to 7300 (cheapest) against renewing at 30000: 22700 more
    options = report_data.renewal_options(run.get("renewal_scenarios"), "A3")
    assert "$22,700" in tables.options_table(options).as_raw_html()


def _copies(frame: pl.DataFrame, n: int) -> pl.DataFrame:
    """``n`` copies of the frame's first row named ``Account 0`` .. ``Account n-1``, in order."""
    return pl.concat([frame.head(1)] * n).with_columns(
        pl.format("Account {}", pl.int_range(pl.len())).alias("account_name")
    )


@pytest.mark.parametrize(
    ("table", "view", "where"),
    [
        ("burn_table", "too_fast", "exports/accounts.xlsx (sheet Accounts)"),
        ("warned_accounts_table", "warnings", "exports/accounts.xlsx (sheet Accounts)"),
        ("cases_table", "overage_cases", "exports/accounts.xlsx (sheet Cases)"),
    ],
)
def test_a_list_of_40_shows_25_and_says_where_the_rest_are(
    run: report_data.RunData, table: str, view: str, where: str
) -> None:
    health = run["account_health"]
    frames = {
        "too_fast": report_data.burn_actions(health, run["account_actions"], "too_fast"),
        "warnings": report_data.warned_accounts(health, run["account_actions"]),
        "overage_cases": run["overage_cases"],
    }
    rows = _copies(frames[view], 40)
    before = rows.clone()
    options = {"title": "x"} if table == "burn_table" else {}
    html = getattr(tables, table)(rows, rows=25, **options).as_raw_html()
    # 40 rows, cap 25: Account 0 .. Account 24 shown, Account 25 .. Account 39 not
    assert "Account 24<" in html and "Account 25<" not in html
    assert "the 25 largest of 40 by" in html and where in html
    assert rows.equals(before)


def test_a_list_under_the_cap_has_no_note(run: report_data.RunData) -> None:
    warned = report_data.warned_accounts(run["account_health"], run["account_actions"])
    html = tables.warned_accounts_table(warned, rows=warned.height).as_raw_html()
    assert "largest of" not in html and escape(warned["account_name"][0]) in html


def test_cases_table_marks_unowned_steps_of_the_shown_cases_only(run: report_data.RunData) -> None:
    # the fixture's first case (A2) has no expansion owner; 40 copies capped at 3
    cases = _copies(run["overage_cases"], 40)
    html = tables.cases_table(cases, rows=3).as_raw_html()
    assert html.count("⚠ unowned") == 3 and "the 3 largest of 40 by priority" in html
    assert "exports/overconsumption_cases.csv" in html


def test_cases_table_says_what_an_empty_list_means(run: report_data.RunData) -> None:
    html = tables.cases_table(run["overage_cases"].head(0), empty="No new case.").as_raw_html()
    assert "No new case." in html and "contractual limits" not in html


def test_a_cut_short_crossing_list_names_the_sheet_that_holds_them_all(
    run: report_data.RunData,
) -> None:
    crossings = report_data.crossings_ahead(
        run["limit_crossing"],
        run["account_health"],
        run["account_actions"],
        run.as_of.replace(day=1),
    )
    html = tables.crossing_table(_copies(crossings, 40), rows=8).as_raw_html()
    assert "Showing the 8 soonest of 40 by crossing day" in html
    assert "exports/accounts.xlsx (sheet Limit crossings)" in html


def test_the_changes_table_shows_values_in_the_workbooks_words_and_dates_as_dates() -> None:
    changed = pl.DataFrame(
        {
            "account_name": ["Umber", "Driftwood"],
            "segment": ["SMB", "SMB"],
            "csm_owner": ["Kim", "Lee"],
            "change": ["went_live", "band_change"],
            "from": [None, "paygo"],
            "to": ["2026-11-12", "not_live"],
        }
    )
    html = tables.changes_table(changed, title="Changes", empty="None.").as_raw_html()
    for shown in ("Went live", "Band change", "12 Nov 2026", "Pay-as-you-go", "Not live"):
        assert f">{shown}<" in html, shown
    assert "2026-11-12" not in html and "paygo" not in html


def test_warned_accounts_table_without_accounts_says_none(run: report_data.RunData) -> None:
    warned = report_data.warned_accounts(run["account_health"], run["account_actions"])
    assert "None at this date." in tables.warned_accounts_table(warned.clear()).as_raw_html()


def test_counts_of_a_thousand_or_more_carry_a_thousands_separator(
    run: report_data.RunData,
) -> None:
    # a 2,000-account book's segment table read "Accounts 1086" and its clinic funnel "1900"
    rows = report_data.segment_rows(run["segment_summary"]).with_columns(
        pl.lit(1086).alias("accounts"), pl.lit(1250).alias("cases_conversation")
    )
    funnel = report_data.funnel_days(run["account_health"]).with_columns(
        pl.lit(1900).alias("accounts")
    )
    cohorts = pl.DataFrame(
        {
            "cohort_month": [date(2026, 6, 1)],
            "accounts": [1200],
            "live_accounts": [1100],
            "median_ttfbe_days": [8.0],
            "claimable": [True],
            "mature": [True],
        }
    )
    for html, counts in (
        (tables.segment_table(rows).as_raw_html(), ("1,086", "1,250")),
        (tables.funnel_days_table(funnel).as_raw_html(), ("1,900",)),
        (tables.ttfbe_cohorts_table(cohorts).as_raw_html(), ("1,200", "1,100")),
    ):
        assert all(f">{count}<" in html for count in counts), counts
