"""Run folders: published by rename, latest moves only on success, one writer at a time."""

import os
import subprocess
from pathlib import Path

import pytest

from drawdown.run.folders import (
    FolderRefused,
    RunLocked,
    check_run_dir,
    keep_failed,
    point_latest,
    publish,
    run_lock,
    staging_dir,
)


def test_publish_replaces_the_previous_run_and_points_latest_at_it(tmp_path):
    run_dir = tmp_path / "2026-11-15"
    run_dir.mkdir()
    (run_dir / "manifest.json").write_text("old")
    stage = staging_dir(run_dir)
    (stage / "new.txt").write_text("new")
    publish(stage, run_dir)
    assert sorted(p.name for p in run_dir.iterdir()) == ["new.txt"]
    assert (tmp_path / "latest").resolve() == run_dir.resolve()
    assert not stage.exists()


def test_a_failed_stage_is_kept_aside_and_latest_is_untouched(tmp_path):
    good = tmp_path / "2026-10-31"
    publish(staging_dir(good), good)
    run_dir = tmp_path / "2026-11-15"
    failed = keep_failed(staging_dir(run_dir), run_dir)
    assert failed.name == "2026-11-15.failed"
    assert not run_dir.exists()
    assert (tmp_path / "latest").resolve() == good.resolve()


def test_a_second_run_into_the_same_folder_refuses(tmp_path):
    run_dir = tmp_path / "2026-11-15"
    with (
        run_lock(run_dir),
        pytest.raises(RunLocked, match="another drawdown run"),
        run_lock(run_dir),
    ):
        pass


def test_the_lock_is_released_after_the_run(tmp_path):
    run_dir = tmp_path / "2026-11-15"
    with run_lock(run_dir):
        pass
    with run_lock(run_dir):
        pass


# --- drawdown never deletes or changes what it did not write (docs/reliability.md#guarantees) ---


def _run_folder(folder):
    folder.mkdir(parents=True)
    (folder / "manifest.json").write_text("{}")
    return folder


@pytest.mark.parametrize("state", ["missing", "empty", "earlier_run"])
def test_a_new_empty_or_earlier_run_folder_is_accepted(tmp_path, state):
    run_dir = tmp_path / "runs" / "r"
    if state == "empty":
        run_dir.mkdir(parents=True)
    elif state == "earlier_run":
        _run_folder(run_dir)
    check_run_dir(run_dir, "data", cwd=tmp_path)


def test_a_folder_of_user_files_is_refused_and_kept(tmp_path):
    run_dir = tmp_path / "mine"
    run_dir.mkdir()
    (run_dir / "thesis.docx").write_text("years of work")
    with pytest.raises(
        FolderRefused, match=r"mine: the run folder holds files and is not a drawdown run"
    ):
        check_run_dir(run_dir, "data", cwd=tmp_path / "elsewhere")
    assert (run_dir / "thesis.docx").read_text() == "years of work"


def test_a_file_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(FolderRefused, match="is a file"):
        check_run_dir(tmp_path / "notes.txt", None, cwd=tmp_path / "elsewhere")


@pytest.mark.parametrize(
    ("out", "reason"),
    [(".", "it is the current directory"), ("..", "it holds the current directory")],
)
def test_the_current_directory_and_its_parents_are_refused(tmp_path, out, reason):
    here = tmp_path / "project"
    here.mkdir()
    with pytest.raises(FolderRefused, match=reason):
        check_run_dir(here / out, None, cwd=here)


@pytest.mark.parametrize(
    ("out", "reason"),
    [
        ("data", "it is the data source"),
        (".", "it holds the data source"),
        ("data/run", "it is inside the data source"),
    ],
)
def test_the_data_source_and_folders_around_it_are_refused(tmp_path, out, reason):
    (tmp_path / "data").mkdir()
    with pytest.raises(FolderRefused, match=reason):
        check_run_dir(tmp_path / out, str(tmp_path / "data"), cwd=Path("/"))


@pytest.mark.parametrize("kind", ["file", "folder", "foreign_link"])
def test_a_latest_that_is_not_drawdowns_is_refused_and_never_replaced(tmp_path, kind):
    latest = tmp_path / "latest"
    if kind == "file":
        latest.write_text("my notes")
    elif kind == "folder":
        latest.mkdir()
    else:
        latest.symlink_to("/etc")
    with pytest.raises(FolderRefused, match="not drawdown's `latest`"):
        check_run_dir(tmp_path / "r", None, cwd=tmp_path / "x")
    with pytest.raises(FolderRefused):
        point_latest(tmp_path / "r")
    if kind == "file":
        assert latest.read_text() == "my notes"
    assert latest.is_symlink() == (kind == "foreign_link")


def test_a_failed_folder_that_is_not_drawdowns_is_refused(tmp_path):
    (tmp_path / "r.failed").mkdir()
    (tmp_path / "r.failed" / "keep.txt").write_text("x")
    with pytest.raises(FolderRefused, match=r"r.failed: a failed run's folder holds files"):
        check_run_dir(tmp_path / "r", None, cwd=tmp_path / "x")


def test_a_lock_file_of_the_users_is_never_truncated(tmp_path):
    lock = tmp_path / ".r.lock"
    lock.write_text("precious")
    with run_lock(tmp_path / "r"):
        pass
    assert lock.read_text() == "precious"


def test_a_lock_name_taken_by_a_folder_is_refused(tmp_path):
    (tmp_path / ".r.lock").mkdir()
    with pytest.raises(FolderRefused, match="not drawdown's lock"):
        check_run_dir(tmp_path / "r", None, cwd=tmp_path / "x")


def test_publish_never_replaces_a_folder_of_user_files(tmp_path):
    run_dir = tmp_path / "r"
    stage = staging_dir(run_dir)
    run_dir.mkdir()
    (run_dir / "mine.txt").write_text("x")
    with pytest.raises(FolderRefused):
        publish(stage, run_dir)
    assert (run_dir / "mine.txt").read_text() == "x"


def test_staging_folders_of_killed_runs_are_removed_by_the_next_run(tmp_path):
    dead = subprocess.Popen(["true"])
    dead.wait()
    abandoned = tmp_path / f".r.staging-{dead.pid}"
    (abandoned / "artifacts").mkdir(parents=True)
    retired = tmp_path / f".old.retired-{dead.pid}"
    retired.mkdir()
    alive = tmp_path / f".other.staging-{os.getppid()}"
    alive.mkdir()
    user = tmp_path / ".notes.staging-backup"
    user.mkdir()
    stage = staging_dir(tmp_path / "r")
    assert stage.is_dir()
    assert not abandoned.exists() and not retired.exists()
    assert alive.is_dir() and user.is_dir()
