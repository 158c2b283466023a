"""Periods compared in reports (docs/metrics.md#periods-compared-in-reports).

Every "this period against the last" figure compares **complete** calendar months, periods of
equal length, and names them ("Aug–Oct 2026 against May–Jul 2026"). A's own month is never one
of them, even when A is its last day: it is shown only as month-to-date, beside its projection
(month-to-date + run_rate × the days left in the month). A group with fewer than
``report.min_group`` members is shown with its n and never used for a claim.

Every comparison of drawdown — the next action's quarter figures, the account review, the
executive review, the clinic and the digest — takes its periods from here.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

QUARTER_MONTHS = 3
DASH = "–"


def shift_months(first_of_month: date, months: int) -> date:
    """The first day of the month ``months`` calendar months after ``first_of_month``'s (negative:
    before). ``shift_months(date(2026, 1, 1), -2)`` is 2025-11-01."""
    index = first_of_month.year * 12 + first_of_month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_end(first_of_month: date) -> date:
    """The last day of ``first_of_month``'s month (29 February in a leap year)."""
    days = calendar.monthrange(first_of_month.year, first_of_month.month)[1]
    return first_of_month.replace(day=days)


@dataclass(frozen=True)
class Period:
    """The days [first, last], both included, and the name a reader sees."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        """``Oct 2026`` (one whole month), ``Aug–Oct 2026`` (months of one year),
        ``Nov 2025–Jan 2026`` (across a year end), ``1–15 Nov 2026`` (part of a month),
        ``18 Aug–15 Nov 2025`` and ``17 Dec 2023–15 Mar 2024`` (days), ``1 Dec 2026`` (one
        day)."""
        first, last = self.first, self.last
        if first == last:
            return f"{first.day} {first:%b %Y}"
        if first.day != 1 or last != month_end(last.replace(day=1)):
            if first.year != last.year:
                start = f"{first.day} {first:%b %Y}"
            elif first.month != last.month:
                start = f"{first.day} {first:%b}"
            else:
                start = f"{first.day}"
            return f"{start}{DASH}{last.day} {last:%b %Y}"
        if (first.year, first.month) == (last.year, last.month):
            return f"{first:%b %Y}"
        if first.year == last.year:
            return f"{first:%b}{DASH}{last:%b %Y}"
        return f"{first:%b %Y}{DASH}{last:%b %Y}"

    def holds(self, column: str = "usage_date") -> pl.Expr:
        """True for the rows whose ``column`` date lies in the period."""
        return pl.col(column).is_between(self.first, self.last)


@dataclass(frozen=True)
class Comparison:
    """A period against the one just before it, of the same number of months."""

    current: Period
    previous: Period

    @property
    def label(self) -> str:
        """``Aug–Oct 2026 against May–Jul 2026``."""
        return f"{self.current.label} against {self.previous.label}"


def complete_months(as_of: date, months: int, skip: int = 0) -> Period:
    """The ``months`` complete calendar months that end ``skip`` months before A's month.

    A's month is never among them, even on its last day. ``complete_months(date(2026, 11, 15),
    3)`` is Aug–Oct 2026; with ``skip=3`` it is May–Jul 2026.
    """
    this_month = as_of.replace(day=1)
    first = shift_months(this_month, -(skip + months))
    return Period(first, shift_months(this_month, -skip) - timedelta(days=1))


def quarter_comparison(as_of: date) -> Comparison:
    """The last three complete calendar months before A's month against the three before."""
    return Comparison(
        complete_months(as_of, QUARTER_MONTHS),
        complete_months(as_of, QUARTER_MONTHS, QUARTER_MONTHS),
    )


def month_comparison(as_of: date) -> Comparison:
    """The last complete month before A's month against the month before it."""
    return Comparison(complete_months(as_of, 1), complete_months(as_of, 1, 1))


def last_complete_month(as_of: date) -> date:
    """The first day of the last complete month before A's month."""
    return complete_months(as_of, 1).first


def month_to_date(as_of: date) -> Period:
    """A's month from its first day to A: the only way A's month is shown."""
    return Period(as_of.replace(day=1), as_of)


def days_left_in_month(as_of: date) -> int:
    """Days of A's month after A (0 on its last day)."""
    return (month_end(as_of.replace(day=1)) - as_of).days


def month_projection(
    as_of: date, to_date: str = "month_to_date", rate: str = "run_rate"
) -> pl.Expr:
    """A's month projected to its end: month-to-date + run_rate × days left in the month."""
    return (pl.col(to_date) + pl.col(rate) * days_left_in_month(as_of)).alias("month_projection")


def claimable(members: int | None, min_group: int) -> bool:
    """A group may carry a claim ("shorter", "worse") only with at least ``min_group`` members;
    a smaller one is shown with its n and nothing is said about it."""
    return members is not None and members >= min_group
