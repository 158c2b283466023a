"""Faults a run survives: a killed kernel, a cell that raises, a failing renderer, a full disk, two
runs into one folder.

Each test starts from a copy of one published run (``runs/good``, ``runs/latest`` -> good) and
runs into ``runs/next``. In every case: a non-zero exit with a clear one-line reason (never a
traceback as the only output), ``runs/good`` and ``runs/latest`` untouched, no ``runs/next`` (no
partial run where a complete one is expected), and the same run succeeds once the fault is gone.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from typer.testing import CliRunner, Result

from drawdown.cli import app
from drawdown.run import folders, pipeline, steps

pytestmark = pytest.mark.slow
runner = CliRunner()


def _run(book: Path, out: Path, *extra: str) -> Result:
    return runner.invoke(
        app, ["run", "--data", str(book), "--out", str(out), "--format", "none", *extra]
    )


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file of ``folder`` with the sha256 of its bytes."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def published(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A runs folder holding one successful run ``good`` (and its metric cache)."""
    runs = tmp_path_factory.mktemp("published") / "runs"
    result = _run(small_book, runs / "good")
    assert result.exit_code == 0, result.output
    return runs


@pytest.fixture
def runs(published: Path, tmp_path: Path) -> Path:
    """A private copy of the published runs folder."""
    copy = tmp_path / "runs"
    shutil.copytree(published, copy, symlinks=True)
    return copy


def _assert_failed_cleanly(result: Result, runs: Path, before: dict[str, str], reason: str):
    """Non-zero exit naming ``reason``, no traceback; good and latest intact; no runs/next."""
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    assert reason in result.output, result.output
    assert (runs / "latest").resolve() == (runs / "good").resolve()
    assert _fingerprint(runs / "good") == before
    assert not (runs / "next").exists()


def _broken_notebooks(tmp_path: Path, source: str) -> Path:
    """A copy of the compute notebooks whose portfolio notebook ends with a cell ``source``."""
    broken = tmp_path / "broken_notebooks"
    shutil.copytree(pipeline.COMPUTE_NOTEBOOKS, broken)
    notebook = nbformat.read(broken / "portfolio.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    nbformat.write(notebook, broken / "portfolio.ipynb")
    return broken


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)", "portfolio.ipynb"),
        ('raise RuntimeError("boom")', "portfolio.ipynb failed in cell"),
    ],
    ids=["kernel_killed", "cell_raises"],
)
def test_a_failing_notebook_leaves_the_published_run_and_a_rerun_succeeds(
    small_book: Path,
    runs: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    cell: str,
    reason: str,
):
    before = _fingerprint(runs / "good")
    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "COMPUTE_NOTEBOOKS", _broken_notebooks(tmp_path, cell))
        result = _run(small_book, runs / "next")
    _assert_failed_cleanly(result, runs, before, reason)
    assert (runs / "next.failed" / "manifest.json").is_file()
    named = re.search(r"(?:the traceback is in|see) (\S+\.ipynb)", result.output)
    assert named is not None and Path(named[1]).is_file(), result.output
    assert not list(runs.glob(".*.staging-*"))
    rerun = _run(small_book, runs / "next")
    assert rerun.exit_code == 0, rerun.output
    assert (runs / "latest").resolve() == (runs / "next").resolve()
    assert not (runs / "next.failed").exists()


def test_a_failing_renderer_leaves_no_partial_reports_and_a_rerun_succeeds(
    small_book: Path, runs: Path, monkeypatch: pytest.MonkeyPatch
):
    before = _fingerprint(runs / "good")

    def _chromium_crashed(*args, **kwargs):
        raise RuntimeError("chromium exited with status 139")

    with monkeypatch.context() as patch:
        patch.setattr(steps, "render", _chromium_crashed)
        result = _run(small_book, runs / "next", "--format", "html", "--top", "0")
    _assert_failed_cleanly(result, runs, before, "chromium exited with status 139")
    assert not list((runs / "next.failed").glob("reports/*.html"))
    rerun = _run(small_book, runs / "next", "--format", "html", "--top", "0")
    assert rerun.exit_code == 0, rerun.output
    assert sorted(p.name for p in (runs / "next" / "reports").iterdir()) == [
        "csm",  # the CSM books
        "executive_review.html",
        "usage_clinic.html",
    ]


