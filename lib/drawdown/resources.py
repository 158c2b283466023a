"""Where drawdown's own files live: the compute notebooks, the report notebooks with their
rendering project, the params files and the documentation.

Installed from a wheel they ship inside the package (``drawdown/_resources/``); in a source
checkout (an editable install) they are the top-level folders of the repository.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent


def _resource(name: str) -> Path:
    packaged = Path(str(files("drawdown") / "_resources" / name))
    return packaged if packaged.is_dir() else PACKAGE_DIR.parents[1] / name


COMPUTE_NOTEBOOKS = _resource("notebooks")
"""The compute notebooks (``usage_health.ipynb`` …)."""
REPORTS_DIR = _resource("reports")
"""The report notebooks and their rendering project (Quarto files, nbconvert template)."""
PARAMS_DIR = _resource("params")
"""The params files: ``default.yaml`` documents every key."""
DOCS_DIR = _resource("docs")
"""The user documentation: data contract, metrics, outputs, reliability."""
