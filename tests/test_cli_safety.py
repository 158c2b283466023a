"""End to end through the CLI: drawdown never destroys what it did not write, and every path
exits with 0, 1, 2, 130 or 143 (docs/reliability.md#guarantees)."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from _folders import write_folder
from drawdown.cli import app
from drawdown.run import pipeline


def _drawdown(*args: str, cwd: Path) -> Result:
    """``drawdown *args`` run in ``cwd``: a clean exit, never a traceback."""
    here = Path.cwd()
    os.chdir(cwd)
    try:
        result = CliRunner().invoke(app, list(args))
    finally:
        os.chdir(here)
    assert not isinstance(result.exception, Exception) or isinstance(
        result.exception, SystemExit
    ), result.exception
    assert "Traceback" not in result.output
    return result


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_run_out_dot_in_a_folder_with_a_file_exits_2_and_keeps_the_file(
    small_book: Path, tmp_path: Path
):
    (tmp_path / "keep.txt").write_text("mine")
    result = _drawdown("run", "--data", str(small_book), "--out", ".", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "it is the current directory" in result.output
    assert "Traceback" not in result.output
    assert _tree(tmp_path) == {"keep.txt": b"mine"}


def test_run_out_at_the_data_folder_exits_2_and_keeps_the_data(small_book: Path, tmp_path: Path):
    before = _tree(small_book)
    result = _drawdown("run", "--data", str(small_book), "--out", str(small_book), cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert f"refusing to write {small_book}: it is the data source" in result.output
    assert _tree(small_book) == before
    assert list(tmp_path.iterdir()) == []


def test_run_out_at_a_folder_of_user_files_exits_2(small_book: Path, tmp_path: Path):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "a.txt").write_text("a")
    result = _drawdown("run", "--data", str(small_book), "--out", "mine", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "not a drawdown run (no manifest.json)" in result.output
    assert _tree(tmp_path) == {"mine/a.txt": b"a"}


def test_a_users_latest_file_is_never_replaced(small_book: Path, tmp_path: Path):
    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "latest").write_text("my notes")
    result = _drawdown("run", "--data", str(small_book), "--out", "runs/x", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "not drawdown's `latest`" in result.output
    assert _tree(tmp_path) == {"runs/latest": b"my notes"}


def test_sample_out_never_overwrites_a_users_file(tmp_path: Path):
    (tmp_path / "accounts.csv").write_text("mine")
    result = _drawdown("sample", "--out", ".", "--accounts", "5", "--days", "60", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "accounts.csv is not a file an earlier drawdown sample wrote" in result.output
    assert _tree(tmp_path) == {"accounts.csv": b"mine"}


# --- bounds: refused before anything is computed, naming the key and what it accepts ---


def test_an_as_of_outside_the_datas_years_exits_2(tmp_path: Path):
    book = write_folder(tmp_path / "book")
    result = _drawdown("run", "--data", "book", "--set", "as_of=1999-01-01", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "as_of: 1999-01-01 is outside the data's years; it accepts 2025-01-01 to 2027-12-31" in (
        result.output
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"] and book.is_dir()


def test_an_unknown_scope_segment_exits_2_listing_the_segments(tmp_path: Path):
    write_folder(tmp_path / "book")
    result = _drawdown("run", "--data", "book", "--set", "scope.segment=Mid", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "scope.segment: 'Mid' is not a segment of the book; it accepts 'Enterprise', 'SMB'" in (
        result.output
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["book"]


def test_an_impossible_date_exits_2_naming_the_key(tmp_path: Path):
    write_folder(tmp_path / "book")
    result = _drawdown("run", "--data", "book", "--set", "as_of=2026-02-30", cwd=tmp_path)
    assert result.exit_code == 2, result.output
    assert "bad value for 'as_of'" in result.output


# --- faults of the machine: one line, exit 1, no traceback ---


def test_stdout_on_a_full_device_is_one_line_and_exit_1(tmp_path: Path):
    drawdown = Path(sys.executable).parent / "drawdown"
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [str(drawdown), "sample", "--out", "book", "--accounts", "5", "--days", "60"],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert result.returncode == 1, result.stderr
    assert result.stderr.strip().splitlines() == [
        "drawdown: cannot write the output (No space left on device)"
    ]


def test_a_read_only_runs_folder_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    # root ignores file modes, so the refusal a read-only folder gives is simulated
    def read_only(run_dir: Path) -> Path:
        raise PermissionError(errno.EACCES, "Permission denied", str(run_dir.parent))

    monkeypatch.setattr(pipeline, "staging_dir", read_only)
    write_folder(tmp_path / "book")
    result = _drawdown("run", "--data", "book", "--out", "runs/r", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.output.strip() == f"drawdown: Permission denied: {tmp_path / 'runs'}"


def test_an_unexpected_error_is_one_line_and_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("division by zero")

    monkeypatch.delenv("DRAWDOWN_DEBUG", raising=False)
    monkeypatch.setattr(pipeline.steps, "validate_source", broken)
    write_folder(tmp_path / "book")
    result = _drawdown("run", "--data", "book", cwd=tmp_path)
    assert result.exit_code == 1
    assert result.output.strip().startswith("drawdown: internal error (ZeroDivisionError")
