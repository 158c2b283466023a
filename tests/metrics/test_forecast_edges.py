"""The forecasts (docs/forecasts.md) at their edges: the 84-day window's first day and what cuts
it; weekday counts over windows and horizons that are not whole weeks; p10 censored at 0; the
exhaustion day rounded up (50.2 days is 51, 50 is 50) and the chance of exhausting by term end
when the forecast lands exactly on the commit; ``forecast_at`` of an account without spend.

A = 2024-06-30, a Sunday (weekday 7).
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from drawdown.metrics.forecast import (
    PERSISTENCE,
    Z90,
    exhaustion_inputs,
    exhaustion_quantiles,
    forecast_at,
    forecast_spans,
    horizon_sum,
    quantiles,
    weekday_profile,
)

A = date(2024, 6, 30)
DAY = timedelta(days=1)


def _span(term_start: date, first: date | None) -> date | None:
    """The window's first day for an account spending 1 a day from ``first`` (or from 120 days
    before A, whichever is later) to A; ``first`` after A: its one day of spend is after A."""
    days = (
        [A + DAY]
        if first > A
        else pl.date_range(max(first, A - timedelta(days=120)), A, eager=True).to_list()
    )
    terms = pl.LazyFrame({"account_id": ["a"], "term_start": [term_start]})
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days, "amount": 1.0})
    return forecast_spans(terms, daily, A).collect()["_from"].item()


@pytest.mark.parametrize(
    ("term_start", "first", "window_from"),
    [
        (date(2023, 1, 1), date(2023, 1, 1), A - timedelta(days=83)),  # 84 days: A − 83 … A
        (A - timedelta(days=10), date(2023, 1, 1), A - timedelta(days=10)),  # cut at term start
        (date(2023, 1, 1), A, A),  # first spend on A: a one-day window
        (date(2023, 1, 1), A + DAY, None),  # first spend after A: no window
    ],
)
def test_forecast_window_first_day(term_start: date, first: date | None, window_from) -> None:
    assert _span(term_start, first) == window_from


# a 10-day window Jun 21 (Fri) … Jun 30 (Sun): Fri, Sat, Sun twice, Mon … Thu once;
# a 6-day window Jun 19 (Wed) … Jun 24 (Mon): Wed … Mon once, no Tuesday
@pytest.mark.parametrize(
    ("first", "last", "days"),
    [
        (A - 9 * DAY, A, [1, 1, 1, 1, 2, 2, 2]),
        (A - 11 * DAY, A - 6 * DAY, [1, 0, 1, 1, 1, 1, 1]),
    ],
)
def test_weekday_counts_of_a_window_that_is_not_whole_weeks(
    first: date, last: date, days: list[int]
) -> None:
    spans = pl.LazyFrame({"account_id": ["a"], "_from": [first], "_to": [last]})
    daily = pl.LazyFrame(
        schema={"account_id": pl.String, "usage_date": pl.Date, "amount": pl.Float64}
    )
    profile = weekday_profile(spans, daily, ["account_id"]).sort("_wd").collect()
    assert profile["_days"].to_list() == days


# weekday w's mean = w. Horizon 10 days after A (Sun): Mon Jul 1 … Wed Jul 10 -> Mon, Tue, Wed
# twice, Thu … Sun once: 2(1 + 2 + 3) + 4 + 5 + 6 + 7 = 34. 3 days after Wed Jun 26: Thu, Fri,
# Sat: 4 + 5 + 6 = 15
@pytest.mark.parametrize(("to", "horizon", "total"), [(A, 10, 34.0), (A - 4 * DAY, 3, 15.0)])
def test_horizon_sum_over_a_horizon_that_is_not_whole_weeks(
    to: date, horizon: int, total: float
) -> None:
    means = pl.DataFrame(
        {"_wd": list(range(1, 8)), "_to": to, "_mean": [float(w) for w in range(1, 8)]},
        schema_overrides={"_wd": pl.Int8},
    )
    assert means.select(horizon_sum(pl.lit(horizon))).item() == total


# variance 1 a day over 28 days: spread = √(28 + 0.3 x 28²) x z = √263.2 x 1.2816 = 20.79
@pytest.mark.parametrize(
    ("mean", "p10"),
    [
        (100.0, 100.0 - math.sqrt(28 + PERSISTENCE * 28**2) * Z90),
        (10.0, 0.0),  # 10 − 20.79 < 0: censored at 0
    ],
)
def test_p10_is_censored_at_zero(mean: float, p10: float) -> None:
    frame = pl.DataFrame({"mean": [mean], "var": [1.0], "h": [28]})
    got = frame.select(quantiles(pl.col("mean"), pl.col("var"), pl.col("h"))).row(0)
    spread = math.sqrt(28 + PERSISTENCE * 28**2) * Z90
    assert got == (pytest.approx(p10), mean, pytest.approx(mean + spread))


def _exhaustion(
    remaining_commit: float,
    remaining_days: int,
    per_day: float | pl.Expr = 10.0,
    **health: object,
) -> dict:
    """``per_day`` (10: no spread) each day of the 84-day window; commit − consumed =
    ``remaining_commit`` unless ``health`` sets account_health's columns."""
    days = pl.date_range(A - timedelta(days=83), A, eager=True)
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days}).with_columns(
        (per_day if isinstance(per_day, pl.Expr) else pl.lit(per_day))
        .cast(pl.Float64)
        .alias("amount")
    )
    health = pl.LazyFrame(
        {
            "account_id": ["a"],
            "term_start": [date(2023, 1, 1)],
            "term_end": [A + timedelta(days=remaining_days)],
            "remaining_days": [remaining_days],
            "commit_amount": [10_000.0 + remaining_commit],
            "consumed_to_date": [10_000.0],
            "exhaustion_date": [None],
        }
        | {name: [value] for name, value in health.items()},
        schema_overrides={"exhaustion_date": pl.Date},
    )
    terms = health.select("account_id", "term_start", "term_end")
    inputs = exhaustion_inputs(terms, daily, A)
    with_inputs = health.join(inputs, on="account_id", how="left")
    return with_inputs.with_columns(exhaustion_quantiles(A)).collect().row(0, named=True)


