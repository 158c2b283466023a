"""The data-quality record of a validation (docs/outputs.md#data-quality and docs/data-contract.md#errors-and-bad-input): nothing is lost silently.

Per table: where it came from, rows read, accepted and rejected by rule (always
``rows_read == rows_accepted + rows_rejected``); usage rows before and after summing to daily; and
the usage that was kept but earns no amount: out of contract, or unrated.
``DataQuality.to_json`` is ``data_quality.json``; ``quality_report`` is what ``drawdown validate``
prints. ``Finding`` and ``format_findings`` shape the message of an input error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
from rich.console import Group
from rich.table import Table
from rich.text import Text

from drawdown.inputs.contract import TABLES
from drawdown.inputs.rating import OUT_OF_CONTRACT, UNRATED

MESSAGE_LINES = 20
"""How many bad rows an error message lists before "… and N more"."""


@dataclass(frozen=True)
class Finding:
    """Rows of one table that break one rule.

    rows: how many rows break it; lines: the first few (up to ``MESSAGE_LINES``), each naming the
    table, origin, row, column, rule and value; shown: the raw rows the lines name, one per line
    (as read, ``_row`` included), or None for a finding about a table rather than its rows. A line
    names a database row by its key, which does not order it: ``drawdown.run.shards`` puts the
    lines of several shards in the whole book's order by these rows. place: its place among its
    table's findings of one rule (a ``wrong_type`` finding: its column's, in contract order).
    """

    table: str
    rule: str
    rows: int
    lines: tuple[str, ...]
    shown: pl.DataFrame | None = field(default=None, compare=False, repr=False)
    place: int = 0


def format_findings(findings: list[Finding], limit: int = MESSAGE_LINES) -> str:
    """One message for all findings: a summary line, up to ``limit`` lines, then "… and N more"."""
    total = sum(finding.rows for finding in findings)
    lines = [line for finding in findings for line in finding.lines][:limit]
    rules = sorted({f"{finding.table}: {finding.rule}" for finding in findings})
    head = f"the input breaks the data contract ({total} problem{'s' * (total != 1)}; {', '.join(rules)}):"
    tail = [f"  … and {total - len(lines)} more"] if total > len(lines) else []
    return "\n".join([head, *(f"  {line}" for line in lines), *tail])


@dataclass(frozen=True)
class TableQuality:
    """What became of one input table's rows.

    origin: the file or database table it was read from (None when the optional table is absent).
    rejected_by_rule: rule name -> rows rejected under it (each row under its first failing rule).
    """

    table: str
    origin: str | None
    rows_read: int
    rows_accepted: int
    rejected_by_rule: dict[str, int]

    @property
    def rows_rejected(self) -> int:
        """Σ rejected_by_rule; rows_read = rows_accepted + rows_rejected."""
        return sum(self.rejected_by_rule.values())

    def to_json(self) -> dict[str, Any]:
        """The table's entry in data_quality.json."""
        return {
            "origin": self.origin,
            "rows_read": self.rows_read,
            "rows_accepted": self.rows_accepted,
            "rows_rejected": self.rows_rejected,
            "rejected_by_rule": dict(sorted(self.rejected_by_rule.items())),
        }


@dataclass(frozen=True)
class DataQuality:
    """The data-quality record of one validated source.

    tables: one entry per contract table (absent optional tables with origin None and zero rows).
    usage_daily_rows: usage rows after summing raw rows per (account_id, meter, usage_date).
    rating_exceptions: daily usage kept but not rated, per account (columns of
        ``drawdown.inputs.rating.rating_exceptions``: account_id, rating_status, rows, quantity).
    """

    tables: dict[str, TableQuality]
    usage_daily_rows: int
    rating_exceptions: pl.DataFrame

    def to_json(self) -> dict[str, Any]:
        """data_quality.json: deterministic (sorted keys and accounts), no timestamps."""
        return {
            "tables": {table: self.tables[table].to_json() for table in TABLES},
            "usage_daily_rows": self.usage_daily_rows,
            OUT_OF_CONTRACT: _exceptions_json(self.rating_exceptions, OUT_OF_CONTRACT),
            UNRATED: _exceptions_json(self.rating_exceptions, UNRATED),
        }


def _exceptions_json(exceptions: pl.DataFrame, status: str) -> dict[str, Any]:
    """Rows and quantity of one rating status, in total and per account (sorted by account_id)."""
    per_account = exceptions.filter(pl.col("rating_status") == status).sort("account_id")
    return {
        "rows": int(per_account["rows"].sum()),
        "quantity": float(per_account["quantity"].sum()),
        "accounts": per_account.select("account_id", "rows", "quantity").to_dicts(),
    }


def quality_report(quality: DataQuality, top: int = 10) -> Group:
    """The data-quality report for a terminal: rows per table and rule, then unrated usage.

    The second table lists the ``top`` accounts by out-of-contract plus unrated quantity.
    Text from the data is shown as plain text, never as rich markup.
    """
    return Group(_tables_table(quality), _exceptions_table(quality.rating_exceptions, top))


def _tables_table(quality: DataQuality) -> Table:
    table = Table(title="Rows per input table", title_justify="left")
    for header in ("table", "origin", "read", "accepted", "rejected", "rejected by rule"):
        table.add_column(
            header,
            justify="right" if header in {"read", "accepted", "rejected"} else "left",
            overflow="fold",
        )
    for name in TABLES:
        entry = quality.tables[name]
        by_rule = "\n".join(
            f"{rule}: {rows:,}" for rule, rows in sorted(entry.rejected_by_rule.items())
        )
        table.add_row(
            Text(name),
            Text(entry.origin or "(absent)"),
            f"{entry.rows_read:,}",
            f"{entry.rows_accepted:,}",
            f"{entry.rows_rejected:,}",
            Text(by_rule or "-"),
        )
    table.caption = f"usage: {quality.usage_daily_rows:,} daily rows after summing"
    return table


def _exceptions_table(exceptions: pl.DataFrame, top: int) -> Table:
    per_account = (
        exceptions.pivot(on="rating_status", index="account_id", values=["rows", "quantity"])
        if exceptions.height
        else pl.DataFrame(schema={"account_id": pl.String()})
    )
    columns = {
        f"{measure}_{status}": pl.col(f"{measure}_{status}")
        if f"{measure}_{status}" in per_account.columns
        else pl.lit(0)
        for status in (OUT_OF_CONTRACT, UNRATED)
        for measure in ("rows", "quantity")
    }
    ranked = (
        per_account.select(
            "account_id", *(expr.fill_null(0).alias(name) for name, expr in columns.items())
        )
        .with_columns(
            (pl.col(f"quantity_{OUT_OF_CONTRACT}") + pl.col(f"quantity_{UNRATED}")).alias("_total")
        )
        .sort("_total", "account_id", descending=[True, False])
        .head(top)
    )
    accounts = exceptions["account_id"].n_unique() if exceptions.height else 0
    table = Table(
        title=f"Usage kept but not rated (top {top} of {accounts} accounts)",
        title_justify="left",
    )
    table.add_column("account_id")
    for name in columns:
        table.add_column(name.replace("_", " ", 1), justify="right")
    for row in ranked.drop("_total").rows():
        table.add_row(
            Text(row[0]),
            *(f"{value:,.0f}" if isinstance(value, float) else f"{value:,}" for value in row[1:]),
        )
    return table
