"""Budget and alert status: the latest budget in force at A and this month's use of it."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

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


# --- edges (docs/metrics.md#budget-and-alert-status) ---
#
# A = 2026-04-20. One budget per account, 1000 a month unless said otherwise; the spend of each
# account sits on the edge under test.


def _edge_status() -> dict[str, dict]:
    budgets = pl.DataFrame(
        [
            # enabled on A: in force; enabled the day after A: not yet
            ("on_a", 1000.0, 0.9, date(2026, 4, 20)),
            ("after_a", 1000.0, 0.9, date(2026, 4, 21)),
            # alert at 0.9 of 1000 = 900: 899 is below, 900 on the line, 901 above
            ("below", 1000.0, 0.9, date(2026, 1, 1)),
            ("on_line", 1000.0, 0.9, date(2026, 1, 1)),
            ("above", 1000.0, 0.9, date(2026, 1, 1)),
            # 1000 of 3000: 0.3333…, a use that does not divide evenly
            ("uneven", 3000.0, 0.5, date(2026, 1, 1)),
            # the later of two budgets, listed first: the later (2000) is in force
            ("two", 2000.0, 0.5, date(2026, 3, 1)),
            ("two", 500.0, 0.5, date(2026, 2, 1)),
        ],
        schema=["account_id", "monthly_budget", "alert_threshold_pct", "enabled_date"],
        orient="row",
    )
    spend = [
        ("on_a", date(2026, 4, 20), 10.0),
        ("below", date(2026, 4, 10), 899.0),
        ("on_line", date(2026, 4, 10), 900.0),
        ("above", date(2026, 4, 10), 901.0),
        # the month's first day counts (1000), the last day of March does not (5000)
        ("uneven", date(2026, 4, 1), 1000.0),
        ("uneven", date(2026, 3, 31), 5000.0),
        # A counts (600), the day after A does not (7000)
        ("two", date(2026, 4, 20), 600.0),
        ("two", date(2026, 4, 21), 7000.0),
    ]
    daily = pl.DataFrame(spend, schema=["account_id", "usage_date", "amount"], orient="row")
    health = pl.LazyFrame({"account_id": sorted({row[0] for row in budgets.rows()})})
    frame = account_budgets(health, budgets.lazy(), daily.lazy(), AS_OF).collect()
    return {row["account_id"]: row for row in frame.to_dicts()}


@pytest.mark.parametrize(
    ("account", "in_force"),
    [("on_a", True), ("after_a", False), ("below", True), ("two", True)],
)
def test_a_budget_is_in_force_from_its_enabled_date(account: str, in_force: bool) -> None:
    assert (account in _edge_status()) is in_force


@pytest.mark.parametrize(
    ("account", "used", "reached"),
    [
        ("on_a", 0.01, False),  # 10 / 1000
        ("below", 0.899, False),  # 899 / 1000 < 0.9
        ("on_line", 0.9, True),  # 900 / 1000 = 0.9: at the threshold is reached
        ("above", 0.901, True),  # 901 / 1000 > 0.9
        ("uneven", 1000 / 3000, False),  # 0.3333… < 0.5
        ("two", 0.3, False),  # 600 / 2000 (the March budget), not 600 / 500
    ],
)
def test_budget_used_and_alert_at_their_edges(account: str, used: float, reached: bool) -> None:
    row = _edge_status()[account]
    assert (row["budget_used"], row["alert_reached"]) == (pytest.approx(used, rel=1e-12), reached)


@pytest.mark.parametrize(
    ("account", "month_to_date", "budget", "enabled"),
    [
        ("uneven", 1000.0, 3000.0, date(2026, 1, 1)),  # Apr 1 in, Mar 31 out
        ("two", 600.0, 2000.0, date(2026, 3, 1)),  # A in, A + 1 out; the later budget
    ],
)
def test_month_to_date_from_the_first_of_the_month_to_a(
    account: str, month_to_date: float, budget: float, enabled: date
) -> None:
    row = _edge_status()[account]
    assert (row["month_to_date"], row["monthly_budget"], row["enabled_date"]) == (
        month_to_date,
        budget,
        enabled,
    )
