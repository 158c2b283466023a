"""Rating (docs/data-contract.md): price each day's usage with the contract covering that day.

Usage on day d for account a is rated with the contract of a that covers d and that contract's
rate-card row for the meter: amount = quantity × unit_price. Usage on a day no contract covers is
``out_of_contract``; usage of a meter the covering contract has no rate-card row for is
``unrated``. Both keep their rows (amount 0) so they can be counted, never dropped.
"""

from __future__ import annotations

import polars as pl

from drawdown.exact import exact_sum
from drawdown.inputs.contract import Book

RATED = "rated"
OUT_OF_CONTRACT = "out_of_contract"
UNRATED = "unrated"


def covers(day: str | pl.Expr, start: str = "start_date", end: str = "end_date") -> pl.Expr:
    """True where a contract covers the day: start_date ≤ day ≤ end_date (null end = evergreen)."""
    day_expr = pl.col(day) if isinstance(day, str) else day
    return (day_expr >= pl.col(start)) & (pl.col(end).is_null() | (day_expr <= pl.col(end)))


def rate_usage(book: Book) -> pl.LazyFrame:
    """Daily usage with its covering contract, prices and rating status.

    Columns: account_id, meter, usage_date, quantity, contract_id (null when out of contract),
    unit_price, included_quantity, overage_unit_price (null overage price = unit_price),
    rating_status (``rated`` / ``out_of_contract`` / ``unrated``) and amount (0 unless rated).
    The rows keep the usage's order (a validated book's: by account_id, meter, usage_date),
    which ``series.sorted_daily_spend`` groups on cheaply.

    Validation guarantees the contracts of an account do not overlap, so the contract covering
    a day, if any, is the account's latest contract starting on or before it, when its term
    holds the day. Both lookups are binary searches over small sorted integer keys
    (``_term_keys``, ``_price_keys``) instead of joins on text: a join of every usage row with
    its account's contracts, then with the rate card on (contract_id, meter), costs several
    times the time and memory at tens of millions of rows. The price is searched once per run
    of rows with the same (term, meter), which sorted usage has one of per term and meter, and
    spread to the run's rows. Computed here, returned lazy.
    """
    usage = book.usage.collect()
    contracts = book.contracts.collect()
    prices = contract_prices(book.rate_card).collect()
    account_runs, meter_runs = usage["account_id"].rle(), usage["meter"].rle()
    accounts = _domain(account_runs.struct.field("value"), contracts["account_id"])
    meters = _domain(meter_runs.struct.field("value"), prices["meter"])
    terms = _term_keys(contracts, accounts)
    price_keys = _price_keys(prices, terms, meters)
    place = _codes(account_runs, accounts)
    day = usage["usage_date"]
    latest = _at_or_before(terms["_key"], place * _PLACE + _day(day))
    end = terms["end_date"].gather(latest)
    holds = (terms["_place"].gather(latest) == place) & (end.is_null() | (day <= end))
    term = _where(holds, latest)
    priced = term * meters.len() + _codes(meter_runs, meters)
    runs, run = priced.rle(), priced.rle_id()
    price = _position(price_keys["_key"], runs.struct.field("value"))
    looked_up = [terms["contract_id"].gather(term)] + [
        price_keys[name].gather(price).gather(run)
        for name in ("unit_price", "included_quantity", "overage_unit_price")
    ]
    return usage.with_columns(looked_up).lazy().with_columns(rating_status(), amount())


_PLACE = 2**32
"""Keys of (account, day): the account's place among the sorted account_ids × 2³², plus the day
(``_day``, in [0, 2³²))."""


def _day(day: pl.Series) -> pl.Series:
    """Dates as non-negative integers below 2³²: days since 1970-01-01 + 2³¹."""
    return day.cast(pl.Int64) + 2**31


def _domain(*values: pl.Series) -> pl.Series:
    """The distinct non-null values of the series, sorted."""
    return pl.concat([series.unique() for series in values]).unique().drop_nulls().sort()


