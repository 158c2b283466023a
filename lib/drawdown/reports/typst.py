"""Typst markup for the report outputs Quarto's Typst path cannot draw by itself.

Quarto drops raw HTML on its way to Typst, so a great_tables table (``text/html``) would lose its
sparklines and keep its HTML column widths. ``gt_table`` reads the table's HTML and writes a Typst
``#table``: the title and column labels as a header that repeats on every page, the body cells with
their alignment, fill, colour and weight, each sparkline (an inline ``<svg>``) as an image, column
widths in proportion to their content so that the table always fits the page, and a smaller type
for wide tables. ``svg_chart`` places a chart's SVG at the size the Chromium print gives it
(1 px = 0.75 pt), never wider than the text.

Every text from the data ends up inside a Typst string literal (``#"..."``), never as markup, so it
stays inert (docs/reliability.md, "Inert data text").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

PT_PER_PX = 0.75
"""CSS pixels to points, as Chromium prints them."""
TEXT_WIDTH_PT = 515.0
"""A4 (595 pt) less the template's 1.4 cm margins on each side."""
SHORT = 10
"""A table column whose texts have at most this many characters is as wide as its text."""
LONG = 30
"""The share of a longer column is its longest text, in characters, up to this many."""
CHAR_EM = 0.56
"""The mean width of a character of Liberation Sans (digits: 0.556 em)."""
PAD_EM = 1.0
"""A cell's padding, both sides, in em."""
SPARK_EM = 6.2
"""A sparkline column: the 1.7 em high nanoplot (400 × 130) and its padding."""

_VOID = {"br", "hr", "img", "meta", "link", "input", "col", "path", "line", "rect", "circle"}
_ALIGN = {"gt_left": "left", "gt_right": "right", "gt_center": "center"}
_COLOR = re.compile(r"#(?:[0-9a-fA-F]{6}|[0-9a-fA-F]{3})\b")
_NAMED = {"white": "#ffffff", "black": "#000000", "red": "#ff0000", "gray": "#808080"}
_BRAND = re.compile(r"\.gt_col_headings \{[^}]*?border-bottom-color: (#[0-9a-fA-F]{6})")


@dataclass
class Node:
    """An HTML element (``tag`` ``""`` for a text node, whose ``text`` is set)."""

    tag: str
    attrs: dict[str, str] = field(default_factory=dict)
    children: list[Node] = field(default_factory=list)
    text: str = ""

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def find_all(self, tag: str) -> list[Node]:
        found = [self] if self.tag == tag else []
        for child in self.children:
            found += child.find_all(tag)
        return found

    def plain(self) -> str:
        """The text of the element and its descendants, SVG left out."""
        if self.tag == "svg":
            return ""
        return self.text + "".join(child.plain() for child in self.children)


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#root")
        self._stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {key: value or "" for key, value in attrs})
        self._stack[-1].children.append(node)
        if tag not in _VOID:
            self._stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack[-1].children.append(Node(tag, {key: value or "" for key, value in attrs}))

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._stack) - 1, 0, -1):
            if self._stack[depth].tag == tag:
                del self._stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self._stack[-1].children.append(Node("", text=data))


def parse_html(html: str) -> Node:
    """A small DOM of ``html`` (no validation; unclosed elements end with their parent)."""
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def string(text: str) -> str:
    """``text`` as Typst markup that shows it verbatim: a string literal, whitespace collapsed."""
    collapsed = re.sub(r"\s+", " ", text)
    escaped = collapsed.replace("\\", "\\\\").replace('"', '\\"')
    return f'#"{escaped}"'


def is_gt_table(html: str) -> bool:
    """Whether ``html`` is a great_tables table."""
    return 'class="gt_table"' in html


def gt_table(html: str) -> str:
    """The great_tables table in ``html`` as Typst markup (a ``#table``), or ``""`` if none."""
    root = parse_html(html)
    tables = [node for node in root.find_all("table") if "gt_table" in node.classes()]
    if not tables:
        return ""
    brand = (match.group(1) if (match := _BRAND.search(html)) else None) or "#1f4e79"
    return _Table(tables[0], brand).typst()


@dataclass
class _Cell:
    node: Node
    colspan: int
    rowspan: int
    header: bool


