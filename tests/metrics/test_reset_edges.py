"""The 60-day reset tracker (docs/metrics.md#the-60-day-reset-tracker) at its edges: a status on
its due date and the day after, a target exactly met; the ladder's day 60 on A and a workflow
put live or retired on day 60; budgets, value reviews and clinics on the first and last day of
their windows; the weeks of the clinic as each one begins.

Reset start S = 2024-01-01 (a Monday): week k runs [S + 7(k − 1), S + 7k − 1]; week 5 begins
Jan 29, week 8 ends Feb 25 (S + 55).
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from drawdown.inputs.contract import Book
from drawdown.metrics.reset import (
    budget_share,
    clinic_share,
    due_date,
    reset_status,
    two_workflow_share,
    value_reviews,
)

S = date(2024, 1, 1)
A = date(2024, 3, 15)
DAY = timedelta(days=1)


def _measured(frame: pl.LazyFrame) -> float | None:
    return frame.collect().item()


@pytest.mark.parametrize(
    ("week", "due"),
    [(1, date(2024, 1, 7)), (2, date(2024, 1, 14)), (8, date(2024, 2, 25))],
)
def test_due_date_is_the_last_day_of_the_week(week: int, due: date) -> None:
    # S + 7 x week − 1: week 1 -> Jan 7, week 8 -> Jan 1 + 55 = Feb 25
    assert due_date(S, week) == due


# status at A: pending when nothing can be measured yet (measured null), whatever the due date;
# else done when met; else late when due_date < A; else on_track when progressing
@pytest.mark.parametrize(
    ("direction", "measured", "target", "due", "status"),
    [
        ("at_least", 3.0, 3.0, A - DAY, "done"),  # exactly the target, even past due
        ("at_least", 2.99, 3.0, A, "on_track"),  # due today: not late yet
        ("at_least", 2.99, 3.0, A - DAY, "late"),  # due yesterday
        ("at_least", 0.0, 3.0, A, "not_started"),
        ("at_least", None, 1.0, A, "pending"),
        ("at_least", None, 1.0, A - DAY, "pending"),  # never late: there is nothing to measure
        ("at_most", 14.0, 14.0, A - DAY, "done"),  # exactly the ttfbe target
        ("at_most", 14.5, 14.0, A, "on_track"),  # any measured value is progress
        ("at_most", 14.5, 14.0, A - DAY, "late"),
        ("at_most", None, 14.0, A, "pending"),
        ("at_least", 2.0, None, A, "on_track"),  # no target: never done, still progressing
    ],
)
def test_reset_status_at_its_edges(direction, measured, target, due, status) -> None:
    frame = pl.DataFrame(
        {"direction": [direction], "measured": [measured], "target": [target], "due_date": [due]},
        schema_overrides={"measured": pl.Float64, "target": pl.Float64},
    )
    assert frame.select(reset_status(A)).item() == status


def _health(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, first_contract_start, account_value)."""
    return pl.LazyFrame(
        rows,
        schema={
            "account_id": pl.String,
            "first_contract_start": pl.Date,
            "account_value": pl.Float64,
        },
        orient="row",
    )


def _workflows(*rows: tuple) -> Book:
    """rows: (account_id, production_date, retired_date)."""
    return Book.from_frames(
        workflows=pl.DataFrame(
            [(a, f"w{i}", made, retired) for i, (a, made, retired) in enumerate(rows)],
            schema={
                "account_id": pl.String,
                "workflow_id": pl.String,
                "production_date": pl.Date,
                "retired_date": pl.Date,
            },
            orient="row",
        )
    )


# day 60 = first_contract_start + 60. Started on A − 60: day 60 is A, counted; on A − 59: not yet
DAY_60 = A  # of an account started on A − 60 = 2024-01-15


@pytest.mark.parametrize(
    ("workflows", "share"),
    [
        ([(DAY_60, None), (DAY_60, None)], 1.0),  # both put live on day 60 itself: 2 live
        ([(DAY_60, None), (DAY_60 + DAY, None)], 0.0),  # the second the day after: 1 live
        ([(S, None), (S, DAY_60)], 0.0),  # the second retired on day 60: not live then
        ([(S, None), (S, DAY_60 + DAY)], 1.0),  # retired the day after: still live on day 60
    ],
)
def test_two_workflows_live_on_day_60(workflows: list, share: float) -> None:
    health = _health(("a", A - timedelta(days=60), 1.0))
    book = _workflows(*[("a", made, retired) for made, retired in workflows])
    assert _measured(two_workflow_share(health, book, S, A)) == share


# a started on A − 60 (day 60 = A) with two workflows; b on A − 59 (day 60 = A + 1) with none:
# b is not counted yet -> 1 / 1
def test_ladder_counts_only_accounts_past_day_60() -> None:
    health = _health(("a", A - timedelta(days=60), 1.0), ("b", A - timedelta(days=59), 1.0))
    book = _workflows(("a", S, None), ("a", S, None))
    assert _measured(two_workflow_share(health, book, S, A)) == 1.0


