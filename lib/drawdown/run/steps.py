"""What each pipeline step does, as library calls: the compute notebooks call these one per cell.

A run folder holds the validated input snapshot (``work/book/<table>.parquet`` and the rated
usage, written once by ``drawdown run`` after validation; ``read_book``) and the artifacts each
step writes (``artifacts/``). A notebook opened in JupyterLab with its default parameters builds
the snapshot from ``data`` itself.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from drawdown.artifacts import (
    COMPARED_WITH,
    artifact_exists,
    book_accounts,
    compared_with_run,
    scan_artifact,
    write_artifact,
    write_artifact_to,
    write_json,
    write_rejects,
    write_working,
)
from drawdown.errors import ParamsError
from drawdown.inputs.contract import COLUMNS, TABLES, Book
from drawdown.inputs.validate import ValidatedBook, load_book
from drawdown.metrics import (
    WEEK_DAYS,
    actions_stage,
    changes_stage,
    forecast_stage,
    health_stage,
    overconsumption_stage,
    portfolio_stage,
    reset_stage,
    resolve_as_of,
    seen_at,
)
from drawdown.metrics.actions import LADDER
from drawdown.metrics.reset import with_csm_books
from drawdown.params import Params, quote
from drawdown.reports.data import crossings_ahead
from drawdown.reports.exports import WORKBOOK, workbook_sheets, write_exports, write_workbook
from drawdown.reports.inert import spreadsheet_cells
from drawdown.run.folders import LATEST

if TYPE_CHECKING:
    from drawdown.reports.render import ReportRenderer

__all__ = [
    "ValidatedBook",
    "actions_stage",
    "ensure_artifacts",
    "export",
    "forecast_stage",
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
USAGE = "usage"
"""The book's one table the snapshot does not write on its own (``write_book``)."""
RATED = Path("work") / "rated_usage.parquet"
ARTIFACTS = Path("artifacts")
PREVIOUS_MONTH = ARTIFACTS / "previous_month"
PREVIOUS_WEEK = ARTIFACTS / "previous_week"
CHANGES_READS = ("account_health", "overage_cases")
EXPORTS = ("overconsumption_cases.csv", "alert_digest.md", WORKBOOK)
"""The files ``export`` writes into ``<run>/exports/``."""


def validate_source(params: Params) -> ValidatedBook:
    """Read and validate ``params.source``; structural problems raise InputError (exit 2)."""
    return load_book(params.source.uri, params)


def check_as_of(book: Book, as_of: date) -> None:
    """ParamsError (exit 2) for an as_of outside the data's years: from 1 January of the year
    before its earliest contract start or usage date to 31 December of the year after its latest
    contract end, start or usage date (docs/reliability.md#guarantees)."""
    dates = pl.concat(
        [
            book.usage.select(pl.col("usage_date").alias("day")),
            book.contracts.select(pl.col("start_date").alias("day")),
            book.contracts.select(pl.col("end_date").alias("day")),
        ]
    ).select(pl.col("day").min().alias("first"), pl.col("day").max().alias("last"))
    first, last = dates.collect().row(0)
    if first is None:
        return
    earliest, latest = date(first.year - 1, 1, 1), date(last.year + 1, 12, 31)
    if not earliest <= as_of <= latest:
        raise ParamsError(
            f"as_of: {as_of} is outside the data's years; it accepts {earliest} to {latest} "
            f"(the data runs from {first} to {last})"
        )


def book_segments(book: Book) -> list[str]:
    """The segments of the book's accepted accounts, sorted."""
    frame = book.accounts.select(pl.col("segment").unique().sort()).collect()
    return frame["segment"].to_list()


def check_scope(segments: Sequence[str], params: Params) -> None:
    """ParamsError (exit 2) when ``scope.segment`` is not one of the book's ``segments``."""
    wanted = params.scope.segment
    if wanted is None or wanted in segments:
        return
    listed = ", ".join(quote(segment, 60) for segment in segments[:MAX_LISTED])
    more = f" and {len(segments) - MAX_LISTED:,} more" if len(segments) > MAX_LISTED else ""
    raise ParamsError(
        f"scope.segment: {quote(wanted)} is not a segment of the book; it accepts {listed}{more}"
    )