class _Table:
    def __init__(self, table: Node, brand: str) -> None:
        self.brand = brand
        self.titles: list[Node] = []
        self.head: list[list[_Cell]] = []
        self.body: list[list[_Cell]] = []
        self.notes: list[Node] = []
        for section in table.children:
            for row in (child for child in section.children if child.tag == "tr"):
                self._add_row(section.tag, row)
        self.columns = max(
            (sum(cell.colspan for cell in row) for row in [*self.head, *self.body]), default=1
        )

    def _add_row(self, section: str, row: Node) -> None:
        cells = [
            _Cell(
                child,
                int(child.attrs.get("colspan") or 1),
                int(child.attrs.get("rowspan") or 1),
                section == "thead",
            )
            for child in row.children
            if child.tag in ("td", "th")
        ]
        if not cells:
            return
        first = cells[0].node.classes()
        if first & {"gt_title", "gt_subtitle"}:
            self.titles.append(cells[0].node)
        elif first & {"gt_sourcenote", "gt_footnote"}:
            self.notes.append(cells[0].node)
        elif section == "thead":
            self.head.append(cells)
        else:
            self.body.append(cells)

    def typst(self) -> str:
        size = _type_size(self.columns)
        widths = self._widths()
        align = self._aligns()
        rule = f'rgb("{self.brand}")'
        lines = [
            "#block(width: 100%, above: 0.9em, below: 1.1em)[",
            f"#set text(size: {size})",
            "#table(",
            f"  columns: ({', '.join(widths)}),",
            f"  align: ({', '.join(align)}),",
            "  stroke: none,",
            "  inset: (x: 3pt, y: 2.6pt),",
            "  table.header(",
        ]
        for title in self.titles:
            sub = "gt_subtitle" in title.classes()
            style = "size: 0.9em, fill: luma(90)" if sub else 'size: 1.2em, weight: "bold"'
            lines.append(
                f"    table.cell(colspan: {self.columns}, align: left, inset: (x: 3pt, y: 3pt))"
                f"[#text({style})[{_inline(title)}]],"
            )
        lines.append(f"    table.hline(stroke: 1.2pt + {rule}),")
        for row in self.head:
            lines.append("    " + " ".join(self._cell(cell, header=True) for cell in row))
        lines.append(f"    table.hline(stroke: 1pt + {rule}),")
        lines.append("  ),")
        for index, row in enumerate(self.body):
            if index:
                lines.append("  table.hline(stroke: 0.4pt + luma(211)),")
            lines.append("  " + " ".join(self._cell(cell, header=False) for cell in row))
        lines += [f"  table.hline(stroke: 1pt + {rule}),", ")"]
        # after the table, not a row of it: a note on the next page would repeat the header
        for note in self.notes:
            lines.append(
                f"#block(above: 0.4em, inset: (x: 3pt))"
                f"[#text(size: 0.9em, fill: luma(90))[{_inline(note)}]]"
            )
        lines.append("]")
        return "\n".join(lines)

    def _cell(self, cell: _Cell, *, header: bool) -> str:
        node = cell.node
        args = []
        if cell.colspan > 1:
            args.append(f"colspan: {cell.colspan}")
        if cell.rowspan > 1:
            args.append(f"rowspan: {cell.rowspan}")
        classes = node.classes()
        if "gt_column_spanner_outer" in classes or "gt_group_heading" in classes:
            args.append("align: center" if "gt_column_spanner_outer" in classes else "align: left")
        style = _style(node.attrs.get("style", ""))
        if fill := style.get("background-color"):
            args.append(f'fill: rgb("{fill}")')
        body = _inline(node)
        text_args = []
        if color := style.get("color"):
            text_args.append(f'fill: rgb("{color}")')
        if header or style.get("font-weight") == "bold" or "gt_group_heading" in classes:
            text_args.append('weight: "bold"')
        if style.get("font-style") == "italic":
            text_args.append('style: "italic"')
        if text_args:
            body = f"#text({', '.join(text_args)})[{body}]"
        if "gt_column_spanner_outer" in classes:
            body = f'{body}#v(-0.5em)#line(length: 100%, stroke: 0.8pt + rgb("{self.brand}"))'
        return f"table.cell({', '.join(args)})[{body}],"

    def _widths(self) -> list[str]:
        """Each column's width: a short column (cells of at most ``SHORT`` characters) its
        text's width, its header's longest word included; a sparkline column the sparkline's;
        and the longer columns a share of the rest in proportion to their text (capped, so that
        one long note wraps instead of starving the others), never narrower than its longest
        word (``_fitted_widths``). When the width allows, each short column first holds its
        header on one line."""
        longest, words, spark = [0] * self.columns, [0] * self.columns, [False] * self.columns
        heading = [0] * self.columns
        for header, rows in ((True, self.head), (False, self.body)):
            for row in _placed(rows):
                for column, cell in row:
                    if cell.colspan == 1 and column < self.columns:
                        text = cell.node.plain().strip()
                        words[column] = max([words[column], *(len(w) for w in text.split())])
                        if header:
                            heading[column] = max(heading[column], len(text))
                        else:
                            longest[column] = max(longest[column], len(text))
                            spark[column] = spark[column] or bool(cell.node.find_all("svg"))
        fixed = [
            SPARK_EM if spark[i] else max(longest[i], words[i]) * CHAR_EM + PAD_EM
            for i in range(self.columns)
        ]
        short = [spark[i] or longest[i] <= SHORT for i in range(self.columns)]
        size = float(_type_size(self.columns).removesuffix("pt"))
        least = [fixed[i] if short[i] else words[i] * CHAR_EM + PAD_EM for i in range(self.columns)]
        shares = [
            0 if short[i] else min(max(longest[i], words[i], 4), LONG) for i in range(self.columns)
        ]
        one_line = [
            max(fixed[i], min(heading[i], LONG) * CHAR_EM + PAD_EM) if short[i] else least[i]
            for i in range(self.columns)
        ]
        if (sum(one_line) + sum(shares) * CHAR_EM) * size <= TEXT_WIDTH_PT:
            least = one_line
        if all(short):  # as wide as the text, as great_tables' own `width: 100%`
            return [f"{em * 10:.0f}fr" for em in least]
        return _fitted_widths([em * size for em in least], shares)

    def _aligns(self) -> list[str]:
        aligns = ["left"] * self.columns
        for row in self.body[:1]:
            column = 0
            for cell in row:
                found = [_ALIGN[name] for name in cell.node.classes() if name in _ALIGN]
                if found and cell.colspan == 1 and column < self.columns:
                    aligns[column] = found[0] + " + horizon"
                elif column < self.columns:
                    aligns[column] = aligns[column] + " + horizon"
                column += cell.colspan
        return [align if "horizon" in align else f"{align} + horizon" for align in aligns]


