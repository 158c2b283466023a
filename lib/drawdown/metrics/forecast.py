"""Consumption forecasts as distributions, exhaustion quantiles and limit crossings (docs/forecasts.md).

The method is a closed form, computed for the whole book in a few group-bys over the sparse daily
spend (no loop over accounts or days, no sampling, so the same book gives the same bits):

- window: the account's days in [max(A − WINDOW_DAYS + 1, term_start, first day with spend), A],
  zero days included (``forecast_spans``: the first day with spend after QUIET_DAYS without);
- weekday means mean_w = Σ c over the window's days of weekday w / how many such days (a weekday
  the window has not seen yet takes the window's overall mean);
- the forecast mean of Σ c over (A, A + h] is Σ_w n_w(h) × mean_w, n_w(h) the days of weekday w in
  the horizon; the daily level m = (Σ_w mean_w) / 7;
- spread: s² = Σ (c(d) − mean_wd(d))² / (n − 1) over the window's n days, and the variance of
  the sum over h days is s² × (h + PERSISTENCE × h²): day-to-day noise that averages out (h s²)
  plus a level that may have moved (h² κ s²);
- quantiles of a normal with that mean and variance, censored at 0: p50 = mean,
  p10 = max(0, mean − z s_h), p90 = mean + z s_h with z = 1.2816.

An account with no spend in its window (not live, or gone quiet for WINDOW_DAYS) is forecast 0.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from drawdown.exact import exact_sum
from drawdown.inputs.rating import contract_prices
from drawdown.metrics.commit import covering_terms

WINDOW_DAYS = 84
"""Days of history each forecast reads: twelve whole weeks (chosen on the back-test, docs/forecasts.md)."""
PERSISTENCE = 0.3
"""κ: the share of a day's variance that persists as a level shift (chosen on the back-test)."""
QUIET_DAYS = 28
"""Days without spend before the window after which spend in it counts as a fresh start."""
HORIZON_DAYS = 28
Z90 = 1.2815515655446004
"""The standard normal's 90th percentile: [p10, p90] is the central 80% interval."""
EXHAUSTION_COLUMNS = (
    "exhaustion_p10",
    "exhaustion_p50",
    "exhaustion_p90",
    "p_exhaust_before_term_end",
)
NEXT_28_DAYS, TO_TERM_END = "next_28_days", "term_end"
_WEEKDAYS = pl.DataFrame({"_wd": list(range(1, 8))}, schema={"_wd": pl.Int8})