# R / m = 502 / 10 = 50.2 -> 51 days (not 50); 500 / 10 = 50 exactly -> 50 days; 0.01 / 10 ->
# 1 day (the p90 path's root 2 R² / (b + √…) with b + √… = 2 R m = 0.2, below 1)
@pytest.mark.parametrize(("remaining", "days"), [(502.0, 51), (500.0, 50), (499.0, 50), (0.01, 1)])
def test_exhaustion_day_rounds_up(remaining: float, days: int) -> None:
    row = _exhaustion(remaining, 100)
    expected = A + timedelta(days=days)
    assert (row["exhaustion_p10"], row["exhaustion_p50"], row["exhaustion_p90"]) == (expected,) * 3


# 50 days left at 10 a day, no spread: 500 by term end. R = 500 (exactly) -> 1.0; 500.01 -> 0.0
@pytest.mark.parametrize(("remaining", "chance"), [(499.99, 1.0), (500.0, 1.0), (500.01, 0.0)])
def test_chance_of_exhausting_by_term_end_on_the_line(remaining: float, chance: float) -> None:
    assert _exhaustion(remaining, 50)["p_exhaust_before_term_end"] == chance


# t is rounded to 6 decimals before the ceiling (float noise is not a day):
# 500.000004 / 10 = 50.0000004 -> 50.000000 -> 50 days; 500.00004 / 10 = 50.000004 -> 51 days
@pytest.mark.parametrize(("remaining", "days"), [(500.000004, 50), (500.00004, 51)])
def test_exhaustion_day_is_rounded_to_six_decimals_first(remaining: float, days: int) -> None:
    assert _exhaustion(remaining, 100)["exhaustion_p50"] == A + timedelta(days=days)


