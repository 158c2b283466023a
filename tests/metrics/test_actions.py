"""Next action (docs/metrics.md#next-action): the nine-rule ladder, one action per account.

Hand-made frames as of 2026-11-15: the last complete month is Oct 2026, the three before it
Jul–Sep 2026; the quarters are Aug–Oct 2026 against May–Jul 2026.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import polars as pl
import pytest

from drawdown.artifacts import SCHEMAS
from drawdown.metrics.actions import _money, _pct, account_actions, next_action
from drawdown.params import Bands, Params

AS_OF = date(2026, 11, 15)

STEADY: dict[str, Any] = {
    "account_id": "a",
    "csm_owner": "Kim",
    "ae_owner": "Lee",
    "technical_counterpart": None,
    "early_warnings": [],
    "adoption_stage": "multi_workflow",
    "workflows_live": 2,
    "first_contract_start": date(2025, 1, 1),
    "first_billable_date": date(2025, 1, 3),
    "band": "healthy",
    "burn": "on_pace",
    "utilization": 0.5,
    "elapsed_fraction": 0.5,
    "projected_utilization": 1.0,
    "exhaustion_date": date(2027, 1, 1),
    "term_end": date(2027, 1, 1),
    "remaining_days": 47,
}
"""A live, healthy, on-pace account with two workflows and no warning: keep_steady."""

CASE: dict[str, Any] = {
    "meter": "api_calls",
    "pct_over": 0.3,
    "pattern": "sustained",
    "overage_amount": 4200.0,
    "triage": "conversation",
    "status": None,
}
UNIT_COSTS = {
    # cost per outcome Jul-Sep 1.00 each (mean 1.00), October 1.30: +30 % > 25 %
    "jumped": [1.0, 1.0, 1.0, 1.3],
    # October 1.25: +25 %, not more than 25 %
    "at_the_line": [1.0, 1.0, 1.0, 1.25],
}
_HEALTH_SCHEMA = {
    "csm_owner": pl.String,
    "ae_owner": pl.String,
    "early_warnings": pl.List(pl.String),
    "technical_counterpart": pl.String,
    "burn": pl.String,
    "exhaustion_date": pl.Date,
    "first_billable_date": pl.Date,
}


def _actions(
    health: dict[str, Any] | None = None,
    case: dict[str, Any] | None = None,
    unit_costs: list[float] | None = None,
    daily: pl.DataFrame | None = None,
    params: Params | None = None,
    unit_cost_months: dict[date, float | None] | None = None,
) -> dict[str, Any]:
    """The account_actions row of account ``a``: STEADY with ``health`` overrides, the case
    (CASE with ``case`` overrides) when given, cost per outcome for Jul-Oct 2026 (or by month:
    ``unit_cost_months``)."""
    row = {**STEADY, **(health or {})}
    cases = pl.DataFrame(
        [{"account_id": "a", **CASE, **case}] if case is not None else [],
        schema={"account_id": pl.String, **_case_schema()},
    )
    months = pl.DataFrame(
        {
            "account_id": "a",
            "month": [date(2026, m, 1) for m in (7, 8, 9, 10)],
            "cost_per_outcome": unit_costs or [None] * 4,
        },
        schema={"account_id": pl.String, "month": pl.Date, "cost_per_outcome": pl.Float64},
    )
    if unit_cost_months is not None:
        months = pl.DataFrame(
            {
                "account_id": "a",
                "month": list(unit_cost_months),
                "cost_per_outcome": list(unit_cost_months.values()),
            },
            schema={"account_id": pl.String, "month": pl.Date, "cost_per_outcome": pl.Float64},
        )
    spend = daily if daily is not None else _daily([])
    frame = account_actions(
        pl.LazyFrame([row], schema_overrides=_HEALTH_SCHEMA),
        cases.lazy(),
        months.lazy(),
        spend.lazy(),
        params or Params(),
        AS_OF,
    ).collect()
    assert frame.height == 1
    return frame.row(0, named=True)


def _case_schema() -> dict[str, pl.DataType]:
    schema = SCHEMAS["overage_cases"]
    return {name: schema[name] for name in CASE}


def _daily(spans: list[tuple[date, date, float]]) -> pl.DataFrame:
    """Account ``a``'s daily spend: ``amount`` a day over each (first, last, amount) span."""
    frames = [
        pl.DataFrame({"usage_date": pl.date_range(first, last, eager=True)}).with_columns(
            account_id=pl.lit("a"), amount=pl.lit(amount)
        )
        for first, last, amount in spans
    ]
    empty = pl.DataFrame(
        schema={"usage_date": pl.Date, "account_id": pl.String, "amount": pl.Float64}
    )
    return pl.concat([empty, *frames]).select("account_id", "usage_date", "amount")


