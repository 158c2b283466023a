"""The run cache: a re-run whose inputs and metric parameters are unchanged reuses the validated
snapshot, the artifacts and the executed compute notebooks of the run that computed them, and every
report whose own inputs are unchanged too.

A metric entry lives in ``<runs>/.cache/<key>/`` (``<runs>`` is the run folder's parent) and holds
that run's ``work/``, ``artifacts/`` and ``notebooks/*.ipynb`` plus ``entry.json``. The key is the
sha256 of: every input file's name and content hash, the parameters the metrics read (all of
them except the report-only ones in ``REPORT_ONLY``), the drawdown code and compute notebooks, and
the versions of the libraries that shape the numbers. Any change to one of them is a miss. A
database source is never cached: its content has no hash.

Under it, ``reports/<report key>/`` holds one report: its executed notebook and its rendered
files (:class:`ReportCache`). The report key adds the report notebook's parameters (all but the
run folder), the report notebooks and their rendering files in ``reports/``, the formats, the
renderer and the run's ``changes`` artifact (computed outside the cache: it depends on the
previous run). Changing the brand re-renders every report; asking for one more account review renders
only that one.

Entries are written to a temporary folder and renamed into place, so a half-written entry is
never read; the ``KEEP`` most recent metric entries are kept, and under each the ``KEEP_REPORTS``
most recently used reports.
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
from functools import cached_property
from pathlib import Path
from typing import Any

from drawdown.artifacts import RUN_ARTIFACTS
from drawdown.params import Params
from drawdown.resources import PACKAGE_DIR, REPORTS_DIR
from drawdown.run.kernels import Step
from drawdown.run.manifest import file_hashes, package_versions

CACHE_FOLDER = ".cache"
CACHED = ("work", "artifacts", "notebooks")
"""What an entry holds of a run folder (``notebooks`` without ``notebooks/reports``)."""
REPORT_ONLY = {
    "report": ("accounts", "formats", "brand", "guidelines", "min_group"),
    "scope": ("segment",),
}
"""Parameters only the report notebooks read: changing them keeps the cached metrics.
``report.top_accounts`` is not among them: the reset comparison reads it."""
OUTSIDE_METRICS = ("compare_to",)
"""Parameters of the steps that run after the cached metrics (the changes since the previous
run): changing them keeps the cached metrics too."""
KEEP = 4
KEEP_REPORTS = 500
REPORTS = "reports"
NOTEBOOK = "notebook.ipynb"


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
    payload = {
        "inputs": inputs,
        "params": metric_params(params),
        "code": code_hash(notebooks),
        "packages": package_versions(),
    }
    return _digest(payload)


def metric_params(params: Params) -> dict[str, Any]:
    """The parameters the metrics read: all but ``REPORT_ONLY`` and ``OUTSIDE_METRICS``."""
    dumped = params.to_notebook()
    for name in OUTSIDE_METRICS:
        dumped.pop(name)
    for section, names in REPORT_ONLY.items():
        dumped[section] = {k: v for k, v in dumped[section].items() if k not in names}
    return dumped


def code_hash(notebooks: Sequence[Path]) -> str:
    """sha256 over the drawdown package's Python files and the compute ``notebooks``."""
    return _files_hash([*sorted(PACKAGE_DIR.rglob("*.py")), *notebooks])


def _files_hash(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


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
    _place(scratch, cache / key)
    _prune(cache)


@dataclass(frozen=True)
class ReportCache:
    """The rendered reports kept under one metric entry (``folder`` None: nothing is cached)."""

    folder: Path | None
    stage: Path | None = None

    @classmethod
    def of(cls, runs: Path, key: str | None, stage: Path | None = None) -> ReportCache:
        """The report cache of the metric entry ``key`` under ``runs``, for the run being staged
        in ``stage`` (whose uncached artifacts join the key)."""
        return cls(None if key is None else runs / CACHE_FOLDER / key / REPORTS, stage)

    def key(self, step: Step, formats: Sequence[str], renderer: str) -> str | None:
        """What shapes ``step``'s report beyond the metrics: its parameters (the run folder
        aside), the report notebooks and rendering files, the formats, the renderer and the
        changes since the previous run."""
        if self.folder is None:
            return None
        parameters = {name: value for name, value in step.parameters.items() if name != "run_dir"}
        return _digest(
            {
                "template": step.template.name,
                "parameters": parameters,
                "reports": self._reports_hash,
                "formats": list(formats),
                "renderer": renderer,
                "run_artifacts": self._run_artifacts_hash,
            }
        )

    @cached_property
    def _run_artifacts_hash(self) -> str | None:
        """The artifacts of the run computed outside the cached metrics (``RUN_ARTIFACTS``)."""
        if self.stage is None:
            return None
        folder = self.stage / "artifacts"
        return _files_hash([folder / f"{name}.parquet" for name in RUN_ARTIFACTS])

    @cached_property
    def _reports_hash(self) -> str:
        """The report notebooks and rendering files, hashed once per run (not once per report)."""
        return _files_hash(sorted(path for path in REPORTS_DIR.rglob("*") if path.is_file()))

    def lookup(self, key: str | None, formats: Sequence[str]) -> dict[str, Path] | None:
        """The cached report's files (``notebook`` and each format), or None; a hit counts as a
        use, for pruning."""
        if self.folder is None or key is None:
            return None
        entry = self.folder / key
        files = {"notebook": entry / NOTEBOOK} | {fmt: entry / f"report.{fmt}" for fmt in formats}
        if not all(path.is_file() for path in files.values()):
            return None
        os.utime(entry)
        return files

    def store(self, key: str | None, files: dict[str, Path]) -> None:
        """Keep a report's files (``notebook`` and each format) under ``key``."""
        if self.folder is None or key is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.folder))
        for kind, path in files.items():
            _link_or_copy(
                str(path), str(scratch / (NOTEBOOK if kind == "notebook" else f"report.{kind}"))
            )
        _place(scratch, self.folder / key)
        _prune(self.folder, KEEP_REPORTS)


def _place(scratch: Path, final: Path) -> None:
    """Rename a complete entry into place (replacing an older one)."""
    shutil.rmtree(final, ignore_errors=True)
    try:
        scratch.rename(final)
    except OSError:  # a concurrent run stored the same key first: its entry is as good
        shutil.rmtree(scratch, ignore_errors=True)


def _prune(cache: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` most recently stored (or used) entries."""
    entries = sorted(
        (path for path in cache.iterdir() if path.is_dir() and not path.name.startswith(".")),
        key=lambda path: path.stat().st_mtime,
        reverse=True,
    )
    for stale in entries[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    """A hard link (instant, no extra space; files are never rewritten in place), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)
