"""Forecasts (docs/forecasts.md) on tiny books computed by hand.

As of Sunday 2026-11-15; the 84-day window is 2026-08-24 (a Monday) … 2026-11-15: twelve whole
weeks. The next 28 days are four whole weeks; 2026-11-16 … 2026-12-31 (46 days) are six weeks
and Monday to Thursday.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from _books import contract, make_book, usage
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.backtest import forecast_backtest
from drawdown.metrics.forecast import (
    PERSISTENCE,
    Z90,
    consumption_forecast,
    limit_crossing,
    normal_cdf,
)
from drawdown.metrics.overconsumption import meter_months
from drawdown.metrics.series import daily_spend
from drawdown.params import Params

AS_OF = date(2026, 11, 15)
WINDOW_START = date(2026, 8, 24)
TERM = (date(2026, 1, 1), date(2026, 12, 31))


def _weekdays_only(account: str, per_day: float) -> pl.DataFrame:
    frame = usage(account, WINDOW_START, AS_OF, per_day)
    return frame.filter(pl.col("usage_date").dt.weekday() <= 5)


def _alternating_weeks(account: str) -> pl.DataFrame:
    """8 a day in even weeks of the window, 12 in odd ones: every weekday's mean is 10, every
    day is 2 away from it."""
    frame = usage(account, WINDOW_START, AS_OF, 0.0)
    week = (pl.col("usage_date") - pl.lit(WINDOW_START)).dt.total_days() // 7
    return frame.with_columns(pl.when(week % 2 == 0).then(8.0).otherwise(12.0).alias("quantity"))


@pytest.fixture
def book() -> Book:
    return make_book(
        [
            contract("A", *TERM, 1000.0, account="a"),
            contract("B", *TERM, 10000.0, account="b"),
            contract("C", *TERM, 5000.0, account="c"),
            contract("N", *TERM, 5000.0, account="n"),
            contract("P", *TERM, 0.0, account="p"),
        ],
        [
            _weekdays_only("a", 10.0),
            _alternating_weeks("b"),
            usage("c", AS_OF - timedelta(days=9), AS_OF, 7.0),
            usage("p", WINDOW_START, AS_OF, 1.0),
        ],
    )


@pytest.fixture
def frames(book: Book) -> dict[str, pl.DataFrame]:
    rated = rate_usage(book)
    daily = daily_spend(rated, AS_OF)
    health = account_health(book, rated, Params(), AS_OF, daily).collect()
    forecast = consumption_forecast(health.lazy(), daily, AS_OF).collect()
    return {"health": health, "forecast": forecast}


def _forecast(frames: dict[str, pl.DataFrame], account: str, horizon: str) -> dict:
    rows = frames["forecast"].filter(pl.col("account_id") == account, pl.col("horizon") == horizon)
    return rows.to_dicts()[0]


def test_weekday_pattern_without_spread_is_forecast_exactly(frames):
    # a: 10 on weekdays, 0 at weekends, so every day equals its weekday's mean
    ahead = _forecast(frames, "a", "next_28_days")
    assert ahead["horizon_days"] == 28
    assert (ahead["p10"], ahead["p50"], ahead["p90"]) == pytest.approx((200.0, 200.0, 200.0))
    to_end = _forecast(frames, "a", "term_end")
    # 46 days: six weeks (30 weekdays) and Monday to Thursday (4)
    assert to_end["horizon_days"] == 46
    assert to_end["p50"] == pytest.approx(340.0)


def test_spread_of_recent_days_widens_the_interval(frames):
    # b: weekday means 10, residuals ±2 on all 84 days: s² = 84 × 4 / 83
    variance = 84 * 4 / 83
    spread = Z90 * math.sqrt(variance * (28 + PERSISTENCE * 28**2))
    ahead = _forecast(frames, "b", "next_28_days")
    assert ahead["p50"] == pytest.approx(280.0)
    assert ahead["p10"] == pytest.approx(280.0 - spread)
    assert ahead["p90"] == pytest.approx(280.0 + spread)


def test_window_starts_at_the_first_day_with_spend(frames):
    # c: 7 a day for its last 10 days only: the zeros before it went live do not count
    assert _forecast(frames, "c", "next_28_days")["p50"] == pytest.approx(196.0)


def test_an_account_without_spend_is_forecast_zero(frames):
    ahead = _forecast(frames, "n", "next_28_days")
    assert (ahead["p10"], ahead["p50"], ahead["p90"]) == (0.0, 0.0, 0.0)


def test_quantiles_are_ordered(frames):
    forecast = frames["forecast"]
    assert forecast.filter(
        (pl.col("p10") > pl.col("p50")) | (pl.col("p50") > pl.col("p90"))
    ).is_empty()


def test_exhaustion_without_spread_is_one_day(frames):
    health = frames["health"].filter(pl.col("account_id") == "a").to_dicts()[0]
    # consumed 12 weeks × 50 = 600 of 1000; 400 left at 50 / 7 a day: 56 days
    assert health["consumed_to_date"] == pytest.approx(600.0)
    expected = AS_OF + timedelta(days=56)
    assert (
        health["exhaustion_p10"] == health["exhaustion_p50"] == health["exhaustion_p90"] == expected
    )
    # to term end the forecast is 340 < 400, with no spread
    assert health["p_exhaust_before_term_end"] == 0.0


def test_exhaustion_quantiles_come_from_the_paths(frames):
    row = frames["health"].filter(pl.col("account_id") == "b").to_dicts()[0]
    left, level, variance = 10000.0 - 840.0, 10.0, 84 * 4 / 83

    def path(days: int, z: float) -> float:
        return level * days + z * math.sqrt(variance * (days + PERSISTENCE * days**2))

    assert row["exhaustion_p10"] <= row["exhaustion_p50"] <= row["exhaustion_p90"]
    assert row["exhaustion_p50"] == AS_OF + timedelta(days=math.ceil(left / level))
    # the p90 path reaches what is left on exhaustion_p10, not a day before
    early = (row["exhaustion_p10"] - AS_OF).days
    assert path(early, Z90) >= left > path(early - 1, Z90)
    late = (row["exhaustion_p90"] - AS_OF).days
    assert path(late, -Z90) >= left > path(late - 1, -Z90)
    assert 0.0 <= row["p_exhaust_before_term_end"] < 0.5


def test_paygo_has_no_exhaustion(frames):
    row = frames["health"].filter(pl.col("account_id") == "p").to_dicts()[0]
    assert row["exhaustion_p50"] is None and row["p_exhaust_before_term_end"] is None


def test_normal_cdf_matches_known_values():
    values = pl.select(normal_cdf(pl.lit(x)).alias(str(x)) for x in (-Z90, 0.0, 1.0, 2.0)).row(0)
    assert values == pytest.approx((0.1, 0.5, 0.8413447, 0.9772499), abs=1e-6)


def test_limit_crossing_day_and_month_end():
    # 300 included in November (10 a day); 12 a day used: 180 by the 15th, crossing on the 26th
    the_book = Book.from_frames(
        accounts=pl.DataFrame({"account_id": ["d"], "account_name": ["d"], "segment": ["mid"]}),
        contracts=pl.DataFrame([contract("D", *TERM, 0.0, account="d")]),
        rate_card=pl.DataFrame(
            {
                "contract_id": ["D"],
                "meter": ["m"],
                "unit_price": [1.0],
                "included_quantity": [300.0],
            }
        ),
        usage=usage("d", WINDOW_START, AS_OF, 12.0),
    )
    rated = rate_usage(the_book)
    months = meter_months(the_book, rated, AS_OF, 3)
    daily = daily_spend(rated, AS_OF)
    row = (
        limit_crossing(months, rated, the_book.contracts, the_book.rate_card, daily, AS_OF)
        .collect()
        .to_dicts()[0]
    )
    assert row["month"] == date(2026, 11, 1)
    assert row["limit"] == pytest.approx(300.0)
    assert row["usage_to_date"] == pytest.approx(180.0)
    assert row["projected_usage"] == pytest.approx(360.0)
    assert row["projected_pct_over"] == pytest.approx(0.2)
    assert row["crossing_date"] == date(2026, 11, 26)


def test_backtest_of_a_steady_account_is_exact():
    the_book = make_book(
        [contract("S", *TERM, 5000.0, account="s")], [usage("s", TERM[0], AS_OF, 10.0)]
    )
    daily = daily_spend(rate_usage(the_book), AS_OF)
    result = forecast_backtest(the_book.contracts, daily, AS_OF, 28).collect()
    assert result["as_of_made"].to_list() == [
        AS_OF - timedelta(days=28),
        AS_OF - timedelta(days=56),
        AS_OF - timedelta(days=84),
        None,
    ]
    assert result["accounts"].to_list() == [1, 1, 1, 3]
    assert result["coverage_p10_p90"].to_list() == [1.0] * 4
    assert result["mdape_p50"].to_list() == pytest.approx([0.0] * 4)
    assert result["mdape_run_rate"].to_list() == pytest.approx([0.0] * 4)
