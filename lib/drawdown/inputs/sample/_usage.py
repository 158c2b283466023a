"""Daily usage: computed for all accounts × meters × days at once (NumPy, in blocks of accounts)
and streamed into the usage table.

A day's quantity is the contract's daily level per meter (spend × meter share / unit price) ×
onboarding ramp × weekday profile × holiday season × log-normal noise × the shape.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from drawdown.inputs.sample._calendar import Calendar, as_dates, day_of_month
from drawdown.inputs.sample._ids import account_ids
from drawdown.inputs.sample._profiles import METERS, Profiles

FileFormat = Literal["csv", "parquet"]

_BLOCK = 1000
_DECIMALS = (0, 2, 1)


def usage_blocks(
    profiles: Profiles, cal: Calendar, rng: np.random.Generator
) -> Iterator[tuple[pl.DataFrame, np.ndarray]]:
    """Usage in blocks of ``_BLOCK`` accounts: (daily rows, monthly api_calls per account)."""
    n = len(profiles.archetype)
    for first in range(0, n, _BLOCK):
        rows = slice(first, min(first + _BLOCK, n))
        quantity = _daily_quantity(profiles.take(rows), cal, rng)
        monthly = np.add.reduceat(quantity[:, 0, :], cal.month_starts, axis=1)
        yield _usage_frame(quantity, first, cal), monthly


def _daily_quantity(p: Profiles, cal: Calendar, rng: np.random.Generator) -> np.ndarray:
    """Quantity per (account, meter, day) of the block, rounded per meter; 0 = no row.

    level of the covering contract × ramp (25 % → 100 % over ramp_days after go-live, 0 before)
    × weekday profile (api and compute; weekly mean 1) × holiday season × log-normal noise
    (mean 1) × the shape (drop, zero streak, churn fade, over-limit factor) + spike extras.
    """
    n, day = len(p.archetype), cal.days[None, :]
    in0 = (day >= p.start0[:, None]) & (day <= p.end0[:, None])
    in1 = (day >= p.start1[:, None]) & (day <= p.end1[:, None])
    trickle = (day > p.end0[:, None]) & (day <= p.trickle_until[:, None])
    level = np.where(
        in1[:, None],
        p.qlevel1[:, :, None],
        np.where((in0 | trickle)[:, None], p.qlevel0[:, :, None], 0.0),
    )

    since_live = day - p.golive[:, None]
    ramp = np.where(
        since_live >= 0, np.clip(0.25 + 0.75 * since_live / p.ramp_days[:, None], 0, 1), 0
    )
    churning = p.is_lifecycle("churned")[:, None]
    fade = np.where(
        churning & (day <= p.end0[:, None]),
        np.clip(1 - 0.7 * (day - (p.end0[:, None] - 90)) / 90, 0.3, 1),
        np.where(trickle, 0.05, 1.0),
    )
    account = (
        ramp
        * fade
        * _season(cal.days)[None, :]
        * np.where(day >= cal.as_of - 27, p.drop_factor[:, None], 1.0)
        * (day < p.quiet_from[:, None])
    )

    weekday = 7 / (5 + 2 * p.weekend)
    is_weekend = ((cal.days + 3) % 7 >= 5)[None, :]
    rhythm = np.where(is_weekend, (weekday * p.weekend)[:, None], weekday[:, None])
    rhythm = rhythm * (rng.random(rhythm.shape) >= p.zero_day_p[:, None])
    sigma = np.stack([p.noise, p.noise, np.full(n, 0.03)], axis=1)[:, :, None]
    noise = np.exp(sigma * rng.standard_normal((n, 3, day.size)) - sigma**2 / 2)

    quantity = level * account[:, None, :] * noise
    quantity[:, :2] *= rhythm[:, None, :]
    rows = np.arange(n)
    quantity[rows, p.over_meter] *= np.where(day >= p.over_from[:, None], p.over_factor[:, None], 1)
    for spike_day in p.spike_days.T:
        quantity[rows, p.over_meter] += np.where(
            day == spike_day[:, None], p.spike_extra[:, None], 0
        )
    quantity[rows, 0] *= np.where(day == p.blip_day[:, None], p.blip_factor[:, None], 1.0)
    for meter, decimals in enumerate(_DECIMALS):
        quantity[:, meter] = np.round(quantity[:, meter], decimals)
    return quantity


def _usage_frame(quantity: np.ndarray, first_account: int, cal: Calendar) -> pl.DataFrame:
    """The non-zero quantities as usage rows, sorted by account_id, meter, usage_date."""
    account, meter, day = np.nonzero(quantity > 0)
    block_ids = account_ids(np.arange(first_account, first_account + len(quantity)))
    return pl.DataFrame(
        {
            "account_id": block_ids.gather(account),
            "meter": pl.Series(METERS).gather(meter),
            "usage_date": as_dates(cal.days[day]),
            "quantity": quantity[account, meter, day],
        }
    )


def write_usage(
    blocks: Iterator[tuple[pl.DataFrame, np.ndarray]], folder: Path, fmt: FileFormat
) -> np.ndarray:
    """Stream the usage blocks into ``usage.<fmt>``; return the monthly api_calls per account."""
    path = folder / f"usage.{fmt}"
    monthly = []
    writer = None
    with path.open("wb") as handle:
        for index, (frame, block_monthly) in enumerate(blocks):
            monthly.append(block_monthly)
            if fmt == "csv":
                frame.write_csv(handle, include_header=index == 0)
                continue
            import pyarrow.parquet as pq  # only for Parquet books: keeps the CSV path light

            table = frame.to_arrow(compat_level=pl.CompatLevel.oldest())
            writer = writer or pq.ParquetWriter(handle, table.schema, write_statistics=False)
            writer.write_table(table)
        if writer is not None:
            writer.close()
    return np.concatenate(monthly)


def _season(day: np.ndarray) -> np.ndarray:
    """Holiday season factor: 0.6 from 22 December to 2 January, 0.93 in August, else 1."""
    month = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(int) % 12 + 1
    dom = day_of_month(day)
    holidays = ((month == 12) & (dom >= 22)) | ((month == 1) & (dom <= 2))
    return np.where(holidays, 0.6, np.where(month == 8, 0.93, 1.0))
