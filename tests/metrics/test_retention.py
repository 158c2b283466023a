"""GRR and NRR (docs/metrics.md#retention): per segment and All, cohort of accounts with prior-window revenue."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from drawdown.metrics.retention import account_revenue, retention

A = date(2025, 6, 30)
CURRENT_DAY, PRIOR_DAY = A - timedelta(days=10), A - timedelta(days=400)


def _accounts(segments: dict[str, str]) -> pl.LazyFrame:
    return pl.LazyFrame(
        {"account_id": list(segments), "segment": list(segments.values())},
        schema={"account_id": pl.String, "segment": pl.String},
    )


def _daily(rows: list[tuple[str, date, float]]) -> pl.LazyFrame:
    return pl.LazyFrame(
        rows,
        schema={"account_id": pl.String, "usage_date": pl.Date, "amount": pl.Float64},
        orient="row",
    )


# ent: churned (100 -> 0), contracted (100 -> 60), expanded (100 -> 150), new (0 -> 50, no cohort)
#   GRR = (0 + 60 + 100) / 300 = 0.5333…, NRR = (0 + 60 + 150) / 300 = 0.7
# smb: only a new account -> empty cohort, null ratios
# All: the same cohort as ent
def test_retention_with_churn_contraction_and_expansion() -> None:
    accounts = _accounts(
        {"churn": "ent", "down": "ent", "up": "ent", "new": "ent", "new_smb": "smb"}
    )
    daily = _daily(
        [
            ("churn", PRIOR_DAY, 100.0),
            ("down", PRIOR_DAY, 100.0),
            ("down", CURRENT_DAY, 60.0),
            ("up", PRIOR_DAY, 100.0),
            ("up", CURRENT_DAY, 150.0),
            ("new", CURRENT_DAY, 50.0),
            ("new_smb", CURRENT_DAY, 50.0),
        ]
    )
    expected = pl.DataFrame(
        {
            "segment": ["ent", "smb", "All"],
            "grr": [160 / 300, None, 160 / 300],
            "nrr": [0.7, None, 0.7],
        }
    )
    assert_frame_equal(retention(accounts, daily, A).collect(), expected)


def test_retention_of_an_empty_book_is_null() -> None:
    got = retention(_accounts({}), _daily([]), A).collect()
    assert got.to_dicts() == [{"segment": "All", "grr": None, "nrr": None}]


# windows: current [A − 89, A], prior [A − 454, A − 365]; the days just outside count nowhere
@pytest.mark.parametrize(
    ("day", "window"),
    [
        (A, "rev_current"),
        (A - timedelta(days=89), "rev_current"),
        (A - timedelta(days=365), "rev_prior"),
        (A - timedelta(days=454), "rev_prior"),
        (A - timedelta(days=90), None),
        (A - timedelta(days=364), None),
        (A - timedelta(days=455), None),
    ],
)
def test_revenue_windows(day: date, window: str | None) -> None:
    got = account_revenue(_accounts({"a": "s"}), _daily([("a", day, 7.0)]), A).collect()
    for column in ("rev_current", "rev_prior"):
        assert got[column].item() == (7.0 if column == window else 0.0)


# revenue below 1 (a cohort of cents): prior 0.5, current 0.2 -> GRR = NRR = 0.2 / 0.5 = 0.4;
# the cohort is rev_prior > 0, the ratios need Σ rev_prior > 0, not ≥ 1
def test_retention_of_a_cohort_below_one() -> None:
    daily = _daily([("a", PRIOR_DAY, 0.5), ("a", CURRENT_DAY, 0.2)])
    expected = pl.DataFrame({"segment": ["s", "All"], "grr": [0.4, 0.4], "nrr": [0.4, 0.4]})
    assert_frame_equal(retention(_accounts({"a": "s"}), daily, A).collect(), expected)
