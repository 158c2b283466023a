"""Renewal scenarios (docs/forecasts.md#renewal-scenarios) on hand-computed accounts."""

from __future__ import annotations

from datetime import date

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