# --- each rule on its own ---

RULES = [
    ("rescue", {"early_warnings": ["zero_streak"]}, None, None),
    ("activate", {"adoption_stage": "not_live", "first_billable_date": None}, None, None),
    ("verify_usage", {}, {}, UNIT_COSTS["jumped"]),
    ("open_conversation", {}, {}, None),
    ("expansion", {}, {"status": "overconsumption_conversation"}, None),
    ("cost_review", {"burn": "too_fast"}, None, None),
    ("unblock", {"burn": "too_slow"}, None, None),
    ("second_workflow", {"adoption_stage": "one_workflow", "workflows_live": 1}, None, None),
    ("keep_steady", {}, None, None),
]


@pytest.mark.parametrize(
    ("action", "health", "case", "unit_costs"), RULES, ids=[r[0] for r in RULES]
)
def test_each_rule_gives_its_action(action, health, case, unit_costs) -> None:
    assert _actions(health, case, unit_costs)["next_action"] == action


def test_activate_waits_for_the_ttfbe_target() -> None:
    # started 14 days before A: not past the 14-day target yet; 15 days: past it
    not_live = {"adoption_stage": "not_live", "first_billable_date": None, "burn": None}
    on_time = _actions({**not_live, "first_contract_start": AS_OF - timedelta(days=14)})
    late = _actions({**not_live, "first_contract_start": AS_OF - timedelta(days=15)})
    assert (on_time["next_action"], late["next_action"]) == ("keep_steady", "activate")


def test_verify_usage_needs_more_than_the_unit_cost_jump() -> None:
    assert _actions({}, {}, UNIT_COSTS["at_the_line"])["next_action"] == "open_conversation"


def test_unit_cost_jump_is_a_parameter() -> None:
    lower = Params.model_validate({"actions": {"unit_cost_jump": 0.2}})
    assert _actions({}, {}, UNIT_COSTS["at_the_line"], params=lower)["next_action"] == (
        "verify_usage"
    )


def test_verify_usage_averages_the_months_with_outcomes() -> None:
    # July has no outcomes: mean of Aug-Sep 1.0 and 1.0; October 1.3 -> +30 %
    assert _actions({}, {}, [None, 1.0, 1.0, 1.3])["next_action"] == "verify_usage"


def test_verify_usage_needs_outcomes_in_the_last_complete_month() -> None:
    assert _actions({}, {}, [1.0, 1.0, 1.0, None])["next_action"] == "open_conversation"


def test_a_case_with_triage_wait_or_watch_has_no_conversation_to_open() -> None:
    assert _actions({}, {"triage": "wait"})["next_action"] == "keep_steady"


# --- precedence: the earlier rule wins when both hold ---

