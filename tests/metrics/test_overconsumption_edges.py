"""Every rule of docs/metrics.md#overconsumption-against-contractual-limits at its edge: a month
exactly at its limit (not over), a cent inside and outside, a limit that does not divide evenly;
the lookback's first day and the day before; sustained_months on the line; the spike test with
typical exactly at the limit; eligibility at min_pct_over and value_floor; the CSM's fifth and
sixth case; the status on A and the day after; a limit of one day and of an included quantity of
1; a case's latest over month from its own meter. Each account is asserted on its own.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest

from _books import limit_book
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.overconsumption import (
    case_status,
    meter_months,
    over_meters,
    overage_cases,
    triage,
)
from drawdown.params import Params

APR_30 = date(2024, 4, 30)
APRIL = date(2024, 4, 1)


def _health(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, csm_owner, account_value); AE ``ae``, segment ``mid``."""
    return pl.LazyFrame(
        rows,
        schema={"account_id": pl.String, "csm_owner": pl.String, "account_value": pl.Float64},
        orient="row",
    ).with_columns(ae_owner=pl.lit("ae"), account_name=pl.col("account_id"), segment=pl.lit("mid"))


def _cases(book: Book, health: pl.LazyFrame, as_of: date = APR_30, **settings) -> pl.DataFrame:
    params = Params(overconsumption=settings)
    months = meter_months(book, rate_usage(book), as_of)
    return overage_cases(months, health, book, params, as_of).collect()


def _by_account(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["account_id"]: row for row in frame.to_dicts()}


# --- a month at its limit ---------------------------------------------------------------------

# included 3000 in April (30 days): 100 a day, limit 3000 at A = Apr 30; one usage day each
# "at": 3000 = limit, not over (pct_over 0); "in": 2999.99; "out": 3000.01 (over by 0.01)
# "third": included 1000, A = Apr 10: 1000 / 30 x 10 = 333.33…; usage 333.34 is over by 0.00666…
LINE_USAGE = {"at": 3000.0, "in": 2999.99, "out": 3000.01}


def _line_book() -> Book:
    accounts = [*LINE_USAGE, "third"]
    return limit_book(
        [(f"c_{a}", a, APRIL, None) for a in accounts],
        [(f"c_{a}", "m", 1.0, 3000.0, 2.0) for a in LINE_USAGE]
        + [("c_third", "m", 1.0, 1000.0, 3.0)],
        [(a, "m", date(2024, 4, 9), q) for a, q in LINE_USAGE.items()]
        + [("third", "m", date(2024, 4, 9), 333.34)],
    )


@pytest.fixture
def line_months() -> dict[str, dict]:
    book = _line_book()
    april = meter_months(book, rate_usage(book), APR_30).collect()
    third = meter_months(book, rate_usage(book), date(2024, 4, 10)).collect()
    return {
        **_by_account(april.filter(pl.col("account_id") != "third")),
        **_by_account(third.filter(pl.col("account_id") == "third")),
    }


@pytest.mark.parametrize(("account", "over"), [("at", False), ("in", False), ("out", True)])
def test_month_is_over_only_above_its_limit(line_months: dict, account: str, over: bool) -> None:
    assert line_months[account]["is_over"] is over


def test_month_exactly_at_its_limit_has_nothing_past_the_line(line_months: dict) -> None:
    row = line_months["at"]
    assert (row["limit"], row["pct_over"], row["over_units"], row["overage_amount"]) == (
        3000.0,
        0.0,
        0.0,
        0.0,
    )


def test_month_under_its_limit_has_no_negative_overage(line_months: dict) -> None:
    # over_units = max(0, 2999.99 − 3000) = 0, though pct_over is negative
    row = line_months["in"]
    assert (row["over_units"], row["overage_amount"]) == (0.0, 0.0)
    assert row["pct_over"] == pytest.approx(2999.99 / 3000 - 1, rel=1e-12)


# limit 1000 / 30 x 10 = 333.333…; usage 333.34 -> over_units 0.00666…, pct_over 2e-5,
# overage 0.00666… x 3.0 = 0.02
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("limit", 1000 / 30 * 10),
        ("over_units", 333.34 - 1000 / 3),
        ("pct_over", 333.34 / (1000 / 3) - 1),
        ("overage_amount", (333.34 - 1000 / 3) * 3.0),
    ],
)
def test_limit_that_does_not_divide_evenly(line_months: dict, column: str, expected: float) -> None:
    assert line_months["third"][column] == pytest.approx(expected, rel=1e-9)


