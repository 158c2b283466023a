"""Usage health (docs/metrics.md#usage-health): first billable event, cv_28d, workflows, adoption, warnings, cohorts."""

from __future__ import annotations

import math
from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from _books import contract, health_rows, make_book, usage
from drawdown.inputs.contract import Book
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.params import Health


def _workflows(*spans: tuple[date, date | None], account: str = "a") -> pl.DataFrame:
    """Workflows w1, w2 … of ``account`` with (production_date, retired_date)."""
    return pl.DataFrame(
        {
            "account_id": account,
            "workflow_id": [f"w{i}" for i in range(1, len(spans) + 1)],
            "production_date": [start for start, _ in spans],
            "retired_date": [end for _, end in spans],
        },
        schema_overrides={"retired_date": pl.Date},
    )


# contracts c0 from 2023-12-01 (the first) and c1 from 2024-01-10; on Dec 5 only meter x,
# which has no rate-card row (unrated, amount 0); meter m billed from Dec 20: ttfbe = 19 days
def _two_contract_row() -> dict:
    the_book = make_book(
        [
            contract("c0", date(2023, 12, 1), date(2024, 1, 9), 100.0),
            contract("c1", date(2024, 1, 10), date(2024, 12, 31), 1000.0, renewal_of="c0"),
        ],
        [
            usage("a", date(2023, 12, 5), date(2023, 12, 5), 50.0, meter="x"),
            usage("a", date(2023, 12, 20), date(2024, 2, 1), 1.0),
        ],
    )
    return health_rows(the_book, date(2024, 2, 1))["a"]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("first_contract_start", date(2023, 12, 1)),
        ("first_billable_date", date(2023, 12, 20)),
        ("ttfbe_days", 19),
    ],
)
def test_first_billable_event(column: str, expected: object) -> None:
    assert _two_contract_row()[column] == expected


# usage only after A = Jan 31: no first billable event by A
def _late_starter_row() -> dict:
    the_book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 2, 1), date(2024, 2, 5), 10.0)],
    )
    return health_rows(the_book, date(2024, 1, 31))["a"]


@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("first_billable_date", None),
        ("ttfbe_days", None),
        ("band", "not_live"),
        ("adoption_stage", "not_live"),
    ],
)
def test_account_not_live_by_as_of(column: str, expected: object) -> None:
    assert _late_starter_row()[column] == expected


def _cv_row(spend: list[pl.DataFrame]) -> dict:
    """Contract from 2023-12-01, A = 2024-01-28: the cv window is Jan 1 … Jan 28."""
    the_book = make_book([contract("c1", date(2023, 12, 1), date(2024, 12, 31), 1000.0)], spend)
    return health_rows(the_book, date(2024, 1, 28))["a"]


# 28 on Jan 10 and 27 zero days (100 on Dec 31 is outside): mean 1,
# Σ(x − 1)² = 27² + 27 × 1² = 756, variance 756 / 27 = 28 -> cv = √28
def test_cv_28d_counts_zero_days() -> None:
    row = _cv_row(
        [
            usage("a", date(2023, 12, 31), date(2023, 12, 31), 100.0),
            usage("a", date(2024, 1, 10), date(2024, 1, 10), 28.0),
        ]
    )
    assert (row["cv_28d"], row["is_smooth"]) == (pytest.approx(math.sqrt(28)), False)


# 10 every day: standard deviation 0 -> cv 0, smooth
def test_cv_28d_of_a_flat_line_is_zero() -> None:
    row = _cv_row([usage("a", date(2024, 1, 1), date(2024, 1, 28), 10.0)])
    assert (row["cv_28d"], row["is_smooth"]) == (0.0, True)


# nothing spent in Jan 1 … Jan 28: mean 0 -> cv null
def test_cv_28d_is_null_without_spend_in_the_window() -> None:
    row = _cv_row([usage("a", date(2023, 12, 5), date(2023, 12, 5), 10.0)])
    assert (row["cv_28d"], row["is_smooth"]) == (None, None)


