"""Artifact files (drawdown.artifacts): the same table gives the same bytes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from drawdown.artifacts import Artifacts


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
    one, two = (tmp_path / name / "daily_spend.parquet" for name in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
