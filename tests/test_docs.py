"""The docs pages: every docs link in the code, params, notebooks, reports and README resolves to a
page and a heading, and the pages name every artifact column, contract rule and CLI option."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import pytest
import typer.main

from drawdown.artifacts import SCHEMAS
from drawdown.cli import app
from drawdown.inputs.contract import RULES

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
CITING = ("lib", "params", "notebooks", "reports", "tests", "docs", "README.md")
LINK = re.compile(r"docs/([a-z0-9_-]+\.md)(?:#([a-z0-9_-]+))?")
IN_PAGE_LINK = re.compile(r"\]\(#([a-z0-9_-]+)\)")


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text without markup, lower case, punctuation
    dropped, spaces as hyphens (``## The 60-day reset tracker`` -> ``the-60-day-reset-tracker``)."""
    text = re.sub(r"[`*]", "", heading).strip().lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def test_github_anchor_follows_githubs_rule():
    assert github_anchor("Rating: what usage is worth") == "rating-what-usage-is-worth"
    assert (
        github_anchor("`previous_month/` and previous_week/") == "previous_month-and-previous_week"
    )
    assert github_anchor("manifest.json") == "manifestjson"


@cache
def headings(page: str) -> tuple[str, ...]:
    """``(level, text)`` pairs of a docs page's headings, outside fenced code blocks."""
    found, fenced = [], False
    for line in (DOCS / page).read_text(encoding="utf-8").splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (match := re.match(r"(#{1,6}) (.+)", line)):
            found.append((len(match[1]), match[2].strip()))
    return tuple(found)


def anchors(page: str) -> set[str]:
    return {github_anchor(text) for _, text in headings(page)}


def section(page: str, heading: str) -> str:
    """The text of one heading's section: up to the next heading of the same or a higher level."""
    lines = (DOCS / page).read_text(encoding="utf-8").splitlines()
    start = next(
        i for i, line in enumerate(lines) if re.fullmatch(rf"#+ {re.escape(heading)}", line)
    )
    level = len(lines[start]) - len(lines[start].lstrip("#"))
    end = next(
        (i for i in range(start + 1, len(lines)) if re.match(rf"#{{1,{level}}} ", lines[i])),
        len(lines),
    )
    return "\n".join(lines[start:end])


def _citing_files() -> list[Path]:
    suffixes = {".py", ".md", ".yaml", ".yml", ".ipynb", ".qmd", ".typ", ".scss"}
    files = []
    for name in CITING:
        path = ROOT / name
        files += (
            [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.suffix in suffixes)
        )
    return [path for path in files if ".venv" not in path.parts]


def _links() -> list[tuple[str, str, str]]:
    """``(citing file, page, anchor)`` for every docs link; the anchor is "" for a page link."""
    return sorted(
        {
            (str(path.relative_to(ROOT)), page, anchor)
            for path in _citing_files()
            for page, anchor in LINK.findall(path.read_text(encoding="utf-8", errors="replace"))
        }
    )


def test_the_code_cites_docs_pages():
    cited = {page for _, page, _ in _links()}
    assert {"data-contract.md", "metrics.md", "outputs.md"} <= cited


@pytest.mark.parametrize(("citing", "page", "anchor"), _links())
def test_every_docs_link_resolves_to_a_page_and_heading(citing, page, anchor):
    assert (DOCS / page).is_file(), f"{citing} cites docs/{page}, which does not exist"
    if anchor:
        assert anchor in anchors(page), f"{citing} cites docs/{page}#{anchor}: no such heading"


@pytest.mark.parametrize("page", sorted(path.name for path in DOCS.glob("*.md")))
def test_links_within_a_page_resolve(page):
    linked = set(IN_PAGE_LINK.findall((DOCS / page).read_text(encoding="utf-8")))
    assert linked <= anchors(page)


def test_code_links_these_headings():
    """Headings that the code, help texts and other pages link to by anchor."""
    assert {"tables", "errors-and-bad-input"} <= anchors("data-contract.md")
    assert {"artifacts", "command-line", "exit-statuses", "data-quality"} <= anchors("outputs.md")


@pytest.mark.parametrize("artifact", sorted(SCHEMAS))
def test_outputs_lists_every_column_of_every_artifact_in_order(artifact):
    documented = re.findall(r"^\| `([a-z0-9_]+)` \|", section("outputs.md", artifact), re.M)
    assert documented == list(SCHEMAS[artifact])


@pytest.mark.parametrize("table", sorted(RULES))
def test_data_contract_names_every_rule_of_every_table(table):
    text = section("data-contract.md", table) + section("data-contract.md", "Errors and bad input")
    text += section("data-contract.md", "Rules across tables")
    missing = [
        rule.name for rule in RULES[table] if f"`{rule.name}`" not in text.replace("\\|", "|")
    ]
    assert not missing


def test_command_line_section_names_every_command_and_option():
    text = section("outputs.md", "Command line")
    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        assert f"drawdown {name}" in text
        for option in command.params:
            assert all(flag in text for flag in option.opts if flag != "--help"), (
                name,
                option.opts,
            )
