"""Security (docs/data-contract.md#errors-and-bad-input): data is escaped in every report, account ids never leave the run
folder as file names, and secrets never reach notebooks, reports, logs, manifests or messages."""

from __future__ import annotations

import os
from pathlib import Path

import papermill as pm
import polars as pl
import pytest
from typer.testing import CliRunner

from _report_run import write_run
from drawdown.cli import app
from drawdown.params import Params
from drawdown.reports import render
from drawdown.run import pipeline

runner = CliRunner()

INJECTED = {
    "account_name": '<script>alert("name")</script>',
    "csm_owner": "<img src=x onerror=alert(2)>",
    "owner_first_conversation": "<img src=x onerror=alert(2)>",
    "ae_owner": "<b onmouseover=alert(3)>AE</b>",
    "owner_expansion": "<b onmouseover=alert(3)>AE</b>",
    "meter": "<svg onload=alert(4)>",
    "segment": "<iframe src=javascript:alert(5)>",
}
"""Markup planted in every text column of the artifacts that reports show."""
TAGS = ("<script", "<img src=x", "<b onmouseover", "<svg onload", "<iframe")
SECRET = "S3cretPlanted"
PLANTED_URI = f"postgresql://user:{SECRET}@127.0.0.1:1/db"


# -- escaping ------------------------------------------------------------------------------------


def _inject(run_dir: Path) -> None:
    """Rewrite every artifact with the INJECTED markup in each text column it has (segment
    ``All``, the portfolio row, is kept)."""
    for path in (run_dir / "artifacts").rglob("*.parquet"):
        frame = pl.read_parquet(path)
        frame.with_columns(
            pl.when(pl.col(column).is_not_null() & (pl.col(column) != "All"))
            .then(pl.lit(text))
            .otherwise(pl.col(column))
            .alias(column)
            for column, text in INJECTED.items()
            if column in frame.columns
        ).write_parquet(path)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Executive review, usage clinic and account review of A2 on the injected tiny run, as HTML."""
    root = tmp_path_factory.mktemp("injected")
    run_dir = write_run(root / "run")
    _inject(run_dir)
    params = Params.model_validate({"reset": {"start_date": "2026-03-09"}}).to_notebook()
    executed = []
    for stem, extra in (
        ("executive_review", {}),
        ("usage_clinic", {}),
        ("account_review", {"account_id": "A2"}),
    ):
        target = root / "notebooks" / f"{stem}.ipynb"
        target.parent.mkdir(exist_ok=True)
        pm.execute_notebook(
            render.REPORTS_DIR / f"{stem}.ipynb",
            target,
            parameters={"run_dir": str(run_dir), "params": params, **extra},
            kernel_name="drawdown",
            progress_bar=False,
        )
        executed.append(target)
    written = render.render_reports(executed, root / "out", ["html"])
    return {path.stem: path.read_text(encoding="utf-8") for path in written}


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["executive_review", "usage_clinic", "account_review"])
def test_no_injected_tag_survives_in_a_report(pages: dict[str, str], stem: str):
    found = [tag for tag in TAGS if tag in pages[stem].lower()]
    assert found == []


@pytest.mark.slow
@pytest.mark.parametrize("stem", ["executive_review", "usage_clinic", "account_review"])
def test_injected_names_are_shown_as_text(pages: dict[str, str], stem: str):
    assert "&lt;script&gt;alert(" in pages[stem]


@pytest.mark.slow
def test_every_injected_column_is_rendered_somewhere_escaped(pages: dict[str, str]):
    text = "".join(pages.values())
    shown = {value for value in INJECTED.values() if f"&lt;{value[1:7]}" in text}
    assert shown == set(INJECTED.values())


# -- file names ----------------------------------------------------------------------------------

HOSTILE_IDS = [
    "../../etc/passwd",
    "/etc/passwd",
    "..",
    ".",
    "",
    "a\x00b",
    "a\\..\\b",
    "x" * 5000,
    "Ünïcødé/名前",
    "con",
    " -rf ",
    "a\nb",
]


@pytest.mark.parametrize("account_id", HOSTILE_IDS, ids=range(len(HOSTILE_IDS)))
def test_safe_filename_is_one_plain_name_inside_the_folder(account_id: str, tmp_path: Path):
    name = render.safe_filename(account_id)
    assert name not in ("", ".", "..")
    assert not set(name) & {"/", "\\", "\x00", "\n"}
    assert len(name.encode("utf-8")) <= 64
    path = tmp_path / f"account_review_{name}.html"
    path.write_text("ok", encoding="utf-8")
    assert path.resolve().parent == tmp_path.resolve()


def test_safe_filename_keeps_distinct_ids_distinct():
    ids = ["a/b", "a-b", "a b", "a\\b", "A/B", "x" * 5000, "x" * 5001]
    assert len({render.safe_filename(account_id) for account_id in ids}) == len(ids)


def test_pipeline_report_paths_stay_inside_the_run_folder(tmp_path: Path):
    stage = tmp_path / "stage"
    for step in pipeline.report_steps(stage, Params(), HOSTILE_IDS):
        assert step.output.resolve().is_relative_to((stage / "notebooks" / "reports").resolve())
    names = [step.output.name for step in pipeline.report_steps(stage, Params(), HOSTILE_IDS)]
    assert len(set(names)) == len(names)


# -- secrets -------------------------------------------------------------------------------------


def _files_holding(root: Path, secret: str) -> list[Path]:
    return [
        path for path in root.rglob("*") if path.is_file() and secret.encode() in path.read_bytes()
    ]


@pytest.mark.parametrize("command", ["run", "validate"])
def test_a_password_in_an_unreachable_uri_is_never_shown_or_written(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)
    extra = ["--out", str(tmp_path / "runs" / "r"), "--format", "none"] * (command == "run")
    result = runner.invoke(app, [command, "--data", PLANTED_URI, *extra])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert SECRET not in result.output
    assert "127.0.0.1" in result.output
    assert _files_holding(tmp_path, SECRET) == []


@pytest.fixture(scope="module")
def file_run(small_book: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full run (HTML reports, one account review) with a planted secret in the environment."""
    runs = tmp_path_factory.mktemp("secret") / "runs"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DRAWDOWN_PLANTED_TOKEN", SECRET)
        result = runner.invoke(
            app,
            [
                "run",
                *("--data", str(small_book), "--out", str(runs / "r")),
                *("--format", "html", "--top", "1"),
            ],
        )
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output
    return runs


@pytest.mark.slow
def test_no_file_of_a_run_holds_a_secret_from_the_environment(file_run: Path):
    assert _files_holding(file_run, SECRET) == []


@pytest.mark.slow
def test_executed_notebooks_carry_no_environment_dump(file_run: Path):
    notebooks = list((file_run / "r" / "notebooks").rglob("*.ipynb"))
    assert len(notebooks) >= 7
    for path in notebooks:
        text = path.read_text(encoding="utf-8")
        assert os.environ["PATH"] not in text, path
        assert not any(f"{name}=" in text for name in ("PATH", "HOME", "PGPASSWORD")), path
