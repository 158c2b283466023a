"""The sample's days as day numbers (days since 1970-01-01, what NumPy computes with), their
calendar months, and their conversion to Polars dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

NO_END = 10**7
"""A day number later than any real day: no end date, no renewal, never."""

DAYS_PER_MONTH = 30.44
"""The mean calendar month in days: daily levels × this = monthly amounts."""

_EPOCH = date(1970, 1, 1)


@dataclass(frozen=True)
class Calendar:
    """The days of the sample as day numbers (days since 1970-01-01): A, history start, reset."""

    as_of: int
    first: int
    reset: int

    @property
    def days(self) -> np.ndarray:
        """Every day of the usage history, first to A."""
        return np.arange(self.first, self.as_of + 1)

    @property
    def month_starts(self) -> np.ndarray:
        """Index (into ``days``) of the first history day of each calendar month."""
        dom = day_of_month(self.days)
        return np.flatnonzero((dom == 1) | (np.arange(dom.size) == 0))


def as_dates(day: np.ndarray, until: int = NO_END - 1) -> pl.Series:
    """Day numbers as Dates; null at or after ``NO_END`` (no end) or after ``until``."""
    return (
        pl.Series(np.where(day <= until, day, 0).astype(np.int32))
        .cast(pl.Date)
        .scatter(np.flatnonzero(day > until), None)
    )


def day_number(day: date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def add_months(day: np.ndarray, months: int) -> np.ndarray:
    """The same day ``months`` calendar months later (clamped to the month's end)."""
    shifted = pl.Series(day.astype(np.int32)).cast(pl.Date).dt.offset_by(f"{months}mo")
    return shifted.cast(pl.Int32).to_numpy().astype(np.int64)


def month_start(day: np.ndarray | int) -> np.ndarray:
    """The first day of the calendar month holding each day."""
    as_month = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]")
    return as_month.astype("datetime64[D]").astype(np.int64)


def day_of_month(day: np.ndarray) -> np.ndarray:
    """1 … 31."""
    return day - month_start(day) + 1
