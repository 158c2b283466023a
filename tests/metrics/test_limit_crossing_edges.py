"""The limit crossing (docs/forecasts.md#limit-crossing) at its edges: A on the month's first day
(a limit to date below 1), quantities below 1, a limit of 0, no contract covering A.

One account d, one meter m at unit price 1 (so each day's spend is its quantity), a contract D
for 2026 with ``included_quantity`` of m. November 2026 has 30 days; 2026-11-01 and
2026-11-15 are Sundays. Each book is built per test: mutmut runs only the tests that call
``limit_crossing`` themselves.
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from _books import contract, usage
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.forecast import limit_crossing
from drawdown.metrics.overconsumption import meter_months
from drawdown.metrics.series import daily_spend

YEAR = (date(2026, 1, 1), date(2026, 12, 31))


def _book(
    included: float,
    per_day: float,
    first: date,
    last: date,
    end: date = YEAR[1],
    unit_price: float = 1.0,
) -> Book:
    """Account d: contract D from 2026-01-01 to ``end``, meter m at ``unit_price`` with
    ``included`` a month, ``per_day`` of m each day of [first, last]."""
    return Book.from_frames(
        accounts=pl.DataFrame({"account_id": ["d"], "account_name": ["d"], "segment": ["mid"]}),
        contracts=pl.DataFrame([contract("D", YEAR[0], end, 0.0, account="d")]),
        rate_card=pl.DataFrame(
            {
                "contract_id": ["D"],
                "meter": ["m"],
                "unit_price": [unit_price],
                "included_quantity": [included],
            }
        ),
        usage=usage("d", first, last, per_day),
    )


def _crossing(book: Book, as_of: date, months: pl.LazyFrame | None = None) -> pl.DataFrame:
    """limit_crossing as of ``as_of``, from the book's meter_months unless ``months`` is given."""
    rated = rate_usage(book)
    months = meter_months(book, rated, as_of, 3) if months is None else months
    daily = daily_spend(rated, as_of)
    return limit_crossing(months, rated, book.contracts, book.rate_card, daily, as_of).collect()


# A = Nov 1, 15 included (0.5 a day): the limit to date is 0.5 (below 1, still a limit), the
# month's limit 0.5 + 0.5 x 29 days left = 15. 1 a day over the window Aug 10 … Nov 1 (12 whole
# weeks): every weekday mean is 1, so the path is 1 a day: the running total on Nov k is k,
# > 15 first on Nov 16; 30 at the month's end, 30 / 15 - 1 = 1.0 over.
def test_a_limit_on_the_months_first_day() -> None:
    as_of = date(2026, 11, 1)
    rows = _crossing(_book(15.0, 1.0, date(2026, 8, 10), as_of), as_of)
    assert rows.height == 1
    row = rows.row(0, named=True)
    assert row["limit"] == pytest.approx(15.0)
    assert row["usage_to_date"] == pytest.approx(1.0)
    assert row["projected_usage"] == pytest.approx(30.0)
    assert row["projected_pct_over"] == pytest.approx(1.0)
    assert row["crossing_date"] == date(2026, 11, 16)


# A = Nov 15, 6.6 included (0.22 a day): limit 0.22 x 15 + 0.22 x 15 = 6.6. 0.5 a day (below 1,
# still a quantity) over the window Aug 24 … Nov 15: the running total on Nov k is 0.5 k, 6.5 on
# the 13th, 7.0 > 6.6 on the 14th (before A: the day it did); 15 at the month's end.
def test_quantities_below_one_count() -> None:
    as_of = date(2026, 11, 15)
    row = _crossing(_book(6.6, 0.5, date(2026, 8, 24), as_of), as_of).row(0, named=True)
    assert row["limit"] == pytest.approx(6.6)
    assert row["usage_to_date"] == pytest.approx(7.5)
    assert row["projected_usage"] == pytest.approx(15.0)
    assert row["crossing_date"] == date(2026, 11, 14)


# A meter_months row with a limit of 0 in A's month is not a limit (0 included means
# pay-per-use, never a limit to cross): no row, even though the meter is used.
def test_a_limit_of_zero_has_no_row() -> None:
    as_of = date(2026, 11, 15)
    months = pl.LazyFrame(
        {
            "account_id": ["d"],
            "meter": ["m"],
            "month": [date(2026, 11, 1)],
            "limit": [0.0],
            "usage": [180.0],
        }
    )
    book = _book(0.0, 12.0, date(2026, 8, 24), as_of)
    assert _crossing(book, as_of, months).is_empty()


# D ends on Nov 10: no contract covers A, so the limit stays the 300 / 30 x 10 = 100 to Nov 10,
# and the window still runs from the first spend, Aug 24 … Nov 15 (84 days, 12 of each weekday).
# 12 a day to Nov 10 (a Tuesday), 0 from Wed 11 to Sun 15: the weekday means are 12 for Monday
# and Tuesday, 12 x 11 / 12 = 11 for the others. Nov 16 … 30 has 3 Mondays, 2 of each other day:
# 3 x 12 + 2 x 12 + 10 x 11 = 170 after A, so 120 + 170 = 290 at the month's end.
def test_the_path_after_a_without_a_contract_covering_a() -> None:
    as_of = date(2026, 11, 15)
    book = _book(300.0, 12.0, date(2026, 8, 24), date(2026, 11, 10), end=date(2026, 11, 10))
    row = _crossing(book, as_of).row(0, named=True)
    assert row["limit"] == pytest.approx(100.0)
    assert row["usage_to_date"] == pytest.approx(120.0)
    assert row["projected_usage"] == pytest.approx(290.0)
    assert row["crossing_date"] == date(2026, 11, 9)


# A meter at unit price 0 (free up to its 300 included a month): the account has no spend, but
# the meter's quantity is still projected. 13 a day: 195 by Nov 15, 13 a day after it, so 299 on
# the 23rd, 312 > 300 on the 24th; 390 at the month's end, 390 / 300 - 1 = 0.3 over.
def test_a_meter_without_spend_is_still_projected() -> None:
    as_of = date(2026, 11, 15)
    book = _book(300.0, 13.0, date(2026, 8, 24), as_of, unit_price=0.0)
    row = _crossing(book, as_of).row(0, named=True)
    assert row["usage_to_date"] == pytest.approx(195.0)
    assert row["projected_usage"] == pytest.approx(390.0)
    assert row["projected_pct_over"] == pytest.approx(0.3)
    assert row["crossing_date"] == date(2026, 11, 24)
