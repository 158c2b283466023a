"""Input tables as read from a source, before validation.

Every reader (a folder of files, a SQL database) returns ``dict[str, RawTable]``; the validator
turns those into a :class:`drawdown.inputs.contract.Book` plus a data-quality report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import polars as pl

ROW_COLUMN = "_row"
"""Column a reader adds to every file-backed table: the 1-based row number as a spreadsheet shows
the file (the header is row 1, so the first data row is row 2)."""

EVENTS_COLUMN = "_events"
"""Column of a usage table summed to daily by a database (``drawdown.inputs.database``,
``drawdown.inputs.warehouse``): how many raw rows each returned row stands for."""


@dataclass(frozen=True)
class RawTable:
    """One input table as read.

    name:  the contract's table name (``accounts``, ``usage`` ...).
    origin: where it came from, safe to print: a file path, or ``database table analytics.usage``
        (never a password).
    frame: every column as read, plus ``_row`` for file-backed tables.
    row_reference: ``"row"`` when ``_row`` holds file row numbers; ``"key"`` when rows are named
        by their key columns (database tables, where there is no file row).
    """

    name: str
    origin: str
    frame: pl.DataFrame
    row_reference: Literal["row", "key"] = "row"