# The limit's smallest cases, A = Apr 30, usage 1.5 x the month's limit in each:
# "starts_on_a": included 3000, contract from A itself: one limited day, limit 3000 / 30 x 1 =
#   100, usage 150 -> pct_over 0.5 (a span of one day is a span: kills _limited_spans' 68,
#   span_from < span_to, which leaves the account no meter month);
# "included_1": included 1 in April since Apr 1: limit 1 / 30 x 30 = 1, usage 1.5 -> pct_over
#   0.5 (any included_quantity above 0 is a limit: kills has_limit's 7, above 1).
SMALL_LIMITS = {"starts_on_a": (APR_30, 3000.0, 150.0), "included_1": (APRIL, 1.0, 1.5)}


@pytest.mark.parametrize(("account", "limit"), [("starts_on_a", 100.0), ("included_1", 1.0)])
def test_the_smallest_limits_are_limits(account: str, limit: float) -> None:
    book = limit_book(
        [(f"c_{a}", a, start, None) for a, (start, _, _) in SMALL_LIMITS.items()],
        [(f"c_{a}", "m", 1.0, included, None) for a, (_, included, _) in SMALL_LIMITS.items()],
        [(a, "m", APR_30, usage) for a, (_, _, usage) in SMALL_LIMITS.items()],
    )
    row = _by_account(meter_months(book, rate_usage(book), APR_30).collect())[account]
    assert (row["month"], row["is_over"]) == (APRIL, True)
    assert (row["limit"], row["pct_over"]) == pytest.approx((limit, 0.5))


# meter_months is sorted by account_id, meter, month whatever the order of the book's rows: three
# accounts listed a3, a1, a2, meters y then x, usage months April back to January. Its rows come
# out of a group_by (no order of its own): without the final sort (meter_months' 42, sort(None))
# all 50 of 50 calls in each of three processes came out unsorted.
def test_meter_months_are_sorted_by_account_meter_and_month() -> None:
    accounts = ["a3", "a1", "a2"]
    book = limit_book(
        [(f"c_{a}", a, date(2024, 1, 1), None) for a in accounts],
        [(f"c_{a}", m, 1.0, 100.0, None) for a in accounts for m in ("y", "x")],
        [
            (a, m, date(2024, mo, 5), 50.0)
            for a in accounts
            for m in ("y", "x")
            for mo in (4, 3, 2, 1)
        ],
    )
    months = meter_months(book, rate_usage(book), APR_30).collect()
    assert months.height == 3 * 2 * 4
    assert months.select("account_id", "meter", "month").rows() == sorted(
        months.select("account_id", "meter", "month").rows()
    )


# --- lookback, sustained, spike ---------------------------------------------------------------

# included 3000 a month since 2023; A = Apr 30: lookback Feb 1 … Apr 30.
# One 4000 day (over) on the given days.
LOOKBACK_OVER_DAYS = {
    "feb_first": (date(2024, 2, 1),),  # the lookback's first day
    "jan_last": (date(2024, 1, 31),),  # the day before: no over month in the lookback
    "two": (date(2024, 2, 1), date(2024, 4, 30)),  # Feb and Apr (A itself): 2 months
}


def _lookback_book() -> Book:
    return limit_book(
        [(f"c_{a}", a, date(2023, 1, 1), None) for a in LOOKBACK_OVER_DAYS],
        [(f"c_{a}", "m", 1.0, 3000.0, None) for a in LOOKBACK_OVER_DAYS],
        [(a, "m", day, 4000.0) for a, days in LOOKBACK_OVER_DAYS.items() for day in days],
    )


@pytest.fixture
def lookback_cases() -> dict[str, dict]:
    health = _health(*[(a, "csm", 1.0) for a in LOOKBACK_OVER_DAYS])
    return _by_account(_cases(_lookback_book(), health))


@pytest.mark.parametrize(
    ("account", "months_over"), [("feb_first", 1), ("jan_last", None), ("two", 2)]
)
def test_lookback_first_day(lookback_cases: dict, account: str, months_over: int | None) -> None:
    row = lookback_cases.get(account)
    assert (row["months_over"] if row else None) == months_over


def test_two_over_months_reach_sustained_months(lookback_cases: dict) -> None:
    assert lookback_cases["two"]["pattern"] == "sustained"


