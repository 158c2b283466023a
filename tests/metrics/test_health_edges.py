"""Every rule of docs/metrics.md#usage-health at its edge: the warning thresholds (drop_pct,
zero_streak_days, renewal_window_days, the breakage 0.20 / 0.80) exactly on, just inside and just
outside; the 28-day windows of cv_28d and usage_drop on their first and last day; the workflow
milestones on their day; smooth_cv_max and ttfbe_target_days on the line. Each account is asserted
on its own.
"""

from __future__ import annotations

import math
from datetime import date, timedelta

import polars as pl
import pytest

from _books import contract, health_rows, make_book, usage
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.health import adoption_stage, is_smooth, ttfbe_cohorts, warning_facts
from drawdown.params import Health, Params

A = date(2024, 6, 30)


def _day(days_before: int) -> date:
    return A - timedelta(days=days_before)


def _spend(account: str, *payments: tuple[int, float]) -> list[pl.DataFrame]:
    """One payment of ``amount`` on A − ``days_before`` for each (days_before, amount)."""
    return [usage(account, _day(n), _day(n), amount) for n, amount in payments]


# Warnings book: each account on commit 100 000 over 2024 (term_end Dec 31, 184 days after A:
# no renewal risk; elapsed 182 / 366: no breakage). Windows: recent [A − 27, A] = Jun 3 … Jun 30,
# prior [A − 55, A − 28] = May 6 … Jun 2; usage_drop when recent < 0.7 x prior (1 − 0.3 = 0.7).
WARNING_SPEND = {
    "drop_on": ((40, 100.0), (1, 70.0)),  # 70 < 0.7 x 100 = 70 is false: no drop
    "drop_in": ((40, 100.0), (1, 69.99)),  # 69.99 < 70: drop
    "drop_out": ((40, 100.0), (1, 70.01)),
    "prior_first": ((55, 100.0), (0, 50.0)),  # A − 55 is the prior window's first day
    "prior_before": ((56, 100.0), (0, 50.0)),  # A − 56 is outside: prior 0, no drop
    "recent_first": ((28, 100.0), (27, 25.0), (0, 25.0)),  # prior 100, recent 50 < 70
    # prior 1 > 0 (not > 1): recent 0.5 < 0.7 x 1 = 0.7 (commit 1000: an exhaustion date in 2177)
    "prior_small": ((40, 1.0), (1, 0.5)),
    "zero_6": ((30, 10.0), (6, 10.0)),  # last spend A − 6: 6 zero days < 7
    "zero_7": ((30, 10.0), (7, 10.0)),  # A − 7: exactly 7 zero days (Jun 24 … Jun 30)
    "zero_8": ((30, 10.0), (8, 10.0)),
    # cv_28d over [A − 27, A]: one payment among 28 days has cv = √28 (mean x/28, sd x/√28)
    "cv_first": ((27, 10.0),),
    "cv_last": ((0, 10.0),),
    "cv_before": ((28, 10.0),),  # nothing in the window: mean 0, cv null
}


def _warnings_book():
    contracts = [
        contract(f"c_{a}", date(2024, 1, 1), date(2024, 12, 31), commit, account=a)
        for a in [*WARNING_SPEND, "idle"]
        for commit in [1000.0 if a == "prior_small" else 100_000.0]
    ]
    spend = [frame for a, payments in WARNING_SPEND.items() for frame in _spend(a, *payments)]
    # renewal: commit 100 000 from Jan 1, 1 a day (band under); term_end A + n days
    for n in (89, 90, 91):
        account = f"renew_{n}"
        contracts.append(
            contract(f"c_{account}", date(2024, 1, 1), A + timedelta(days=n), 1e5, account=account)
        )
        spend.append(usage(account, date(2024, 1, 1), A, 1.0))
    # breakage: a 100-day term, commit 1000, the consumption paid on A
    for account, elapsed, consumed in (
        ("break_80", 80, 100.0),  # elapsed_fraction 80/100 = 0.80: not above 0.80
        ("break_81", 81, 100.0),  # 0.81 > 0.80 and utilization 0.10 < 0.20
        ("break_util_on", 81, 200.0),  # utilization 200/1000 = 0.20: not below 0.20
        ("break_util_in", 81, 199.99),  # 0.19999 < 0.20
    ):
        start = A - timedelta(days=elapsed - 1)
        contracts.append(
            contract(f"c_{account}", start, start + timedelta(days=99), 1000.0, account=account)
        )
        spend.append(usage(account, A, A, consumed))
    return make_book(contracts, spend)


