"""Exports: the CRM case file and the alert digest."""

import html
import re
from datetime import date

import polars as pl
import pytest

from drawdown.artifacts import SCHEMAS
from drawdown.reports.exports import CRM_COLUMNS, alert_digest, crm_cases, write_exports

AS_OF = date(2026, 11, 15)


def _cases(*rows: dict) -> pl.DataFrame:
    defaults = {
        "segment": "Enterprise",
        "meter": "api_calls",
        "pct_over": 0.25,
        "pattern": "sustained",
        "meters_over": 1,
        "months_over": 2,
        "latest_over_month": date(2026, 11, 1),
        "overage_amount": 1234.5,
        "account_value": 50000.0,
        "priority_score": 12500.0,
        "owner_detect": "system",
        "owner_first_conversation": "Ana",
        "owner_expansion": "Bo",
        "missing_owners": [],
        "status": None,
    }
    full = [{**defaults, **row} for row in rows]
    return pl.DataFrame(
        [{k: r.get(k) for k in SCHEMAS["overage_cases"]} for r in full],
        schema=SCHEMAS["overage_cases"],
    )


CASES = _cases(
    {"rank": 1, "account_id": "A1", "account_name": "Acme", "triage": "conversation"},
    {
        "rank": 2,
        "account_id": "A2",
        "account_name": "<b>Bolt</b>",
        "triage": "unassigned",
        "owner_first_conversation": None,
        "missing_owners": ["first_conversation"],
    },
    {
        "rank": 3,
        "account_id": "A3",
        "account_name": "Cora",
        "triage": "watch",
        "pattern": "emerging",
    },
    {
        "rank": 4,
        "account_id": "A4",
        "account_name": "Dune",
        "triage": "conversation",
        "status": "scope_reduction",
    },
    {
        "rank": 5,
        "account_id": "A5",
        "account_name": "Echo",
        "triage": "conversation",
        "meter": "storage_gb",
        "status": "expansion_opportunity",
        "owner_expansion": None,
        "missing_owners": ["expansion"],
    },
)

ACTIONS = pl.DataFrame(
    [
        ("A1", "open_conversation", "Ana", "csm", 90, "api_calls is 25% past its limit."),
        ("A2", "open_conversation", None, "csm", 40, "api_calls is 25% past; no CSM."),
        ("A3", "rescue", "Cy", "csm", 30, "Early warning: usage drop."),
        ("A4", "cost_review", "Tess", "technical_counterpart", 200, "Burning too fast."),
        ("A5", "expansion", None, "ae", 12, "storage_gb is 25% past its limit."),
    ],
    schema=list(SCHEMAS["account_actions"])[:6],
    orient="row",
).with_columns(
    consumption_last_quarter=pl.lit(0.0),
    consumption_prior_quarter=pl.lit(0.0),
    consumption_change=pl.lit(None, dtype=pl.Float64),
)

CHANGES = pl.DataFrame(
    {
        "account_id": ["A5", "A9", "A3"],
        "change": ["new_case", "resolved", "band_change"],
        "from": [None, "spike", "healthy"],
        "to": ["sustained", None, "under"],
        "previous_as_of": [date(2026, 11, 8)] * 3,
    },
    schema=SCHEMAS["changes"],
)


def _crm() -> pl.DataFrame:
    return crm_cases(CASES, ACTIONS, AS_OF, "USD")


def test_crm_file_has_the_documented_columns_in_order():
    assert tuple(_crm().columns) == CRM_COLUMNS


def test_crm_file_holds_open_conversation_and_unassigned_cases_in_rank_order():
    # A3 is only watched; A4's customer reduced scope: the case is closed for this motion
    assert _crm()["account_id"].to_list() == ["A1", "A2", "A5"]


def test_a_scope_reduction_case_is_never_exported_whatever_its_triage():
    closed = CASES.with_columns(status=pl.lit("scope_reduction"))
    assert crm_cases(closed, ACTIONS, AS_OF, "USD").height == 0


def test_crm_case_key_is_stable_account_and_meter():
    assert _crm()["case_key"].to_list() == ["A1|api_calls", "A2|api_calls", "A5|storage_gb"]


def test_crm_rows_carry_as_of_currency_status_and_the_next_action_of_the_artifact():
    row = _crm().row(2, named=True)
    assert (row["as_of"], row["currency"], row["status"]) == (AS_OF, "USD", "expansion_opportunity")
    assert (row["next_action"], row["next_action_owner"], row["next_action_owner_role"]) == (
        "expansion",
        None,
        "ae",
    )
    assert row["next_action_reason"] == "storage_gb is 25% past its limit."
    assert row["days_to_renewal"] == 12


