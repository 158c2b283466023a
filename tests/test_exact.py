"""Order-independent sums: the same values in any order give the same bits."""

import polars as pl
import pytest

from drawdown.exact import exact_mean, exact_std, exact_sum

VALUES = [0.1, 1e6 + 0.3, 2.7e-5, 123.456, 0.2, 99999.99, 3.3]


def _shuffled(seed: int) -> pl.DataFrame:
    return pl.DataFrame({"k": [1] * len(VALUES), "x": VALUES}).sample(
        fraction=1.0, shuffle=True, seed=seed
    )


def test_exact_sum_is_the_same_bits_in_any_row_order():
    sums = {_shuffled(seed).group_by("k").agg(exact_sum(pl.col("x")))["x"][0] for seed in range(20)}
    assert len(sums) == 1
    assert sums.pop() == pytest.approx(sum(VALUES), rel=1e-15)


def test_exact_sum_of_no_rows_is_zero():
    assert (
        pl.DataFrame({"x": [1.0]}).select(exact_sum(pl.col("x").filter(pl.col("x") > 5))).item()
        == 0.0
    )


def test_exact_mean_and_std_match_the_textbook_definitions():
    # 1, 2, 4: mean 7/3; squared deviations 16/9 + 1/9 + 25/9 = 42/9; / (3 - 1) = 7/3 -> sd sqrt(7/3)
    frame = pl.DataFrame({"x": [1.0, 2.0, 4.0]})
    mean, sd = frame.select(exact_mean(pl.col("x")), exact_std(pl.col("x")).alias("sd")).row(0)
    assert mean == pytest.approx(7 / 3)
    assert sd == pytest.approx((7 / 3) ** 0.5)


def test_exact_std_of_one_value_is_null():
    assert pl.DataFrame({"x": [5.0]}).select(exact_std(pl.col("x"))).item() is None