@pytest.fixture
def rows() -> dict[str, dict]:
    return health_rows(_warnings_book(), A)


@pytest.mark.parametrize(
    ("account", "warned"),
    [
        ("drop_on", False),
        ("drop_in", True),
        ("drop_out", False),
        ("prior_first", True),
        ("prior_before", False),
        ("recent_first", True),
        ("prior_small", True),
    ],
)
def test_usage_drop_at_its_edges(rows: dict, account: str, warned: bool) -> None:
    assert ("usage_drop" in rows[account]["early_warnings"]) is warned


# recent_first: 100 on A − 28 is the prior window's last day, 25 on A − 27 the recent window's first
def test_usage_drop_windows_split_between_a_minus_28_and_a_minus_27(rows: dict) -> None:
    row = rows["recent_first"]
    assert (row["early_warnings"], row["cv_28d"] is not None) == (["usage_drop"], True)


@pytest.mark.parametrize(
    ("account", "warned"), [("zero_6", False), ("zero_7", True), ("zero_8", True), ("idle", False)]
)
def test_zero_streak_at_its_edge(rows: dict, account: str, warned: bool) -> None:
    assert ("zero_streak" in rows[account]["early_warnings"]) is warned


def test_account_never_live_has_no_warning(rows: dict) -> None:
    assert (rows["idle"]["band"], rows["idle"]["early_warnings"]) == ("not_live", [])


# term_end − A = 89, 90, 91 against renewal_window_days 90; band under (1 a day on 100 000)
@pytest.mark.parametrize(
    ("account", "warned"), [("renew_89", True), ("renew_90", True), ("renew_91", False)]
)
def test_renewal_risk_at_its_edge(rows: dict, account: str, warned: bool) -> None:
    row = rows[account]
    assert row["band"] == "under"
    assert ("renewal_risk" in row["early_warnings"]) is warned


@pytest.mark.parametrize(
    ("account", "warned"),
    [
        ("break_80", False),
        ("break_81", True),
        ("break_util_on", False),
        ("break_util_in", True),
    ],
)
def test_breakage_risk_at_its_edges(rows: dict, account: str, warned: bool) -> None:
    assert ("breakage_risk" in rows[account]["early_warnings"]) is warned


def test_breakage_edge_values_are_exact(rows: dict) -> None:
    assert (rows["break_80"]["elapsed_fraction"], rows["break_util_on"]["utilization"]) == (
        0.8,
        0.2,
    )


@pytest.mark.parametrize(
    ("account", "cv"),
    [("cv_first", math.sqrt(28)), ("cv_last", math.sqrt(28)), ("cv_before", None)],
)
def test_cv_28d_window_first_and_last_day(rows: dict, account: str, cv: float | None) -> None:
    assert rows[account]["cv_28d"] == (pytest.approx(cv, rel=1e-12) if cv else None)


# smooth when cv_28d ≤ smooth_cv_max (0.5); steady_draw also needs ≥ 2 workflows and band healthy
@pytest.mark.parametrize(
    ("cv", "smooth", "stage"),
    [
        (0.4999, True, "steady_draw"),
        (0.5, True, "steady_draw"),
        (0.5001, False, "multi_workflow"),
        (None, None, "multi_workflow"),
    ],
)
def test_smooth_cv_max_on_the_line(cv: float | None, smooth: bool | None, stage: str) -> None:
    frame = pl.DataFrame(
        {
            "cv_28d": [cv],
            "first_billable_date": [date(2024, 1, 2)],
            "workflows_live": [2],
            "band": ["healthy"],
        },
        schema_overrides={"cv_28d": pl.Float64},
    )
    got = frame.select(is_smooth(Health()), adoption_stage(Health())).row(0)
    assert got == (smooth, stage)


