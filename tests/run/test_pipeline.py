"""`drawdown run` end to end on a small sample book (reports skipped with --format none)."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import nbformat
import polars as pl
import pytest
from typer.testing import CliRunner

from drawdown.artifacts import PARTITIONED
from drawdown.cli import app
from drawdown.errors import StepFailed
from drawdown.params import load_params
from drawdown.reports import data as report_data
from drawdown.run import pipeline
from drawdown.run.pipeline import RunRequest

pytestmark = pytest.mark.slow
runner = CliRunner()

ARTIFACTS = (
    "account_health",
    "account_actions",
    "changes",
    "overage_cases",
    "segment_summary",
    "ttfbe_cohorts",
    "daily_spend",
    "meter_months",
    "account_months",
    "consumption_forecast",
    "limit_crossing",
    "forecast_backtest",
    "renewal_scenarios",
)


def _run(book: Path, out: Path, *extra: str):
    return runner.invoke(
        app, ["run", "--data", str(book), "--out", str(out), "--format", "none", *extra]
    )


@pytest.fixture(scope="module")
def first_run(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("runs") / "first"
    result = _run(small_book, out, "--set", "reset.start_date=2026-10-05")
    assert result.exit_code == 0, result.output
    return out


def test_run_writes_every_artifact_export_notebook_and_the_manifest(first_run: Path):
    for name in (*ARTIFACTS, "reset_tracker", "reset_comparison"):
        if name in PARTITIONED:  # a small book: one part
            assert (first_run / "artifacts" / name / "part-00000.parquet").is_file(), name
        else:
            assert (first_run / "artifacts" / f"{name}.parquet").is_file(), name
    assert (first_run / "artifacts" / "data_quality.json").is_file()
    assert (first_run / "artifacts" / "previous_month" / "segment_summary.parquet").is_file()
    for name in ("account_health", "overage_cases"):
        assert (first_run / "artifacts" / "previous_week" / f"{name}.parquet").is_file()
    assert (first_run / "exports" / "overconsumption_cases.csv").is_file()
    assert (first_run / "exports" / "alert_digest.md").is_file()
    executed = sorted(p.stem for p in (first_run / "notebooks").glob("*.ipynb"))
    assert executed == [
        "actions",
        "forecast",
        "history",
        "overconsumption",
        "portfolio",
        "reset_tracker",
        "usage_health",
    ]
    manifest = json.loads((first_run / "manifest.json").read_text())
    assert manifest["status"] == "succeeded"
    assert manifest["as_of"] == "2026-11-15"
    assert set(manifest["timings_seconds"]) >= {"validate", "usage_health", "exports"}
    assert manifest["inputs"]["usage.csv"]
    # no run before this one: the changes compare with the book as of A - 7 days
    assert manifest["compared_with"] == {"run": None, "as_of": "2026-11-08"}


def test_a_first_run_does_not_claim_a_previous_run(first_run: Path):
    # no run before it: its changes compare with the book recomputed a week earlier, and the
    # digest and the reports say so instead of "since the previous run"
    digest = (first_run / "exports" / "alert_digest.md").read_text(encoding="utf-8")
    assert "Since the book a week earlier (as of 2026-11-08; no earlier run to compare with):" in (
        digest
    )
    assert "previous run" not in digest
    assert not report_data.load_run(first_run).compared_with_run


def test_executed_notebooks_record_the_parameters_they_ran_with(first_run: Path):
    notebook = nbformat.read(first_run / "notebooks" / "usage_health.ipynb", as_version=4)
    injected = [c for c in notebook.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and '"start_date": "2026-10-05"' in injected[0].source


def test_latest_points_at_the_published_run(first_run: Path):
    assert (first_run.parent / "latest").resolve() == first_run.resolve()


def test_set_moves_accounts_between_bands(small_book: Path, first_run: Path, tmp_path: Path):
    result = _run(
        small_book, tmp_path / "wide", "--set", "bands.band_low=0.0", "--set", "bands.band_high=10"
    )  # 10 (1000% of the commit) is the highest band_high accepted
    assert result.exit_code == 0, result.output
    before = pl.read_parquet(first_run / "artifacts" / "account_health.parquet")["band"]
    after = pl.read_parquet(tmp_path / "wide" / "artifacts" / "account_health.parquet")["band"]
    assert before.is_in(["under", "over"]).sum() > 0
    assert after.is_in(["under", "over"]).sum() == 0


def test_two_identical_runs_give_byte_identical_artifacts_and_exports(
    small_book: Path, first_run: Path, tmp_path: Path
):
    again = tmp_path / "again"
    assert _run(small_book, again, "--set", "reset.start_date=2026-10-05").exit_code == 0
    for folder in ("artifacts", "exports"):
        for path in sorted((first_run / folder).rglob("*")):
            if path.is_file():
                twin = again / path.relative_to(first_run)
                assert twin.read_bytes() == path.read_bytes(), path.relative_to(first_run)


def test_an_earlier_as_of_reproduces_the_month_earlier_view(
    small_book: Path, first_run: Path, tmp_path: Path
):
    result = _run(small_book, tmp_path / "october", "--set", "as_of=2026-10-15")
    assert result.exit_code == 0, result.output
    earlier = pl.read_parquet(tmp_path / "october" / "artifacts" / "segment_summary.parquet")
    recorded = pl.read_parquet(
        first_run / "artifacts" / "previous_month" / "segment_summary.parquet"
    )
    assert earlier.equals(recorded)


def test_an_unknown_parameter_exits_2_naming_it(small_book: Path, tmp_path: Path):
    result = _run(small_book, tmp_path / "bad", "--set", "bands.band_lo=0.8")
    assert result.exit_code == 2
    assert "bands.band_lo" in result.output and "band_low" in result.output
    assert not (tmp_path / "bad").exists()


def test_a_failing_notebook_exits_1_and_leaves_latest_untouched(
    small_book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    good = tmp_path / "runs" / "good"
    assert _run(small_book, good).exit_code == 0
    broken = tmp_path / "broken_notebooks"
    shutil.copytree(pipeline.COMPUTE_NOTEBOOKS, broken)
    notebook = nbformat.read(broken / "portfolio.ipynb", as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell('raise RuntimeError("boom")'))
    nbformat.write(notebook, broken / "portfolio.ipynb")
    monkeypatch.setattr(pipeline, "COMPUTE_NOTEBOOKS", broken)

    target = tmp_path / "runs" / "next"
    params = load_params(overrides={"source": str(small_book)})
    with pytest.raises(
        StepFailed, match=r"portfolio.ipynb failed in cell \d+ \(RuntimeError: boom\)"
    ):
        pipeline.run(params, RunRequest(out=target, formats=()))
    assert not target.exists()
    assert (tmp_path / "runs" / "next.failed" / "notebooks" / "portfolio.ipynb").is_file()
    assert (tmp_path / "runs" / "latest").resolve() == good.resolve()
    failed_manifest = json.loads((tmp_path / "runs" / "next.failed" / "manifest.json").read_text())
    assert failed_manifest["status"] == "failed"


# --- what changed since the previous run ---


def _cases(run: Path) -> set[str]:
    return set(pl.read_parquet(run / "artifacts" / "overage_cases.parquet")["account_id"])


def _changes(run: Path) -> pl.DataFrame:
    return pl.read_parquet(run / "artifacts" / "changes.parquet")


def _kind(changes: pl.DataFrame, kind: str) -> set[str]:
    return set(changes.filter(pl.col("change") == kind)["account_id"])


@pytest.fixture(scope="module")
def week_apart(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two runs a week apart in one runs folder: 2026-11-01, then 2026-11-08."""
    runs = tmp_path_factory.mktemp("weekly")
    for as_of in ("2026-11-01", "2026-11-08"):
        result = _run(small_book, runs / as_of, "--set", f"as_of={as_of}")
        assert result.exit_code == 0, result.output
    return runs / "2026-11-01", runs / "2026-11-08"