PRECEDENCE = [
    ("rescue", "activate", {"early_warnings": ["breakage_risk"], "adoption_stage": "not_live"}, None, None),
    ("rescue", "verify_usage", {"early_warnings": ["usage_drop"]}, {}, UNIT_COSTS["jumped"]),
    ("rescue", "open_conversation", {"early_warnings": ["renewal_risk"]}, {}, None),
    ("rescue", "expansion", {"early_warnings": ["renewal_risk"]}, {"status": "expansion_opportunity"}, None),
    ("rescue", "cost_review", {"early_warnings": ["usage_drop"], "burn": "too_fast"}, None, None),
    ("rescue", "unblock", {"early_warnings": ["renewal_risk"], "burn": "too_slow"}, None, None),
    ("rescue", "second_workflow", {"early_warnings": ["zero_streak"], "adoption_stage": "one_workflow"}, None, None),
    ("activate", "verify_usage", {"adoption_stage": "not_live"}, {}, UNIT_COSTS["jumped"]),
    ("activate", "unblock", {"adoption_stage": "not_live", "burn": "too_slow"}, None, None),
    ("verify_usage", "open_conversation", {}, {"triage": "unassigned"}, UNIT_COSTS["jumped"]),
    ("verify_usage", "cost_review", {"burn": "too_fast"}, {}, UNIT_COSTS["jumped"]),
    ("open_conversation", "cost_review", {"burn": "too_fast"}, {}, None),
    ("open_conversation", "unblock", {"burn": "too_slow"}, {}, None),
    ("open_conversation", "second_workflow", {"adoption_stage": "one_workflow"}, {}, None),
    ("expansion", "verify_usage", {}, {"status": "overconsumption_conversation"}, UNIT_COSTS["jumped"]),
    ("expansion", "cost_review", {"burn": "too_fast"}, {"status": "expansion_opportunity"}, None),
    ("expansion", "unblock", {"burn": "too_slow"}, {"status": "overconsumption_conversation"}, None),
    ("cost_review", "second_workflow", {"burn": "too_fast", "adoption_stage": "first_billable"}, None, None),
    ("unblock", "second_workflow", {"burn": "too_slow", "adoption_stage": "one_workflow"}, None, None),
    ("second_workflow", "keep_steady", {"adoption_stage": "first_billable", "workflows_live": 0}, None, None),
]  # fmt: skip


@pytest.mark.parametrize(
    ("winner", "loser", "health", "case", "unit_costs"),
    PRECEDENCE,
    ids=[f"{w}-over-{lo}" for w, lo, *_ in PRECEDENCE],
)
def test_the_earlier_rule_wins(winner, loser, health, case, unit_costs) -> None:
    assert _actions(health, case, unit_costs)["next_action"] == winner


# --- a case closed by a scope reduction ---


def test_a_scope_reduction_never_opens_a_conversation_or_an_expansion() -> None:
    closed = {"status": "scope_reduction", "triage": "conversation"}
    assert _actions({}, closed, UNIT_COSTS["jumped"])["next_action"] == "keep_steady"
    assert _actions({"burn": "too_fast"}, closed)["next_action"] == "cost_review"


# --- owners ---


@pytest.mark.parametrize(
    ("health", "case", "owner", "role"),
    [
        ({"early_warnings": ["zero_streak"], "technical_counterpart": "Ola"}, None, "Kim", "csm"),
        ({"adoption_stage": "not_live", "technical_counterpart": "Ola"}, None, "Ola", "technical_counterpart"),
        ({"adoption_stage": "not_live"}, None, "Kim", "csm"),
        ({"burn": "too_fast", "technical_counterpart": "Ola"}, None, "Ola", "technical_counterpart"),
        ({"burn": "too_fast", "technical_counterpart": "  "}, None, "Kim", "csm"),
        ({}, {"status": "expansion_opportunity"}, "Lee", "ae"),
        ({"ae_owner": ""}, {"status": "expansion_opportunity"}, None, "ae"),
        ({"csm_owner": None}, {"triage": "unassigned"}, None, "csm"),
        ({"burn": "too_slow", "technical_counterpart": "Ola"}, None, "Kim", "csm"),
    ],
)  # fmt: skip
def test_owner_and_role(health, case, owner, role) -> None:
    row = _actions(health, case)
    assert (row["owner"], row["owner_role"]) == (owner, role)