@pytest.mark.parametrize(
    ("workflows", "band", "stage"),
    [
        (0, "healthy", "first_billable"),
        (1, "healthy", "one_workflow"),
        (2, "healthy", "steady_draw"),
        (2, "over", "multi_workflow"),
        (2, "under", "multi_workflow"),
    ],
)
def test_adoption_stage_by_workflow_count(workflows: int, band: str, stage: str) -> None:
    frame = pl.DataFrame(
        {
            "cv_28d": [0.1],
            "first_billable_date": [date(2024, 1, 2)],
            "workflows_live": [workflows],
            "band": [band],
        }
    )
    assert frame.select(adoption_stage(Health())).item() == stage


# Milestones: first contract on S; day 90 = S + 90, day 180 = S + 180, counted when ≤ A.
# S = 2024-01-02: day 180 = Jun 30 = A (counted); S = 2024-01-03: day 180 = Jul 1 > A (null).
# workflows (production, retired) against day 90 of S = Jan 2: Apr 1
MILESTONE_WORKFLOWS = {
    "w_prod_on": (date(2024, 4, 1), None),  # production on day 90: live
    "w_prod_after": (date(2024, 4, 2), None),  # production the day after: not yet
    "w_retired_on": (date(2024, 2, 1), date(2024, 4, 1)),  # retired on day 90: not live
    "w_retired_after": (date(2024, 2, 1), date(2024, 4, 2)),  # retired the day after: live
}


def _milestone_book():
    contracts = [
        contract(f"c_{a}", date(2024, 1, 2), date(2024, 12, 31), 1000.0, account=a)
        for a in MILESTONE_WORKFLOWS
    ]
    contracts.append(
        contract("c_late", date(2024, 1, 3), date(2024, 12, 31), 1000.0, account="late")
    )
    accounts = [*MILESTONE_WORKFLOWS, "late"]
    workflows = pl.DataFrame(
        {
            "account_id": list(MILESTONE_WORKFLOWS),
            "workflow_id": [f"w_{a}" for a in MILESTONE_WORKFLOWS],
            "production_date": [p for p, _ in MILESTONE_WORKFLOWS.values()],
            "retired_date": [r for _, r in MILESTONE_WORKFLOWS.values()],
        },
        schema_overrides={"retired_date": pl.Date},
    )
    return make_book(
        contracts, [usage(a, date(2024, 1, 10), A, 1.0) for a in accounts], workflows=workflows
    )


@pytest.fixture
def milestone_rows() -> dict[str, dict]:
    return health_rows(_milestone_book(), A)


@pytest.mark.parametrize(
    ("account", "at_90"),
    [("w_prod_on", 1), ("w_prod_after", 0), ("w_retired_on", 0), ("w_retired_after", 1)],
)
def test_workflow_live_on_day_90(milestone_rows: dict, account: str, at_90: int) -> None:
    assert milestone_rows[account]["workflows_at_90d"] == at_90


@pytest.mark.parametrize(("account", "at_180"), [("w_prod_on", 1), ("late", None)])
def test_day_180_counted_when_it_is_a(milestone_rows: dict, account: str, at_180) -> None:
    assert milestone_rows[account]["workflows_at_180d"] == at_180


# first contract Jan 1; first spend on Jan 14, 15, 16 -> ttfbe 13, 14, 15 days; one never live
TTFBE_FIRST_SPEND = {"t13": 14, "t14": 15, "t15": 16, "t_never": None}


def _ttfbe_book():
    contracts = [
        contract(f"c_{a}", date(2024, 1, 1), date(2024, 12, 31), 1000.0, account=a)
        for a in TTFBE_FIRST_SPEND
    ]
    spend = [
        usage(a, date(2024, 1, day), date(2024, 1, day), 5.0)
        for a, day in TTFBE_FIRST_SPEND.items()
        if day
    ]
    return make_book(contracts, spend, segments=dict.fromkeys(TTFBE_FIRST_SPEND, "t"))


@pytest.mark.parametrize(
    ("account", "days"), [("t13", 13), ("t14", 14), ("t15", 15), ("t_never", None)]
)
def test_ttfbe_days(account: str, days: int | None) -> None:
    assert health_rows(_ttfbe_book(), date(2024, 2, 1))[account]["ttfbe_days"] == days


