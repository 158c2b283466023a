"""render.py: file names, renderer choice, the Quarto and Chromium command lines, atomic output."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

from drawdown.errors import StepFailed
from drawdown.reports import render


@pytest.fixture
def executed(tmp_path: Path) -> Path:
    """A minimal executed report notebook: front matter, a Markdown output and an SVG output."""
    book = nbformat.v4.new_notebook()
    book.cells = [
        nbformat.v4.new_raw_cell('---\npagetitle: "Tiny report"\n---'),
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                nbformat.v4.new_output(
                    "display_data", data={"text/markdown": "# Title\n\nBody &lt;b&gt;"}
                ),
                nbformat.v4.new_output(
                    "display_data",
                    data={"image/svg+xml": '<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>'},
                ),
                nbformat.v4.new_output("stream", name="stderr", text="a noisy log line"),
            ],
        ),
    ]
    path = tmp_path / "tiny_report.ipynb"
    nbformat.write(book, path)
    return path


@pytest.mark.parametrize(
    "account_id", ["ACME/1", "../../etc/passwd", "a\x00b\nc", "", "ünï code", "x" * 300]
)
def test_safe_filename_has_no_path_or_control_characters(account_id: str) -> None:
    name = render.safe_filename(account_id)
    assert "/" not in name and ".." not in name and name.isprintable() and 0 < len(name) <= 49


def test_safe_filename_is_stable_and_unique() -> None:
    assert render.safe_filename("A/1") == render.safe_filename("A/1")
    assert render.safe_filename("A/1") != render.safe_filename("A 1")


def test_renderer_prefers_quarto_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    assert render.renderer_name() == "quarto"


def test_renderer_falls_back_to_nbconvert_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    assert render.renderer_name() == "nbconvert"


def test_quarto_project_files_exist() -> None:
    for name in render.QUARTO_FILES:
        assert (render.REPORTS_DIR / name).is_file()


def test_quarto_project_embeds_resources_hides_code_and_never_executes() -> None:
    import yaml

    project = yaml.safe_load((render.REPORTS_DIR / "_quarto.yml").read_text())
    assert project["format"]["html"]["embed-resources"] is True
    assert project["execute"] == {"enabled": False, "echo": False, "warning": False}
    assert "typst-template.typ" in project["format"]["typst"]["template-partials"]


@pytest.mark.parametrize(("fmt", "to"), [("html", "html"), ("pdf", "typst")])
def test_quarto_render_runs_the_documented_command_in_a_prepared_folder(
    executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, to: str
) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    seen: dict[str, object] = {}

    def fake_run(
        command: list[str], cwd: Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        seen["command"], seen["files"] = command, sorted(p.name for p in Path(cwd).iterdir())
        (Path(cwd) / f"tiny_report.{fmt}").write_text("rendered")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(render.subprocess, "run", fake_run)
    written = render.render_reports([executed], tmp_path / "out", [fmt])
    assert seen["command"] == ["/opt/quarto/bin/quarto", "render", "--to", to]
    assert seen["files"] == sorted([*render.QUARTO_FILES, "tiny_report.ipynb"])
    assert written == [tmp_path / "out" / f"tiny_report.{fmt}"]


def test_failed_render_names_the_report_and_leaves_no_file(
    executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    monkeypatch.setattr(
        render.subprocess,
        "run",
        lambda command, **kw: subprocess.CompletedProcess(command, 1, "", "typst: boom"),
    )
    with pytest.raises(StepFailed, match=r"tiny_report.*boom"):
        render.render_reports([executed], tmp_path / "out", ["pdf"])
    assert list((tmp_path / "out").iterdir()) == []


def test_chromium_command_prints_without_header_into_a_fresh_profile(tmp_path: Path) -> None:
    command = render.chromium_command(
        "chromium", tmp_path / "r.html", tmp_path / "r.pdf", tmp_path / "p"
    )
    assert (
        command[0] == "chromium" and "--headless" in command and "--no-pdf-header-footer" in command
    )
    assert f"--user-data-dir={tmp_path / 'p'}" in command
    assert command[-2:] == [f"--print-to-pdf={tmp_path / 'r.pdf'}", (tmp_path / "r.html").as_uri()]


def test_pdf_without_quarto_or_chromium_warns_and_writes_html_only(
    executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("QUARTO_PATH", raising=False)
    monkeypatch.setattr(render.shutil, "which", lambda name: None)
    with pytest.warns(UserWarning, match="PDF reports skipped"):
        written = render.render_reports([executed], tmp_path / "out", ["html", "pdf"])
    assert written == [tmp_path / "out" / "tiny_report.html"]


def test_nbconvert_html_hides_code_and_logs_and_inlines_svg(executed: Path) -> None:
    page = render.notebook_html(executed)
    assert "<svg" in page and "<rect" in page
    assert "a noisy log line" not in page and "pagetitle" not in page
    assert "<title>Tiny report</title>" in page
    assert "<script" not in page
