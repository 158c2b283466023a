"""The accounts workbook's data rows, written as sheet XML by Polars instead of cell by cell.

XlsxWriter stores and writes every cell in Python: about 7 µs a cell, 25 s of the 3.5 M cells of
a 50,000-account workbook. ``exports.write_workbook`` lets XlsxWriter write each sheet with its
header and one probe row (``probe``: a value for every column that has one), so that the
workbook's parts, styles, tables, frozen header and column widths stay XlsxWriter's. ``fill``
then replaces each probe row by the sheet's rows, built column by column (``rows_xml``), with the
cell style XlsxWriter gave that column, and grows the sheet's dimension and its table to the rows.

Cells are what XlsxWriter writes: numbers as numbers (in full: Polars writes the shortest text
that reads back as the same float), dates and moments as day serials in the column's date format,
booleans as booleans, and text (and any other type, as its text) as inline strings: escaped for
XML, the control characters XML cannot hold written as ``_xHHHH_``, and cut at Excel's 32,767
characters. A null, an empty text, NaN or an infinity is no cell. Text never becomes a formula:
an inline string is text.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import polars as pl
from xlsxwriter.utility import xl_col_to_name

DAY_SERIAL_1970 = 25569
"""Excel's day serial of 1 Jan 1970: a date's serial is its days since 1970 plus this."""
MICROSECONDS_A_DAY = 86_400_000_000
MAX_TEXT = 32767
"""Excel's longest cell text."""
_CONTROL = [chr(code) for code in range(32) if chr(code) not in "\t\n\r"]
_XML_TEXT = (
    ["&", "<", ">", *_CONTROL],
    ["&amp;", "&lt;", "&gt;", *(f"_x{ord(char):04X}_" for char in _CONTROL)],
)
_PROBE_CELL = re.compile(r'<c r="([A-Z]+)2"((?: s="\d+")?)')
_RANGE = re.compile(r'ref="A1:[A-Z]+\d+"')


def probe(frame: pl.DataFrame) -> pl.DataFrame:
    """One row holding each column's first value that is not null (the frame itself when it has
    no rows): what XlsxWriter writes, so that each column's cell style can be read off it."""
    return frame if frame.height == 0 else frame.select(pl.all().drop_nulls().first())


def rows_xml(frame: pl.DataFrame, styles: dict[str, str]) -> str:
    """Rows 2 and on of a sheet holding ``frame`` under a header row: one ``<row>`` per row and
    one ``<c>`` per cell that holds a value, with ``styles[column letter]`` (`` s="3"``, say)."""
    row = pl.int_range(2, frame.height + 2).cast(pl.String)
    letters = [xl_col_to_name(index) for index in range(frame.width)]
    cells = [
        _cell(name, dtype, letter, styles.get(letter, ""), row)
        for letter, (name, dtype) in zip(letters, frame.schema.items(), strict=True)
    ]
    xml = pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")])
    return frame.select(xml.str.join("")).item()


def _cell(name: str, dtype: pl.DataType, letter: str, style: str, row: pl.Expr) -> pl.Expr:
    """One column's cells: the ``<c>`` of each row's value, or "" where it holds none."""
    column = pl.col(name)
    start = [pl.lit(f'<c r="{letter}'), row, pl.lit(f'"{style}')]
    if dtype.is_numeric() or dtype in (pl.Boolean, pl.Date) or isinstance(dtype, pl.Datetime):
        kind, value = _number(column, dtype)
        parts = [pl.lit(f"{kind}><v>"), value.cast(pl.String), pl.lit("</v></c>")]
        holds = column.cast(pl.Float64).is_finite() if dtype.is_numeric() else column.is_not_null()
    else:
        text = column.cast(pl.String).str.slice(0, MAX_TEXT).str.replace_many(*_XML_TEXT)
        inline = pl.lit(' t="inlineStr"><is><t xml:space="preserve">')
        parts, holds = [inline, text, pl.lit("</t></is></c>")], text.str.len_chars() > 0
    return pl.when(holds).then(pl.concat_str([*start, *parts])).otherwise(pl.lit(""))


def _number(column: pl.Expr, dtype: pl.DataType) -> tuple[str, pl.Expr]:
    """A cell's type attribute and its value: a boolean as 1 or 0, a date or a moment as its day
    serial, a number as itself."""
    if dtype == pl.Boolean:
        return ' t="b"', column.cast(pl.Int8)
    if dtype == pl.Date:
        return "", column.cast(pl.Int64) + DAY_SERIAL_1970
    if isinstance(dtype, pl.Datetime):
        return "", column.dt.epoch("us") / MICROSECONDS_A_DAY + DAY_SERIAL_1970
    return "", column


def fill(path: Path, frames: list[pl.DataFrame]) -> None:
    """Replace the probe row of each sheet of ``path`` (XlsxWriter's, one table per sheet, in
    sheet order) by every row of the frame in ``frames`` at its place; each sheet's dimension and
    its table's range then end at its last row. A sheet whose frame has no rows stays as
    XlsxWriter wrote it. The archive is written again, member by member, in its order, with its
    dates and compression."""
    with zipfile.ZipFile(path) as book:
        members = [(info, book.read(info)) for info in book.infolist()]
    parts = {info.filename: data for info, data in members}
    for number, frame in enumerate(frames, start=1):
        if frame.height == 0:
            continue
        sheet, table = f"xl/worksheets/sheet{number}.xml", f"xl/tables/table{number}.xml"
        xml = parts[sheet].decode("utf-8")
        first, end = xml.index('<row r="2"'), xml.index("</sheetData>")
        styles = dict(_PROBE_CELL.findall(xml[first:end]))
        cells = f'ref="A1:{xl_col_to_name(frame.width - 1)}{frame.height + 1}"'
        xml = xml[:first] + rows_xml(frame, styles) + xml[end:]
        # the sheet's first range is its <dimension>; the table's are the table's and its filter's
        parts[sheet] = _RANGE.sub(cells, xml, count=1).encode("utf-8")
        parts[table] = _RANGE.sub(cells, parts[table].decode("utf-8")).encode("utf-8")
    strings = "xl/sharedStrings.xml"
    if strings in parts:  # the probe rows' texts stay, unused: the count of uses is dropped
        parts[strings] = re.sub(rb' count="\d+"', b"", parts[strings], count=1)
    with zipfile.ZipFile(path, "w") as book:
        for info, _ in members:
            book.writestr(info, parts[info.filename])
