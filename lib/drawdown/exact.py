"""Order-independent sums: the same inputs give the same bits, run after run.

Polars sums floats in whatever order its (parallel, hash-partitioned) engine meets the rows, so a
plain ``sum`` can differ in the last bit between runs; artifacts must be byte-identical. These
helpers sum in 128-bit fixed point (18 decimals, |x| < 1e20), where addition is associative, and
return Float64. Each value enters the fixed point as x · 10¹⁸ rounded in binary (Polars' cast, and
DuckDB's): deterministic, but kept to about 16 significant digits, not to 1e-18 (3189.0 comes back
as 3188.9999999999995), so a split that is exact in binary floating point (q = n + n + r) can sum
to one unit in the last place away from q (docs/scale.md#warehouse-pushdown).
"""

from __future__ import annotations

import polars as pl

FIXED_POINT = pl.Decimal(38, 18)


def exact_sum(expr: pl.Expr) -> pl.Expr:
    """Σ expr, independent of row order (nulls skipped, 0 for no rows), as Float64."""
    return _fixed(expr).sum().cast(pl.Float64)


def exact_value(expr: pl.Expr) -> pl.Expr:
    """Each value as ``exact_sum`` gives it alone: the sum of a group of one row, without a
    group_by (the value rounded to the fixed point, back to Float64)."""
    return _fixed(expr).cast(pl.Float64)


def _fixed(expr: pl.Expr) -> pl.Expr:
    """expr in the fixed point (18 decimals)."""
    return expr.cast(pl.Float64).cast(FIXED_POINT)


def exact_mean(expr: pl.Expr) -> pl.Expr:
    """Mean of the non-null values of expr, independent of row order; null for none."""
    count = expr.count()
    return pl.when(count > 0).then(exact_sum(expr) / count)


def exact_std(expr: pl.Expr, ddof: int = 1) -> pl.Expr:
    """Standard deviation sqrt(Σ(x − mean)² / (n − ddof)), independent of row order; null when
    n ≤ ddof."""
    count = expr.count()
    squares = exact_sum((expr - exact_mean(expr)) ** 2)
    return pl.when(count > ddof).then((squares / (count - ddof)).sqrt())
