"""Commit utilization, run rate, bands, burn and exhaustion (docs/metrics.md#commit-utilization-and-bands), through account_health."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from _books import contract, health_rows, make_book, usage
from drawdown.inputs.contract import Book
from drawdown.inputs.validate import daily_usage
from drawdown.metrics.commit import covering_terms
from drawdown.params import Params

JAN_30 = date(2024, 1, 30)


def _straight_line_book(daily_quantity: float, segment: str = "mid") -> Book:
    """Commit 1200 over 2024-01-01 … 2024-04-29 (120 days); q a day on Jan 1 … Jan 30."""
    return make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 4, 29), 1200.0)],
        [usage("a", date(2024, 1, 1), JAN_30, daily_quantity)] if daily_quantity else [],
        segments={"a": segment},
    )


# commit 1200 over 120 days; A = Jan 30: 30 days elapsed, 15/day -> 450 consumed
# utilization 450/1200 = 0.375, elapsed_fraction 30/120 = 0.25, pacing 1.5
# run rate: window [Jan 3, Jan 30] = 28 days x 15 / 28 = 15; remaining Apr 29 - Jan 30 = 90 days
# projected 450 + 15 x 90 = 1800 -> 1.5; exhaustion Jan 30 + ceil(750/15 = 50) = Mar 20
# account_value 1200 x 365 / 120 = 3650
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("term_start", date(2024, 1, 1)),
        ("term_end", date(2024, 4, 29)),
        ("term_days", 120),
        ("elapsed_days", 30),
        ("elapsed_fraction", 0.25),
        ("consumed_to_date", 450.0),
        ("utilization", 0.375),
        ("pacing_index", 1.5),
        ("run_rate", 15.0),
        ("remaining_days", 90),
        ("projected_consumption", 1800.0),
        ("projected_utilization", 1.5),
        ("band", "over"),
        ("burn", "too_fast"),
        ("exhaustion_date", date(2024, 3, 20)),
        ("exhausts_before_term_end", True),
        ("account_value", 3650.0),
    ],
)
def test_fixed_term_commit_metrics(column: str, expected: object) -> None:
    assert health_rows(_straight_line_book(15.0), JAN_30)["a"][column] == pytest.approx(expected)


# evergreen from 2022-03-17; A = 2024-06-01 is in contract year 2: 2024-03-17 … 2025-03-16
# elapsed: Mar 17-31 (15) + Apr (30) + May (31) + Jun 1 (1) = 77 days of 365
def test_evergreen_term_is_the_contract_year_holding_as_of() -> None:
    the_book = make_book([contract("c1", date(2022, 3, 17), None, 3650.0)], [])
    row = health_rows(the_book, date(2024, 6, 1))["a"]
    assert (row["term_start"], row["term_end"], row["term_days"], row["elapsed_days"]) == (
        date(2024, 3, 17),
        date(2025, 3, 16),
        365,
        77,
    )


# a 29 Feb start: year 0 = 2024-02-29 … 2025-02-27, year 1 starts on 28 Feb 2025
@pytest.mark.parametrize(
    ("as_of", "term"),
    [
        (date(2025, 2, 27), (date(2024, 2, 29), date(2025, 2, 27))),
        (date(2025, 2, 28), (date(2025, 2, 28), date(2026, 2, 27))),
        (date(2028, 2, 29), (date(2028, 2, 29), date(2029, 2, 27))),
    ],
)
def test_evergreen_leap_day_start_anniversary_falls_on_28_february(
    as_of: date, term: tuple
) -> None:
    contracts = pl.LazyFrame([contract("c1", date(2024, 2, 29), None, 1.0)])
    got = covering_terms(contracts, as_of).collect()
    assert (got["term_start"].item(), got["term_end"].item()) == term


def test_account_without_contract_covering_as_of_has_no_row() -> None:
    the_book = make_book([contract("c1", date(2024, 1, 1), date(2024, 1, 31), 100.0)], [])
    assert health_rows(the_book, date(2024, 2, 1)) == {}


# renewal c2 on Jun 17 at unit price 2 (c1 at 1 until Jun 16); 10 units a day Jun 1 … Jun 30
# consumed = Jun 17 … 30: 14 days x 10 x 2 = 280 (Jun 1 … 16 belong to c1's term)
# run-rate window [max(Jun 17, Jun 3), Jun 30] = 14 days, shorter than 28: 280 / 14 = 20
def _renewal_book() -> Book:
    return make_book(
        [
            contract("c1", date(2024, 1, 1), date(2024, 6, 16), 1000.0),
            contract("c2", date(2024, 6, 17), date(2025, 6, 16), 7300.0, renewal_of="c1"),
        ],
        [usage("a", date(2024, 6, 1), date(2024, 6, 30), 10.0)],
        prices={"c1": 1.0, "c2": 2.0},
    )


def test_consumption_counts_only_the_covering_term_at_its_price() -> None:
    row = health_rows(_renewal_book(), date(2024, 6, 30))["a"]
    assert (row["contract_id"], row["consumed_to_date"]) == ("c2", 280.0)


def test_run_rate_window_is_cut_at_term_start() -> None:
    assert health_rows(_renewal_book(), date(2024, 6, 30))["a"]["run_rate"] == pytest.approx(20.0)


# commit 100: 40 on Jan 2, Jan 5 and Jan 9 -> running 40, 80, 120: reached on Jan 9
def test_exhaustion_date_is_the_day_the_running_total_reached_commit() -> None:
    spend = [
        usage("a", day, day, 40.0) for day in (date(2024, 1, 2), date(2024, 1, 5), date(2024, 1, 9))
    ]
    the_book = make_book([contract("c1", date(2024, 1, 1), date(2024, 12, 31), 100.0)], spend)
    row = health_rows(the_book, date(2024, 1, 20))["a"]
    assert (row["exhaustion_date"], row["exhausts_before_term_end"]) == (date(2024, 1, 9), True)


# commit 1000, 100 spent on Jan 1 and nothing since: run rate over [Jan 19, Feb 15] is 0
def test_no_exhaustion_forecast_without_run_rate() -> None:
    the_book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 1, 1), date(2024, 1, 1), 100.0)],
    )
    row = health_rows(the_book, date(2024, 2, 15))["a"]
    assert (row["run_rate"], row["exhaustion_date"], row["exhausts_before_term_end"]) == (
        0.0,
        None,
        False,
    )


# commit 1000 from Jan 1 to Mar 31 (91 days), 10 a day Jan 1 … Jan 31: 310 consumed by Jan 31
# forecast: Jan 31 + ceil(690 / 10 = 69) = Apr 9 > Mar 31 -> not before term end
def test_exhaustion_forecast_after_term_end() -> None:
    the_book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 3, 31), 1000.0)],
        [usage("a", date(2024, 1, 1), date(2024, 1, 31), 10.0)],
    )
    row = health_rows(the_book, date(2024, 1, 31))["a"]
    assert (row["exhaustion_date"], row["exhausts_before_term_end"]) == (date(2024, 4, 9), False)


# pay-as-you-go: 5 a day from 2023-01-01 to A = 2024-06-30 under c1 (2023) and c2 (2024-)
# account_value = Σ over [A − 364, A] = [2023-07-02, 2024-06-30] = 365 days x 5 = 1825
def _paygo_row() -> dict:
    the_book = make_book(
        [
            contract("c1", date(2023, 1, 1), date(2023, 12, 31), 0.0),
            contract("c2", date(2024, 1, 1), None, 0.0, renewal_of="c1"),
        ],
        [usage("a", date(2023, 1, 1), date(2024, 6, 30), 5.0)],
    )
    return health_rows(the_book, date(2024, 6, 30))["a"]


def test_paygo_account_value_is_the_trailing_year_of_spend() -> None:
    assert _paygo_row()["account_value"] == pytest.approx(1825.0)


@pytest.mark.parametrize(
    "column",
    [
        "utilization",
        "pacing_index",
        "projected_utilization",
        "burn",
        "exhaustion_date",
        "exhausts_before_term_end",
    ],
)
def test_paygo_has_no_commit_ratios(column: str) -> None:
    assert _paygo_row()[column] is None


def test_paygo_band() -> None:
    assert _paygo_row()["band"] == "paygo"


# straight line: q a day for 30 of 120 days on a 1200 commit
# projected = 30q + 90q = 120q -> projected_utilization = q / 10; pacing = (30q/1200)/0.25 = q/10
@pytest.mark.parametrize(
    ("daily_quantity", "band"),
    [
        (0.0, "not_live"),
        (8.0, "under"),
        (8.5, "healthy"),
        (10.0, "healthy"),
        (11.0, "healthy"),
        (12.0, "over"),
    ],
)
def test_band(daily_quantity: float, band: str) -> None:
    assert health_rows(_straight_line_book(daily_quantity), JAN_30)["a"]["band"] == band


@pytest.mark.parametrize(
    ("daily_quantity", "burn"),
    [(0.0, "too_slow"), (7.0, "too_slow"), (8.0, "on_pace"), (12.0, "on_pace"), (13.0, "too_fast")],
)
def test_burn(daily_quantity: float, burn: str) -> None:
    assert health_rows(_straight_line_book(daily_quantity), JAN_30)["a"]["burn"] == burn


# q = 8 -> projected_utilization 0.8: under the global 0.85, healthy above smb's own 0.75
def test_band_uses_the_segment_override() -> None:
    params = Params.model_validate({"bands": {"segments": {"smb": {"band_low": 0.75}}}})
    row = health_rows(_straight_line_book(8.0, segment="smb"), JAN_30, params)["a"]
    assert (row["band_low"], row["band_high"], row["band"]) == (0.75, 1.10, "healthy")


def test_band_of_a_segment_without_override_uses_global_edges() -> None:
    params = Params.model_validate({"bands": {"segments": {"smb": {"band_low": 0.75}}}})
    assert health_rows(_straight_line_book(8.0), JAN_30, params)["a"]["band"] == "under"


_RATIOS = ("utilization", "pacing_index", "projected_utilization")


@settings(max_examples=40, deadline=None)
@given(
    quantities=st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=20),
    splits=st.lists(st.integers(min_value=1, max_value=4), min_size=20, max_size=20),
    order=st.randoms(use_true_random=False),
)
def test_ratios_are_invariant_to_row_order_and_split_days(quantities, splits, order) -> None:
    """Each day's quantity split over several raw rows, shuffled, then summed per day by the
    validator's ``daily_usage``, and the daily rows shuffled, give the ratios of the plain book."""
    days = pl.date_range(date(2024, 1, 1), date(2024, 1, len(quantities)), eager=True)
    daily = pl.DataFrame(
        {
            "account_id": "a",
            "meter": "m",
            "usage_date": days,
            "quantity": [float(q) for q in quantities],
        }
    )
    raw = [
        {"account_id": "a", "meter": "m", "usage_date": day, "quantity": q / parts}
        for day, q, parts in zip(days, quantities, splits, strict=False)
        for _ in range(parts)
    ]
    order.shuffle(raw)
    regrouped = daily_usage(pl.DataFrame(raw))
    shuffled = daily.sample(fraction=1.0, shuffle=True, seed=order.randint(0, 2**32 - 1))
    contracts = [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 5000.0)]
    as_of = date(2024, 1, 25)
    plain = health_rows(make_book(contracts, [daily]), as_of)["a"]
    for variant in (regrouped, shuffled):
        other = health_rows(make_book(contracts, [variant]), as_of)["a"]
        for column in _RATIOS:
            assert other[column] == pytest.approx(plain[column], rel=1e-12)