def _disk_full(write_json, failures: int):
    """``steps.write_json`` that raises ENOSPC for its first ``failures`` calls, then writes."""
    calls = []

    def write(path: Path, payload: dict) -> None:
        calls.append(path)
        if len(calls) <= failures:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        write_json(path, payload)

    return write


@pytest.mark.parametrize(
    "failures",
    [
        1,
        10**6,
    ],
    ids=["disk_full_then_freed", "disk_stays_full"],
)
def test_a_full_disk_fails_with_its_reason_and_a_rerun_succeeds(
    small_book: Path, runs: Path, monkeypatch: pytest.MonkeyPatch, failures: int
):
    before = _fingerprint(runs / "good")
    with monkeypatch.context() as patch:
        patch.setattr(steps, "write_json", _disk_full(steps.write_json, failures))
        result = _run(small_book, runs / "next", "--set", "as_of=2026-11-01")
    _assert_failed_cleanly(result, runs, before, "No space left on device")
    rerun = _run(small_book, runs / "next", "--set", "as_of=2026-11-01")
    assert rerun.exit_code == 0, rerun.output


def test_a_second_run_into_a_locked_folder_refuses_and_leaves_the_first_alone(
    small_book: Path, runs: Path
):
    before = _fingerprint(runs / "good")
    with folders.run_lock(runs / "good"):
        result = _run(small_book, runs / "good")
        assert result.exit_code == 1
        assert isinstance(result.exception, SystemExit)
        assert "another drawdown run is writing" in result.output
        assert "Traceback" not in result.output
        assert _fingerprint(runs / "good") == before
        assert (runs / "latest").resolve() == (runs / "good").resolve()
    rerun = _run(small_book, runs / "good")
    assert rerun.exit_code == 0, rerun.output


def _default_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize(
    ("sig", "status", "name"),
    [(signal.SIGTERM, 143, "SIGTERM"), (signal.SIGINT, 130, "Ctrl-C")],
    ids=["sigterm", "ctrl_c"],
)
def test_an_interrupted_run_stops_within_seconds_and_puts_its_stage_away(
    small_book: Path, runs: Path, sig: int, status: int, name: str
):
    """A run interrupted while its notebooks execute: the one line, 130 / 143, the previous run
    and latest intact, the failed run's manifest, no staging folder, no kernel left running."""
    before = _fingerprint(runs / "good")
    drawdown = Path(sys.executable).parent / "drawdown"
    command = [str(drawdown), "run", "--data", str(small_book), "--out", str(runs / "next")]
    # a cache miss, so the notebooks run; with reports to execute and render after them, so that
    # the run is still going when the signal comes (with --format none, a quiet machine finished
    # the small book before a loaded test process sent it: the run exited 0)
    command += ["--format", "html", "--set", "as_of=2026-10-31"]
    # preexec_fn: Ctrl-C's default disposition, as in a terminal. A test run started as a
    # background job (`make test &`, a CI runner) has SIGINT ignored, and a child inherits that:
    # drawdown then rightly ignores Ctrl-C, like any background job, and this test failed
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_ctrl_c,
    )
    deadline = time.monotonic() + 300
    while not list(runs.glob(".next.staging-*/notebooks/*.ipynb")) and process.poll() is None:
        assert time.monotonic() < deadline, "the run never reached its notebooks"
        time.sleep(0.2)
    assert process.poll() is None, process.communicate()
    # Ctrl-C in a terminal reaches the whole process group; SIGTERM only drawdown itself
    if sig == signal.SIGINT:
        os.killpg(process.pid, sig)
    else:
        process.send_signal(sig)
    _, err = process.communicate(timeout=60)  # a run that hangs after the signal fails here
    assert process.returncode == status, err
    lines = [line for line in err.splitlines() if line.startswith("drawdown:")]
    assert lines == [f"drawdown: interrupted by {name}; earlier runs and latest are as they were"]
    assert "Traceback" not in err
    assert (runs / "latest").resolve() == (runs / "good").resolve()
    assert _fingerprint(runs / "good") == before
    assert not list(runs.glob(".*.staging-*")) and not (runs / "next").exists()
    manifest = json.loads((runs / "next.failed" / "manifest.json").read_text())
    assert manifest["status"] == "failed" and "interrupted" in manifest["message"]
    rerun = _run(small_book, runs / "next", "--set", "as_of=2026-10-31")
    assert rerun.exit_code == 0, rerun.output
