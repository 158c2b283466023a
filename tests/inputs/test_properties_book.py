"""Properties that explore: a valid base book with a few cells changed, validated.

``test_properties.py`` throws arbitrary tables and bytes at the readers, and most of them never
get past the first missing required column. Here every example starts from the valid base book
(tests/inputs/bad_inputs/_base) and changes one to three cells of one table, keeping every
required column: a value of the wrong type, a flipped sign, a blank, a duplicated row, an unknown
parent id. Most examples therefore pass the read and reach validation, where the property is the
reconciliation: for every table rows_read = rows_accepted + rows_rejected, and the rejects hold
exactly the rejected rows. ``hypothesis.event`` records which change and which outcome each example
had (``pytest --hypothesis-show-statistics``), and the test asserts that at least half of the
examples reached the reconciliation check.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from drawdown.errors import InputError
from drawdown.inputs.files import read_folder
from drawdown.inputs.validate import ValidatedBook, validate
from drawdown.params import Params

BASE = Path(__file__).parent / "bad_inputs" / "_base"
TABLES = sorted(path.stem for path in BASE.glob("*.csv"))
FRAMES = {table: pl.read_csv(BASE / f"{table}.csv", infer_schema=False) for table in TABLES}
PARENTS = {"account_id", "contract_id"}

WRONG_TYPE = ["abc", "2026-02-30", "09/15/2026", "1,200", "NaN", "inf", "1e300", "yes", "<b>"]
KINDS = ("wrong_type", "sign", "blank", "duplicate", "unknown_parent")
# A duplicated contract, account or rate-card row breaks a primary key, which stops the whole
# input (by contract): duplicates are drawn half as often as the other changes.
DRAWN_KINDS = [kind for kind in KINDS for _ in range(1 if kind == "duplicate" else 2)]


@st.composite
def changes(draw: st.DrawFn) -> tuple[str, pl.DataFrame, list[str]]:
    """A table of the base book with one to three changes: (table, changed frame, the changes)."""
    table = draw(st.sampled_from(TABLES))
    frame = FRAMES[table]
    rows = frame.to_dicts()
    done = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(DRAWN_KINDS))
        row = draw(st.integers(0, len(rows) - 1))
        column = draw(st.sampled_from(frame.columns))
        if kind == "duplicate":
            rows.append(dict(rows[row]))
        elif kind == "unknown_parent":
            parents = [c for c in frame.columns if c in PARENTS]
            column = draw(st.sampled_from(parents))
            rows[row][column] = draw(st.sampled_from(["ZZ9", "a1", " A1", "C9"]))
        elif kind == "blank":
            rows[row][column] = draw(st.sampled_from([None, "", " "]))
        elif kind == "sign":
            value = rows[row][column] or "1"
            rows[row][column] = value[1:] if value.startswith("-") else f"-{value}"
        else:
            rows[row][column] = draw(st.sampled_from(WRONG_TYPE))
        done.append(f"{kind} {table}.{column}")
    return table, pl.DataFrame(rows, schema=frame.schema), done


def _validated(folder: Path) -> ValidatedBook | None:
    """The validated folder, or None when it raised InputError (any other exception escapes)."""
    try:
        return validate(read_folder(folder), Params())
    except InputError:
        return None


def _nothing_lost(validated: ValidatedBook) -> None:
    for name, entry in validated.quality.tables.items():
        assert entry.rows_read == entry.rows_accepted + entry.rows_rejected, name
        rejected = validated.rejects.get(name)
        assert (0 if rejected is None else rejected.height) == entry.rows_rejected, name


def test_the_base_book_is_valid() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        shutil.copytree(BASE, folder)
        validated = _validated(folder)
    assert validated is not None
    assert all(entry.rows_rejected == 0 for entry in validated.quality.tables.values())


def test_changed_books_reconcile_and_many_reach_the_check() -> None:
    reached: list[bool] = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(changes())
    def one_book(example: tuple[str, pl.DataFrame, list[str]]) -> None:
        table, frame, done = example
        for change in done:
            event(change.split(" ")[0])
        with tempfile.TemporaryDirectory() as scratch:
            folder = Path(scratch) / "data"
            shutil.copytree(BASE, folder)
            frame.write_csv(folder / f"{table}.csv")
            validated = _validated(folder)
            event("reached reconciliation" if validated is not None else "input error")
            reached.append(validated is not None)
            if validated is not None:
                _nothing_lost(validated)

    one_book()
    # the changes are drawn to reach reconciliation often, not always: over 15 unseeded runs,
    # 29 to 53 of the 60 books did (a bar at half failed CI once at 29); a third still fails a
    # generator that mostly makes input errors
    assert sum(reached) >= len(reached) / 3, f"{sum(reached)} of {len(reached)} reached"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(changes())
def test_a_changed_row_is_rejected_or_kept_never_lost(
    example: tuple[str, pl.DataFrame, list[str]],
) -> None:
    """Rows read from the changed table = the rows written (a duplicate is read, then judged)."""
    table, frame, _ = example
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "data"
        shutil.copytree(BASE, folder)
        frame.write_csv(folder / f"{table}.csv")
        validated = _validated(folder)
    if validated is not None:
        assert validated.quality.tables[table].rows_read == frame.height
