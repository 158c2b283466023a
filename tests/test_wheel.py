"""An installed drawdown runs: the wheel carries the notebooks, the report project and the params
files, so a fresh virtual environment with only the wheel (and its locked dependencies) computes a
run from any folder, far from the source checkout."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def _uv() -> list[str]:
    found = shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"{args[:3]} exited {done.returncode}:\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv holding the wheel built from this checkout; returns its ``drawdown``."""
    work = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    _run(*uv, "build", "--wheel", "--out-dir", work / "dist", ROOT, cwd=work)
    requirements = work / "requirements.txt"
    _run(
        *uv, "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes",
        "--output-file", requirements, cwd=ROOT,
    )  # fmt: skip
    venv = work / "venv"
    _run(*uv, "venv", "--quiet", "--python", sys.executable, venv, cwd=work)
    wheel = next((work / "dist").glob("drawdown-*.whl"))
    python = venv / "bin" / "python"
    _run(*uv, "pip", "install", "--quiet", "--python", python, "-r", requirements, wheel, cwd=work)
    return venv / "bin" / "drawdown"


def test_the_wheel_ships_notebooks_reports_params_and_docs(installed: Path) -> None:
    packaged = next(installed.parents[1].glob("lib/python*/site-packages/drawdown/_resources"))
    assert (packaged / "notebooks" / "usage_health.ipynb").is_file()
    assert (packaged / "reports" / "executive_review.ipynb").is_file()
    assert (packaged / "reports" / "_quarto.yml").is_file()
    assert (packaged / "params" / "default.yaml").is_file()
    assert (packaged / "docs" / "metrics.md").is_file()


def test_an_installed_drawdown_runs_from_any_folder(installed: Path, tmp_path: Path) -> None:
    _run(installed, "sample", "--out", "book", "--accounts", "30", "--days", "400", cwd=tmp_path)
    _run(
        installed, "run", "--data", "book", "--format", "none", "--out", "runs/first", cwd=tmp_path
    )
    run = tmp_path / "runs" / "first"
    assert json.loads((run / "manifest.json").read_text())["status"] == "succeeded"
    assert (run / "artifacts" / "account_health.parquet").is_file()
    assert (run / "notebooks" / "usage_health.ipynb").is_file()