def test_crm_names_every_step_owner_and_the_missing_ones():
    rows = _crm().select(
        "owner_detect", "owner_first_conversation", "owner_expansion", "missing_owners"
    )
    assert rows.rows() == [
        ("system", "Ana", "Bo", ""),
        ("system", None, "Bo", "first_conversation"),
        ("system", "Ana", None, "expansion"),
    ]


def test_crm_amounts_are_numbers():
    crm = _crm()
    # 0.25 -> 25.0 (percent), 1234.5 stays 1234.5 (cents)
    assert crm.schema["percent_past_line"] == pl.Float64 and crm["percent_past_line"][0] == 25.0
    assert crm.schema["value_past_line"] == pl.Float64 and crm["value_past_line"][0] == 1234.5
    assert crm.schema["account_value"] == pl.Float64


def test_digest_leads_with_what_changed():
    digest = alert_digest(CASES, ACTIONS, CHANGES, AS_OF, "USD")
    lines = [line for line in digest.splitlines() if line]
    assert lines[1] == (
        "Since the previous run (as of 2026-11-08): new cases 1, escalated 0, resolved 1, "
        "went live 0, band changes 1, burn changes 0."
    )
    # 5 cases x 1234.5 = 6172.5 past the line; A1, A4, A5 are triaged conversation
    assert lines[2] == (
        "5 open cases (+1 new, −1 resolved) carry USD 6,172 past the line; 3 ready for a first "
        "conversation."
    )


def test_digest_of_a_first_run_says_it_compares_with_the_book_a_week_earlier():
    digest = alert_digest(CASES, ACTIONS, CHANGES, AS_OF, "USD", with_run=False)
    assert digest.splitlines()[2].startswith(
        "Since the book a week earlier (as of 2026-11-08; no earlier run to compare with): "
        "new cases 1,"
    )
    assert "previous run" not in digest


def test_digest_totals_without_new_or_resolved_cases_repeat_no_zeros():
    # "136 open cases (+0 new, −0 resolved)" under a line that already said "new cases 0 …
    # resolved 0"; and one case read "1 open cases … 1 cases lack"
    quiet = CHANGES.filter(pl.col("change") == "band_change")
    one = CASES.head(2).filter(pl.col("account_id") == "A2")
    lines = alert_digest(one, ACTIONS, quiet, AS_OF, "USD").splitlines()
    assert "1 open case carries USD 1,234 past the line; 0 ready for a first conversation." in lines
    assert any(line.startswith("Unowned steps: 1 case lacks a CSM or an AE") for line in lines)


def test_digest_cases_carry_their_next_action_and_owner():
    digest = alert_digest(CASES, ACTIONS, CHANGES, AS_OF, "USD")
    assert "next: Open the conversation (Ana, CSM)" in digest
    assert "next: Expansion (no AE named)" in digest


def test_digest_without_changes_states_the_totals_only():
    digest = alert_digest(CASES, ACTIONS, None, AS_OF, "USD")
    assert "Since the previous run" not in digest and "5 open cases carry" in digest


def test_digest_names_unowned_steps_without_markup():
    digest = alert_digest(CASES, ACTIONS, None, AS_OF, "USD")
    assert "Unowned steps: 2 cases lack a CSM or an AE (&lt;b&gt;Bolt&lt;/b&gt;, Echo)." in digest
    assert "<b>" not in digest


def test_digest_stays_under_400_words_for_a_large_book():
    many = pl.concat([CASES] * 60).with_columns(pl.int_range(1, 301).alias("rank"))
    assert len(alert_digest(many, ACTIONS, CHANGES, AS_OF, "USD").split()) < 400


def test_crm_file_quotes_text_that_starts_like_a_formula_and_keeps_numbers(tmp_path):
    cases = CASES.head(3).with_columns(
        pl.Series("account_name", ["=1+1", "-2+3", "Cora"]),
        pl.Series("owner_first_conversation", ["@SUM(A1)", None, "Ana"]),
    )
    actions = ACTIONS.with_columns(pl.col("reason").str.replace(r"^", "+"))
    write_exports(cases, actions, None, AS_OF, "USD", tmp_path)
    crm = pl.read_csv(tmp_path / "overconsumption_cases.csv")
    assert crm["account_name"].to_list() == ["'=1+1", "'-2+3"]
    assert crm["owner_first_conversation"].to_list() == ["'@SUM(A1)", None]
    assert crm["next_action_reason"][0] == "'+api_calls is 25% past its limit."
    assert crm["value_past_line"].to_list() == [1234.5, 1234.5]


def test_digest_neutralises_mentions_and_links_in_data_text():
    cases = CASES.with_columns(
        pl.Series("account_name", ["@here see https://evil.example", "b", "c", "d", "e"])
    )
    digest = alert_digest(cases, ACTIONS, CHANGES, AS_OF, "USD")
    assert "@here" not in digest and "https://" not in digest and "evil.example" not in digest


