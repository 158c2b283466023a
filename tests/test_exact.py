"""Order-independent sums: the same values in any order give the same bits."""

import numpy as np
import polars as pl
import pytest

from drawdown.exact import FIXED_POINT, exact_mean, exact_std, exact_sum, exact_value

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


def _bits(values: pl.Series) -> list[int | None]:
    """Each Float64's IEEE bits (so 0.0 and -0.0 differ), null as None."""
    raw = values.to_numpy()
    return [
        None if value is None else int(bits)
        for value, bits in zip(values, raw.view("u8"), strict=True)
    ]


def test_exact_value_has_the_bits_of_the_fixed_point_round_trip() -> None:
    """exact_value (computed in Float64) against the round trip through the fixed point it
    stands for, over integers, log-uniform magnitudes of both signs across the fixed point's
    range, money-like values, quantity × price products, values between two fixed-point steps,
    zeros of both signs and null."""
    rng = np.random.default_rng(18)
    values = np.concatenate(
        [
            np.arange(0, 2**21, dtype=np.float64),
            rng.integers(0, 10**12, 200_000).astype(np.float64),
            np.exp(rng.uniform(np.log(1e-21), np.log(9.9e19), 400_000))
            * rng.choice([-1.0, 1.0], 400_000),
            np.round(rng.uniform(0, 1e7, 200_000), 2),
            rng.integers(0, 10**6, 200_000) * np.round(rng.uniform(0, 0.01, 200_000), 5),
            (rng.integers(0, 10**6, 100_000) + 0.5) * 1e-18,
            [0.0, -0.0, 5e-19, -5e-19, 1.5e-18, 2.5e-18],
        ]
    )
    frame = pl.DataFrame({"x": values}).vstack(
        pl.DataFrame({"x": [None]}, schema={"x": pl.Float64})
    )
    result = frame.select(
        exact_value(pl.col("x")).alias("fast"),
        pl.col("x").cast(FIXED_POINT).cast(pl.Float64).alias("fixed"),
    )
    assert _bits(result["fast"]) == _bits(result["fixed"])
