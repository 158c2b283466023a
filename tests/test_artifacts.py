"""Artifact files (drawdown.artifacts): the same table gives the same bytes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from drawdown import artifacts
from drawdown.artifacts import (
    Artifacts,
    account_parts,
    artifact_exists,
    part_count,
    part_files,
    scan_artifact,
    write_partitioned,
)


def test_an_artifact_file_does_not_depend_on_how_its_frame_is_chunked(tmp_path: Path) -> None:
    # A sharded or Spark run concatenates its shards' frames, the whole book collects one: the
    # same rows in other chunks. Parquet row groups followed the chunks, so 5,000 accounts gave
    # daily_spend files that differed in bytes though not in one value
    rows = 300_000
    n = pl.int_range(rows)
    daily = pl.select(
        (n % 997).cast(pl.String).alias("account_id"),
        (pl.lit(date(2026, 1, 1)) + pl.duration(days=n % 400)).alias("usage_date"),
        (n / 7).alias("amount"),
    )
    chunks = pl.concat([daily.slice(0, 123_457), daily.slice(123_457)], rechunk=False)
    assert chunks.n_chunks() == 2
    Artifacts({"daily_spend": daily}, {}).write(tmp_path / "one")
    Artifacts({"daily_spend": chunks}, {}).write(tmp_path / "two")
    one, two = (tmp_path / name / "daily_spend" / "part-00000.parquet" for name in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()


def _series(accounts: int, days: int) -> pl.DataFrame:
    """daily_spend rows of ``accounts`` accounts (ids sorted as text) over ``days`` days."""
    n = pl.int_range(accounts * days)
    return pl.select(
        (pl.lit("A") + (n // days).cast(pl.String).str.zfill(4)).alias("account_id"),
        (pl.lit(date(2026, 1, 1)) + pl.duration(days=n % days)).alias("usage_date"),
        (n / 3).alias("amount"),
    )


def test_part_count_is_one_part_per_6250_accounts() -> None:
    # ceil(accounts / 6,250), at least one: 6,250 fills one part, 6,251 starts a second
    assert [part_count(n) for n in (0, 1, 6_250, 6_251, 12_500, 12_501, 50_000)] == [
        1, 1, 1, 2, 2, 3, 8,
    ]  # fmt: skip


@pytest.fixture
def three_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> pl.DataFrame:
    """daily_spend of 250 accounts, 4 days each, written into ``tmp_path`` at 100 accounts a
    part: ceil(250 / 100) = 3 parts. Returns the rows written."""
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 100)
    daily = _series(250, 4)
    Artifacts({"daily_spend": daily}, {}).write(tmp_path)
    return daily


def test_a_partitioned_artifact_puts_each_account_in_its_hashed_part(
    tmp_path: Path, three_parts: pl.DataFrame
) -> None:
    files = part_files(tmp_path, "daily_spend")
    assert [path.name for path in files] == [f"part-0000{k}.parquet" for k in range(3)]
    for part, path in enumerate(files):
        rows = pl.read_parquet(path)
        ids = rows["account_id"].unique(maintain_order=True)
        assert ids.len() > 0
        assert account_parts(ids, 3).to_list() == [part] * ids.len()
        assert rows["account_id"].is_sorted()
    # read whole: the parts merged back into the book's order, every row once
    assert_frame_equal(scan_artifact(tmp_path, "daily_spend").collect(), three_parts)


def test_a_partitioned_artifact_can_be_read_part_after_part(
    tmp_path: Path, three_parts: pl.DataFrame
) -> None:
    # the metric stages do not depend on row order: they read the parts one after the other,
    # without merging them back into account order
    parts = [pl.read_parquet(path) for path in part_files(tmp_path, "daily_spend")]
    read = scan_artifact(tmp_path, "daily_spend", in_account_order=False).collect()
    assert_frame_equal(read, pl.concat(parts))
    assert not read["account_id"].is_sorted()
    assert_frame_equal(read.sort("account_id", "usage_date"), three_parts)


def test_an_account_is_read_from_its_part_alone(tmp_path: Path, three_parts: pl.DataFrame) -> None:
    part = account_parts(pl.Series(["A0117"]), 3).item()
    for other in part_files(tmp_path, "daily_spend"):
        if other.name != f"part-{part:05d}.parquet":
            other.unlink()  # an account review never opens the other parts
    mine = scan_artifact(tmp_path, "daily_spend", "A0117").collect()
    assert_frame_equal(mine, three_parts.filter(pl.col("account_id") == "A0117"))
    assert mine.height == 4


def test_writing_a_partitioned_artifact_again_leaves_no_stale_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 100)
    write_partitioned("daily_spend", _series(250, 2), tmp_path)
    write_partitioned("daily_spend", _series(150, 2), tmp_path)  # ceil(150 / 100) = 2 parts
    assert len(part_files(tmp_path, "daily_spend")) == 2
    assert scan_artifact(tmp_path, "daily_spend").collect().height == 300


def test_a_series_written_as_one_file_by_an_earlier_version_is_still_read(tmp_path: Path) -> None:
    # runs made before the series were partitioned (compare_to, a previous run) hold one file
    daily = _series(3, 2)
    daily.write_parquet(tmp_path / "daily_spend.parquet")
    assert artifact_exists(tmp_path, "daily_spend")
    assert_frame_equal(scan_artifact(tmp_path, "daily_spend", "A0001").collect(), daily[2:4])
