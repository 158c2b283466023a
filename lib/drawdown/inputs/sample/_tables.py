"""The tables around usage — accounts, contracts, rate card, workflows, outcomes, activities and
budgets — from the account profiles, each with exactly ``contract.COLUMNS[table]``.

Workflows go live over months (some retire); monthly outcomes for ~30 % of accounts; activities
of every ``contract.ACTIVITY_TYPES`` type; budgets for about a third of accounts. The reset (start
A − 41) sees ≥ 3 value reviews after its start (done), a usage clinic in week 5 but not week 6
(on_track) and the late budgets.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from drawdown.inputs.contract import COLUMNS
from drawdown.inputs.sample._calendar import (
    DAYS_PER_MONTH,
    NO_END,
    Calendar,
    as_dates,
    month_start,
)
from drawdown.inputs.sample._ids import account_id_expr, account_ids, contract_ids
from drawdown.inputs.sample._profiles import METERS, SEGMENTS, Profiles, choose

CURRENCY = "USD"

_FIRST_NAMES = ["Ada", "Ben", "Chloé", "Dev", "Elena", "Femi", "Grace", "Hiro", "Ines", "Jonas", "Kiri", "Luca", "Maya", "Nikhil", "Olga", "Priya", "Quinn", "Rafael", "Sara", "Tomás"]  # fmt: skip
_LAST_NAMES = ["Park", "Okafor", "Lindqvist", "Moreau", "Tanaka", "Costa", "Novak", "Reyes", "Haddad", "Schmidt", "O'Neill", "Singh", "Kowalski", "Nakamura", "Silva", "Dubois", "Chen", "Ward", "Ibrahim", "Fischer"]  # fmt: skip
_NAME_HEADS = ["Acme", "Northwind", "Bluefin", "Cobalt", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor", "Ironbark", "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchard", "Pioneer", "Quarry", "Redwood", "Summit", "Tidewater", "Umber", "Vantage", "Willow", "Zephyr", "O'Reilly"]  # fmt: skip
_NAME_TRADES = ["Analytics", "Logistics", "Health", "Payments", "Robotics", "Media", "Foods", "Energy", "Insurance", "Retail", "Biotech", "Learning", "Travel", "Security", "Mobility"]  # fmt: skip
_NAME_FORMS = ("Inc.", "Ltd", "GmbH", "& Co.", "Group", "Labs", "SA", "LLC")


def other_tables(
    p: Profiles, cal: Calendar, monthly: np.ndarray, rng: np.random.Generator
) -> dict[str, pl.DataFrame]:
    """Every table but usage, each with exactly ``COLUMNS[table]``."""
    accounts = _accounts(p, rng)
    return {
        "accounts": accounts,
        "contracts": _contracts(p),
        "rate_card": _rate_card(p),
        "workflows": _workflows(p, cal, rng),
        "outcomes": _outcomes(p, cal, monthly, rng),
        "activities": _activities(p, cal, accounts, rng),
        "budgets": _budgets(p, cal, rng),
    }


def _accounts(p: Profiles, rng: np.random.Generator) -> pl.DataFrame:
    """One row per account: a made-up company name, segment, owners and strategic flag."""
    n = len(p.archetype)
    name = pl.concat_str(
        [
            pl.Series(_NAME_HEADS).gather(rng.integers(0, len(_NAME_HEADS), n)),
            pl.Series(_NAME_TRADES).gather(rng.integers(0, len(_NAME_TRADES), n)),
            pl.Series(_NAME_FORMS).gather(rng.integers(0, len(_NAME_FORMS), n)),
        ],
        separator=" ",
    )
    return pl.DataFrame(
        {
            "account_id": account_ids(np.arange(n)),
            "account_name": pl.select(name).to_series(),
            "segment": pl.Series(SEGMENTS).gather(p.segment),
            "csm_owner": _people(p.csm, salt=0),
            "ae_owner": _people(p.ae, salt=7),
            "technical_counterpart": _people(p.counterpart, salt=13),
            "is_strategic": p.strategic,
        }
    )


def _contracts(p: Profiles) -> pl.DataFrame:
    """The first contract of every account (``-C1``) and the renewal of the renewing ones
    (``-C2``, renewal_of the first)."""
    renewing = np.flatnonzero(p.has1)
    slots = (
        (np.arange(len(p.archetype)), 1, p.start0, p.end0, p.commit0),
        (renewing, 2, p.start1[renewing], p.end1[renewing], p.commit1[renewing]),
    )
    frames = [
        pl.DataFrame(
            {
                "contract_id": contract_ids(account, slot),
                "account_id": account_ids(account),
                "start_date": as_dates(start),
                "end_date": as_dates(end),
                "commit_amount": commit,
            }
        ).with_columns(
            currency=pl.lit(CURRENCY),
            renewal_of=contract_ids(account, 1) if slot == 2 else pl.lit(None, pl.String),
        )
        for account, slot, start, end, commit in slots
    ]
    return pl.concat(frames).sort("account_id", "start_date")


def _rate_card(p: Profiles) -> pl.DataFrame:
    """A row per contract and meter the account uses; limits and overage prices where drawn."""
    slots = []
    for slot, accounts, prices in (
        (1, np.ones(len(p.archetype), dtype=bool), (p.price0, p.included0, p.overage0)),
        (2, p.has1, (p.price1, p.included1, p.overage1)),
    ):
        account, meter = np.nonzero(p.used & accounts[:, None])
        unit, included, overage = (values[account, meter] for values in prices)
        slots.append(
            pl.DataFrame(
                {
                    "contract_id": contract_ids(account, slot),
                    "meter": pl.Series(METERS).gather(meter),
                    "unit_price": unit,
                    "included_quantity": pl.Series(included, nan_to_null=True),
                    "overage_unit_price": pl.Series(overage, nan_to_null=True),
                }
            )
        )
    return pl.concat(slots).sort("contract_id", "meter")


def _workflows(p: Profiles, cal: Calendar, rng: np.random.Generator) -> pl.DataFrame:
    """Up to five workflows per live account, going live 20–150 days apart from go-live.

    New reset accounts have at most one; 12 % of workflows retire 90–500 days after going live;
    a churned account's workflows retire the day after its contract ends.
    """
    n = len(p.archetype)
    count = choose(rng, np.tile([0.08, 0.2, 0.3, 0.22, 0.12, 0.08], (n, 1)))
    count = np.where(p.is_lifecycle("reset_new"), np.minimum(count, 1), count)
    gaps = np.concatenate([rng.integers(0, 8, (n, 1)), rng.integers(20, 151, (n, 4))], axis=1)
    production = p.golive[:, None] + np.cumsum(gaps, axis=1)
    churned = p.is_lifecycle("churned")[:, None]
    keep = (
        (np.arange(5)[None, :] < count[:, None])
        & (production <= cal.as_of)
        & (~churned | (production <= p.end0[:, None]))
    )
    retired = np.where(
        churned,
        p.end0[:, None] + 1,
        np.where(rng.random((n, 5)) < 0.12, production + rng.integers(90, 501, (n, 5)), NO_END),
    )
    account, index = np.nonzero(keep)
    return pl.DataFrame(
        {
            "account_id": account_ids(account),
            "workflow_id": "wf-" + pl.Series(index + 1).cast(pl.String).str.zfill(2),
            "production_date": as_dates(production[account, index]),
            "retired_date": as_dates(retired[account, index], until=cal.as_of),
        }
    )


def _outcomes(
    p: Profiles, cal: Calendar, monthly: np.ndarray, rng: np.random.Generator
) -> pl.DataFrame:
    """Monthly outcomes for ~30 % of accounts: the month's api_calls / calls per outcome (20–200),
    ±8 % noise, rounded; months without usage have no row."""
    n = len(p.archetype)
    tracked = rng.random(n) < np.array([0.45, 0.35, 0.2])[p.segment]
    per_outcome = rng.uniform(20, 200, n)
    count = np.rint(monthly / per_outcome[:, None] * rng.lognormal(0, 0.08, monthly.shape))
    account, month = np.nonzero(tracked[:, None] & (count > 0))
    return pl.DataFrame(
        {
            "account_id": account_ids(account),
            "month": as_dates(month_start(cal.days[cal.month_starts])[month]),
            "outcome_count": count[account, month],
        }
    )


def _activities(
    p: Profiles, cal: Calendar, accounts: pl.DataFrame, rng: np.random.Generator
) -> pl.DataFrame:
    """CS activities of every type up to A, owned by the account's CSM or AE (3 % unowned).

    onboarding_review 7–30 days after a first contract in the history; value_review every
    quarter (Enterprise) or half-year (Mid-Market) after go-live, plus three for the three
    largest accounts in reset weeks 2–4; portfolio usage_clinic every four weeks before the reset
    and once in its week 5; technical_counterpart_assigned 10–60 days after the start; for half
    the sustained overconsumers an overconsumption_conversation in the last 3–20 days (and for
    40 % of those an expansion_opportunity after it); expansion_opportunity before expanding
    renewals and for 40 % of over-band accounts; scope_reduction before contracting renewals and
    for 30 % of small sustained overconsumers.
    """
    n = len(p.archetype)
    everyone = np.arange(n)
    period = np.array([91, 182, 0])[p.segment]
    reviewed = np.flatnonzero((p.golive < NO_END) & (period > 0))
    reviews = np.arange(1, (cal.as_of - cal.first) // 91 + 2)
    review_dates = (
        p.golive[reviewed, None]
        + period[reviewed, None] * reviews
        + rng.integers(-10, 11, (reviewed.size, reviews.size))
    ).ravel()
    review_account = np.repeat(reviewed, reviews.size)
    active = ~p.is_lifecycle("churned", "not_live")
    largest = np.argsort(-np.where(active, p.commit1, 0), kind="stable")[:3]
    clinics = np.append(cal.reset - 28 * np.arange(1, 13) + 1, cal.reset + 29)
    talks = p.is_shape("sustained") & (p.csm >= 0) & (rng.random(n) < 0.5)
    talk_dates = cal.as_of - rng.integers(3, 21, n)
    follow_up = talks & (rng.random(n) < 0.4)
    over_band = p.is_archetype("over") & (rng.random(n) < 0.4)
    expanding = p.is_archetype("expanding")
    contracting = p.is_archetype("contracting")
    giving_back = p.is_archetype("sustained_small") & (rng.random(n) < 0.3)
    has_counterpart = p.counterpart >= 0
    parts = [
        (
            "onboarding_review",
            "csm",
            everyone,
            p.start0 + rng.integers(7, 31, n),
            p.start0 >= cal.first,
        ),
        (
            "value_review",
            "csm",
            review_account,
            review_dates,
            np.ones(review_dates.size, dtype=bool),
        ),
        (
            "value_review",
            "csm",
            largest,
            cal.reset + np.array([9, 16, 23])[: largest.size],
            np.ones(largest.size, dtype=bool),
        ),
        ("usage_clinic", "ops", np.full(clinics.size, -1), clinics, clinics >= cal.first),
        (
            "technical_counterpart_assigned",
            "ae",
            everyone,
            p.start0 + rng.integers(10, 61, n),
            has_counterpart,
        ),
        ("overconsumption_conversation", "csm", everyone, talk_dates, talks),
        ("expansion_opportunity", "ae", everyone, talk_dates + rng.integers(1, 3, n), follow_up),
        ("expansion_opportunity", "ae", everyone, cal.as_of - rng.integers(5, 41, n), over_band),
        ("expansion_opportunity", "ae", everyone, p.start1 - rng.integers(20, 61, n), expanding),
        ("scope_reduction", "ae", everyone, p.start1 - rng.integers(10, 46, n), contracting),
        ("scope_reduction", "ae", everyone, cal.as_of - rng.integers(2, 11, n), giving_back),
    ]
    frames = [
        pl.DataFrame(
            {"activity_date": dates[chosen], "account_index": account[chosen]}
        ).with_columns(activity_type=pl.lit(kind), role=pl.lit(role))
        for kind, role, account, dates, wanted in parts
        for chosen in [np.flatnonzero(wanted & (dates <= cal.as_of))]
    ]
    owners = accounts.select(pl.int_range(pl.len()).alias("account_index"), "csm_owner", "ae_owner")
    rows = pl.concat(frames).join(owners, on="account_index", how="left", maintain_order="left")
    owner = (
        pl.when(pl.col("role") == "ops")
        .then(pl.lit("CS Operations"))
        .when(pl.col("role") == "csm")
        .then(pl.col("csm_owner"))
        .otherwise(pl.col("ae_owner"))
    )
    unowned = pl.Series(rng.random(rows.height) < 0.03)
    return (
        rows.with_columns(
            pl.col("activity_date").cast(pl.Int32).cast(pl.Date),
            pl.when(pl.col("account_index") >= 0)
            .then(account_id_expr(pl.col("account_index")))
            .alias("account_id"),
            pl.when(unowned).then(None).otherwise(owner).alias("owner"),
        )
        .select(COLUMNS["activities"].keys())
        .sort("activity_date", "account_id", "activity_type", nulls_last=True, maintain_order=True)
    )


def _budgets(p: Profiles, cal: Calendar, rng: np.random.Generator) -> pl.DataFrame:
    """Budgets for a third of the accounts and every other new reset account, enabled 0–45 days
    after the first contract (reset accounts 0–6): the current daily spend level × 30.44 ×
    0.9–1.4, rounded to 100."""
    n = len(p.archetype)
    reset_new = p.is_lifecycle("reset_new")
    chosen = np.where(reset_new, (np.cumsum(reset_new) % 2) == 1, rng.random(n) < 0.33)
    enabled = p.start0 + np.where(reset_new, rng.integers(0, 7, n), rng.integers(0, 46, n))
    level = np.where(p.has1, p.level1, p.level0)
    budget = np.maximum(100.0, np.round(level * DAYS_PER_MONTH * rng.uniform(0.9, 1.4, n), -2))
    threshold = np.array([0.5, 0.8, 0.9, 1.0, 1.2])[rng.integers(0, 5, n)]
    rows = np.flatnonzero(chosen & (enabled <= cal.as_of))
    return pl.DataFrame(
        {
            "account_id": account_ids(rows),
            "monthly_budget": budget[rows],
            "alert_threshold_pct": threshold[rows],
            "enabled_date": as_dates(enabled[rows]),
        }
    )


def _people(index: np.ndarray, salt: int) -> pl.Series:
    """Made-up person names for indexes ≥ 0 (distinct for the first 400), null for -1."""
    first, last = len(_FIRST_NAMES), len(_LAST_NAMES)
    k = np.maximum(index, 0)
    frame = pl.DataFrame(
        {
            "first": pl.Series(_FIRST_NAMES).gather((k + salt) % first),
            "last": pl.Series(_LAST_NAMES).gather((k // first + 3 * k + salt) % last),
            "round": k // (first * last) + 1,
        }
    )
    name = pl.concat_str(
        "first",
        pl.lit(" "),
        "last",
        pl.when(pl.col("round") > 1).then(pl.format(" {}", "round")).otherwise(pl.lit("")),
    )
    return frame.select(pl.when(pl.Series(index >= 0)).then(name)).to_series().alias("name")