def weekday_profile(
    spans: pl.LazyFrame, daily: pl.LazyFrame, keys: list[str], value: str = "amount"
) -> pl.LazyFrame:
    """Per key and weekday of its window: the number of days, Σ value and Σ value².

    ``spans`` has ``keys``, ``_from`` and ``_to`` (the window's first and last day; a null
    ``_from`` means no window); ``daily`` has ``keys``, ``usage_date`` and ``value`` (days with
    no row are 0). Columns: keys, _wd (1 = Monday), _days, _s1, _s2.
    """
    days = (pl.col("_to") - pl.col("_from")).dt.total_days() + 1
    back = (pl.col("_to").dt.weekday() - pl.col("_wd")) % 7
    count = (days // 7 + (back < days % 7).cast(pl.Int64)).alias("_days")
    sums = (
        daily.join(spans.select(*keys, "_from", "_to"), on=keys)
        .filter(pl.col("usage_date").is_between(pl.col("_from"), pl.col("_to")))
        .group_by(*keys, pl.col("usage_date").dt.weekday().alias("_wd"))
        .agg(
            exact_sum(pl.col(value)).alias("_s1"),
            exact_sum(pl.col(value) ** 2).alias("_s2"),
        )
    )
    return (
        spans.filter(pl.col("_from").is_not_null())
        .join(_WEEKDAYS.lazy(), how="cross")
        .with_columns(count)
        .join(sums, on=[*keys, "_wd"], how="left")
        .with_columns(pl.col("_s1", "_s2").fill_null(0.0))
        .select(*keys, "_wd", "_days", "_s1", "_s2", "_to")
    )


def weekday_means(profile: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
    """Per key: the mean of each weekday (``_mean``, rows per weekday), the daily level ``_level``
    = Σ_w mean_w / 7 and the daily variance ``_var`` = Σ (c − mean_wd)² / (n − 1) (0 for n = 1).

    A weekday's squares Σ (c − mean)² are Σ c² − (Σ c)² / days; for a weekday of one day they
    are 0 exactly (its day is its mean), not the residue of c² in the fixed point."""
    seen = pl.col("_days") > 0
    overall = exact_sum(pl.col("_s1")).over(keys) / pl.col("_days").sum().over(keys)
    squares = pl.when(pl.col("_days") > 1).then(
        pl.col("_s2") - pl.col("_s1") ** 2 / pl.col("_days")
    )
    n = pl.col("_days").sum().over(keys)
    return profile.with_columns(
        pl.when(seen).then(pl.col("_s1") / pl.col("_days")).otherwise(overall).alias("_mean"),
        (
            exact_sum(squares.fill_null(0.0)).over(keys).clip(lower_bound=0.0) / (n - 1).clip(1)
        ).alias("_var"),
    ).with_columns((exact_sum(pl.col("_mean")).over(keys) / 7).alias("_level"))


def horizon_sum(horizon: pl.Expr) -> pl.Expr:
    """Aggregation over a key's weekday rows (``weekday_means`` joined with a horizon column):
    Σ_w n_w(h) × mean_w, n_w(h) the days of weekday w in (A, A + h], A in ``_to``."""
    ahead = (pl.col("_wd") - pl.col("_to").dt.weekday() - 1) % 7
    count = horizon // 7 + (ahead < horizon % 7).cast(pl.Int64)
    return exact_sum(count * pl.col("_mean"))


def quantiles(mean: pl.Expr, variance_per_day: pl.Expr, horizon: pl.Expr) -> list[pl.Expr]:
    """p10, p50, p90 of a sum over ``horizon`` days with that mean: normal, censored at 0, with
    variance s² (h + κ h²)."""
    spread = (variance_per_day * (horizon + PERSISTENCE * horizon**2)).sqrt() * Z90
    return [
        (mean - spread).clip(lower_bound=0.0).alias("p10"),
        mean.alias("p50"),
        (mean + spread).alias("p90"),
    ]


def forecast_spans(terms: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Each account's window: ``_from`` = max(A − WINDOW_DAYS + 1, term_start, its first day
    with spend in the window and the QUIET_DAYS before it), ``_to`` = A; ``_from`` null when it
    has no spend in the window. An account that starts spending inside the window — or starts
    again after QUIET_DAYS or more without spend — is measured from that day, not from the
    zeros before it. ``terms`` has account_id and term_start."""
    earliest = as_of - timedelta(days=WINDOW_DAYS - 1)
    first = (
        daily.filter(
            pl.col("usage_date").is_between(earliest - timedelta(days=QUIET_DAYS), as_of),
            pl.col("amount") > 0,
        )
        .group_by("account_id")
        .agg(
            pl.col("usage_date").min().alias("_first"),
            pl.col("usage_date").max().alias("_last"),
        )
    )
    return (
        terms.join(first, on="account_id", how="left")
        .with_columns(
            pl.when(pl.col("_last") >= earliest)
            .then(pl.max_horizontal(pl.lit(earliest), "term_start", "_first"))
            .alias("_from"),
            pl.lit(as_of).alias("_to"),
        )
        .drop("_first", "_last")
    )


def level_and_spread(terms: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The weekday means of each account of ``terms`` as of ``as_of`` (``weekday_means``; 7 rows
    per account with spend in its window, none for the others)."""
    spans = forecast_spans(terms, daily, as_of)
    recent = daily.filter(
        pl.col("usage_date").is_between(as_of - timedelta(days=WINDOW_DAYS - 1), as_of)
    )
    return weekday_means(weekday_profile(spans, recent, ["account_id"]), ["account_id"])


def forecast_at(
    terms: pl.LazyFrame,
    daily: pl.LazyFrame,
    as_of: date,
    horizon: pl.Expr,
) -> pl.LazyFrame:
    """p10, p50, p90 of Σ c over (A, A + h] per account of ``terms``, h = ``horizon`` (an
    expression over the columns of ``terms``, ≥ 0). Accounts without spend in their window get 0.
    Columns: the columns of ``terms``, horizon_days, p10, p50, p90, _level, _var."""
    means = level_and_spread(terms, daily, as_of)
    sums = (
        terms.with_columns(horizon.alias("horizon_days"))
        .join(means, on="account_id")
        .group_by("account_id")
        .agg(
            horizon_sum(pl.col("horizon_days")).alias("_mean_sum"),
            pl.col("_level", "_var").first(),
        )
    )
    return (
        terms.with_columns(horizon.cast(pl.Int64).alias("horizon_days"))
        .join(sums, on="account_id", how="left")
        .with_columns(pl.col("_mean_sum", "_level", "_var").fill_null(0.0))
        .with_columns(*quantiles(pl.col("_mean_sum"), pl.col("_var"), pl.col("horizon_days")))
        .drop("_mean_sum")
    )


def consumption_forecast(health: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """The consumption_forecast artifact: per account of ``health``, two rows — ``next_28_days``
    (h = 28) and ``term_end`` (h = remaining_days) — with p10, p50, p90 of Σ c over (A, A + h].
    Columns: account_id, horizon, horizon_days, p10, p50, p90; sorted by account_id, horizon."""
    terms = health.select("account_id", "term_start", "remaining_days")
    means = level_and_spread(terms, daily, as_of)
    horizons = pl.concat(
        [
            terms.with_columns(
                pl.lit(NEXT_28_DAYS).alias("horizon"),
                pl.lit(HORIZON_DAYS, pl.Int64).alias("horizon_days"),
            ),
            terms.with_columns(
                pl.lit(TO_TERM_END).alias("horizon"), pl.col("remaining_days").alias("horizon_days")
            ),
        ]
    ).select("account_id", "horizon", pl.col("horizon_days").cast(pl.Int64))
    sums = (
        horizons.join(means, on="account_id")
        .group_by("account_id", "horizon")
        .agg(horizon_sum(pl.col("horizon_days")).alias("_mean_sum"), pl.col("_var").first())
    )
    return (
        horizons.join(sums, on=["account_id", "horizon"], how="left")
        .with_columns(pl.col("_mean_sum", "_var").fill_null(0.0))
        .with_columns(*quantiles(pl.col("_mean_sum"), pl.col("_var"), pl.col("horizon_days")))
        .select("account_id", "horizon", "horizon_days", "p10", "p50", "p90")
        .sort("account_id", "horizon")
    )


def exhaustion_inputs(terms: pl.LazyFrame, daily: pl.LazyFrame, as_of: date) -> pl.LazyFrame:
    """Per account of ``terms`` (account_id, term_start, term_end) with spend in its window: the
    daily level ``_level``, the daily variance ``_var`` and the forecast mean to term_end
    ``_mean_term`` (``exhaustion_quantiles`` reads them)."""
    means = level_and_spread(terms.select("account_id", "term_start"), daily, as_of)
    remaining = (pl.col("term_end") - pl.lit(as_of)).dt.total_days()
    return (
        means.join(terms.select("account_id", remaining.alias("_remaining_days")), on="account_id")
        .group_by("account_id")
        .agg(
            pl.col("_level", "_var").first(),
            horizon_sum(pl.col("_remaining_days").first()).alias("_mean_term"),
        )
    )


def exhaustion_quantiles(as_of: date) -> list[pl.Expr]:
    """exhaustion_p10/p50/p90 and p_exhaust_before_term_end, over account_health's columns and
    ``exhaustion_inputs``'s (null ones meaning no spend in the window).

    R = commit_amount − consumed_to_date. With the daily level m and variance s² of the forecast,
    the q-path's consumption after t days is m t + z_q s √(t + κ t²); the day it reaches R solves
    (m² − z² s² κ) t² − (2 R m + z² s²) t + R² = 0, whose smaller root belongs to the p90 path
    (exhaustion_p10) and larger one to the p10 path (exhaustion_p90, null when m² ≤ z² s² κ: that
    path never gets there); exhaustion_p50 = A + ceil(R / m). Each is A + ceil(t) days (t rounded
    to 6 decimals first: float noise is not a day). When the commit is already consumed, all
    three are the day it was reached (exhaustion_date). Null for pay-as-you-go and for a path
    that never reaches the commit.
    p_exhaust_before_term_end = P(Σ c over (A, term_end] ≥ R) under the forecast's normal (1 when
    already consumed; null for pay-as-you-go).
    """
    remaining = pl.col("commit_amount") - pl.col("consumed_to_date")
    m, v = pl.col("_level").fill_null(0.0), pl.col("_var").fill_null(0.0)
    a = m**2 - Z90**2 * v * PERSISTENCE
    b = 2 * remaining * m + Z90**2 * v
    root = (b**2 - 4 * a * remaining**2).clip(lower_bound=0.0).sqrt()
    early = pl.when(b + root > 0).then(2 * remaining**2 / (b + root))
    late = pl.when(a > 0).then((b + root) / (2 * a))
    middle = pl.when(m > 0).then(remaining / m)
    spent = pl.col("consumed_to_date") >= pl.col("commit_amount")
    committed = pl.col("commit_amount") > 0
    term_days = pl.col("remaining_days")
    mean_term = pl.col("_mean_term").fill_null(0.0)
    spread = (v * (term_days + PERSISTENCE * term_days**2)).sqrt()
    chance = (
        pl.when(spread > 0)
        .then(1 - normal_cdf((remaining - mean_term) / spread))
        .otherwise((mean_term >= remaining).cast(pl.Float64))
    )

    def day(t: pl.Expr, name: str) -> pl.Expr:
        return (
            pl.when(~committed)
            .then(None)
            .when(spent)
            .then(pl.col("exhaustion_date"))
            .otherwise(pl.lit(as_of) + pl.duration(days=t.round(6).ceil().cast(pl.Int64)))
            .alias(name)
        )

    return [
        day(early, "exhaustion_p10"),
        day(middle, "exhaustion_p50"),
        day(late, "exhaustion_p90"),
        pl.when(~committed)
        .then(None)
        .when(spent)
        .then(1.0)
        .otherwise(chance)
        .alias("p_exhaust_before_term_end"),
    ]


def normal_cdf(x: pl.Expr) -> pl.Expr:
    """Φ(x) of the standard normal (Abramowitz and Stegun 7.1.26, |error| < 1.5e-7)."""
    t = 1 / (1 + 0.3275911 * x.abs() / 2**0.5)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    erf = 1 - poly * (-(x**2) / 2).exp()
    return pl.when(x >= 0).then((1 + erf) / 2).otherwise((1 - erf) / 2)


def limit_crossing(
    meter_months: pl.LazyFrame,
    rated: pl.LazyFrame,
    contracts: pl.LazyFrame,
    rate_card: pl.LazyFrame,
    daily: pl.LazyFrame,
    as_of: date,
) -> pl.LazyFrame:
    """Per (account, meter) with a limit in A's month: where the p50 path of the month ends.

    limit: the whole month's limit — limit_m to A (meter_months) plus the daily limit of the
    contract covering A (included_quantity / days in the month) for each day left in the month
    (the contract is assumed to run to the month's end). The path: the month's actual daily
    quantities to A, then each later day's weekday mean of the meter's quantity over the forecast
    window (``forecast_spans``). crossing_date: the first day of the month on which the path's
    running total exceeds limit (on or before A: the day it did; null: it does not this month).
    projected_usage: the path's total at the month's end; projected_pct_over = projected_usage /
    limit − 1. Columns: account_id, meter, month, limit, usage_to_date, projected_usage,
    projected_pct_over, crossing_date; sorted by account_id, meter.
    """
    month = as_of.replace(day=1)
    keys = ["account_id", "meter"]
    terms = covering_terms(contracts, as_of)
    daily_limit = terms.join(contract_prices(rate_card), on="contract_id").select(
        *keys, (pl.col("included_quantity") / pl.lit(month).dt.days_in_month()).alias("_daily")
    )
    days_left = (pl.lit(as_of).dt.month_end() - pl.lit(as_of)).dt.total_days()
    pairs = (
        meter_months.filter(pl.col("month") == month, pl.col("limit") > 0)
        .select(
            *keys,
            "month",
            pl.col("limit").alias("_limit_to_date"),
            pl.col("usage").alias("usage_to_date"),
        )
        .join(daily_limit, on=keys, how="left")
        .with_columns(
            (pl.col("_limit_to_date") + pl.col("_daily").fill_null(0.0) * days_left).alias("limit")
        )
    )
    quantities = rated.filter(
        pl.col("usage_date").is_between(as_of - timedelta(days=WINDOW_DAYS - 1), as_of),
        pl.col("quantity") > 0,
    ).join(pairs.select(keys), on=keys, how="semi")
    spans = forecast_spans(
        pairs.select(keys).join(
            terms.select("account_id", "term_start"), on="account_id", how="left"
        ),
        daily,
        as_of,
    ).with_columns(pl.col("_from").fill_null(pl.col("_to")))
    means = weekday_means(weekday_profile(spans, quantities, keys, "quantity"), keys).select(
        *keys, "_wd", "_mean"
    )
    month_days = pl.date_range(month, pl.lit(as_of).dt.month_end(), eager=False).alias("day")
    actual = (
        quantities.filter(pl.col("usage_date") >= month)
        .group_by(*keys, pl.col("usage_date").alias("day"))
        .agg(exact_sum(pl.col("quantity")).alias("_actual"))
    )
    path = (
        pairs.select(*keys, "limit")
        .with_columns(month_days.implode().alias("day"))
        .explode("day")
        .with_columns(pl.col("day").dt.weekday().cast(pl.Int8).alias("_wd"))
        .join(actual, on=[*keys, "day"], how="left")
        .join(means, on=[*keys, "_wd"], how="left")
        .with_columns(
            pl.when(pl.col("day") <= as_of)
            .then(pl.col("_actual").fill_null(0.0))
            .otherwise(pl.col("_mean").fill_null(0.0))
            .alias("_q")
        )
        .with_columns(pl.col("_q").cum_sum().over(keys, order_by="day").alias("_running"))
        .group_by(keys)
        .agg(
            pl.col("_running").max().alias("projected_usage"),
            pl.col("day").filter(pl.col("_running") > pl.col("limit")).min().alias("crossing_date"),
        )
    )
    return (
        pairs.join(path, on=keys, how="left")
        .with_columns((pl.col("projected_usage") / pl.col("limit") - 1).alias("projected_pct_over"))
        .select(
            *keys,
            "month",
            "limit",
            "usage_to_date",
            "projected_usage",
            "projected_pct_over",
            "crossing_date",
        )
        .sort(keys)
    )
