"""Run folders: published by rename, latest moves only on success, one writer at a time."""

import pytest

from drawdown.run.folders import RunLocked, keep_failed, publish, run_lock, staging_dir


def test_publish_replaces_the_previous_run_and_points_latest_at_it(tmp_path):
    run_dir = tmp_path / "2026-11-15"
    run_dir.mkdir()
    (run_dir / "old.txt").write_text("old")
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