# live within target 14: t13 and t14 (14 ≤ 14), not t15, not t_never -> 2 / 4 = 0.5
# median of 13, 14, 15 = 14; p75 by linear interpolation = 14 + 0.5 x (15 − 14) = 14.5
def test_ttfbe_cohort_counts_the_target_day_as_within() -> None:
    book = _ttfbe_book()
    health = account_health(book, rate_usage(book), Params(), date(2024, 2, 1))
    cohort = ttfbe_cohorts(health, Health()).collect().row(0, named=True)
    assert cohort == {
        "segment": "t",
        "cohort_month": date(2024, 1, 1),
        "accounts": 4,
        "live_accounts": 3,
        "median_ttfbe_days": 14.0,
        "p75_ttfbe_days": 14.5,
        "share_live_within_target": 0.5,
    }


# first contract Jan 1, A = Jan 31. day0 pays 5 on Jan 1, the contract's first day: live that
# day, ttfbe 0. zeros has usage rows of quantity 0 on every day but Jan 10, where it pays 5: a day
# with c = 0 is not billable, so it went live on Jan 10 (ttfbe 9) and its last spend is Jan 10,
# 21 zero days before A: a zero streak (kills _spend_facts' mutant 36, a first billable day
# after first_contract_start only; its mutant 28, the rows with c = 0 kept, is equivalent: the
# daily spend stores no day of c = 0)
def test_first_billable_day_is_the_first_with_spend_from_the_contract_start() -> None:
    start, as_of, paid = date(2024, 1, 1), date(2024, 1, 31), date(2024, 1, 10)
    book = make_book(
        [
            contract("c_day0", start, date(2024, 12, 31), 1000.0, account="day0"),
            contract("c_zeros", start, date(2024, 12, 31), 1000.0, account="zeros"),
        ],
        [
            usage("day0", start, start, 5.0),
            usage("zeros", start, paid - timedelta(days=1), 0.0),
            usage("zeros", paid, paid, 5.0),
            usage("zeros", paid + timedelta(days=1), as_of, 0.0),
        ],
    )
    rows = health_rows(book, as_of)
    assert (rows["day0"]["first_billable_date"], rows["day0"]["ttfbe_days"]) == (start, 0)
    zeros = rows["zeros"]
    assert (zeros["first_billable_date"], zeros["ttfbe_days"]) == (paid, 9)
    assert "zero_streak" in zeros["early_warnings"]


# warning_facts on a daily frame of its own (its callers give it only rows with c > 0):
# "zero_row": 10 on A − 10 and a row of 0 on A − 2: the last day with c > 0 is A − 10, 10 zero
#   days (kills warning_facts' 10, amount >= 0: A − 2, 2 days); recent [A − 27, A] = 10, prior 0;
# "old": 10 on A − 56 only, the day before the sums' first day A − 55: 56 zero days and both
#   sums 0, not null (kills warning_facts' 30, 44, 45: one or both left null; 50: filled 1.0).
WARNING_FACTS = {
    "zero_row": ([(10, 10.0), (2, 0.0)], (10, 10.0, 0.0)),
    "old": ([(56, 10.0)], (56, 0.0, 0.0)),
}


@pytest.mark.parametrize("account", list(WARNING_FACTS))
def test_warning_facts_read_only_spend_and_are_zero_without_it(account: str) -> None:
    daily = pl.LazyFrame(
        [(a, _day(n), amount) for a, (rows, _) in WARNING_FACTS.items() for n, amount in rows],
        schema={"account_id": pl.String, "usage_date": pl.Date, "amount": pl.Float64},
        orient="row",
    )
    facts = {row["account_id"]: row for row in warning_facts(daily, A).collect().to_dicts()}
    row = facts[account]
    assert (row["_zero_days_at_as_of"], row["_recent_28d"], row["_prior_28d"]) == (
        WARNING_FACTS[account][1]
    )


# two workflows: one live since Feb 1, the second put in production on A itself (Jun 30): two
# are live on A, so two_workflows_date = A (kills two_workflows_date's mutant 18: production
# dates before A only)
def test_two_workflows_date_can_be_a() -> None:
    workflows = pl.DataFrame(
        {
            "account_id": ["a", "a"],
            "workflow_id": ["w1", "w2"],
            "production_date": [date(2024, 2, 1), A],
            "retired_date": [None, None],
        },
        schema_overrides={"retired_date": pl.Date},
    )
    book = make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 1, 10), A, 1.0)],
        workflows=workflows,
    )
    row = health_rows(book, A)["a"]
    assert (row["workflows_live"], row["two_workflows_date"]) == (2, A)
