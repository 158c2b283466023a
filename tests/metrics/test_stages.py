"""The metrics entry point: resolve_as_of and compute_artifacts."""

from __future__ import annotations

from datetime import date

import pytest

from _books import contract, make_book, usage
from drawdown.artifacts import OPTIONAL_ARTIFACTS, SCHEMAS
from drawdown.errors import InputError
from drawdown.inputs.rating import rate_usage
from drawdown.inputs.validate import load_book
from drawdown.metrics import compute_artifacts, health_stage, resolve_as_of, seen_at
from drawdown.params import Params

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
    with pytest.raises(InputError, match="as_of"):
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
