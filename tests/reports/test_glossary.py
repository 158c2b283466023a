"""The glossary: every artifact column and coded value has words, and the lookups fall back to words."""

from __future__ import annotations

import re

import polars as pl
import pytest

from drawdown.artifacts import SCHEMAS
from drawdown.reports import glossary

SNAKE = re.compile(r"\b[a-z]+_[a-z0-9_]+\b")


@pytest.mark.parametrize(
    "column", sorted({column for schema in SCHEMAS.values() for column in schema})
)
def test_every_artifact_column_has_words(column: str) -> None:
    assert column in glossary.COLUMNS and not SNAKE.search(glossary.COLUMNS[column])


def test_no_value_or_definition_is_a_code_name() -> None:
    words = [w for values in glossary.VALUES.values() for w in values.values()]
    words += [*glossary.DEFINITIONS, *glossary.DEFINITIONS.values()]
    assert not [w for w in words if SNAKE.search(w)]


def test_an_unlisted_column_reads_in_words() -> None:
    assert glossary.label("days_live") == "Days live"


def test_value_gives_the_words_and_falls_back_without_underscores() -> None:
    assert glossary.value("band", "not_live") == "Not live"
    assert glossary.value("band", "brand_new") == "brand new"
    assert glossary.value("band", None) == ""


def test_value_words_maps_a_column_and_keeps_nulls() -> None:
    frame = pl.DataFrame({"burn": ["too_fast", "odd_one", None]})
    assert frame.select(glossary.value_words("burn"))["burn"].to_list() == [
        "Too fast",
        "odd one",
        None,
    ]


def test_list_words_joins_the_words_of_each_element() -> None:
    frame = pl.DataFrame({"early_warnings": [["usage_drop", "renewal_risk"], []]})
    assert frame.select(glossary.list_words("early_warnings"))["early_warnings"].to_list() == [
        "Usage drop, Renewal risk",
        "",
    ]


def test_every_money_and_percent_column_is_an_artifact_column_or_a_forecast() -> None:
    columns = {column for schema in SCHEMAS.values() for column in schema}
    forecast = {"p10", "p50", "p90", "p_exhaust_before_term_end", "coverage_p10_p90"}
    forecast |= {"horizon_days", "exhaustion_p10", "exhaustion_p50", "exhaustion_p90"}
    assert set(glossary.KINDS) <= columns | forecast
