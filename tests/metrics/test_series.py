"""The report series: daily_spend and account_months."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from _books import contract, make_book, usage
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.series import account_months, by_account_day, daily_spend


# "B" < "a" < "ab" byte-wise; 1969 is before the epoch (a negative day number)
def test_by_account_day_sorts_as_the_two_column_sort() -> None:
    daily = pl.LazyFrame(
        {
            "account_id": ["ab", "a", "B", "a", "ab", "a"],
            "usage_date": [
                date(2024, 1, 1),
                date(2024, 3, 1),
                date(2030, 1, 1),
                date(1969, 12, 31),
                date(1960, 5, 5),
                date(2024, 1, 2),
            ],
            "amount": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        }
    )
    assert_frame_equal(
        by_account_day(daily).collect(), daily.sort("account_id", "usage_date").collect()
    )


# Jan 1: meter m 10 + meter n 5 = 15; Jan 2: only unrated usage (amount 0) -> no row;
# Jan 5 is after A = Jan 4 -> no row
def test_daily_spend_sums_meters_and_keeps_spend_days_up_to_as_of() -> None:
    rated = pl.LazyFrame(
        {
            "account_id": ["a", "a", "a", "a"],
            "usage_date": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 5)],
            "amount": [10.0, 5.0, 0.0, 7.0],
        }
    )
    expected = pl.DataFrame(
        {"account_id": ["a"], "usage_date": [date(2024, 1, 1)], "amount": [15.0]}
    )
    assert_frame_equal(daily_spend(rated, date(2024, 1, 4)).collect(), expected)


# contract from 2024-01-15 at unit price 2, 1 unit a day to A = 2024-03-10:
#   Jan 17 days × 2 = 34, Feb 29 × 2 = 58, Mar 10 × 2 = 20
# outcomes: Jan 0 (no cost per outcome), Feb 29 -> 58 / 29 = 2, Mar none
# workflows at Jan 31, Feb 29 and A (Mar 10): w1 Jan 20 – Feb 10, w2 Feb 1 –, w3 Mar 5 – Mar 9,
#   w4 Mar 10 –, w5 Mar 20 – -> Jan 1 (w1), Feb 1 (w2), Mar 2 (w2, w4)
def test_account_months() -> None:
    as_of = date(2024, 3, 10)
    the_book = make_book(
        [contract("c1", date(2024, 1, 15), None, 0.0)],
        [usage("a", date(2024, 1, 15), as_of, 1.0)],
        prices={"c1": 2.0},
        outcomes=pl.DataFrame(
            {
                "account_id": "a",
                "month": [date(2024, 1, 1), date(2024, 2, 1)],
                "outcome_count": [0.0, 29.0],
            }
        ),
        workflows=pl.DataFrame(
            {
                "account_id": "a",
                "workflow_id": ["w1", "w2", "w3", "w4", "w5"],
                "production_date": [
                    date(2024, 1, 20),
                    date(2024, 2, 1),
                    date(2024, 3, 5),
                    date(2024, 3, 10),
                    date(2024, 3, 20),
                ],
                "retired_date": [date(2024, 2, 10), None, date(2024, 3, 9), None, None],
            }
        ),
    )
    daily = daily_spend(rate_usage(the_book), as_of)
    expected = pl.DataFrame(
        {
            "account_id": ["a"] * 3,
            "month": [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1)],
            "amount": [34.0, 58.0, 20.0],
            "outcome_count": [0.0, 29.0, None],
            "cost_per_outcome": [None, 2.0, None],
            "workflows_live": [1, 1, 2],
        }
    )
    assert_frame_equal(
        account_months(the_book, daily, as_of).collect(), expected, check_dtypes=False
    )


# an account whose only contract starts after A has no months
def test_account_months_skip_accounts_not_started() -> None:
    the_book = make_book([contract("c1", date(2024, 5, 1), None, 0.0)], [])
    daily = daily_spend(rate_usage(the_book), date(2024, 3, 10))
    assert account_months(the_book, daily, date(2024, 3, 10)).collect().is_empty()