def _workbook_xml(path) -> dict[str, str]:
    import zipfile

    with zipfile.ZipFile(path) as book:
        return {
            name: book.read(name).decode("utf-8")
            for name in book.namelist()
            if name.startswith("xl/") and name.endswith(".xml")
        }


def _workbook(tmp_path, currency: str = "USD"):
    from _report_run import write_run
    from drawdown.reports import data as report_data
    from drawdown.reports.exports import workbook_sheets, write_workbook

    run = report_data.load_run(write_run(tmp_path / "run"))
    sheets = workbook_sheets(
        run["account_health"],
        run["account_actions"],
        run["overage_cases"],
        run["segment_summary"],
        run.get("changes"),
        run.get("account_budgets"),
    )
    return write_workbook(sheets, tmp_path / "accounts.xlsx", currency), sheets


def test_the_workbook_has_one_sheet_per_table_with_a_frozen_header(tmp_path) -> None:
    path, sheets = _workbook(tmp_path)
    xml = _workbook_xml(path)
    names = re.findall(r'<sheet name="([^"]+)"', xml["xl/workbook.xml"])
    assert names == ["Accounts", "Cases", "Changes", "Segments"] == list(sheets)
    panes = [text for name, text in xml.items() if name.startswith("xl/worksheets/sheet")]
    assert all('ySplit="1"' in text and 'state="frozen"' in text for text in panes)


def test_the_workbook_headers_and_values_are_words(tmp_path) -> None:
    path, _ = _workbook(tmp_path)
    xml = _workbook_xml(path)
    headers = xml["xl/sharedStrings.xml"]  # the data rows' texts are inline strings in the sheets
    assert "Projected use at term end" in headers and "Next action" in headers
    strings = "".join(text for name, text in xml.items() if name.startswith("xl/worksheets/"))
    assert "Open the conversation" in strings and "Pay-as-you-go" in strings
    codes = set(re.findall(r">([a-z]+_[a-z_]+)<", strings))
    assert codes <= {"api_calls", "storage_gb"}  # meter names are the customer's data


@pytest.mark.parametrize(("currency", "money"), [("USD", '"$"#,##0'), ("EUR", '#,##0 "EUR"')])
def test_the_workbook_formats_money_in_the_currency_and_shares_as_percent(
    tmp_path, currency: str, money: str
) -> None:
    path, _ = _workbook(tmp_path, currency)
    styles = html.unescape(_workbook_xml(path)["xl/styles.xml"])
    assert f'formatCode="{money}"' in styles and 'formatCode="0%"' in styles


def test_the_accounts_sheet_has_every_account_with_its_action(tmp_path) -> None:
    _, sheets = _workbook(tmp_path)
    accounts = sheets["Accounts"]
    # five accounts, most valuable first (A1 commit 120000); every one has a next action
    assert accounts.height == 5 and accounts["account_id"][0] == "A1"
    assert accounts["next_action"].null_count() == 0
    assert accounts.filter(pl.col("account_id") == "A1")["monthly_budget"].item() == 12000.0


def test_the_limit_crossings_sheet_holds_every_crossing_the_reports_list(tmp_path) -> None:
    from _report_run import write_run
    from drawdown.reports import data as report_data
    from drawdown.reports.exports import workbook_sheets, write_workbook

    run = report_data.load_run(write_run(tmp_path / "run"))
    health, actions = run["account_health"], run["account_actions"]
    # seen on 9 April, both meters are still to cross: A2's on the 10th, A1's on the 28th
    crossings = report_data.crossings_ahead(
        run["limit_crossing"], health, actions, date(2026, 4, 9)
    )
    sheets = workbook_sheets(
        health, actions, run["overage_cases"], run["segment_summary"], crossings=crossings
    )
    xml = _workbook_xml(write_workbook(sheets, tmp_path / "accounts.xlsx", "USD"))
    assert re.findall(r'<sheet name="([^"]+)"', xml["xl/workbook.xml"])[-1] == "Limit crossings"
    sheet = sheets["Limit crossings"]
    assert sheet["account_id"].to_list() == ["A2", "A1"]
    assert sheet["crossing_date"].to_list() == [date(2026, 4, 10), date(2026, 4, 28)]
    assert sheet["next_action"].null_count() == 0
    assert "Crosses the limit on" in xml["xl/sharedStrings.xml"]


def test_digest_of_a_quiet_first_run_states_no_date_it_does_not_know():
    # no change at all: the changes have no row to carry the day compared with
    quiet = CHANGES.clear()
    digest = alert_digest(CASES, ACTIONS, quiet, AS_OF, "USD", with_run=False)
    assert digest.splitlines()[2].startswith(
        "Since the book a week earlier (no earlier run to compare with): new cases 0,"
    )
    assert "None" not in digest
