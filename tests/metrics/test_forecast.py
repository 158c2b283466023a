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
from drawdown.artifacts import SCHEMAS
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.backtest import backtest_outcomes, backtest_scores, forecast_backtest
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


# --- the back-test at its edges (docs/forecasts.md#back-test) ---
#
# A = 2026-11-15; the forecasts are made on M1 = Oct 18, M2 = Sep 20, M3 = Aug 23 (A − 28, 56,
# 84); run_rate_days 28. Account e spends once on each edge day (powers of two, so each shows):
#   Aug 23 = M3 (1), Aug 24 (2: M2's line window's first day), Sep 20 = M2 (4),
#   Sep 21 = M2 + 1 (8), Oct 18 = M2 + 28 = M1 (16), Oct 19 = M2 + 29 = M1 + 1 (32)
#   M3: line [Jul 27, Aug 23] = 1;        actual (Aug 23, Sep 20] = 2 + 4 = 6
#   M2: line [Aug 24, Sep 20] = 2 + 4 = 6; actual (Sep 20, Oct 18] = 8 + 16 = 24
#   M1: line [Sep 21, Oct 18] = 8 + 16;    actual (Oct 18, Nov 15] = 32
# Account t's term starts Oct 5 (covers M1 only) and spends 7 a day from Oct 5, plus 100 on
# Oct 4: M1's line window is cut to [Oct 5, Oct 18], 14 days: 98 / 14 x 28 = 196; actual 28 x 7.
# Account q spends 1 once, on Saturday Aug 29, inside M1's forecast window but before its line
# window [Sep 21, Oct 18] and its horizon: at M1 the window is [Aug 29, Oct 18] (from the first
# spend), 8 Saturdays, so p50 = 4 Saturdays x 1 / 8 = 0.5 (> 0: counted, with line 0, actual 0).
# Account h spends 1 once, on Oct 19 = M1 + 1, and never before: at M1 p50 = 0, actual 1 (counted).
EDGE_DAYS = {
    date(2026, 8, 23): 1.0,
    date(2026, 8, 24): 2.0,
    date(2026, 9, 20): 4.0,
    date(2026, 9, 21): 8.0,
    date(2026, 10, 18): 16.0,
    date(2026, 10, 19): 32.0,
}


def _backtest_rows() -> dict[tuple[str, date], dict]:
    t_days = pl.date_range(date(2026, 10, 5), AS_OF, eager=True).to_list()
    daily = pl.DataFrame(
        [("e", day, amount) for day, amount in EDGE_DAYS.items()]
        + [("t", date(2026, 10, 4), 100.0)]
        + [("t", day, 7.0) for day in t_days]
        + [("q", date(2026, 8, 29), 1.0), ("h", date(2026, 10, 19), 1.0)],
        schema=["account_id", "usage_date", "amount"],
        orient="row",
    )
    contracts = pl.DataFrame(
        [
            contract("E", *TERM, 5000.0, account="e"),
            contract("T", date(2026, 10, 5), TERM[1], 5000.0, account="t"),
            contract("Z", *TERM, 5000.0, account="z"),
            contract("Q", *TERM, 5000.0, account="q"),
            contract("H", *TERM, 5000.0, account="h"),
        ]
    )
    made = backtest_outcomes(contracts.lazy(), daily.lazy(), AS_OF, 28).collect()
    return {(row["account_id"], row["as_of_made"]): row for row in made.to_dicts()}


@pytest.mark.parametrize(
    ("account", "made", "line", "actual"),
    [
        ("e", date(2026, 8, 23), 1.0, 6.0),
        ("e", date(2026, 9, 20), 6.0, 24.0),
        ("e", date(2026, 10, 18), 24.0, 32.0),
        ("t", date(2026, 10, 18), 196.0, 196.0),
        ("q", date(2026, 10, 18), 0.0, 0.0),
        ("h", date(2026, 10, 18), 0.0, 1.0),
    ],
)
def test_backtest_windows_on_their_first_and_last_day(account, made, line, actual) -> None:
    row = _backtest_rows()[(account, made)]
    assert (row["line"], row["actual"]) == (pytest.approx(line, rel=1e-12), actual)


# z has a contract and never spends: nothing forecast, nothing spent, not counted at any date
def test_backtest_leaves_out_an_account_without_forecast_or_spend() -> None:
    assert [key for key in _backtest_rows() if key[0] == "z"] == []


# q at M1: forecast 0.5 (in (0, 1]) and nothing spent from M1 − 27 on; h at M1: nothing
# forecast and 1 spent (in (0, 1]). Both are counted.
@pytest.mark.parametrize(
    ("account", "p50", "actual"), [("q", 0.5, 0.0), ("h", 0.0, 1.0)], ids=["forecast", "spent"]
)
def test_backtest_counts_a_small_forecast_or_a_small_spend(account, p50, actual) -> None:
    row = _backtest_rows()[(account, date(2026, 10, 18))]
    assert (row["p50"], row["actual"]) == (pytest.approx(p50, rel=1e-12), actual)


