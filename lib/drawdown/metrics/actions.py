"""Next action (docs/metrics.md#next-action): one recommendation per account, for every output.

``account_actions`` walks a nine-rule ladder for every account of account_health and keeps the
first rule that holds; the account review, the executive review, the clinic, the CRM export and
the digest all read its ``next_action``, ``owner`` and ``reason`` — none decides on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial

import polars as pl

from drawdown.exact import exact_mean, exact_sum
from drawdown.metrics.health import (
    BREAKAGE_RISK,
    FIRST_BILLABLE,
    NOT_LIVE,
    ONE_WORKFLOW,
    RENEWAL_RISK,
    USAGE_DROP,
    ZERO_STREAK,
    warning_facts,
)
from drawdown.metrics.overconsumption import (
    CONVERSATION,
    UNASSIGNED,
    artifact_columns,
    named_owner,
)
from drawdown.metrics.periods import complete_months, quarter_comparison
from drawdown.params import Params

RESCUE = "rescue"
ACTIVATE = "activate"
VERIFY_USAGE = "verify_usage"
OPEN_CONVERSATION = "open_conversation"
EXPANSION = "expansion"
COST_REVIEW = "cost_review"
UNBLOCK = "unblock"
SECOND_WORKFLOW = "second_workflow"
KEEP_STEADY = "keep_steady"
LADDER = (
    RESCUE,
    ACTIVATE,
    VERIFY_USAGE,
    OPEN_CONVERSATION,
    EXPANSION,
    COST_REVIEW,
    UNBLOCK,
    SECOND_WORKFLOW,
    KEEP_STEADY,
)
"""The next actions in ladder order: an account gets the first whose rule holds."""

CSM, AE, TECHNICAL_COUNTERPART = "csm", "ae", "technical_counterpart"
OPENED = ("overconsumption_conversation", "expansion_opportunity")
"""Case statuses that hand the motion to the AE: the conversation happened."""

_CASE_COLUMNS = ("meter", "pct_over", "pattern", "overage_amount", "triage", "status")


def account_actions(
    health: pl.LazyFrame,
    cases: pl.LazyFrame,
    months: pl.LazyFrame,
    daily: pl.LazyFrame,
    params: Params,
    as_of: date,
) -> pl.LazyFrame:
    """One next action per account of ``health`` (docs/metrics.md#next-action).

    The first rule that holds, in order: 1 ``rescue`` (any early warning) · 2 ``activate``
    (not_live and A − first_contract_start > ttfbe_target_days) · 3 ``verify_usage`` (a case with
    no status whose cost per outcome rose by more than ``actions.unit_cost_jump`` in the last
    complete month, ``unit_cost_change``) · 4 ``open_conversation`` (a case triaged
    conversation or unassigned, with no status) · 5 ``expansion`` (a case whose conversation or
    expansion opportunity is recorded) · 6 ``cost_review`` (burn too_fast) · 7 ``unblock`` (burn
    too_slow) · 8 ``second_workflow`` (stage first_billable or one_workflow) · 9 ``keep_steady``.
    A case closed by ``scope_reduction`` meets neither rule 4 nor 5.

    owner and owner_role: the CSM (``csm``), the AE for an expansion (``ae``), the technical
    counterpart for activate, verify_usage and cost_review (``technical_counterpart``; the CSM
    when there is none). A blank name is no owner: an unassigned conversation has a null owner.
    days_to_renewal = term_end − A. reason: one sentence from the numbers that fired the rule.
    consumption_last_quarter, consumption_prior_quarter: Σ c over the last three complete
    months before A's month and the three before those; consumption_change = their ratio − 1
    (null when the prior quarter is 0). Columns ``SCHEMAS['account_actions']``, by account_id.
    """
    frame = (
        health.with_columns(
            named_owner(name) for name in ("csm_owner", "ae_owner", "technical_counterpart")
        )
        .join(cases.select("account_id", *_CASE_COLUMNS), on="account_id", how="left")
        .join(unit_cost_change(months, as_of), on="account_id", how="left")
        .join(_spend_figures(daily, as_of), on="account_id", how="left")
        .with_columns(
            pl.col("consumption_last_quarter", "consumption_prior_quarter").fill_null(0.0),
            (pl.lit(as_of) - pl.col("first_contract_start")).dt.total_days().alias("_days_in"),
        )
    )
    return (
        frame.with_columns(next_action(params))
        .with_columns(
            *owner(),
            (pl.col("term_end") - pl.lit(as_of)).dt.total_days().alias("days_to_renewal"),
            reason(params, as_of),
            consumption_change(),
        )
        .select(artifact_columns("account_actions"))
        .sort("account_id")
    )


def unit_cost_change(months: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account with outcomes: cost_per_outcome of the last complete month before A's month
    (``_unit_cost_last``) and the mean of the non-null cost_per_outcome of the three complete
    months before that one (``_unit_cost_base``; null when none of them has outcomes)."""
    last, base = complete_months(as_of, 1), complete_months(as_of, 3, skip=1)
    cost = pl.col("cost_per_outcome")
    return (
        months.filter(pl.col("month").is_between(base.first, last.last))
        .group_by("account_id")
        .agg(
            cost.filter(last.holds("month")).first().alias("_unit_cost_last"),
            exact_mean(cost.filter(base.holds("month"))).alias("_unit_cost_base"),
        )
    )


def _spend_figures(daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account with spend: the two complete quarters' consumption and the warning facts.

    The quarter sums read only the rows from the earlier quarter's first day on (filtered
    before grouping, as ``warning_facts`` does)."""
    quarter, amount = quarter_comparison(as_of), pl.col("amount")
    spend = daily.filter(pl.col("usage_date") <= as_of, amount > 0)
    quarters = (
        spend.filter(pl.col("usage_date") >= quarter.previous.first)
        .group_by("account_id")
        .agg(
            exact_sum(pl.when(quarter.current.holds()).then(amount)).alias(
                "consumption_last_quarter"
            ),
            exact_sum(pl.when(quarter.previous.holds()).then(amount)).alias(
                "consumption_prior_quarter"
            ),
        )
    )
    return warning_facts(spend, as_of).join(quarters, on="account_id", how="left")


def _unit_cost_jumped(jump: float) -> pl.Expr:
    base = pl.col("_unit_cost_base")
    return (base > 0) & (pl.col("_unit_cost_last") / base - 1 > jump)


def rules(params: Params) -> dict[str, pl.Expr]:
    """The ladder's conditions, in order (``keep_steady`` always holds)."""
    has_case, no_status = pl.col("meter").is_not_null(), pl.col("status").is_null()
    stage = pl.col("adoption_stage")
    return {
        RESCUE: pl.col("early_warnings").list.len() > 0,
        ACTIVATE: (stage == NOT_LIVE) & (pl.col("_days_in") > params.health.ttfbe_target_days),
        VERIFY_USAGE: has_case & no_status & _unit_cost_jumped(params.actions.unit_cost_jump),
        OPEN_CONVERSATION: pl.col("triage").is_in([CONVERSATION, UNASSIGNED]) & no_status,
        EXPANSION: has_case & pl.col("status").is_in(OPENED),
        COST_REVIEW: pl.col("burn") == "too_fast",
        UNBLOCK: pl.col("burn") == "too_slow",
        SECOND_WORKFLOW: stage.is_in([FIRST_BILLABLE, ONE_WORKFLOW]),
        KEEP_STEADY: pl.lit(True),
    }


def next_action(params: Params) -> pl.Expr:
    """The first rule of the ladder that holds (``rules``)."""
    ladder = list(rules(params).items())
    chain = pl.when(ladder[0][1].fill_null(False)).then(pl.lit(ladder[0][0]))
    for action, holds in ladder[1:]:
        chain = chain.when(holds.fill_null(False)).then(pl.lit(action))
    return chain.alias("next_action")


def owner() -> list[pl.Expr]:
    """owner and owner_role of the next action: AE for an expansion; the technical counterpart
    (else the CSM) for activate, verify_usage and cost_review; the CSM otherwise."""
    action = pl.col("next_action")
    technical = (
        action.is_in([ACTIVATE, VERIFY_USAGE, COST_REVIEW])
        & pl.col("technical_counterpart").is_not_null()
    )
    return [
        pl.when(action == EXPANSION)
        .then(pl.col("ae_owner"))
        .when(technical)
        .then(pl.col("technical_counterpart"))
        .otherwise(pl.col("csm_owner"))
        .alias("owner"),
        pl.when(action == EXPANSION)
        .then(pl.lit(AE))
        .when(technical)
        .then(pl.lit(TECHNICAL_COUNTERPART))
        .otherwise(pl.lit(CSM))
        .alias("owner_role"),
    ]


def consumption_change() -> pl.Expr:
    """consumption_last_quarter / consumption_prior_quarter − 1; null when the prior is 0."""
    prior = pl.col("consumption_prior_quarter")
    return (
        pl.when(prior != 0)
        .then(pl.col("consumption_last_quarter") / prior - 1)
        .alias("consumption_change")
    )


def reason(params: Params, as_of: date) -> pl.Expr:
    """The sentence that says why: built from the numbers that fired the account's rule."""
    sentences = _reasons(params, as_of)
    action = pl.col("next_action")
    chain = pl.when(action == LADDER[0]).then(sentences[LADDER[0]])
    for name in LADDER[1:]:
        chain = chain.when(action == name).then(sentences[name])
    return chain.alias("reason")


def _reasons(params: Params, as_of: date) -> dict[str, pl.Expr]:
    money = partial(_money, currency=params.currency)
    last, base = complete_months(as_of, 1), complete_months(as_of, 3, skip=1)
    used = pl.format(
        "{} of the commit used with {} of the term gone",
        _pct(pl.col("utilization")),
        _pct(pl.col("elapsed_fraction")),
    )
    past_line = pl.format(
        "{} is {} past its limit ({}, {} past the line)",
        "meter",
        _pct(pl.col("pct_over")),
        "pattern",
        money(pl.col("overage_amount")),
    )
    workflows = pl.col("workflows_live")
    return {
        RESCUE: pl.format("Early warning: {}.", _warning_details(money)),
        ACTIVATE: pl.format(
            "Not live {} days after the contract started on {}; the target for a first billable "
            "event is {} days.",
            "_days_in",
            _date(pl.col("first_contract_start")),
            pl.lit(params.health.ttfbe_target_days),
        ),
        VERIFY_USAGE: pl.format(
            "Cost per outcome rose {} in {} ({} against a mean of {} in {}) while {} is {} past "
            "its limit: confirm the consumption is justified before the conversation.",
            _pct(pl.col("_unit_cost_last") / pl.col("_unit_cost_base") - 1),
            pl.lit(last.label),
            money(pl.col("_unit_cost_last"), decimals=2),
            money(pl.col("_unit_cost_base"), decimals=2),
            pl.lit(base.label),
            "meter",
            _pct(pl.col("pct_over")),
        ),
        OPEN_CONVERSATION: pl.format(
            "{} and no conversation is recorded{}.",
            past_line,
            pl.when(pl.col("triage") == UNASSIGNED)
            .then(pl.lit("; no CSM owns the account to hold it: name one"))
            .otherwise(pl.lit(" yet")),
        ),
        EXPANSION: pl.format(
            "{} and the {} is recorded: size the expansion with the customer.",
            past_line,
            pl.col("status").str.replace_all("_", " "),
        ),
        COST_REVIEW: pl.format(
            "Burning too fast: {}{}.",
            used,
            pl.when(pl.col("exhaustion_date") <= as_of)
            .then(pl.format("; the commit ran out on {}", _date(pl.col("exhaustion_date"))))
            .when(pl.col("exhaustion_date").is_not_null())
            .then(pl.format("; at this pace it runs out on {}", _date(pl.col("exhaustion_date"))))
            .otherwise(pl.lit("")),
        ),
        UNBLOCK: pl.format(
            "Burning too slow: {}, heading for {} of the commit at term end.",
            used,
            _pct(pl.col("projected_utilization")),
        ),
        SECOND_WORKFLOW: pl.when(workflows == 0)
        .then(
            pl.format(
                "Live since {} with no workflow in production: put a first, then a second "
                "workflow live.",
                _date(pl.col("first_billable_date")),
            )
        )
        .otherwise(pl.lit("One workflow in production: a second one makes the usage durable.")),
        KEEP_STEADY: pl.format(
            "{}, {} live and no early warning: keep it steady.",
            pl.when(pl.col("band") == "paygo")
            .then(pl.lit("Pay-as-you-go"))
            .otherwise(
                pl.format(
                    "Band {}, burn {}",
                    pl.col("band").str.replace_all("_", " "),
                    pl.col("burn").str.replace_all("_", " "),
                )
            ),
            pl.when(workflows == 1)
            .then(pl.lit("1 workflow"))
            .otherwise(pl.format("{} workflows", workflows)),
        ),
    }


def _warning_details(money: Callable[..., pl.Expr]) -> pl.Expr:
    """The early warnings with their numbers, joined by '; '."""
    warnings, recent, prior = pl.col("early_warnings"), pl.col("_recent_28d"), pl.col("_prior_28d")
    details = {
        USAGE_DROP: pl.format(
            "spend fell {} over the last 28 days ({} against {} in the 28 days before)",
            _pct(1 - recent.fill_null(0.0) / prior),
            money(recent.fill_null(0.0)),
            money(prior),
        ),
        ZERO_STREAK: pl.format("no spend for the last {} days", "_zero_days_at_as_of"),
        RENEWAL_RISK: pl.format(
            "renews in {} days heading for {} of the commit",
            "remaining_days",
            _pct(pl.col("projected_utilization")),
        ),
        BREAKAGE_RISK: pl.format(
            "{} of the commit used with {} of the term gone",
            _pct(pl.col("utilization")),
            _pct(pl.col("elapsed_fraction")),
        ),
    }
    return (
        pl.concat_list(
            pl.when(warnings.list.contains(name)).then(text) for name, text in details.items()
        )
        .list.drop_nulls()
        .list.join("; ")
    )


def _pct(expr: pl.Expr) -> pl.Expr:
    """0.256 -> "26%"."""
    return pl.format("{}%", (expr * 100).round(0).cast(pl.Int64))


def _date(expr: pl.Expr) -> pl.Expr:
    """2027-01-05 -> "5 Jan 2027"."""
    return expr.dt.strftime("%-d %b %Y")


def _money(expr: pl.Expr, currency: str, decimals: int = 0) -> pl.Expr:
    """Amounts as the reports write them: "$4,200" for USD, "4,200 EUR" otherwise."""
    scaled = (expr * 10**decimals).round(0).cast(pl.Int64)
    whole = _thousands((scaled.abs() // 10**decimals).cast(pl.String))
    if decimals:
        cents = (scaled.abs() % 10**decimals).cast(pl.String).str.zfill(decimals)
        whole = pl.format("{}.{}", whole, cents)
    sign = pl.when(scaled < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    if currency == "USD":
        return pl.format("{}${}", sign, whole)
    return pl.format("{}{} {}", sign, whole, pl.lit(currency))


def _thousands(digits: pl.Expr) -> pl.Expr:
    """ "1234567" -> "1,234,567"."""
    return (
        digits.str.reverse()
        .str.replace_all(r"(\d{3})", "${1},")
        .str.strip_suffix(",")
        .str.reverse()
    )
