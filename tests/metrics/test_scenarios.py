"""Renewal scenarios (docs/forecasts.md#renewal-scenarios) on hand-computed accounts."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from drawdown.artifacts import SCHEMAS
from drawdown.metrics.scenarios import renewal_scenarios

AS_OF = date(2026, 11, 15)
TERM_END = date(2027, 3, 31)


def _health(account: str, commit: float, band: str, term_days: int) -> dict:
    return {
        "account_id": account,
        "contract_id": f"{account}-C",
        "commit_amount": commit,
        "band": band,
        "term_end": TERM_END,
        "term_days": term_days,
    }


def _scenarios() -> dict[str, dict[str, dict]]:
    health = pl.DataFrame(
        [
            _health("x", 10000.0, "over", 365),  # 40 a day: 14,600 a term
            _health("y", 10000.0, "under", 350),  # 20 a day: 7,000 a term
            _health("z", 10000.0, "not_live", 365),
            _health("p", 0.0, "paygo", 365),
        ]
    )
    forecast = pl.DataFrame(
        {
            "account_id": ["x", "y", "z", "p"],
            "horizon": "next_28_days",
            "p50": [40.0 * 28, 20.0 * 28, 0.0, 100.0],
        }
    )
    # x's overage costs 1.5 a unit of spend; y has no overage price (the unit price)
    rated = pl.DataFrame(
        {
            "account_id": ["x", "y"],
            "contract_id": ["x-C", "y-C"],
            "usage_date": [AS_OF, AS_OF],
            "quantity": [100.0, 100.0],
            "unit_price": [1.0, 1.0],
            "overage_unit_price": [1.5, 1.0],
            "amount": [100.0, 100.0],
        }
    )
    frame = renewal_scenarios(health.lazy(), forecast.lazy(), rated.lazy(), AS_OF).collect()
    assert frame.columns == list(SCHEMAS["renewal_scenarios"])
    result: dict[str, dict[str, dict]] = {}
    for row in frame.to_dicts():
        result.setdefault(row["account_id"], {})[row["scenario"]] = row
    return result


def test_over_forecast_pays_overage_or_expands():
    x = _scenarios()["x"]
    assert list(x) == ["pay_overage", "expand_commit"]
    assert x["pay_overage"]["forecast_consumption"] == pytest.approx(14600.0)
    assert x["pay_overage"]["overage_amount"] == pytest.approx(4600.0 * 1.5)
    assert x["pay_overage"]["cost"] == pytest.approx(16900.0)
    assert x["expand_commit"]["commit_amount"] == pytest.approx(14600.0)
    assert x["expand_commit"]["cost"] == pytest.approx(14600.0)
    assert x["expand_commit"]["is_cheapest"] and not x["pay_overage"]["is_cheapest"]
    # the saving of expanding against paying the overage
    assert x["pay_overage"]["cost_over_cheapest"] == pytest.approx(2300.0)
    assert x["expand_commit"]["renewal_date"] == date(2027, 4, 1)
    assert x["expand_commit"]["next_term_days"] == 365


def test_under_band_is_offered_right_size():
    y = _scenarios()["y"]
    assert list(y) == ["pay_overage", "right_size"]
    assert y["pay_overage"]["cost"] == pytest.approx(10000.0)
    assert y["right_size"]["commit_amount"] == pytest.approx(7000.0)
    assert y["right_size"]["is_cheapest"]
    assert y["pay_overage"]["cost_over_cheapest"] == pytest.approx(3000.0)


def test_no_scenario_for_not_live_or_paygo():
    result = _scenarios()
    assert "z" not in result and "p" not in result


# --- edges (docs/forecasts.md#renewal-scenarios) ---
#
# commit 10,000; the daily forecast median is p50 / 28 = 40 a day.
#   eq:   250 days x 40 = 10,000, exactly the commit: no expand_commit (it needs forecast > commit)
#   over: 251 days x 40 = 10,040 > 10,000: expand_commit offered
#   both: band under and 300 days x 40 = 12,000: all three, in the scenarios' order
#   w:    commit 1,000, 100 days x 20 = 2,000; overage_ratio over the window [A − 83, A] of the
#         contract covering A: (100 x 1.5 + 50 x 2.0) / (100 + 50) = 250 / 150 = 1.6667
#         (A − 84, another contract and a row without amount are left out)
#   one:  a commit of 1 is a commit: 100 days x 20 = 2,000 > 1: pay the overage or expand
#   u:    commit 1,000, 100 days x 20 = 2,000; its window's only spend is an amount of 1 (quantity
#         1 at an overage price of 3): overage_ratio 1 x 3 / 1 = 3, overage (2,000 − 1,000) x 3


def _edge_scenarios() -> dict[str, dict[str, dict]]:
    health = pl.DataFrame(
        [
            _health("eq", 10000.0, "healthy", 250),
            _health("over", 10000.0, "over", 251),
            _health("both", 10000.0, "under", 300),
            _health("w", 1000.0, "over", 100),
            _health("one", 1.0, "over", 100),
            _health("u", 1000.0, "over", 100),
        ]
    )
    forecast = pl.DataFrame(
        {
            "account_id": ["eq", "over", "both", "w", "w", "one", "u"],
            "horizon": ["next_28_days"] * 4 + ["term_end"] + ["next_28_days"] * 2,
            "p50": [40.0 * 28, 40.0 * 28, 40.0 * 28, 20.0 * 28, 1e9, 20.0 * 28, 20.0 * 28],
        }
    )
    window_start = AS_OF - timedelta(days=83)
    rated = pl.DataFrame(
        [
            ("w", "w-C", window_start, 100.0, 1.5, 100.0),
            ("w", "w-C", AS_OF, 50.0, 2.0, 50.0),
            ("w", "w-C", window_start - timedelta(days=1), 1000.0, 10.0, 1000.0),
            ("w", "old", AS_OF - timedelta(days=10), 1000.0, 10.0, 1000.0),
            ("w", "w-C", AS_OF - timedelta(days=5), 100.0, 10.0, 0.0),
            ("u", "u-C", AS_OF, 1.0, 3.0, 1.0),
        ],
        schema=[
            "account_id",
            "contract_id",
            "usage_date",
            "quantity",
            "overage_unit_price",
            "amount",
        ],
        orient="row",
    )
    frame = renewal_scenarios(health.lazy(), forecast.lazy(), rated.lazy(), AS_OF).collect()
    result: dict[str, dict[str, dict]] = {}
    for row in frame.to_dicts():
        result.setdefault(row["account_id"], {})[row["scenario"]] = row
    return result


@pytest.mark.parametrize(
    ("account", "scenarios"),
    [
        ("eq", ["pay_overage"]),
        ("over", ["pay_overage", "expand_commit"]),
        ("both", ["pay_overage", "expand_commit", "right_size"]),
        ("w", ["pay_overage", "expand_commit"]),
        ("one", ["pay_overage", "expand_commit"]),
    ],
)
def test_scenarios_offered_at_the_commit_line(account: str, scenarios: list[str]) -> None:
    assert list(_edge_scenarios()[account]) == scenarios


# eq: forecast = commit, nothing past it: cost 10,000
def test_a_forecast_exactly_on_the_commit_pays_no_overage() -> None:
    row = _edge_scenarios()["eq"]["pay_overage"]
    assert (row["forecast_consumption"], row["overage_amount"], row["cost"]) == (
        10000.0,
        0.0,
        10000.0,
    )
    assert row["is_cheapest"] and row["cost_over_cheapest"] == 0.0


# w: overage (2,000 − 1,000) x 1.6667 = 1,666.67, cost 2,666.67; expanding costs 2,000
@pytest.mark.parametrize(
    ("scenario", "column", "expected"),
    [
        ("pay_overage", "overage_amount", 1000.0 * 250 / 150),
        ("pay_overage", "cost", 1000.0 + 1000.0 * 250 / 150),
        ("pay_overage", "cost_over_cheapest", 1000.0 * 250 / 150 - 1000.0),
        ("pay_overage", "commit_amount", 1000.0),
        ("expand_commit", "cost", 2000.0),
        ("expand_commit", "overage_amount", 0.0),
        ("expand_commit", "cost_over_cheapest", 0.0),
        ("expand_commit", "next_term_days", 100),
    ],
)
def test_overage_priced_by_the_windows_ratio(scenario: str, column: str, expected) -> None:
    assert _edge_scenarios()["w"][scenario][column] == pytest.approx(expected, rel=1e-12)


# u: an amount of 1 is spend past the commit: overage 1,000 x 3 = 3,000 (not 1,000 x 1.0)
def test_overage_ratio_of_an_amount_of_one() -> None:
    assert _edge_scenarios()["u"]["pay_overage"]["overage_amount"] == pytest.approx(3000.0)


# both: pay 10,000 + 2,000 x 1.0 = 12,000; expand 12,000; right-size 12,000: a three-way tie,
# the first in the scenarios' order is the cheapest
@pytest.mark.parametrize(
    ("scenario", "cheapest"),
    [("pay_overage", True), ("expand_commit", False), ("right_size", False)],
)
def test_a_tie_goes_to_the_first_scenario(scenario: str, cheapest: bool) -> None:
    row = _edge_scenarios()["both"][scenario]
    assert (row["cost"], row["is_cheapest"], row["cost_over_cheapest"]) == (12000.0, cheapest, 0.0)


# the rows come by account_id, and each account's scenarios in the order pay_overage,
# expand_commit, right_size, whatever order account_health gives: 300 accounts in the band under
# with a forecast of 1,000 over a commit of 500 (all three offered), given in reverse
def test_rows_by_account_then_scenario_order() -> None:
    accounts = [f"a{k:03}" for k in reversed(range(300))]
    health = pl.DataFrame([_health(account, 500.0, "under", 28) for account in accounts])
    forecast = pl.DataFrame({"account_id": accounts, "horizon": "next_28_days", "p50": 1000.0})
    rated = pl.DataFrame(
        schema={
            "account_id": pl.String,
            "contract_id": pl.String,
            "usage_date": pl.Date,
            "quantity": pl.Float64,
            "overage_unit_price": pl.Float64,
            "amount": pl.Float64,
        }
    )
    frame = renewal_scenarios(health.lazy(), forecast.lazy(), rated.lazy(), AS_OF).collect()
    expected = [
        (account, scenario)
        for account in sorted(accounts)
        for scenario in ("pay_overage", "expand_commit", "right_size")
    ]
    assert frame.select("account_id", "scenario").rows() == expected
