"""Run folders: staged in a temporary sibling, published by rename, guarded by a lock.

A run writes into ``<parent>/.<name>.staging-<pid>/``; only a successful run is renamed to
``<parent>/<name>/`` and pointed at by ``<parent>/latest``. A failed run is kept for inspection
as ``<parent>/<name>.failed/`` and changes nothing else: the previous run and ``latest`` stay.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from drawdown.errors import DrawdownError

LATEST = "latest"


class RunLocked(DrawdownError):
    """Another drawdown run is writing the same run folder."""

    exit_code = 1


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``<parent>/.<name>.lock`` for the run; a second run into the same folder refuses."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    lock_path = run_dir.parent / f".{run_dir.name}.lock"
    with open(lock_path, "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(
                f"another drawdown run is writing {run_dir} (lock {lock_path}); wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def staging_dir(run_dir: Path) -> Path:
    """A fresh, empty staging folder beside ``run_dir``."""
    stage = run_dir.parent / f".{run_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def failed_dir(run_dir: Path) -> Path:
    """Where a failed run's staging folder is kept: ``<parent>/<name>.failed``."""
    return run_dir.parent / f"{run_dir.name}.failed"


def keep_failed(stage: Path, run_dir: Path) -> Path:
    """Move a failed staging folder to ``<name>.failed`` (replacing an older one); return it."""
    target = failed_dir(run_dir)
    shutil.rmtree(target, ignore_errors=True)
    stage.rename(target)
    return target


def publish(stage: Path, run_dir: Path) -> None:
    """Replace ``run_dir`` with ``stage`` and point ``latest`` at it.

    The old folder is moved aside before the rename and removed after, so ``run_dir`` is never
    a mix of two runs.
    """
    retired = run_dir.parent / f".{run_dir.name}.retired-{os.getpid()}"
    if run_dir.exists():
        run_dir.rename(retired)
    stage.rename(run_dir)
    shutil.rmtree(retired, ignore_errors=True)
    shutil.rmtree(failed_dir(run_dir), ignore_errors=True)
    point_latest(run_dir)


def point_latest(run_dir: Path) -> None:
    """Atomically make ``<parent>/latest`` a relative symlink to ``run_dir``."""
    link = run_dir.parent / LATEST
    temporary = run_dir.parent / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(run_dir.name)
    os.replace(temporary, link)
