"""Map the UCI Online Retail transactions (``/work/shared/data/online_retail``) to a drawdown book.

    .venv/bin/python bench/online_retail.py [SOURCE_PARQUET] [--out bench/books/online_retail]

Real customers' daily spend, for measuring the forecasts of docs/forecasts.md on data nobody
shaped for drawdown. The mapping:

- account = customer (lines without a CustomerID are dropped); segment = ``UK`` or ``International``
  from the country; names are the customer id, owners blank.
- usage: one meter ``spend`` whose quantity is the customer's net spend of the day in GBP
  (Σ Quantity × UnitPrice over the day's lines, returns and cancellations netted), kept when > 0.
- contracts: one evergreen contract per customer from the first day it bought, with a yearly
  commit of its spend over its first 90 days × 365 / 90 rounded to 100 GBP (a commit sized the way a
  salesperson would size it after a trial quarter); 0 (pay-as-you-go) when that is under 100.
- rate_card: ``spend`` at unit_price 1.0, so the rated amount is the spend; no limit.

The as-of date is the last day with usage (2011-12-09).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

SOURCE = Path("/work/shared/data/online_retail/online_retail_2010_2011.parquet")
OUT = Path(__file__).resolve().parent / "books" / "online_retail"
CURRENCY = "GBP"


def build(source: Path) -> dict[str, pl.DataFrame]:
    """The book's tables from the raw transactions."""
    lines = pl.scan_parquet(source).filter(pl.col("CustomerID").is_not_null())
    customer = pl.col("CustomerID").cast(pl.Int64).cast(pl.String).alias("account_id")
    usage = (
        lines.group_by(customer, pl.col("InvoiceDate").dt.date().alias("usage_date"))
        .agg((pl.col("Quantity") * pl.col("UnitPrice")).sum().round(2).alias("quantity"))
        .filter(pl.col("quantity") > 0)
        .with_columns(pl.lit("spend").alias("meter"))
        .select("account_id", "meter", "usage_date", "quantity")
        .sort("account_id", "usage_date")
        .collect()
    )
    countries = lines.group_by(customer).agg(pl.col("Country").mode().first()).collect()
    first = usage.group_by("account_id").agg(pl.col("usage_date").min().alias("start_date"))
    trial = (
        usage.join(first, on="account_id")
        .filter(pl.col("usage_date") < pl.col("start_date") + pl.duration(days=90))
        .group_by("account_id")
        .agg(pl.col("quantity").sum().alias("trial"))
    )
    commit = (pl.col("trial") * 365 / 90 / 100).round(0) * 100
    contracts = (
        first.join(trial, on="account_id")
        .with_columns(
            (pl.col("account_id") + "-C1").alias("contract_id"),
            pl.lit(None, pl.Date).alias("end_date"),
            pl.when(commit >= 100).then(commit).otherwise(0.0).alias("commit_amount"),
            pl.lit(CURRENCY).alias("currency"),
            pl.lit(None, pl.String).alias("renewal_of"),
        )
        .select(
            "contract_id",
            "account_id",
            "start_date",
            "end_date",
            "commit_amount",
            "currency",
            "renewal_of",
        )
        .sort("account_id")
    )
    accounts = (
        first.join(countries, on="account_id")
        .select(
            "account_id",
            pl.format("Customer {}", "account_id").alias("account_name"),
            pl.when(pl.col("Country") == "United Kingdom")
            .then(pl.lit("UK"))
            .otherwise(pl.lit("International"))
            .alias("segment"),
            *(pl.lit(None, pl.String).alias(c) for c in ("csm_owner", "ae_owner")),
            pl.lit(None, pl.String).alias("technical_counterpart"),
            pl.lit(False).alias("is_strategic"),
        )
        .sort("account_id")
    )
    rate_card = contracts.select(
        "contract_id",
        pl.lit("spend").alias("meter"),
        pl.lit(1.0).alias("unit_price"),
        pl.lit(None, pl.Float64).alias("included_quantity"),
        pl.lit(None, pl.Float64).alias("overage_unit_price"),
    )
    return {"accounts": accounts, "contracts": contracts, "rate_card": rate_card, "usage": usage}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=SOURCE)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for table, frame in build(args.source).items():
        frame.write_parquet(args.out / f"{table}.parquet")
        print(f"{table}: {frame.height} rows")


if __name__ == "__main__":
    main()
