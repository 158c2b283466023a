"""CSM books: one self-contained HTML page per CSM with an active account (docs/outputs.md#csm-books).

A book lists the CSM's accounts with band, burn, next action and owner (``account_actions``), their
overconsumption cases and their early warnings, every account and nothing capped. The accounts
that name no CSM get a book of their own (``unassigned``), so every account is in one book.
Written by the run after the metrics; reset item 1 counts the books written
(docs/metrics.md#the-60-day-reset-tracker). Data text goes through ``inert.markdown_text``
(numeric character references, inert in HTML) or great_tables, which escapes cell text.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from drawdown.params import Brand
from drawdown.reports import tables
from drawdown.reports.data import NO_CSM, RunData, action_counts, csm_accounts, csm_names
from drawdown.reports.inert import markdown_text
from drawdown.reports.render import safe_filename
from drawdown.resources import REPORTS_DIR

FOLDER = Path("reports") / "csm"
CSS = REPORTS_DIR / "nbconvert" / "drawdown" / "report.css"


def book_filename(csm: str | None) -> str:
    """``<csm>.html`` made file-name safe (``render.safe_filename``); ``unassigned.html``."""
    return f"{NO_CSM if csm is None else safe_filename(csm)}.html"


def csm_book_html(run: RunData, csm: str | None, brand: Brand, currency: str = "USD") -> str:
    """The book of ``csm`` (None: accounts with no CSM) as one HTML page (no script, no CDN)."""
    accounts = csm_accounts(run["account_health"], run["account_actions"], csm)
    ids = accounts["account_id"].implode()
    cases = run["overage_cases"].filter(pl.col("account_id").is_in(ids))
    warned = accounts.filter(pl.col("early_warnings").list.len() > 0)
    name = "Accounts with no CSM" if csm is None else f"CSM book: {markdown_text(csm)}"
    todo = ", ".join(f"{label.lower()} {count}" for label, count in action_counts(accounts))
    value = float(accounts["account_value"].sum())
    parts = [
        f"<p><strong>{markdown_text(brand.vendor_name)}</strong> · as of {run.as_of:%d %B %Y}</p>",
        f"<h1>{name}</h1>",
        f"<p>{accounts.height} account{'s' if accounts.height != 1 else ''}, "
        f"{_money(value, currency)} of annual value; {cases.height} overconsumption "
        f"case{'s' if cases.height != 1 else ''}; {warned.height} account"
        f"{'s' if warned.height != 1 else ''} with an early warning.</p>",
        f"<p><strong>Next actions:</strong> {todo or 'none'}.</p>",
        "<h2>Accounts</h2>",
        tables.csm_accounts_table(accounts, currency=currency).pipe(tables.table_theme, brand).as_raw_html(),
        "<h2>Overconsumption cases</h2>",
        tables.csm_cases_table(cases, currency=currency).pipe(tables.table_theme, brand).as_raw_html()
        if cases.height
        else "<p><em>No account of this book is over its contractual limits.</em></p>",
        "<h2>Early warnings</h2>",
        tables.csm_warnings_table(warned, currency=currency).pipe(tables.table_theme, brand).as_raw_html()
        if warned.height
        else "<p><em>No account of this book shows an early warning.</em></p>",
    ]
    title = "Accounts with no CSM" if csm is None else f"CSM book: {markdown_text(csm)}"
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
    owners: list[str | None] = list(csm_names(health))
    if csm_accounts(health, run["account_actions"], None).height:
        owners.append(None)
    written = {}
    for csm in owners:
        path = folder / book_filename(csm)
        partial = path.with_name(f".{path.name}.partial")
        partial.write_text(csm_book_html(run, csm, brand, currency), encoding="utf-8")
        partial.replace(path)
        written[NO_CSM if csm is None else csm] = path
    return written


def _page(title: str, body: str, brand: Brand, as_of: date) -> str:
    css = CSS.read_text(encoding="utf-8")
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8" />\n'
        f"<title>{title} · {as_of:%d %b %Y}</title>\n<style>{css}</style>\n"
        f'<style>:root {{ --brand: {brand.primary_color}; }}</style>\n</head>\n'
        f'<body class="drawdown-report">\n<main>\n{body}\n</main>\n</body>\n</html>\n'
    )


def _money(value: float, currency: str) -> str:
    return f"${value:,.0f}" if currency == "USD" else f"{value:,.0f} {currency}"