def test_two_over_months_are_not_sustained_when_three_are_needed() -> None:
    health = _health(("two", "csm", 1.0))
    cases = _cases(_lookback_book(), health, sustained_months=3)
    # April (A's month) has the one 4000 day among 30: median 0 -> typical 0 ≤ 3000: spike
    assert cases.filter(pl.col("account_id") == "two")["pattern"].item() == "spike"


# Spike test at the latest over month, April (limit 3000 = 100 a day, 30 days to A = Apr 30):
# typical = median daily quantity x 30. One big day carries each month over.
SPIKE_DAYS = {
    "typical_at": (100.0, 500.0),  # 29 x 100 + 500: median 100 x 30 = 3000 = limit -> spike
    "typical_in": (99.99, 1000.0),  # median 99.99 -> 2999.7 < 3000 -> spike
    "typical_out": (100.01, 500.0),  # median 100.01 -> 3000.3 > 3000 -> emerging
}


def _spike_book() -> Book:
    usage = []
    for account, (typical, big) in SPIKE_DAYS.items():
        days = pl.date_range(APRIL, APR_30, eager=True).to_list()
        usage += [(account, "m", day, typical) for day in days[:-1]]
        usage.append((account, "m", days[-1], big))
    return limit_book(
        [(f"c_{a}", a, APRIL, None) for a in SPIKE_DAYS],
        [(f"c_{a}", "m", 1.0, 3000.0, None) for a in SPIKE_DAYS],
        usage,
    )


@pytest.fixture
def spike_cases() -> dict[str, dict]:
    return _by_account(_cases(_spike_book(), _health(*[(a, "csm", 1.0) for a in SPIKE_DAYS])))


@pytest.mark.parametrize(
    ("account", "pattern", "triage"),
    [
        ("typical_at", "spike", "monitor"),
        ("typical_in", "spike", "monitor"),
        ("typical_out", "emerging", "watch"),
    ],
)
def test_spike_test_at_its_edge(spike_cases: dict, account: str, pattern: str, triage: str) -> None:
    assert (spike_cases[account]["pattern"], spike_cases[account]["triage"]) == (pattern, triage)


# Days without usage count as 0 in the typical day: included 15 in April (0.5 a day), one usage
# day of 100 on Apr 9 and no row on the 29 others: median 0 -> typical 0 ≤ 15 -> spike. (Were
# the missing days 1, the median would be 1 -> typical 30 > 15 -> emerging: kills _typical_at's
# mutant 65, fill_null(1.0).)
def test_days_without_usage_are_zero_in_the_typical_day() -> None:
    book = limit_book(
        [("c_sparse", "sparse", APRIL, None)],
        [("c_sparse", "m", 1.0, 15.0, None)],
        [("sparse", "m", date(2024, 4, 9), 100.0)],
    )
    case = _by_account(_cases(book, _health(("sparse", "csm", 1.0))))["sparse"]
    assert (case["pattern"], case["triage"]) == ("spike", "monitor")


# pct_over and limit are those of the latest over month m* whatever the order of the meter
# months' rows: March limit 1000 (c1), usage 1500 -> pct_over 0.5; April limit 2000 (c2), usage
# 2400 -> 0.2. m* = April: 0.2 and 2000, from the rows in reverse month order too (kills
# over_meters' mutants 45 and 56: sorted by is_over alone, the last over row is March's)
def test_over_meter_takes_the_latest_over_month_whatever_the_row_order() -> None:
    book = limit_book(
        [("c1", "two", date(2024, 3, 1), date(2024, 3, 31)), ("c2", "two", APRIL, None)],
        [("c1", "m", 1.0, 1000.0, None), ("c2", "m", 1.0, 2000.0, None)],
        [("two", "m", date(2024, 3, 9), 1500.0), ("two", "m", date(2024, 4, 9), 2400.0)],
    )
    months = meter_months(book, rate_usage(book), APR_30).collect()
    for frame in (months, months.reverse()):
        row = over_meters(frame.lazy(), book, Params(), APR_30).collect().row(0, named=True)
        assert (row["months_over"], row["latest_over_month"]) == (2, APRIL)
        assert (row["pct_over"], row["limit"]) == pytest.approx((0.2, 2000.0))


# --- eligibility and CSM capacity -------------------------------------------------------------


