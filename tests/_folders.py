"""A tiny valid book as CSV text, and a writer of CSV folders, for the validation tests.

The book: accounts A1, A2; contract C1 of A1 (2026-01-01 to 2026-12-31, commit 1200) and C2 of
A2 (evergreen, pay-as-you-go); meter api on both; three usage rows of A1 and one of A2.
"""

from __future__ import annotations

from pathlib import Path

VALID = {
    "accounts": (
        "account_id,account_name,segment,csm_owner,ae_owner,technical_counterpart,is_strategic\n"
        "A1,Acme,Enterprise,cs1,ae1,tc1,yes\n"
        "A2,Beta,SMB,,,,\n"
    ),
    "contracts": (
        "contract_id,account_id,start_date,end_date,commit_amount,currency,renewal_of\n"
        "C1,A1,2026-01-01,2026-12-31,1200,USD,\n"
        "C2,A2,2026-01-01,,0,USD,\n"
    ),
    "rate_card": (
        "contract_id,meter,unit_price,included_quantity,overage_unit_price\n"
        "C1,api,1.0,100,\n"
        "C2,api,2.0,,\n"
    ),
    "usage": (
        "account_id,meter,usage_date,quantity\n"
        "A1,api,2026-03-01,5\n"
        "A1,api,2026-03-01,7\n"
        "A1,api,2026-03-02,1\n"
        "A2,api,2026-03-01,3\n"
    ),
}


def write_folder(folder: Path, **tables: str) -> Path:
    """The valid book with some tables replaced (or added) by the given CSV text; None drops one."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, text in (VALID | tables).items():
        if text is not None:
            (folder / f"{table}.csv").write_text(text, encoding="utf-8")
    return folder


def with_rows(table: str, *rows: str) -> str:
    """The valid table's CSV text with rows appended (rows numbered from len(valid rows) + 2)."""
    return VALID[table] + "".join(f"{row}\n" for row in rows)