# first contract 2024-01-01, A = 2024-05-01; day 90 = Mar 31, day 180 = Jun 29 (after A)
# w1 Jan 15 –        live at A and day 90
# w2 Feb 1 – Apr 1   live on day 90, retired by A
# w3 Apr 15 – May 1  retired on A itself: not live at A
# w4 May 2 –         not yet in production
def _workflow_row() -> dict:
    the_book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 1, 1), date(2024, 5, 1), 1.0)],
        workflows=_workflows(
            (date(2024, 1, 15), None),
            (date(2024, 2, 1), date(2024, 4, 1)),
            (date(2024, 4, 15), date(2024, 5, 1)),
            (date(2024, 5, 2), None),
        ),
    )
    return health_rows(the_book, date(2024, 5, 1))["a"]


@pytest.mark.parametrize(
    ("column", "expected"),
    [("workflows_live", 1), ("workflows_at_90d", 2), ("workflows_at_180d", None)],
)
def test_workflow_counts(column: str, expected: int | None) -> None:
    assert _workflow_row()[column] == expected


def test_two_workflows_date_is_the_first_day_two_were_live() -> None:
    # Jan 15 (live) and Feb 1 (retired Apr 1): two live from Feb 1
    assert _workflow_row()["two_workflows_date"] == date(2024, 2, 1)


# no workflow rows; first contract 2024-01-01, A = 2024-05-01: day 90 (Mar 31) ≤ A -> 0,
# day 180 (Jun 29) > A -> null
def test_workflow_counts_without_workflows() -> None:
    the_book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 1, 1), date(2024, 5, 1), 1.0)],
    )
    row = health_rows(the_book, date(2024, 5, 1))["a"]
    counts = (row["workflows_live"], row["workflows_at_90d"], row["workflows_at_180d"])
    assert counts == (0, 0, None)


# commit 1200 over 2024-01-01 … 2024-04-29 (120 days), A = Jan 30
# flat 10 a day: projected 300 + 10 × 90 = 1200 -> 1.0 healthy, cv 0 (smooth)
# flat 8 a day: projected 0.8 -> under
# 20 on even days: consumed 300, run rate 14 × 20 / 28 = 10 -> healthy;
#   cv window 14 × 20 and 14 × 0: mean 10, sd √(28 × 100 / 27) ≈ 10.2 -> cv ≈ 1.02, not smooth
def _stage_book(spend: pl.DataFrame, live_workflows: int) -> Book:
    return make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 4, 29), 1200.0)],
        [spend],
        workflows=_workflows(*[(date(2024, 1, 2), None)] * live_workflows),
    )


_FLAT_10 = usage("a", date(2024, 1, 1), date(2024, 1, 30), 10.0)
_FLAT_8 = usage("a", date(2024, 1, 1), date(2024, 1, 30), 8.0)
_EVEN_DAYS_20 = pl.concat(
    [usage("a", date(2024, 1, d), date(2024, 1, d), 20.0) for d in range(2, 31, 2)]
)


@pytest.mark.parametrize(
    ("spend", "live_workflows", "stage"),
    [
        (_FLAT_10, 0, "first_billable"),
        (_FLAT_10, 1, "one_workflow"),
        (_FLAT_8, 2, "multi_workflow"),
        (_EVEN_DAYS_20, 3, "multi_workflow"),
        (_FLAT_10, 2, "steady_draw"),
    ],
    ids=["no-workflow", "one", "two-but-under", "three-healthy-but-volatile", "steady"],
)
def test_adoption_stage(spend: pl.DataFrame, live_workflows: int, stage: str) -> None:
    row = health_rows(_stage_book(spend, live_workflows), date(2024, 1, 30))["a"]
    assert row["adoption_stage"] == stage


def _warnings(contract_end: date, commit: float, spend: list[pl.DataFrame], as_of: date) -> list:
    the_book = make_book([contract("c1", date(2024, 1, 1), contract_end, commit)], spend)
    return health_rows(the_book, as_of)["a"]["early_warnings"]


FEB_25 = date(2024, 2, 25)  # [A − 55, A − 28] = Jan 1 … Jan 28; [A − 27, A] = Jan 29 … Feb 25


# prior 28 days 10 a day = 280, last 28 days 6 a day = 168 < 0.7 × 280 = 196
def test_usage_drop() -> None:
    spend = [
        usage("a", date(2024, 1, 1), date(2024, 1, 28), 10.0),
        usage("a", date(2024, 1, 29), FEB_25, 6.0),
    ]
    assert _warnings(date(2024, 12, 31), 3650.0, spend, FEB_25) == ["usage_drop"]