def _budgets(*rows: tuple) -> Book:
    return Book.from_frames(
        budgets=pl.DataFrame(
            rows, schema={"account_id": pl.String, "enabled_date": pl.Date}, orient="row"
        )
    )


# new = first contract on or after S: n_on started on S, its budget enabled on A (counted);
# n_late's budget the day after A (not counted). old started on S − 1 (not new) and is 11th by
# value (t01 … t10 valued 1 … 10, old 0.5): not in the set although budgeted.
def test_budget_share_edges() -> None:
    tops = [(f"t{i:02d}", date(2023, 1, 1), float(i)) for i in range(1, 11)]
    health = _health(("n_on", S, 0.1), ("n_late", S + DAY, 0.1), ("old", S - DAY, 0.5), *tops)
    book = _budgets(("n_on", A), ("n_late", A + DAY), ("old", S), *[(t, S) for t, _, _ in tops])
    # the set: n_on, n_late and the ten t's -> budgeted by A: n_on and the t's = 11 of 12
    assert _measured(budget_share(health, book, S, A)) == pytest.approx(11 / 12, rel=1e-12)


# top ten by account_value, ties by account_id: eleven old accounts valued 5.0, the last (by id)
# out; only it has a budget -> 0 of 10
def test_budget_top_ten_tie_break_by_account_id() -> None:
    health = _health(*[(f"o{i:02d}", date(2023, 1, 1), 5.0) for i in range(1, 12)])
    assert _measured(budget_share(health, _budgets(("o11", S)), S, A)) == 0.0
    assert _measured(budget_share(health, _budgets(("o10", S)), S, A)) == 0.1


def _activities(*rows: tuple) -> Book:
    """rows: (activity_type, activity_date)."""
    return Book.from_frames(
        activities=pl.DataFrame(
            rows, schema={"activity_type": pl.String, "activity_date": pl.Date}, orient="row"
        )
    )


# value reviews in [S, A]: on S and on A count; S − 1 and A + 1 do not; another type does not
def test_value_reviews_window_first_and_last_day() -> None:
    book = _activities(
        ("value_review", S - DAY),
        ("value_review", S),
        ("value_review", A),
        ("value_review", A + DAY),
        ("usage_clinic", S),
    )
    assert _measured(value_reviews(book, S, A)) == 2.0


WEEK_5 = date(2024, 1, 29)  # S + 28


@pytest.mark.parametrize(
    ("as_of", "measured"),
    [
        (WEEK_5 - DAY, None),  # week 5 not begun: nothing to measure
        (WEEK_5, 1.0),  # week 5 begun today, clinic today: 1 / 1
        (WEEK_5 + timedelta(days=6), 1.0),  # week 5's last day: still 1 week begun
        (WEEK_5 + timedelta(days=7), 0.5),  # week 6 begun, no clinic in it: 1 / 2
        (date(2024, 2, 25), 0.5),  # week 8's last day: clinics in weeks 5 and 8 -> 2 / 4
        (date(2024, 3, 31), 0.5),  # after week 8: still 4 weeks; Feb 26 does not count
    ],
)
def test_clinic_weeks_as_each_begins(as_of: date, measured: float | None) -> None:
    book = _activities(
        ("usage_clinic", WEEK_5 - DAY),  # week 4
        ("usage_clinic", WEEK_5),  # week 5's first day
        ("usage_clinic", date(2024, 2, 25)),  # week 8's last day
        ("usage_clinic", date(2024, 2, 26)),  # after week 8
    )
    got = _measured(clinic_share(book, S, as_of))
    assert got == (pytest.approx(measured) if measured is not None else None)


# a past day 60 with two workflows; b past day 60 with no workflow at all: b still counts, with
# 0 live -> 1 / 2
def test_ladder_counts_an_account_without_workflows() -> None:
    health = _health(("a", A - timedelta(days=60), 1.0), ("b", A - timedelta(days=60), 1.0))
    book = _workflows(("a", S, None), ("a", S, None))
    assert _measured(two_workflow_share(health, book, S, A)) == 0.5


# an account without an account_value sorts after every valued one: the top ten are t01 … t10
# (all budgeted), not the unvalued "nv" (no budget) -> 10 / 10
def test_budget_top_ten_leaves_an_unvalued_account_last() -> None:
    tops = [(f"t{i:02d}", date(2023, 1, 1), float(i)) for i in range(1, 11)]
    health = _health(("nv", date(2023, 1, 1), None), *tops)
    book = _budgets(*[(t, S) for t, _, _ in tops])
    assert _measured(budget_share(health, book, S, A)) == 1.0


# week 5 is days 28 … 34 after S: clinics on S + 31 and S + 33 are one week -> 1 / 1 on S + 34
def test_clinics_in_one_week_count_once() -> None:
    book = _activities(
        ("usage_clinic", S + timedelta(days=31)), ("usage_clinic", S + timedelta(days=33))
    )
    assert _measured(clinic_share(book, S, S + timedelta(days=34))) == 1.0


def test_clinic_before_week_five_is_a_null_float() -> None:
    frame = clinic_share(_activities(), S, WEEK_5 - DAY)
    assert frame.collect_schema() == pl.Schema({"measured": pl.Float64})
