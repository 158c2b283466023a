"""Golden digests: every artifact of ``compute_all`` on the small sample book has the digest it had
before the speed work (rate_usage in one join, the reset comparison from the daily spend).

A digest says *that* a number moved, not which one or whether the new one is right; the small books
below it say what the numbers must be, worked out by hand.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from drawdown.api import compute_all

GOLDEN = {
    "account_actions": "2a19489760c98e69",
    "account_health": "0cee3cf77242a7a1",
    "account_months": "e8d910d81020fa59",
    "changes": "c8bf84fc5244f2d3",
    "daily_spend": "70cdcf5a509fad0d",
    "meter_months": "463dea3b240d40f5",
    "overage_cases": "b47f7a3596df901e",
    "reset_comparison": "6b3965e103cfab12",
    "reset_tracker": "a5273013ad6915ad",
    "segment_summary": "8eef1ce31a1f6032",
    "ttfbe_cohorts": "78bf1a66a0d8bbde",
}
"""sha256 (first 16 hex digits) of each artifact as NDJSON, computed before the speed work on the
``small_book`` fixture (80 accounts, 500 days, seed 11) with reset.start_date 2026-10-05.
account_actions and changes came later; meter_months gained its ``pattern`` column then (its
other columns still have the digest 3309e986d7cb56b5)."""


def _digest(frame) -> str:
    return hashlib.sha256(frame.write_ndjson().encode()).hexdigest()[:16]


def test_compute_all_artifacts_match_the_golden_digests(small_book: Path) -> None:
    artifacts = compute_all(small_book, {"reset": {"start_date": "2026-10-05"}})
    assert {name: _digest(frame) for name, frame in artifacts.tables.items()} == GOLDEN
