"""Run folders: staged in a temporary sibling, published by rename, guarded by a lock.

A run writes into ``<parent>/.<name>.staging-<pid>/``; only a successful run is renamed to
``<parent>/<name>/`` and pointed at by ``<parent>/latest``. A failed run is kept for inspection
as ``<parent>/<name>.failed/`` and changes nothing else: the previous run and ``latest`` stay.

drawdown never deletes or changes what it did not write (docs/reliability.md#guarantees):
``check_run_dir`` refuses, before anything is written, a run folder that is neither missing, empty
nor an earlier drawdown run (one holding ``manifest.json``), the current directory, the data
source and any folder holding either; and a ``latest``, ``<name>.failed`` or lock of that name
that drawdown did not write.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

from drawdown.errors import DrawdownError, FolderRefused

LATEST = "latest"
MANIFEST = "manifest.json"
RUN_LOG = "run.log"
_STAGING = re.compile(r"^\.(?P<name>.+)\.(?:staging|retired)-(?P<pid>\d+)$")


class RunLocked(DrawdownError):
    """Another drawdown run is writing the same run folder."""

    exit_code = 1


def check_run_dir(run_dir: Path, source: str | None = None, cwd: Path | None = None) -> None:
    """Refuse (FolderRefused, exit 2) a run folder whose publishing would destroy what drawdown
    did not write, or write into the input.

    Accepted: a missing folder, an empty one, or an earlier drawdown run (``manifest.json``).
    Refused: a file; a folder holding other things; the current directory or a folder holding
    it; the data source (a folder ``source`` names), a folder holding it or a folder inside it;
    and beside it a ``latest``, ``<name>.failed`` or ``.<name>.lock`` that is not drawdown's.
    """
    run_dir = Path(os.path.abspath(run_dir))
    here = Path(os.path.abspath(cwd or Path.cwd()))
    if run_dir == here or run_dir in here.parents:
        reason = (
            "it is the current directory" if run_dir == here else "it holds the current directory"
        )
        _refuse(run_dir, reason)
    data = _source_folder(source)
    if data is not None:
        if run_dir == data:
            _refuse(run_dir, "it is the data source")
        if run_dir in data.parents:
            _refuse(run_dir, f"it holds the data source {data}")
        if data in run_dir.parents:
            _refuse(run_dir, f"it is inside the data source {data}: drawdown never writes there")
    _check_own_or_new(run_dir, "the run folder")
    failed = failed_dir(run_dir)
    if os.path.lexists(failed):
        _check_own_or_new(failed, "a failed run's folder", failed=True)
    latest = run_dir.parent / LATEST
    if os.path.lexists(latest) and not _is_our_latest(latest):
        _refuse(
            latest,
            "it is not drawdown's `latest` link (a symbolic link to a run folder beside it): "
            "rename it or choose another --out",
        )
    lock = lock_path(run_dir)
    if os.path.lexists(lock) and (lock.is_symlink() or not lock.is_file()):
        _refuse(lock, "it is not drawdown's lock file: rename it or choose another --out")


def _check_own_or_new(folder: Path, what: str, *, failed: bool = False) -> None:
    """``folder`` is missing, an empty folder or a drawdown run folder (a ``failed`` one: with its
    manifest or at least its ``run.log``); else FolderRefused."""
    if not os.path.lexists(folder):
        return
    if folder.is_symlink() or not folder.is_dir():
        _refuse(folder, f"{what} is a file, not a folder: choose another --out")
    if (folder / MANIFEST).is_file() or (failed and (folder / RUN_LOG).is_file()):
        return
    try:
        empty = next(folder.iterdir(), None) is None
    except OSError as exc:
        _refuse(folder, f"{what} cannot be read ({exc.strerror})")
    if not empty:
        _refuse(
            folder,
            f"{what} holds files and is not a drawdown run (no {MANIFEST}): --out takes a new "
            "folder, an empty one or an earlier run",
        )


def _source_folder(source: str | None) -> Path | None:
    if not source or "://" in source or "=" in source:
        return None
    return Path(os.path.abspath(source))


def _is_our_latest(latest: Path) -> bool:
    """A symbolic link to a name beside it, as ``point_latest`` writes."""
    if not latest.is_symlink():
        return False
    target = os.readlink(latest)
    return "/" not in target and target not in ("", ".", "..")


def _refuse(folder: Path, reason: str) -> None:
    raise FolderRefused(f"refusing to write {folder}: {reason}")


def lock_path(run_dir: Path) -> Path:
    """The lock file of a run folder: ``<parent>/.<name>.lock``."""
    return run_dir.parent / f".{run_dir.name}.lock"


@contextlib.contextmanager
def run_lock(run_dir: Path) -> Iterator[None]:
    """Hold ``<parent>/.<name>.lock`` for the run; a second run into the same folder refuses.

    The file is opened without truncating and without following a symbolic link: a file of that
    name is never changed."""
    run_dir.parent.mkdir(parents=True, exist_ok=True)
    lock = lock_path(run_dir)
    try:
        descriptor = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.EISDIR):
            _refuse(lock, "it is not drawdown's lock file: rename it or choose another --out")
        raise
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunLocked(
                f"another drawdown run is writing {run_dir} (lock {lock}); wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


def staging_dir(run_dir: Path) -> Path:
    """A fresh, empty staging folder beside ``run_dir``; first removes the staging folders that
    runs which were killed left beside it (their process is gone)."""
    remove_abandoned(run_dir.parent)
    stage = run_dir.parent / f".{run_dir.name}.staging-{os.getpid()}"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    return stage


def remove_abandoned(parent: Path) -> list[Path]:
    """Remove ``.<name>.staging-<pid>`` and ``.<name>.retired-<pid>`` folders in ``parent`` whose
    process is gone; return them."""
    removed = []
    try:
        candidates = list(parent.iterdir())
    except OSError:
        return removed
    for path in candidates:
        match = _STAGING.match(path.name)
        if match is None or path.is_symlink() or not path.is_dir():
            continue
        pid = int(match["pid"])
        if pid != os.getpid() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def failed_dir(run_dir: Path) -> Path:
    """Where a failed run's staging folder is kept: ``<parent>/<name>.failed``."""
    return run_dir.parent / f"{run_dir.name}.failed"