def _sustained(account: str, pct: float) -> pl.DataFrame:
    """Meter months of March and April 2024: limit 1000, over by ``pct`` in both."""
    usage = 1000.0 * (1 + pct)
    return pl.DataFrame(
        {
            "account_id": account,
            "meter": "m",
            "month": [date(2024, 3, 1), APRIL],
            "limit": 1000.0,
            "usage": usage,
            "over_units": usage - 1000.0,
            "pct_over": pct,
            "overage_amount": usage - 1000.0,
            "is_over": True,
            "unit_price": 1.0,
            "overage_unit_price": 1.0,
        }
    )


def _triage(health: pl.LazyFrame, *months: pl.DataFrame, **settings) -> dict[str, dict]:
    cases = overage_cases(
        pl.concat(months).lazy(),
        health,
        Book.from_frames(),
        Params(overconsumption=settings),
        APR_30,
    ).collect()
    return _by_account(cases)


# each account its own CSM; eligible = sustained, pct_over ≥ 0.10, account_value ≥ 20000
ELIGIBILITY = {
    "pct_on": (0.10, 50_000.0, "conversation"),  # exactly min_pct_over
    "pct_in": (0.1001, 50_000.0, "conversation"),
    "pct_out": (0.0999, 50_000.0, "watch"),
    "value_on": (0.5, 20_000.0, "conversation"),  # exactly value_floor
    "value_in": (0.5, 20_000.01, "conversation"),
    "value_out": (0.5, 19_999.99, "watch"),
    "value_null": (0.5, None, "watch"),
}


# function-scoped: mutmut runs, for a mutant, only the tests that called the mutated function,
# and a test reading a module fixture another test computed never calls it
@pytest.fixture
def eligibility() -> dict[str, dict]:
    health = _health(*[(a, f"csm_{a}", value) for a, (_, value, _) in ELIGIBILITY.items()])
    return _triage(health, *[_sustained(a, pct) for a, (pct, _, _) in ELIGIBILITY.items()])


@pytest.mark.parametrize("account", list(ELIGIBILITY))
def test_eligibility_at_its_edges(eligibility: dict, account: str) -> None:
    assert eligibility[account]["triage"] == ELIGIBILITY[account][2]


def test_a_case_without_account_value_ranks_last(eligibility: dict) -> None:
    # value_null's priority_score (account_value x pct_over) is null: ranked after the six with
    # a score, not first as a descending sort would put a null (rank_cases' 130 and 154)
    assert eligibility["value_null"]["rank"] == len(ELIGIBILITY)
    assert sorted(case["rank"] for case in eligibility.values()) == list(range(1, 8))


# A case's latest_over_month is that of its meter (the highest pct_over, ties: the first meter
# name), not of another of its meters. Limit 1000 a month; each meter over in one month only:
# "apart": meter a over in March by 0.5 (usage 1500), meter b in April by 0.25 (usage 1250) ->
#   meter a, pct_over 0.5, latest_over_month March (the lowest pct_over first would take b's
#   April: kills rank_cases' 56 and 60, latest_over_month sorted ascending);
# "tied": a over in March by 0.5, b in April by 0.5 -> a (first name), March (the meter tie
#   broken descending would take b's April: kills rank_cases' 61).
CASE_METERS = {
    "apart": {"a": (date(2024, 3, 1), 0.5), "b": (APRIL, 0.25)},
    "tied": {"a": (date(2024, 3, 1), 0.5), "b": (APRIL, 0.5)},
}


def _over_month(account: str, meter: str, month: date, pct: float) -> pl.DataFrame:
    """One meter month of ``_sustained``'s (March or April 2024), limit 1000, over by ``pct``."""
    return (
        _sustained(account, pct).filter(pl.col("month") == month).with_columns(meter=pl.lit(meter))
    )


# function-scoped for mutmut (see eligibility)
@pytest.fixture
def case_meters() -> dict[str, dict]:
    health = _health(*[(a, f"csm_{a}", 50_000.0) for a in CASE_METERS])
    months = [
        _over_month(account, meter, month, pct)
        for account, meters in CASE_METERS.items()
        for meter, (month, pct) in meters.items()
    ]
    return _triage(health, *months)


@pytest.mark.parametrize(
    ("account", "meter", "pct_over", "latest_over_month"),
    [("apart", "a", 0.5, date(2024, 3, 1)), ("tied", "a", 0.5, date(2024, 3, 1))],
)
def test_a_case_takes_its_meters_latest_over_month(
    case_meters: dict, account: str, meter: str, pct_over: float, latest_over_month: date
) -> None:
    case = case_meters[account]
    assert (case["meter"], case["pct_over"], case["latest_over_month"]) == (
        meter,
        pytest.approx(pct_over),
        latest_over_month,
    )


