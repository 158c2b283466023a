"""A tiny hand-made run folder for the report tests: five accounts, every artifact of SCHEMAS.

as_of 2026-04-30 (the last day of April: April is still only month-to-date, so the last complete
quarter is Jan–Mar 2026 against Oct–Dec 2025). Accounts (commit terms 2025-07-01 .. 2026-06-30,
365 days, 304 elapsed), with their next action:
  A1 Acme Corp          Enterprise  commit 120000, consumed 100000, healthy, on pace, outcomes,
                                    spike case with a conversation recorded -> expansion (Lee, AE)
  A2 <script>...        Enterprise  commit  60000, consumed  70000, over, too fast, sustained
                                    case to take up -> open_conversation (Dana, CSM)
  A3 Bolt & Co          Mid-Market  commit  30000, consumed  10000, under, too slow, warnings
                                    -> rescue (Kim, CSM)
  A4 Paygo Ltd          Mid-Market  pay-as-you-go, one workflow -> second_workflow (no CSM)
  A5 Newco              Mid-Market  commit  24000 from 2026-03-01, not live -> activate (Kim)
Changes since the previous run (as of 2026-04-23, when only A1 had a case): A2 new case, A9
(no longer in the book) resolved, A3 band healthy -> under and burn on_pace -> too_slow.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import polars as pl

from drawdown.artifacts import SCHEMAS, conform

AS_OF = date(2026, 4, 30)
EVIL_NAME = "<script>alert(1)</script>"
_START, _END = date(2025, 7, 1), date(2026, 6, 30)


def _health() -> pl.DataFrame:
    base = {
        "technical_counterpart": None,
        "is_strategic": False,
        "term_start": _START,
        "term_end": _END,
        "term_days": 365,
        "elapsed_days": 304,
        "elapsed_fraction": 304 / 365,
        "remaining_days": 61,
        "band_low": 0.85,
        "band_high": 1.10,
        "first_contract_start": _START,
        "workflows_at_90d": 1,
        "workflows_at_180d": 2,
        "two_workflows_date": None,
        "exhaustion_p10": None,
        "exhaustion_p50": None,
        "exhaustion_p90": None,
        "p_exhaust_before_term_end": None,
    }
    rows = [
        dict(
            account_id="A1",
            account_name="Acme Corp",
            segment="Enterprise",
            csm_owner="Kim",
            ae_owner="Lee",
            contract_id="C1",
            commit_amount=120000.0,
            consumed_to_date=100000.0,
            run_rate=330.0,
            band="healthy",
            burn="on_pace",
            first_billable_date=date(2025, 7, 8),
            ttfbe_days=7,
            cv_28d=0.3,
            workflows_live=3,
            two_workflows_date=date(2025, 8, 1),
            adoption_stage="steady_draw",
            early_warnings=[],
            is_strategic=True,
            technical_counterpart="Ola",
        ),
        dict(
            account_id="A2",
            account_name=EVIL_NAME,
            segment="Enterprise",
            csm_owner="Dana",
            ae_owner=None,
            contract_id="C2",
            commit_amount=60000.0,
            consumed_to_date=70000.0,
            run_rate=260.0,
            band="over",
            burn="too_fast",
            first_billable_date=date(2025, 7, 20),
            ttfbe_days=19,
            cv_28d=0.9,
            workflows_live=2,
            two_workflows_date=date(2025, 9, 15),
            adoption_stage="multi_workflow",
            early_warnings=[],
        ),
        dict(
            account_id="A3",
            account_name="Bolt & Co",
            segment="Mid-Market",
            csm_owner="Kim",
            ae_owner="Lee",
            contract_id="C3",
            commit_amount=30000.0,
            consumed_to_date=10000.0,
            run_rate=20.0,
            band="under",
            burn="too_slow",
            first_billable_date=date(2025, 8, 1),
            ttfbe_days=31,
            cv_28d=0.4,
            workflows_live=1,
            adoption_stage="one_workflow",
            early_warnings=["usage_drop", "renewal_risk"],
        ),
        dict(
            account_id="A4",
            account_name="Paygo Ltd",
            segment="Mid-Market",
            csm_owner=None,
            ae_owner=None,
            contract_id="C4",
            commit_amount=0.0,
            consumed_to_date=5000.0,
            run_rate=15.0,
            band="paygo",
            burn=None,
            first_billable_date=date(2025, 7, 2),
            ttfbe_days=1,
            cv_28d=0.2,
            workflows_live=1,
            adoption_stage="one_workflow",
            early_warnings=[],
        ),
        dict(
            account_id="A5",
            account_name="Newco",
            segment="Mid-Market",
            csm_owner="Kim",
            ae_owner="Lee",
            contract_id="C5",
            commit_amount=24000.0,
            consumed_to_date=0.0,
            run_rate=0.0,
            band="not_live",
            burn="too_slow",
            first_billable_date=None,
            ttfbe_days=None,
            cv_28d=None,
            workflows_live=0,
            adoption_stage="not_live",
            early_warnings=[],
            term_start=date(2026, 3, 1),
            term_end=date(2027, 2, 28),
            elapsed_days=61,
            elapsed_fraction=61 / 365,
            remaining_days=304,
            first_contract_start=date(2026, 3, 1),
            workflows_at_90d=None,
            workflows_at_180d=None,
        ),
    ]
    frame = pl.DataFrame([{**base, **row} for row in rows], infer_schema_length=None)
    commit = pl.col("commit_amount")
    return frame.with_columns(
        utilization=pl.when(commit > 0).then(pl.col("consumed_to_date") / commit),
        projected_consumption=pl.col("consumed_to_date")
        + pl.col("run_rate") * pl.col("remaining_days"),
    ).with_columns(
        pacing_index=pl.col("utilization") / pl.col("elapsed_fraction"),
        projected_utilization=pl.when(commit > 0).then(pl.col("projected_consumption") / commit),
        exhaustion_date=pl.when(pl.col("account_id") == "A2").then(pl.lit(date(2026, 3, 2))),
        exhausts_before_term_end=pl.col("account_id") == "A2",
        account_value=pl.when(commit > 0).then(commit).otherwise(5500.0),
        is_smooth=pl.col("cv_28d") <= 0.5,
        exhaustion_p10=pl.when(pl.col("account_id") == "A2").then(pl.lit(date(2026, 3, 2))),
        exhaustion_p50=pl.when(pl.col("account_id") == "A2").then(pl.lit(date(2026, 3, 2))),
        exhaustion_p90=pl.when(pl.col("account_id") == "A2").then(pl.lit(date(2026, 3, 2))),
        p_exhaust_before_term_end=pl.when(pl.col("commit_amount") > 0).then(
            (pl.col("account_id") == "A2").cast(pl.Float64)
        ),
    )


def _crossing_and_backtest() -> dict[str, pl.DataFrame]:
    """limit_crossing: A1's api_calls crosses its limit on 2026-04-28, A2's crossed on the 10th;
    forecast_backtest pooled: 80% of 9 accounts inside the band, 6% against 11%."""
    crossing = pl.DataFrame(
        {
            "account_id": ["A1", "A2"],
            "meter": ["api_calls", "api_calls"],
            "month": [date(2026, 4, 1)] * 2,
            "limit": [1000.0, 1000.0],
            "usage_to_date": [800.0, 1400.0],
            "projected_usage": [1100.0, 1600.0],
            "projected_pct_over": [0.1, 0.6],
            "crossing_date": [date(2026, 4, 28), date(2026, 4, 10)],
        }
    )
    backtest = pl.DataFrame(
        {
            "as_of_made": [date(2026, 4, 2), date(2026, 3, 5), date(2026, 2, 5), None],
            "horizon_days": [28] * 4,
            "accounts": [3, 3, 3, 9],
            "coverage_p10_p90": [1.0, 2 / 3, 2 / 3, 0.8],
            "mdape_p50": [0.05, 0.07, 0.06, 0.06],
            "mdape_run_rate": [0.1, 0.12, 0.11, 0.11],
        }
    )
    return {"limit_crossing": crossing, "forecast_backtest": backtest}


def _cases() -> pl.DataFrame:
    return pl.DataFrame(
        [
            dict(
                rank=1,
                account_id="A2",
                account_name=EVIL_NAME,
                segment="Enterprise",
                meter="api_calls",
                pct_over=0.5,
                pattern="sustained",
                meters_over=1,
                months_over=3,
                latest_over_month=date(2026, 4, 1),
                overage_amount=1200.0,
                account_value=60000.0,
                priority_score=30000.0,
                triage="conversation",
                owner_detect="system",
                owner_first_conversation="Dana",
                owner_expansion=None,
                missing_owners=["expansion"],
                status=None,
            ),
            dict(
                rank=2,
                account_id="A1",
                account_name="Acme Corp",
                segment="Enterprise",
                meter="api_calls",
                pct_over=0.05,
                pattern="spike",
                meters_over=1,
                months_over=1,
                latest_over_month=date(2026, 4, 1),
                overage_amount=50.0,
                account_value=120000.0,
                priority_score=6000.0,
                triage="monitor",
                owner_detect="system",
                owner_first_conversation="Kim",
                owner_expansion="Lee",
                missing_owners=[],
                status="overconsumption_conversation",
            ),
        ]
    )


def _summary(scale: float = 1.0) -> pl.DataFrame:
    rows = [
        (
            "Enterprise",
            2,
            180000.0,
            170000.0,
            0.0,
            0.0,
            0.0,
            0.5,
            0.5,
            13.0,
            16.0,
            1250.0,
            1,
            0.95,
            1.12,
        ),
        (
            "Mid-Market",
            3,
            54000.0,
            15000.0,
            1 / 3,
            1 / 3,
            1 / 3,
            0.0,
            0.0,
            16.0,
            23.5,
            0.0,
            0,
            0.80,
            0.90,
        ),
        ("All", 5, 234000.0, 185000.0, 0.2, 0.2, 0.2, 0.2, 0.2, 13.0, 19.0, 1250.0, 1, 0.90, 1.05),
    ]
    frame = pl.DataFrame(rows, schema=list(conform_columns("segment_summary")), orient="row")
    return frame.with_columns(pl.col("consumed_to_date_total", "overage_amount") * scale)


def conform_columns(name: str) -> list[str]:
    """The column names of an artifact, in order."""

    return list(SCHEMAS[name])


def _daily() -> pl.DataFrame:
    days = pl.date_range(AS_OF - timedelta(days=119), AS_OF, eager=True).to_list()
    level = {"A1": 330.0, "A2": 260.0, "A3": 20.0, "A4": 15.0}
    rows = [
        (account, day, amount * (1.5 if (i % 7 == 0 and account == "A2") else 1.0) + (i % 5))
        for account, amount in level.items()
        for i, day in enumerate(days)
    ]
    return pl.DataFrame(rows, schema=["account_id", "usage_date", "amount"], orient="row")


def _meter_months() -> pl.DataFrame:
    months = [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]
    rows = []
    for account, usages in {"A1": [900.0, 950.0, 1050.0], "A2": [1300.0, 1400.0, 1500.0]}.items():
        for month, usage in zip(months, usages, strict=True):
            over = max(0.0, usage - 1000.0)
            rows.append(
                (
                    account,
                    "api_calls",
                    month,
                    1000.0,
                    usage,
                    over,
                    usage / 1000 - 1,
                    over * 2.0,
                    usage > 1000,
                    1.0,
                    2.0,
                    {"A1": "spike", "A2": "sustained"}[account],
                )
            )
    return pl.DataFrame(rows, schema=conform_columns("meter_months"), orient="row")


def _account_months() -> pl.DataFrame:
    months = pl.date_range(date(2025, 10, 1), date(2026, 4, 1), "1mo", eager=True).to_list()
    rows = []
    for i, month in enumerate(months):
        rows.append(
            (
                "A1",
                month,
                9000.0 + 300 * i,
                1000.0 + 50 * i,
                (9000.0 + 300 * i) / (1000 + 50 * i),
                3,
            )
        )
        rows.append(("A2", month, 7000.0 + 500 * i, None, None, 2))
        rows.append(("A3", month, 1500.0 - 100 * i, None, None, 1))
        rows.append(("A4", month, 450.0, None, None, 1))
    return pl.DataFrame(rows, schema=conform_columns("account_months"), orient="row")


def _forecasts() -> dict[str, pl.DataFrame]:
    """consumption_forecast for A2 and A3 (28 days and the 61 left in the term), renewal_scenarios
    for A2 (over: pay overage 60000 + 34900 x 2 = 129800 or expand to 94900) and A3 (under:
    renew 30000 or right-size to 7300), and ``_crossing_and_backtest``."""
    forecast = pl.DataFrame(
        {
            "account_id": ["A2", "A2", "A3", "A3"],
            "horizon": ["next_28_days", "term_end"] * 2,
            "horizon_days": [28, 61, 28, 61],
            "p10": [6000.0, 13000.0, 400.0, 900.0],
            "p50": [7280.0, 15860.0, 560.0, 1220.0],
            "p90": [8500.0, 18500.0, 700.0, 1500.0],
        }
    )
    renewal = date(2026, 7, 1)
    scenarios = pl.DataFrame(
        [
            (
                "A2",
                renewal,
                "pay_overage",
                365,
                94900.0,
                60000.0,
                69800.0,
                129800.0,
                False,
                34900.0,
            ),
            ("A2", renewal, "expand_commit", 365, 94900.0, 94900.0, 0.0, 94900.0, True, 0.0),
            ("A3", renewal, "pay_overage", 365, 7300.0, 30000.0, 0.0, 30000.0, False, 22700.0),
            ("A3", renewal, "right_size", 365, 7300.0, 7300.0, 0.0, 7300.0, True, 0.0),
        ],
        schema=list(SCHEMAS["renewal_scenarios"]),
        orient="row",
    )
    return {
        "consumption_forecast": forecast,
        "renewal_scenarios": scenarios,
        **_crossing_and_backtest(),
    }


def _budgets() -> pl.DataFrame:
    # A1: 12000 a month, alert at 90%; 10500 spent in April so far -> 88% used, alert not reached
    return pl.DataFrame(
        {
            "account_id": ["A1"],
            "monthly_budget": [12000.0],
            "alert_threshold_pct": [0.9],
            "enabled_date": [date(2025, 8, 1)],
            "month_to_date": [10500.0],
            "budget_used": [0.875],
            "alert_reached": [False],
        }
    )


def _actions() -> pl.DataFrame:
    rows = [
        ("A1", "expansion", "Lee", "ae", 61, "api_calls is 5% past its limit.", 30600.0, 27900.0),
        ("A2", "open_conversation", "Dana", "csm", 61, "api_calls is 50% past.", 28500.0, 21000.0),
        ("A3", "rescue", "Kim", "csm", 61, "Early warning: usage drop.", 3600.0, 4500.0),
        ("A4", "second_workflow", None, "csm", 61, "One workflow in production.", 1350.0, 1350.0),
        ("A5", "activate", "Kim", "csm", 304, "Not live 60 days after the start.", 0.0, 0.0),
    ]
    frame = pl.DataFrame(rows, schema=conform_columns("account_actions")[:-1], orient="row")
    prior = pl.col("consumption_prior_quarter")
    return frame.with_columns(
        consumption_change=pl.when(prior != 0).then(pl.col("consumption_last_quarter") / prior - 1)
    )


PREVIOUS_AS_OF = date(2026, 4, 23)


def _changes() -> pl.DataFrame:
    rows = [
        ("A2", "new_case", None, "sustained"),
        ("A9", "resolved", "sustained", None),
        ("A3", "band_change", "healthy", "under"),
        ("A3", "burn_change", "on_pace", "too_slow"),
    ]
    frame = pl.DataFrame(rows, schema=conform_columns("changes")[:-1], orient="row")
    return frame.with_columns(previous_as_of=pl.lit(PREVIOUS_AS_OF))


def _cohorts() -> pl.DataFrame:
    rows = [
        ("Enterprise", date(2025, 7, 1), 2, 2, 13.0, 16.0, 0.5),
        ("Mid-Market", date(2025, 7, 1), 2, 2, 16.0, 23.5, 0.5),
        ("Mid-Market", date(2026, 3, 1), 1, 0, None, None, 0.0),
    ]
    return pl.DataFrame(rows, schema=conform_columns("ttfbe_cohorts"), orient="row")


def _reset() -> tuple[pl.DataFrame, pl.DataFrame]:
    start = date(2026, 3, 9)
    items = [
        (
            "metrics_published",
            "1",
            7,
            "Usage-health metrics published to every CSM",
            "share of CSMs",
            1.0,
            1.0,
            "done",
        ),
        (
            "onboarding_ttfbe",
            "2",
            14,
            "Onboarding rebuilt around the first billable event",
            "median ttfbe_days",
            None,
            14.0,
            "late",
        ),
        (
            "two_workflow",
            "2",
            14,
            "Two-workflow adoption ladder",
            "share with 2 workflows by day 60",
            0.0,
            0.5,
            "late",
        ),
        (
            "budgets",
            "3",
            21,
            "Budgets and alerts for new customers and the top ten",
            "share with a budget",
            0.6,
            1.0,
            "late",
        ),
        (
            "value_reviews",
            "4",
            28,
            "Value review with unit economics for three key accounts",
            "value reviews",
            3.0,
            3.0,
            "done",
        ),
        (
            "usage_clinic",
            "5-8",
            56,
            "Weekly usage clinic",
            "weeks with a clinic",
            1.0,
            1.0,
            "on_track",
        ),
        (
            "technical_counterpart",
            "5-8",
            56,
            "Technical counterpart for each strategic account",
            "share of strategic accounts",
            1.0,
            1.0,
            "done",
        ),
        (
            "comp_weights",
            "5-8",
            56,
            "Variable pay favours retention, adoption and stability",
            "comp weight",
            0.6,
            0.6,
            "not_started",
        ),
    ]
    tracker = pl.DataFrame(
        [(i, w, start + timedelta(days=d), it, m, v, t, s) for i, w, d, it, m, v, t, s in items],
        schema=conform_columns("reset_tracker"),
        orient="row",
    )
    comparison = pl.DataFrame(
        [
            ("share_healthy", 0.15, 0.2),
            ("median_ttfbe_days", 15.0, 13.0),
            ("overage_amount", 900.0, 1250.0),
            ("median_cv_28d_top", 0.5, 0.35),
        ],
        schema=conform_columns("reset_comparison"),
        orient="row",
    )
    return tracker, comparison


def write_run(run_dir: Path, *, reset: bool = True, previous: bool = True) -> Path:
    """Write ``<run_dir>/artifacts/`` with every artifact (reset_*, and previous_month/ and
    changes, the comparisons, optional)."""
    folder = run_dir / "artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    tables = {
        "account_health": _health(),
        "overage_cases": _cases(),
        "segment_summary": _summary(),
        "ttfbe_cohorts": _cohorts(),
        "daily_spend": _daily(),
        "meter_months": _meter_months(),
        "account_months": _account_months(),
        "account_actions": _actions(),
        "account_budgets": _budgets(),
        **_forecasts(),
    }
    if reset:
        tables["reset_tracker"], tables["reset_comparison"] = _reset()
    if previous:
        tables["changes"] = _changes()
    for name, frame in tables.items():
        conform(name, frame).write_parquet(folder / f"{name}.parquet")
    (folder / "data_quality.json").write_text(json.dumps({"tables": {}}), encoding="utf-8")
    if previous:
        month = folder / "previous_month"
        month.mkdir()
        conform("account_health", tables["account_health"]).write_parquet(
            month / "account_health.parquet"
        )
        conform("segment_summary", _summary(0.9)).write_parquet(month / "segment_summary.parquet")
        previous_cases = conform("overage_cases", tables["overage_cases"].tail(1))
        previous_cases.write_parquet(month / "overage_cases.parquet")
    return run_dir