def keep_failed(stage: Path, run_dir: Path) -> Path:
    """Move a failed staging folder to ``<name>.failed`` (replacing an older failed run); return
    it. A ``<name>.failed`` that is not drawdown's is left alone: the stage keeps its name."""
    target = failed_dir(run_dir)
    if not _ours_or_missing(target):
        return stage
    shutil.rmtree(target, ignore_errors=True)
    stage.rename(target)
    return target


def publish(stage: Path, run_dir: Path) -> None:
    """Replace ``run_dir`` with ``stage`` and point ``latest`` at it.

    The old folder is moved aside before the rename and removed after, so ``run_dir`` is never
    a mix of two runs. Only an earlier run (or an empty folder) is ever replaced.
    """
    _check_own_or_new(run_dir, "the run folder")
    retired = run_dir.parent / f".{run_dir.name}.retired-{os.getpid()}"
    if run_dir.exists():
        run_dir.rename(retired)
    stage.rename(run_dir)
    shutil.rmtree(retired, ignore_errors=True)
    if _ours_or_missing(failed_dir(run_dir)):
        shutil.rmtree(failed_dir(run_dir), ignore_errors=True)
    point_latest(run_dir)


def _ours_or_missing(folder: Path) -> bool:
    if not os.path.lexists(folder):
        return True
    return not folder.is_symlink() and any(
        (folder / name).is_file() for name in (MANIFEST, RUN_LOG)
    )


def point_latest(run_dir: Path) -> None:
    """Atomically make ``<parent>/latest`` a relative symlink to ``run_dir`` (never replacing a
    ``latest`` that is not drawdown's link)."""
    link = run_dir.parent / LATEST
    if os.path.lexists(link) and not _is_our_latest(link):
        _refuse(link, "it is not drawdown's `latest` link: rename it or choose another --out")
    temporary = run_dir.parent / f".{LATEST}.{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        temporary.unlink()
    temporary.symlink_to(run_dir.name)
    os.replace(temporary, link)
