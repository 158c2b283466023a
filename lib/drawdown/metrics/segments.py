"""The segment summary (docs/metrics.md#segment-summary): one row per segment, sorted, then one row ``All``."""

from __future__ import annotations

import polars as pl

from drawdown.exact import exact_sum
from drawdown.metrics.commit import HEALTHY, NOT_LIVE, OVER, PAYGO, UNDER
from drawdown.metrics.health import ttfbe_quantiles
from drawdown.metrics.retention import ALL

CONVERSATION = "conversation"


def _account_totals() -> list[pl.Expr]:
    """Aggregations over account health rows: accounts, commit_total, consumed_to_date_total,
    share_<band> (accounts in the band / accounts) and the live accounts' ttfbe quantiles."""
    return [
        pl.len().alias("accounts"),
        exact_sum(pl.col("commit_amount")).alias("commit_total"),
        exact_sum(pl.col("consumed_to_date")).alias("consumed_to_date_total"),
        *(
            (pl.col("band") == name).mean().alias(f"share_{name}")
            for name in (PAYGO, NOT_LIVE, UNDER, HEALTHY, OVER)
        ),
        *ttfbe_quantiles(),
    ]


def _case_totals() -> list[pl.Expr]:
    """Aggregations over overage cases: overage_amount (Σ) and cases_conversation (triage
    ``conversation``)."""
    return [
        exact_sum(pl.col("overage_amount")).alias("overage_amount"),
        (pl.col("triage") == CONVERSATION).sum().alias("cases_conversation"),
    ]


def segment_summary(
    health: pl.LazyFrame, cases: pl.LazyFrame, retention: pl.LazyFrame
) -> pl.LazyFrame:
    """One row per segment of the account health frame (accounts with a contract covering A),
    sorted, then ``All``: the account totals, the cases' overage_amount and cases_conversation
    (0 without cases), and grr, nrr from ``retention.retention``.
    """
    per_segment = (
        health.group_by("segment")
        .agg(_account_totals())
        .join(cases.group_by("segment").agg(_case_totals()), on="segment", how="left")
        .sort("segment")
    )
    everyone = pl.concat(
        [
            health.select(pl.lit(ALL).alias("segment"), *_account_totals()),
            cases.select(*_case_totals()),
        ],
        how="horizontal",
    )
    return (
        pl.concat([per_segment, everyone], how="diagonal_relaxed")
        .join(retention, on="segment", how="left", maintain_order="left")
        .with_columns(
            pl.col("overage_amount").fill_null(0.0), pl.col("cases_conversation").fill_null(0)
        )
    )
