"""typst.py: great_tables HTML as a Typst table, charts and sparklines as SVG images."""

from __future__ import annotations

import polars as pl
from great_tables import GT, loc, style

from drawdown.reports import typst

EVIL = 'Evil "] #panic() \\ <b>*x*</b>'


def _table(columns: int = 3) -> str:
    frame = pl.DataFrame(
        {
            "name": ["Acme", EVIL],
            "trend": [[1, 2, 3], [3, 2, 1]],
            **{f"c{i}": [1.5, 2.5] for i in range(columns - 2)},
        }
    )
    table = (
        GT(frame)
        .tab_header("Title", "Sub")
        .fmt_nanoplot("trend", plot_type="bar")
        .tab_style(style.fill("#e08e0b"), loc.body(columns="name", rows=[0]))
        .tab_source_note("A note")
    )
    return table.as_raw_html()


def test_a_great_tables_table_becomes_a_typst_table_with_a_repeated_header() -> None:
    made = typst.gt_table(_table())
    assert made.startswith("#block(") and "#table(" in made and "table.header(" in made
    assert '#"Title"' in made and '#"Sub"' in made and '#"A note"' in made
    assert 'fill: rgb("#e08e0b")' in made


def test_sparklines_become_svg_images_with_the_svg_namespace() -> None:
    made = typst.gt_table(_table())
    assert made.count('image.decode("<svg ') == 2
    assert made.count('xmlns=\\"http://www.w3.org/2000/svg\\"') == 2
    assert "<text" not in made and "<style" not in made


def test_data_text_stays_a_string_literal() -> None:
    made = typst.gt_table(_table())
    assert '#"Evil \\"] #panic() \\\\ <b>*x*</b>"' in made


def test_wide_tables_get_smaller_type_and_every_column_a_width() -> None:
    narrow, wide = typst.gt_table(_table(3)), typst.gt_table(_table(13))
    assert "size: 8.5pt" in narrow and "size: 7pt" in wide
    columns = wide.split("columns: (", 1)[1].split(")", 1)[0].split(", ")
    assert len(columns) == 13 and all(c.endswith(("fr", "em")) for c in columns)


def test_html_without_a_great_tables_table_gives_nothing() -> None:
    assert not typst.is_gt_table("<p>hi</p>") and typst.gt_table("<table></table>") == ""


def test_a_chart_keeps_its_printed_size_up_to_the_text_width() -> None:
    small = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="100"></svg>'
    large = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 1000 500"></svg>'
    assert "width: 300.0pt" in typst.svg_chart(small)
    assert f"width: {typst.TEXT_WIDTH_PT:.1f}pt" in typst.svg_chart(large)
    assert typst.svg_height_pt(large) == 500 * 0.75 * typst.TEXT_WIDTH_PT / 750


def _widths(made: str) -> list[float]:
    return [float(c[:-2]) for c in made.split("columns: (", 1)[1].split(")", 1)[0].split(", ")]


def test_a_crowded_table_leaves_every_column_its_longest_word() -> None:
    # 13 columns at 7 pt: long account names would take the shares, and a single-word
    # "compute_hours" (13 characters) would overflow into the next column. Its width must be at
    # least its word: 13 x 0.56 em + 1 em padding = 8.28 em = 58 pt of the 515 pt text width.
    frame = pl.DataFrame(
        {
            "account": ["Tidewater Mobility Analytics Holdings International"] * 2,
            "meter": ["compute_hours", "api_calls"],
            **{
                f"note{i}": ["a long note of many small words, then more of them"] * 2
                for i in range(11)
            },
        }
    )
    widths = _widths(typst.gt_table(GT(frame).as_raw_html()))
    meter_pt = widths[1] / sum(widths) * typst.TEXT_WIDTH_PT
    assert meter_pt >= (13 * typst.CHAR_EM + typst.PAD_EM) * 7 * 0.99


