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


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_run", BENCH / "run.py")
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