MAX_LISTED = 20
"""Most names an error message lists."""


def scope_frames(
    frames: dict[str, pl.DataFrame], health: pl.DataFrame, segment: str | None
) -> dict[str, pl.DataFrame]:
    """``frames`` narrowed to the accounts of ``segment`` (None: all) by their account_id."""
    if segment is None:
        return frames
    ids = health.filter(pl.col("segment") == segment)["account_id"].implode()
    return {name: frame.filter(pl.col("account_id").is_in(ids)) for name, frame in frames.items()}


def write_snapshot(validated: ValidatedBook, run_dir: Path) -> None:
    """Write the validated book, its rated usage, data_quality.json and rejects/ into the run
    folder."""
    write_book(validated, Path(run_dir) / BOOK_FOLDER, Path(run_dir) / RATED)
    artifacts = Path(run_dir) / ARTIFACTS
    artifacts.mkdir(parents=True, exist_ok=True)
    write_json(artifacts / "data_quality.json", validated.quality.to_json())
    write_rejects(artifacts, rejects_as_written(validated))


def write_book(validated: ValidatedBook, folder: Path, rated: Path) -> None:
    """Each table of the validated book as ``<folder>/<table>.parquet`` but usage, and its rated
    usage as ``rated`` (working files: ``write_working``). The daily usage is not written on its
    own: it is the rated usage's first columns, in its order (``read_book``)."""
    folder.mkdir(parents=True, exist_ok=True)
    tables = {table: frame for table, frame in validated.book.tables().items() if table != USAGE}
    for table, frame in zip(tables, pl.collect_all(list(tables.values())), strict=True):
        write_working(frame, folder / f"{table}.parquet")
    write_working(validated.rated, rated)


def read_book(folder: Path, rated: Path) -> Book:
    """The book ``write_book`` wrote, lazily: usage is the rated usage's ``COLUMNS["usage"]``."""
    tables = {
        table: pl.scan_parquet(folder / f"{table}.parquet") for table in TABLES if table != USAGE
    }
    return Book(**tables, usage=pl.scan_parquet(rated).select(list(COLUMNS[USAGE])))


def rejects_as_written(validated: ValidatedBook) -> dict[str, pl.DataFrame]:
    """The rejected rows as their CSV files hold them: text cells safe to open in a spreadsheet."""
    return {table: spreadsheet_cells(frame) for table, frame in validated.rejects.items()}


def open_run(run_dir: str | Path, params: Params, data: str | Path | None = None) -> Book:
    """The validated book of a run folder; when the snapshot is missing (a notebook opened by
    hand), validate ``data`` (default ``params.source.uri``) and write it first."""
    if not (Path(run_dir) / RATED).exists():
        write_snapshot(load_book(data or params.source.uri, params), Path(run_dir))
    return read_book(Path(run_dir) / BOOK_FOLDER, Path(run_dir) / RATED)


def rated_usage(run_dir: str | Path) -> pl.LazyFrame:
    """The run's rated usage (``rate_usage`` of the snapshot), computed once at validation."""
    return pl.scan_parquet(Path(run_dir) / RATED)


def history_step(
    book: Book, params: Params, rated: pl.LazyFrame, daily: pl.DataFrame | None = None
) -> dict[str, dict[str, pl.DataFrame]]:
    """The same book seen earlier, for comparisons: at as_of minus one month (account_health,
    overage_cases, segment_summary) and at as_of minus seven days (account_health,
    overage_cases: what ``changes`` compares with when there is no previous run).

    ``daily`` is the run's daily_spend artifact: both earlier books take their spend from it
    instead of aggregating ``rated`` again (``seen_at``)."""
    as_of = resolve_as_of(book, params)
    month_ago = pl.select(pl.lit(as_of).dt.offset_by("-1mo")).item()
    return {
        "previous_month": seen_at(book, params, rated, month_ago, True, daily),
        "previous_week": seen_at(book, params, rated, week_ago(as_of), daily=daily),
    }


