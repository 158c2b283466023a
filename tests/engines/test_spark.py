"""Spark as the engine (docs/scale.md#spark): local[2], the same artifacts as the local engine."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import pytest

from drawdown.api import compute_all
from drawdown.inputs.sample import write_sample
from drawdown.params import load_params

pytest.importorskip("pyspark")
if shutil.which("java") is None:
    pytest.skip("Spark needs a Java runtime (scripts/system-deps.sh)", allow_module_level=True)

from drawdown.engines.spark import compute_spark


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample(tmp_path_factory.mktemp("book"), accounts=120, days=500, seed=3)


def test_spark_artifacts_are_byte_identical_to_the_local_engine(book: Path, tmp_path: Path) -> None:
    params = load_params(overrides={"reset": {"start_date": "2026-10-05"}})
    params = params.with_overrides({"source": {"uri": str(book)}})
    compute_all(book, params).write(tmp_path / "whole")
    on_spark, _ = compute_spark(book, params, 3, tmp_path / "work", "local[2]")
    on_spark.write(tmp_path / "spark")
    compared = filecmp.dircmp(tmp_path / "whole", tmp_path / "spark")
    assert compared.diff_files + compared.left_only + compared.right_only == []
    assert compared.common_files


def test_spark_from_a_duckdb_file_equals_the_whole_book(tmp_path: Path) -> None:
    # the database's usage streamed into the routing, sorted per shard (no _row), rejects merged
    pytest.importorskip("duckdb")
    from drawdown.inputs.warehouse import write_duckdb_book
    from run.test_shards import write_rejecting_book

    database = tmp_path / "book.duckdb"
    write_duckdb_book(database, write_rejecting_book(tmp_path / "book"), events_per_day=2)
    uri = f"duckdb://{database}"
    params = load_params().with_overrides({"source": {"uri": uri}})
    compute_all(uri, params).write(tmp_path / "whole")
    assert (tmp_path / "whole" / "rejects" / "usage.csv").is_file()
    on_spark, _ = compute_spark(uri, params, 3, tmp_path / "work", "local[2]")
    on_spark.write(tmp_path / "spark")
    compared = filecmp.dircmp(tmp_path / "whole", tmp_path / "spark")
    assert compared.diff_files + compared.left_only + compared.right_only == []