def test_verify_usage_goes_to_the_technical_counterpart() -> None:
    row = _actions({"technical_counterpart": "Ola"}, {}, UNIT_COSTS["jumped"])
    assert (row["owner"], row["owner_role"]) == ("Ola", "technical_counterpart")


# --- the numbers of a row ---


def test_days_to_renewal_is_term_end_minus_as_of() -> None:
    # 2027-01-01 - 2026-11-15 = 47 days
    assert _actions()["days_to_renewal"] == 47


def test_consumption_of_the_two_complete_quarters() -> None:
    # May-Jul 10 a day x 92 days = 920; Aug-Oct 12 a day x 92 = 1104; November (to date) left out
    daily = _daily(
        [
            (date(2026, 5, 1), date(2026, 7, 31), 10.0),
            (date(2026, 8, 1), date(2026, 10, 31), 12.0),
            (date(2026, 11, 1), date(2026, 11, 15), 100.0),
        ]
    )
    row = _actions(daily=daily)
    assert (row["consumption_last_quarter"], row["consumption_prior_quarter"]) == (1104.0, 920.0)
    assert row["consumption_change"] == pytest.approx(0.2)


def test_consumption_change_is_null_without_a_prior_quarter() -> None:
    row = _actions(daily=_daily([(date(2026, 9, 1), date(2026, 9, 30), 5.0)]))
    assert (row["consumption_last_quarter"], row["consumption_prior_quarter"]) == (150.0, 0.0)
    assert row["consumption_change"] is None


# --- reasons: one sentence from the numbers that fired the rule ---


def test_rescue_reason_names_each_warning_with_its_numbers() -> None:
    # [A-55, A-28] = Sep 21 .. Oct 18 at 10 a day = 280; [A-27, A] = Oct 19 .. Nov 15 at 5 = 140
    daily = _daily(
        [(date(2026, 9, 21), date(2026, 10, 18), 10.0), (date(2026, 10, 19), AS_OF, 5.0)]
    )
    health = {
        "early_warnings": ["usage_drop", "renewal_risk"],
        "projected_utilization": 0.62,
        "band": "under",
    }
    assert _actions(health, daily=daily)["reason"] == (
        "Early warning: spend fell 50% over the last 28 days ($140 against $280 in the 28 days "
        "before); renews in 47 days heading for 62% of the commit."
    )


def test_verify_usage_reason_names_the_months_and_the_unit_costs() -> None:
    assert _actions({}, {}, UNIT_COSTS["jumped"])["reason"] == (
        "Cost per outcome rose 30% in Oct 2026 ($1.30 against a mean of $1.00 in Jul–Sep 2026) "
        "while api_calls is 30% past its limit: confirm the consumption is justified before the "
        "conversation."
    )


def test_open_conversation_reason_for_an_unassigned_case() -> None:
    assert _actions({"csm_owner": None}, {"triage": "unassigned"})["reason"] == (
        "api_calls is 30% past its limit (sustained, $4,200 past the line) and no conversation "
        "is recorded; no CSM owns the account to hold it: name one."
    )


def test_cost_review_reason_in_another_currency() -> None:
    params = Params(currency="EUR")
    row = _actions({"burn": "too_fast", "utilization": 0.75}, params=params)
    assert row["reason"] == (
        "Burning too fast: 75% of the commit used with 50% of the term gone; at this pace it "
        "runs out on 1 Jan 2027."
    )


def test_cost_review_reason_when_the_commit_already_ran_out() -> None:
    spent = {"burn": "too_fast", "utilization": 1.12, "exhaustion_date": date(2026, 10, 15)}
    assert _actions(spent)["reason"] == (
        "Burning too fast: 112% of the commit used with 50% of the term gone; the commit ran out "
        "on 15 Oct 2026."
    )