def week_ago(as_of: date) -> date:
    """A − 7 days: the book "what changed" compares with when there is no previous run."""
    return as_of - timedelta(days=WEEK_DAYS)


def write_artifacts(
    frames: Mapping[str, pl.DataFrame | pl.LazyFrame], run_dir: str | Path, subfolder: str = ""
) -> list[Path]:
    """Write artifacts into ``<run_dir>/artifacts/[subfolder/]`` (``<name>.parquet``, or the
    folder of parts of a partitioned one); return the paths."""
    folder = Path(run_dir) / ARTIFACTS / subfolder
    folder.mkdir(parents=True, exist_ok=True)
    quality = Path(run_dir) / ARTIFACTS / "data_quality.json"
    accounts = book_accounts(json.loads(quality.read_text())) if quality.exists() else None
    return [write_artifact_to(name, frame, folder, accounts) for name, frame in frames.items()]


def read_artifacts(run_dir: str | Path, *names: str) -> dict[str, pl.DataFrame]:
    """Read artifacts written by earlier steps, for the metric stages and the exports.

    A partitioned series (daily_spend, account_months, meter_months) comes part after part,
    not in account order: no stage's result depends on the order of the rows it reads
    (``tests/metrics/test_stages.py`` checks each to the bit on shuffled series)."""
    folder = Path(run_dir) / ARTIFACTS
    scans = [scan_artifact(folder, name, in_account_order=False) for name in names]
    return dict(zip(names, pl.collect_all(scans), strict=True))


@dataclass(frozen=True)
class PreviousRun:
    """What a run's changes compare with: a run folder, or (``folder`` None) the same book as of
    A − 7 days (``artifacts/previous_week``); ``as_of`` is that run's as-of date."""

    folder: Path | None
    as_of: date

    def describe(self) -> dict[str, str | None]:
        """For the manifest: the folder compared with (null: the book at as_of) and its as_of."""
        return {"run": None if self.folder is None else str(self.folder), "as_of": str(self.as_of)}


def previous_run(runs: Path, params: Params, as_of: date) -> PreviousRun:
    """The run this run's changes compare with (docs/metrics.md#changes-since-the-previous-run).

    ``params.compare_to`` when set (a drawdown run folder, else ParamsError); else the run
    ``<runs>/latest`` points at when it is of an earlier as-of date (a re-run of the same date
    or a back-fill does not compare with it); else the book as of A − 7 days.
    """
    if params.compare_to is not None:
        found = run_as_of(params.compare_to)
        if found is None:
            raise ParamsError(
                f"compare_to: {params.compare_to} is not a drawdown run folder (a succeeded run "
                f"with manifest.json and artifacts/{CHANGES_READS[0]}.parquet, "
                f"{CHANGES_READS[1]}.parquet)"
            )
        return PreviousRun(params.compare_to, found)
    latest = runs / LATEST
    found = run_as_of(latest)
    if found is not None and found < as_of:
        return PreviousRun(latest.resolve(), found)
    return PreviousRun(None, week_ago(as_of))


