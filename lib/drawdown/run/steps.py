"""What each pipeline step does, as library calls: the compute notebooks call these one per cell.

A run folder holds the validated input snapshot (``work/book/<table>.parquet``, written once by
``drawdown run`` after validation) and the artifacts each step writes (``artifacts/``). A notebook
opened in JupyterLab with its default parameters builds the snapshot from ``data`` itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from drawdown.artifacts import conform, write_json, write_rejects
from drawdown.inputs.contract import TABLES, Book
from drawdown.inputs.validate import ValidatedBook, load_book
from drawdown.metrics import (
    health_stage,
    overconsumption_stage,
    portfolio_stage,
    reset_stage,
    resolve_as_of,
)
from drawdown.params import Params
from drawdown.reports.exports import write_exports
from drawdown.reports.inert import spreadsheet_cells

if TYPE_CHECKING:
    from drawdown.reports.render import ReportRenderer

__all__ = [
    "ValidatedBook",
    "ensure_artifacts",
    "export",
    "health_stage",
    "history_step",
    "open_run",
    "overconsumption_stage",
    "portfolio_stage",
    "rated_usage",
    "read_artifacts",
    "reset_stage",
    "resolve_as_of",
    "validate_source",
    "write_artifacts",
    "write_snapshot",
]

BOOK_FOLDER = Path("work") / "book"
RATED = Path("work") / "rated_usage.parquet"
ARTIFACTS = Path("artifacts")
PREVIOUS_MONTH = ARTIFACTS / "previous_month"
PREVIOUS_WEEK = ARTIFACTS / "previous_week"


def validate_source(params: Params) -> ValidatedBook:
    """Read and validate ``params.source``; structural problems raise InputError (exit 2)."""
    return load_book(params.source.uri, params)


def write_snapshot(validated: ValidatedBook, run_dir: Path) -> None:
    """Write the validated book, its rated usage, data_quality.json and rejects/ into the run
    folder."""
    folder = Path(run_dir) / BOOK_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    frames = pl.collect_all(list(validated.book.tables().values()))
    for table, frame in zip(TABLES, frames, strict=True):
        frame.write_parquet(folder / f"{table}.parquet", statistics=False)
    validated.rated.write_parquet(Path(run_dir) / RATED, statistics=False)
    artifacts = Path(run_dir) / ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    write_json(artifacts / "data_quality.json", validated.quality.to_json())
    write_rejects(artifacts, rejects_as_written(validated))


def rejects_as_written(validated: ValidatedBook) -> dict[str, pl.DataFrame]:
    """The rejected rows as their CSV files hold them: text cells safe to open in a spreadsheet."""
    return {table: spreadsheet_cells(frame) for table, frame in validated.rejects.items()}


def open_run(run_dir: str | Path, params: Params, data: str | Path | None = None) -> Book:
    """The validated book of a run folder; when the snapshot is missing (a notebook opened by
    hand), validate ``data`` (default ``params.source.uri``) and write it first."""
    folder = Path(run_dir) / BOOK_FOLDER
    if not (folder / "usage.parquet").exists():
        write_snapshot(load_book(data or params.source.uri, params), Path(run_dir))
    return Book(**{table: pl.scan_parquet(folder / f"{table}.parquet") for table in TABLES})


def rated_usage(run_dir: str | Path) -> pl.LazyFrame:
    """The run's rated usage (``rate_usage`` of the snapshot), computed once at validation."""
    return pl.scan_parquet(Path(run_dir) / RATED)


def history_step(
    book: Book, params: Params, rated: pl.LazyFrame
) -> dict[str, dict[str, pl.DataFrame]]:
    """The same book seen earlier, for comparisons: at as_of minus one month (account_health,
    segment_summary, overage_cases) and at as_of minus seven days (overage_cases)."""
    as_of = resolve_as_of(book, params)
    month_ago = pl.select(pl.lit(as_of).dt.offset_by("-1mo")).item()
    week_ago = pl.select(pl.lit(as_of).dt.offset_by("-7d")).item()
    return {
        "previous_month": _seen_at(book, params, rated, month_ago, with_summary=True),
        "previous_week": _seen_at(book, params, rated, week_ago, with_summary=False),
    }


def _seen_at(
    book: Book, params: Params, rated: pl.LazyFrame, as_of: date, with_summary: bool
) -> dict[str, pl.DataFrame]:
    earlier = params.with_overrides({"as_of": as_of.isoformat()})
    frames = health_stage(book, earlier, rated)
    frames |= overconsumption_stage(book, earlier, rated, frames["account_health"])
    if not with_summary:
        return {"overage_cases": frames["overage_cases"]}
    health, cases = frames["account_health"], frames["overage_cases"]
    frames |= portfolio_stage(book, earlier, health, cases, frames["daily_spend"])
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


def render(renderer: ReportRenderer, notebooks: Sequence[Path]) -> list[Path]:
    """Finish rendering the executed report notebooks and publish the files
    (``drawdown.reports.render.ReportRenderer``, which started on each as it finished executing)."""
    return renderer.finish(notebooks)


def safe_filename(account_id: str) -> str:
    """A file-name-safe, unique stand-in for an account id (``drawdown.reports.render``)."""
    from drawdown.reports.render import safe_filename as _safe

    return _safe(account_id)


def _collect(**lazy: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


def ensure_artifacts(
    run_dir: str | Path, book: Book, params: Params, *names: str
) -> dict[str, pl.DataFrame]:
    """Artifacts earlier steps wrote; in a notebook run by hand, the missing ones are computed
    (and written) first, so every compute notebook runs top to bottom on its own."""
    folder = Path(run_dir) / ARTIFACTS
    rated = rated_usage(run_dir)
    if not (folder / "account_health.parquet").exists():
        write_artifacts(health_stage(book, params, rated), run_dir)
    if "overage_cases" in names and not (folder / "overage_cases.parquet").exists():
        health = read_artifacts(run_dir, "account_health")["account_health"]
        write_artifacts(overconsumption_stage(book, params, rated, health), run_dir)
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