def test_a_column_under_a_spanner_is_measured_in_its_own_column() -> None:
    # "#" and "Account" span both header rows beside the spanner "Owners": the second header
    # row's labels sit in columns 2 and 3, so "conversation" (12 characters) widens column 3,
    # not column 1.
    frame = pl.DataFrame(
        {
            "n": [1, 2],
            "account": ["Cobalt Robotics Group International"] * 2,
            "detect": ["system"] * 2,
            "first": ["Ada Park"] * 2,
            **{
                f"note{i}": ["a long note of many small words, then more of them"] * 2
                for i in range(9)
            },
        }
    )
    table = (
        GT(frame).tab_spanner("Owners", ["detect", "first"]).cols_label(first="First conversation")
    )
    widths = _widths(typst.gt_table(table.as_raw_html()))
    first_pt = widths[3] / sum(widths) * typst.TEXT_WIDTH_PT
    assert first_pt >= (12 * typst.CHAR_EM + typst.PAD_EM) * 7 * 0.99


def test_a_short_column_has_its_header_on_one_line_when_the_width_allows() -> None:
    # the renewal options: one long label column and three amounts; the page has room for
    # "More than the cheapest" (22 characters) on one line, so it does not wrap in three
    frame = pl.DataFrame(
        {
            "option": ["Expand the commit to the forecast", "Renew as is, paying overage"],
            "commit": ["$780,390", "$460,000"],
            "cost": ["$780,390", "$791,161"],
            "over": ["$0", "$10,770"],
        }
    )
    table = GT(frame).cols_label(
        option="", commit="Commit", cost="Cost next term", over="More than the cheapest"
    )
    made = typst.gt_table(table.as_raw_html())
    widths = _widths(made)
    size = float(typst._type_size(4).removesuffix("pt"))
    over_pt = widths[3] / sum(widths) * typst.TEXT_WIDTH_PT
    assert over_pt >= (22 * typst.CHAR_EM + typst.PAD_EM) * size * 0.99
    option_pt = widths[0] / sum(widths) * typst.TEXT_WIDTH_PT
    assert option_pt >= (33 * typst.CHAR_EM + typst.PAD_EM) * size * 0.99  # and the label fits


def test_a_column_of_short_values_stays_narrow_under_a_long_header_word() -> None:
    # "Conversations" (13 characters) over counts: a short column, as wide as that word, not a
    # share of the page taken from the columns of text beside it
    frame = pl.DataFrame(
        {
            "segment": ["Enterprise", "Mid-Market"],
            "note": ["a long note of many small words, then more of them, and more again"] * 2,
            "conversations": [4, 2],
        }
    )
    table = GT(frame).cols_label(conversations="Conversations")
    widths = _widths(typst.gt_table(table.as_raw_html()))
    size = float(typst._type_size(3).removesuffix("pt"))
    conversations_pt = widths[2] / sum(widths) * typst.TEXT_WIDTH_PT
    assert conversations_pt <= (13 * typst.CHAR_EM + typst.PAD_EM) * size * 1.01


def test_a_table_of_short_columns_gives_each_header_its_line_when_the_width_allows() -> None:
    frame = pl.DataFrame({"segment": ["SMB"], "accounts": [79], "ttfbe": [5], "grr": ["86%"]})
    table = GT(frame).cols_label(accounts="Accounts", ttfbe="Median TTFBE (days)", grr="GRR")
    widths = _widths(typst.gt_table(table.as_raw_html()))
    size = float(typst._type_size(4).removesuffix("pt"))
    ttfbe_pt = widths[2] / sum(widths) * typst.TEXT_WIDTH_PT
    assert ttfbe_pt >= (19 * typst.CHAR_EM + typst.PAD_EM) * size * 0.99
    assert widths[2] > widths[1] > widths[3]  # each header's own length, in proportion


def test_a_source_note_follows_the_table_instead_of_being_its_last_row() -> None:
    # As a row of the table, a note that fell onto the next page took the repeated header with
    # it: a page of the executive review began with the column labels over no rows, then the note.
    made = typst.gt_table(_table())
    table, after = made.rsplit("\n)\n", 1)
    assert '#"A note"' not in table and '#"A note"' in after
