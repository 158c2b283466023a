"""The bench table is built from its measures (the digests that pin the speed work's numbers are
in tests/test_golden.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from drawdown.params import load_params

BENCH = Path(__file__).resolve().parents[1] / "bench"


def test_the_duckdb_reference_agrees_with_the_artifacts(small_book: Path) -> None:
    # the speed reference computes the same numbers as drawdown, so make bench compares like
    # for like (bench/agreement.py does the same on the M book)
    sys.path.insert(0, str(BENCH))
    try:
        agreement = importlib.import_module("agreement")
    finally:
        sys.path.remove(str(BENCH))
    params = load_params(overrides={"reset": {"start_date": "2026-10-05"}})
    assert agreement.check(small_book, params) == []


def _load_script(name: str, path: Path):
    """A bench script imported as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    return _load_script("bench_run", BENCH / "run.py")


def test_median_takes_each_field_separately(bench) -> None:
    # walls 1, 5, 3 -> 3; cpus 2, 2, 9 -> 2
    measures = [
        bench.Measure(1, 2, 10, 10),
        bench.Measure(5, 2, 30, 40),
        bench.Measure(3, 9, 20, 5),
    ]
    assert bench.median(measures) == bench.Measure(3, 2, 20, 10)


def test_table_has_a_row_per_size(bench) -> None:
    measure = {"wall": 1.0, "cpu": 2.0, "rss_mb": 300.0, "tree_mb": 900.0}
    row = {
        "size": "S",
        "accounts": 300,
        "usage_rows": 200_000,
        "compute": measure,
        "reference": measure | {"wall": 2.0},
        "ratio": 0.5,
        "cold_run": measure,
        "one_more_review": measure,
        "warm_rerun": measure,
        "reviews_batch": measure,
        "batch": 100,
        "unchanged_rerun": measure,
    }
    compute_only = {
        key: row[key] for key in ("size", "accounts", "usage_rows", "compute", "reference", "ratio")
    }
    lines = bench.table([row, compute_only | {"size": "L"}]).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith(
        "| S | 300 | 200,000 | 1.0 (2.0) / 300 | 2.0 (2.0) / 300 | 0.50 | 5.00 |"
    )
    assert "| 100 reviews: 1.0 (2.0) | 1.0 (2.0) |" in lines[2]
    assert lines[3].endswith("| not run | not run | not run | not run | not run |")


def test_render_table_puts_quarto_beside_the_fallback_with_the_load(bench) -> None:
    row = {
        "repeat": 3,
        "load_before": (2.0, 3.0, 4.0),
        "load_after": (5.0, 6.0, 7.0),
        "fallback": {"wall": 20.0, "cpu": 30.0, "rss_mb": 1.0, "tree_mb": 1.0},
        "quarto": {"wall": 30.0, "cpu": 50.0, "rss_mb": 1.0, "tree_mb": 1.0},
    }
    lines = bench.render_table(row).splitlines()
    assert lines[2] == "| nbconvert + Chromium (fallback) | 20.0 | 30.0 | |"
    assert lines[3] == "| Quarto | 30.0 | 50.0 | 1.50 |"
    assert (
        lines[-1] == "Load average (1 / 5 / 15 min): before 2.0 / 3.0 / 4.0; after 5.0 / 6.0 / 7.0."
    )


def test_the_fallback_runs_without_quarto(bench, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/q/quarto")
    envs = bench.renderer_envs()
    assert (
        "QUARTO_PATH" not in envs["fallback"] and envs["quarto"]["QUARTO_PATH"] == "/opt/q/quarto"
    )


@pytest.fixture(scope="module")
def bench_shards():
    return _load_script("bench_shards", BENCH / "shards.py")


def test_tiling_makes_distinct_accounts_and_contracts(bench_shards, tmp_path: Path) -> None:
    # the 200,000-account bench book is L tiled: each copy's accounts and contracts are new ids,
    # a null account stays null (a portfolio-level activity), the rest of each row unchanged
    import polars as pl

    pl.DataFrame(
        {
            "contract_id": ["A1-C1", "A1-C2"],
            "account_id": ["A1", None],
            "renewal_of": [None, "A1-C1"],
        }
    ).write_parquet(tmp_path / "contracts.parquet")
    bench_shards.tile(tmp_path, tmp_path / "out", 3)
    tiled = pl.read_parquet(tmp_path / "out" / "contracts.parquet")
    assert tiled["contract_id"].to_list() == [
        "A1-C1",
        "A1-C2",
        "T1A1-C1",
        "T1A1-C2",
        "T2A1-C1",
        "T2A1-C2",
    ]
    assert tiled["account_id"].to_list() == ["A1", None, "T1A1", None, "T2A1", None]
    assert tiled["renewal_of"].to_list() == [None, "A1-C1", None, "T1A1-C1", None, "T2A1-C1"]


def test_the_shard_row_reads_the_largest_process_and_the_load(bench_shards) -> None:
    measure = bench_shards.Measure(
        wall=20.0,
        cpu=30.0,
        rss_mb=2_048.0,
        driver_mb=1_024.0,
        worker_mb=2_048.0,
        tree_mb=4_096.0,
        load_before=[1.5, 1.0, 1.0],
        load_after=[2.5, 1.0, 1.0],
    )
    result = {"book": "L", "accounts": 50_000, "usage_rows": 10_000_000, "shards": 8}
    line = bench_shards.row(result | {"measure": bench_shards.asdict(measure)})
    assert (
        line
        == "| L | 50,000 | 10,000,000 | 8 | 20.0 | 30.0 | 2.00 | 2,048 | 1,024 | 2,048 | 4,096 | 1.5 → 2.5 |"
    )