def _placed(rows: list[list[_Cell]]) -> Iterator[list[tuple[int, _Cell]]]:
    """Each row's cells with the column each one starts in: a cell spanning rows (a column
    label beside a spanner) takes its columns in the rows below it too."""
    covered: dict[int, int] = {}  # column -> rows it is still taken for, this one included
    for row in rows:
        placed, column = [], 0
        for cell in row:
            while covered.get(column, 0) > 0:
                column += 1
            placed.append((column, cell))
            for spanned in range(column, column + cell.colspan):
                covered[spanned] = max(covered.get(spanned, 0), cell.rowspan)
            column += cell.colspan
        covered = {column: rows - 1 for column, rows in covered.items() if rows > 1}
        yield placed


def _fitted_widths(least_pt: list[float], shares: list[int]) -> list[str]:
    """Column widths, as ``fr`` of the text width: each column at least ``least_pt`` (a short
    column its text, a longer one its longest word: a word cannot wrap, so a narrower column
    would print it over the next one), and what is left of the width shared out in proportion
    to ``shares``. When even that does not fit, every column is scaled down alike."""
    rest = TEXT_WIDTH_PT - sum(least_pt)
    total = sum(shares)
    if rest <= 0 or not total:
        return [f"{least:.1f}fr" for least in least_pt]
    return [
        f"{least + rest * share / total:.1f}fr"
        for least, share in zip(least_pt, shares, strict=True)
    ]


def _type_size(columns: int) -> str:
    """Smaller type for wider tables (the body is 10 pt)."""
    if columns <= 5:
        return "8.5pt"
    if columns <= 8:
        return "8pt"
    if columns <= 11:
        return "7.5pt"
    return "7pt"