def test_a_row_per_account_in_the_artifacts_columns() -> None:
    health = pl.LazyFrame(
        [{**STEADY, "account_id": name} for name in ("b", "a", "c")],
        schema_overrides=_HEALTH_SCHEMA,
    )
    empty = pl.LazyFrame(schema={"account_id": pl.String, **_case_schema()})
    months = pl.LazyFrame(
        schema={"account_id": pl.String, "month": pl.Date, "cost_per_outcome": pl.Float64}
    )
    frame = account_actions(health, empty, months, _daily([]).lazy(), Params(), AS_OF).collect()
    assert frame.columns == list(SCHEMAS["account_actions"])
    assert frame["account_id"].to_list() == ["a", "b", "c"]
    assert frame["next_action"].to_list() == ["keep_steady"] * 3


# --- edges ---


@pytest.mark.parametrize(
    ("october", "action"),
    [
        (1.2499, "open_conversation"),  # +24.99 %
        (1.25, "open_conversation"),  # 1.25 / 1.0 − 1 = 0.25: not more than unit_cost_jump
        (1.2501, "verify_usage"),  # +25.01 %
    ],
)
def test_unit_cost_jump_at_its_edge(october: float, action: str) -> None:
    assert _actions({}, {}, [1.0, 1.0, 1.0, october])["next_action"] == action


# mean of Jul-Sep = (1.0 + 1.1 + 1.3) / 3 = 1.1333…; October 1.42: 1.42 / 1.1333 − 1 = 0.2529
# > 0.25; October 1.41: 0.2441 (a mean rounded to 1.13 would give 0.2566 and 0.2478)
@pytest.mark.parametrize(
    ("october", "action"), [(1.42, "verify_usage"), (1.41, "open_conversation")]
)
def test_unit_cost_base_is_the_exact_mean_of_three_months(october: float, action: str) -> None:
    assert _actions({}, {}, [1.0, 1.1, 1.3, october])["next_action"] == action


def test_no_unit_cost_jump_from_a_zero_base() -> None:
    # Jul-Sep cost nothing per outcome: a rise from 0 is no measurable jump
    assert _actions({}, {}, [0.0, 0.0, 0.0, 1.0])["next_action"] == "open_conversation"


# As of 2026-11-15: the last complete month is October, its base Jul-Sep. June (before the base)
# and November (A's month) are outside: with June's 10.0 in the base the mean would be 3.25 and
# October's 1.3 no jump; with November's 1.0 as the last month there would be no jump either.
def test_unit_cost_months_are_the_last_complete_month_and_the_three_before() -> None:
    months = {date(2026, 6, 1): 10.0, date(2026, 7, 1): 1.0, date(2026, 8, 1): 1.0}
    months |= {date(2026, 9, 1): 1.0, date(2026, 10, 1): 1.3, date(2026, 11, 1): 1.0}
    assert _actions({}, {}, unit_cost_months=months)["next_action"] == "verify_usage"


# one amount on each edge day, powers of two so each is seen in the sums:
# Apr 30 (1, before the prior quarter), May 1 (2, its first day), Jul 31 (4, its last day),
# Aug 1 (8, the last quarter's first day), Oct 31 (16, its last day), Nov 1 (32, A's month)
# last quarter 8 + 16 = 24, prior 2 + 4 = 6, change 24 / 6 − 1 = 3.0
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("consumption_last_quarter", 24.0),
        ("consumption_prior_quarter", 6.0),
        ("consumption_change", 3.0),
    ],
)
def test_quarters_on_their_first_and_last_day(column: str, expected: float) -> None:
    amounts = {
        date(2026, 4, 30): 1.0,
        date(2026, 5, 1): 2.0,
        date(2026, 7, 31): 4.0,
        date(2026, 8, 1): 8.0,
        date(2026, 10, 31): 16.0,
        date(2026, 11, 1): 32.0,
    }
    daily = _daily([(day, day, amount) for day, amount in amounts.items()])
    assert _actions(daily=daily)[column] == expected


# 7 on Aug 1 against 3 on May 1: 7 / 3 − 1 = 1.333… (not a round number)
def test_consumption_change_that_does_not_divide_evenly() -> None:
    daily = _daily(
        [(date(2026, 5, 1), date(2026, 5, 1), 3.0), (date(2026, 8, 1), date(2026, 8, 1), 7.0)]
    )
    assert _actions(daily=daily)["consumption_change"] == pytest.approx(4 / 3, rel=1e-12)


