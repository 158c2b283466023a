"""Shared fixtures: a small sample book, written once per test session (per xdist worker)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# CI draws the same property-test examples every run (a red CI should be reproducible);
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

SMALL_BOOK = {"accounts": 80, "days": 500, "seed": 11}


@pytest.fixture(scope="session")
def small_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small sample book folder (80 accounts, 500 days): read-only for tests."""
    from drawdown.inputs.sample import write_sample

    return write_sample(tmp_path_factory.mktemp("book") / "book", **SMALL_BOOK)
