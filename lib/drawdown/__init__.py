"""drawdown: usage health, commit bands and overconsumption for consumption-based books.

The names users call: ``compute_all`` (metrics from a source, in Python), ``Params`` and
``load_params`` (validated parameters), ``Artifacts`` (what a run computes), and ``app`` (the CLI).
They are imported on first use, so ``import drawdown.params`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "compute_all": "drawdown.api",
    "Artifacts": "drawdown.artifacts",
    "app": "drawdown.cli",
    "Params": "drawdown.params",
    "load_params": "drawdown.params",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'drawdown' has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name]), name)
