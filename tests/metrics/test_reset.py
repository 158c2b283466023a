"""The 60-day reset tracker and its before/after comparison (docs/metrics.md#the-60-day-reset-tracker)."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest

from drawdown.artifacts import SCHEMAS
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.overconsumption import meter_months, overage_cases
from drawdown.metrics.reset import compare_states, reset_comparison, reset_tracker, with_csm_books
from drawdown.params import Params

START = date(2024, 1, 1)
_HEALTH = {
    "account_id": pl.String,
    "csm_owner": pl.String,
    "first_contract_start": pl.Date,
    "ttfbe_days": pl.Int64,
    "account_value": pl.Float64,
    "is_strategic": pl.Boolean,
    "technical_counterpart": pl.String,
}


def _health(*rows: dict) -> pl.LazyFrame:
    """Account-health rows with only the columns the tracker reads; defaults fill the rest."""
    default = {
        "csm_owner": "pat",
        "first_contract_start": date(2023, 1, 1),
        "ttfbe_days": 5,
        "account_value": 1.0,
        "is_strategic": False,
        "technical_counterpart": None,
    }
    return pl.LazyFrame([default | row for row in rows], schema=_HEALTH)


def _book(activities=(), workflows=(), budgets=()) -> Book:
    """activities: (activity_type, day); workflows: (account_id, production, retired);
    budgets: (account_id, enabled_date)."""
    return Book.from_frames(
        activities=pl.DataFrame(
            activities, schema={"activity_type": pl.String, "activity_date": pl.Date}, orient="row"
        ),
        workflows=pl.DataFrame(
            [
                (account, f"w{i}", made, retired)
                for i, (account, made, retired) in enumerate(workflows)
            ],
            schema={
                "account_id": pl.String,
                "workflow_id": pl.String,
                "production_date": pl.Date,
                "retired_date": pl.Date,
            },
            orient="row",
        ),
        budgets=pl.DataFrame(
            budgets, schema={"account_id": pl.String, "enabled_date": pl.Date}, orient="row"
        ),
    )


def _tracker(as_of: date, health=None, book=None, **reset) -> pl.DataFrame:
    params = Params(reset={"start_date": START, **reset})
    health = _health({"account_id": "a"}) if health is None else health
    book = _book() if book is None else book
    return reset_tracker(book, book.usage, health, pl.LazyFrame(), params, as_of).collect()


def _item(tracker: pl.DataFrame, item_id: str) -> dict:
    return tracker.filter(pl.col("item_id") == item_id).row(0, named=True)


def test_no_tracker_without_start_date():
    book = _book()
    tracker = reset_tracker(book, book.usage, _health(), pl.LazyFrame(), Params(), START)
    assert tracker.collect().is_empty()
    assert tracker.collect_schema() == pl.Schema(SCHEMAS["reset_tracker"])


def test_no_comparison_without_start_date():
    book = _book()
    comparison = reset_comparison(book, book.usage, _health(), pl.LazyFrame(), Params(), START)
    assert comparison.collect().is_empty()
    assert comparison.collect_schema() == pl.Schema(SCHEMAS["reset_comparison"])


@pytest.mark.filterwarnings("error")  # the items' rows are given as rows: no orientation guess
def test_items_in_week_order_due_at_the_end_of_their_week():
    # start Jan 1: week 1 ends Jan 7, week 2 Jan 14, week 3 Jan 21, week 4 Jan 28, week 8 Feb 25
    tracker = _tracker(date(2024, 1, 10))
    assert tracker["week"].to_list() == ["1", "2", "2", "3", "4", "5–8", "5–8", "5–8"]
    assert tracker["due_date"].to_list() == [
        date(2024, 1, 7),
        date(2024, 1, 14),
        date(2024, 1, 14),
        date(2024, 1, 21),
        date(2024, 1, 28),
        *[date(2024, 2, 25)] * 3,
    ]


@pytest.mark.parametrize(
    ("as_of", "reviews", "status"),
    [
        (date(2024, 1, 20), 3, "done"),
        (date(2024, 1, 20), 1, "on_track"),
        (date(2024, 1, 20), 0, "not_started"),
        (date(2024, 1, 29), 2, "late"),
        (date(2024, 1, 28), 2, "on_track"),
    ],
)
def test_value_review_status(as_of, reviews, status):
    # target 3 value reviews, due Jan 28; a review before start never counts
    book = _book(
        [("value_review", date(2024, 1, 2))] * reviews + [("value_review", date(2023, 12, 1))]
    )
    item = _item(_tracker(as_of, book=book), "value_reviews")
    assert (item["measured"], item["target"], item["status"]) == (reviews, 3.0, status)


def test_csm_book_item_measures_the_books_written():
    # CSMs pat and lee have active accounts; only pat's book was written -> 1 / 2, late after Jan 7
    health = _health({"account_id": "a"}, {"account_id": "b", "csm_owner": "lee"})
    params = Params(reset={"start_date": START})
    book = _book()
    tracker = reset_tracker(
        book, book.usage, health, pl.LazyFrame(), params, date(2024, 1, 8), ["pat"]
    )
    item = _item(tracker.collect(), "csm_books")
    assert (item["measured"], item["status"]) == (0.5, "late")


def test_csm_books_written_after_the_metrics_complete_item_one():
    # the tracker is computed before the books (not measurable yet: pending, never 0 / late);
    # every CSM's book then -> done
    health = _health({"account_id": "a"}, {"account_id": "b", "csm_owner": "lee"})
    tracker = _tracker(date(2024, 1, 8), health)
    assert (_item(tracker, "csm_books")["measured"], _item(tracker, "csm_books")["status"]) == (
        None,
        "pending",
    )
    updated = with_csm_books(tracker, health.collect(), ["pat", "lee"], date(2024, 1, 8))
    assert (_item(updated, "csm_books")["measured"], _item(updated, "csm_books")["status"]) == (
        1.0,
        "done",
    )
    assert updated.drop("measured", "status").equals(tracker.drop("measured", "status"))
    others = pl.col("item_id") != "csm_books"
    assert updated.filter(others).equals(tracker.filter(others))


def test_a_single_csm_with_a_book_is_done():
    # one CSM (pat) with an active account, her book written -> 1 / 1
    params = Params(reset={"start_date": START})
    book = _book()
    tracker = reset_tracker(
        book, book.usage, _health({"account_id": "a"}), pl.LazyFrame(), params, START, ["pat"]
    )
    item = _item(tracker.collect(), "csm_books")
    assert (item["measured"], item["status"]) == (1.0, "done")


def test_csm_books_measure_a_tracker_of_item_one_alone():
    # with_csm_books on the CSM-book row alone: measured on pat's and lee's books -> 2 / 2, done
    health = _health({"account_id": "a"}, {"account_id": "b", "csm_owner": "lee"})
    row = _tracker(date(2024, 1, 8), health).filter(pl.col("item_id") == "csm_books")
    updated = with_csm_books(row, health.collect(), ["pat", "lee"], date(2024, 1, 8))
    assert updated.select("measured", "status").row(0) == (1.0, "done")


def test_a_run_that_writes_no_book_measures_zero():
    # a run without reports (formats empty) writes no book: item 1 is measured, 0 of 2 CSMs
    health = _health({"account_id": "a"}, {"account_id": "b", "csm_owner": "lee"})
    updated = with_csm_books(
        _tracker(date(2024, 1, 8), health), health.collect(), [], date(2024, 1, 8)
    )
    assert (_item(updated, "csm_books")["measured"], _item(updated, "csm_books")["status"]) == (
        0.0,
        "late",
    )


def test_no_csm_book_without_csms_is_pending_not_late():
    item = _item(
        _tracker(date(2024, 1, 8), _health({"account_id": "a", "csm_owner": None})),
        "csm_books",
    )
    assert (item["measured"], item["status"]) == (None, "pending")


def test_onboarding_ttfbe_is_the_median_of_new_live_accounts():
    # new: 10, 20 and one not live; the old account's 100 is left out -> median 15 > 14 -> late
    health = _health(
        {"account_id": "n1", "first_contract_start": date(2024, 1, 2), "ttfbe_days": 10},
        {"account_id": "n2", "first_contract_start": date(2024, 1, 1), "ttfbe_days": 20},
        {"account_id": "n3", "first_contract_start": date(2024, 1, 9), "ttfbe_days": None},
        {"account_id": "old", "ttfbe_days": 100},
    )
    item = _item(_tracker(date(2024, 1, 20), health), "onboarding_ttfbe")
    assert (item["measured"], item["target"], item["status"]) == (15.0, 14.0, "late")


def test_onboarding_ttfbe_within_target_is_done():
    health = _health(
        {"account_id": "n1", "first_contract_start": date(2024, 1, 2), "ttfbe_days": 14}
    )
    assert _item(_tracker(date(2024, 1, 5), health), "onboarding_ttfbe")["status"] == "done"


def test_two_workflow_share_counts_workflows_live_on_day_60():
    # a started Jan 1 (day 60 = Mar 1): two live -> yes; c started Jan 5 (day 60 = Mar 5): one
    # live, one retired on day 60 -> no; b started Jan 20 (day 60 = Mar 20 > A) is not counted
    health = _health(
        {"account_id": "a", "first_contract_start": date(2024, 1, 1)},
        {"account_id": "b", "first_contract_start": date(2024, 1, 20)},
        {"account_id": "c", "first_contract_start": date(2024, 1, 5)},
    )
    book = _book(
        workflows=[
            ("a", date(2024, 1, 10), None),
            ("a", date(2024, 2, 10), date(2024, 3, 2)),
            ("b", date(2024, 1, 25), None),
            ("b", date(2024, 1, 26), None),
            ("c", date(2024, 1, 10), None),
            ("c", date(2024, 2, 10), date(2024, 3, 5)),
            ("c", date(2024, 3, 6), None),
        ]
    )
    item = _item(_tracker(date(2024, 3, 10), health, book), "two_workflow_ladder")
    assert (item["measured"], item["target"], item["status"]) == (0.5, 0.5, "done")


def test_budget_share_covers_new_accounts_and_the_top_ten():
    # new n1 (budget on Jan 5) and n2 (budget after A); old o1..o11 valued 101..111: top ten
    # o2..o11, budgeted except o11; o1 (not top ten) is left out -> (1 + 9) / 12
    olds = [{"account_id": f"o{i:02d}", "account_value": 100.0 + i} for i in range(1, 12)]
    news = [{"account_id": n, "first_contract_start": date(2024, 1, 2)} for n in ("n1", "n2")]
    budgets = [("n1", date(2024, 1, 5)), ("n2", date(2024, 2, 5))] + [
        (f"o{i:02d}", date(2023, 6, 1)) for i in range(1, 11)
    ]
    item = _item(
        _tracker(date(2024, 1, 25), _health(*olds, *news), _book(budgets=budgets)), "budgets_alerts"
    )
    assert item["measured"] == pytest.approx(10 / 12)
    assert item["status"] == "late"


def test_usage_clinic_share_of_weeks_begun():
    # week 5 = Jan 29-Feb 4, 6 = Feb 5-11, 7 = Feb 12-18; A = Feb 13 -> 3 weeks begun;
    # clinics in week 5 (twice) and week 7; week 3 and after A do not count -> 2 / 3, on track
    book = _book(
        [
            ("usage_clinic", date(2024, 1, 20)),
            ("usage_clinic", date(2024, 1, 30)),
            ("usage_clinic", date(2024, 2, 1)),
            ("usage_clinic", date(2024, 2, 13)),
            ("usage_clinic", date(2024, 2, 14)),
        ]
    )
    item = _item(_tracker(date(2024, 2, 13), book=book), "usage_clinic")
    assert (item["measured"], item["status"]) == (pytest.approx(2 / 3), "on_track")


def test_usage_clinic_pending_before_week_five():
    item = _item(
        _tracker(date(2024, 1, 28), book=_book([("usage_clinic", date(2024, 1, 20))])),
        "usage_clinic",
    )
    assert (item["measured"], item["status"]) == (None, "pending")


def test_technical_counterpart_share_of_strategic_accounts():
    # strategic a (named) and b (blank); c is not strategic -> 1 / 2
    health = _health(
        {"account_id": "a", "is_strategic": True, "technical_counterpart": "lee"},
        {"account_id": "b", "is_strategic": True, "technical_counterpart": " "},
        {"account_id": "c"},
    )
    item = _item(_tracker(date(2024, 3, 1), health), "technical_counterparts")
    assert (item["measured"], item["status"]) == (0.5, "late")


@pytest.mark.parametrize(
    ("weights", "status"),
    [
        ({"retention": 0.4, "adoption": 0.2, "stability": 0.1}, "done"),
        ({"retention": 0.1, "adoption": 0.1, "stability": 0.1}, "on_track"),
    ],
)
def test_comp_weights_against_target(weights, status):
    # 0.7 ≥ 0.6 -> done; 0.3 < 0.6 before Feb 25 -> on track
    item = _item(_tracker(date(2024, 2, 1), comp_weights=weights), "comp_weights")
    assert item["status"] == status


def test_comparison_recomputes_the_state_at_start_date():
    # paygo account, 3100 included in January (100/day), 5100 used on Jan 10 at 1.0 each.
    # At Feb 1: January is over by 2000 -> overage 2000; ttfbe 9 (Jan 1 -> Jan 10); cv over
    # [Jan 5, Feb 1] = one day of x among 28: (x / √28) / (x / 28) = √28.
    # At Apr 30: lookback Feb-Apr has no over month -> 0; the last 28 days are zero -> cv null.
    book = Book.from_frames(
        accounts=pl.DataFrame({"account_id": ["a"], "account_name": ["A"], "segment": ["mid"]}),
        contracts=pl.DataFrame(
            {
                "contract_id": ["c1"],
                "account_id": ["a"],
                "start_date": [date(2024, 1, 1)],
                "end_date": [date(2024, 12, 31)],
                "commit_amount": [0.0],
                "currency": ["USD"],
            }
        ),
        rate_card=pl.DataFrame(
            {
                "contract_id": ["c1"],
                "meter": ["m"],
                "unit_price": [1.0],
                "included_quantity": [3100.0],
            }
        ),
        usage=pl.DataFrame(
            {
                "account_id": ["a"],
                "meter": ["m"],
                "usage_date": [date(2024, 1, 10)],
                "quantity": [5100.0],
            }
        ),
    )
    as_of = date(2024, 4, 30)
    params = Params(reset={"start_date": date(2024, 2, 1)})
    rated = rate_usage(book)
    health = account_health(book, rated, params, as_of)
    cases = overage_cases(meter_months(book, rated, as_of), health, book, params, as_of)
    comparison = reset_comparison(book, rated, health, cases, params, as_of).collect()
    assert comparison["measure"].to_list() == [
        "share_healthy",
        "median_ttfbe_days",
        "overage_amount",
        "median_cv_28d_top_accounts",
    ]
    assert comparison["at_start"].to_list() == pytest.approx([0.0, 9.0, 2000.0, math.sqrt(28)])
    assert comparison["at_as_of"].to_list()[:3] == [0.0, 9.0, 0.0]
    assert comparison["at_as_of"][3] is None


def _state_health(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, account_value, cv_28d); band healthy, ttfbe 5."""
    return pl.LazyFrame(
        [(a, value, cv, "healthy", 5) for a, value, cv in rows],
        schema={
            "account_id": pl.String,
            "account_value": pl.Float64,
            "cv_28d": pl.Float64,
            "band": pl.String,
            "ttfbe_days": pl.Int64,
        },
        orient="row",
    )


def test_comparison_top_accounts_ties_by_id_and_unvalued_last():
    # top 2 by account_value: c (9), then a and b tie at 5 -> a by account_id; n (no value) last.
    # median cv_28d of c and a = (10 + 1) / 2 = 5.5 (b's 3 or n's 100 would make 6.5 or 55)
    health = _state_health(("n", None, 100.0), ("b", 5.0, 3.0), ("a", 5.0, 1.0), ("c", 9.0, 10.0))
    cases = pl.LazyFrame({"overage_amount": [1.0]})
    params = Params(report={"top_accounts": 2})
    comparison = compare_states(health, cases, health, cases, params).collect()
    row = comparison.filter(pl.col("measure") == "median_cv_28d_top_accounts").row(0, named=True)
    assert (row["at_start"], row["at_as_of"]) == (5.5, 5.5)
