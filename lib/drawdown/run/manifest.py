"""The run manifest: what was computed, from what, with what, how long it took, and how it ended."""

from __future__ import annotations

import hashlib
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

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


def file_hashes(source: str) -> dict[str, str]:
    """sha256 of every file in a folder source, by file name; empty for a database source."""
    folder = Path(source)
    if "://" in source or not folder.is_dir():
        return {}
    return {path.name: _sha256(path) for path in sorted(folder.iterdir()) if path.is_file()}


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