# ttfbe_target_days 14: started 13, 14 days before A -> not yet; 15 -> activate
@pytest.mark.parametrize(
    ("days_in", "action"), [(13, "keep_steady"), (14, "keep_steady"), (15, "activate")]
)
def test_activate_at_the_ttfbe_target(days_in: int, action: str) -> None:
    not_live = {"adoption_stage": "not_live", "first_billable_date": None, "burn": None}
    row = _actions({**not_live, "first_contract_start": AS_OF - timedelta(days=days_in)})
    assert row["next_action"] == action


# --- each rule's reason, word for word (docs/metrics.md#next-action) ---
#
# STEADY: 50% of the commit used with 50% of the term gone, two workflows, band healthy, burn
# on_pace; A = 15 Nov 2026; CASE: api_calls 30% past its limit, sustained, $4,200 past the line.

PAST_LINE = "api_calls is 30% past its limit (sustained, $4,200 past the line)"
REASONS = [
    (
        "keep_steady",
        {},
        None,
        "Band healthy, burn on pace, 2 workflows live and no early warning: keep it steady.",
    ),
    (
        "keep_steady_one_workflow",
        {"workflows_live": 1},
        None,
        "Band healthy, burn on pace, 1 workflow live and no early warning: keep it steady.",
    ),
    (
        "keep_steady_paygo",
        {"band": "paygo", "burn": None},
        None,
        "Pay-as-you-go, 2 workflows live and no early warning: keep it steady.",
    ),
    (
        # started 20 days before A: 15 Nov − 20 = 26 Oct 2026
        "activate",
        {
            "adoption_stage": "not_live",
            "first_billable_date": None,
            "first_contract_start": date(2026, 10, 26),
        },
        None,
        "Not live 20 days after the contract started on 26 Oct 2026; the target for a first "
        "billable event is 14 days.",
    ),
    (
        "open_conversation",
        {},
        {},
        f"{PAST_LINE} and no conversation is recorded yet.",
    ),
    (
        "expansion",
        {},
        {"status": "overconsumption_conversation"},
        f"{PAST_LINE} and the overconsumption conversation is recorded: size the expansion with "
        "the customer.",
    ),
    (
        "cost_review_without_exhaustion",
        {"burn": "too_fast", "exhaustion_date": None},
        None,
        "Burning too fast: 50% of the commit used with 50% of the term gone.",
    ),
    (
        # exhausted on A itself: it ran out (exhaustion_date ≤ A)
        "cost_review_on_a",
        {"burn": "too_fast", "exhaustion_date": AS_OF},
        None,
        "Burning too fast: 50% of the commit used with 50% of the term gone; the commit ran out "
        "on 15 Nov 2026.",
    ),
    (
        # the day after A: still ahead
        "cost_review_day_after_a",
        {"burn": "too_fast", "exhaustion_date": AS_OF + timedelta(days=1)},
        None,
        "Burning too fast: 50% of the commit used with 50% of the term gone; at this pace it "
        "runs out on 16 Nov 2026.",
    ),
    (
        "unblock",
        {"burn": "too_slow", "projected_utilization": 0.62},
        None,
        "Burning too slow: 50% of the commit used with 50% of the term gone, heading for 62% of "
        "the commit at term end.",
    ),
    (
        "second_workflow_none_live",
        {"adoption_stage": "first_billable", "workflows_live": 0},
        None,
        "Live since 3 Jan 2025 with no workflow in production: put a first, then a second "
        "workflow live.",
    ),
    (
        "second_workflow_one_live",
        {"adoption_stage": "one_workflow", "workflows_live": 1},
        None,
        "One workflow in production: a second one makes the usage durable.",
    ),
]


