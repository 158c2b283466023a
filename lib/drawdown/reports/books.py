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
from functools import cache
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
    csm: str | None,
    accounts: pl.DataFrame,
    cases: pl.DataFrame,
    as_of: date,
    brand: Brand,
    currency: str = "USD",
) -> str:
    """The book of ``csm`` (None: accounts with no CSM), whose ``accounts`` are those of
    ``csm_accounts`` and ``cases`` their overage_cases, as one HTML page (no script, no CDN)."""
    warned = accounts[(accounts["early_warnings"].list.len() > 0).arg_true()]
    title = "Accounts with no CSM" if csm is None else f"CSM book: {markdown_text(csm)}"
    todo = ", ".join(f"{label.lower()} {count}" for label, count in action_counts(accounts))
    value = float(accounts["account_value"].sum())
    money = lambda amount: _money(amount, currency)  # noqa: E731
    parts = [
        f"<p><strong>{markdown_text(brand.vendor_name)}</strong> · as of {as_of:%d %B %Y}</p>",
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
    return _page(title, "\n".join(parts), brand, as_of)


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
    cases = book_cases(books, run["overage_cases"])
    owners: list[str | None] = list(csm_names(health))
    if None in books:
        owners.append(None)
    written = {}
    for csm in owners:
        path = folder / book_filename(csm)
        partial = path.with_name(f".{path.name}.partial")
        page = csm_book_html(csm, books[csm], cases[csm], run.as_of, brand, currency)
        partial.write_text(page, encoding="utf-8")
        partial.replace(path)
        written[NO_CSM if csm is None else csm] = path
    return written


def book_cases(
    books: dict[str | None, pl.DataFrame], cases: pl.DataFrame
) -> dict[str | None, pl.DataFrame]:
    """The overage_cases of each book of ``books`` (``csm_accounts``), in ``cases``' order;
    an empty frame for a book without cases."""
    if not books:
        return {}
    owners = pl.concat(
        [
            accounts.select("account_id", pl.lit(csm, pl.String).alias("_book"))
            for csm, accounts in books.items()
        ]
    )
    found = cases.join(owners, on="account_id", maintain_order="left").partition_by(
        "_book", as_dict=True, include_key=False, maintain_order=True
    )
    return {csm: found.get((csm,), cases.clear()) for csm in books}


@cache
def _stylesheet() -> str:
    return CSS.read_text(encoding="utf-8")


def _page(title: str, body: str, brand: Brand, as_of: date) -> str:
    css = _stylesheet()
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
    cells = [_cells(frame[column], show) for column, (_, show) in columns.items()]
    body = ("<tr>" + "".join(row) + "</tr>" for row in zip(*cells, strict=True))
    return (
        f'<table class="book"><thead><tr>{head}</tr></thead><tbody>'
        + "\n".join(body)
        + "</tbody></table>"
    )


def _cells(values: pl.Series, show: Callable[[Any], str]) -> list[str]:
    """A column's cells: each value ``show``n and made inert, "—" for none; a band cell
    carries its colour."""
    inert: dict[str, str] = {}  # a book repeats its bands, actions and reasons row after row
    band = values.name == "band"
    cells = []
    for value in values.to_list():
        if value is None:
            text = "—"
        else:
            shown = show(value)
            text = inert.get(shown) or inert.setdefault(shown, markdown_text(shown))
        style = (
            f' style="background:{BAND_COLORS[value]};color:#fff;font-weight:bold"'
            if band and value in BAND_COLORS
            else ""
        )
        cells.append(f"<td{style}>{text}</td>")
    return cells


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
