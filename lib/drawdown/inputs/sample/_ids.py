"""Account and contract ids of the sample book (``A00042``, ``A00042-C1``)."""

from __future__ import annotations

import numpy as np
import polars as pl


def account_id_expr(index: pl.Expr) -> pl.Expr:
    """``A`` + the 1-based account number, zero-padded to five digits (``A00042``)."""
    return pl.concat_str(pl.lit("A"), (index + 1).cast(pl.String).str.zfill(5))


def account_ids(index: np.ndarray) -> pl.Series:
    """The account ids of 0-based account indexes."""
    return pl.select(account_id_expr(pl.lit(pl.Series(index, dtype=pl.Int64)))).to_series()


def contract_ids(index: np.ndarray, number: int) -> pl.Series:
    """``<account_id>-C<number>``: the account's first (1) or renewal (2) contract."""
    return account_ids(index) + f"-C{number}"
