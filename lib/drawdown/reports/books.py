"""CSM books: one self-contained HTML page per CSM with an active account (docs/outputs.md#csm-books).

A book lists the CSM's accounts with band, burn, next action and owner (``account_actions``), their
overconsumption cases and their early warnings, every account and nothing capped. The accounts
that name no CSM get a book of their own (``unassigned``), so every account is in one book.
Written by the run after the metrics; reset item 1 counts the books written
(docs/metrics.md#the-60-day-reset-tracker). Data text goes through ``inert.markdown_text``
(numeric character references, inert in HTML) or great_tables, which escapes cell text.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

from drawdown.params import Brand
from drawdown.reports.charts import BAND_COLORS, BAND_LABELS
from drawdown.reports.data import NO_CSM, RunData, action_counts, csm_accounts, csm_names
from drawdown.reports.inert import markdown_text
from drawdown.reports.render import safe_filename
from drawdown.resources import REPORTS_DIR

FOLDER = Path("reports") / "csm"
CSS = REPORTS_DIR / "nbconvert" / "drawdown" / "report.css"
BOOK_CSS = """
table.book { border-collapse: collapse; width: 100%; font-size: 12px; margin: 8px 0 16px; }
table.book th { text-align: left; border-bottom: 2px solid var(--brand); padding: 4px 6px; }
table.book td { border-bottom: 1px solid #ddd; padding: 3px 6px; vertical-align: top; }
table.book tr { break-inside: avoid; }
"""


def book_filename(csm: str | None) -> str:
    """``<csm>.html`` made file-name safe (``render.safe_filename``); ``unassigned.html``."""
    return f"{NO_CSM if csm is None else safe_filename(csm)}.html"


def csm_book_html(
    run: RunData, csm: str | None, accounts: pl.DataFrame, brand: Brand, currency: str = "USD"
) -> str:
    """The book of ``csm`` (None: accounts with no CSM), whose ``accounts`` are those of
    ``csm_accounts``, as one HTML page (no script, no CDN)."""
    ids = accounts["account_id"].implode()
    cases = run["overage_cases"].filter(pl.col("account_id").is_in(ids))
    warned = accounts.filter(pl.col("early_warnings").list.len() > 0)
    title = "Accounts with no CSM" if csm is None else f"CSM book: {markdown_text(csm)}"
    todo = ", ".join(f"{label.lower()} {count}" for label, count in action_counts(accounts))
    value = float(accounts["account_value"].sum())
    money = lambda amount: _money(amount, currency)  # noqa: E731
    parts = [
        f"<p><strong>{markdown_text(brand.vendor_name)}</strong> · as of {run.as_of:%d %B %Y}</p>",
        f"<h1>{title}</h1>",
        f"<p>{_count(accounts.height, 'account')}, {money(value)} of annual value; "
        f"{_count(cases.height, 'overconsumption case')}; "
        f"{_count(warned.height, 'account')} with an early warning.</p>",
        f"<p><strong>Next actions:</strong> {todo or 'none'}.</p>",
        "<h2>Accounts</h2>",
        _table(
            accounts,
            {
                "account_name": ("Account", str),
                "segment": ("Segment", str),
                "band": ("Band", lambda band: BAND_LABELS.get(band, band)),
                "burn": ("Burn", _words),
                "utilization": ("Used", _pct),
                "projected_utilization": ("Projected", _pct),
                "account_value": ("Annual value", money),
                "days_to_renewal": ("Renewal in (days)", _integer),
                "action": ("Next action", str),
                "reason": ("Why", str),
            },
        ),
        "<h2>Overconsumption cases</h2>",
        _table(
            cases,
            {
                "rank": ("#", _integer),
                "account_name": ("Account", str),
                "meter": ("Meter", str),
                "pattern": ("Pattern", str),
                "pct_over": ("Over limit", lambda share: _pct(share, signed=True)),
                "overage_amount": ("Value past the line", money),
                "triage": ("Triage", str),
                "status": ("Status", _words),
                "missing_owners": (
                    "No owner for",
                    lambda steps: ", ".join(map(_words, steps or [])),
                ),
            },
        )
        if cases.height
        else "<p><em>No account of this book is over its contractual limits.</em></p>",
        "<h2>Early warnings</h2>",
        _table(
            warned,
            {
                "account_name": ("Account", str),
                "early_warnings": ("Early warnings", lambda names: ", ".join(map(_words, names))),
                "band": ("Band", lambda band: BAND_LABELS.get(band, band)),
                "account_value": ("Annual value", money),
                "action": ("Next action", str),
            },
        )
        if warned.height
        else "<p><em>No account of this book shows an early warning.</em></p>",
    ]
    return _page(title, "\n".join(parts), brand, run.as_of)


def write_csm_books(
    run: RunData, run_dir: Path, brand: Brand, currency: str = "USD"
) -> dict[str, Path]:
    """Write ``<run_dir>/reports/csm/<csm>.html`` for every CSM with an active account, and
    ``unassigned.html`` when some account names no CSM. Returns the CSM names (``unassigned``
    for the latter) and their files."""
    folder = Path(run_dir) / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    health = run["account_health"]
    books = csm_accounts(health, run["account_actions"])
    owners: list[str | None] = list(csm_names(health))
    if None in books:
        owners.append(None)
    written = {}
    for csm in owners:
        path = folder / book_filename(csm)
        partial = path.with_name(f".{path.name}.partial")
        page = csm_book_html(run, csm, books[csm], brand, currency)
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
        written[NO_CSM if csm is None else csm] = path
    return written


def _page(title: str, body: str, brand: Brand, as_of: date) -> str:
    css = CSS.read_text(encoding="utf-8")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        f"<title>{title} · {as_of:%d %b %Y}</title>\n<style>{css}{BOOK_CSS}</style>\n"
        f"<style>:root {{ --brand: {brand.primary_color}; }}</style>\n</head>\n"
        f'<body class="drawdown-report">\n<main>\n{body}\n</main>\n</body>\n</html>\n'
    )


def _table(frame: pl.DataFrame, columns: dict[str, tuple[str, Callable[[Any], str]]]) -> str:
    """``frame`` as a plain HTML table: each column formatted by its function, every cell
    through ``inert.markdown_text`` (inert in HTML); the band cell carries its colour. A book
    lists every account, so this is plain string work, not great_tables (seconds a table)."""
    head = "".join(f"<th>{label}</th>" for label, _ in columns.values())
    body = []
    for row in frame.select(list(columns)).iter_rows(named=True):
        cells = []
        for column, (_, show) in columns.items():
            value = row[column]
            text = "—" if value is None else markdown_text(show(value))
            style = (
                f' style="background:{BAND_COLORS[value]};color:#fff;font-weight:bold"'
                if column == "band" and value in BAND_COLORS
                else ""
            )
            cells.append(f"<td{style}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<table class="book"><thead><tr>{head}</tr></thead><tbody>'
        + "\n".join(body)
        + "</tbody></table>"
    )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'s' if n != 1 else ''}"


def _words(name: str) -> str:
    return str(name).replace("_", " ")


def _pct(share: float, signed: bool = False) -> str:
    return f"{share:+.0%}" if signed else f"{share:.0%}"


def _integer(value: float) -> str:
    return f"{value:,.0f}"


def _money(value: float, currency: str) -> str:
    return f"${value:,.0f}" if currency == "USD" else f"{value:,.0f} {currency}"
