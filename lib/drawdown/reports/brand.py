"""The brand (``report.brand``: vendor name, logo, colour) applied to an executed report notebook
after it ran, so one execution serves every brand.

A report notebook runs with ``NEUTRAL``, a stand-in brand whose name and colour are marks found
nowhere else; ``apply_brand`` then writes the real brand where the marks are (the header line of
``narrative.header``, the colour of ``charts.theme`` and ``tables.table_theme``) and the real
parameters into the notebook's injected-parameters cell and metadata. The result has the outputs
the notebook would have had run with that brand (``tests/reports/test_brand.py`` checks it on each
report notebook); the run's report cache keeps executed notebooks without their brand, so a
brand change renders the reports again without executing them.
"""

from __future__ import annotations

import copy
from typing import Any

import nbformat
from papermill.translators import translate_parameters

from drawdown.params import Brand
from drawdown.reports.narrative import brand_line

NEUTRAL = Brand(vendor_name="DrawdownBrandMark7f3c", primary_color="#010203", logo=None)
"""The stand-in brand report notebooks execute with: a name and a colour no report shows."""
KERNEL = "python3"
COMMENT = "Parameters"
"""What the injected-parameters cell is written with (``drawdown.run.kernels``, Papermill's
default comment)."""


def unbranded(parameters: dict[str, Any]) -> dict[str, Any]:
    """A report notebook's ``parameters`` with ``NEUTRAL`` for the brand."""
    params = copy.deepcopy(parameters["params"])
    params.setdefault("report", {})["brand"] = NEUTRAL.model_dump(mode="json")
    return {**parameters, "params": params}


def brand_of(parameters: dict[str, Any]) -> Brand:
    """The brand of a report notebook's ``parameters`` (the default when they name none)."""
    return Brand.model_validate(parameters.get("params", {}).get("report", {}).get("brand", {}))


def apply_brand(
    notebook: nbformat.NotebookNode, parameters: dict[str, Any]
) -> nbformat.NotebookNode:
    """``notebook`` (executed with ``unbranded(parameters)``) as executed with ``parameters``:
    the marks of ``NEUTRAL`` in its outputs replaced by the brand of ``parameters``, and
    ``parameters`` in its injected-parameters cell and metadata. Changes ``notebook`` in place
    and returns it."""
    brand = brand_of(parameters)
    # Md shows "$" as its character reference (narrative.Md): so does the replaced header line
    marks = {
        brand_line(NEUTRAL).replace("$", "&#36;"): brand_line(brand).replace("$", "&#36;"),
        NEUTRAL.primary_color: brand.primary_color,
    }
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = translate_parameters(KERNEL, "python", parameters, COMMENT)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind, value in data.items():
                if isinstance(value, str):
                    data[kind] = _replaced(value, marks)
    notebook.metadata.setdefault("papermill", {})["parameters"] = parameters
    return notebook


def _replaced(text: str, marks: dict[str, str]) -> str:
    for mark, value in marks.items():
        text = text.replace(mark, value)
    return text
