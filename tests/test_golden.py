"""Golden digests: every artifact of ``compute_all`` on the small sample book has the digest it had
before the speed work (rate_usage in one join, the reset comparison from the daily spend).

A digest says *that* a number moved, not which one or whether the new one is right; the small books
below it say what the numbers must be, worked out by hand.
"""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from drawdown.api import compute_all
from drawdown.inputs.contract import Book
from drawdown.metrics import compute_artifacts
from drawdown.params import Params

GOLDEN = {
    "account_actions": "2a19489760c98e69",
    "account_budgets": "f4d4df95c6703a2f",
    "account_health": "70bf1265c615a9fe",
    "account_months": "e8d910d81020fa59",
    "changes": "c8bf84fc5244f2d3",
    "consumption_forecast": "1ebaaccdc80d003c",
    "daily_spend": "70cdcf5a509fad0d",
    "forecast_backtest": "40e99b0648d51e33",
    "limit_crossing": "416606ef77e0c7b9",
    "meter_months": "463dea3b240d40f5",
    "overage_cases": "b47f7a3596df901e",
    "renewal_scenarios": "16f13511aca940f5",
    "reset_comparison": "6b3965e103cfab12",
    "reset_tracker": "ed09175eae8e51a1",
    "segment_summary": "8eef1ce31a1f6032",
    "ttfbe_cohorts": "78bf1a66a0d8bbde",
}
"""sha256 (first 16 hex digits) of each artifact as NDJSON, computed before the speed work on the
``small_book`` fixture (80 accounts, 500 days, seed 11) with reset.start_date 2026-10-05.
account_actions and changes came later; meter_months gained its ``pattern`` column then (its
other columns still have the digest 3309e986d7cb56b5). The forecasts added consumption_forecast,
forecast_backtest, limit_crossing, renewal_scenarios and four exhaustion columns to account_health
(its other columns still have the digest 0cee3cf77242a7a1). The CSM books added account_health's
two_workflows_date (its other columns still have the digest 55985f4ca10ec00e) and reset_tracker's
``pending`` status and csm_books item; the prep sheet added account_budgets, whose month_to_date
became an exact sum later (it was a float sum, whose last bit followed the order of the days).
csm_books is ``pending`` in compute_all (no CSM book is written there; it was 0 / late): measured
on zero books written, reset_tracker still has the digest 167f1ebe1ddda0c7.
consumption_forecast had the digest 38e8b7e18dae7cc9 until a weekday of one day in the window
added no variance (it added c² − c² as left in the fixed point): A00018's p10 and p90, in the
last bit."""


def _digest(frame) -> str:
    return hashlib.sha256(frame.write_ndjson().encode()).hexdigest()[:16]


def test_compute_all_artifacts_match_the_golden_digests(small_book: Path) -> None:
    artifacts = compute_all(small_book, {"reset": {"start_date": "2026-10-05"}})
    assert {name: _digest(frame) for name, frame in artifacts.tables.items()} == GOLDEN


# --- the small golden book, worked by hand -------------------------------------------------------
#
# A = 2024-04-30, reset from 2024-04-01. Meter m at unit price 1.
#   a: commit 3660 over 2024 (366 days: 10 a day is the straight line), 10 a day from Jan 1;
#      300 included a month (overage price = unit price). No CSM, no workflows.
#   b: pay-as-you-go from 2024-02-01, 4 a day from Feb 11 (ttfbe 10).
#   c: pay-as-you-go from 2024-04-01, 1 a day from Apr 25 (ttfbe 24): live since the run of
#      A − 7 = Apr 23, which is what "changes" compares with.

GOLDEN_AS_OF = date(2024, 4, 30)


