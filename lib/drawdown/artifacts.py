"""The metric artifacts of a run (docs/outputs.md#artifacts): their columns, dtypes and how they are written.

``SCHEMAS`` is the contract between the metrics (which must produce exactly these columns, in this
order) and the reports (which read only these files). ``daily_spend``, ``meter_months`` and
``account_months`` carry the series the reports chart; they are ``PARTITIONED``: written as a folder
of files, each holding the accounts of one partition (an account's partition is a stable hash of
its id), so that an account review reads one file, not the book's series. Every artifact has a
subsection listing its columns in docs/outputs.md#artifacts (``tests/test_docs.py`` checks it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

_S, _F, _I, _D, _B = pl.String(), pl.Float64(), pl.Int64(), pl.Date(), pl.Boolean()
_LIST_S = pl.List(pl.String())

SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    # one row per account with a contract covering as_of; docs/metrics.md#commit-utilization-and-bands and docs/metrics.md#usage-health
    "account_health": {
        "account_id": _S,
        "account_name": _S,
        "segment": _S,
        "csm_owner": _S,
        "ae_owner": _S,
        "technical_counterpart": _S,
        "is_strategic": _B,
        "contract_id": _S,
        "commit_amount": _F,
        "term_start": _D,
        "term_end": _D,
        "term_days": _I,
        "elapsed_days": _I,
        "elapsed_fraction": _F,
        "consumed_to_date": _F,
        "utilization": _F,
        "pacing_index": _F,
        "run_rate": _F,
        "remaining_days": _I,
        "projected_consumption": _F,
        "projected_utilization": _F,
        "band_low": _F,
        "band_high": _F,
        "band": _S,
        "burn": _S,
        "exhaustion_date": _D,
        "exhausts_before_term_end": _B,
        "account_value": _F,
        "first_contract_start": _D,
        "first_billable_date": _D,
        "ttfbe_days": _I,
        "cv_28d": _F,
        "is_smooth": _B,
        "workflows_live": _I,
        "workflows_at_90d": _I,
        "workflows_at_180d": _I,
        "two_workflows_date": _D,
        "adoption_stage": _S,
        "early_warnings": _LIST_S,
        "exhaustion_p10": _D,
        "exhaustion_p50": _D,
        "exhaustion_p90": _D,
        "p_exhaust_before_term_end": _F,
    },
    # one row per overconsumption case, in rank order; docs/metrics.md#overconsumption-against-contractual-limits
    "overage_cases": {
        "rank": _I,
        "account_id": _S,
        "account_name": _S,
        "segment": _S,
        "meter": _S,
        "pct_over": _F,
        "pattern": _S,
        "meters_over": _I,
        "months_over": _I,
        "latest_over_month": _D,
        "overage_amount": _F,
        "account_value": _F,
        "priority_score": _F,
        "triage": _S,
        "owner_detect": _S,
        "owner_first_conversation": _S,
        "owner_expansion": _S,
        "missing_owners": _LIST_S,
        "status": _S,
    },
    # one row per segment, then one row "All"; docs/metrics.md#segment-summary
    "segment_summary": {
        "segment": _S,
        "accounts": _I,
        "commit_total": _F,
        "consumed_to_date_total": _F,
        "share_paygo": _F,
        "share_not_live": _F,
        "share_under": _F,
        "share_healthy": _F,
        "share_over": _F,
        "median_ttfbe_days": _F,
        "p75_ttfbe_days": _F,
        "overage_amount": _F,
        "cases_conversation": _I,
        "grr": _F,
        "nrr": _F,
    },
    # one row per (segment, month of first_contract_start); docs/metrics.md#usage-health
    "ttfbe_cohorts": {
        "segment": _S,
        "cohort_month": _D,
        "accounts": _I,
        "live_accounts": _I,
        "median_ttfbe_days": _F,
        "p75_ttfbe_days": _F,
        "share_live_within_target": _F,
    },
    # one row per reset item, in week order; docs/metrics.md#the-60-day-reset-tracker (only when reset.start_date is set)
    "reset_tracker": {
        "item_id": _S,
        "week": _S,
        "due_date": _D,
        "item": _S,
        "measured_as": _S,
        "measured": _F,
        "target": _F,
        "status": _S,
    },
    # the reset's before/after comparison: state at start_date vs at as_of; docs/metrics.md#the-60-day-reset-tracker
    "reset_comparison": {"measure": _S, "at_start": _F, "at_as_of": _F},
    # rated spend per account and day (all meters), zeros not stored; for usage lines and burn-up
    "daily_spend": {"account_id": _S, "usage_date": _D, "amount": _F},
    # per account, meter and calendar month with a limit: the monthly quantities of docs/metrics.md#overconsumption-against-contractual-limits
    "meter_months": {
        "account_id": _S,
        "meter": _S,
        "month": _D,
        "limit": _F,
        "usage": _F,
        "over_units": _F,
        "pct_over": _F,
        "overage_amount": _F,
        "is_over": _B,
        "unit_price": _F,
        "overage_unit_price": _F,
        "pattern": _S,
    },
    # one next action per account of account_health; docs/metrics.md#next-action
    "account_actions": {
        "account_id": _S,
        "next_action": _S,
        "owner": _S,
        "owner_role": _S,
        "days_to_renewal": _I,
        "reason": _S,
        "consumption_last_quarter": _F,
        "consumption_prior_quarter": _F,
        "consumption_change": _F,
    },
    # one row per account with a budget in force at as_of; docs/metrics.md#budget-and-alert-status
    "account_budgets": {
        "account_id": _S,
        "monthly_budget": _F,
        "alert_threshold_pct": _F,
        "enabled_date": _D,
        "month_to_date": _F,
        "budget_used": _F,
        "alert_reached": _B,
    },
    # one row per change since the previous run; docs/metrics.md#changes-since-the-previous-run
    "changes": {
        "account_id": _S,
        "change": _S,
        "from": _S,
        "to": _S,
        "previous_as_of": _D,
    },
    # per account of account_health: p10/p50/p90 of the spend over the next 28 days and to term_end; docs/forecasts.md
    "consumption_forecast": {
        "account_id": _S,
        "horizon": _S,
        "horizon_days": _I,
        "p10": _F,
        "p50": _F,
        "p90": _F,
    },
    # per (account, meter) with a limit in as_of's month: the p50 path against the month's limit; docs/forecasts.md#limit-crossing
    "limit_crossing": {
        "account_id": _S,
        "meter": _S,
        "month": _D,
        "limit": _F,
        "usage_to_date": _F,
        "projected_usage": _F,
        "projected_pct_over": _F,
        "crossing_date": _D,
    },
    # the forecasts made 28, 56 and 84 days before as_of against what happened; docs/forecasts.md#back-test
    "forecast_backtest": {
        "as_of_made": _D,
        "horizon_days": _I,
        "accounts": _I,
        "coverage_p10_p90": _F,
        "mdape_p50": _F,
        "mdape_run_rate": _F,
    },
    # the next term priced three ways at the forecast median; docs/forecasts.md#renewal-scenarios
    "renewal_scenarios": {
        "account_id": _S,
        "renewal_date": _D,
        "scenario": _S,
        "next_term_days": _I,
        "forecast_consumption": _F,
        "commit_amount": _F,
        "overage_amount": _F,
        "cost": _F,
        "is_cheapest": _B,
        "cost_over_cheapest": _F,
    },
    # per account and calendar month: spend, outcomes, cost per outcome, workflows live at month end
    "account_months": {
        "account_id": _S,
        "month": _D,
        "amount": _F,
        "outcome_count": _F,
        "cost_per_outcome": _F,
        "workflows_live": _I,
    },
}

OPTIONAL_ARTIFACTS = ("reset_tracker", "reset_comparison")
RUN_ARTIFACTS = ("changes",)
"""Artifacts a run computes outside the cached metrics: they depend on the previous run."""

COMPARED_WITH = "drawdown.compared_with"
"""The changes artifact's file metadata key: ``run`` when its previous_as_of is a previous
run's, ``book`` when no earlier run was there and the book was recomputed at A − 7 days."""