def _style(style: str) -> dict[str, str]:
    """The colours, weight and style of an inline ``style`` attribute that Typst can show."""
    found: dict[str, str] = {}
    for declaration in style.split(";"):
        name, _, value = declaration.partition(":")
        name, value = name.strip().lower(), value.strip().lower()
        if name in ("background-color", "color"):
            color = _NAMED.get(value) or (match.group(0) if (match := _COLOR.search(value)) else "")
            if color:
                found[name] = color
        elif name in ("font-weight", "font-style"):
            found[name] = "bold" if value in ("bold", "700", "800", "900") else value
    return found


def _inline(node: Node) -> str:
    """The content of ``node`` as Typst markup."""
    parts: list[str] = []
    for child in node.children:
        if child.tag == "":
            if child.text.strip() or (parts and child.text):
                parts.append(string(child.text))
        elif child.tag == "svg":
            parts.append(sparkline(child))
        elif child.tag == "br":
            parts.append("#linebreak()")
        elif child.tag in ("b", "strong"):
            parts.append(f"#strong[{_inline(child)}]")
        elif child.tag in ("em", "i"):
            parts.append(f"#emph[{_inline(child)}]")
        elif child.tag in ("style", "script"):
            continue
        else:
            inner = _inline(child)
            style = _style(child.attrs.get("style", ""))
            args = [f'fill: rgb("{style["color"]}")'] if "color" in style else []
            if style.get("font-weight") == "bold":
                args.append('weight: "bold"')
            parts.append(f"#text({', '.join(args)})[{inner}]" if args else inner)
    return "".join(parts)


def sparkline(svg: Node) -> str:
    """An inline ``<svg>`` (a great_tables nanoplot) as an image 1.7 em high."""
    return f'#box(image.decode({_literal(_serialise(svg))}, format: "svg", height: 1.7em))'


def svg_chart(svg: str) -> str:
    """A chart's SVG as a Typst image block: Chromium's print size, at most the text width."""
    width, _ = svg_size(svg)
    scale = min(1.0, TEXT_WIDTH_PT / width) if width else 1.0
    size = f"width: {width * scale:.1f}pt" if width else "width: 100%"
    return (
        "#block(breakable: false, above: 0.8em, below: 1em)["
        f'#image.decode({_literal(svg)}, format: "svg", {size})]'
    )


def svg_height_pt(svg: str) -> float:
    """The height of a chart as ``svg_chart`` places it, in points."""
    width, height = svg_size(svg)
    return height * min(1.0, TEXT_WIDTH_PT / width) if width else height


def svg_size(svg: str) -> tuple[float, float]:
    """The printed width and height of an SVG in points (from its ``width``/``height``, else its
    ``viewBox``); zeros when neither is given."""
    head = svg[: svg.find(">") + 1]
    sizes = {
        name: float(match.group(1))
        for name in ("width", "height")
        if (match := re.search(rf'\s{name}="([0-9.]+)(?:px)?"', head))
    }
    if "width" not in sizes and (box := re.search(r'viewBox="([-0-9. ]+)"', head)):
        values = box.group(1).split()
        if len(values) == 4:
            sizes = {"width": float(values[2]), "height": float(values[3])}
    return sizes.get("width", 0.0) * PT_PER_PX, sizes.get("height", 0.0) * PT_PER_PX


def _literal(text: str) -> str:
    """``text`` as a Typst string literal."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _serialise(node: Node) -> str:
    """An SVG element back to text, with the SVG namespace (inline SVG in HTML leaves it out),
    without its CSS and texts (a nanoplot's hover labels, drawn transparent) and inline style."""
    if node.tag == "":
        return _escape(node.text)
    attrs = {key: value for key, value in node.attrs.items() if key not in ("style", "class")}
    if node.tag == "svg":
        attrs.setdefault("xmlns", "http://www.w3.org/2000/svg")
    if node.tag in ("style", "text"):
        return ""
    rendered = "".join(f' {key}="{_escape(value)}"' for key, value in attrs.items())
    inner = "".join(_serialise(child) for child in node.children)
    return f"<{node.tag}{rendered}>{inner}</{node.tag}>"


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )
