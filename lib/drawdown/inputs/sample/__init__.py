"""The sample book: a realistic book of business, deterministic by seed (the tables of docs/data-contract.md).

``write_sample`` writes the eight tables (``accounts``, ``contracts``, ``rate_card``, ``usage``,
``workflows``, ``outcomes``, ``activities``, ``budgets``) with exactly ``contract.COLUMNS`` into a
folder: CSV up to ``PARQUET_ABOVE`` accounts, Parquet above. The same seed writes byte-identical
files. Usage covers ``days`` days ending on the as-of date A (default ``AS_OF`` = 2026-11-15, the
latest usage_date); the 60-day reset the sample is built for starts at A − 41 (2026-10-05).

How it is made, in the order of the modules:
- ``_archetypes``: every account draws an *archetype*, a behaviour designed to exercise a metric
  (the cohorts and what each one exercises are listed there).
- ``_profiles``: from its archetype, every account's segment, contracts, commits, meters, prices
  and limits, usage rhythm and shape, and owners, drawn for all accounts at once.
- ``_usage``: the daily quantities of all accounts × meters × days, in blocks of accounts,
  streamed into the usage table.
- ``_tables``: the other tables (accounts, contracts, rate card, workflows, outcomes, activities,
  budgets).
- ``_calendar`` and ``_ids``: day numbers and dates; account and contract ids.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from drawdown.errors import FolderRefused
from drawdown.inputs.contract import COLUMNS
from drawdown.inputs.sample._calendar import Calendar, day_number
from drawdown.inputs.sample._profiles import METERS, SEGMENTS, Profiles, draw_profiles
from drawdown.inputs.sample._tables import CURRENCY, other_tables
from drawdown.inputs.sample._usage import FileFormat, usage_blocks, write_usage

__all__ = [
    "AS_OF",
    "CURRENCY",
    "METERS",
    "PARQUET_ABOVE",
    "RESET_LEAD_DAYS",
    "SEGMENTS",
    "FileFormat",
    "sample_tables",
    "write_sample",
]

AS_OF = date(2026, 11, 15)
"""The sample's as-of date: the latest usage_date."""

RESET_LEAD_DAYS = 41
"""The sample's 60-day reset starts this many days before A (2026-10-05 for ``AS_OF``)."""

PARQUET_ABOVE = 1000
"""Books with more accounts than this are written as Parquet, smaller ones as CSV."""


def write_sample(
    out: Path | str,
    *,
    accounts: int = 300,
    days: int = 730,
    seed: int = 7,
    as_of: date = AS_OF,
    file_format: FileFormat | None = None,
) -> Path:
    """Write the sample book into ``out`` (created if needed) and return the folder.

    One file per table, CSV when ``accounts`` ≤ ``PARQUET_ABOVE`` else Parquet (``file_format``
    forces one). A file of the other format left by an earlier sample is removed so the folder
    holds one file per table. Usage is generated and written in blocks of accounts.

    Only what an earlier sample wrote is ever replaced or removed (``SAMPLE_RECORD`` lists those
    files with their size and modification time): a table file of the user's in ``out`` is
    FolderRefused (exit 2), before anything is written.
    """
    folder = Path(out)
    _check_only_ours(folder)
    folder.mkdir(parents=True, exist_ok=True)
    chosen: FileFormat = file_format or ("parquet" if accounts > PARQUET_ABOVE else "csv")
    for table in COLUMNS:
        (folder / f"{table}.{'csv' if chosen == 'parquet' else 'parquet'}").unlink(missing_ok=True)
    calendar, profiles, streams = _plan(accounts, days, seed, as_of)
    monthly = write_usage(usage_blocks(profiles, calendar, streams[1]), folder, chosen)
    for table, frame in other_tables(profiles, calendar, monthly, streams[2]).items():
        _write_frame(frame, folder / f"{table}.{chosen}")
    _record(folder, [folder / f"{table}.{chosen}" for table in COLUMNS])
    return folder


SAMPLE_RECORD = ".drawdown-sample.json"
"""The files a sample wrote into its folder, each with its size and modification time."""


def _check_only_ours(folder: Path) -> None:
    """FolderRefused when writing the sample into ``folder`` would replace or remove a file
    that no earlier sample wrote (or that changed since)."""
    if os.path.lexists(folder) and not folder.is_dir():
        raise FolderRefused(f"refusing to write the sample into {folder}: it is a file")
    written = _recorded(folder)
    for table in COLUMNS:
        for suffix in ("csv", "parquet"):
            path = folder / f"{table}.{suffix}"
            if os.path.lexists(path) and written.get(path.name) != _stamp(path):
                raise FolderRefused(
                    f"refusing to write the sample into {folder}: {path.name} is not a file an "
                    "earlier drawdown sample wrote; choose a new or empty folder"
                )


def _stamp(path: Path) -> list[int]:
    status = path.lstat()
    return [status.st_size, status.st_mtime_ns]


def _recorded(folder: Path) -> dict[str, list[int]]:
    try:
        record = json.loads((folder / SAMPLE_RECORD).read_text(encoding="utf-8"))
        return {str(name): list(stamp) for name, stamp in record["files"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def _record(folder: Path, paths: list[Path]) -> None:
    files = {path.name: _stamp(path) for path in paths}
    (folder / SAMPLE_RECORD).write_text(json.dumps({"files": files}), encoding="utf-8")


def sample_tables(
    *, accounts: int = 300, days: int = 730, seed: int = 7, as_of: date = AS_OF
) -> dict[str, pl.DataFrame]:
    """The sample book in memory, table name -> frame with exactly ``COLUMNS[table]``.

    The same rows ``write_sample`` writes; meant for small books (tests, quick checks).
    """
    calendar, profiles, streams = _plan(accounts, days, seed, as_of)
    blocks = list(usage_blocks(profiles, calendar, streams[1]))
    monthly = np.concatenate([block_monthly for _, block_monthly in blocks])
    tables = other_tables(profiles, calendar, monthly, streams[2])
    tables["usage"] = pl.concat([usage for usage, _ in blocks])
    return {table: tables[table] for table in COLUMNS}


def _plan(
    accounts: int, days: int, seed: int, as_of: date
) -> tuple[Calendar, Profiles, list[np.random.Generator]]:
    """The calendar, the account profiles and the random streams for usage and the rest.

    Three independent streams spawned from ``seed`` (profiles, usage, other tables), so the
    usage draws (which grow with ``days``) do not shift the activities, budgets or outcomes.
    """
    a = day_number(as_of)
    calendar = Calendar(as_of=a, first=a - days + 1, reset=a - RESET_LEAD_DAYS)
    streams = np.random.default_rng(seed).spawn(3)
    return calendar, draw_profiles(accounts, calendar, streams[0]), streams


def _write_frame(frame: pl.DataFrame, path: Path) -> None:
    """One table file; Parquet without statistics so the bytes depend on the rows only."""
    if path.suffix == ".csv":
        frame.write_csv(path)
    else:
        frame.write_parquet(path, statistics=False)
