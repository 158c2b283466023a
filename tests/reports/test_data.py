"""report_data.py: loading a run folder and the views the reports show."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from _report_run import AS_OF, write_run
from drawdown.reports import data as report_data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> report_data.RunData:
    return report_data.load_run(write_run(tmp_path_factory.mktemp("run")))


def test_as_of_is_read_from_the_artifacts(run: report_data.RunData) -> None:
    assert run.as_of == AS_OF


def test_comparisons_and_reset_are_optional(tmp_path: Path) -> None:
    bare = report_data.load_run(write_run(tmp_path, reset=False, previous=False))
    assert bare.previous_month is None and bare.get("reset_tracker") is None
    assert report_data.headline_figures(bare)["previous"].null_count() == 10
    assert bare.get("changes") is None and report_data.change_counts(bare.get("changes")) is None


def test_an_account_slice_holds_that_accounts_rows_and_the_same_account_data(
    run: report_data.RunData,
) -> None:
    sliced = report_data.load_run(run.run_dir, run.as_of, account_id="A2")
    for name, frame in sliced.tables.items():
        if "account_id" in frame.columns:
            assert set(frame["account_id"]) <= {"A2"}, name
        else:
            assert frame.equals(run[name]), name
    assert sliced.previous_month is not None and run.previous_month is not None
    for name, frame in sliced.previous_month.items():
        whole_book = run.previous_month[name]
        if "account_id" in frame.columns:
            assert frame.equals(whole_book.filter(pl.col("account_id") == "A2")), name
        else:
            assert frame.equals(whole_book), name
    assert sliced.previous_month["account_health"]["account_id"].to_list() == ["A2"]
    whole, alone = report_data.account_data(run, "A2"), report_data.account_data(sliced, "A2")
    assert alone.health == whole.health and alone.case == whole.case
    assert alone.action == whole.action and alone.action["next_action"] == "open_conversation"
    assert alone.daily.height > 0 and alone.daily.equals(whole.daily)
    assert alone.meters.equals(whole.meters) and alone.months.equals(whole.months)


def test_scoped_keeps_one_segment(run: report_data.RunData) -> None:
    mid = report_data.scoped(run, "Mid-Market")
    assert (
        set(mid["account_health"]["segment"]) == {"Mid-Market"} and mid["overage_cases"].height == 0
    )
    assert mid["segment_summary"]["segment"].to_list() == ["Mid-Market"]
    assert set(mid["daily_spend"]["account_id"]) == {"A3", "A4"}


def test_headline_compares_with_last_month(run: report_data.RunData) -> None:
    row = (
        report_data.headline_figures(run)
        .filter(pl.col("measure") == "consumed_to_date_total")
        .row(0, named=True)
    )
    # consumed 185000 now, 0.9 x 185000 = 166500 last month
    assert (row["current"], row["previous"], row["change"]) == (185000.0, 166500.0, 18500.0)


@pytest.mark.parametrize(
    ("burn", "account_id", "action"),
    [
        ("too_slow", "A3", "Rescue (Kim, CSM)"),
        ("too_slow", "A5", "Activate (Kim, CSM)"),
        ("too_fast", "A2", "Open the conversation (Dana, CSM)"),
    ],
)
def test_burn_lists_carry_the_next_action_of_the_artifact(
    run: report_data.RunData, burn: str, account_id: str, action: str
) -> None:
    listed = report_data.burn_actions(run["account_health"], run["account_actions"], burn)
    assert listed.filter(pl.col("account_id") == account_id)["action"].item() == action


def test_an_action_without_an_owner_says_so(run: report_data.RunData) -> None:
    listed = report_data.with_actions(run["account_health"], run["account_actions"])
    assert listed.filter(pl.col("account_id") == "A4")["action"].item() == (
        "Second workflow (no CSM named)"
    )


def test_briefing_groups(run: report_data.RunData) -> None:
    groups = report_data.briefing_groups(
        run["account_health"], run["overage_cases"], run["account_actions"]
    )
    assert dict(groups.select("account_id", "group").iter_rows()) == {
        "A1": "watch",
        "A2": "action_required",
        "A3": "action_required",
        "A4": "healthy",
        "A5": "watch",
    }
    assert groups.filter(pl.col("account_id") == "A1")["action"].item() == "Expansion (Lee, AE)"


def test_a_case_closed_by_a_scope_reduction_is_not_action_required(
    run: report_data.RunData,
) -> None:
    closed = run["overage_cases"].with_columns(status=pl.lit("scope_reduction"))
    groups = report_data.briefing_groups(run["account_health"], closed, run["account_actions"])
    assert groups.filter(pl.col("account_id") == "A2")["group"].item() == "watch"


def test_change_counts_name_every_kind(run: report_data.RunData) -> None:
    assert report_data.change_counts(run["changes"]) == {
        "new_case": 1,
        "escalated": 0,
        "resolved": 1,
        "went_live": 0,
        "band_change": 1,
        "burn_change": 1,
    }
    assert report_data.previous_as_of(run["changes"]) == date(2026, 4, 23)


def test_changed_accounts_keep_an_account_that_left_the_book(run: report_data.RunData) -> None:
    cases = report_data.changed_accounts(
        run["changes"], run["account_health"], ("new_case", "escalated", "resolved")
    )
    assert cases.select("account_name", "change").rows() == [
        ("<script>alert(1)</script>", "new_case"),
        ("A9", "resolved"),
    ]


def test_funnel_shares_of_contract_starts(run: report_data.RunData) -> None:
    funnel = report_data.adoption_funnel(run["account_health"]).filter(pl.col("segment") == "All")
    assert funnel["accounts"].to_list() == [5, 4, 2, 1] and funnel["share"].to_list() == [
        1.0,
        0.8,
        0.4,
        0.2,
    ]


def test_burnup_ends_at_consumed_and_projects_to_term_end(run: report_data.RunData) -> None:
    burnup = report_data.burnup(report_data.account_data(run, "A1"))
    consumed = burnup.filter(pl.col("series") == "consumed")
    projection = burnup.filter(pl.col("series") == "projection")
    # projection = 100000 + 330 x 61 days
    assert consumed["amount"].last() == 100000.0 and projection["amount"].last() == pytest.approx(
        120130.0
    )
    assert projection["date"].last() == date(2026, 6, 30)


def test_burnup_is_empty_for_paygo(run: report_data.RunData) -> None:
    assert report_data.burnup(report_data.account_data(run, "A4")).height == 0


def test_quarter_comparison_uses_complete_months_even_on_a_month_end(
    run: report_data.RunData,
) -> None:
    comparison, quarter = report_data.quarter_comparison(report_data.account_data(run, "A1"))
    # as_of 2026-04-30: April is month-to-date, so Jan-Mar 2026 against Oct-Dec 2025
    assert comparison.label == "Jan–Mar 2026 against Oct–Dec 2025"
    by_measure = {row["measure"]: row for row in quarter.iter_rows(named=True)}
    # consumption from account_actions; outcomes Jan-Mar 1150 + 1200 + 1250, Oct-Dec 1000 + 1050 + 1100
    assert (by_measure["Consumption"]["current"], by_measure["Consumption"]["previous"]) == (
        30600.0,
        27900.0,
    )
    assert (by_measure["Outcomes"]["current"], by_measure["Outcomes"]["previous"]) == (
        3600.0,
        3150.0,
    )


def test_month_to_date_is_shown_with_its_projection(run: report_data.RunData) -> None:
    # A1's daily spend in April 2026 (30 days); as_of is the month's last day: 0 days left
    mtd = report_data.month_to_date(report_data.account_data(run, "A1"))
    april = run["daily_spend"].filter(
        pl.col("account_id") == "A1", pl.col("usage_date") >= date(2026, 4, 1)
    )
    assert mtd["label"] == "Apr 2026" and mtd["days_left"] == 0
    assert mtd["amount"] == mtd["projection"] == pytest.approx(april["amount"].sum())


def test_month_to_date_projects_at_the_run_rate_mid_month(run: report_data.RunData) -> None:
    # as_of 2026-04-15: 15 days left at A1's run rate of 330 a day
    account = replace(report_data.account_data(run, "A1"), as_of=date(2026, 4, 15))
    mtd = report_data.month_to_date(account)
    assert mtd["days_left"] == 15
    assert mtd["projection"] == pytest.approx(mtd["amount"] + 330.0 * 15)


def test_monthly_consumption_compares_complete_months(run: report_data.RunData) -> None:
    months = report_data.monthly_consumption(run["daily_spend"], run.as_of)
    assert months["label"].to_list() == ["Mar 2026", "Feb 2026", "Mar 2025"]


def test_meter_marks_are_the_case_patterns(run: report_data.RunData) -> None:
    marks = report_data.meter_marks(report_data.account_data(run, "A1"), lookback_months=3)
    # Feb 900, Mar 950 within the 1000 limit; April over: the meter's pattern, spike
    assert marks["mark"].to_list() == ["within", "within", "spike"]
    sustained = report_data.meter_marks(report_data.account_data(run, "A2"), lookback_months=3)
    assert sustained["mark"].to_list() == ["sustained"] * 3


def test_an_over_month_before_the_lookback_is_only_over(run: report_data.RunData) -> None:
    marks = report_data.meter_marks(report_data.account_data(run, "A2"), lookback_months=1)
    assert marks["mark"].to_list() == ["over", "over", "sustained"]


def test_renewal_options_are_the_accounts_scenarios_cheapest_first(
    run: report_data.RunData,
) -> None:
    options = report_data.renewal_options(run.get("renewal_scenarios"), "A2")
    # renewal_scenarios of A2: expand to 94900 (cheapest), pay overage 129800 (34900 more)
    assert options["option"].to_list() == [
        "Expand the commit to the forecast",
        "Renew as is, paying overage",
    ]
    assert options["over_cheapest"].to_list() == [0.0, 34900.0]


def test_no_renewal_option_for_an_account_without_scenarios(run: report_data.RunData) -> None:
    assert report_data.renewal_options(run.get("renewal_scenarios"), "A5").height == 0
    assert report_data.renewal_options(None, "A2").height == 0


def test_forecast_cone_starts_at_consumed_to_date_and_widens(run: report_data.RunData) -> None:
    # A3 consumed 10000: at as_of no spread, then 10000 + p10 .. 10000 + p90 per horizon
    forecast = pl.DataFrame(
        {"account_id": ["A3"], "horizon_days": [28], "p10": [500.0], "p50": [700.0], "p90": [900.0]}
    )
    cone = report_data.forecast_cone(report_data.account_data(run, "A3"), forecast)
    assert cone["low"].to_list() == [10000.0, 10500.0] and cone["high"].to_list() == [
        10000.0,
        10900.0,
    ]
    assert report_data.forecast_cone(report_data.account_data(run, "A3"), None).height == 0


def test_forecast_cone_stops_at_the_term_end(run: report_data.RunData) -> None:
    # A3's term ends in 10 days: the 28-day horizon lies in the next term, off this burn-up
    account = report_data.account_data(run, "A3")
    ending = replace(account, health={**account.health, "term_end": date(2026, 5, 10)})
    forecast = pl.DataFrame(
        {
            "account_id": ["A3", "A3"],
            "horizon_days": [10, 28],
            "p10": [200.0, 500.0],
            "p50": [250.0, 700.0],
            "p90": [300.0, 900.0],
        }
    )
    cone = report_data.forecast_cone(ending, forecast)
    assert cone["date"].to_list() == [AS_OF, date(2026, 5, 10)]
    assert cone["high"].to_list() == [10000.0, 10300.0]


def test_spend_by_month_keeps_the_first_month_and_marks_the_month_so_far(
    run: report_data.RunData,
) -> None:
    account = report_data.account_data(run, "A2")
    months = report_data.spend_by_month(replace(account, as_of=date(2026, 4, 20)))
    assert months["period"].to_list()[-1] == "so far"
    assert set(months["period"].to_list()[:-1]) == {"complete"}
    assert (months["amount"] > 0).all()


def test_spend_by_month_as_of_a_month_end_draws_that_month_complete(
    run: report_data.RunData,
) -> None:
    # as of 31 Oct the review said "October 2026, to its last day: $9,241" beside a chart
    # whose October bar read "Month so far"
    month_end = report_data.spend_by_month(report_data.account_data(run, "A2"))  # 30 Apr
    assert set(month_end["period"].to_list()) == {"complete"}


def test_unknown_account_is_named(run: report_data.RunData) -> None:
    with pytest.raises(KeyError, match="NOPE"):
        report_data.account_data(run, "NOPE")


def test_spend_predictability_skips_the_ramp_up_month_and_the_partial_current_month():
    # spend starts mid-August (ramp-up, left out); September 100 -> October 110 is +10 %;
    # November is partial at as_of 2026-11-15 and left out.
    months = pl.DataFrame(
        {
            "month": [date(2026, m, 1) for m in (7, 8, 9, 10, 11)],
            "amount": [0.0, 20.0, 100.0, 110.0, 50.0],
        }
    )
    steady = report_data.spend_predictability(months, date(2026, 11, 15))
    assert steady["month"].to_list() == [date(2026, 9, 1), date(2026, 10, 1)]
    assert steady["change"][1] == pytest.approx(0.10)


def test_daily_lines_fill_the_last_days_of_the_shown_accounts(run: report_data.RunData) -> None:
    top = report_data.top_accounts(run["account_health"], 2)
    lines = report_data.daily_lines(run["daily_spend"], top, run.as_of, days=30)
    # 2 accounts x 30 days, zeros where the account drew nothing
    assert lines.height == 60 and set(lines["account_id"]) == set(top["account_id"])
    assert lines["usage_date"].min() == date(2026, 4, 1) and lines["amount"].null_count() == 0


def test_the_funnel_of_a_book_without_contract_starts_has_no_share():
    # as_of before every contract: no account, so no step has a share of contract starts
    from drawdown.reports.data import adoption_funnel

    health = pl.DataFrame(
        schema={
            "segment": pl.String,
            "first_billable_date": pl.Date,
            "workflows_live": pl.Int64,
            "adoption_stage": pl.String,
        }
    )
    funnel = adoption_funnel(health)
    assert funnel["accounts"].to_list() == [0, 0, 0, 0]
    assert funnel["share"].null_count() == 4
    assert funnel["step"].to_list()[0] == "Contract start"


def test_risks_are_the_largest_in_money_with_their_accounts(run: report_data.RunData) -> None:
    risks = report_data.risks(run)
    assert 0 < len(risks) <= 3
    assert [item.amount for item in risks] == sorted((item.amount for item in risks), reverse=True)
    # A5 Newco: not live after the target (activate), commit 24000
    activate = [item for item in report_data.risks(run, n=10) if "not live" in item.what]
    assert [(item.amount, item.accounts, item.names) for item in activate] == [
        (24000.0, 1, ("Newco",))
    ]


def test_wins_count_quarter_growth_in_money(run: report_data.RunData) -> None:
    # growth: A1 30600 - 27900 = 2700, A2 28500 - 21000 = 7500 -> 10200 at 2 accounts
    grown = [item for item in report_data.wins(run, 90, n=10) if "growth" in item.what]
    assert [(item.amount, item.accounts) for item in grown] == [(10200.0, 2)]


def test_renewing_counts_terms_ending_within_the_window(run: report_data.RunData) -> None:
    # A1, A2, A3, A4 renew in 61 days (A3 under); A5 in 304
    soon = report_data.renewing(run, 90)
    assert (soon.accounts, soon.under, soon.names_under) == (4, 1, ("Bolt & Co",))


def test_stuck_accounts_at_each_stage_with_days_stuck(run: report_data.RunData) -> None:
    # as of Apr 30 2026: A5 not live 60 days after its Mar 1 start; A4 and A3 live with one
    # workflow for 302 (from Jul 2) and 272 days (from Aug 1); A2 two workflows since Sep 15
    # 2025 (227 days) without steady draw; A1 steady
    stuck = report_data.stuck_accounts(run["account_health"], run["account_actions"], AS_OF, 14)
    assert stuck.select("account_id", "stage", "days_stuck").rows() == [
        ("A5", "not_live", 60),
        ("A4", "live", 302),
        ("A3", "live", 272),
        ("A2", "two_workflows", 227),
    ]
    assert stuck["action"][0] == "Activate (Kim, CSM)"


def test_funnel_days_are_medians_from_contract_start(run: report_data.RunData) -> None:
    # ttfbe 7, 19, 31, 1 -> median 13; two workflows: A1 Aug 1 (31 days), A2 Sep 15 (76) -> 53.5
    funnel = report_data.funnel_days(run["account_health"])
    assert funnel["median_days"].to_list() == [0.0, 13.0, 53.5, None]
    assert funnel["accounts"].to_list() == [5, 4, 2, 1]


def test_a_recent_or_small_ttfbe_cohort_is_not_claimed_on() -> None:
    cohorts = pl.DataFrame(
        {
            "segment": ["a", "a", "a"],
            "cohort_month": [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)],
            "accounts": [6, 3, 9],
            "live_accounts": [6, 3, 9],
            "median_ttfbe_days": [10.0, 5.0, 4.0],
        }
    )
    # as of Apr 30 with a 14-day target: April is not mature; March has 3 live (< 5)
    table = report_data.ttfbe_cohort_table(cohorts, AS_OF, 14, 5)
    assert table["claimable"].to_list() == [True, False, False]
    assert table["mature"].to_list() == [True, True, False]


def test_warning_counts_are_per_account(run: report_data.RunData) -> None:
    # A3 shows two warnings: one account, counted under each
    assert report_data.warning_counts(run["account_health"]) == {"renewal_risk": 1, "usage_drop": 1}
    assert report_data.warned_accounts(run["account_health"], run["account_actions"]).height == 1


def test_csm_accounts_are_each_books_rows_in_ladder_then_value_order() -> None:
    ladder = list(report_data.ACTION_LABELS)
    health = pl.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e", "f", "g"],
            "csm_owner": ["Kim", "Kim", " Kim", "  ", None, "Kim", "Dana"],
            "account_value": [10.0, 50.0, 5.0, 1.0, 2.0, 50.0, None],
        }
    )
    actions = pl.DataFrame(
        {
            "account_id": ["a", "b", "c", "d", "e", "f", "g"],
            # b and f share the first step and the value: the account_id decides
            "next_action": [ladder[0], ladder[0], ladder[1], ladder[2], ladder[0], ladder[0], None],
            "owner": ["Kim"] * 7,
            "owner_role": ["csm"] * 7,
            "reason": [""] * 7,
            "days_to_renewal": [30] * 7,
        }
    )
    books = report_data.csm_accounts(health, actions)
    ids = {csm: frame["account_id"].to_list() for csm, frame in books.items()}
    # Kim: the first step before its value (b, f: 50 then a: 10); " Kim" is a name of its own;
    # a blank and a null owner are the accounts without a CSM, ladder order (e before d)
    assert ids == {"Kim": ["b", "f", "a"], " Kim": ["c"], None: ["e", "d"], "Dana": ["g"]}
    assert sorted(report_data.csm_names(health)) == sorted(c for c in books if c is not None)


# a tie: paying overage and expanding cost the same (the overage priced at the unit price), and
# renewal_scenarios marks pay_overage the cheapest (ties go to the scenarios' order). The review
# takes the first option as the cheapest, so it must be the one the artifact marks, not the first
# by name ("expand_commit" sorts before "pay_overage").
def test_renewal_options_put_the_scenario_marked_cheapest_first_on_a_tie() -> None:
    scenarios = pl.DataFrame(
        {
            "account_id": ["T", "T"],
            "renewal_date": [date(2027, 7, 1)] * 2,
            "scenario": ["pay_overage", "expand_commit"],
            "next_term_days": [365, 365],
            "forecast_consumption": [1_035_031.55] * 2,
            "commit_amount": [1_000_000.0, 1_035_031.55],
            "overage_amount": [35_031.55, 0.0],
            "cost": [1_035_031.55] * 2,
            "is_cheapest": [True, False],
            "cost_over_cheapest": [0.0, 0.0],
        }
    )
    options = report_data.renewal_options(scenarios, "T")
    assert options["option"].to_list() == [
        "Renew as is, paying overage",
        "Expand the commit to the forecast",
    ]
    assert options["is_cheapest"].to_list() == [True, False]


@pytest.mark.parametrize(("window", "accounts"), [(90, 2), (61, 2), (60, 0)])
def test_the_renewing_win_uses_the_runs_renewal_window(
    run: report_data.RunData, window: int, accounts: int
) -> None:
    # A1 (healthy) and A2 (over) renew in 61 days: the window is health.renewal_window_days, as
    # in "N accounts renew in the next N days" and the renewal_risk warning
    renewing = [item for item in report_data.wins(run, window, n=10) if "renewing" in item.what]
    if accounts:
        assert [(item.what, item.accounts) for item in renewing] == [
            (f"of annual value renewing in the next {window} days on or above their commit", 2)
        ]
    else:
        assert renewing == []


def _spend_from(run: report_data.RunData, first: date) -> report_data.RunData:
    """``run`` with a book whose spend starts on ``first``."""
    daily = pl.DataFrame(
        {"account_id": ["A1", "A1"], "usage_date": [first, run.as_of], "amount": [100.0, 100.0]}
    )
    return replace(run, tables={**run.tables, "daily_spend": daily})


def test_retention_gap_when_the_spend_starts_inside_the_year_earlier_window(
    run: report_data.RunData,
) -> None:
    # as of 30 Apr 2026 the year-earlier window is 31 Jan - 30 Apr 2025: 9 of its days from 22 Apr
    gap = report_data.retention_gap(_spend_from(run, date(2025, 4, 22)))
    assert gap is not None
    assert (gap.prior.first, gap.prior.last) == (date(2025, 1, 31), date(2025, 4, 30))
    assert (gap.first_spend, gap.covered_days) == (date(2025, 4, 22), 9)


def test_the_spend_starts_on_its_first_day_with_an_amount_in_every_sentence(
    run: report_data.RunData,
) -> None:
    # a first row without an amount (usage no contract prices) is not spend: the retention caveat
    # took its day while the churn sentence took the first day with an amount
    daily = pl.DataFrame(
        {
            "account_id": ["A1", "A1", "A1"],
            "usage_date": [date(2025, 4, 22), date(2025, 4, 25), run.as_of],
            "amount": [0.0, 100.0, 100.0],
        }
    )
    young = replace(run, tables={**run.tables, "daily_spend": daily})
    gap = report_data.retention_gap(young)
    assert gap is not None and gap.first_spend == date(2025, 4, 25)
    assert report_data.churned(young).first_spend == date(2025, 4, 25)


@pytest.mark.parametrize("first", [date(2025, 1, 31), date(2024, 6, 1), date(2025, 5, 1)])
def test_no_retention_gap_when_the_year_earlier_window_is_whole_or_empty(
    run: report_data.RunData, first: date
) -> None:
    assert report_data.retention_gap(_spend_from(run, first)) is None


def test_no_segment_is_claimed_on_when_the_year_earlier_window_is_partial(
    run: report_data.RunData,
) -> None:
    assert report_data.segment_moved_most(_spend_from(run, date(2024, 6, 1)), 1) is not None
    assert report_data.segment_moved_most(_spend_from(run, date(2025, 4, 22)), 1) is None


@pytest.mark.parametrize(("enterprise", "mid_market"), [(1.0, 1.0), (0.844, 0.842), (0.95, 0.946)])
def test_no_segment_has_the_lowest_retention_when_the_lowest_ties_as_shown(
    run: report_data.RunData, enterprise: float, mid_market: float
) -> None:
    # a 40-account book read "SMB has the lowest gross retention: 100% against 100% for the whole
    # book": every segment kept all its revenue; equal to the whole percent, none is the lowest
    grr = {"Enterprise": enterprise, "Mid-Market": mid_market}
    summary = run["segment_summary"].with_columns(
        pl.col("segment").replace_strict(grr, default=pl.col("grr")).alias("grr")
    )
    tied = replace(run, tables={**run.tables, "segment_summary": summary})
    assert report_data.segment_moved_most(tied, 1) is None


def test_churn_knows_when_no_account_spent_in_the_year_earlier_window(
    run: report_data.RunData,
) -> None:
    # as of 30 Apr 2026 the year-earlier window is 31 Jan - 30 Apr 2025; the spend starts later
    churn = report_data.churned(_spend_from(run, date(2025, 6, 1)))
    assert (churn.accounts, churn.cohort, churn.first_spend) == (0, 0, date(2025, 6, 1))
    assert report_data.churned(_spend_from(run, date(2025, 2, 1))).cohort == 1


def test_renewing_as_is_under_the_commit_pays_no_overage(run: report_data.RunData) -> None:
    # renewal_scenarios of A3: right-size to 7300 (cheapest), renew as is at its 30000 commit
    options = report_data.renewal_options(run.get("renewal_scenarios"), "A3")
    assert options["option"].to_list() == ["Right-size the commit to the forecast", "Renew as is"]


def test_absent_tables_are_the_optional_tables_the_source_did_not_hold() -> None:
    quality = {
        "tables": {
            "accounts": {"origin": "book/accounts.csv"},
            "workflows": {"origin": None},
            "outcomes": {"origin": "book/outcomes.csv"},
            "activities": {"origin": None},
        }
    }
    assert report_data.absent_tables(quality) == ("workflows", "activities")
    assert report_data.absent_tables({"tables": {}}) == ()


def test_churn_does_not_depend_on_the_order_of_the_daily_spend(run: report_data.RunData) -> None:
    # the whole-book reports read daily_spend part after part, not in account order: the churn
    # (its lost revenue to the bit) must come out the same in any row order. L2, L3 and L4 each
    # spent 0.1, 0.2 and 0.3, whose float sum depends on the order.
    prior_day = date(2025, 3, 1)  # in the year-earlier window of 30 Apr 2026
    amounts = {"L1": [5.0], "L2": [0.1, 0.2, 0.3], "L3": [0.3, 0.2, 0.1], "L4": [0.2, 0.1, 0.3]}
    daily = pl.DataFrame(
        [
            (account, prior_day.replace(day=1 + i), amount)
            for account, spent in amounts.items()
            for i, amount in enumerate(spent)
        ],
        schema=run["daily_spend"].schema,
        orient="row",
    )
    health = pl.DataFrame({"account_id": list(amounts), "account_name": list(amounts)})
    churns = {
        report_data.churned(
            replace(
                run,
                tables={
                    **run.tables,
                    "daily_spend": daily.sample(fraction=1.0, shuffle=True, seed=seed),
                    "account_health": health,
                },
            )
        )
        for seed in range(20)
    }
    assert len(churns) == 1
    churn = churns.pop()
    assert (churn.accounts, churn.lost) == (4, 6.8)


@pytest.mark.parametrize(
    ("with_run", "words"),
    [(True, "since the previous run"), (False, "since 23 Apr 2026")],
)
def test_the_reports_name_what_the_changes_compare_with(
    run: report_data.RunData, with_run: bool, words: str
) -> None:
    # a first run compares with its book recomputed a week earlier: no "previous run" to name
    live = pl.DataFrame(
        {"account_id": ["A1"], "change": ["went_live"], "from": [None], "to": ["2026-04-25"]},
        schema_overrides={"from": pl.String},
    ).with_columns(pl.lit(date(2026, 4, 23)).alias("previous_as_of"))
    changes = pl.concat([run["changes"], live], how="diagonal_relaxed")
    first = replace(run, tables={**run.tables, "changes": changes}, compared_with_run=with_run)
    assert report_data.since_words(first) == words
    went_live = [item.what for item in report_data.wins(first, 90, n=10) if "live" in item.what]
    assert went_live == [f"committed by accounts that went live {words}"]