def _golden_book() -> Book:
    contracts = [
        ("c_a", "a", date(2024, 1, 1), date(2024, 12, 31), 3660.0),
        ("c_b", "b", date(2024, 2, 1), None, 0.0),
        ("c_c", "c", date(2024, 4, 1), None, 0.0),
    ]
    spend = [
        ("a", date(2024, 1, 1), 10.0),
        ("b", date(2024, 2, 11), 4.0),
        ("c", date(2024, 4, 25), 1.0),
    ]
    usage = pl.concat(
        pl.DataFrame({"usage_date": pl.date_range(first, GOLDEN_AS_OF, eager=True)}).with_columns(
            account_id=pl.lit(account), meter=pl.lit("m"), quantity=pl.lit(quantity)
        )
        for account, first, quantity in spend
    )
    return Book.from_frames(
        accounts=pl.DataFrame({"account_id": ["a", "b", "c"], "segment": "mid"}),
        contracts=pl.DataFrame(
            contracts,
            schema=["contract_id", "account_id", "start_date", "end_date", "commit_amount"],
            schema_overrides={"end_date": pl.Date},
            orient="row",
        ).with_columns(currency=pl.lit("USD")),
        rate_card=pl.DataFrame(
            {
                "contract_id": ["c_a", "c_b", "c_c"],
                "meter": "m",
                "unit_price": 1.0,
                "included_quantity": [300.0, None, None],
            }
        ),
        usage=usage.select("account_id", "meter", "usage_date", "quantity"),
    )


@pytest.fixture(scope="module")
def golden() -> dict[str, pl.DataFrame]:
    params = Params.model_validate({"as_of": GOLDEN_AS_OF, "reset": {"start_date": "2024-04-01"}})
    return compute_artifacts(_golden_book(), params)


def test_small_book_daily_spend(golden: dict) -> None:
    # a: Jan 1 … Apr 30 = 31 + 29 + 31 + 30 = 121 days x 10; b: Feb 11 … Apr 30 = 19 + 31 + 30
    # = 80 days x 4; c: Apr 25 … 30 = 6 days x 1
    totals = golden["daily_spend"].group_by("account_id").agg(pl.len(), pl.col("amount").sum())
    assert sorted(totals.rows()) == [("a", 121, 1210.0), ("b", 80, 320.0), ("c", 6, 6.0)]


# a: consumed 1210 of 3660 over 121 of 366 days: utilization = elapsed_fraction = 0.3306,
# pacing 1.0; run rate 10; remaining Apr 30 → Dec 31 = 245 days; projected 1210 + 2450 = 3660
# -> 1.0 healthy; exhaustion A + ceil(2450 / 10) = A + 245 = Dec 31 = term_end -> True;
# account_value 3660 x 365 / 366 = 3650
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("consumed_to_date", 1210.0),
        ("utilization", 1210 / 3660),
        ("elapsed_fraction", 121 / 366),
        ("pacing_index", 1.0),
        ("run_rate", 10.0),
        ("remaining_days", 245),
        ("projected_utilization", 1.0),
        ("band", "healthy"),
        ("burn", "on_pace"),
        ("exhaustion_date", date(2024, 12, 31)),
        ("exhausts_before_term_end", True),
        ("account_value", 3650.0),
        ("ttfbe_days", 0),
        ("cv_28d", 0.0),
        ("adoption_stage", "first_billable"),
        ("early_warnings", []),
    ],
)
def test_small_book_account_health_of_a(golden: dict, column: str, expected) -> None:
    row = golden["account_health"].filter(pl.col("account_id") == "a").row(0, named=True)
    assert row[column] == (pytest.approx(expected) if isinstance(expected, float) else expected)


# b, c: pay-as-you-go; account_value = Σ over [A − 364, A]: b 320, c 6; ttfbe 10 and 24
@pytest.mark.parametrize(
    ("account", "expected"), [("b", ("paygo", 320.0, 10, None)), ("c", ("paygo", 6.0, 24, None))]
)
def test_small_book_account_health_of_paygo(golden: dict, account: str, expected: tuple) -> None:
    row = golden["account_health"].filter(pl.col("account_id") == account)
    assert row.select("band", "account_value", "ttfbe_days", "burn").row(0) == expected


