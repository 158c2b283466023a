"""Every rule of docs/metrics.md#commit-utilization-and-bands at its edge: the band and burn
thresholds exactly on, just inside and just outside; the run-rate window on its first and last day
and cut at the term start; the exhaustion forecast's rounding and its comparison with term_end;
the pay-as-you-go trailing year on its first day. One book, each account asserted on its own.

Most accounts share one term: commit 1000 over 2024-01-01 … 2024-04-09 (100 days), A = 2024-02-19
(day 50: elapsed_fraction 0.5, remaining_days 50, run-rate window [Jan 23, Feb 19] = 28 days).
A flat q a day from Jan 1 gives consumed 50q, run_rate q, projected 100q:
projected_utilization = q / 10 and pacing_index = (50q / 1000) / 0.5 = q / 10.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from _books import contract, health_rows, make_book, usage

TERM_START, TERM_END, A = date(2024, 1, 1), date(2024, 4, 9), date(2024, 2, 19)

# account -> q a day from Jan 1 to A on the shared term
FLAT = {
    "q07.99": 7.99,
    "q08.00": 8.0,
    "q08.01": 8.01,
    "q08.49": 8.49,
    "q08.50": 8.5,
    "q08.51": 8.51,
    "q10.99": 10.99,
    "q11.00": 11.0,
    "q11.01": 11.01,
    "q11.99": 11.99,
    "q12.00": 12.0,
    "q12.01": 12.01,
    # exhaustion: A + ceil((1000 − 50q) / q) = A + ceil(1000 / q − 50)
    "x_before": 10.15,  # 98.52 − 50 = 48.52 -> 49 days -> Apr 8
    "x_on": 10.0,  # 100 − 50 = 50 days -> Apr 9 = term_end
    "x_after": 9.98,  # 100.2 − 50 = 50.2 -> 51 days (not 50) -> Apr 10
}


def _book():
    contracts = [contract(f"c_{a}", TERM_START, TERM_END, 1000.0, account=a) for a in FLAT]
    spend = [usage(a, TERM_START, A, q) for a, q in FLAT.items()]
    # a commit of 1.0 is still a commit (not pay-as-you-go): 0.01 a day -> projected 1.0
    contracts.append(contract("c_tiny", TERM_START, TERM_END, 1.0, account="tiny"))
    spend.append(usage("tiny", TERM_START, A, 0.01))
    # reached: 10 a day Jan 1 … Feb 19 = 500 exactly on A
    contracts.append(contract("c_reached", TERM_START, TERM_END, 500.0, account="reached"))
    contracts.append(contract("c_short", TERM_START, TERM_END, 500.01, account="short"))
    spend += [usage(a, TERM_START, A, 10.0) for a in ("reached", "short")]
    # reached earlier: 10 a day Jan 1 … Feb 14 = 450 exactly, nothing after (run rate still > 0)
    contracts.append(contract("c_reached_early", TERM_START, TERM_END, 450.0, account="early"))
    spend.append(usage("early", TERM_START, date(2024, 2, 14), 10.0))
    # run-rate window [Jan 23, Feb 19]: one payment of 10 on one day
    for account, day in (("w_first", date(2024, 1, 23)), ("w_before", date(2024, 1, 22))):
        contracts.append(contract(f"c_{account}", TERM_START, TERM_END, 1000.0, account=account))
        spend.append(usage(account, day, day, 10.0))
    contracts.append(contract("c_w_last", TERM_START, TERM_END, 1000.0, account="w_last"))
    spend.append(usage("w_last", A, A, 10.0))
    # a renewal on Feb 10 cuts the window to [Feb 10, Feb 19] = 10 days
    contracts += [
        contract("c_cut_1", TERM_START, date(2024, 2, 9), 100.0, account="w_cut"),
        contract("c_cut_2", date(2024, 2, 10), date(2024, 12, 31), 1000.0, account="w_cut"),
    ]
    spend += [
        usage("w_cut", date(2024, 2, 9), date(2024, 2, 9), 7.0),
        usage("w_cut", date(2024, 2, 10), date(2024, 2, 10), 10.0),
        usage("w_cut", A, A, 3.0),
    ]
    # pay-as-you-go: the trailing year is [A − 364, A] = [2023-02-21, 2024-02-19]
    for account, day in (("p_first", A - timedelta(days=364)), ("p_out", A - timedelta(days=365))):
        contracts.append(contract(f"c_{account}", date(2023, 1, 1), None, 0.0, account=account))
        spend += [usage(account, day, day, 100.0), usage(account, A, A, 1.0)]
    # pay-as-you-go on a fixed term from 2022 (term_start before A − 364, so the rows from
    # term_start are read): the trailing year still starts on A − 364
    contracts.append(
        contract("c_p_long", date(2022, 1, 1), date(2025, 12, 31), 0.0, account="p_long")
    )
    spend += [usage("p_long", A - timedelta(days=365), A - timedelta(days=365), 100.0)]
    spend.append(usage("p_long", A, A, 1.0))
    # pay-as-you-go without any spend
    contracts.append(contract("c_p_none", date(2023, 1, 1), None, 0.0, account="p_none"))
    # a commit of 1.0 reached: 0.5 a day from Jan 1 -> running total 1.0 on Jan 2
    contracts.append(contract("c_one_reached", TERM_START, TERM_END, 1.0, account="one_reached"))
    spend.append(usage("one_reached", TERM_START, A, 0.5))
    # pay-as-you-go late in a 100-day term (81 days elapsed: 0.81 > 0.80), no utilization
    late_start = A - timedelta(days=80)
    contracts.append(
        contract("c_p_late", late_start, late_start + timedelta(days=99), 0.0, account="p_late")
    )
    spend.append(usage("p_late", A, A, 5.0))
    return make_book(contracts, spend)


@pytest.fixture
def rows() -> dict[str, dict]:
    return health_rows(_book(), A)


# projected_utilization = q / 10 against band_low 0.85 and band_high 1.10
@pytest.mark.parametrize(
    ("account", "band"),
    [
        ("q08.49", "under"),  # 0.849 < 0.85
        ("q08.50", "healthy"),  # 850 / 1000 = 0.85: not below band_low
        ("q08.51", "healthy"),  # 0.851
        ("q10.99", "healthy"),  # 1.099
        ("q11.00", "healthy"),  # 1100 / 1000 = 1.10: not above band_high
        ("q11.01", "over"),  # 1.101 > 1.10
    ],
)
def test_band_at_its_edges(rows: dict, account: str, band: str) -> None:
    assert rows[account]["band"] == band


def test_projected_utilization_sits_exactly_on_band_low(rows: dict) -> None:
    # 425 consumed + 8.5 a day x 50 days = 850 of 1000
    assert rows["q08.50"]["projected_utilization"] == 0.85


# pacing_index = q / 10 against burn_slow 0.80 and burn_fast 1.20
@pytest.mark.parametrize(
    ("account", "burn"),
    [
        ("q07.99", "too_slow"),  # 0.799 < 0.80
        ("q08.00", "on_pace"),  # (400 / 1000) / 0.5 = 0.80: not below burn_slow
        ("q08.01", "on_pace"),  # 0.801
        ("q11.99", "on_pace"),  # 1.199
        ("q12.00", "on_pace"),  # (600 / 1000) / 0.5 = 1.20: not above burn_fast
        ("q12.01", "too_fast"),  # 1.201 > 1.20
    ],
)
def test_burn_at_its_edges(rows: dict, account: str, burn: str) -> None:
    assert rows[account]["burn"] == burn


def test_pacing_index_sits_exactly_on_burn_slow(rows: dict) -> None:
    assert rows["q08.00"]["pacing_index"] == 0.8


@pytest.mark.parametrize(
    ("account", "day", "before_term_end"),
    [
        ("x_before", date(2024, 4, 8), True),  # term_end − 1
        ("x_on", date(2024, 4, 9), True),  # exactly term_end: ≤ holds
        ("x_after", date(2024, 4, 10), False),  # term_end + 1: 50.2 days rounds up to 51
    ],
)
def test_exhaustion_forecast_rounds_up_and_compares_with_term_end(
    rows: dict, account: str, day: date, before_term_end: bool
) -> None:
    row = rows[account]
    assert (row["exhaustion_date"], row["exhausts_before_term_end"]) == (day, before_term_end)


# commit 500, 10 a day from Jan 1: the running total reaches 500 on Feb 19 (day 50) exactly
def test_commit_reached_exactly_on_as_of_is_exhausted_that_day(rows: dict) -> None:
    row = rows["reached"]
    assert (row["utilization"], row["exhaustion_date"], row["exhausts_before_term_end"]) == (
        1.0,
        A,
        True,
    )


# consumed exactly the commit, last on Feb 14: exhausted on Feb 14, not forecast for A (0 left)
def test_commit_reached_exactly_before_as_of_is_exhausted_on_that_day(rows: dict) -> None:
    row = rows["early"]
    assert (row["consumed_to_date"], row["exhaustion_date"]) == (450.0, date(2024, 2, 14))


# commit 500.01: 0.01 left at 10 a day -> ceil(0.001) = 1 day -> Feb 20 (not A)
def test_commit_a_cent_short_is_forecast_for_the_next_day(rows: dict) -> None:
    assert rows["short"]["exhaustion_date"] == date(2024, 2, 20)


# window [Jan 23, Feb 19] is 28 days: 10 / 28 = 0.357142857…
@pytest.mark.parametrize(
    ("account", "run_rate"),
    [("w_first", 10 / 28), ("w_before", 0.0), ("w_last", 10 / 28)],
)
def test_run_rate_window_first_and_last_day(rows: dict, account: str, run_rate: float) -> None:
    assert rows[account]["run_rate"] == pytest.approx(run_rate, rel=1e-12)


def test_payment_before_the_run_rate_window_still_counts_as_consumed(rows: dict) -> None:
    assert rows["w_before"]["consumed_to_date"] == 10.0


# the renewal c_cut_2 starts Feb 10: window [max(Feb 10, Jan 23), Feb 19] = 10 days
# 10 on Feb 10 + 3 on Feb 19 = 13 -> 13 / 10 = 1.3 (the 7 on Feb 9 belongs to c_cut_1)
def test_run_rate_window_cut_at_the_term_start(rows: dict) -> None:
    row = rows["w_cut"]
    assert (row["contract_id"], row["consumed_to_date"]) == ("c_cut_2", 13.0)
    assert row["run_rate"] == pytest.approx(1.3, rel=1e-12)


# term Feb 10 … Dec 31 2024 = 326 days; A = day 10: elapsed 10 / 326, remaining 316
# account_value 1000 x 365 / 326 = 1119.63…; projected 13 + 1.3 x 316 = 423.8
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("term_days", 326),
        ("elapsed_days", 10),
        ("remaining_days", 316),
        ("elapsed_fraction", 10 / 326),
        ("account_value", 1000 * 365 / 326),
        ("projected_consumption", 423.8),
        ("utilization", 0.013),
        ("pacing_index", 0.013 / (10 / 326)),
    ],
)
def test_uneven_term_arithmetic(rows: dict, column: str, expected: float) -> None:
    assert rows["w_cut"][column] == pytest.approx(expected, rel=1e-12)


# 100 on A − 364 (the trailing year's first day) + 1 on A = 101; 100 on A − 365 is outside
@pytest.mark.parametrize(("account", "value"), [("p_first", 101.0), ("p_out", 1.0)])
def test_paygo_trailing_year_first_day(rows: dict, account: str, value: float) -> None:
    row = rows[account]
    assert (row["band"], row["account_value"]) == ("paygo", value)


# the term started in 2022, so the rows back to then are read; 100 on A − 365 is still outside
# the trailing year: 1 on A alone (kills term_consumption's mutant 109: the year from A − 365)
def test_paygo_trailing_year_first_day_on_a_long_term(rows: dict) -> None:
    row = rows["p_long"]
    assert (row["band"], row["account_value"]) == ("paygo", 1.0)


# no spend at all: no rows to sum, a trailing year of 0, not unknown (kills term_consumption's
# mutant 162: _trailing_year_amount left null for an account without spend)
def test_paygo_without_spend_is_worth_zero(rows: dict) -> None:
    row = rows["p_none"]
    assert (row["band"], row["consumed_to_date"], row["account_value"]) == ("paygo", 0.0, 0.0)


def test_paygo_has_no_burn_or_exhaustion(rows: dict) -> None:
    row = rows["p_first"]
    assert (row["burn"], row["exhaustion_date"], row["exhausts_before_term_end"]) == (
        None,
        None,
        None,
    )


def test_paygo_is_never_at_breakage_risk(rows: dict) -> None:
    # elapsed 81 / 100 = 0.81 > 0.80, but no commit, so no utilization: not a breakage risk
    row = rows["p_late"]
    assert (row["utilization"], row["elapsed_fraction"]) == (None, 0.81)
    assert row["early_warnings"] == []


# commit 1.0, 0.01 a day: consumed 0.5, pacing (0.5 / 1) / 0.5 = 1.0, projected 1.0
def test_a_commit_of_one_is_a_commit(rows: dict) -> None:
    row = rows["tiny"]
    assert (row["band"], row["burn"], row["exhausts_before_term_end"]) == (
        "healthy",
        "on_pace",
        True,
    )
    assert row["exhaustion_date"] == TERM_END
    # its ratios are not null (a null one would still read healthy and on_pace: kills the
    # mutants 8 of utilization and projected_utilization, commit_amount > 1)
    assert (row["utilization"], row["projected_utilization"]) == pytest.approx((0.5, 1.0))
    # annualized as a commit: 1.0 x 365 / 100 days = 3.65 (not its trailing year, 0.5)
    assert row["account_value"] == pytest.approx(3.65)


# commit 1.0, 0.5 a day from Jan 1: the running total reaches 1.0 on Jan 2, the exhaustion date
# (kills term_consumption's mutant 45: a commit reached only when above 1)
def test_a_commit_of_one_reached_is_exhausted_that_day(rows: dict) -> None:
    row = rows["one_reached"]
    assert (row["consumed_to_date"], row["exhaustion_date"]) == (25.0, date(2024, 1, 2))
