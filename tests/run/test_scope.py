"""The run's scope: the account reviews and the exports of one segment, and unknown account ids
refused listing them (docs/reliability.md#guarantees)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from drawdown.errors import InputError
from drawdown.run.pipeline import select_accounts
from drawdown.run.steps import scope_frames


@pytest.fixture
def stage(tmp_path: Path) -> Path:
    """A staging folder whose account_health holds A1 (Enterprise, 300), A2 (SMB, 200) and A3
    (SMB, 100)."""
    (tmp_path / "artifacts").mkdir()
    pl.DataFrame(
        {
            "account_id": ["A1", "A2", "A3"],
            "account_value": [300.0, 200.0, 100.0],
            "segment": ["Enterprise", "SMB", "SMB"],
        }
    ).write_parquet(tmp_path / "artifacts" / "account_health.parquet")
    return tmp_path


def test_the_top_accounts_are_chosen_within_the_scoped_segment(stage: Path):
    assert select_accounts(stage, (), 1) == ["A1"]
    assert select_accounts(stage, (), 1, "SMB") == ["A2"]


def test_requested_accounts_outside_the_segment_are_refused(stage: Path):
    with pytest.raises(InputError, match="in segment 'SMB' for 'A1'"):
        select_accounts(stage, ("A1", "A2"), 10, "SMB")


def test_unknown_account_ids_are_listed_capped(stage: Path):
    unknown = tuple(f"X{n:03}" for n in range(50))
    with pytest.raises(InputError) as caught:
        select_accounts(stage, unknown, 10)
    message = str(caught.value)
    assert "'X000', 'X001'" in message and "and 30 more" in message
    assert caught.value.exit_code == 2
    assert len(message) < 600


def test_scope_frames_keep_the_segments_accounts_only():
    health = pl.DataFrame({"account_id": ["A1", "A2"], "segment": ["Enterprise", "SMB"]})
    cases = pl.DataFrame({"account_id": ["A1", "A2", "A2"], "meter": ["m", "m", "n"]})
    scoped = scope_frames({"cases": cases}, health, "SMB")
    assert scoped["cases"]["account_id"].to_list() == ["A2", "A2"]
    assert scope_frames({"cases": cases}, health, None)["cases"].height == 3