def test_small_book_account_months(golden: dict) -> None:
    # a: 31, 29, 31, 30 days x 10; b from Feb (its first contract): 19, 31, 30 days x 4
    months = golden["account_months"].filter(pl.col("account_id") != "c")
    assert months.select("account_id", "amount").rows() == [
        ("a", 310.0),
        ("a", 290.0),
        ("a", 310.0),
        ("a", 300.0),
        ("b", 76.0),
        ("b", 124.0),
        ("b", 120.0),
    ]


def test_small_book_meter_months(golden: dict) -> None:
    # limit 300 every month (300 / days x days); usage 310, 290, 310, 300: over in Jan and Mar
    # (April exactly at the line is not over); the meter's lookback pattern (Feb–Apr) is emerging
    months = golden["meter_months"]
    assert months.select("usage", "limit", "is_over", "pattern").rows() == [
        (310.0, pytest.approx(300.0), True, "emerging"),
        (290.0, pytest.approx(300.0), False, "emerging"),
        (310.0, pytest.approx(300.0), True, "emerging"),
        (300.0, pytest.approx(300.0), False, "emerging"),
    ]


def test_small_book_overage_case(golden: dict) -> None:
    # lookback Feb–Apr: March only (January is before it): months_over 1; typical = median 10 x 31
    # = 310 > 300 -> emerging, so watch; pct_over 10 / 300; overage 10 x 1.0; priority 3650 / 30
    case = golden["overage_cases"].row(0, named=True)
    assert golden["overage_cases"].height == 1
    assert (case["account_id"], case["pattern"], case["months_over"], case["triage"]) == (
        "a",
        "emerging",
        1,
        "watch",
    )
    assert (case["pct_over"], case["overage_amount"], case["priority_score"]) == (
        pytest.approx(1 / 30),
        pytest.approx(10.0),
        pytest.approx(3650 / 30),
    )


def test_small_book_segment_summary(golden: dict) -> None:
    # 3 accounts, commit 3660, consumed 1210 + 320 + 6 = 1536; a healthy, b and c paygo;
    # ttfbe 0, 10, 24: median 10, p75 10 + 0.5 x 14 = 17; overage 10; no conversation
    rows = golden["segment_summary"].select(
        "segment",
        "accounts",
        "commit_total",
        "consumed_to_date_total",
        "share_paygo",
        "share_healthy",
        "median_ttfbe_days",
        "p75_ttfbe_days",
        "overage_amount",
        "cases_conversation",
    )
    expected = (3, 3660.0, 1536.0, pytest.approx(2 / 3), pytest.approx(1 / 3), 10.0, 17.0, 10.0, 0)
    assert rows.rows() == [("mid", *expected), ("All", *expected)]


def test_small_book_ttfbe_cohorts(golden: dict) -> None:
    # one account a cohort: Jan (a, 0 days), Feb (b, 10), Apr (c, 24 > 14)
    cohorts = golden["ttfbe_cohorts"].select(
        "cohort_month", "median_ttfbe_days", "share_live_within_target"
    )
    assert cohorts.rows() == [
        (date(2024, 1, 1), 0.0, 1.0),
        (date(2024, 2, 1), 10.0, 1.0),
        (date(2024, 4, 1), 24.0, 0.0),
    ]


def test_small_book_account_actions(golden: dict) -> None:
    # no warning, all live with no workflow: second_workflow; a's case is only watched.
    # quarters Jan–Mar against Oct–Dec 2023: a 310 + 290 + 310 = 910 against 0 (change null),
    # b 76 + 124 = 200, c nothing yet
    actions = golden["account_actions"].select(
        "account_id", "next_action", "consumption_last_quarter", "consumption_change"
    )
    assert actions.rows() == [
        ("a", "second_workflow", 910.0, None),
        ("b", "second_workflow", 200.0, None),
        ("c", "second_workflow", 0.0, None),
    ]


