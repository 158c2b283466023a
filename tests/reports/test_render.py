"""render.py: file names, renderer choice, the Quarto and Chromium command lines, atomic output."""

from __future__ import annotations

import shutil
import subprocess
import threading
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


@pytest.mark.parametrize(
    ("formats", "to"), [(["html"], "html"), (["pdf"], "typst"), (["html", "pdf"], "all")]
)
def test_quarto_renders_two_project_folders_side_by_side(
    executed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    formats: list[str],
    to: str,
) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    notebooks = [executed]
    for name in ("second", "third"):
        notebooks.append(executed.with_name(f"{name}.ipynb"))
        notebooks[-1].write_bytes(executed.read_bytes())
    calls: list[tuple[list[str], list[str]]] = []
    both_running = threading.Barrier(2, timeout=10)

    def fake_run(
        command: list[str], cwd: Path, **kwargs: object
    ) -> subprocess.CompletedProcess[str]:
        mine = sorted(p.name for p in Path(cwd).iterdir())
        calls.append((command, mine))
        both_running.wait()  # the two folders render at the same time
        for name in mine:
            if name.endswith(".ipynb"):
                for fmt in formats:
                    (Path(cwd) / name).with_suffix(f".{fmt}").write_text("rendered")
        return subprocess.CompletedProcess(command, 0, "", "WARN: a note from quarto\n")

    monkeypatch.setattr(render.subprocess, "run", fake_run)
    with render.ReportRenderer(tmp_path / "out", formats) as renderer:
        written = renderer.finish(notebooks)
    assert [command for command, _ in calls] == [
        ["/opt/quarto/bin/quarto", "render", "--to", to]
    ] * 2
    rendered = sorted(name for _, files in calls for name in files if name.endswith(".ipynb"))
    assert rendered == ["second.ipynb", "third.ipynb", "tiny_report.ipynb"]
    assert all(set(render.QUARTO_FILES) <= set(files) for _, files in calls)
    assert written == [
        tmp_path / "out" / f"{notebook.stem}.{fmt}" for notebook in notebooks for fmt in formats
    ]
    assert len(renderer.warnings) == 2 and all("a note" in line for _, line in renderer.warnings)


def test_quarto_gets_a_markdown_only_copy_of_the_notebook(
    executed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("QUARTO_PATH", "/opt/quarto/bin/quarto")
    seen: list[nbformat.NotebookNode] = []

    def fake_run(command: list[str], cwd: Path, **kw: object) -> subprocess.CompletedProcess[str]:
        seen.append(nbformat.read(Path(cwd) / executed.name, as_version=4))
        (Path(cwd) / "tiny_report.html").write_text("rendered")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(render.subprocess, "run", fake_run)
    render.render_reports([executed], tmp_path / "out", ["html"])
    mimes = {
        mime for cell in seen[0].cells for out in cell.get("outputs", []) for mime in out["data"]
    }
    assert mimes == {"text/markdown"}


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


def test_a_working_folder_still_being_written_is_removed_once_it_settles(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Chromium's helpers may still write its profile a moment after the browser exited: the
    # first removal fails with "Directory not empty" (a fresh CI run failed 10 tests on it)
    folder = tmp_path / "render-x"
    (folder / "profile" / "Default").mkdir(parents=True)
    real_rmtree, calls = shutil.rmtree, []

    def busy_once(path, *args, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            raise OSError(39, "Directory not empty", "Default")
        return real_rmtree(path, *args, **kwargs)

    monkeypatch.setattr(render.shutil, "rmtree", busy_once)
    monkeypatch.setattr(render.time, "sleep", lambda seconds: None)
    render.remove_working_folder(folder)
    assert len(calls) == 2 and not folder.exists()


def test_a_working_folder_that_never_settles_does_not_fail_the_render(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "render-y"
    folder.mkdir()

    def always_busy(path, *args, **kwargs):
        if not kwargs.get("ignore_errors"):
            raise OSError(39, "Directory not empty", "Default")

    monkeypatch.setattr(render.shutil, "rmtree", always_busy)
    monkeypatch.setattr(render.time, "sleep", lambda seconds: None)
    render.remove_working_folder(folder)  # no exception: the reports are already written


# Quarto's folders are balanced by what a report costs to render, not by bytes alone: each report
# costs about as much as 280 KB of notebook besides its size. One 1,200 KB report and twelve of
# 40 KB: by bytes the large one would render alone (1,200 against 480) while one folder renders
# twelve; weighed (1,480 and 320 each), largest first into the lighter folder, it shares its
# folder with four small ones (1,480 + 4 x 320 = 2,760 against 8 x 320 = 2,560).
def test_quarto_folders_are_balanced_by_reports_as_well_as_bytes(tmp_path: Path) -> None:
    big = tmp_path / "executive_review.ipynb"
    big.write_bytes(b"x" * 1_200_000)
    small = []
    for n in range(12):
        path = tmp_path / f"account_prep_{n:02}.ipynb"
        path.write_bytes(b"x" * 40_000)
        small.append(path)
    groups = render.share_out([big, *small], 2)
    with_big = next(group for group in groups if big in group)
    assert sorted(len(group) for group in groups) == [5, 8]
    assert len(with_big) == 5
