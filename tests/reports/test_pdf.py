"""End to end, real PDFs: the executive review and an account review executed on the tiny run
folder and printed by the Chromium fallback (nbconvert HTML, then headless Chromium), read back with
poppler: a PDF header, a page count in bounds, the title and numbers of the artifacts in the text.

Replacing the printed bytes, printing an empty page or losing the numbers fails these tests
(``test_the_checks_reject_a_pdf_that_is_not_one`` shows the checks do fail on wrong bytes).
The Quarto renderer has its own end-to-end test where a Quarto is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import papermill as pm
import pytest

from _report_run import write_run
from drawdown.params import Params
from drawdown.reports import render

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (render.chromium_path() and shutil.which("pdftotext") and shutil.which("pdfinfo")),
        reason="needs Chromium and poppler (make system-deps)",
    ),
]

PARAMS = Params.model_validate({"reset": {"start_date": "2026-03-09"}}).to_notebook()

# stem -> (the title, numbers of the tiny run's artifacts, most pages a report may take)
EXPECTED = {
    # page 1: A1-A4 renew within 90 days, commit 120000 + 60000 + 30000 + 0 (A4 pay-as-you-go)
    # = 210000; value past the line (segment_summary All, overage_amount) 1250
    "executive_review": ("Executive review", ("$210,000", "$1,250"), 12),
    # A2: 70000 consumed of a 60000 commit = 117%
    "account_review": ("Account value review", ("117%", "$60,000"), 8),
}


def pdf_pages(pdf: Path) -> int:
    """The page count poppler reads from the file (raises on a file that is not a PDF)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    pages = [line for line in info.stdout.splitlines() if line.startswith("Pages:")]
    return int(pages[0].split()[1])


def pdf_text(pdf: Path) -> str:
    """The text of every page, whitespace collapsed (raises on a file that is not a PDF)."""
    done = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(done.stdout.split())


def check_pdf(pdf: Path, title: str, numbers: tuple[str, ...], max_pages: int) -> None:
    """Everything these tests ask of a printed report."""
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert 1 <= pdf_pages(pdf) <= max_pages
    text = pdf_text(pdf)
    assert title in text
    for number in numbers:
        assert number in text, number


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The two reports executed on the tiny run and printed to PDF by Chromium: stem -> path."""
    root = tmp_path_factory.mktemp("pdf")
    run_dir = write_run(root / "run")
    executed = []
    for stem, extra in (("executive_review", {}), ("account_review", {"account_id": "A2"})):
        target = root / "notebooks" / f"{stem}.ipynb"
        target.parent.mkdir(exist_ok=True)
        pm.execute_notebook(
            render.REPORTS_DIR / f"{stem}.ipynb",
            target,
            parameters={"run_dir": str(run_dir), "params": PARAMS, **extra},
            kernel_name="drawdown",
            progress_bar=False,
        )
        executed.append(target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            render, "quarto_path", lambda: None
        )  # the Chromium fallback, even with Quarto
        written = render.render_reports(executed, root / "out", ["pdf"])
    return {path.stem: path for path in written}


def test_only_pdfs_are_written(pdfs: dict[str, Path]) -> None:
    assert {path.suffix for path in pdfs.values()} == {".pdf"}
    assert set(pdfs) == set(EXPECTED)


@pytest.mark.parametrize("stem", list(EXPECTED))
def test_pdf_starts_with_the_pdf_header(pdfs: dict[str, Path], stem: str) -> None:
    assert pdfs[stem].read_bytes()[:5] == b"%PDF-"


@pytest.mark.parametrize("stem", list(EXPECTED))
def test_pdf_page_count_is_in_bounds(pdfs: dict[str, Path], stem: str) -> None:
    assert 1 <= pdf_pages(pdfs[stem]) <= EXPECTED[stem][2]


@pytest.mark.parametrize("stem", list(EXPECTED))
def test_pdf_text_has_the_title_and_the_artifacts_numbers(pdfs: dict[str, Path], stem: str) -> None:
    title, numbers, _ = EXPECTED[stem]
    text = pdf_text(pdfs[stem])
    assert title in text
    assert [n for n in numbers if n not in text] == []


@pytest.mark.parametrize(
    "damage",
    [
        lambda data: b"garbage" + data[7:],  # the header replaced
        lambda data: b"%PDF-1.4\n" + bytes(len(data)),  # a header over zeros
        lambda data: data[: len(data) // 3],  # cut short
    ],
    ids=["header", "zeros", "truncated"],
)
def test_the_checks_reject_a_pdf_that_is_not_one(
    pdfs: dict[str, Path], tmp_path: Path, damage
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(damage(pdfs["executive_review"].read_bytes()))
    title, numbers, max_pages = EXPECTED["executive_review"]
    with pytest.raises((AssertionError, subprocess.CalledProcessError, IndexError, ValueError)):
        check_pdf(broken, title, numbers, max_pages)