# one CSM, six eligible cases, values 60 000, 50 000 … 10 000 + 20 000: ranks 1 … 6;
# max_cases_per_csm 5: ranks 1-5 conversation, rank 6 wait; another CSM's case is not counted
CAPACITY = {f"k{i}": 80_000.0 - 10_000.0 * i for i in range(1, 7)}


@pytest.fixture
def capacity() -> dict[str, dict]:
    health = _health(*[(a, "pat", v) for a, v in CAPACITY.items()], ("other", "sam", 90_000.0))
    return _triage(health, *[_sustained(a, 0.5) for a in [*CAPACITY, "other"]])


@pytest.mark.parametrize(
    ("account", "rank", "triage"),
    [
        ("k1", 2, "conversation"),
        ("k4", 5, "conversation"),
        ("k5", 6, "conversation"),  # pat's fifth: exactly max_cases_per_csm
        ("k6", 7, "wait"),  # pat's sixth
        ("other", 1, "conversation"),
    ],
)
def test_csm_capacity_at_its_edge(capacity: dict, account: str, rank: int, triage: str) -> None:
    assert (capacity[account]["rank"], capacity[account]["triage"]) == (rank, triage)


def test_csm_capacity_is_a_parameter(capacity: dict) -> None:
    health = _health(*[(a, "pat", v) for a, v in CAPACITY.items()])
    cases = _triage(health, *[_sustained(a, 0.5) for a in CAPACITY], max_cases_per_csm=4)
    assert [cases[a]["triage"] for a in CAPACITY] == ["conversation"] * 4 + ["wait"] * 2


# --- status on A ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "status"),
    [
        (APR_30 - timedelta(days=1), "expansion_opportunity"),
        (APR_30, "expansion_opportunity"),  # on A: counted
        (APR_30 + timedelta(days=1), None),  # the day after A
    ],
)
def test_status_counts_activities_up_to_and_including_as_of(day: date, status: str | None) -> None:
    book = limit_book(
        [("c1", "a", APRIL, None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 9), 5000.0)],
        [("a", "expansion_opportunity", day)],
    )
    assert _cases(book, _health(("a", "csm", 1.0)))["status"].item() == status


def test_a_csms_queue_follows_rank_whatever_the_row_order() -> None:
    # three eligible cases of one CSM, rows in the order rank 3, 1, 2; two conversations a CSM:
    # ranks 1 and 2 get them, rank 3 waits
    cases = pl.DataFrame(
        {
            "rank": [3, 1, 2],
            "pattern": ["sustained"] * 3,
            "pct_over": [0.5] * 3,
            "account_value": [50_000.0] * 3,
            "csm_owner": ["csm"] * 3,
        }
    )
    placed = cases.with_columns(triage(0.10, 25_000.0, 2))
    assert dict(placed.select("rank", "triage").iter_rows()) == {
        1: "conversation",
        2: "conversation",
        3: "wait",
    }


# The status is the latest motion activity by date, and on one date the later step of
# MOTION_ACTIVITIES: "later" had scope_reduction on Mar 1 and a conversation on Apr 1 ->
# conversation (the date wins over the step); "same_day" had an expansion_opportunity then a
# conversation, in either row order, both on Apr 1 -> expansion_opportunity (the step breaks the
# tie, not the row order nor the name). Kills case_status' mutants 33 and 35 (sorted by the step
# alone) and 36 (by the date alone).
def test_status_is_the_latest_activity_and_on_one_day_the_latest_step() -> None:
    same_day = [
        ("same_day", "expansion_opportunity", APRIL),
        ("same_day", "overconsumption_conversation", APRIL),
    ]
    # both row orders: a sort by date alone leaves the tie to the rows' positions
    for rows in (same_day, same_day[::-1]):
        book = limit_book(
            [("c_later", "later", APRIL, None), ("c_same", "same_day", APRIL, None)],
            [("c_later", "m", 1.0, 10.0, None), ("c_same", "m", 1.0, 10.0, None)],
            activities=[
                ("later", "scope_reduction", date(2024, 3, 1)),
                ("later", "overconsumption_conversation", APRIL),
                *rows,
            ],
        )
        status = dict(case_status(book, APR_30).collect().iter_rows())
        assert status == {
            "later": "overconsumption_conversation",
            "same_day": "expansion_opportunity",
        }