# the window reads QUIET_DAYS = 28 days before its first day A − 83 = Apr 8: A − 111 … A − 84.
# Each account spends 1 a day over A − 10 … A and once more on the day named:
#   lookback_first: A − 111, the lookback's first day: it has spent, the window is whole (A − 83)
#   before_lookback: A − 112, outside: a fresh start on A − 10
#   zero_amount: 0 on A − 111 is no spend: a fresh start on A − 10
# and two accounts without the recent spend:
#   only_before: only A − 84, the day before the window: no window (forecast 0)
#   only_first_day: only A − 83, the window's first day: a window from A − 83
QUIET = {
    "lookback_first": (A - timedelta(days=111), 1.0, True, A - timedelta(days=83)),
    "before_lookback": (A - timedelta(days=112), 1.0, True, A - timedelta(days=10)),
    "zero_amount": (A - timedelta(days=111), 0.0, True, A - timedelta(days=10)),
    "only_before": (A - timedelta(days=84), 1.0, False, None),
    "only_first_day": (A - timedelta(days=83), 1.0, False, A - timedelta(days=83)),
}


@pytest.mark.parametrize("account", list(QUIET))
def test_quiet_days_before_the_window(account: str) -> None:
    rows = []
    for name, (day, amount, recent, _) in QUIET.items():
        rows.append((name, day, amount))
        if recent:
            rows += [(name, A - timedelta(days=k), 1.0) for k in range(11)]
    daily = pl.LazyFrame(rows, schema=["account_id", "usage_date", "amount"], orient="row")
    terms = pl.LazyFrame({"account_id": list(QUIET), "term_start": date(2023, 1, 1)})
    spans = forecast_spans(terms, daily, A).collect()
    window_from = dict(zip(spans["account_id"], spans["_from"], strict=True))
    assert window_from[account] == QUIET[account][3]


# forecast_at: an account without spend in its window (z: its one spend is A − 84, before the
# window A − 83 … A) gets 0 — level, variance and quantiles — next to one with spend (a: 1 a day
# over the window, so level 1, variance 0 and 28 over 28 days).
def test_forecast_at_without_spend_in_the_window_is_zero() -> None:
    days = pl.date_range(A - timedelta(days=83), A, eager=True)
    daily = pl.concat(
        [
            pl.DataFrame({"account_id": "a", "usage_date": days, "amount": 1.0}),
            pl.DataFrame(
                {"account_id": ["z"], "usage_date": [A - timedelta(days=84)], "amount": 1.0}
            ),
        ]
    ).lazy()
    terms = pl.LazyFrame({"account_id": ["a", "z"], "term_start": date(2023, 1, 1)})
    got = forecast_at(terms, daily, A, pl.lit(28)).sort("account_id").collect()
    columns = ["_level", "_var", "p10", "p50", "p90"]
    assert got.select(columns).rows() == [(1.0, 0.0, 28.0, 28.0, 28.0), (0.0,) * 5]


# a level below 1: 0.5 a day, no spread, R = 10: a = m² = 0.25, b = 2 R m = 10, the roots meet
# at R / m = 20 days for all three
def test_exhaustion_at_a_level_below_one() -> None:
    row = _exhaustion(10.0, 100, per_day=0.5)
    assert (row["exhaustion_p10"], row["exhaustion_p50"], row["exhaustion_p90"]) == (
        A + timedelta(days=20),
    ) * 3


# consumed exactly the commit (10,000 of 10,000): already consumed, so all three are the day it
# was reached and the chance is 1
def test_a_commit_consumed_exactly_is_exhausted() -> None:
    reached = A - 3 * DAY
    row = _exhaustion(0.0, 100, exhaustion_date=reached)
    days = (row["exhaustion_p10"], row["exhaustion_p50"], row["exhaustion_p90"])
    assert (days, row["p_exhaust_before_term_end"]) == ((reached,) * 3, 1.0)


