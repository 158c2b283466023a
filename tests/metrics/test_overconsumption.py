"""Overconsumption against contractual limits (docs/metrics.md#overconsumption-against-contractual-limits): meter months, patterns, cases, triage."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from _books import limit_book as _book
from drawdown.inputs.contract import Book
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.overconsumption import first_month, meter_months, overage_cases
from drawdown.params import Params

APR_30 = date(2024, 4, 30)


def _daily(account: str, meter: str, start: date, end: date, quantity: float) -> list[tuple]:
    """The same quantity every day of [start, end]."""
    days = pl.date_range(start, end, eager=True)
    return [(account, meter, day, quantity) for day in days]


def _months(book: Book, as_of: date = APR_30) -> pl.DataFrame:
    return meter_months(book, rate_usage(book), as_of).collect()


def _health(*rows: tuple) -> pl.LazyFrame:
    """rows: (account_id, csm_owner, ae_owner, account_value); name = id upper-cased."""
    return pl.LazyFrame(
        rows,
        schema={
            "account_id": pl.String,
            "csm_owner": pl.String,
            "ae_owner": pl.String,
            "account_value": pl.Float64,
        },
        orient="row",
    ).with_columns(account_name=pl.col("account_id").str.to_uppercase(), segment=pl.lit("mid"))


def _cases(book: Book, health: pl.LazyFrame, as_of: date = APR_30, **settings) -> pl.DataFrame:
    params = Params(overconsumption=settings)
    return overage_cases(meter_months(book, rate_usage(book), as_of), health, book, params, as_of)


def _over_months(account: str, pct: float, months=(3, 4), meter: str = "m") -> pl.DataFrame:
    """Hand-made meter months of 2024: limit 1000, usage 1000 × (1 + pct) in each month."""
    usage = 1000.0 * (1 + pct)
    return pl.DataFrame(
        {
            "account_id": account,
            "meter": meter,
            "month": [date(2024, month, 1) for month in months],
            "limit": 1000.0,
            "usage": usage,
            "over_units": usage - 1000.0,
            "pct_over": pct,
            "overage_amount": usage - 1000.0,
            "is_over": usage > 1000.0,
            "unit_price": 1.0,
            "overage_unit_price": 1.0,
        }
    )


def _triage(health: pl.LazyFrame, *months: pl.DataFrame, **settings) -> pl.DataFrame:
    """Cases from hand-made meter months; the empty book has no usage for the spike test."""
    return overage_cases(
        pl.concat(months).lazy(),
        health,
        Book.from_frames(),
        Params(overconsumption=settings),
        APR_30,
    ).collect()


# --- meter_months -----------------------------------------------------------------------------


def test_limit_accrues_day_by_day_in_the_partial_month():
    # included 3000 in a 30-day April: 100 a day; A = Apr 10 -> limit 1000.
    # usage 1200 -> over 200, pct_over 0.2, overage 200 × 0.5 = 100
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, 0.5)],
        [("a", "m", date(2024, 4, 5), 1200.0)],
    )
    april = _months(book, date(2024, 4, 10)).row(0, named=True)
    assert april["limit"] == pytest.approx(1000.0)
    assert (april["usage"], april["over_units"]) == (1200.0, pytest.approx(200.0))
    assert april["pct_over"] == pytest.approx(0.2)
    assert april["overage_amount"] == pytest.approx(100.0)
    assert april["is_over"]


def test_renewal_mid_month_changes_limit_and_overage_price():
    # c1 to Apr 16 at 3000/month: 16 × 100 = 1600; renewal c2 from Apr 17 at 6000/month:
    # 14 × 200 = 2800 -> limit 4400; usage 2000 + 3000 = 5000 -> over 600 at c2's 2.0 = 1200
    book = _book(
        [("c1", "a", date(2024, 1, 1), date(2024, 4, 16)), ("c2", "a", date(2024, 4, 17), None)],
        [("c1", "m", 1.0, 3000.0, None), ("c2", "m", 1.5, 6000.0, 2.0)],
        [("a", "m", date(2024, 4, 5), 2000.0), ("a", "m", date(2024, 4, 20), 3000.0)],
    )
    april = _months(book).filter(pl.col("month") == date(2024, 4, 1)).row(0, named=True)
    assert april["limit"] == pytest.approx(4400.0)
    assert april["overage_amount"] == pytest.approx(1200.0)
    assert (april["unit_price"], april["overage_unit_price"]) == (1.5, 2.0)


def test_null_overage_price_is_the_unit_price():
    # included 3000 in April, usage 3300 -> over 300 × unit_price 0.4 = 120
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 0.4, 3000.0, None)],
        [("a", "m", date(2024, 4, 2), 3300.0)],
    )
    assert _months(book)["overage_amount"].to_list() == [pytest.approx(120.0)]


def test_month_without_usage_keeps_its_limit():
    # March (31 days) at 3100/month, no usage -> limit 3100, usage 0, pct_over -1
    book = _book(
        [("c1", "a", date(2024, 3, 1), date(2024, 3, 31))], [("c1", "m", 1.0, 3100.0, None)]
    )
    march = _months(book).row(0, named=True)
    assert (march["limit"], march["usage"], march["pct_over"]) == (3100.0, 0.0, -1.0)
    assert not march["is_over"]


def test_usage_on_days_without_a_limit_is_left_out():
    # c1 covers Apr 1-10 (10 × 100 = 1000); Apr 11-19 uncovered; c2 (Apr 20-) has no included
    # quantity: only the Apr 5 usage counts -> usage 400 against 1000
    book = _book(
        [("c1", "a", date(2024, 4, 1), date(2024, 4, 10)), ("c2", "a", date(2024, 4, 20), None)],
        [("c1", "m", 1.0, 3000.0, None), ("c2", "m", 1.0, None, None)],
        [
            ("a", "m", date(2024, 4, 5), 400.0),
            ("a", "m", date(2024, 4, 15), 5000.0),
            ("a", "m", date(2024, 4, 25), 5000.0),
        ],
    )
    april = _months(book).row(0, named=True)
    assert (april["limit"], april["usage"]) == (pytest.approx(1000.0), 400.0)


def test_meter_without_included_quantity_has_no_months():
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, None, None)],
        [("a", "m", date(2024, 4, 5), 400.0)],
    )
    assert _months(book).is_empty()


def test_months_are_the_twelve_ending_with_as_of_month():
    # contract since 2022; A = 2024-04-10 -> May 2023 ... April 2024; usage after A is ignored
    book = _book(
        [("c1", "a", date(2022, 1, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 11), 9999.0)],
    )
    months = _months(book, date(2024, 4, 10))
    assert (months.height, months["month"].min()) == (12, date(2023, 5, 1))
    assert months["usage"].sum() == 0.0


def test_first_month_crosses_the_year():
    assert first_month(date(2024, 2, 29), 3) == date(2023, 12, 1)


# --- patterns ---------------------------------------------------------------------------------


def test_spike_when_the_typical_day_is_inside_the_line():
    # April at 3000 (100/day); one day of 5000, 29 days at 0: median 0 × 30 = 0 ≤ 3000 -> spike
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 9), 5000.0)],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 100000.0))).collect()
    assert (cases["pattern"].item(), cases["triage"].item()) == ("spike", "monitor")


def test_emerging_when_the_typical_day_is_over_the_line():
    # April at 3000 (100/day); 150 every day: median 150 × 30 = 4500 > 3000 -> emerging
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        _daily("a", "m", date(2024, 4, 1), APR_30, 150.0),
    )
    cases = _cases(book, _health(("a", "csm", "ae", 100000.0))).collect()
    assert (cases["pattern"].item(), cases["triage"].item()) == ("emerging", "watch")


def test_spike_test_counts_only_days_up_to_as_of():
    # A = Apr 10: 10 limited days (limit 1000); 150 on days 1-9, 0 on day 10:
    # median of [0, 150 × 9] = 150 -> typical 1500 > 1000 -> emerging
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        _daily("a", "m", date(2024, 4, 1), date(2024, 4, 9), 150.0),
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0)), date(2024, 4, 10)).collect()
    assert cases["pattern"].item() == "emerging"


def test_two_over_months_are_sustained():
    # 3000 a month: March and April each have one 4000 day -> two over months
    book = _book(
        [("c1", "a", date(2024, 3, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 3, 9), 4000.0), ("a", "m", date(2024, 4, 9), 4000.0)],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert (cases["pattern"].item(), cases["months_over"].item()) == ("sustained", 2)


@pytest.mark.parametrize(
    ("over_day", "months_over"),
    [(date(2024, 1, 15), None), (date(2024, 2, 1), 1), (date(2024, 4, 30), 1)],
)
def test_lookback_is_three_months_ending_with_as_of_month(over_day, months_over):
    # A = Apr 30, lookback Feb, Mar, Apr: an over month in January is no case
    book = _book(
        [("c1", "a", date(2023, 1, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", over_day, 4000.0)],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert cases["months_over"].to_list() == ([] if months_over is None else [months_over])


def test_overage_amount_sums_the_lookback_over_all_meters():
    # meter x: March 1000 over (×1); meter y: April 600 over (×0.5 = 300); January is outside
    book = _book(
        [("c1", "a", date(2023, 1, 1), None)],
        [("c1", "x", 1.0, 3100.0, None), ("c1", "y", 1.0, 3000.0, 0.5)],
        [
            ("a", "x", date(2024, 1, 3), 9100.0),
            ("a", "x", date(2024, 3, 3), 4100.0),
            ("a", "y", date(2024, 4, 3), 3600.0),
        ],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert cases["overage_amount"].item() == pytest.approx(1300.0)
    assert cases["meters_over"].item() == 2


def test_no_case_without_a_contract_covering_as_of():
    # the account is over but not in account health
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 9), 5000.0)],
    )
    assert _cases(book, _health(("b", "csm", "ae", 1.0))).collect().is_empty()


# --- case meter and pattern -------------------------------------------------------------------


def test_case_meter_has_the_highest_pct_over_at_its_latest_over_month():
    # x: 0.5 in March, 0.1 in April (latest) -> 0.1; y: 0.3 in April -> case meter y at 0.3
    cases = _triage(
        _health(("a", "csm", "ae", 1.0)),
        _over_months("a", 0.5, months=(3,), meter="x"),
        _over_months("a", 0.1, months=(4,), meter="x"),
        _over_months("a", 0.3, months=(4,), meter="y"),
    )
    assert (cases["meter"].item(), cases["pct_over"].item()) == ("y", pytest.approx(0.3))
    assert cases["latest_over_month"].item() == date(2024, 4, 1)


def test_case_meter_tie_goes_to_the_first_meter_name():
    cases = _triage(
        _health(("a", "csm", "ae", 1.0)),
        _over_months("a", 0.3, meter="y"),
        _over_months("a", 0.3, meter="x"),
    )
    assert cases["meter"].item() == "x"


def test_case_pattern_is_the_most_severe_meter():
    # x over in April only (emerging: no usage in the empty book so typical is unknown);
    # y over in March and April (sustained) -> sustained, months_over 2, case meter x (0.9)
    cases = _triage(
        _health(("a", "csm", "ae", 1.0)),
        _over_months("a", 0.9, months=(4,), meter="x"),
        _over_months("a", 0.2, months=(3, 4), meter="y"),
    )
    assert cases.select("meter", "pattern", "months_over").row(0) == ("x", "sustained", 2)


def test_emerging_is_more_severe_than_spike():
    # x: one 5000 day in April -> spike; y: 150 every April day -> emerging
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "x", 1.0, 3000.0, None), ("c1", "y", 1.0, 3000.0, None)],
        [("a", "x", date(2024, 4, 9), 5000.0), *_daily("a", "y", date(2024, 4, 1), APR_30, 150.0)],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert cases.select("meter", "pattern").row(0) == ("x", "emerging")


# --- rank, triage, owners, status -------------------------------------------------------------


def test_rank_by_priority_score_then_account_id():
    # priority = value × pct_over: c 50000 × 0.2 = 10000; a and b 20000 × 0.5 = 10000 too;
    # d 100000 × 0.2 = 20000 -> d, a, b, c
    cases = _triage(
        _health(
            ("c", "x", "ae", 50000.0),
            ("b", "x", "ae", 20000.0),
            ("a", "x", "ae", 20000.0),
            ("d", "x", "ae", 100000.0),
        ),
        _over_months("c", 0.2),
        _over_months("b", 0.5),
        _over_months("a", 0.5),
        _over_months("d", 0.2),
    )
    assert cases["account_id"].to_list() == ["d", "a", "b", "c"]
    assert cases["rank"].to_list() == [1, 2, 3, 4]
    assert cases["priority_score"].to_list() == pytest.approx([20000.0, 10000.0, 10000.0, 10000.0])


def test_csm_capacity_turns_later_cases_into_wait():
    # one case per CSM: pat's a (rank 1) -> conversation, pat's c (rank 3) -> wait;
    # sam's b (rank 2) -> conversation
    cases = _triage(
        _health(
            ("a", "pat", "ae", 90000.0), ("b", "sam", "ae", 80000.0), ("c", "pat", "ae", 70000.0)
        ),
        _over_months("a", 0.5),
        _over_months("b", 0.5),
        _over_months("c", 0.5),
        max_cases_per_csm=1,
    )
    assert cases["triage"].to_list() == ["conversation", "conversation", "wait"]


def test_eligible_case_without_csm_is_unassigned():
    cases = _triage(_health(("a", None, "ae", 90000.0)), _over_months("a", 0.5))
    assert cases["triage"].item() == "unassigned"


@pytest.mark.parametrize(
    ("value", "pct"),
    [(19999.0, 0.5), (90000.0, 0.09)],
    ids=["below value_floor", "below min_pct_over"],
)
def test_sustained_but_not_eligible_is_watch(value, pct):
    cases = _triage(_health(("a", "csm", "ae", value)), _over_months("a", pct))
    assert cases["triage"].item() == "watch"


def test_eligibility_edges_are_inclusive():
    # value 20000 = value_floor, pct_over 0.25 ≥ 0.10 -> conversation
    cases = _triage(_health(("a", "csm", "ae", 20000.0)), _over_months("a", 0.25))
    assert cases["triage"].item() == "conversation"


@pytest.mark.parametrize(
    ("csm", "ae", "missing"),
    [
        ("pat", "ann", []),
        (None, "ann", ["first_conversation"]),
        ("pat", " ", ["expansion"]),
        ("", None, ["first_conversation", "expansion"]),
    ],
)
def test_missing_owners_lists_the_unnamed_steps(csm, ae, missing):
    cases = _triage(_health(("a", csm, ae, 1.0)), _over_months("a", 0.5))
    assert cases["owner_detect"].item() == "system"
    assert cases["missing_owners"].item().to_list() == missing


def test_owners_are_csm_then_ae():
    cases = _triage(_health(("a", "pat", "ann", 1.0)), _over_months("a", 0.5))
    assert cases.select("owner_first_conversation", "owner_expansion").row(0) == ("pat", "ann")


def test_status_is_the_latest_motion_activity_up_to_as_of():
    # Apr 2 conversation and Apr 2 value review (not motion); Apr 20 expansion wins over
    # the Apr 2 conversation; the May scope reduction is after A
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 9), 5000.0)],
        [
            ("a", "overconsumption_conversation", date(2024, 4, 2)),
            ("a", "value_review", date(2024, 4, 25)),
            ("a", "expansion_opportunity", date(2024, 4, 20)),
            ("a", "scope_reduction", date(2024, 5, 2)),
        ],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert cases["status"].item() == "expansion_opportunity"


def test_status_tie_on_a_date_takes_the_later_motion_step():
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, 3000.0, None)],
        [("a", "m", date(2024, 4, 9), 5000.0)],
        [
            ("a", "scope_reduction", date(2024, 4, 20)),
            ("a", "overconsumption_conversation", date(2024, 4, 20)),
        ],
    )
    cases = _cases(book, _health(("a", "csm", "ae", 1.0))).collect()
    assert cases["status"].item() == "scope_reduction"


def test_status_is_null_without_motion_activity():
    cases = _triage(_health(("a", "csm", "ae", 1.0)), _over_months("a", 0.5))
    assert cases["status"].item() is None


@pytest.mark.parametrize("included", [0.0, None])
def test_a_zero_or_null_included_quantity_is_no_limit(included):
    # docs/metrics.md: null or 0 means pay-per-use: no meter month, no case, no inf anywhere
    book = _book(
        [("c1", "a", date(2024, 4, 1), None)],
        [("c1", "m", 1.0, included, None)],
        [("a", "m", date(2024, 4, 5), 1200.0)],
    )
    assert _months(book, date(2024, 4, 10)).height == 0
    rated = rate_usage(book).collect()
    assert rated.select(pl.col(pl.Float64).is_infinite().any()).row(0) == (False,) * len(
        rated.select(pl.col(pl.Float64)).columns
    )
