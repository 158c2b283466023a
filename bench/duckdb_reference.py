"""An independent implementation of drawdown's core metrics in DuckDB SQL: the speed reference.

    .venv/bin/python bench/duckdb_reference.py bench/books/M --params params/sample.yaml

Over the same input files as ``drawdown run`` (a folder of Parquet or CSV tables, ``usage`` by
``usage_date``), written from the metric definitions of docs/metrics.md, not from drawdown's code:

- commit utilization and bands (per account with a contract covering A), with the early warnings
  and TTFBE cohorts of usage health (the workflow counts and adoption stage left out);
- overconsumption against contractual limits: the meter months and the ranked, triaged cases;
- retention: GRR and NRR per segment and for all accounts.

It does no validation (the book is taken as valid) and sums in plain floating point. It is used
only as a speed reference for ``make bench``, and ``bench/agreement.py`` checks it against
drawdown's artifacts so that the comparison is like for like. Parameters (as_of, bands, health,
overconsumption) come from a drawdown params file, so both sides compute the same thing.

Run as a script it prints one JSON line: wall and CPU seconds (inside the process, imports
excluded), peak RSS in MB and the row count of each result.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from drawdown.params import Params, load_params

TABLES = ("accounts", "contracts", "rate_card", "usage", "activities")
MONTHS_SHOWN = 12
"""Calendar months of meter months, as drawdown's artifact (or the lookback when longer)."""


def _source(folder: Path, table: str) -> str:
    """A DuckDB table function reading ``<folder>/<table>.parquet`` or ``.csv``."""
    parquet, csv = folder / f"{table}.parquet", folder / f"{table}.csv"
    if parquet.exists():
        return f"read_parquet('{parquet}')"
    return f"read_csv('{csv}', header = true)"


def _segment_edges(params: Params) -> str:
    """A VALUES list of (segment, band_low, band_high) overrides (one dummy row when none)."""
    rows = [
        f"('{segment.replace(chr(39), chr(39) * 2)}', {low}, {high})"
        for segment in params.bands.segments
        for low, high in [params.bands.limits_for(segment)]
    ]
    return ", ".join(rows) or "(NULL, NULL, NULL)"


