"""The report series: daily_spend and account_months."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from _books import contract, make_book, usage
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.series import (
    account_months,
    by_account_day,
    daily_spend,
    sorted_daily_spend,
)


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


# rated not in account order ("a", "b", "a", "b"): the fallback path (each row is ≥ the row two
# before, not the row before). a on Jan 1: 1 + 4 = 5 (two rows apart), b on Jan 1: 2; Jan 9 is
# after A = Jan 5 -> no row
def test_sorted_daily_spend_rated_out_of_account_order() -> None:
    rated = pl.LazyFrame(
        {
            "account_id": ["a", "b", "a", "b"],
            "usage_date": [date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 1), date(2024, 1, 9)],
            "amount": [1.0, 2.0, 4.0, 8.0],
        }
    )
    expected = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "usage_date": [date(2024, 1, 1), date(2024, 1, 1)],
            "amount": [5.0, 2.0],
        }
    )
    assert_frame_equal(sorted_daily_spend(rated, date(2024, 1, 5)), expected)


# rated in account order: the fast path. a: Jan 2 (2 + 3 = 5) before 1969-12-31 sorts as
# 1969-12-31 (a negative day number), Jan 2; b: Jan 1 = 1; days after A = Jan 5 -> no row
def test_sorted_daily_spend_rated_in_account_order() -> None:
    rated = pl.LazyFrame(
        {
            "account_id": ["a", "a", "a", "a", "b", "b"],
            "usage_date": [
                date(2024, 1, 2),
                date(1969, 12, 31),
                date(2024, 1, 2),
                date(2024, 1, 6),
                date(2024, 1, 1),
                date(2024, 2, 1),
            ],
            "amount": [2.0, 7.0, 3.0, 50.0, 1.0, 60.0],
        }
    )
    expected = pl.DataFrame(
        {
            "account_id": ["a", "a", "b"],
            "usage_date": [date(1969, 12, 31), date(2024, 1, 2), date(2024, 1, 1)],
            "amount": [7.0, 5.0, 1.0],
        }
    )
    as_of = date(2024, 1, 5)
    assert_frame_equal(sorted_daily_spend(rated, as_of), expected)
    assert_frame_equal(
        sorted_daily_spend(rated, as_of), by_account_day(daily_spend(rated, as_of)).collect()
    )


# by_account_day reorders the rows, it drops none: a null account_id is kept (sorted first)
def test_by_account_day_keeps_a_null_account() -> None:
    daily = pl.LazyFrame(
        {
            "account_id": ["b", None, "a"],
            "usage_date": [date(2024, 1, 1), date(2024, 1, 2), date(2024, 1, 3)],
            "amount": [1.0, 2.0, 3.0],
        }
    )
    assert_frame_equal(
        by_account_day(daily).collect(), daily.sort("account_id", "usage_date").collect()
    )


# 6,000 accounts, one day each: the account's place × 2³² stays far inside Int64 (a place
# × 3³² would pass 2⁶³ from place 4,983 on); the order is the two-column sort's
def test_by_account_day_many_accounts() -> None:
    n = 6_000
    daily = pl.LazyFrame(
        {
            "account_id": [f"acct{i:05d}" for i in range(n)][::-1],
            "usage_date": [date(2024, 1, 1)] * n,
            "amount": [float(i) for i in range(n)],
        }
    )
    assert_frame_equal(
        by_account_day(daily).collect(), daily.sort("account_id", "usage_date").collect()
    )


# a contract starting on A: A's month is the account's one month; outcomes of 1 in Jan (no
# spend: 0 / 1 = 0) and 0.5 in Mar (3 units × 2 = 6 -> 6 / 0.5 = 12); Feb has no outcomes row
def test_account_months_contract_starting_on_as_of_and_small_outcome_counts() -> None:
    as_of = date(2024, 3, 10)
    the_book = make_book(
        [
            contract("c1", date(2024, 1, 15), None, 0.0),
            contract("c2", as_of, None, 0.0, account="b"),
        ],
        [usage("a", date(2024, 3, 10), as_of, 3.0)],
        prices={"c1": 2.0, "c2": 2.0},
        outcomes=pl.DataFrame(
            {
                "account_id": "a",
                "month": [date(2024, 1, 1), date(2024, 3, 1)],
                "outcome_count": [1.0, 0.5],
            }
        ),
    )
    daily = daily_spend(rate_usage(the_book), as_of)
    expected = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "b"],
            "month": [date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 3, 1)],
            "amount": [0.0, 0.0, 6.0, 0.0],
            "outcome_count": [1.0, None, 0.5, None],
            "cost_per_outcome": [0.0, None, 12.0, None],
            "workflows_live": [0, 0, 0, 0],
        }
    )
    assert_frame_equal(
        account_months(the_book, daily, as_of).collect(), expected, check_dtypes=False
    )
