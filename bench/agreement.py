"""Check the DuckDB reference against drawdown's artifacts on one book: the comparison in
``make bench`` is like for like only if both compute the same numbers.

    .venv/bin/python bench/agreement.py bench/books/M --params params/sample.yaml

Every result of ``duckdb_reference.compute`` is matched row by row (on its key) with the artifact
holding the same metrics: account_health, ttfbe_cohorts, meter_months, overage_cases and the grr /
nrr of segment_summary. Keys must match both ways; floats agree within a relative 1e-9 (the
reference sums in plain floating point, drawdown in fixed point); everything else is equal.
Prints each disagreement (at most a few per column) and exits 1 when there is any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl

from drawdown.api import compute_all
from drawdown.params import Params, load_params

try:  # run as a script (bench/ on sys.path) or imported as bench.agreement
    from duckdb_reference import compute
except ModuleNotFoundError:  # pragma: no cover
    from bench.duckdb_reference import compute

RELATIVE = 1e-9
SHOWN = 3
"""Disagreeing rows quoted per column."""

KEYS = {
    "account_health": ("account_health", ["account_id"]),
    "ttfbe_cohorts": ("ttfbe_cohorts", ["segment", "cohort_month"]),
    "meter_months": ("meter_months", ["account_id", "meter", "month"]),
    "overage_cases": ("overage_cases", ["account_id"]),
    "retention": ("segment_summary", ["segment"]),
}
"""Reference result -> (drawdown artifact, key)."""


def disagreements(
    artifacts: dict[str, pl.DataFrame], reference: dict[str, pl.DataFrame]
) -> list[str]:
    """Every difference between the reference results and drawdown's artifacts, one line each."""
    lines = []
    for name, frame in reference.items():
        artifact, key = KEYS[name]
        lines += _compare(name, artifacts[artifact], frame, key)
    return lines


def _compare(name: str, ours: pl.DataFrame, theirs: pl.DataFrame, key: list[str]) -> list[str]:
    columns = [column for column in theirs.columns if column not in key]
    joined = ours.select(*key, *columns).join(
        theirs, on=key, how="full", coalesce=True, suffix="_ref", nulls_equal=True
    )
    lines = []
    only_ours = ours.join(theirs, on=key, how="anti").height
    only_theirs = theirs.join(ours, on=key, how="anti").height
    if only_ours or only_theirs:
        lines.append(
            f"{name}: {only_ours} rows only in drawdown, {only_theirs} only in the reference"
        )
    for column in columns:
        a, b = pl.col(column), pl.col(f"{column}_ref")
        dtype = theirs.schema[column]
        if dtype.is_float() or ours.schema[column].is_float():
            a, b = a.cast(pl.Float64), b.cast(pl.Float64)
            close = (a == b) | (
                (a - b).abs() <= RELATIVE * pl.max_horizontal(a.abs(), b.abs(), 1.0)
            )
        else:
            close = a.cast(theirs.schema[column]) == b
        bad = joined.filter(~close.fill_null(a.is_null() & b.is_null()))
        if bad.height:
            sample = bad.select(*key, column, f"{column}_ref").head(SHOWN).rows()
            lines.append(f"{name}.{column}: {bad.height} rows differ, e.g. {sample}")
    return lines


def check(folder: str | Path, params: Params) -> list[str]:
    """Run both on the book and list their disagreements."""
    artifacts = compute_all(folder, params).tables
    return disagreements(artifacts, compute(folder, params))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--params", type=Path)
    args = parser.parse_args(argv)
    params = load_params(args.params) if args.params else load_params()
    lines = check(args.folder, params)
    print("\n".join(lines) or f"the reference agrees with drawdown on {args.folder}")
    return 1 if lines else 0


if __name__ == "__main__":
    sys.exit(main())