def run_as_of(folder: Path) -> date | None:
    """The as-of date of a succeeded drawdown run folder holding what ``changes`` reads; else
    None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        for name in CHANGES_READS:
            pl.read_parquet_schema(folder / ARTIFACTS / f"{name}.parquet")
        if manifest["status"] != "succeeded":
            return None
        return date.fromisoformat(manifest["as_of"])
    except (OSError, ValueError, KeyError, TypeError, pl.exceptions.PolarsError):
        return None


def changes_step(run_dir: Path, previous: PreviousRun) -> list[Path]:
    """``artifacts/changes.parquet``: this run's account_health and overage_cases against
    ``previous``'s. Runs after the cached metrics (it depends on the previous run), into a fresh
    file (never through a link into the cache). Its metadata says whether ``previous`` is a run
    or the book recomputed a week earlier (``artifacts.COMPARED_WITH``), which the reports and
    the digest say."""
    source = previous.folder / ARTIFACTS if previous.folder else run_dir / PREVIOUS_WEEK
    before = {name: pl.read_parquet(source / f"{name}.parquet") for name in CHANGES_READS}
    frames = changes_stage(read_artifacts(run_dir, *CHANGES_READS), before, previous.as_of)
    path = run_dir / ARTIFACTS / "changes.parquet"
    path.unlink(missing_ok=True)
    compared_with = "book" if previous.folder is None else "run"
    write_artifact("changes", frames["changes"], path, {COMPARED_WITH: compared_with})
    return [path]


def export(run_dir: Path, params: Params) -> list[Path]:
    """The CRM case file, the alert digest and the accounts workbook into
    ``<run_dir>/exports/``, narrowed to ``scope.segment`` when one is set."""
    frames = read_artifacts(
        run_dir,
        "overage_cases",
        "account_actions",
        "account_health",
        "segment_summary",
        "account_budgets",
    )
    for name in ("changes", "consumption_forecast", "limit_crossing"):
        if (path := run_dir / ARTIFACTS / f"{name}.parquet").exists():
            frames[name] = pl.read_parquet(path)
    summary = frames.pop("segment_summary")
    segment = params.scope.segment
    if segment is not None:
        summary = summary.filter(pl.col("segment") == segment)
    frames = scope_frames(frames, frames["account_health"], segment)
    changes, forecast = frames.get("changes"), frames.get("consumption_forecast")
    crossing = frames.get("limit_crossing")
    crossings = None
    if crossing is not None:
        crossings = crossings_ahead(
            crossing, frames["account_health"], frames["account_actions"], params.as_of
        )
    written = write_exports(
        frames["overage_cases"],
        frames["account_actions"],
        changes,
        params.as_of,
        params.currency,
        run_dir / "exports",
        compared_with_run(run_dir / ARTIFACTS / "changes.parquet"),
    )
    sheets = workbook_sheets(
        frames["account_health"],
        frames["account_actions"],
        frames["overage_cases"],
        summary,
        changes,
        frames["account_budgets"],
        forecast,
        crossings,
    )
    return [*written, write_workbook(sheets, run_dir / "exports" / WORKBOOK, params.currency)]


def csm_books_step(run_dir: Path, params: Params) -> list[Path]:
    """The CSM books (``reports/csm/<csm>.html``, ``drawdown.reports.books``), then reset item 1
    measured on the books written (``measure_csm_books``)."""
    from drawdown.reports.books import write_csm_books
    from drawdown.reports.data import NO_CSM, load_tables

    run = load_tables(run_dir, ("account_health", "account_actions", "overage_cases"), params.as_of)
    written = write_csm_books(run, run_dir, params.report.brand, params.currency)
    measure_csm_books(run_dir, [csm for csm in written if csm != NO_CSM], run.as_of)
    return list(written.values())


def measure_csm_books(run_dir: Path, written: Sequence[str], as_of: date) -> None:
    """Reset item 1 (pending in the cached metrics: no book exists then) measured on the CSM
    books this run wrote (``written``: their CSMs; none in a run without reports) with
    ``metrics.reset.with_csm_books``, into a fresh ``reset_tracker.parquet`` (never through a
    link into the cache)."""
    tracker_path = Path(run_dir) / ARTIFACTS / "reset_tracker.parquet"
    if not tracker_path.exists():
        return
    tracker = with_csm_books(
        pl.read_parquet(tracker_path),
        pl.read_parquet(Path(run_dir) / ARTIFACTS / "account_health.parquet"),
        written,
        as_of,
    )
    tracker_path.unlink()
    write_artifacts({"reset_tracker": tracker}, run_dir)


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
    wants_months = "meter_months" in names and not artifact_exists(folder, "meter_months")
    if wants_months or (
        "overage_cases" in names and not (folder / "overage_cases.parquet").exists()
    ):
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


def actions_summary(actions: pl.DataFrame) -> pl.DataFrame:
    """Accounts per next action, in ladder order."""
    order = pl.col("next_action").replace_strict({name: i for i, name in enumerate(LADDER)})
    return actions.group_by("next_action").agg(pl.len().alias("accounts")).sort(order)


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