def test_two_runs_a_week_apart_count_new_and_resolved_cases_as_the_set_difference(
    week_apart: tuple[Path, Path],
):
    before, after = week_apart
    changes = _changes(after)
    assert _kind(changes, "new_case") == _cases(after) - _cases(before)
    assert _kind(changes, "resolved") == _cases(before) - _cases(after)
    assert _kind(changes, "new_case")  # the small book opens cases in that week
    assert set(changes["previous_as_of"]) == {date(2026, 11, 1)}
    manifest = json.loads((after / "manifest.json").read_text())
    assert manifest["compared_with"] == {"run": str(before.resolve()), "as_of": "2026-11-01"}
    digest = (after / "exports" / "alert_digest.md").read_text(encoding="utf-8")
    assert "Since the previous run (as of 2026-11-01):" in digest
    assert report_data.load_run(after).compared_with_run


def test_compare_to_names_the_run_to_compare_with(
    small_book: Path, week_apart: tuple[Path, Path], tmp_path: Path
):
    before, after = week_apart
    result = _run(
        small_book, tmp_path / "again", "--set", "as_of=2026-11-08", "--compare-to", str(before)
    )
    assert result.exit_code == 0, result.output
    assert _changes(tmp_path / "again").equals(_changes(after))


def test_compare_to_a_folder_that_is_no_run_exits_2(small_book: Path, tmp_path: Path):
    (tmp_path / "not_a_run").mkdir()
    result = _run(small_book, tmp_path / "out", "--compare-to", str(tmp_path / "not_a_run"))
    assert result.exit_code == 2
    assert "compare_to" in result.output and "not a drawdown run folder" in result.output
    assert not (tmp_path / "out").exists()


def test_a_cached_rerun_compares_with_its_own_previous_run(
    small_book: Path, week_apart: tuple[Path, Path]
):
    before, after = week_apart
    published = (after / "artifacts" / "changes.parquet").read_bytes()
    runs = after.parent
    # the metrics of 2026-11-08 are cached; compared with the run of 2026-11-08 itself (same
    # as_of: no earlier run to compare with), the changes are those against the book at A - 7
    result = _run(small_book, runs / "rerun", "--set", "as_of=2026-11-08")
    assert result.exit_code == 0, result.output
    assert "metrics reused from the cache" in (runs / "rerun" / "run.log").read_text()
    rerun = _changes(runs / "rerun")
    assert _kind(rerun, "new_case") == _cases(after) - _cases(before)
    assert set(rerun["previous_as_of"]) == {date(2026, 11, 1)}
    # ... and compared with another run, the cached metrics get other changes
    result = _run(
        small_book, runs / "against_itself", "--set", "as_of=2026-11-08", "--compare-to", str(after)
    )
    assert result.exit_code == 0, result.output
    assert _changes(runs / "against_itself").height == 0
    # the cache holds no changes, and the published run's changes are untouched
    assert not list((runs / ".drawdown-cache").rglob("changes.parquet"))
    assert (after / "artifacts" / "changes.parquet").read_bytes() == published