def compared_with_run(changes: Path) -> bool:
    """Whether the changes artifact at ``changes`` compares with a previous run (not the book
    recomputed a week earlier); a file written before drawdown recorded it counts as a run, and
    so does no file (nothing is compared, nothing said of it)."""
    if not changes.exists():
        return True
    return pl.read_parquet_metadata(changes).get(COMPARED_WITH, "run") == "run"


ROW_GROUP_ROWS = 262_144
"""Rows per Parquet row group of an artifact file (Polars' default size, made explicit). Fixed,
not left to the writer, whose row groups follow the frame's chunks (which differ between a
whole-book, a sharded and a Spark run of the same book): a file written from one frame and one
streamed from the shards' parts (docs/scale.md) then hold the same bytes."""


def write_artifact(
    name: str,
    frame: pl.DataFrame | pl.LazyFrame,
    path: Path,
    metadata: dict[str, str] | None = None,
) -> None:
    """``frame`` conformed to the artifact ``name`` and written to ``path`` (a LazyFrame is
    streamed, never collected whole), with ``metadata`` as the file's key-value metadata; the
    same frame gives the same bytes either way."""
    schema = SCHEMAS[name]
    missing = [column for column in schema if column not in frame.collect_schema()]
    if missing:
        raise ValueError(f"artifact {name} lacks columns {missing}")
    casts = [pl.col(column).cast(dtype) for column, dtype in schema.items()]
    frame = frame.rechunk() if isinstance(frame, pl.DataFrame) else frame
    frame.lazy().select(casts).sink_parquet(
        path, statistics=False, row_group_size=ROW_GROUP_ROWS, metadata=metadata
    )