def _codes(runs: pl.Series, domain: pl.Series) -> pl.Series:
    """Each value's index in ``domain`` (sorted, holding every non-null value; null stays
    null), from the values' runs (``Series.rle``): searched once per run, cheap on sorted
    usage."""
    values, lengths = runs.struct.field("value"), runs.struct.field("len")
    places = _where(values.is_not_null(), domain.search_sorted(values).cast(pl.Int64))
    return pl.select(pl.lit(places).repeat_by(pl.lit(lengths)).explode()).to_series()


def _term_keys(contracts: pl.DataFrame, accounts: pl.Series) -> pl.DataFrame:
    """The contracts keyed by (account, start_date) (``_PLACE``), sorted by that key: _key,
    _place, contract_id, end_date."""
    known = contracts.filter(pl.col("account_id").is_not_null(), pl.col("start_date").is_not_null())
    place = accounts.search_sorted(known["account_id"]).cast(pl.Int64)
    return known.select(
        (place * _PLACE + _day(known["start_date"])).alias("_key"),
        place.alias("_place"),
        "contract_id",
        "end_date",
    ).sort("_key")


def _price_keys(prices: pl.DataFrame, terms: pl.DataFrame, meters: pl.Series) -> pl.DataFrame:
    """``contract_prices`` keyed by (the contract's row in ``terms``, the meter's index in
    ``meters``), sorted by that key."""
    rows = terms.select("contract_id").with_row_index("_term")
    priced = prices.join(rows, on="contract_id")
    meter = meters.search_sorted(priced["meter"]).cast(pl.Int64)
    key = priced["_term"].cast(pl.Int64) * meters.len() + meter
    return priced.with_columns(key.alias("_key")).sort("_key")


def _at_or_before(keys: pl.Series, key: pl.Series) -> pl.Series:
    """The index of the last of ``keys`` (sorted) ≤ each key; null when none is or key is null."""
    index = keys.search_sorted(key.fill_null(-1), side="right").cast(pl.Int64) - 1
    return _where(key.is_not_null() & (index >= 0), index)


def _position(keys: pl.Series, key: pl.Series) -> pl.Series:
    """The index of each key in ``keys`` (sorted, distinct); null when absent or key is null."""
    index = keys.search_sorted(key.fill_null(-1)).cast(pl.Int64)
    found = keys.gather(_where(index < keys.len(), index)) == key
    return _where(found, index)


def _where(condition: pl.Series, values: pl.Series) -> pl.Series:
    """values where condition is true, else null (a null condition counts as false)."""
    return pl.select(pl.when(condition.fill_null(False)).then(values)).to_series()


def contract_prices(rate_card: pl.LazyFrame) -> pl.LazyFrame:
    """Each (contract_id, meter)'s unit_price, included_quantity and overage_unit_price, a null
    overage price meaning the unit price."""
    return rate_card.select(
        "contract_id",
        "meter",
        "unit_price",
        "included_quantity",
        pl.coalesce("overage_unit_price", "unit_price").alias("overage_unit_price"),
    )


def rating_status() -> pl.Expr:
    """``out_of_contract`` without a covering contract, ``unrated`` without a rate-card row."""
    return (
        pl.when(pl.col("contract_id").is_null())
        .then(pl.lit(OUT_OF_CONTRACT))
        .when(pl.col("unit_price").is_null())
        .then(pl.lit(UNRATED))
        .otherwise(pl.lit(RATED))
        .alias("rating_status")
    )


def amount() -> pl.Expr:
    """Rated amount: quantity × unit_price; 0 for out-of-contract and unrated usage."""
    return (pl.col("quantity") * pl.col("unit_price")).fill_null(0.0).alias("amount")


def rating_exceptions(rated: pl.LazyFrame) -> pl.LazyFrame:
    """Out-of-contract and unrated usage per account: rows and quantity, by rating_status.

    Columns: account_id, rating_status, rows, quantity; sorted by account_id, rating_status.
    """
    return (
        rated.filter(pl.col("rating_status") != RATED)
        .group_by("account_id", "rating_status")
        .agg(pl.len().alias("rows"), exact_sum(pl.col("quantity")).alias("quantity"))
        .sort("account_id", "rating_status")
    )
