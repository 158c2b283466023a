"""brand.py: a report executed with the neutral brand, then branded, has the outputs of the same
report executed with that brand, in every report notebook."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

from _report_run import write_run
from drawdown.params import Params
from drawdown.reports import brand
from drawdown.resources import REPORTS_DIR
from drawdown.run.kernels import KernelPool, Step, execute_all

pytestmark = pytest.mark.slow

REPORTS = [
    ("executive_review", {}),
    ("usage_clinic", {}),
    ("account_review", {"account_id": "A2"}),
    ("account_prep", {"account_id": "A1"}),
]
_TABLE_ID = re.compile(r'<div id="([a-z]{10})"')
_ADDRESS = re.compile(r"0x[0-9a-f]+")


def _stable(value: Any) -> Any:
    """great_tables gives every table a random id, and its plain-text form shows memory
    addresses: the same for both, for comparing."""
    if not isinstance(value, str):
        return value
    value = _ADDRESS.sub("0x", value)
    for found in set(_TABLE_ID.findall(value)):
        value = value.replace(found, "table-id")
    return value


def _brand(tmp_path: Path) -> dict[str, Any]:
    logo = tmp_path / "logo.png"
    logo.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 16)
    return {"vendor_name": "Acme $ *Partners* <b>", "primary_color": "#A0522D", "logo": str(logo)}


def _outputs(path: Path) -> list[Any]:
    book = nbformat.read(path, as_version=4)
    return [
        (cell.source, [{k: _stable(v) for k, v in o.get("data", {}).items()} for o in cell.outputs])
        for cell in book.cells
        if cell.cell_type == "code"
    ]


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[Step], list[Step]]:
    """Each report executed with a brand (direct) and with the neutral brand (neutral)."""
    root = tmp_path_factory.mktemp("brand")
    run_dir = write_run(root / "run")
    params = Params.model_validate(
        {"reset": {"start_date": "2026-03-09"}, "report": {"brand": _brand(root)}}
    ).to_notebook()
    direct, neutral = [], []
    for stem, extra in REPORTS:
        parameters = {"run_dir": str(run_dir), "params": params, **extra}
        template = REPORTS_DIR / f"{stem}.ipynb"
        direct.append(Step(f"d-{stem}", template, root / "direct" / f"{stem}.ipynb", parameters))
        neutral.append(
            Step(
                f"n-{stem}",
                template,
                root / "neutral" / f"{stem}.ipynb",
                brand.unbranded(parameters),
            )
        )
    with KernelPool(root, size=2) as pool:
        execute_all([*direct, *neutral], pool)
    return direct, neutral


@pytest.mark.parametrize("index", range(len(REPORTS)))
def test_a_branded_neutral_report_equals_the_report_run_with_the_brand(
    executed: tuple[list[Step], list[Step]], index: int
) -> None:
    direct, neutral = executed[0][index], executed[1][index]
    book = nbformat.read(neutral.output, as_version=4)
    assert "DrawdownBrandMark" in str(book.cells)  # it did run with the neutral brand
    branded = brand.apply_brand(book, direct.parameters)
    nbformat.write(branded, neutral.output.with_name("branded.ipynb"))
    assert _outputs(neutral.output.with_name("branded.ipynb")) == _outputs(direct.output)
    assert branded.metadata.papermill.parameters == direct.parameters
    text = neutral.output.with_name("branded.ipynb").read_text(encoding="utf-8")
    assert "DrawdownBrandMark" not in text
    assert brand.NEUTRAL.primary_color not in text


def test_unbranded_keeps_every_other_parameter() -> None:
    parameters = {"run_dir": "r", "account_id": "A1", "params": Params().to_notebook()}
    neutral = brand.unbranded(parameters)
    assert neutral["params"]["report"]["brand"] == brand.NEUTRAL.model_dump(mode="json")
    neutral["params"]["report"]["brand"] = parameters["params"]["report"]["brand"]
    assert neutral == parameters