def _sql(params: Params, as_of: date) -> dict[str, str]:
    """The SQL of each step: temp tables first, then the result queries (keys ``result_*``)."""
    b, h, o = params.bands, params.health, params.overconsumption
    a = f"DATE '{as_of.isoformat()}'"
    months = max(MONTHS_SHOWN, o.lookback_months)
    since = f"(date_trunc('month', {a}) - INTERVAL {months - 1} MONTH)::DATE"
    lookback = f"(date_trunc('month', {a}) - INTERVAL {o.lookback_months - 1} MONTH)::DATE"
    return {
        # usage summed per account, meter and day, rated with the contract covering the day
        "rated": """
            CREATE TEMP TABLE rated AS
            WITH daily AS (
                SELECT account_id, meter, usage_date, sum(quantity) AS quantity
                FROM usage GROUP BY ALL
            )
            SELECT u.account_id, u.meter, u.usage_date, u.quantity, c.contract_id,
                   r.included_quantity,
                   coalesce(u.quantity * r.unit_price, 0.0) AS amount
            FROM daily u
            LEFT JOIN contracts c
              ON c.account_id = u.account_id AND u.usage_date >= c.start_date
             AND (c.end_date IS NULL OR u.usage_date <= c.end_date)
            LEFT JOIN rate_card r ON r.contract_id = c.contract_id AND r.meter = u.meter""",
        # c(a, d) for d <= A, days with spend only
        "spend": f"""
            CREATE TEMP TABLE spend AS
            SELECT account_id, usage_date AS d, sum(amount) AS c
            FROM rated WHERE usage_date <= {a} AND amount > 0 GROUP BY ALL""",
        # the contract covering A with its current term (an evergreen's contract year)
        "terms": f"""
            CREATE TEMP TABLE terms AS
            WITH covering AS (
                SELECT *, (start_date + to_years(year({a}) - year(start_date)))::DATE AS cand
                FROM contracts
                WHERE start_date <= {a} AND (end_date IS NULL OR end_date >= {a})
            ), started AS (
                SELECT *, CASE WHEN end_date IS NOT NULL THEN start_date
                               WHEN cand > {a} THEN (start_date + to_years(year({a}) - year(start_date) - 1))::DATE
                               ELSE cand END AS term_start
                FROM covering
            )
            SELECT account_id, contract_id, commit_amount, term_start,
                   coalesce(end_date, (term_start + INTERVAL 1 YEAR - INTERVAL 1 DAY)::DATE) AS term_end
            FROM started""",
        "health": f"""
            CREATE TEMP TABLE health AS
            WITH firsts AS (
                SELECT account_id, min(start_date) AS first_contract_start
                FROM contracts GROUP BY ALL
            ), sums AS (
                SELECT t.account_id,
                  coalesce(sum(s.c) FILTER (s.d >= t.term_start), 0) AS consumed_to_date,
                  coalesce(sum(s.c) FILTER (s.d >= greatest(t.term_start, {a} - {b.run_rate_window_days - 1})), 0) AS run_amount,
                  coalesce(sum(s.c) FILTER (s.d >= {a} - 364), 0) AS trailing_year,
                  coalesce(sum(s.c) FILTER (s.d >= {a} - 27), 0) AS recent_28d,
                  coalesce(sum(s.c) FILTER (s.d BETWEEN {a} - 55 AND {a} - 28), 0) AS prior_28d,
                  min(s.d) FILTER (s.d >= f.first_contract_start) AS first_billable_date,
                  {a} - max(s.d) AS zero_days
                FROM terms t JOIN firsts f USING (account_id)
                LEFT JOIN spend s ON s.account_id = t.account_id
                GROUP BY ALL
            ), reached AS (
                SELECT account_id, min(d) AS reached_date FROM (
                    SELECT s.account_id, s.d, t.commit_amount,
                           sum(s.c) OVER (PARTITION BY s.account_id ORDER BY s.d) AS running
                    FROM spend s JOIN terms t USING (account_id)
                    WHERE s.d >= t.term_start AND t.commit_amount > 0
                ) WHERE running >= commit_amount GROUP BY ALL
            ), cv AS (
                SELECT t.account_id,
                  CASE WHEN avg(coalesce(s.c, 0)) > 0
                       THEN stddev_samp(coalesce(s.c, 0)) / avg(coalesce(s.c, 0)) END AS cv_28d
                FROM terms t
                CROSS JOIN range({a} - 27, {a} + 1, INTERVAL 1 DAY) AS days(day)
                LEFT JOIN spend s ON s.account_id = t.account_id AND s.d = days.day::DATE
                GROUP BY ALL
            ), base AS (
                SELECT t.*, ac.account_name, ac.segment, nullif(trim(ac.csm_owner), '') AS csm_owner,
                  nullif(trim(ac.ae_owner), '') AS ae_owner, f.first_contract_start,
                  s.consumed_to_date, s.recent_28d, s.prior_28d, s.first_billable_date,
                  s.zero_days, r.reached_date, cv.cv_28d,
                  t.term_end - t.term_start + 1 AS term_days,
                  {a} - t.term_start + 1 AS elapsed_days,
                  t.term_end - {a} AS remaining_days,
                  s.run_amount / ({a} - greatest(t.term_start, {a} - {b.run_rate_window_days - 1}) + 1) AS run_rate,
                  CASE WHEN t.commit_amount > 0 THEN s.consumed_to_date / t.commit_amount END AS utilization,
                  CASE WHEN t.commit_amount > 0 THEN t.commit_amount * 365 / (t.term_end - t.term_start + 1)
                       ELSE s.trailing_year END AS account_value,
                  coalesce(e.band_low, {b.band_low}) AS band_low,
                  coalesce(e.band_high, {b.band_high}) AS band_high
                FROM terms t JOIN accounts ac USING (account_id) JOIN firsts f USING (account_id)
                JOIN sums s USING (account_id) LEFT JOIN reached r USING (account_id)
                JOIN cv USING (account_id)
                LEFT JOIN (VALUES {_segment_edges(params)}) e(segment, band_low, band_high)
                  ON e.segment = ac.segment
            ), projected AS (
                SELECT *, elapsed_days / term_days AS elapsed_fraction,
                  consumed_to_date + run_rate * remaining_days AS projected_consumption,
                  CASE WHEN commit_amount > 0
                       THEN (consumed_to_date + run_rate * remaining_days) / commit_amount END
                    AS projected_utilization,
                  first_billable_date - first_contract_start AS ttfbe_days
                FROM base
            ), banded AS (
                SELECT *, utilization / elapsed_fraction AS pacing_index,
                  CASE WHEN commit_amount <= 0 THEN 'paygo'
                       WHEN first_billable_date IS NULL THEN 'not_live'
                       WHEN projected_utilization < band_low THEN 'under'
                       WHEN projected_utilization > band_high THEN 'over'
                       ELSE 'healthy' END AS band,
                  CASE WHEN commit_amount <= 0 THEN NULL
                       WHEN consumed_to_date >= commit_amount THEN reached_date
                       WHEN run_rate > 0
                         THEN ({a} + ceil((commit_amount - consumed_to_date) / run_rate)::INTEGER)::DATE
                       END AS exhaustion_date
                FROM projected
            )
            SELECT *,
              CASE WHEN commit_amount <= 0 THEN NULL WHEN pacing_index < {b.burn_slow} THEN 'too_slow'
                   WHEN pacing_index > {b.burn_fast} THEN 'too_fast' ELSE 'on_pace' END AS burn,
              CASE WHEN commit_amount > 0 THEN coalesce(exhaustion_date <= term_end, false) END
                AS exhausts_before_term_end,
              cv_28d <= {h.smooth_cv_max} AS is_smooth,
              list_filter([
                CASE WHEN prior_28d > 0 AND recent_28d < (1 - {h.drop_pct}) * prior_28d THEN 'usage_drop' END,
                CASE WHEN first_billable_date IS NOT NULL AND zero_days >= {h.zero_streak_days} THEN 'zero_streak' END,
                CASE WHEN remaining_days <= {h.renewal_window_days} AND band = 'under' THEN 'renewal_risk' END,
                CASE WHEN utilization < 0.20 AND elapsed_fraction > 0.80 THEN 'breakage_risk' END
              ], lambda x: x IS NOT NULL) AS early_warnings
            FROM banded""",
        # limited days as spans: (contract, meter, month) pieces of [since, A]
        "spans": f"""
            CREATE TEMP TABLE spans AS
            WITH pieces AS (
                SELECT c.account_id, c.contract_id, r.meter, r.included_quantity, r.unit_price,
                  coalesce(r.overage_unit_price, r.unit_price) AS overage_unit_price,
                  greatest(c.start_date, {since}) AS span_from,
                  least(coalesce(c.end_date, {a}), {a}) AS span_to
                FROM contracts c JOIN rate_card r USING (contract_id)
                WHERE r.included_quantity IS NOT NULL
            ), monthly AS (
                SELECT p.*, unnest(generate_series(date_trunc('month', span_from), span_to,
                                                   INTERVAL 1 MONTH))::DATE AS month
                FROM pieces p WHERE span_from <= span_to
            )
            SELECT account_id, meter, month, contract_id, unit_price, overage_unit_price,
              greatest(span_from, month) AS day_from,
              least(span_to, last_day(month)) AS day_to,
              included_quantity / day(last_day(month)) AS daily_limit
            FROM monthly""",
        "meter_months": f"""
            CREATE TEMP TABLE meter_months AS
            WITH limits AS (
                SELECT account_id, meter, month,
                  sum((day_to - day_from + 1) * daily_limit) AS "limit",
                  arg_max(unit_price, day_to) AS unit_price,
                  arg_max(overage_unit_price, day_to) AS overage_unit_price
                FROM spans GROUP BY ALL
            ), used AS (
                SELECT account_id, meter, date_trunc('month', usage_date)::DATE AS month,
                  sum(quantity) AS usage
                FROM rated
                WHERE included_quantity IS NOT NULL AND usage_date BETWEEN {since} AND {a}
                GROUP BY ALL
            )
            SELECT l.account_id, l.meter, l.month, l."limit", coalesce(u.usage, 0) AS usage,
              greatest(coalesce(u.usage, 0) - l."limit", 0) AS over_units,
              coalesce(u.usage, 0) / l."limit" - 1 AS pct_over,
              coalesce(u.usage, 0) > l."limit" AS is_over,
              greatest(coalesce(u.usage, 0) - l."limit", 0) * l.overage_unit_price AS overage_amount,
              l.unit_price, l.overage_unit_price
            FROM limits l LEFT JOIN used u USING (account_id, meter, month)""",
        "over_meters": f"""
            CREATE TEMP TABLE over_meters AS
            WITH over AS (
                SELECT account_id, meter, count(*) FILTER (is_over) AS months_over,
                  max(month) FILTER (is_over) AS latest_over_month,
                  arg_max(pct_over, month) FILTER (is_over) AS pct_over,
                  arg_max("limit", month) FILTER (is_over) AS "limit",
                  sum(overage_amount) AS overage_amount
                FROM meter_months WHERE month >= {lookback} GROUP BY ALL
                HAVING count(*) FILTER (is_over) >= 1
            ), typical AS (
                SELECT days.account_id, days.meter,
                  median(coalesce(u.quantity, 0)) * count(*) AS typical
                FROM (
                    SELECT s.account_id, s.meter,
                      unnest(generate_series(s.day_from, s.day_to, INTERVAL 1 DAY))::DATE AS day
                    FROM spans s JOIN over o
                      ON o.account_id = s.account_id AND o.meter = s.meter
                     AND o.latest_over_month = s.month
                ) days
                LEFT JOIN rated u
                  ON u.account_id = days.account_id AND u.meter = days.meter AND u.usage_date = days.day
                GROUP BY ALL
            )
            SELECT o.*, CASE WHEN months_over >= {o.sustained_months} THEN 'sustained'
                             WHEN typical <= "limit" THEN 'spike' ELSE 'emerging' END AS pattern
            FROM over o JOIN typical USING (account_id, meter)""",
        "result_overage_cases": f"""
            WITH by_account AS (
                SELECT account_id,
                  arg_max(meter, (pct_over, -rank_in_name)) AS meter,
                  max(pct_over) AS pct_over,
                  arg_max(latest_over_month, (pct_over, -rank_in_name)) AS latest_over_month,
                  max(CASE pattern WHEN 'sustained' THEN 3 WHEN 'emerging' THEN 2 ELSE 1 END) AS severity,
                  count(*) AS meters_over, max(months_over) AS months_over,
                  sum(overage_amount) AS overage_amount
                FROM (SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY meter) AS rank_in_name
                      FROM over_meters)
                GROUP BY ALL
            ), ranked AS (
                SELECT b.*, h.account_name, h.segment, h.csm_owner, h.ae_owner, h.account_value,
                  CASE severity WHEN 3 THEN 'sustained' WHEN 2 THEN 'emerging' ELSE 'spike' END AS pattern,
                  h.account_value * b.pct_over AS priority_score,
                  row_number() OVER (ORDER BY h.account_value * b.pct_over DESC NULLS LAST, b.account_id) AS rank
                FROM by_account b JOIN health h USING (account_id)
            ), eligible AS (
                SELECT *, coalesce(pattern = 'sustained' AND pct_over >= {o.min_pct_over}
                                   AND account_value >= {o.value_floor}, false) AS eligible
                FROM ranked
            ), queued AS (
                SELECT *, sum(eligible::INT) OVER (PARTITION BY csm_owner ORDER BY rank) AS place
                FROM eligible
            ), status AS (
                SELECT account_id, arg_max(activity_type, (activity_date,
                  CASE activity_type WHEN 'overconsumption_conversation' THEN 0
                       WHEN 'expansion_opportunity' THEN 1 ELSE 2 END)) AS status
                FROM activities
                WHERE activity_type IN ('overconsumption_conversation', 'expansion_opportunity', 'scope_reduction')
                  AND activity_date <= {a} AND account_id IS NOT NULL
                GROUP BY ALL
            )
            SELECT rank, account_id, account_name, segment, meter, pct_over, pattern, meters_over,
              months_over, latest_over_month, overage_amount, account_value, priority_score,
              CASE WHEN eligible AND csm_owner IS NULL THEN 'unassigned'
                   WHEN eligible AND place <= {o.max_cases_per_csm} THEN 'conversation'
                   WHEN eligible THEN 'wait' WHEN pattern = 'spike' THEN 'monitor'
                   ELSE 'watch' END AS triage,
              'system' AS owner_detect, csm_owner AS owner_first_conversation,
              ae_owner AS owner_expansion,
              list_filter([CASE WHEN csm_owner IS NULL THEN 'first_conversation' END,
                           CASE WHEN ae_owner IS NULL THEN 'expansion' END],
                          lambda x: x IS NOT NULL) AS missing_owners,
              s.status
            FROM queued LEFT JOIN status s USING (account_id)
            ORDER BY rank""",
        "result_account_health": """
            SELECT account_id, contract_id, commit_amount, term_start, term_end, term_days,
              elapsed_days, elapsed_fraction, consumed_to_date, utilization, pacing_index,
              run_rate, remaining_days, projected_consumption, projected_utilization, band_low,
              band_high, band, burn, exhaustion_date, exhausts_before_term_end, account_value,
              first_contract_start, first_billable_date, ttfbe_days, cv_28d, is_smooth,
              early_warnings
            FROM health ORDER BY account_id""",
        "result_ttfbe_cohorts": f"""
            SELECT segment, date_trunc('month', first_contract_start)::DATE AS cohort_month,
              count(*) AS accounts, count(ttfbe_days) AS live_accounts,
              quantile_cont(ttfbe_days, 0.5) AS median_ttfbe_days,
              quantile_cont(ttfbe_days, 0.75) AS p75_ttfbe_days,
              avg(coalesce(ttfbe_days <= {h.ttfbe_target_days}, false)::INT) AS share_live_within_target
            FROM health GROUP BY ALL ORDER BY segment, cohort_month""",
        "result_meter_months": """
            SELECT m.account_id, m.meter, m.month, m."limit", m.usage, m.over_units, m.pct_over,
              m.is_over, m.overage_amount, m.unit_price, m.overage_unit_price, o.pattern
            FROM meter_months m LEFT JOIN over_meters o USING (account_id, meter)
            ORDER BY account_id, meter, month""",
        "result_retention": f"""
            WITH revenue AS (
                SELECT ac.account_id, ac.segment,
                  coalesce(sum(s.c) FILTER (s.d >= {a} - 89), 0) AS rev_current,
                  coalesce(sum(s.c) FILTER (s.d BETWEEN {a} - 454 AND {a} - 365), 0) AS rev_prior
                FROM accounts ac LEFT JOIN spend s ON s.account_id = ac.account_id
                 AND s.d >= {a} - 454
                GROUP BY ALL
            ), ratios AS (
                SELECT segment, sum(least(rev_current, rev_prior)) FILTER (rev_prior > 0) AS kept,
                  sum(rev_current) FILTER (rev_prior > 0) AS current,
                  sum(rev_prior) FILTER (rev_prior > 0) AS prior
                FROM revenue GROUP BY GROUPING SETS ((segment), ())
            )
            SELECT coalesce(segment, 'All') AS segment,
              CASE WHEN prior > 0 THEN kept / prior END AS grr,
              CASE WHEN prior > 0 THEN current / prior END AS nrr
            FROM ratios ORDER BY segment IS NULL, segment""",
    }