def test_small_book_changes(golden: dict) -> None:
    # against the book as of Apr 23: only c went live (Apr 25); a's case and bands did not move
    assert golden["changes"].select("account_id", "change", "from", "to").rows() == [
        ("c", "went_live", None, "2024-04-25")
    ]


def test_small_book_reset_tracker(golden: dict) -> None:
    # start Apr 1: due Apr 7, 14, 14, 21, 28, May 26 (x3). No CSM named: no CSM book can exist
    # yet (pending); new accounts = {c}: median ttfbe 24 > 14 (late); c's day 60 (May 31) is
    # after A (nothing to measure: pending);
    # budgets: none of {c} ∪ top ten {a, b, c} (0, late); no value review (late); week 5 begins
    # Apr 29: 1 week, no clinic (0, not yet due: not started); no strategic account (pending);
    # comp weights 0.3 + 0.2 + 0.1 = 0.6 ≥ 0.6 (done)
    tracker = golden["reset_tracker"].select("item_id", "measured", "status")
    assert tracker.rows() == [
        ("csm_books", None, "pending"),
        ("onboarding_ttfbe", 24.0, "late"),
        ("two_workflow_ladder", None, "pending"),
        ("budgets_alerts", 0.0, "late"),
        ("value_reviews", 0.0, "late"),
        ("usage_clinic", 0.0, "not_started"),
        ("technical_counterparts", None, "pending"),
        ("comp_weights", pytest.approx(0.6), "done"),
    ]


def test_small_book_reset_comparison(golden: dict) -> None:
    # Apr 1: a healthy (920 + 10 x 274 = 3660), b and c paygo -> 1/3; ttfbe 0 and 10 (c not
    # live) -> 5; March over by 10 -> 10. At A: 1/3; ttfbe 0, 10, 24 -> 10; 10. cv of the top
    # accounts: a and b flat (0), c none at Apr 1 / six days of 28 at A -> median 0 both times
    rows = golden["reset_comparison"].rows()
    assert rows == [
        ("share_healthy", pytest.approx(1 / 3), pytest.approx(1 / 3)),
        ("median_ttfbe_days", 5.0, 10.0),
        ("overage_amount", pytest.approx(10.0), pytest.approx(10.0)),
        ("median_cv_28d_top_accounts", 0.0, 0.0),
    ]


# Forecasts (docs/forecasts.md): every account's spend is flat, so each weekday mean is its daily
# level and the spread is 0: p10 = p50 = p90 = level x h. a: 10 x 28 = 280 and 10 x 245 = 2450;
# b (term Feb 1 2024 … Jan 31 2025, 276 days left): 4 x 28 = 112, 4 x 276 = 1104;
# c (six days seen, the unseen Wednesday takes the mean 1; 335 days left): 28 and 335
def test_small_book_consumption_forecast(golden: dict) -> None:
    rows = golden["consumption_forecast"].select("account_id", "horizon_days", "p10", "p50", "p90")
    expected = [("a", 28, 280.0), ("a", 245, 2450.0), ("b", 28, 112.0), ("b", 276, 1104.0)]
    expected += [("c", 28, 28.0), ("c", 335, 335.0)]
    got = sorted(rows.rows())
    assert [(a, h, p50) for a, h, _, p50, _ in got] == [
        (a, h, pytest.approx(v)) for a, h, v in expected
    ]
    assert all(p10 == p50 == p90 for _, _, p10, p50, p90 in got)


# a: R = 3660 − 1210 = 2450 left at m = 10 a day with s = 0: every path takes 245 days -> Dec 31;
# P(Σ over the 245 days ≥ 2450) with no spread: 2450 ≥ 2450 holds exactly -> 1.0
def test_small_book_exhaustion_quantiles(golden: dict) -> None:
    health = golden["account_health"].filter(pl.col("account_id") == "a")
    assert health.select(
        "exhaustion_p10", "exhaustion_p50", "exhaustion_p90", "p_exhaust_before_term_end"
    ).row(0) == (date(2024, 12, 31), date(2024, 12, 31), date(2024, 12, 31), 1.0)
