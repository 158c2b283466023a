"""The metrics entry point: resolve_as_of and compute_artifacts."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from _books import contract, make_book, usage
from drawdown.artifacts import OPTIONAL_ARTIFACTS, SCHEMAS
from drawdown.errors import InputError
from drawdown.inputs.rating import rate_usage
from drawdown.inputs.validate import load_book
from drawdown.metrics import (
    actions_stage,
    compute_artifacts,
    forecast_spend,
    forecast_stage,
    health_stage,
    overconsumption_stage,
    portfolio_stage,
    reset_stage,
    resolve_as_of,
    seen_at,
)
from drawdown.metrics.backtest import forecast_backtest
from drawdown.params import Params
from drawdown.run import steps

BOOK = make_book(
    [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1200.0)],
    [usage("a", date(2024, 1, 1), date(2024, 3, 15), 5.0)],
)


def test_as_of_defaults_to_the_latest_usage_date() -> None:
    assert resolve_as_of(BOOK, Params()) == date(2024, 3, 15)


def test_as_of_from_params_wins() -> None:
    assert resolve_as_of(BOOK, Params(as_of=date(2024, 2, 1))) == date(2024, 2, 1)


def test_as_of_without_usage_is_an_input_error() -> None:
    empty = make_book([contract("c1", date(2024, 1, 1), None, 0.0)], [])
    # the whole message (kills resolve_as_of's mutant 9: the message changed)
    message = "^the usage table has no rows: set as_of to compute metrics$"
    with pytest.raises(InputError, match=message):
        resolve_as_of(empty, Params())


def test_compute_artifacts_returns_every_artifact_but_the_reset() -> None:
    artifacts = compute_artifacts(BOOK, Params())
    assert set(artifacts) == set(SCHEMAS) - set(OPTIONAL_ARTIFACTS)


def test_compute_artifacts_includes_the_reset_when_configured() -> None:
    params = Params.model_validate({"reset": {"start_date": "2024-03-01"}})
    assert set(compute_artifacts(BOOK, params)) == set(SCHEMAS)


# compute_artifacts casts every artifact to its schema (conform), so a schema check after it
# cannot fail; what it must get right is the numbers: 5 a day Jan 1 … Mar 15 on a 1200 commit,
# no included quantity (no meter months, no case), a reset from Mar 1 with eight items
def test_artifacts_hold_the_books_numbers() -> None:
    params = Params.model_validate({"reset": {"start_date": "2024-03-01"}})
    artifacts = compute_artifacts(BOOK, params)
    daily = artifacts["daily_spend"]
    assert (daily.height, daily["amount"].unique().to_list()) == (75, [5.0])
    assert artifacts["meter_months"].is_empty() and artifacts["overage_cases"].is_empty()
    summary = artifacts["segment_summary"].select("segment", "accounts", "commit_total").rows()
    assert summary == [("mid", 1, 1200.0), ("All", 1, 1200.0)]
    assert artifacts["reset_tracker"].height == 8


# 5 a day Jan 1 … Mar 15 (75 days): 375 of 1200 consumed on the one account
def test_account_health_artifact_uses_the_resolved_as_of() -> None:
    health = compute_artifacts(BOOK, Params())["account_health"]
    assert health.select("account_id", "consumed_to_date").rows() == [("a", 375.0)]


def test_an_earlier_book_from_the_daily_spend_artifact_is_the_same_as_from_the_usage(
    small_book,
) -> None:
    # history and changes take the earlier books' spend from daily_spend (as of A) instead of
    # aggregating the rated usage again: the frames must not change by a bit
    params = Params()
    validated = load_book(small_book, params)
    rated = validated.rated.lazy()
    daily = health_stage(validated.book, params, rated)["daily_spend"]
    earlier = date(2026, 10, 15)
    fresh = seen_at(validated.book, params, rated, earlier, with_summary=True)
    reused = seen_at(validated.book, params, rated, earlier, with_summary=True, daily=daily)
    assert set(fresh) == {"account_health", "overage_cases", "segment_summary"}
    for name, frame in fresh.items():
        assert reused[name].equals(frame), name


# the week's comparison (changes, artifacts/previous_week) reads account_health and overage_cases
# only: without with_summary no segment_summary is computed or written
@pytest.mark.parametrize(
    ("with_summary", "names"),
    [
        (False, {"account_health", "overage_cases"}),
        (True, {"account_health", "overage_cases", "segment_summary"}),
    ],
)
def test_seen_at_computes_the_summary_only_when_asked(with_summary: bool, names: set) -> None:
    rated = rate_usage(BOOK)
    earlier = date(2024, 3, 1)
    if with_summary:
        frames = seen_at(BOOK, Params(), rated, earlier, with_summary=True)
    else:
        frames = seen_at(BOOK, Params(), rated, earlier)
    assert set(frames) == names


# forecast_spend keeps the last max(OFFSETS) + WINDOW_DAYS + QUIET_DAYS + HORIZON_DAYS
# = 84 + 84 + 28 + 28 = 224 days: A − 223 … A (kills forecast_spend's mutants 2, 3: a reach of
# 168; and 10: `>=` keeping A − 224 too)
def test_forecast_spend_keeps_the_last_224_days() -> None:
    as_of = date(2024, 12, 31)
    days = pl.date_range(as_of - timedelta(days=300), as_of, eager=True)
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days, "amount": 1.0})
    kept = forecast_spend(daily, as_of).collect()["usage_date"]
    assert (kept.min(), kept.max(), kept.len()) == (as_of - timedelta(days=223), as_of, 224)


# The farthest day a forecast reads: the back-test made at M = A − 84 looks for a first day with
# spend in [M − 83 − 28, M] = [A − 195, A − 84] (the window and the QUIET_DAYS before it). Spend
# on A − 190 and then every day from A − 100: with the day A − 190 the window at M is the whole
# [A − 167, A − 84] (84 days, 17 with spend); without it, a fresh start [A − 100, A − 84].
def test_forecast_spend_holds_every_day_the_back_test_reads() -> None:
    as_of = date(2024, 12, 31)
    book = make_book([contract("c1", date(2024, 1, 1), date(2025, 12, 31), 5000.0)], [])
    days = [
        as_of - timedelta(days=190),
        *pl.date_range(as_of - timedelta(days=100), as_of, eager=True),
    ]
    daily = pl.LazyFrame({"account_id": "a", "usage_date": days, "amount": 5.0})
    whole = forecast_backtest(book.contracts, daily, as_of, 28).collect()
    kept = forecast_backtest(book.contracts, forecast_spend(daily, as_of), as_of, 28).collect()
    assert kept.equals(whole)
    # the day A − 190 matters: without it the forecast made at A − 84 differs
    later = forecast_backtest(
        book.contracts, daily.filter(pl.col("usage_date") > as_of - timedelta(days=168)), as_of, 28
    ).collect()
    assert not later.equals(whole)


# reset_stage with the daily_spend artifact (as compute_artifacts calls it) and without it
# (aggregating the rated usage again) gives the same frames (kills reset_stage's mutants 7 and 9,
# which call `.lazy()` on the missing artifact)
def test_reset_stage_without_the_daily_spend_is_the_same() -> None:
    params = Params.model_validate({"reset": {"start_date": "2024-03-01"}})
    rated = rate_usage(BOOK).collect().lazy()
    frames = health_stage(BOOK, params, rated)
    health = frames["account_health"]
    cases = overconsumption_stage(BOOK, params, rated, health)["overage_cases"]
    given = reset_stage(BOOK, params, rated, health, cases, frames["daily_spend"])
    fresh = reset_stage(BOOK, params, rated, health, cases)
    assert set(fresh) == {"reset_tracker", "reset_comparison"}
    for name, frame in fresh.items():
        assert given[name].equals(frame), name


# health_stage(forecast=False) leaves the exhaustion quantiles null; by default they are
# computed: 825 of 1200 left at a flat 5 a day, so p10 = p50 = p90 = A + 165 days = Aug 27 (kills
# health_stage's mutant 25: `forecast` not passed on to account_health)
def test_health_stage_without_forecast_leaves_the_exhaustion_null() -> None:
    rated = rate_usage(BOOK).collect().lazy()
    columns = ["exhaustion_p10", "exhaustion_p50", "exhaustion_p90", "p_exhaust_before_term_end"]
    with_forecast = health_stage(BOOK, Params(), rated)["account_health"].select(columns)
    without = health_stage(BOOK, Params(), rated, forecast=False)["account_health"].select(columns)
    assert with_forecast.row(0) == (date(2024, 8, 27),) * 3 + (1.0,)
    assert without.null_count().row(0) == (1, 1, 1, 1)


# seen_at's account_health reads no forecast: its exhaustion quantiles are null, where the
# same book's health_stage as of that day has them (kills seen_at's mutants 33, 34: the
# account_health of the earlier book computed with forecast=True)
def test_seen_at_leaves_the_exhaustion_null() -> None:
    rated = rate_usage(BOOK).collect().lazy()
    columns = ["exhaustion_p10", "exhaustion_p50", "exhaustion_p90", "p_exhaust_before_term_end"]
    earlier = date(2024, 3, 1)
    health = seen_at(BOOK, Params(), rated, earlier)["account_health"].select(columns)
    assert health.null_count().row(0) == (1, 1, 1, 1)
    staged = health_stage(BOOK, Params(as_of=earlier), rated)["account_health"].select(columns)
    assert staged.null_count().row(0) == (0, 0, 0, 0)


# the compute notebooks read the partitioned series (daily_spend, account_months, meter_months)
# with their parts one after the other, not merged back into account order
# (steps.read_artifacts): every stage that reads them must give the same frames, to the bit,
# whatever order their rows come in
def test_the_stages_that_read_the_series_do_not_depend_on_their_row_order(small_book) -> None:
    params = Params.model_validate({"reset": {"start_date": "2026-09-01"}})
    validated = load_book(small_book, params)
    book, rated = validated.book, validated.rated.lazy()
    health = health_stage(book, params, rated)
    over = overconsumption_stage(book, params, rated, health["account_health"])
    ordered = {
        "account_health": health["account_health"],
        "overage_cases": over["overage_cases"],
        "daily_spend": health["daily_spend"],
        "account_months": health["account_months"],
        "meter_months": over["meter_months"],
    }
    shuffled = ordered | {
        name: ordered[name].sample(fraction=1.0, shuffle=True, seed=7)
        for name in ("daily_spend", "account_months", "meter_months")
    }
    assert not shuffled["daily_spend"].equals(ordered["daily_spend"])

    def stages(frames: dict[str, pl.DataFrame]) -> dict[str, pl.DataFrame]:
        health, cases, daily = (
            frames[n] for n in ("account_health", "overage_cases", "daily_spend")
        )
        months, meters = frames["account_months"], frames["meter_months"]
        history = steps.history_step(book, params, rated, daily)
        return (
            actions_stage(book, params, health, cases, months, daily)
            | forecast_stage(book, params, rated, health, meters, daily)
            | portfolio_stage(book, params, health, cases, daily)
            | reset_stage(book, params, rated, health, cases, daily)
            | {
                f"{when}/{name}": frame
                for when, seen in history.items()
                for name, frame in seen.items()
            }
        )

    expected, got = stages(ordered), stages(shuffled)
    assert set(got) == set(expected)
    for name, frame in expected.items():
        assert got[name].equals(frame), name
