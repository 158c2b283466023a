"""The bench table is built from its measures (the digests that pin the speed work's numbers are
in tests/test_golden.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location(
        "bench_run", Path(__file__).resolve().parents[1] / "bench" / "run.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


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
        "cold_run": measure,
        "one_more_review": measure,
        "warm_rerun": measure,
        "reviews_batch": measure,
        "batch": 100,
        "unchanged_rerun": measure,
    }
    compute_only = {key: row[key] for key in ("size", "accounts", "usage_rows", "compute")}
    lines = bench.table([row, compute_only | {"size": "L"}]).splitlines()
    assert len(lines) == 4 and lines[2].startswith("| S | 300 | 200,000 | 1.0 (2.0) / 300 |")
    assert "| 100 reviews: 1.0 (2.0) | 1.0 (2.0) |" in lines[2]
    assert lines[3].endswith("| not run | not run | not run | not run | not run |")
