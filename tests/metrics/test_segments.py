"""The segment summary (docs/metrics.md#segment-summary): per segment, then All."""

from __future__ import annotations

import polars as pl
from polars.testing import assert_frame_equal

from drawdown.metrics.segments import segment_summary

# ent: 4 accounts, commits 1000 + 2000 + 3000 + 4000, consumed 900 + 500 + 3500 + 0;
#   one in each of healthy, under, over, not_live -> 0.25 each;
#   live ttfbe 2, 4, 10: median 4, p75 at 0.75 × 2 = 1.5 -> 4 + 0.5 × 6 = 7;
#   cases 500 (conversation) + 250 (watch)
# smb: 1 paygo account, consumed 300, ttfbe 8; no cases -> 0, 0
# All: 5 accounts, 10000, 5200, 0.2 per band; ttfbe 2, 4, 8, 10: median 6,
#   p75 at 0.75 × 3 = 2.25 -> 8 + 0.25 × 2 = 8.5; cases 750, 1 conversation
HEALTH = pl.LazyFrame(
    {
        "segment": ["ent", "ent", "ent", "ent", "smb"],
        "commit_amount": [1000.0, 2000.0, 3000.0, 4000.0, 0.0],
        "consumed_to_date": [900.0, 500.0, 3500.0, 0.0, 300.0],
        "band": ["healthy", "under", "over", "not_live", "paygo"],
        "ttfbe_days": [2, 4, 10, None, 8],
    }
)
CASES = pl.LazyFrame(
    {
        "segment": ["ent", "ent"],
        "overage_amount": [500.0, 250.0],
        "triage": ["conversation", "watch"],
    }
)
RETENTION = pl.LazyFrame(
    {"segment": ["ent", "smb", "All"], "grr": [0.9, None, 0.8], "nrr": [1.1, None, 1.0]}
)


def test_segment_summary() -> None:
    expected = pl.DataFrame(
        {
            "segment": ["ent", "smb", "All"],
            "accounts": [4, 1, 5],
            "commit_total": [10000.0, 0.0, 10000.0],
            "consumed_to_date_total": [4900.0, 300.0, 5200.0],
            "share_paygo": [0.0, 1.0, 0.2],
            "share_not_live": [0.25, 0.0, 0.2],
            "share_under": [0.25, 0.0, 0.2],
            "share_healthy": [0.25, 0.0, 0.2],
            "share_over": [0.25, 0.0, 0.2],
            "median_ttfbe_days": [4.0, 8.0, 6.0],
            "p75_ttfbe_days": [7.0, 8.0, 8.5],
            "overage_amount": [750.0, 0.0, 750.0],
            "cases_conversation": [1, 0, 1],
            "grr": [0.9, None, 0.8],
            "nrr": [1.1, None, 1.0],
        }
    )
    got = segment_summary(HEALTH, CASES, RETENTION).collect()
    assert_frame_equal(got, expected, check_dtypes=False)


def test_segment_summary_without_cases_has_zero_overage() -> None:
    got = segment_summary(HEALTH, CASES.clear(), RETENTION).collect()
    assert got.select("overage_amount", "cases_conversation").rows() == [(0.0, 0)] * 3


# one row per segment of the health frame, whatever retention holds: a segment retention lacks
# (smb here) keeps its row, with null grr and nrr
def test_segment_summary_keeps_a_segment_without_retention() -> None:
    retention = RETENTION.filter(pl.col("segment") != "smb")
    got = segment_summary(HEALTH, CASES, retention).collect()
    assert got.select("segment", "accounts", "grr", "nrr").rows() == [
        ("ent", 4, 0.9, 1.1),
        ("smb", 1, None, None),
        ("All", 5, 0.8, 1.0),
    ]
