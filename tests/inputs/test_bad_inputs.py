"""The bad-input corpus (``tests/bad_inputs/``): every case through ``drawdown validate``.

Each case folder holds the files that differ from the tiny valid book in ``_base/`` and an
``expected.yaml``: the flaw, the decision (accept, reject the row, stop), the exit status, the
text the message must hold (table, file, row, column, rule, value) and, for rejected rows, each
rejected row as ``[row, rule]``. For every case: no traceback, the exit status, the message; and
when the source validates, nothing lost: rows_read = rows_accepted + rows_rejected per table, the
rejects file holds exactly the expected rows and rules.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from drawdown.cli import app
from drawdown.inputs.contract import TABLES
from drawdown.inputs.validate import REASON, load_book
from drawdown.params import Params

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(
    path.name for path in CORPUS.iterdir() if path.is_dir() and not path.name.startswith("_")
)
runner = CliRunner()


def _expected(case: str) -> dict[str, Any]:
    return yaml.safe_load((CORPUS / case / "expected.yaml").read_text(encoding="utf-8"))


def _source(case: str, folder: Path) -> Path:
    """The base book with the case's files laid over it and its ``remove`` files taken out."""
    shutil.copytree(CORPUS / "_base", folder)
    for path in (CORPUS / case).iterdir():
        if path.name != "expected.yaml":
            shutil.copy(path, folder / path.name)
    for name in _expected(case).get("remove", []):
        (folder / name).unlink()
    return folder


def _reconciles(tables: dict[str, Any]) -> bool:
    return all(t["rows_read"] == t["rows_accepted"] + t["rows_rejected"] for t in tables.values())


def test_the_corpus_has_at_least_forty_cases():
    assert len(CASES) >= 40


@pytest.mark.parametrize("case", CASES)
def test_bad_input_case(case: str, tmp_path: Path):
    expected = _expected(case)
    source = _source(case, tmp_path / "data")
    rejects = tmp_path / "rejects"
    result = runner.invoke(
        app,
        ["validate", "--data", str(source), "--rejects", str(rejects), *expected.get("args", [])],
    )
    assert "Traceback" not in result.output
    assert result.exit_code == expected["exit"], result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    for text in expected.get("message", []):
        assert text in result.output, f"{text!r} not in:\n{result.output}"
    if expected["exit"] != 0:
        return
    _assert_nothing_lost(source, rejects, expected)


def _assert_nothing_lost(source: Path, rejects: Path, expected: dict[str, Any]) -> None:
    """Reconciliation per table; the rejects files hold exactly the expected (row, rule) pairs;
    the data-quality record counts the rejected rows per rule and the expected exceptions."""
    quality = load_book(source, Params()).quality.to_json()
    assert _reconciles(quality["tables"])
    wanted = expected.get("rejects", {})
    written = {path.stem for path in rejects.glob("*.csv")}
    assert written == set(wanted)
    for table in TABLES:
        rows = [tuple(pair) for pair in wanted.get(table, [])]
        if rows:
            frame = pl.read_csv(rejects / f"{table}.csv", infer_schema=False)
            assert list(zip(frame["_row"].cast(int), frame[REASON], strict=True)) == rows
        by_rule = {rule: sum(r == rule for _, r in rows) for _, rule in rows}
        assert quality["tables"][table]["rejected_by_rule"] == by_rule, table
    checks = expected.get("quality", {})
    for table, count in checks.get("rows_read", {}).items():
        assert quality["tables"][table]["rows_read"] == count
    assert quality["unrated"]["rows"] == checks.get("unrated_rows", 0)
    assert quality["out_of_contract"]["rows"] == checks.get("out_of_contract_rows", 0)
