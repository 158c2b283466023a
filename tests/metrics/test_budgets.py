"""Budget and alert status: the latest budget in force at A and this month's use of it."""

from __future__ import annotations

from datetime import date

import polars as pl

from drawdown.metrics.budgets import account_budgets

AS_OF = date(2026, 4, 20)


def _status(budgets: pl.DataFrame, daily: pl.DataFrame) -> pl.DataFrame:
    health = pl.LazyFrame({"account_id": ["A1", "A2", "A3"]})
    return account_budgets(health, budgets.lazy(), daily.lazy(), AS_OF).collect()


def _budgets() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": ["A1", "A1", "A2", "A9"],
            "monthly_budget": [500.0, 1000.0, 2000.0, 10.0],
            "alert_threshold_pct": [0.8, 0.9, 0.5, 0.5],
            "enabled_date": [
                date(2026, 1, 1),
                date(2026, 3, 1),
                date(2026, 5, 1),
                date(2026, 1, 1),
            ],
        }
    )


def _daily() -> pl.DataFrame:
    # A1 spends 300 on 31 Mar (last month) and 600 + 350 in April to the 20th; 100 on the 21st
    return pl.DataFrame(
        {
            "account_id": ["A1", "A1", "A1", "A1"],
            "usage_date": [
                date(2026, 3, 31),
                date(2026, 4, 1),
                date(2026, 4, 20),
                date(2026, 4, 21),
            ],
            "amount": [300.0, 600.0, 350.0, 100.0],
        }
    )


def test_the_latest_budget_enabled_by_as_of_is_in_force() -> None:
    # A1: the March budget (1000, alert 90%); A2's budget starts after A; A9 is not in the book
    status = _status(_budgets(), _daily())
    assert status["account_id"].to_list() == ["A1"]
    assert status.row(0, named=True)["monthly_budget"] == 1000.0


def test_budget_used_is_this_months_spend_to_as_of_over_the_budget() -> None:
    # April to the 20th: 600 + 350 = 950 of 1000 -> 95% used, at or above 90%: alert reached
    row = _status(_budgets(), _daily()).row(0, named=True)
    assert row["month_to_date"] == 950.0 and row["budget_used"] == 0.95 and row["alert_reached"]


def test_an_account_without_spend_this_month_has_used_nothing() -> None:
    row = _status(_budgets(), _daily().head(1)).row(0, named=True)
    assert row["budget_used"] == 0.0 and not row["alert_reached"]


def test_month_to_date_does_not_depend_on_the_order_of_the_days() -> None:
    # 0.1 + 0.2 + 0.3 is 0.6000000000000001 summed in this order and 0.6 in the reverse: a sharded
    # or Spark run meets the days in another order than the whole book, and must give the same bits
    daily = pl.DataFrame(
        {
            "account_id": ["A1"] * 3,
            "usage_date": [date(2026, 4, 1), date(2026, 4, 2), date(2026, 4, 3)],
            "amount": [0.1, 0.2, 0.3],
        }
    )
    forward = _status(_budgets(), daily)["month_to_date"].to_list()
    backward = _status(_budgets(), daily.reverse())["month_to_date"].to_list()
    assert forward == backward == [0.6]