@pytest.mark.parametrize(
    ("health", "case", "reason"), [r[1:] for r in REASONS], ids=[r[0] for r in REASONS]
)
def test_each_rules_reason_word_for_word(health, case, reason) -> None:
    assert _actions(health, case)["reason"] == reason


# last spend on 5 Nov: A − 5 Nov = 10 days without spend
def test_rescue_reason_for_a_zero_streak_and_breakage() -> None:
    daily = _daily([(date(2026, 10, 1), date(2026, 11, 5), 10.0)])
    health = {"early_warnings": ["zero_streak", "breakage_risk"], "utilization": 0.1}
    assert _actions(health, daily=daily)["reason"] == (
        "Early warning: no spend for the last 10 days; 10% of the commit used with 50% of the "
        "term gone."
    )


@pytest.mark.parametrize(
    ("amount", "currency", "decimals", "text"),
    [
        (1234567.0, "USD", 0, "$1,234,567"),
        (1234567.0, "EUR", 0, "1,234,567 EUR"),
        (-4200.4, "USD", 0, "-$4,200"),
        (999.0, "USD", 0, "$999"),
        (1000.0, "USD", 0, "$1,000"),
        (1.3, "USD", 2, "$1.30"),
        (1234.05, "EUR", 2, "1,234.05 EUR"),
        (-0.5, "USD", 2, "-$0.50"),
        # nothing is not negative: 0 rounds to 0, no sign (kills actions.x__money__mutmut_33,
        # `scaled <= 0`, and _34, `scaled < 1`)
        (0.0, "USD", 0, "$0"),
        # 0.4 rounds to 0: "$0", not "-$0"
        (0.4, "USD", 0, "$0"),
    ],
)
def test_money_as_the_reports_write_it(amount, currency, decimals, text) -> None:
    assert pl.select(_money(pl.lit(amount), currency, decimals)).item() == text


# 0.256 -> 25.6 -> 26 %; 0.254 -> 25 %; 1.0 -> 100 %
@pytest.mark.parametrize(("value", "text"), [(0.256, "26%"), (0.254, "25%"), (1.0, "100%")])
def test_percent_rounds_to_a_whole_number(value: float, text: str) -> None:
    assert pl.select(_pct(pl.lit(value))).item() == text


# spend below 1 a day still counts: 0.5 on Aug 1 (last quarter) and 0.25 on May 1 (prior):
# change 0.5 / 0.25 − 1 = 1.0
@pytest.mark.parametrize(
    ("column", "expected"),
    [
        ("consumption_last_quarter", 0.5),
        ("consumption_prior_quarter", 0.25),
        ("consumption_change", 1.0),
    ],
)
def test_quarters_count_spend_below_one(column: str, expected: float) -> None:
    daily = _daily(
        [(date(2026, 5, 1), date(2026, 5, 1), 0.25), (date(2026, 8, 1), date(2026, 8, 1), 0.5)]
    )
    assert _actions(daily=daily)[column] == expected


def test_a_rule_whose_inputs_are_unknown_does_not_hold() -> None:
    # early_warnings unknown (null, not an empty list): rescue does not hold, and nothing else
    # does either, so the ladder ends on keep_steady
    row = pl.DataFrame(
        {
            "early_warnings": [None],
            "adoption_stage": ["two_workflows"],
            "_days_in": [400],
            "meter": [None],
            "status": [None],
            "_unit_cost_base": [None],
            "_unit_cost_last": [None],
            "triage": [None],
            "burn": ["on_pace"],
        },
        schema_overrides={
            "early_warnings": pl.List(pl.String),
            "meter": pl.String,
            "status": pl.String,
            "_unit_cost_base": pl.Float64,
            "_unit_cost_last": pl.Float64,
            "triage": pl.String,
        },
    )
    assert row.select(next_action(Params())).item() == "keep_steady"


# --- the spend the reasons read: days up to A with c > 0 (docs/metrics.md#usage-health) ---
#
# The daily_spend artifact of the same A holds neither a day after A nor a day of 0; these pin
# that account_actions itself reads only the days up to A with c > 0, whatever frame it is given.


