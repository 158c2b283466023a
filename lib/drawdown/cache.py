"""The metric cache: a re-run whose inputs and metric parameters are unchanged reuses the
validated snapshot, the artifacts and the executed compute notebooks of the run that computed them.

An entry lives in ``<runs>/.cache/<key>/`` (``<runs>`` is the run folder's parent) and holds that
run's ``work/``, ``artifacts/`` and ``notebooks/*.ipynb`` plus ``entry.json``. The key is the
sha256 of: every input file's name and content hash, the parameters the metrics read (all of
them except the report-only ones in ``REPORT_ONLY``), and the drawdown code and compute notebooks.
Any change to one of them is a miss. A database source is never cached: its content has no hash.
Entries are written to a temporary folder and renamed into place, so a half-written entry is
never read; the ``KEEP`` most recent entries are kept.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from drawdown.manifest import file_hashes
from drawdown.params import Params

CACHE_FOLDER = ".cache"
CACHED = ("work", "artifacts", "notebooks")
"""What an entry holds of a run folder (``notebooks`` without ``notebooks/reports``)."""
REPORT_ONLY = {
    "report": ("accounts", "formats", "brand", "guidelines"),
    "scope": ("segment",),
}
"""Parameters only the report notebooks read: changing them keeps the cached metrics.
``report.top_accounts`` is not among them: the reset comparison reads it."""
KEEP = 4
PACKAGE_DIR = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Entry:
    """A cached computation: its folder, the as-of date it resolved to and the run it came from."""

    folder: Path
    as_of: date
    run: str


def cache_key(params: Params, notebooks: Sequence[Path]) -> str | None:
    """The cache key of a run with ``params`` whose metrics the compute ``notebooks`` compute;
    None for a database (uncacheable) source."""
    inputs = file_hashes(params.source.uri)
    if not inputs:
        return None
    payload = {"inputs": inputs, "params": metric_params(params), "code": code_hash(notebooks)}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def metric_params(params: Params) -> dict[str, Any]:
    """The parameters the metrics read: all but ``REPORT_ONLY``, JSON-able."""
    dumped = params.to_notebook()
    for section, names in REPORT_ONLY.items():
        dumped[section] = {k: v for k, v in dumped[section].items() if k not in names}
    return dumped


def code_hash(notebooks: Sequence[Path]) -> str:
    """sha256 over the drawdown package's Python files and the compute ``notebooks``."""
    digest = hashlib.sha256()
    for path in [*sorted(PACKAGE_DIR.rglob("*.py")), *notebooks]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def lookup(runs: Path, key: str | None) -> Entry | None:
    """The complete entry for ``key`` under ``runs``, or None."""
    if key is None:
        return None
    folder = runs / CACHE_FOLDER / key
    try:
        entry = json.loads((folder / "entry.json").read_text(encoding="utf-8"))
        return Entry(folder, date.fromisoformat(entry["as_of"]), entry["run"])
    except (OSError, ValueError, KeyError):
        return None


def restore(entry: Entry, stage: Path) -> None:
    """Link (or copy) the entry's folders into the staging run folder."""
    for name in CACHED:
        if (entry.folder / name).is_dir():
            shutil.copytree(entry.folder / name, stage / name, copy_function=_link_or_copy)


def store(runs: Path, key: str | None, stage: Path, as_of: date, run_dir: Path) -> None:
    """Keep the staging folder's snapshot, artifacts and compute notebooks under ``key``
    (``run_dir``: the run they are published as, recorded in ``entry.json``)."""
    if key is None:
        return
    cache = runs / CACHE_FOLDER
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    for name in CACHED:
        shutil.copytree(
            stage / name,
            scratch / name,
            copy_function=_link_or_copy,
            ignore=shutil.ignore_patterns("reports") if name == "notebooks" else None,
        )
    (scratch / "entry.json").write_text(
        json.dumps({"as_of": as_of.isoformat(), "run": str(run_dir)}), encoding="utf-8"
    )
    final = cache / key
    shutil.rmtree(final, ignore_errors=True)
    try:
        scratch.rename(final)
    except OSError:  # a concurrent run stored the same key first: its entry is as good
        shutil.rmtree(scratch, ignore_errors=True)
    _prune(cache)


def _prune(cache: Path) -> None:
    """Remove all but the ``KEEP`` most recently stored entries."""
    entries = sorted(
        (path for path in cache.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[KEEP:]:
        shutil.rmtree(stale, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link (instant, no extra space; files are never rewritten in place), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