# -- partitioned artifacts -----------------------------------------------------------------------

PARTITIONED = ("daily_spend", "account_months", "meter_months")
"""The per-account series, written as ``<name>/part-<k>.parquet`` (``write_partitioned``)."""

ACCOUNTS_PER_PART = 6_250
"""A partitioned artifact has one part per this many of its accounts (``part_count``); it is also
the accounts per shard of a sharded run (docs/scale.md), so that each shard writes one part."""


def part_count(accounts: int) -> int:
    """The parts of a partitioned artifact holding ``accounts`` accounts: one per
    ``ACCOUNTS_PER_PART``, at least one."""
    return max(1, -(-accounts // ACCOUNTS_PER_PART))


def account_parts(ids: pl.Series, parts: int) -> pl.Series:
    """Each id's part in [0, parts): the first 8 bytes of its BLAKE2b digest modulo ``parts``.

    Stable across processes, machines and library versions (Polars' own hash is not); computed
    once per distinct id. A null id is part 0. The same hash routes a book's rows into shards.
    """

    def number(value: str | None) -> int:
        if value is None:
            return 0
        digest = hashlib.blake2b(value.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % parts

    return pl.Series(ids.name, [number(value) for value in ids.to_list()], pl.Int32)


def part_path(folder: Path, name: str, part: int) -> Path:
    """The file of part ``part`` of the partitioned artifact ``name`` in ``folder``."""
    return folder / name / f"part-{part:05d}.parquet"


def part_files(folder: Path, name: str) -> list[Path]:
    """The files of a partitioned artifact, in part order (empty when it was not written)."""
    return sorted((folder / name).glob("part-*.parquet"))


def book_accounts(quality: Mapping[str, Any]) -> int | None:
    """The accounts of a book, as its partitioned artifacts count them: the rows of the accounts
    table validation accepted (``data_quality.json``); None without a data-quality record."""
    accounts = quality.get("tables", {}).get("accounts", {})
    return accounts.get("rows_accepted")


def write_partitioned(
    name: str, frame: pl.DataFrame | pl.LazyFrame, folder: Path, accounts: int | None = None
) -> Path:
    """``frame`` (sorted by account_id) written as the parts of artifact ``name``
    (``<folder>/<name>/part-<k>.parquet``), each holding its accounts' rows in ``frame``'s order;
    returns the artifact's folder (replaced). ``part_count(accounts)`` parts: the book's accounts
    (``book_accounts``), so that every series of a book has as many parts as a sharded run of it
    has shards; None: the accounts in ``frame``."""
    ids = None if accounts is not None else _account_ids(frame)
    parts = part_count(accounts if ids is None else ids.len())
    target = _fresh_folder(folder / name)
    if parts == 1:
        write_artifact(name, frame, part_path(folder, name, 0))
        return target
    ids = _account_ids(frame) if ids is None else ids
    owners = pl.DataFrame({"account_id": ids, "_part": account_parts(ids, parts)}).lazy()
    routed = frame.lazy().join(owners, on="account_id", how="left", maintain_order="left")
    if isinstance(frame, pl.DataFrame):  # joined once, not once per part
        routed = routed.collect().lazy()
    for part in range(parts):
        rows = routed.filter(pl.col("_part") == part).drop("_part")
        write_artifact(name, rows, part_path(folder, name, part))
    return target


def _account_ids(frame: pl.DataFrame | pl.LazyFrame) -> pl.Series:
    return frame.lazy().select(pl.col("account_id").unique()).collect()["account_id"]


def write_parts(name: str, shard_files: Sequence[Path], folder: Path, accounts: int | None) -> Path:
    """Artifact ``name`` of a book of ``accounts`` accounts from the files of a sharded run (each
    sorted by account_id, accounts disjoint; file k holding the accounts routed to shard k of
    ``len(shard_files)``): each file is a part when the artifact has as many parts as there are
    shards, else the files are merged and partitioned again (``write_partitioned``). The same
    bytes as from the whole frame."""
    scans = [pl.scan_parquet(path) for path in shard_files]
    if accounts is None or part_count(accounts) != len(scans):
        return write_partitioned(name, merged(scans), folder, accounts)
    target = _fresh_folder(folder / name)
    for part, scan in enumerate(scans):
        write_artifact(name, scan, part_path(folder, name, part))
    return target


def merged(scans: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
    """Frames each sorted by account_id and holding accounts no other holds, merged into one
    frame sorted by account_id (each account's rows in its frame's order), streaming
    (``merge_sorted``, pairwise)."""
    scans = list(scans)
    while len(scans) > 1:
        pairs = zip(scans[::2], scans[1::2], strict=False)
        odd = [scans[-1]] if len(scans) % 2 else []
        scans = [left.merge_sorted(right, "account_id") for left, right in pairs] + odd
    return scans[0]


def scan_artifact(
    folder: Path, name: str, account_id: str | None = None, in_account_order: bool = True
) -> pl.LazyFrame:
    """Artifact ``name`` of ``folder`` as one frame; with ``account_id``, that account's rows
    only, read from its part alone when the artifact is partitioned (Parquet statistics skip
    the other row groups of a single file: artifacts are sorted by account).

    A partitioned artifact read whole is merged back into account order, unless not
    ``in_account_order``: then its parts follow one another, for readers whose results do not
    depend on row order (merging costs several times the reading)."""
    files = part_files(folder, name) if name in PARTITIONED else []
    if not files:
        scan = pl.scan_parquet(folder / f"{name}.parquet")
    elif account_id is None:
        scans = [pl.scan_parquet(path) for path in files]
        scan = merged(scans) if in_account_order else pl.concat(scans)
    else:
        part = account_parts(pl.Series([account_id]), len(files)).item()
        scan = pl.scan_parquet(files[part])
    if account_id is not None:
        scan = scan.filter(pl.col("account_id") == account_id)
    return scan


def artifact_exists(folder: Path, name: str) -> bool:
    """Whether ``folder`` holds artifact ``name`` (a file, or the parts of a partitioned one)."""
    return (folder / f"{name}.parquet").exists() or bool(part_files(folder, name))


def write_artifact_to(
    name: str, frame: pl.DataFrame | pl.LazyFrame, folder: Path, accounts: int | None = None
) -> Path:
    """Artifact ``name`` written into ``folder`` as its kind is written: the parts of a
    ``PARTITIONED`` artifact (``write_partitioned``, for a book of ``accounts`` accounts), else
    ``<name>.parquet``; returns the path written."""
    if name in PARTITIONED:
        return write_partitioned(name, frame, folder, accounts)
    path = folder / f"{name}.parquet"
    write_artifact(name, frame, path)
    return path


def _fresh_folder(folder: Path) -> Path:
    """``folder`` emptied of earlier parts (a partitioned artifact written again may have fewer)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    return folder


def conform(name: str, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with exactly the artifact's columns, in order and cast to their dtypes.

    Raises ValueError naming the missing columns: a metric that drifts from the contract fails
    loudly rather than writing a different file.
    """
    schema = SCHEMAS[name]
    missing = [column for column in schema if column not in frame.columns]
    if missing:
        raise ValueError(f"artifact {name} lacks columns {missing}")
    return frame.select(pl.col(column).cast(dtype) for column, dtype in schema.items())


@dataclass
class Artifacts:
    """Everything ``compute_all`` produces: the metric tables and the data-quality record.

    ``tables`` maps an artifact name of ``SCHEMAS`` to its collected frame; ``rejects`` maps an
    input table to its rejected rows (with a ``reason`` column).
    """

    tables: dict[str, pl.DataFrame]
    data_quality: dict[str, Any]
    rejects: dict[str, pl.DataFrame] = field(default_factory=dict)

    def __getitem__(self, name: str) -> pl.DataFrame:
        return self.tables[name]

    def write(self, folder: Path | str) -> Path:
        """Write every artifact (``write_artifact_to``), ``data_quality.json`` and
        ``rejects/<table>.csv``.

        Output is deterministic: the same artifacts give byte-identical files.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        accounts = book_accounts(self.data_quality)
        for name, frame in self.tables.items():
            write_artifact_to(name, frame, folder, accounts)
        write_json(folder / "data_quality.json", self.data_quality)
        write_rejects(folder, self.rejects)
        return folder


def write_working(frame: pl.DataFrame, path: Path) -> None:
    """Write a working file a run reads back, not an output (the validated book's snapshot, its
    rated usage, a shard's book): LZ4-compressed, which at 41 M usage rows writes about 1.4×
    and reads about 3× faster than the default Zstandard, for files about a third larger."""
    frame.write_parquet(path, compression="lz4", statistics=False)


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Deterministic, readable JSON (sorted keys, two-space indent, trailing newline)."""
    path.write_text(
        json.dumps(payload, indent=2, sort_keys=True, default=str) + "\n", encoding="utf-8"
    )


def write_rejects(folder: Path, rejects: dict[str, pl.DataFrame]) -> None:
    """Rejected input rows as ``<folder>/rejects/<table>.csv`` (nothing when there are none)."""
    if rejects:
        (folder / "rejects").mkdir(exist_ok=True)
        for table, rejected in rejects.items():
            rejected.write_csv(folder / "rejects" / f"{table}.csv")
