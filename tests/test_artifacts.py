"""Artifact files: the same artifact gives the same bytes."""

from datetime import date, timedelta
from pathlib import Path

import polars as pl

from drawdown.artifacts import Artifacts


def _daily(rows: int) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [f"A{i % 7}" for i in range(rows)],
            "usage_date": [date(2026, 1, 1) + timedelta(days=i % 300) for i in range(rows)],
            "amount": [i * 0.5 for i in range(rows)],
        }
    )


def test_the_same_artifact_in_other_chunks_writes_the_same_bytes(tmp_path: Path) -> None:
    """Polars' engine hands a frame over in chunks whose sizes vary from run to run (thread
    timing); Parquet row groups follow the chunks, so the file must not depend on them."""
    whole = _daily(400_000)
    pieces = pl.concat([whole[:150_000], whole[150_000:320_000], whole[320_000:]], rechunk=False)
    assert pieces.n_chunks() == 3 and pieces.equals(whole)
    paths = [
        Artifacts(tables={"daily_spend": frame}, data_quality={}).write(tmp_path / name)
        / "daily_spend.parquet"
        for name, frame in (("whole", whole), ("pieces", pieces))
    ]
    assert paths[0].read_bytes() == paths[1].read_bytes()
