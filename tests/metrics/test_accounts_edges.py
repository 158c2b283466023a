"""account_health's two switches: the caller's ``daily`` and ``forecast=False``."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from _books import contract, make_book, usage
from drawdown.artifacts import SCHEMAS
from drawdown.inputs.rating import rate_usage
from drawdown.metrics.accounts import account_health
from drawdown.metrics.forecast import EXHAUSTION_COLUMNS
from drawdown.metrics.series import daily_spend
from drawdown.params import Params

AS_OF = date(2024, 3, 10)


def _book():
    return make_book(
        [contract("c1", date(2024, 1, 1), date(2024, 12, 31), 1000.0)],
        [usage("a", date(2024, 1, 1), date(2024, 3, 20), 1.0)],
        prices={"c1": 2.0},
    )


# a daily from a later day (Mar 20 ≥ A) is cut at A, and rated is then not read at all (it
# spares re-aggregating rated): a rated that fails when read gives the same rows
def test_account_health_reads_the_callers_daily_not_rated() -> None:
    book = _book()
    rated = rate_usage(book)
    daily = daily_spend(rated, date(2024, 3, 20))
    unreadable = rated.select(pl.col("no_such_column"))
    assert_frame_equal(
        account_health(book, unreadable, Params(), AS_OF, daily=daily).collect(),
        account_health(book, rated, Params(), AS_OF).collect(),
    )


# without the forecast the exhaustion quantiles are null columns typed as in
# SCHEMAS["account_health"] (Date), not polars' Null type
def test_account_health_without_forecast_types_the_null_quantiles() -> None:
    book = _book()
    health = account_health(book, rate_usage(book), Params(), AS_OF, forecast=False).collect()
    assert health.columns == list(SCHEMAS["account_health"])
    quantiles = health.select(EXHAUSTION_COLUMNS)
    assert quantiles.schema == pl.Schema(
        {name: SCHEMAS["account_health"][name] for name in EXHAUSTION_COLUMNS}
    )
    assert quantiles.null_count().row(0) == (1,) * len(EXHAUSTION_COLUMNS)
