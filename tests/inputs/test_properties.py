"""Properties of the readers and the validator, on generated tables (hypothesis).

Whatever a table holds (any subset of its columns, extra columns, text, numbers, dates, blanks,
markup, control characters; written as CSV or as Parquet with any column types), and whatever
bytes a CSV file holds, ``read_folder`` + ``validate`` either return a book or raise
``InputError``: no other exception. When they return, nothing is lost: for every table
rows_read = rows_accepted + rows_rejected, and the rejects hold exactly the rejected rows.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from drawdown.errors import InputError
from drawdown.inputs.contract import COLUMNS, TABLES
from drawdown.inputs.files import read_folder
from drawdown.inputs.validate import ValidatedBook, validate
from drawdown.params import Params

BASE = Path(__file__).parent / "bad_inputs" / "_base"
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_WORDS = [
    "A1", "A2", "C1", "C2", "api", "USD", "EUR", "2026-03-01", "2026-02-30", "09/15/2026",
    "yes", "maybe", "", " ", "NaN", "inf", "-0", "-5", "1e300", "1,200", "<script>", "../x",
]  # fmt: skip
CELLS = st.one_of(
    st.none(),
    st.sampled_from(_WORDS),
    st.text(max_size=8),
    st.floats().map(str),
    st.integers(-(10**22), 10**22).map(str),
    st.dates().map(str),
)
TYPES = st.sampled_from([pl.String(), pl.Float64(), pl.Int64(), pl.Date(), pl.Boolean()])


@st.composite
def tables(draw: st.DrawFn) -> tuple[str, pl.DataFrame]:
    """A table name and a frame of text cells: a random subset of its columns plus extras."""
    table = draw(st.sampled_from(TABLES))
    names = draw(
        st.lists(st.sampled_from([*COLUMNS[table], "usage_ts", "extra"]), min_size=1, unique=True)
    )
    height = draw(st.integers(0, 6))
    return table, pl.DataFrame(
        {name: draw(st.lists(CELLS, min_size=height, max_size=height)) for name in names},
        schema=dict.fromkeys(names, pl.String()),
    )


def _as(text: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """A text column in ``dtype``, null where it does not parse (a typed Parquet column)."""
    if dtype == pl.Date():
        return text.str.to_date("%Y-%m-%d", strict=False)
    if dtype == pl.Boolean():
        return text.str.to_lowercase().replace_strict(
            {"true": True, "false": False}, default=None, return_dtype=pl.Boolean()
        )
    return text.cast(dtype, strict=False)


def _validated(folder: Path) -> ValidatedBook | None:
    """The validated folder, or None when it raised InputError (any other exception escapes)."""
    try:
        return validate(read_folder(folder), Params())
    except InputError:
        return None


def _book_with(folder: Path, table: str, write) -> Path:
    """The base book in ``folder`` with ``table`` written by ``write(path_without_suffix)``."""
    shutil.copytree(BASE, folder)
    (folder / f"{table}.csv").unlink(missing_ok=True)
    write(folder / table)
    return folder


def _nothing_lost(validated: ValidatedBook) -> None:
    for name, entry in validated.quality.tables.items():
        assert entry.rows_read == entry.rows_accepted + entry.rows_rejected, name
        rejected = validated.rejects.get(name)
        assert (0 if rejected is None else rejected.height) == entry.rows_rejected, name


@SETTINGS
@given(tables())
def test_any_csv_table_validates_or_raises_input_error(generated: tuple[str, pl.DataFrame]):
    table, frame = generated
    with tempfile.TemporaryDirectory() as scratch:
        folder = _book_with(
            Path(scratch) / "data",
            table,
            lambda stem: frame.write_csv(stem.with_suffix(".csv")),
        )
        validated = _validated(folder)
        if validated is not None:
            _nothing_lost(validated)


@SETTINGS
@given(tables(), st.data())
def test_any_parquet_table_validates_or_raises_input_error(
    generated: tuple[str, pl.DataFrame], data: st.DataObject
):
    table, frame = generated
    typed = frame.select(_as(pl.col(name), data.draw(TYPES, label=name)) for name in frame.columns)
    with tempfile.TemporaryDirectory() as scratch:
        folder = _book_with(
            Path(scratch) / "data",
            table,
            lambda stem: typed.write_parquet(stem.with_suffix(".parquet")),
        )
        validated = _validated(folder)
        if validated is not None:
            _nothing_lost(validated)


@SETTINGS
@given(st.sampled_from(TABLES), st.binary(max_size=300))
def test_any_bytes_as_a_csv_file_validate_or_raise_input_error(table: str, content: bytes):
    with tempfile.TemporaryDirectory() as scratch:
        folder = _book_with(
            Path(scratch) / "data",
            table,
            lambda stem: stem.with_suffix(".csv").write_bytes(content),
        )
        validated = _validated(folder)
        if validated is not None:
            _nothing_lost(validated)


@SETTINGS
@given(st.sampled_from(TABLES), st.binary(max_size=300))
def test_any_bytes_as_a_parquet_file_raise_input_error_or_validate(table: str, content: bytes):
    with tempfile.TemporaryDirectory() as scratch:
        folder = _book_with(
            Path(scratch) / "data",
            table,
            lambda stem: stem.with_suffix(".parquet").write_bytes(content),
        )
        validated = _validated(folder)
        if validated is not None:
            _nothing_lost(validated)
