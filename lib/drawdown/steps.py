"""What each pipeline step does, as library calls: the compute notebooks call these one per cell.

A run folder holds the validated input snapshot (``work/book/<table>.parquet``, written once by
``drawdown run`` after validation) and the artifacts each step writes (``artifacts/``). A notebook
opened in JupyterLab with its default parameters builds the snapshot from ``data`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.artifacts import conform
from drawdown.exports import write_exports
from drawdown.metrics import resolve_as_of
from drawdown.metrics.accounts import account_health
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.metrics.overconsumption import MONTHS_SHOWN, meter_months, overage_cases
from drawdown.metrics.rating import rate_usage
from drawdown.metrics.reset import reset_comparison, reset_tracker
from drawdown.metrics.retention import retention
from drawdown.metrics.segments import segment_summary
from drawdown.metrics.series import account_months, daily_spend
from drawdown.params import Params
from drawdown.schema import TABLES, Book
from drawdown.validate import ValidatedBook, load_book

__all__ = [
    "ValidatedBook",
    "account_health_step",
    "export",
    "history_step",
    "open_run",
    "overconsumption_step",
    "portfolio_step",
    "read_artifacts",
    "reset_step",
    "resolve_as_of",
    "validate_source",
    "write_artifacts",
    "write_snapshot",
]

BOOK_FOLDER = Path("work") / "book"
ARTIFACTS = Path("artifacts")
PREVIOUS_MONTH = ARTIFACTS / "previous_month"
PREVIOUS_WEEK = ARTIFACTS / "previous_week"


def validate_source(params: Params) -> ValidatedBook:
    """Read and validate ``params.source``; structural problems raise InputError (exit 2)."""
    return load_book(params.source.uri, params)


def write_snapshot(validated: ValidatedBook, run_dir: Path) -> None:
    """Write the validated book, data_quality.json and rejects/ into the run folder."""
    folder = Path(run_dir) / BOOK_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    frames = pl.collect_all(list(validated.book.tables().values()))
    for table, frame in zip(TABLES, frames, strict=True):
        frame.write_parquet(folder / f"{table}.parquet", statistics=False)
    artifacts = Path(run_dir) / ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    write_json(artifacts / "data_quality.json", validated.quality.to_json())
    if validated.rejects:
        (artifacts / "rejects").mkdir(exist_ok=True)
        for table, rejected in validated.rejects.items():
            rejected.write_csv(artifacts / "rejects" / f"{table}.csv")


def open_run(run_dir: str | Path, params: Params, data: str | Path | None = None) -> Book:
    """The validated book of a run folder; when the snapshot is missing (a notebook opened by
    hand), validate ``data`` (default ``params.source.uri``) and write it first."""
    folder = Path(run_dir) / BOOK_FOLDER
    if not (folder / "usage.parquet").exists():
        write_snapshot(load_book(data or params.source.uri, params), Path(run_dir))
    return Book(**{table: pl.scan_parquet(folder / f"{table}.parquet") for table in TABLES})


def account_health_step(book: Book, params: Params) -> dict[str, pl.DataFrame]:
    """Usage health and commit bands: account_health, ttfbe_cohorts, daily_spend, account_months."""
    as_of = resolve_as_of(book, params)
    rated = rate_usage(book).collect().lazy()
    daily = daily_spend(rated, as_of).collect().lazy()
    health = account_health(book, rated, params, as_of)
    return _collect(
        account_health=health,
        ttfbe_cohorts=ttfbe_cohorts(health, params.health),
        daily_spend=daily,
        account_months=account_months(book, daily, as_of),
    )


def overconsumption_step(
    book: Book, params: Params, health: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """Meters against their limits and the ranked, triaged cases: meter_months, overage_cases."""
    as_of = resolve_as_of(book, params)
    shown = max(MONTHS_SHOWN, params.overconsumption.lookback_months)
    months = meter_months(book, rate_usage(book), as_of, shown).collect().lazy()
    return _collect(
        meter_months=months,
        overage_cases=overage_cases(months, health.lazy(), book, params, as_of),
    )


def portfolio_step(
    book: Book, params: Params, health: pl.DataFrame, cases: pl.DataFrame, daily: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The segment summary (bands, TTFBE, cases, GRR/NRR per segment and All)."""
    as_of = resolve_as_of(book, params)
    ratios = retention(book.accounts, daily.lazy(), as_of)
    return _collect(segment_summary=segment_summary(health.lazy(), cases.lazy(), ratios))


