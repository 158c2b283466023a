"""Changes since the previous run (docs/metrics.md#changes-since-the-previous-run) on a two-run
book: the accounts and cases as of 2026-11-08 (then) and as of 2026-11-15 (now)."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from drawdown.metrics.changes import changes

THEN = date(2026, 11, 8)
_HEALTH = {"account_id": pl.String, "band": pl.String, "burn": pl.String}
_HEALTH |= {"first_billable_date": pl.Date}
_CASES = {"account_id": pl.String, "pattern": pl.String, "triage": pl.String}


def _health(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, band, burn, first_billable_date)."""
    return pl.LazyFrame(rows, schema=_HEALTH, orient="row")


def _cases(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, pattern, triage)."""
    return pl.LazyFrame(rows, schema=_CASES, orient="row")


LIVE = date(2025, 1, 10)
STEADY = ("healthy", "on_pace", LIVE)


def _changes(health_then, cases_then, health_now, cases_now) -> list[tuple]:
    frame = changes(health_now, cases_now, health_then, cases_then, THEN).collect()
    assert frame["previous_as_of"].unique().to_list() in ([THEN], [])
    return frame.select("account_id", "change", "from", "to").rows()


def test_a_book_that_did_not_move_has_no_change() -> None:
    health, cases = _health(("a", *STEADY)), _cases(("a", "spike", "monitor"))
    assert _changes(health, cases, health, cases) == []


def test_new_case() -> None:
    health = _health(("a", *STEADY))
    assert _changes(health, _cases(), health, _cases(("a", "emerging", "watch"))) == [
        ("a", "new_case", None, "emerging")
    ]


def test_resolved_case_also_for_an_account_that_left_the_book() -> None:
    then = _health(("a", *STEADY), ("b", *STEADY))
    cases_then = _cases(("a", "spike", "monitor"), ("b", "sustained", "conversation"))
    assert _changes(then, cases_then, _health(("a", *STEADY)), _cases()) == [
        ("a", "resolved", "spike", None),
        ("b", "resolved", "sustained", None),
    ]


@pytest.mark.parametrize(
    ("before", "after", "expected"),
    [
        (("spike", "monitor"), ("emerging", "watch"), ("spike", "emerging")),
        (("emerging", "watch"), ("sustained", "conversation"), ("emerging", "sustained")),
        (("spike", "monitor"), ("sustained", "wait"), ("spike", "sustained")),
        (("sustained", "watch"), ("sustained", "wait"), ("watch", "wait")),
        (("sustained", "wait"), ("sustained", "conversation"), ("wait", "conversation")),
        (("sustained", "wait"), ("sustained", "unassigned"), ("wait", "unassigned")),
        (("emerging", "monitor"), ("emerging", "watch"), ("monitor", "watch")),
    ],
)
def test_escalated_when_the_pattern_or_else_the_triage_rose(before, after, expected) -> None:
    health = _health(("a", *STEADY))
    rows = _changes(health, _cases(("a", *before)), health, _cases(("a", *after)))
    assert rows == [("a", "escalated", *expected)]


@pytest.mark.parametrize(
    ("before", "after"),
    [
        (("sustained", "conversation"), ("emerging", "watch")),
        (("sustained", "conversation"), ("sustained", "unassigned")),
        (("sustained", "conversation"), ("sustained", "wait")),
    ],
)
def test_a_case_that_eased_or_moved_sideways_is_not_escalated(before, after) -> None:
    health = _health(("a", *STEADY))
    assert _changes(health, _cases(("a", *before)), health, _cases(("a", *after))) == []


def test_band_change_and_burn_change_with_from_and_to() -> None:
    then = _health(("a", "healthy", "on_pace", LIVE), ("b", "paygo", None, LIVE))
    now = _health(("a", "over", "too_fast", LIVE), ("b", "healthy", "on_pace", LIVE))
    assert _changes(then, _cases(), now, _cases()) == [
        ("a", "band_change", "healthy", "over"),
        ("b", "band_change", "paygo", "healthy"),
        ("a", "burn_change", "on_pace", "too_fast"),
        ("b", "burn_change", None, "on_pace"),
    ]


def test_went_live() -> None:
    then = _health(("a", "not_live", "too_slow", None))
    now = _health(("a", "under", "too_slow", date(2026, 11, 12)))
    assert _changes(then, _cases(), now, _cases()) == [
        ("a", "band_change", "not_live", "under"),
        ("a", "went_live", None, "2026-11-12"),
    ]


def test_an_account_new_to_the_book_went_live_only_when_it_did_so_since_then() -> None:
    # b's contract started after the previous run and its first billable day is 2026-11-10;
    # c is back after a gap between contracts, live since 2025
    now = _health(("b", "under", "too_slow", date(2026, 11, 10)), ("c", *STEADY))
    assert _changes(_health(), _cases(), now, _cases()) == [("b", "went_live", None, "2026-11-10")]


def test_changes_are_listed_by_kind_then_account() -> None:
    then = _health(("a", *STEADY), ("b", *STEADY), ("c", "not_live", "too_slow", None))
    now = _health(
        ("a", "over", "on_pace", LIVE),
        ("b", *STEADY),
        ("c", "under", "too_slow", date(2026, 11, 9)),
    )
    cases_then = _cases(("b", "spike", "monitor"), ("z", "spike", "monitor"))
    cases_now = _cases(("a", "spike", "monitor"), ("b", "sustained", "wait"))
    kinds = [row[1] for row in _changes(then, cases_then, now, cases_now)]
    assert kinds == [
        "new_case",
        "escalated",
        "resolved",
        "band_change",
        "band_change",
        "went_live",
    ]


# an account new to the book: it went live since the previous run only when its first billable
# date is after THEN (Nov 8); on THEN itself it was live then
@pytest.mark.parametrize(
    ("first_billable", "went_live"),
    [(date(2026, 11, 7), False), (THEN, False), (date(2026, 11, 9), True)],
)
def test_went_live_of_a_new_account_at_the_previous_as_of(first_billable, went_live) -> None:
    now = _health(("b", "under", "too_slow", first_billable))
    got = _changes(_health(), _cases(), now, _cases())
    assert got == ([("b", "went_live", None, first_billable.isoformat())] if went_live else [])


def test_went_live_on_usage_that_arrived_after_the_previous_run() -> None:
    # a was in the previous run (THEN = Nov 8) with no first billable event; usage dated Nov 5
    # arrived later, so now its first billable date is before THEN: a first billable event now,
    # none then, is going live (the "after THEN" rule is only for accounts absent then)
    # (kills changes.x__went_live__mutmut_17: every account read as absent then)
    then = _health(("a", "not_live", "too_slow", None))
    now = _health(("a", "under", "too_slow", date(2026, 11, 5)))
    assert _changes(then, _cases(), now, _cases()) == [
        ("a", "band_change", "not_live", "under"),
        ("a", "went_live", None, "2026-11-05"),
    ]
