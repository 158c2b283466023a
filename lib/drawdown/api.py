"""The public entry point for computing a book's metrics from Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from drawdown.artifacts import Artifacts
from drawdown.inputs.validate import load_book
from drawdown.metrics import compute_artifacts
from drawdown.params import Params, load_params


def compute_all(data: str | Path, params: Params | dict[str, Any] | None = None) -> Artifacts:
    """Validate ``data`` (a folder of CSV/Parquet files or a database URI) and compute every
    artifact of docs/outputs.md#artifacts.

    ``params`` is a ``Params`` or a dict of overrides on the defaults, e.g.
    ``{"as_of": "2026-09-15", "bands": {"band_low": 0.8}}``. Structural input errors raise
    ``drawdown.errors.InputError``. ``Artifacts.write(folder)`` writes the files.
    """
    resolved = params if isinstance(params, Params) else load_params(overrides=params or {})
    resolved = resolved.with_overrides({"source": {"uri": str(data)}})
    validated = load_book(data, resolved)
    return Artifacts(
        tables=compute_artifacts(validated.book, resolved, validated.rated),
        data_quality=validated.quality.to_json(),
        rejects=validated.rejects,
    )