def compute(
    folder: str | Path, params: Params, threads: int | None = None
) -> dict[str, pl.DataFrame]:
    """Every result of the reference over the book in ``folder``, as Polars frames:
    account_health, ttfbe_cohorts, meter_months, overage_cases, retention."""
    folder = Path(folder)
    connection = duckdb.connect()
    if threads:
        connection.execute(f"SET threads = {threads}")
    for table in TABLES:
        connection.execute(f"CREATE VIEW {table} AS SELECT * FROM {_source(folder, table)}")
    as_of = params.as_of or connection.execute("SELECT max(usage_date) FROM usage").fetchone()[0]
    results = {}
    for name, sql in _sql(params, as_of).items():
        if name.startswith("result_"):
            results[name.removeprefix("result_")] = connection.sql(sql).pl()
        else:
            connection.execute(sql)
    connection.close()
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="the book: a folder of Parquet or CSV tables")
    parser.add_argument("--params", type=Path, help="a drawdown params file (default: defaults)")
    args = parser.parse_args(argv)
    params = load_params(args.params) if args.params else load_params()
    wall, cpu = time.perf_counter(), time.process_time()
    results = compute(args.folder, params)
    print(
        json.dumps(
            {
                "wall": time.perf_counter() - wall,
                "cpu": time.process_time() - cpu,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                "rows": {name: frame.height for name, frame in results.items()},
            }
        )
    )


if __name__ == "__main__":
    sys.exit(main())
