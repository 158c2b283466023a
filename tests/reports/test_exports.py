"""Exports: the CRM case file and the alert digest."""

from datetime import date

import polars as pl

from drawdown.artifacts import SCHEMAS
from drawdown.reports.exports import alert_digest, crm_cases, write_exports


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
        "segment_": None,
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
)


def test_crm_file_holds_conversation_and_unassigned_cases_in_rank_order():
    exported = crm_cases(CASES, "USD")
    assert exported["account_id"].to_list() == ["A1", "A2"]
    assert exported["percent_past_line"].to_list() == [25.0, 25.0]


def test_crm_reason_is_one_line_with_the_numbers():
    reason = crm_cases(CASES, "USD")["reason"][0]
    # 0.25 -> 25.0 %, 1234.5 rounds half up to 1235 (money to the unit in the sentence)
    assert reason == (
        "api_calls is 25.0% past its included quantity (sustained overconsumption over 2 of the "
        "lookback months); USD 1235 past the line"
    )


def test_digest_counts_new_cases_against_last_week():
    previous = CASES.filter(pl.col("account_id") == "A1")
    digest = alert_digest(CASES, previous, date(2026, 11, 15), "USD")
    assert "3 open cases, 2 new since last week; 1 ready for a first conversation." in digest


def test_digest_names_unowned_steps_without_markup():
    digest = alert_digest(CASES, None, date(2026, 11, 15), "USD")
    assert "Unowned steps: 1 cases lack a CSM or an AE (&lt;b&gt;Bolt&lt;/b&gt;)." in digest
    assert "<b>" not in digest


def test_digest_stays_under_400_words_for_a_large_book():
    many = pl.concat([CASES] * 100).with_columns(pl.int_range(1, 301).alias("rank"))
    assert len(alert_digest(many, None, date(2026, 11, 15), "USD").split()) < 400


def test_crm_file_quotes_text_that_starts_like_a_formula_and_keeps_numbers(tmp_path):
    cases = CASES.with_columns(
        pl.Series("account_name", ["=1+1", "-2+3", "Cora"]),
        pl.Series("owner_first_conversation", ["@SUM(A1)", None, "Ana"]),
    )
    write_exports(cases, None, date(2026, 11, 15), "USD", tmp_path)
    crm = pl.read_csv(tmp_path / "overconsumption_cases.csv")
    assert crm["account_name"].to_list() == ["'=1+1", "'-2+3"]
    assert crm["owner_csm"].to_list() == ["'@SUM(A1)", None]
    assert crm["value_past_line"].to_list() == [1234.5, 1234.5]


def test_digest_neutralises_mentions_and_links_in_data_text():
    cases = CASES.with_columns(
        pl.Series("account_name", ["@here see https://evil.example", "b", "c"])
    )
    digest = alert_digest(cases, None, date(2026, 11, 15), "USD")
    assert "@here" not in digest and "https://" not in digest and "evil.example" not in digest
