"""Rating: each usage row gets the contract whose term holds its day and that contract's price.

``rate_usage`` finds the contract and the price by binary search over sorted integer keys; these
tests hold it to the definition written out row by row (``_rated_by_hand``), on a book with
every case: a gap between two terms, days before the first term and after the last, an evergreen
term, a meter the covering contract has no price for, an account without contracts, and usage
in no particular order.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import polars as pl
import pytest

from drawdown.inputs.contract import COLUMNS, Book
from drawdown.inputs.rating import OUT_OF_CONTRACT, RATED, UNRATED, rate_usage

CONTRACTS = [
    # account, contract, start, end (None = evergreen)
    ("a", "a-1", date(2024, 1, 10), date(2024, 1, 19)),
    ("a", "a-2", date(2024, 1, 25), date(2024, 2, 3)),
    ("b", "b-1", date(2024, 1, 1), None),
    ("d", "d-1", date(2024, 1, 5), date(2024, 1, 6)),
]
"""Account ``c`` has usage and no contract; ``d`` has a contract and no usage."""

PRICES = [
    # contract, meter, unit_price, included_quantity, overage_unit_price
    ("a-1", "api", 2.0, 100.0, None),
    ("a-1", "gpu", 3.0, 0.0, 4.5),
    ("a-2", "api", 2.5, 50.0, 3.0),
    ("b-1", "api", 1.0, None, None),
    ("d-1", "api", 9.0, None, None),
]
"""``a-2`` has no price for ``gpu``; ``b-1`` none for ``gpu`` either."""

FIRST, LAST = date(2024, 1, 1), date(2024, 2, 10)


def _usage(seed: int) -> pl.DataFrame:
    """Every day of [FIRST, LAST] for accounts a, b, c and meters api, gpu, shuffled."""
    days = [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]
    rows = [
        (account, meter, day, float(1 + n % 7))
        for account in ("a", "b", "c")
        for meter in ("api", "gpu")
        for n, day in enumerate(days)
    ]
    random.Random(seed).shuffle(rows)
    return pl.DataFrame(
        rows, schema=["account_id", "meter", "usage_date", "quantity"], orient="row"
    )


def _book(usage: pl.DataFrame) -> Book:
    contracts = pl.DataFrame(
        [(c, a, s, e, 100.0, "USD", None) for a, c, s, e in CONTRACTS],
        schema=list(COLUMNS["contracts"]),
        orient="row",
    )
    rate_card = pl.DataFrame(
        PRICES,
        schema=list(COLUMNS["rate_card"]),
        orient="row",
    )
    accounts = pl.DataFrame({"account_id": ["a", "b", "c", "d"], "account_name": "x"})
    return Book.from_frames(
        accounts=accounts, contracts=contracts, rate_card=rate_card, usage=usage
    )


def _rated_by_hand(usage: pl.DataFrame) -> list[tuple[object, ...]]:
    """The definition, one row at a time: the contract of the account whose term holds the
    day, then its price row for the meter."""
    prices = {(c, m): (p, i, o if o is not None else p) for c, m, p, i, o in PRICES}
    rated = []
    for account, meter, day, quantity in usage.iter_rows():
        holding = [
            c for a, c, s, e in CONTRACTS if a == account and s <= day and (e is None or day <= e)
        ]
        contract = holding[0] if holding else None
        price = prices.get((contract, meter))
        unit_price, included, overage = price or (None, None, None)
        status = OUT_OF_CONTRACT if contract is None else RATED if price else UNRATED
        amount = quantity * unit_price if price else 0.0
        rated.append(
            (account, meter, day, quantity, contract, unit_price, included, overage, status, amount)
        )
    return rated


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_every_row_is_rated_as_defined_in_any_row_order(seed: int) -> None:
    usage = _usage(seed)
    rated = rate_usage(_book(usage)).collect()
    assert rated.rows() == _rated_by_hand(usage)


def test_sorted_usage_is_rated_as_defined() -> None:
    usage = _usage(0).sort("account_id", "meter", "usage_date")
    assert rate_usage(_book(usage)).collect().rows() == _rated_by_hand(usage)


def test_terms_first_and_last_days_and_the_days_around_them() -> None:
    usage = _usage(0).filter(pl.col("account_id") == "a", pl.col("meter") == "api")
    rated = rate_usage(_book(usage)).collect().sort("usage_date")
    contract = dict(zip(rated["usage_date"], rated["contract_id"], strict=True))
    assert contract[date(2024, 1, 9)] is None  # the day before a-1 starts
    assert contract[date(2024, 1, 10)] == "a-1"  # a-1's first day
    assert contract[date(2024, 1, 19)] == "a-1"  # a-1's last day
    assert contract[date(2024, 1, 20)] is None  # the gap after a-1
    assert contract[date(2024, 1, 24)] is None  # the gap's last day
    assert contract[date(2024, 1, 25)] == "a-2"
    assert contract[date(2024, 2, 3)] == "a-2"
    assert contract[date(2024, 2, 4)] is None  # after the last term


def test_a_meter_without_a_price_is_unrated_and_an_account_without_contracts_out_of_contract() -> (
    None
):
    usage = _usage(0).filter(pl.col("usage_date") == date(2024, 1, 26))
    rated = rate_usage(_book(usage)).collect()
    status = {
        (account, meter): s
        for account, meter, s in rated.select("account_id", "meter", "rating_status").rows()
    }
    assert status == {
        ("a", "api"): RATED,
        ("a", "gpu"): UNRATED,  # a-2 prices api only
        ("b", "api"): RATED,
        ("b", "gpu"): UNRATED,
        ("c", "api"): OUT_OF_CONTRACT,  # c has no contract
        ("c", "gpu"): OUT_OF_CONTRACT,
    }
    assert rated.filter(pl.col("rating_status") != RATED)["amount"].to_list() == [0.0] * 4


def test_null_account_or_meter_is_out_of_contract_or_unrated_not_an_error() -> None:
    usage = pl.DataFrame(
        {
            "account_id": ["a", None, "a"],
            "meter": ["api", "api", None],
            "usage_date": [date(2024, 1, 12)] * 3,
            "quantity": [1.0, 2.0, 3.0],
        }
    )
    rated = rate_usage(_book(usage)).collect()
    assert rated["rating_status"].to_list() == [RATED, OUT_OF_CONTRACT, UNRATED]
    assert rated["contract_id"].to_list() == ["a-1", None, "a-1"]


def test_no_usage_rates_to_no_rows() -> None:
    rated = rate_usage(_book(_usage(0).clear())).collect()
    assert rated.height == 0
    assert rated.columns[-2:] == ["rating_status", "amount"]