# a commit of 0.5 (below 1) is a commit: R = 0.5 at 10 a day -> 0.05 -> 1 day; 1000 by term end
def test_a_commit_below_one_is_a_commit() -> None:
    row = _exhaustion(0.0, 100, commit_amount=0.5, consumed_to_date=0.0)
    days = (row["exhaustion_p10"], row["exhaustion_p50"], row["exhaustion_p90"])
    assert (days, row["p_exhaust_before_term_end"]) == ((A + DAY,) * 3, 1.0)


# no spend in the window: forecast 0, so R = 0.5 is never reached (no day, chance 0, not 1)
def test_no_spend_never_exhausts_a_commit() -> None:
    row = _exhaustion(0.0, 100, per_day=0.0, commit_amount=0.5, consumed_to_date=0.0)
    days = (row["exhaustion_p10"], row["exhaustion_p50"], row["exhaustion_p90"])
    assert (days, row["p_exhaust_before_term_end"]) == ((None,) * 3, 0.0)


# a spread below 1: 10 a day in even weeks, 10.01 in odd ones: each weekday's mean 10.005, each
# day 0.005 from it, s² = 84 x 0.005² / 83 = 2.53e-5; over 50 days √(s² (50 + 0.3 x 50²)) = 0.14.
# R = the mean to term end, 50 x 10.005 = 500.25: the chance is Φ(0) = 0.5, not 0 or 1
def test_chance_with_a_spread_below_one() -> None:
    week = (pl.col("usage_date") - pl.lit(A - timedelta(days=83))).dt.total_days() // 7
    per_day = pl.when(week % 2 == 0).then(10.0).otherwise(10.01)
    row = _exhaustion(500.25, 50, per_day=per_day)
    assert row["p_exhaust_before_term_end"] == pytest.approx(0.5, abs=1e-3)


# constant 0.7 a day: Σ (c − mean)² computed as Σ c² − (Σ c)² / n is −6e-15 in floats, which
# is no variance (clipped at 0): 0.7 x 28 = 19.6 for p10, p50 and p90, not NaN
def test_a_constant_level_has_no_spread() -> None:
    days = pl.date_range(A - timedelta(days=83), A, eager=True)
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days, "amount": 0.7})
    terms = pl.LazyFrame({"account_id": ["a"], "term_start": [date(2023, 1, 1)]})
    row = forecast_at(terms, daily, A, pl.lit(28)).collect().row(0, named=True)
    assert row["_var"] == 0.0
    assert (row["p10"], row["p50"], row["p90"]) == (pytest.approx(19.6),) * 3


# a window of 1 to 7 days (here 1, 2 and 3), each day the only one of its weekday: every day is
# its weekday's mean, so the variance is exactly 0 and p90 = p50. Σ c² − (Σ c)² / 1 in the
# fixed point is not: 2679.951128² = 7182138.049… enters with 16 significant digits and leaves a
# residue (2.8e-9 here, so p90 − p50 = 0.001 over 28 days)
@pytest.mark.parametrize(
    "amounts",
    [[2679.951128], [2282.887335, 1416.735731], [1624.237418, 2817.447488, 1143.612713]],
    ids=["one_day", "two_days", "three_days"],
)
def test_a_window_of_single_weekdays_has_no_spread(amounts: list[float]) -> None:
    days = [A - timedelta(days=k) for k in reversed(range(len(amounts)))]
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days, "amount": amounts})
    terms = pl.LazyFrame({"account_id": ["a"], "term_start": [date(2023, 1, 1)]})
    row = forecast_at(terms, daily, A, pl.lit(28)).collect().row(0, named=True)
    assert row["_var"] == 0.0
    assert row["p10"] == row["p50"] == row["p90"]
