"""books.py: one CSM book per CSM with an active account (docs/outputs.md#csm-books)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from _report_run import EVIL_NAME, write_run
from drawdown.params import Brand
from drawdown.reports import books
from drawdown.reports import data as report_data


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("books")
    run = report_data.load_run(write_run(root / "run"))
    return books.write_csm_books(run, root / "out", Brand())


def test_one_book_per_csm_and_one_for_the_accounts_without(written: dict[str, Path]) -> None:
    # Kim (A1, A3, A5), Dana (A2); A4 names no CSM
    assert sorted(written) == ["Dana", "Kim", "unassigned"]
    assert written["unassigned"].name == "unassigned.html"
    assert written["Kim"].parent.as_posix().endswith("reports/csm")


def test_every_account_is_in_exactly_one_book(written: dict[str, Path]) -> None:
    pages = {csm: path.read_text(encoding="utf-8") for csm, path in written.items()}
    # names as the books show them (punctuation as character references)
    for name, csm in (
        ("Acme Corp", "Kim"),
        ("Bolt &#38; Co", "Kim"),
        ("Newco", "Kim"),
        ("Paygo Ltd", "unassigned"),
    ):
        assert [book for book, page in pages.items() if f"<td>{name}</td>" in page] == [csm]


def test_a_book_lists_actions_cases_and_warnings(written: dict[str, Path]) -> None:
    kim = written["Kim"].read_text(encoding="utf-8")
    # A3: rescue with usage drop and renewal risk; A5 activate; A1 expansion with its case
    assert "rescue 1" in kim and "activate 1" in kim and "expansion 1" in kim
    assert "usage drop&#44; renewal risk" in kim  # punctuation as character references
    assert "No account of this book" not in kim.split("Early warnings")[0]


def test_data_text_is_inert_in_a_book(written: dict[str, Path]) -> None:
    dana = written["Dana"].read_text(encoding="utf-8")
    assert EVIL_NAME not in dana and "<script" not in dana
    assert "&#60;script&#62;alert&#40;1&#41;&#60;&#47;script&#62;" in dana


def test_a_book_loads_nothing_online(written: dict[str, Path]) -> None:
    for path in written.values():
        page = path.read_text(encoding="utf-8")
        assert "http://" not in page and "https://" not in page


def test_each_book_lists_the_cases_of_its_own_accounts(written: dict[str, Path]) -> None:
    # A1 (Acme Corp, Kim) and A2 (Dana) have a case each; A4 (unassigned) has none
    def cases(csm: str) -> str:
        page = written[csm].read_text(encoding="utf-8")
        return page.split("<h2>Overconsumption cases</h2>")[1].split("<h2>Early warnings</h2>")[0]

    assert "<td>Acme Corp</td>" in cases("Kim") and "<td>&#60;script" not in cases("Kim")
    assert "<td>&#60;script" in cases("Dana") and "Acme Corp" not in cases("Dana")
    assert "No account of this book is over its contractual limits" in cases("unassigned")


def test_a_run_without_active_accounts_has_no_book_to_give_cases_to() -> None:
    # as of a day before every contract no account is active: no book, and no failure
    cases = pl.DataFrame({"account_id": ["A1"], "rank": [1]})
    assert books.book_cases({}, cases) == {}
