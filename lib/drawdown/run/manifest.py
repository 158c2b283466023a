"""The run manifest: what was computed, from what, with what, how long it took, and how it ended."""

from __future__ import annotations

import hashlib
import subprocess
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from drawdown.errors import InputError
from drawdown.inputs.contract import TABLES
from drawdown.inputs.files import SUFFIXES
from drawdown.params import Params

PACKAGES = (
    "drawdown",
    "polars",
    "pyarrow",
    "dataframely",
    "papermill",
    "nbconvert",
    "ipykernel",
    "altair",
    "vl-convert-python",
    "great-tables",
    "pydantic",
    "typer",
)


@dataclass(frozen=True)
class InputFiles:
    """The table files of a folder source, hashed once per run: their sha256 by file name (what
    the cache key and the manifest record) and what ``os.stat`` said of each when it was hashed.

    ``check_unchanged`` after the files were read makes those hashes the hashes of the bytes the
    run read: a file written to meanwhile stops the run (InputError) instead of being recorded
    under a hash of other bytes.
    """

    hashes: dict[str, str] = field(default_factory=dict)
    stamps: dict[str, tuple[int, int, int]] = field(default_factory=dict)
    folder: Path | None = None

    def check_unchanged(self) -> None:
        """InputError when a hashed file changed (size, modification time or inode) since."""
        if self.folder is None:
            return
        changed = [
            name for name, stamp in self.stamps.items() if _stamp(self.folder / name) != stamp
        ]
        if changed:
            raise InputError(
                f"{', '.join(changed)} in {self.folder} changed while drawdown read it: run again "
                "once the files are complete"
            )


def input_files(source: str) -> InputFiles:
    """Hash the table files (``<table>.csv`` / ``<table>.parquet``) of a folder source, each once;
    empty for a database source (its content has no hash)."""
    folder = Path(source)
    if "://" in source or not folder.is_dir():
        return InputFiles()
    paths = [
        folder / f"{table}{suffix}"
        for table in TABLES
        for suffix in SUFFIXES
        if (folder / f"{table}{suffix}").is_file()
    ]
    stamps = {path.name: _stamp(path) for path in paths}
    hashes = {path.name: _sha256(path) for path in paths}
    return InputFiles(hashes, stamps, folder)


def file_hashes(source: str) -> dict[str, str]:
    """sha256 of every table file of a folder source, by file name; empty for a database."""
    return input_files(source).hashes


def _stamp(path: Path) -> tuple[int, int, int]:
    try:
        status = path.stat()
    except OSError:
        return (-1, -1, -1)
    return (status.st_size, status.st_mtime_ns, status.st_ino)


def package_versions() -> dict[str, str]:
    """Installed versions of drawdown and the libraries that shape its numbers and reports."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_revision() -> str | None:
    """The drawdown checkout's commit (``+dirty`` with uncommitted changes), or None."""
    here = Path(__file__).parent
    try:
        revision = _git(here, "rev-parse", "HEAD")
        dirty = _git(here, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):  # no git, not a checkout, or git too slow
        return None
    return revision + ("+dirty" if dirty else "")


def build_manifest(
    params: Params,
    *,
    status: str,
    started: str,
    finished: str,
    timings: dict[str, float],
    inputs: dict[str, str],
    outputs: dict[str, Any],
    message: str | None = None,
    compared_with: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The manifest as a JSON-able dict. ``params`` must already carry a redacted source URI;
    ``compared_with`` names what the changes compare with (a run folder, or null for the book at
    its own earlier as_of, and that as_of)."""
    return {
        "status": status,
        "message": message,
        "started": started,
        "finished": finished,
        "as_of": params.as_of.isoformat() if params.as_of else None,
        "parameters": params.to_notebook(),
        "inputs": inputs,
        "packages": package_versions(),
        "git_revision": git_revision(),
        "timings_seconds": {name: round(seconds, 3) for name, seconds in timings.items()},
        "outputs": outputs,
        "compared_with": compared_with,
    }


def sha256_file(path: Path) -> str:
    """The sha256 of a file's bytes, read in blocks."""
    return _sha256(path)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=10
    ).stdout.strip()