def reset_step(
    book: Book, params: Params, health: pl.DataFrame, cases: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The 60-day reset tracker and its start-vs-now comparison (requires reset.start_date)."""
    as_of = resolve_as_of(book, params)
    rated = rate_usage(book).collect().lazy()
    inputs = (book, rated, health.lazy(), cases.lazy(), params, as_of)
    return _collect(
        reset_tracker=reset_tracker(*inputs), reset_comparison=reset_comparison(*inputs)
    )


def history_step(book: Book, params: Params) -> dict[str, dict[str, pl.DataFrame]]:
    """The same book seen earlier, for comparisons: at as_of minus one month (account_health,
    segment_summary, overage_cases) and at as_of minus seven days (overage_cases)."""
    as_of = resolve_as_of(book, params)
    month_ago = pl.select(pl.lit(as_of).dt.offset_by("-1mo")).item()
    week_ago = pl.select(pl.lit(as_of).dt.offset_by("-7d")).item()
    return {
        "previous_month": _snapshot_at(book, params, month_ago, with_summary=True),
        "previous_week": _snapshot_at(book, params, week_ago, with_summary=False),
    }


def _snapshot_at(
    book: Book, params: Params, as_of: date, with_summary: bool
) -> dict[str, pl.DataFrame]:
    earlier = params.with_overrides({"as_of": as_of.isoformat()})
    frames = account_health_step(book, earlier)
    frames |= overconsumption_step(book, earlier, frames["account_health"])
    if not with_summary:
        return {"overage_cases": frames["overage_cases"]}
    frames |= portfolio_step(
        book, earlier, frames["account_health"], frames["overage_cases"], frames["daily_spend"]
    )
    return {name: frames[name] for name in ("account_health", "segment_summary", "overage_cases")}


def write_artifacts(
    frames: dict[str, pl.DataFrame], run_dir: str | Path, subfolder: str = ""
) -> list[Path]:
    """Write artifacts as ``<run_dir>/artifacts/[subfolder/]<name>.parquet``; return the paths."""
    folder = Path(run_dir) / ARTIFACTS / subfolder
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        path = folder / f"{name}.parquet"
        conform(name, frame).write_parquet(path, statistics=False)
        paths.append(path)
    return paths


def read_artifacts(run_dir: str | Path, *names: str) -> dict[str, pl.DataFrame]:
    """Read artifacts written by earlier steps."""
    return {name: pl.read_parquet(Path(run_dir) / ARTIFACTS / f"{name}.parquet") for name in names}


def export(run_dir: Path, params: Params) -> list[Path]:
    """The CRM case file and the alert digest into ``<run_dir>/exports/``."""
    cases = pl.read_parquet(run_dir / ARTIFACTS / "overage_cases.parquet")
    previous_path = run_dir / PREVIOUS_WEEK / "overage_cases.parquet"
    previous = pl.read_parquet(previous_path) if previous_path.exists() else None
    return write_exports(cases, previous, params.as_of, params.currency, run_dir / "exports")


def render(notebooks: Sequence[Path], out_dir: Path, formats: Sequence[str]) -> list[Path]:
    """Render executed report notebooks (``drawdown.render``)."""
    from drawdown.render import render_reports

    return render_reports(notebooks, out_dir, formats)


def safe_filename(account_id: str) -> str:
    """A file-name-safe, unique stand-in for an account id (``drawdown.render``)."""
    from drawdown.render import safe_filename as _safe

    return _safe(account_id)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Deterministic, readable JSON."""
    path.write_text(
        json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def _collect(**lazy: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


def ensure_artifacts(
    run_dir: str | Path, book: Book, params: Params, *names: str
) -> dict[str, pl.DataFrame]:
    """Artifacts earlier steps wrote; in a notebook run by hand, the missing ones are computed
    (and written) first, so every compute notebook runs top to bottom on its own."""
    folder = Path(run_dir) / ARTIFACTS
    if not (folder / "account_health.parquet").exists():
        write_artifacts(account_health_step(book, params), run_dir)
    if not (folder / "overage_cases.parquet").exists() and "overage_cases" in names:
        health = read_artifacts(run_dir, "account_health")["account_health"]
        write_artifacts(overconsumption_step(book, params, health), run_dir)
    return read_artifacts(run_dir, *names)


def band_mix(health: pl.DataFrame) -> pl.DataFrame:
    """Accounts per segment and band, with each band's share of the segment."""
    return (
        health.group_by("segment", "band")
        .agg(pl.len().alias("accounts"))
        .with_columns(
            (pl.col("accounts") / pl.col("accounts").sum().over("segment")).round(3).alias("share")
        )
        .sort("segment", "band")
    )


def burn_watchlist(health: pl.DataFrame, limit: int = 15) -> pl.DataFrame:
    """Committed accounts burning too slow or too fast, furthest from pace first."""
    return (
        health.filter(pl.col("burn").is_in(["too_slow", "too_fast"]))
        .with_columns((pl.col("pacing_index") - 1).abs().alias("_distance"))
        .sort("_distance", descending=True)
        .select(
            "account_id",
            "account_name",
            "segment",
            "burn",
            "pacing_index",
            "projected_utilization",
            "band",
        )
        .head(limit)
    )


CASE_COLUMNS = (
    "rank",
    "account_name",
    "segment",
    "meter",
    "pattern",
    "pct_over",
    "overage_amount",
    "triage",
    "status",
)
