"""End to end: execute the report notebooks with Papermill on a tiny run folder, render HTML."""

from __future__ import annotations

import re

import papermill as pm
import pytest

from _report_run import write_run
from drawdown.params import Params
from drawdown.reports import render

pytestmark = pytest.mark.slow

REPORTS = render.REPORTS_DIR
PARAMS = Params.model_validate({"reset": {"start_date": "2026-03-09"}}).to_notebook()
EXTERNAL = re.compile(
    r"""(?:src|href)\s*=\s*["']?\s*https?://|url\(\s*["']?https?://""", re.IGNORECASE
)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each report executed on the tiny run and rendered to HTML: stem -> page text."""
    root = tmp_path_factory.mktemp("reports")
    run_dir = write_run(root / "run")
    executed = []
    for stem, extra in (
        ("executive_review", {}),
        ("usage_clinic", {}),
        ("account_review", {"account_id": "A2"}),
    ):
        target = root / "notebooks" / f"{stem}.ipynb"
        target.parent.mkdir(exist_ok=True)
        pm.execute_notebook(
            REPORTS / f"{stem}.ipynb",
            target,
            parameters={"run_dir": str(run_dir), "params": PARAMS, **extra},
            kernel_name="drawdown",
            progress_bar=False,
        )
        executed.append(target)
    written = render.render_reports(executed, root / "out", ["html"])
    return {path.stem: path.read_text(encoding="utf-8") for path in written}


@pytest.mark.parametrize("stem", ["executive_review", "usage_clinic", "account_review"])
def test_report_references_nothing_online(pages: dict[str, str], stem: str) -> None:
    assert not EXTERNAL.search(pages[stem])


@pytest.mark.parametrize(
    ("stem", "charts"), [("executive_review", 2), ("usage_clinic", 1), ("account_review", 4)]
)
def test_every_chart_is_inline_svg(pages: dict[str, str], stem: str, charts: int) -> None:
    assert pages[stem].count('class="marks"') == charts  # vl-convert's SVG, in either renderer
    assert "<img" not in pages[stem].replace('<img src="data:', "")


@pytest.mark.parametrize("stem", ["executive_review", "usage_clinic", "account_review"])
def test_no_code_is_shown(pages: dict[str, str], stem: str) -> None:
    assert "report_data.load_run" not in pages[stem] and "Traceback" not in pages[stem]


def test_executive_numbers_equal_the_artifacts(pages: dict[str, str]) -> None:
    page = pages["executive_review"]
    # segment_summary All: NRR 105%; cases 1200 + 50 past the line
    assert "Net revenue retention (NRR)" in page and "105%" in page
    assert "$1,250" in page


def test_executive_first_page_tells_the_story(pages: dict[str, str]) -> None:
    page = pages["executive_review"]
    story = page[: page.index("Action required")]
    for part in (
        "Consumption revenue, Mar 2026",
        "Top three risks",
        "Top three wins",
        "Accounts by band",
    ):
        assert part in story
    assert "Since the previous run" in story


def test_account_numbers_equal_the_artifacts(pages: dict[str, str]) -> None:
    page = pages["account_review"]
    # A2: 70000 of 60000 -> 117%; projected (70000 + 260 x 61) / 60000 -> 143%; ran out 2 Mar
    assert "117% of the $60,000 commit is used" in page and "143%" in page
    assert "ran out on <strong>02 Mar 2026</strong>" in page


@pytest.mark.parametrize("stem", ["executive_review", "usage_clinic", "account_review"])
def test_script_account_name_renders_as_text(pages: dict[str, str], stem: str) -> None:
    assert "<script>alert(1)</script>" not in pages[stem]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[stem]
    assert "<script" not in pages[stem]


def test_reset_tracker_is_a_checklist(pages: dict[str, str]) -> None:
    page = pages["executive_review"]
    assert "60-day reset tracker" in page and ">done<" in page and ">late<" in page


def test_executive_review_says_where_every_account_is(pages: dict[str, str]) -> None:
    assert "exports/accounts.xlsx" in pages["executive_review"]
    assert "parquet" not in pages["executive_review"].lower()