# 7.5 a day lately = 210 ≥ 196: no drop
def test_no_usage_drop_within_drop_pct() -> None:
    spend = [
        usage("a", date(2024, 1, 1), date(2024, 1, 28), 10.0),
        usage("a", date(2024, 1, 29), FEB_25, 7.5),
    ]
    assert _warnings(date(2024, 12, 31), 3650.0, spend, FEB_25) == []


# last spend Feb 18 -> Feb 19 … Feb 25 are 7 zero days (last 28 days: 21 × 10 = 210 ≥ 196)
@pytest.mark.parametrize(("last_spend", "expected"), [(18, ["zero_streak"]), (19, [])])
def test_zero_streak(last_spend: int, expected: list[str]) -> None:
    spend = [usage("a", date(2024, 1, 1), date(2024, 2, last_spend), 10.0)]
    assert _warnings(date(2024, 12, 31), 3650.0, spend, FEB_25) == expected


# term ends Mar 31: 35 days left; 10 a day, projected 560 + 350 = 910 of 10000 -> under;
# elapsed 56 / 91 = 0.62 (no breakage)
def test_renewal_risk() -> None:
    spend = [usage("a", date(2024, 1, 1), FEB_25, 10.0)]
    assert _warnings(date(2024, 3, 31), 10000.0, spend, FEB_25) == ["renewal_risk"]


# two-year term 2024-01-01 … 2025-12-31 (731 days); A = 2025-08-23: elapsed 601 / 731 = 0.82,
# 1 a day -> utilization 601 / 10000 = 0.06; 130 days left (> 90, no renewal risk)
def test_breakage_risk() -> None:
    as_of = date(2025, 8, 23)
    spend = [usage("a", date(2024, 1, 1), as_of, 1.0)]
    assert _warnings(date(2025, 12, 31), 10000.0, spend, as_of) == ["breakage_risk"]


# term 2024-01-01 … Mar 10 (70 days), A = Mar 1 (elapsed 61 / 70 = 0.87, 9 days left)
# 10 a day Jan 4 … Jan 31: prior window Jan 6 … Feb 2 = 260, last 28 days 0 -> usage_drop;
# 30 zero days -> zero_streak; utilization 280 / 10000 = 0.028, under -> renewal and breakage
def test_all_warnings_in_fixed_order() -> None:
    spend = [usage("a", date(2024, 1, 4), date(2024, 1, 31), 10.0)]
    assert _warnings(date(2024, 3, 10), 10000.0, spend, date(2024, 3, 1)) == [
        "usage_drop",
        "zero_streak",
        "renewal_risk",
        "breakage_risk",
    ]


# cohort (s, Jan 2024): live ttfbe 2, 4, 10, 20 and one not live
# median (4 + 10) / 2 = 7; p75 at position 0.75 × 3 = 2.25: 10 + 0.25 × (20 − 10) = 12.5
# within 14 days: 3 of the cohort's 5 accounts = 0.6
# cohort (s, Feb 2024): one account, not live -> quantiles null, share 0
def test_ttfbe_cohorts() -> None:
    health_frame = pl.LazyFrame(
        {
            "segment": ["s"] * 6,
            "first_contract_start": [date(2024, 1, d) for d in (3, 5, 9, 20, 31)]
            + [date(2024, 2, 2)],
            "ttfbe_days": [2, 4, 10, 20, None, None],
        }
    )
    expected = pl.DataFrame(
        {
            "segment": ["s", "s"],
            "cohort_month": [date(2024, 1, 1), date(2024, 2, 1)],
            "accounts": [5, 1],
            "live_accounts": [4, 0],
            "median_ttfbe_days": [7.0, None],
            "p75_ttfbe_days": [12.5, None],
            "share_live_within_target": [0.6, 0.0],
        },
        schema_overrides={"accounts": pl.Int64, "live_accounts": pl.Int64},
    )
    got = ttfbe_cohorts(health_frame, Health()).collect()
    assert_frame_equal(got, expected, check_dtypes=False)
