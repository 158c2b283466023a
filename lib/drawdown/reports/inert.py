"""Data text made inert for each kind of output (docs/reliability.md#guarantees).

Text from the data (account names, owners, meters, segments, ids) must never act in an output:
no markup, no working link, no spreadsheet formula, no chat mention. Every output writes data text
through one of these neutralisers, each right for its medium:

- ``spreadsheet_cell`` / ``spreadsheet_cells``: CSV and XLSX. A text cell starting with ``=``,
  ``+``, ``-``, ``@``, tab or carriage return (the OWASP CSV-injection list) gets a leading ``'``,
  so a spreadsheet shows it as text; a cell that is a plain number (``-5``, ``+1.5e3``) is not a
  formula and stays as it is, and number columns are never touched.
- ``markdown_text``: report narrative (Markdown rendered by nbconvert's mistune or Quarto's pandoc,
  to HTML, Typst or PDF). One line; every ASCII punctuation character becomes its numeric
  character reference (``*`` -> ``&#42;``). Both renderers show a reference as the literal
  character and never read it as markup, a link or an autolink, and no backslash is ever shown.
- ``chat_text``: the chat/email digest (CommonMark). One line; ``&``, ``<`` and ``>`` as entities
  (``<!here>`` and ``&lt;`` stay text), emphasis and link punctuation backslash-escaped, and a zero
  width space after each ``@`` (no ``@here`` mention), inside ``://`` and before a dot between two
  letters or digits (no autolinked URL, domain or e-mail address).

Each first removes bidirectional controls (an override can make ``exe.pdf`` read as ``fdp.exe``)
and the other control characters but tab, line feed and carriage return (``plain_text``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import polars as pl

CONTROLS = "[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
"""Removed from all data text: C0 and C1 controls but tab, LF and CR, and every bidirectional
control (ALM, LRM, RLM, the embeddings and overrides LRE-RLO and PDF, the isolates LRI-PDI)."""
FORMULA_START = r"^[=+\-@\t\r]"
"""A cell a spreadsheet may run as a formula (OWASP CSV injection)."""
PLAIN_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
"""A cell that is a number as written, which no spreadsheet runs as a formula."""
TEXT_QUOTE = "'"
ZERO_WIDTH_SPACE = "\u200b"

_CONTROLS = re.compile(CONTROLS)
_FORMULA_START = re.compile(FORMULA_START)
_PLAIN_NUMBER = re.compile(PLAIN_NUMBER)
_PUNCTUATION = re.compile(r"[!-/:-@\[-`{-~]")
_CHAT_ESCAPED = re.compile(r"([\\`*_~\[\]|])")
_CHAT_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_CHAT_LINK_PARTS = re.compile(r"(@|(?<=:)(?=//)|(?<=[^\W_])(?=\.[^\W_]))")


def plain_text(text: object) -> str:
    """``text`` as a string without bidirectional controls and control characters (tab, line feed
    and carriage return kept)."""
    return _CONTROLS.sub("", "" if text is None else str(text))


def one_line(text: object) -> str:
    """``plain_text`` with every run of whitespace (line breaks included) as one space."""
    return " ".join(plain_text(text).split())


def spreadsheet_cell(text: object) -> str:
    """A text cell safe to open in a spreadsheet: ``'`` before a cell that starts like a formula
    (``=``, ``+``, ``-``, ``@``, tab, CR) unless it is a plain number."""
    cell = plain_text(text)
    if _FORMULA_START.match(cell) and not _PLAIN_NUMBER.match(cell):
        return TEXT_QUOTE + cell
    return cell


def spreadsheet_cells(frame: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with every text column (but those in ``keep``) made of ``spreadsheet_cell``s;
    number, date and other columns unchanged."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String and name not in keep]
    return frame.with_columns(_spreadsheet_expr(pl.col(name)).alias(name) for name in text)


def _spreadsheet_expr(column: pl.Expr) -> pl.Expr:
    cell = column.str.replace_all(CONTROLS, "")
    formula = cell.str.contains(FORMULA_START) & ~cell.str.contains(PLAIN_NUMBER)
    return pl.when(formula).then(pl.lit(TEXT_QUOTE) + cell).otherwise(cell)


def plain_frame(frame: pl.DataFrame, keep: Iterable[str] = ()) -> pl.DataFrame:
    """``frame`` with ``plain_text`` applied to every text column but those in ``keep``."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String and name not in keep]
    return frame.with_columns(pl.col(text).str.replace_all(CONTROLS, ""))


def markdown_text(text: object) -> str:
    """Data text for Markdown that any renderer shows as exactly this text: one line, every ASCII
    punctuation character as a numeric character reference (``a_b`` -> ``a&#95;b``)."""
    return _PUNCTUATION.sub(lambda found: f"&#{ord(found.group())};", one_line(text))


def chat_text(text: object) -> str:
    """Data text for the chat/email digest (CommonMark): one line, no markup, link or mention."""
    line = "".join(_CHAT_ENTITIES.get(char, char) for char in one_line(text))
    line = _CHAT_ESCAPED.sub(r"\\\1", line)
    return _CHAT_LINK_PARTS.sub(lambda found: found.group() + ZERO_WIDTH_SPACE, line)