def test_backtest_counts_only_dates_a_contract_covers() -> None:
    assert sorted(made for account, made in _backtest_rows() if account == "t") == [
        date(2026, 10, 18)
    ]


# scores on hand-made outcomes. M1: a on p10, b on p90 (inside, both ends included), c a cent
# below p10 (outside), d nothing forecast and nothing spent (inside, left out of the medians).
#   coverage 3 / 4; p50 errors |10 − 5| / 5 = 1, |10 − 15| / 15 = 0.3333, |10 − 4.99| / 4.99
#   = 1.004 -> median 1; run-rate errors 7 / 5 = 1.4, 7 / 15 = 0.4667, 5.01 / 4.99 = 1.004
#   -> median 1.004
# M2: e inside, errors |1 − 2| / 2 = 0.5 and |3 − 2| / 2 = 0.5.
# Pooled (5): coverage 4 / 5; p50 errors 0.3333, 0.5, 1, 1.004 -> (0.5 + 1) / 2 = 0.75;
#   run-rate 0.4667, 0.5, 1.004, 1.4 -> (0.5 + 1.004) / 2
M1, M2 = date(2026, 10, 18), date(2026, 9, 20)


def _scores() -> list[dict]:
    made = pl.DataFrame(
        [
            (M1, "a", 5.0, 10.0, 15.0, 12.0, 5.0),
            (M1, "b", 5.0, 10.0, 15.0, 8.0, 15.0),
            (M1, "c", 5.0, 10.0, 15.0, 10.0, 4.99),
            (M1, "d", 0.0, 0.0, 0.0, 0.0, 0.0),
            (M2, "e", 0.0, 1.0, 2.0, 3.0, 2.0),
        ],
        schema=["as_of_made", "account_id", "p10", "p50", "p90", "line", "actual"],
        orient="row",
    )
    return backtest_scores(made.lazy()).collect().to_dicts()


@pytest.mark.parametrize(
    ("index", "expected"),
    [
        (0, (M1, 28, 4, 0.75, 1.0, 5.01 / 4.99)),
        (1, (M2, 28, 1, 1.0, 0.5, 0.5)),
        (2, (None, 28, 5, 0.8, 0.75, (0.5 + 5.01 / 4.99) / 2)),
    ],
)
def test_backtest_scores_on_the_interval_ends(index: int, expected: tuple) -> None:
    row = _scores()[index]
    got = tuple(row[name] for name in ("as_of_made", "horizon_days", "accounts"))
    assert got == expected[:3]
    scores = (row["coverage_p10_p90"], row["mdape_p50"], row["mdape_run_rate"])
    assert scores == pytest.approx(expected[3:], rel=1e-12)


# The contract ended on Nov 10, before A: no contract covers A, so nothing is added to the limit
# to date for the days left (100 stays 100, not 100 + a daily limit x 15 days). 12 a day from
# Nov 1: 96 by Nov 8, 108 by Nov 9 -> crossed on Nov 9, before A.
def test_limit_crossing_without_a_contract_covering_a():
    the_book = Book.from_frames(
        accounts=pl.DataFrame({"account_id": ["d"], "account_name": ["d"], "segment": ["mid"]}),
        contracts=pl.DataFrame([contract("D", TERM[0], date(2026, 11, 10), 0.0, account="d")]),
        rate_card=pl.DataFrame(
            {
                "contract_id": ["D"],
                "meter": ["m"],
                "unit_price": [1.0],
                "included_quantity": [300.0],
            }
        ),
        usage=usage("d", WINDOW_START, date(2026, 11, 10), 12.0),
    )
    rated = rate_usage(the_book)
    months = pl.LazyFrame(
        {
            "account_id": ["d"],
            "meter": ["m"],
            "month": [date(2026, 11, 1)],
            "limit": [100.0],
            "usage": [120.0],
        }
    )
    daily = daily_spend(rated, AS_OF)
    row = (
        limit_crossing(months, rated, the_book.contracts, the_book.rate_card, daily, AS_OF)
        .collect()
        .row(0, named=True)
    )
    assert (row["limit"], row["usage_to_date"], row["crossing_date"]) == (
        100.0,
        120.0,
        date(2026, 11, 9),
    )


# an actual of exactly 1 is actual spend: |2 − 1| / 1 = 1 against p50, |1.5 − 1| / 1 = 0.5
# against the line
def test_backtest_scores_an_actual_of_one() -> None:
    made = pl.LazyFrame(
        [(M1, "a", 0.0, 2.0, 4.0, 1.5, 1.0)],
        schema=["as_of_made", "account_id", "p10", "p50", "p90", "line", "actual"],
        orient="row",
    )
    row = backtest_scores(made).collect().row(0, named=True)
    assert (row["mdape_p50"], row["mdape_run_rate"]) == (1.0, 0.5)


def test_backtest_scores_have_the_artifacts_schema() -> None:
    made = pl.LazyFrame(
        schema={
            "as_of_made": pl.Date,
            "account_id": pl.String,
            **dict.fromkeys(("p10", "p50", "p90", "line", "actual"), pl.Float64),
        }
    )
    assert dict(backtest_scores(made).collect_schema()) == SCHEMAS["forecast_backtest"]