def test_a_drop_to_no_spend_at_all_reads_zero_dollars() -> None:
    # [A-55, A-28] = Sep 21 .. Oct 18 at 1 a day = 28; nothing in [A-27, A] = 0:
    # fell 1 - 0 / 28 = 100%, "$0" (no sign) against "$28"
    daily = _daily([(date(2026, 9, 21), date(2026, 10, 18), 1.0)])
    assert _actions({"early_warnings": ["usage_drop"]}, daily=daily)["reason"] == (
        "Early warning: spend fell 100% over the last 28 days ($0 against $28 in the 28 days "
        "before)."
    )


def test_the_zero_streak_reason_reads_no_spend_after_as_of() -> None:
    # last spend up to A on Nov 5: A - Nov 5 = 10 days; the spend dated Nov 20, after A, is not
    # read (docs/data-contract.md: no metric reads usage after A), else A - Nov 20 = -5
    # (kills actions.x__spend_figures__mutmut_9: no usage_date <= A filter)
    daily = _daily(
        [
            (date(2026, 10, 1), date(2026, 11, 5), 10.0),
            (date(2026, 11, 20), date(2026, 11, 20), 10.0),
        ]
    )
    assert _actions({"early_warnings": ["zero_streak"]}, daily=daily)["reason"] == (
        "Early warning: no spend for the last 10 days."
    )


def test_the_zero_streak_reason_counts_from_the_last_day_with_spend_above_zero() -> None:
    # last day with c > 0 is Nov 5: A - Nov 5 = 10 days; a row of 0 on Nov 10 is no spend,
    # else A - Nov 10 = 5 (both _spend_figures and warning_facts drop it: a mutant of either
    # filter alone is masked by the other, docs/testing.md#equivalent-mutants)
    daily = _daily(
        [
            (date(2026, 10, 1), date(2026, 11, 5), 10.0),
            (date(2026, 11, 10), date(2026, 11, 10), 0.0),
        ]
    )
    assert _actions({"early_warnings": ["zero_streak"]}, daily=daily)["reason"] == (
        "Early warning: no spend for the last 10 days."
    )


def test_the_zero_streak_reason_of_an_account_without_spend_in_the_last_two_quarters() -> None:
    # last spend Apr 30, before the prior quarter's first day (May 1: quarters Aug-Oct and
    # May-Jul): no quarter sums, but the warning facts still hold its zero days, A - Apr 30 =
    # 184 (May-Oct) + 15 = 199 (kills actions.x__spend_figures__mutmut_47: the quarter sums
    # joined inner, which drops the account's warning facts)
    daily = _daily([(date(2026, 4, 1), date(2026, 4, 30), 10.0)])
    row = _actions({"early_warnings": ["zero_streak"]}, daily=daily)
    assert row["reason"] == "Early warning: no spend for the last 199 days."
    assert (row["consumption_last_quarter"], row["consumption_prior_quarter"]) == (0.0, 0.0)


def test_keep_steady_reason_for_a_commit_not_live_inside_its_ttfbe_target() -> None:
    # burn_slow 0: a commit with no billable event paces 0, not below 0, so its burn is on_pace
    # (docs/metrics.md#commit-utilization-and-bands); started 10 days before A (≤ 14: not
    # activate), stage not_live (not second_workflow): keep_steady, the band written "not live"
    # (kills actions.x__reasons__mutmut_303 and _304, the band's "_" → " ")
    health = {
        "adoption_stage": "not_live",
        "workflows_live": 0,
        "first_contract_start": AS_OF - timedelta(days=10),
        "first_billable_date": None,
        "band": "not_live",
        "burn": "on_pace",
        "utilization": 0.0,
    }
    row = _actions(health, params=Params(bands=Bands(burn_slow=0.0)))
    assert (row["next_action"], row["reason"]) == (
        "keep_steady",
        "Band not live, burn on pace, 0 workflows live and no early warning: keep it steady.",
    )
