"""Periods compared in reports (docs/metrics.md#periods-compared-in-reports): complete calendar
months of equal length, named; A's month only as month-to-date with its projection."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from drawdown.metrics import periods


@pytest.mark.parametrize(
    ("as_of", "label"),
    [
        # mid-month: November is to date, the quarter is Aug-Oct
        (date(2026, 11, 15), "Aug–Oct 2026 against May–Jul 2026"),
        # first day of a month: that month has one day; the quarter still ends before it
        (date(2026, 11, 1), "Aug–Oct 2026 against May–Jul 2026"),
        # last day of a month: October is complete but is A's month, so it is only to date
        (date(2026, 10, 31), "Jul–Sep 2026 against Apr–Jun 2026"),
        # across a year end
        (date(2026, 2, 10), "Nov 2025–Jan 2026 against Aug–Oct 2025"),
        # leap day
        (date(2024, 2, 29), "Nov 2023–Jan 2024 against Aug–Oct 2023"),
    ],
)
def test_quarter_comparison_is_the_three_complete_months_before_as_ofs_month(
    as_of: date, label: str
) -> None:
    assert periods.quarter_comparison(as_of).label == label


def test_quarters_are_whole_months_of_equal_length() -> None:
    comparison = periods.quarter_comparison(date(2026, 11, 15))
    current, previous = comparison.current, comparison.previous
    assert (current.first, current.last) == (date(2026, 8, 1), date(2026, 10, 31))
    assert (previous.first, previous.last) == (date(2026, 5, 1), date(2026, 7, 31))
    # 92 days (Aug 31 + Sep 30 + Oct 31) against 92 (May 31 + Jun 30 + Jul 31)
    assert current.days == previous.days == 92


@pytest.mark.parametrize(
    ("as_of", "label"),
    [
        (date(2026, 11, 15), "Oct 2026 against Sep 2026"),
        (date(2026, 10, 31), "Sep 2026 against Aug 2026"),
        (date(2026, 1, 5), "Dec 2025 against Nov 2025"),
        (date(2024, 3, 1), "Feb 2024 against Jan 2024"),
    ],
)
def test_month_comparison_is_the_last_complete_month_against_the_one_before(
    as_of: date, label: str
) -> None:
    assert periods.month_comparison(as_of).label == label


def test_the_last_complete_month_of_a_leap_year_february() -> None:
    february = periods.complete_months(date(2024, 3, 1), 1)
    assert (february.first, february.last, february.days) == (
        date(2024, 2, 1),
        date(2024, 2, 29),
        29,
    )


@pytest.mark.parametrize(
    ("as_of", "label", "days_left"),
    [
        (date(2026, 11, 15), "1–15 Nov 2026", 15),
        (date(2026, 11, 30), "Nov 2026", 0),
        (date(2024, 2, 28), "1–28 Feb 2024", 1),
        (date(2023, 2, 28), "Feb 2023", 0),
        (date(2026, 12, 1), "1 Dec 2026", 30),
    ],
)
def test_month_to_date_and_the_days_left(as_of: date, label: str, days_left: int) -> None:
    assert periods.month_to_date(as_of).label == label
    assert periods.days_left_in_month(as_of) == days_left


def test_month_projection_adds_the_run_rate_for_the_days_left() -> None:
    # 15 Nov: 1500 to date + 100 a day x 15 days left = 3000
    frame = pl.DataFrame({"month_to_date": [1500.0], "run_rate": [100.0]})
    projected = frame.select(periods.month_projection(date(2026, 11, 15)))
    assert projected["month_projection"].to_list() == [3000.0]


def test_period_holds_its_first_and_last_day() -> None:
    days = pl.DataFrame(
        {"usage_date": [date(2026, 7, 31), date(2026, 8, 1), date(2026, 10, 31), date(2026, 11, 1)]}
    )
    quarter = periods.quarter_comparison(date(2026, 11, 15)).current
    assert days.select(quarter.holds())["usage_date"].to_list() == [False, True, True, False]


@pytest.mark.parametrize(("members", "claimable"), [(4, False), (5, True), (None, False)])
def test_a_group_smaller_than_min_group_is_not_claimed_on(
    members: int | None, claimable: bool
) -> None:
    assert periods.claimable(members, 5) is claimable


def test_shift_months_crosses_year_ends() -> None:
    assert periods.shift_months(date(2026, 1, 1), -2) == date(2025, 11, 1)
    assert periods.shift_months(date(2025, 11, 1), 3) == date(2026, 2, 1)


# the month before A's month, whatever A's day: A on the 1st, mid-month, the last day, January
@pytest.mark.parametrize(
    ("as_of", "month"),
    [
        (date(2026, 11, 1), date(2026, 10, 1)),
        (date(2026, 11, 15), date(2026, 10, 1)),
        (date(2026, 11, 30), date(2026, 10, 1)),
        (date(2027, 1, 10), date(2026, 12, 1)),
    ],
)
def test_last_complete_month(as_of: date, month: date) -> None:
    assert periods.last_complete_month(as_of) == month


@pytest.mark.parametrize(
    ("first", "last", "label"),
    [
        # days across a year end name both years: "17 Dec–15 Mar 2024" read as one winter
        (date(2023, 12, 17), date(2024, 3, 15), "17 Dec 2023–15 Mar 2024"),
        (date(2025, 8, 18), date(2025, 11, 15), "18 Aug–15 Nov 2025"),
        (date(2026, 11, 1), date(2026, 11, 15), "1–15 Nov 2026"),
        # the same month a year apart is not one month
        (date(2024, 11, 20), date(2025, 11, 15), "20 Nov 2024–15 Nov 2025"),
    ],
)
def test_a_period_of_days_names_each_year_it_spans(first: date, last: date, label: str) -> None:
    assert periods.Period(first, last).label == label
