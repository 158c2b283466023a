"""The run cache: a re-run whose inputs and metric parameters are unchanged reuses the validated
snapshot, the artifacts and the executed compute notebooks of the run that computed them, and every
report whose own inputs are unchanged too.

A metric entry lives in ``<runs>/.drawdown-cache/<key>/`` (``<runs>`` is the run folder's parent)
and holds that run's ``work/``, ``artifacts/`` and ``notebooks/*.ipynb`` plus ``entry.json``. The
key is the sha256 of: every input table file's name and content hash (hashed once per run,
``manifest.input_files``), the parameters the metrics read (all of
them except the report-only ones in ``REPORT_ONLY``), the drawdown code that computes them (the
package's sources but the report builders, ``REPORT_CODE``) and the compute notebooks, and the
versions of the libraries that shape the numbers. Any change to one of them is a miss. A
database source is never cached: its content has no hash.

Under it, ``reports/<key>/`` holds one report's executed notebook, one of its rendered files, or
the run's exports (:class:`ReportCache`). A report notebook executes with a neutral brand that is
applied afterwards (``drawdown.reports.brand``): its executed notebook is kept without the brand,
each rendered file (one entry per format) with it. The notebook key adds the report notebook's
parameters (all but the run folder, with the neutral brand), the whole package's sources (the
chart, table and narrative builders the report notebooks call), the report notebooks and their
rendering files in ``reports/``, and the run's ``changes`` artifact (computed outside the cache:
it depends on the previous run); a rendered file's key adds its format, the renderer and the
brand. Changing the brand renders every report again from its cached executed notebook (no
kernel starts); asking for one more account review executes and renders only that one. The
exports are keyed by ``scope.segment``, the code and the changes (no brand: none shows it).

Entries are written to a temporary folder and renamed into place, so a half-written entry is
never read; the ``KEEP`` most recent metric entries are kept, and under each the 500 most
recently used reports (``KEEP_REPORTS``).

Honest (docs/reliability.md#guarantees): an entry holds copies, never hard links, so editing a
published run cannot change the cache nor the other way round; its ``entry.json`` lists every
file with its sha256, checked before the entry is reused; an entry that fails the check (a file
edited, damaged, missing or added) is deleted and its results computed again, with a warning in
``run.log``. The cache folder holds a ``CACHEDIR.TAG`` naming drawdown: a folder of that name
without it is not drawdown's and is never written (FolderRefused, exit 2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from drawdown.artifacts import RUN_ARTIFACTS
from drawdown.errors import FolderRefused
from drawdown.params import Params
from drawdown.resources import PACKAGE_DIR, REPORTS_DIR
from drawdown.run.kernels import Step
from drawdown.run.manifest import file_hashes, package_versions, sha256_file

log = logging.getLogger("drawdown")

CACHE_FOLDER = ".drawdown-cache"
TAG = "CACHEDIR.TAG"
TAG_TEXT = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# drawdown's run cache: results kept for re-runs; safe to delete.\n"
)
ENTRY = "entry.json"
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
REPORT_CODE = "reports"
"""The package folder of the report builders: its sources join the report key, not the metric
key (a changed chart builder re-renders the reports and keeps the metrics) — but for
``REPORT_CODE_IN_METRICS``."""
REPORT_CODE_IN_METRICS = ("inert.py",)
"""Report modules the cached metric entry is written with (the snapshot's rejects/ CSVs)."""
KEEP = 4
KEEP_REPORTS = 1_500
"""Report entries kept under a metric entry: three per report (its executed notebook, its HTML and
its PDF), so the 500 most recently used reports. A run of 100 account reviews has 202 reports,
606 entries: with 500, it pushed some of its own reports out of the cache."""
REPORTS = "reports"
NOTEBOOK = "notebook.ipynb"


@dataclass(frozen=True)
class Entry:
    """A cached computation: its folder, the as-of date it resolved to and the run it came from."""

    folder: Path
    as_of: date
    run: str


def cache_key(
    params: Params, notebooks: Sequence[Path], inputs: dict[str, str] | None = None
) -> str | None:
    """The cache key of a run with ``params`` whose metrics the compute ``notebooks`` compute
    from the input files of ``inputs`` (name -> sha256; default: hashed here); None for a
    database (uncacheable) source."""
    inputs = file_hashes(params.source.uri) if inputs is None else inputs
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
    """sha256 over the drawdown package's Python files that compute the metrics (all but the
    report builders, ``REPORT_CODE``) and the compute ``notebooks``."""
    return _files_hash([*package_sources(metrics_only=True), *notebooks])


@cache
def package_sources(metrics_only: bool = False) -> tuple[Path, ...]:
    """The drawdown package's Python files, sorted (found once per process); with
    ``metrics_only``, without the report builders (``REPORT_CODE``) but for
    ``REPORT_CODE_IN_METRICS``."""
    paths = sorted(PACKAGE_DIR.rglob("*.py"))
    if not metrics_only:
        return tuple(paths)
    return tuple(path for path in paths if not _report_code(path.relative_to(PACKAGE_DIR)))


def _report_code(relative: Path) -> bool:
    return relative.parts[0] == REPORT_CODE and relative.name not in REPORT_CODE_IN_METRICS


def _files_hash(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _digest(payload: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:32]


def check_folder(runs: Path) -> None:
    """FolderRefused (exit 2) when ``<runs>/.drawdown-cache`` exists and is not drawdown's (no
    ``CACHEDIR.TAG`` naming drawdown): it is never written, pruned nor deleted."""
    folder = runs / CACHE_FOLDER
    if not os.path.lexists(folder) or _ours(folder):
        return
    raise FolderRefused(
        f"refusing to write {folder}: it is not drawdown's cache (no {TAG} naming drawdown); "
        "rename it or choose another --out"
    )


def _ours(folder: Path) -> bool:
    try:
        return not folder.is_symlink() and "drawdown" in (folder / TAG).read_text("utf-8")
    except (OSError, ValueError):
        return False


def _root(runs: Path) -> Path | None:
    """The cache folder, created (with its tag) when missing; None when it is not drawdown's."""
    folder = runs / CACHE_FOLDER
    if not os.path.lexists(folder):
        folder.mkdir(parents=True, exist_ok=True)
        (folder / TAG).write_text(TAG_TEXT, encoding="utf-8")
    return folder if _ours(folder) else None


def lookup(runs: Path, key: str | None, warn: Callable[[str], None] = log.warning) -> Entry | None:
    """The entry for ``key`` under ``runs`` when it is complete and every file matches its
    checksum, else None; an entry that fails the check is deleted and named to ``warn``."""
    if key is None or not _ours(runs / CACHE_FOLDER):
        return None
    folder = runs / CACHE_FOLDER / key
    try:
        entry = json.loads((folder / ENTRY).read_text(encoding="utf-8"))
        found = Entry(folder, date.fromisoformat(entry["as_of"]), entry["run"])
        files = dict(entry["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    problem = _verify(folder, files, skip=REPORTS)
    if problem is not None:
        _discard(folder, problem, warn)
        return None
    return found


def restore(entry: Entry, stage: Path) -> None:
    """Copy the entry's folders into the staging run folder (copies: never shared)."""
    for name in CACHED:
        if (entry.folder / name).is_dir():
            shutil.copytree(entry.folder / name, stage / name)


def store(runs: Path, key: str | None, stage: Path, as_of: date, run_dir: Path) -> bool:
    """Keep copies of the staging folder's snapshot, artifacts and compute notebooks under
    ``key``, each with its checksum (``run_dir``: the run they are published as, recorded in
    ``entry.json``); True when stored."""
    if key is None:
        return False
    cache = _root(runs)
    if cache is None:
        return False
    scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache))
    for name in CACHED:
        shutil.copytree(
            stage / name,
            scratch / name,
            ignore=shutil.ignore_patterns("reports") if name == "notebooks" else None,
        )
    entry = {"as_of": as_of.isoformat(), "run": str(run_dir), "files": _checksums(scratch)}
    (scratch / ENTRY).write_text(json.dumps(entry), encoding="utf-8")
    _place(scratch, cache / key)
    _prune(cache)
    return True


def discard(runs: Path, key: str | None) -> None:
    """Delete the entry for ``key`` (its run failed after storing it: no entry names a failed
    run)."""
    if key is not None and _ours(runs / CACHE_FOLDER):
        shutil.rmtree(runs / CACHE_FOLDER / key, ignore_errors=True)


def _checksums(folder: Path, skip: str | None = None) -> dict[str, str]:
    """sha256 of every file under ``folder`` but ``entry.json`` (and the ``skip`` subfolder),
    by path relative to it."""
    return {
        str(path.relative_to(folder)): sha256_file(path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != ENTRY and not _under(path, folder, skip)
    }


def _under(path: Path, folder: Path, skip: str | None) -> bool:
    return skip is not None and path.relative_to(folder).parts[0] == skip


def _verify(folder: Path, files: dict[str, str], skip: str | None = None) -> str | None:
    """None when the files under ``folder`` are exactly ``files`` with those checksums; else
    what is wrong."""
    try:
        present = _checksums(folder, skip)
    except OSError as exc:
        return f"unreadable ({exc.strerror})"
    for name in sorted(set(files) | set(present)):
        if name not in present:
            return f"{name} is missing"
        if name not in files:
            return f"{name} was added"
        if present[name] != files[name]:
            return f"{name} does not match its checksum"
    return None


def _discard(folder: Path, problem: str, warn: Callable[[str], None]) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    warn(f"cache entry {folder} discarded: {problem}; computing it again")


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

    def notebook_key(self, step: Step) -> str | None:
        """What shapes ``step``'s executed notebook beyond the metrics: its parameters (the run
        folder aside; a report notebook runs with the neutral brand, ``reports.brand``), the
        package's code, the report notebooks and rendering files and the changes since the
        previous run. Not the formats nor the renderer: one executed notebook serves them all."""
        if self.folder is None:
            return None
        parameters = {name: value for name, value in step.parameters.items() if name != "run_dir"}
        return _digest(
            {
                "template": step.template.name,
                "parameters": parameters,
                "reports": self._reports_hash,
                "code": self._code_hash,
                "run_artifacts": self._run_artifacts_hash,
            }
        )

    def rendered_key(
        self, notebook_key: str | None, fmt: str, renderer: str, brand: dict[str, Any]
    ) -> str | None:
        """One rendered file of the notebook of ``notebook_key``: its format, the renderer and
        the brand applied to it (``report.brand``)."""
        if notebook_key is None:
            return None
        return _digest(
            {"notebook": notebook_key, "format": fmt, "renderer": renderer, "brand": brand}
        )

    def exports_key(self, segment: str | None) -> str | None:
        """What shapes the run's exports beyond the metrics: ``scope.segment``, the package's
        code and the changes since the previous run (not the brand: no export shows it)."""
        if self.folder is None:
            return None
        return _digest(
            {
                "exports": segment,
                "code": self._code_hash,
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
    def _code_hash(self) -> str:
        """The package's sources, every module a report notebook may call (the report builders
        and what they import), hashed once per run."""
        return _files_hash(package_sources())

    @cached_property
    def _reports_hash(self) -> str:
        """The report notebooks and rendering files, hashed once per run (not once per report)."""
        return _files_hash(sorted(path for path in REPORTS_DIR.rglob("*") if path.is_file()))

    def lookup(self, key: str | None, kinds: Sequence[str]) -> dict[str, Path] | None:
        """The cached files of ``key`` by kind (``notebook``, ``html``, ``pdf``, or an export's
        file name), or None when
        one of ``kinds`` is missing or the entry fails its check; a hit counts as a use, for
        pruning."""
        if self.folder is None or key is None:
            return None
        entry = self.folder / key
        files = {kind: entry / _file_name(kind) for kind in kinds}
        if not all(path.is_file() for path in files.values()):
            return None
        try:
            recorded = dict(json.loads((entry / ENTRY).read_text(encoding="utf-8"))["files"])
        except (OSError, ValueError, KeyError, TypeError):
            recorded = {}
        problem = _verify(entry, recorded) if recorded else f"{ENTRY} is missing"
        if problem is not None:
            _discard(entry, problem, log.warning)
            return None
        os.utime(entry)
        return files

    def store(self, key: str | None, files: dict[str, Path]) -> None:
        """Keep files by kind (``notebook``, ``html``, ``pdf``, an export's file name) under
        ``key``."""
        if self.folder is None or key is None or _root(self.folder.parents[2]) is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.folder))
        for kind, path in files.items():
            shutil.copyfile(path, scratch / _file_name(kind))
        (scratch / ENTRY).write_text(json.dumps({"files": _checksums(scratch)}), encoding="utf-8")
        _place(scratch, self.folder / key)

    def prune(self) -> None:
        """Remove all but the ``KEEP_REPORTS`` most recently stored or used entries. Once per run,
        after its last ``store``: each pass reads every entry's time, and a run of 100 account
        reviews stores some 600 entries."""
        if self.folder is not None and self.folder.is_dir():
            _prune(self.folder, KEEP_REPORTS)


def _file_name(kind: str) -> str:
    """A kind's file in an entry: the executed notebook, a report format, or a named export."""
    if "." in kind:
        return kind
    return NOTEBOOK if kind == "notebook" else f"report.{kind}"


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
        key=_mtime,
        reverse=True,
    )
    for stale in entries[keep:]:
        shutil.rmtree(stale, ignore_errors=True)


def _mtime(path: Path) -> float:
    """When an entry was stored or used; 0 for one a concurrent prune just removed (the exports
    and the reports are stored from two threads)."""
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0
