"""Books past one machine (docs/scale.md): route a book into shards by account, validate and
compute each shard on its own, and combine the shards' outputs into the whole book's artifacts.

Every table is routed by a stable hash of its account (``shard_numbers``): accounts, contracts,
usage, workflows, outcomes, activities and budgets by their ``account_id``; a rate-card row by its
contract's account. A few things one shard cannot see are settled before routing, on the whole
book's small tables (``route_map``): a ``contract_id`` used by several accounts sends all its
contracts and rate-card rows to one shard, where validation names the duplicate as the whole book
would; rows without an account (portfolio-level activities, a null ``account_id``) and rows whose
account or contract is unknown go to shard 0, where they are rejected or kept as the whole book
keeps them.

A shard is engine-neutral: ``validate_shard`` (its raw tables → a validated book, or the
``ContractBroken`` of its rows) and ``shard_parts`` (the validated book → ``PARTS``: the
per-account artifacts plus the one-row-per-account frames the whole-book stages need) are plain
functions over Polars frames, run by a local process pool (``compute_sharded``) or by Spark
(``drawdown.engines.spark``). ``combine`` is the cheap second pass: global rank and per-CSM
triage of the cases, TTFBE cohorts, GRR/NRR, segment summary, the reset tracker and comparison,
the history (the book a month and a week earlier) and the changes; account_actions is computed
per shard once the cases are ranked (``shard_actions``). ``merge_quality`` adds the shards'
data-quality counts, concatenates their rejects in input order and re-caps the error messages.

The result is the whole-book result, byte for byte: per-account metrics see all of an account's
rows in its shard, and every sum across accounts is a fixed-point sum (``drawdown.exact``),
independent of which process sums which rows.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from drawdown.artifacts import (
    ACCOUNTS_PER_PART,
    PARTITIONED,
    Artifacts,
    account_parts,
    book_accounts,
    conform,
    merged,
    part_count,
    write_artifact,
    write_json,
    write_parts,
    write_rejects,
)
from drawdown.errors import ConnectionFailed, InputError, ParamsError
from drawdown.inputs.contract import REQUIRED_TABLES, RULES, TABLES, Book
from drawdown.inputs.files import (
    UnreadableFile,
    csv_header,
    read_folder,
    table_file,
)
from drawdown.inputs.quality import (
    MESSAGE_LINES,
    DataQuality,
    Finding,
    TableQuality,
)
from drawdown.inputs.raw import ROW_COLUMN, RawTable
from drawdown.inputs.validate import ContractBroken, ValidatedBook, validate
from drawdown.metrics import WEEK_DAYS, actions_stage, changes_stage, forecast_spend
from drawdown.metrics.accounts import account_health
from drawdown.metrics.backtest import backtest_outcomes, backtest_scores
from drawdown.metrics.budgets import account_budgets
from drawdown.metrics.forecast import consumption_forecast, limit_crossing
from drawdown.metrics.health import ttfbe_cohorts
from drawdown.metrics.overconsumption import (
    MONTHS_SHOWN,
    meter_months,
    over_meters,
    rank_cases,
    with_patterns,
)
from drawdown.metrics.reset import compare_states, reset_tracker
from drawdown.metrics.retention import account_revenue, retention_ratios
from drawdown.metrics.scenarios import renewal_scenarios
from drawdown.metrics.segments import segment_summary
from drawdown.metrics.series import account_months, by_account_day, daily_spend
from drawdown.params import Params
from drawdown.run.steps import read_book, write_book

SHARD = "_shard"
"""The column holding a row's shard number while routing."""

ACCOUNTS_PER_SHARD = ACCOUNTS_PER_PART
"""``default_shards``: one shard per this many accounts. A shard of the 50,000-account bench
book (8 shards, about 5 M usage rows each) peaked at 1.2 GB in its worker (bench/README.md): a
third of the 4 GB bound, leaving room for books with more usage rows per account."""

PER_ACCOUNT = ("daily_spend", "account_health", "account_months", "meter_months")
"""Artifacts computed whole in each shard (each of its accounts' rows, concatenated in order)."""

SMALL_TABLES = ("accounts", "activities", "workflows", "budgets")
"""Validated tables the combine pass reads whole (portfolio-level activities, reset items)."""

_FILE_RULES = {
    "missing_table",
    "ambiguous_table",
    "unreadable_file",
    "missing_column",
    "duplicate_column",
}
"""Findings about a table rather than its rows: every shard finds them, the book once."""


def default_shards(accounts: int) -> int:
    """One shard per ``ACCOUNTS_PER_SHARD`` accounts, at least one: as many shards as a book's
    partitioned artifacts have parts, so that each shard writes one part."""
    return part_count(accounts)


def shard_numbers(ids: pl.Series, shards: int) -> pl.Series:
    """Each id's shard in [0, shards): ``artifacts.account_parts``, the stable hash that also
    places an account in a partitioned artifact's parts."""
    return account_parts(ids, shards)


def routing_key(column: str, dtype: pl.DataType) -> pl.Expr:
    """A raw key column as validation will read it: text, surrounding blanks removed."""
    text = pl.col(column) if dtype == pl.String() else pl.col(column).cast(pl.String)
    return text.str.strip_chars()


# -- routing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteMap:
    """Where rows go: account_id → shard and contract_id → shard (keys as ``routing_key``)."""

    shards: int
    accounts: pl.DataFrame
    contracts: pl.DataFrame

    def shard_of(
        self, table: str, schema: Mapping[str, pl.DataType]
    ) -> tuple[pl.DataFrame | None, pl.Expr | None]:
        """The map and join key routing ``table`` (None, None: every row to shard 0)."""
        column, mapping = (
            ("contract_id", self.contracts)
            if table in ("contracts", "rate_card")
            else ("account_id", self.accounts)
        )
        if column not in schema:
            return None, None
        return mapping, routing_key(column, schema[column])


def route_map(accounts: pl.DataFrame, contracts: pl.DataFrame | None, shards: int) -> RouteMap:
    """The routing of a book from its raw accounts and contracts (see the module docstring)."""
    if "account_id" in accounts.columns:
        ids = accounts.select(
            routing_key("account_id", accounts.schema["account_id"]).alias("_key")
        )
        ids = ids.drop_nulls().unique().sort("_key")
    else:
        ids = pl.DataFrame(schema={"_key": pl.String})
    account_map = ids.with_columns(shard_numbers(ids["_key"], shards).alias(SHARD))
    contract_map = pl.DataFrame(schema={"_key": pl.String, SHARD: pl.Int32})
    if contracts is not None and {"contract_id", "account_id"} <= set(contracts.columns):
        owners = contracts.select(
            routing_key("contract_id", contracts.schema["contract_id"]).alias("_key"),
            routing_key("account_id", contracts.schema["account_id"]).alias("_account"),
        ).drop_nulls("_key")
        contract_map = (
            owners.join(account_map.rename({"_key": "_account"}), on="_account", how="left")
            .group_by("_key")
            .agg(pl.col(SHARD).fill_null(0).min())
            .sort("_key")
        )
    return RouteMap(shards, account_map, contract_map)


def with_shard(frame: pl.LazyFrame, table: str, routes: RouteMap) -> pl.LazyFrame:
    """``frame`` with its rows' ``SHARD`` (unknown, null or unroutable keys: shard 0)."""
    schema = frame.collect_schema()
    mapping, key = routes.shard_of(table, schema)
    if mapping is None or key is None:
        return frame.with_columns(pl.lit(0, pl.Int32).alias(SHARD))
    return (
        frame.with_columns(key.alias("_key"))
        .join(mapping.lazy(), on="_key", how="left", maintain_order="left")
        .with_columns(pl.col(SHARD).fill_null(0))
        .drop("_key")
    )


@dataclass(frozen=True)
class RoutedBook:
    """A book routed into shards on disk: ``<folder>/raw/<table>/_shard=<k>/*.parquet`` plus each
    table's empty frame (``schema.parquet``), origin and row reference (``tables.json``)."""

    folder: Path
    shards: int
    accounts: int

    def raw_tables(self, shard: int, skip_rows: tuple[str, ...] = ()) -> dict[str, RawTable]:
        """The raw tables of one shard, rows in input order (``in_input_order``; the tables in
        ``skip_rows``: no rows, their columns only)."""
        meta = json.loads((self.folder / "tables.json").read_text(encoding="utf-8"))
        tables = {}
        for table, info in meta.items():
            base = self.folder / "raw" / table
            files = sorted((base / f"{SHARD}={shard}").glob("*.parquet"))
            files = [] if table in skip_rows else files
            empty = pl.read_parquet(base / "schema.parquet")
            frame = pl.concat([empty, *(pl.read_parquet(path) for path in files)], how="vertical")
            frame = in_input_order(frame) if files else frame
            tables[table] = RawTable(table, info["origin"], frame, info["row_reference"])
        return tables


def route_source(
    source: str | Path, params: Params, shards: int | None, folder: Path
) -> RoutedBook:
    """Read ``source`` and write it routed into ``folder`` (replaced). Usage is never loaded
    whole: a folder's usage file is scanned, joined with the routing and sunk partitioned by
    shard; a database's daily usage is first written batch by batch to ``folder/_usage.parquet``
    (``read_database``, ``read_duckdb``: ``usage_file``), routed the same way, then removed.
    The other tables are read whole. ``shards`` None: ``default_shards``.

    Raises InputError as ``read_source`` does for a missing, ambiguous or unreadable table.
    """
    if folder.exists():
        shutil.rmtree(folder)
    (folder / "raw").mkdir(parents=True)
    database = "://" in str(source)
    if database:
        usage_file = folder / "_usage.parquet"
        raw = _read_database(str(source), params, usage_file)
    else:
        raw = read_folder(Path(source), skip=("usage",))
        usage_file = table_file(Path(source), "usage")
    if any(table not in raw for table in REQUIRED_TABLES if table != "usage"):
        validate(raw, params)  # raises the whole book's missing_table error
    contracts = raw["contracts"].frame
    routes = route_map(raw["accounts"].frame, contracts, shards or 1)
    if shards is None:
        routes = route_map(raw["accounts"].frame, contracts, default_shards(routes.accounts.height))
    meta = {}
    for table in TABLES:
        if table == "usage" and database:
            assert usage_file is not None
            _sink(with_shard(pl.scan_parquet(usage_file), table, routes), folder / "raw" / table)
            usage_file.unlink()
            meta[table] = {"origin": raw[table].origin, "row_reference": "key"}
        elif table == "usage" and usage_file is not None:
            try:
                _sink(with_shard(_scan_usage(usage_file), table, routes), folder / "raw" / table)
            except (OSError, pl.exceptions.PolarsError, UnreadableFile):
                read_folder(Path(source))  # raises the reader's own message
                raise
            meta[table] = {"origin": str(usage_file), "row_reference": "row"}
        elif table in raw:
            _sink(with_shard(_numbered(raw[table]), table, routes), folder / "raw" / table)
            meta[table] = {"origin": raw[table].origin, "row_reference": raw[table].row_reference}
    (folder / "tables.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return RoutedBook(folder, routes.shards, routes.accounts.height)


def _read_database(uri: str, params: Params, usage_file: Path) -> dict[str, RawTable]:
    """A database source's tables as ``read_source`` reads them, its usage rows written to
    ``usage_file`` instead (the usage RawTable: its columns only)."""
    if uri.startswith("duckdb://"):
        from drawdown.inputs.warehouse import read_duckdb

        return read_duckdb(uri, params, usage_file)
    from drawdown.inputs.database import read_database

    return read_database(uri, params, usage_file)


def in_input_order(rows: pl.DataFrame) -> pl.DataFrame:
    """Routed rows (a shard's, or its rejects) in the whole book's input order: by ``_row``;
    without it (a database's usage, streamed unsorted), as ``database.sort_usage`` sorts the
    whole book's, a total order on the rows' values."""
    if ROW_COLUMN in rows.columns:
        return rows.sort(ROW_COLUMN, maintain_order=True)
    from drawdown.inputs.database import sort_usage

    return sort_usage(rows)


def _numbered(raw: RawTable) -> pl.LazyFrame:
    """A raw table with ``_row`` (database tables get their position: it orders the rejects)."""
    if ROW_COLUMN in raw.frame.columns:
        return raw.frame.lazy()
    numbered = raw.frame.lazy().with_row_index(ROW_COLUMN, offset=1)
    return numbered.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))


def _scan_usage(path: Path) -> pl.LazyFrame:
    """The usage file as ``read_file`` reads it, lazily: a CSV's cells as text with ``_row`` from
    2 (blank records skipped), a Parquet file's own types with ``_row`` from 1."""
    if path.suffix == ".csv":
        header = csv_header(path)
        if len(set(header)) != len(header):
            raise UnreadableFile("duplicate_column", "repeated column")
        scan = pl.scan_csv(path, infer_schema=False).with_row_index(ROW_COLUMN, offset=2)
        scan = scan.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))
        return scan.filter(~pl.all_horizontal(pl.exclude(ROW_COLUMN).is_null()))
    scan = pl.scan_parquet(path).with_row_index(ROW_COLUMN, offset=1)
    return scan.with_columns(pl.col(ROW_COLUMN).cast(pl.Int64))


def _sink(frame: pl.LazyFrame, folder: Path) -> None:
    """``frame`` partitioned by ``SHARD`` into ``folder`` (streaming), plus its empty frame."""
    folder.mkdir(parents=True, exist_ok=True)
    frame.drop(SHARD).clear().collect().write_parquet(folder / "schema.parquet")
    frame.sink_parquet(
        pl.PartitionBy(folder, key=SHARD, include_key=False), mkdir=True, maintain_order=True
    )


# -- one shard -----------------------------------------------------------------------------------


@dataclass
class ShardCheck:
    """A shard after validation: its data-quality parts, or the findings that stopped it.

    ``latest``: the latest accepted usage_date (for as_of); ``broken``: the ``ContractBroken``.
    """

    tables: dict[str, TableQuality] = field(default_factory=dict)
    usage_daily_rows: int = 0
    exceptions: pl.DataFrame | None = None
    rejects: dict[str, pl.DataFrame] = field(default_factory=dict)
    latest: date | None = None
    broken: ContractBroken | None = None


def validate_shard(
    raw: dict[str, RawTable], params: Params
) -> tuple[ShardCheck, ValidatedBook | None]:
    """Validate one shard's raw tables; a structural error is returned, not raised."""
    try:
        validated = validate(raw, params)
    except ContractBroken as broken:
        return ShardCheck(broken=broken), None
    latest = validated.book.usage.select(pl.col("usage_date").max()).collect().item()
    check = ShardCheck(
        tables=validated.quality.tables,
        usage_daily_rows=validated.quality.usage_daily_rows,
        exceptions=validated.quality.rating_exceptions,
        rejects=validated.rejects,
        latest=latest,
    )
    return check, validated


def shard_parts(book: Book, rated: pl.LazyFrame, params: Params) -> dict[str, pl.DataFrame]:
    """Everything one shard contributes, as of ``params.as_of`` (resolved for the whole book).

    ``PER_ACCOUNT`` artifacts; ``over`` (``over_meters``) and ``revenue`` (``account_revenue``)
    at A; ``month:*`` and ``week:*`` the same book a month and a week earlier (account_health,
    over, and revenue a month earlier); ``start:*`` at reset.start_date when set; and the
    ``SMALL_TABLES`` as ``book:<table>``.
    """
    as_of = params.as_of
    if as_of is None:
        raise ValueError("shard_parts needs params.as_of resolved for the whole book")
    parts = _seen(book, rated, params, as_of, "", revenue=True, series=True)
    daily = parts.pop("_daily")
    parts |= _forecasts(book, rated, params, parts)
    month_ago = pl.select(pl.lit(as_of).dt.offset_by("-1mo")).item()
    week_ago = as_of - _days(WEEK_DAYS)
    for prefix, earlier, revenue in (("month:", month_ago, True), ("week:", week_ago, False)):
        seen = _seen(
            book,
            rated,
            params.with_overrides({"as_of": earlier.isoformat()}),
            earlier,
            prefix,
            revenue=revenue,
        )
        seen.pop("_daily")
        parts |= seen
    start = params.reset.start_date
    if start is not None:
        health_start = account_health(book, rated, params, start, daily.lazy())
        months_start = meter_months(book, rated, start, params.overconsumption.lookback_months)
        over_start = over_meters(months_start, book, params, start)
        parts |= _collect(**{"start:account_health": health_start, "start:over": over_start})
    small = pl.collect_all([getattr(book, table) for table in SMALL_TABLES])
    parts |= {f"book:{table}": frame for table, frame in zip(SMALL_TABLES, small, strict=True)}
    return parts


def _seen(
    book: Book,
    rated: pl.LazyFrame,
    params: Params,
    as_of: date,
    prefix: str,
    *,
    revenue: bool,
    series: bool = False,
) -> dict[str, pl.DataFrame]:
    """One shard's account_health, over meters (and revenue; and the series) as of ``as_of``,
    computed as ``metrics.health_stage`` and ``overconsumption_stage`` compute them."""
    daily = daily_spend(rated, as_of).collect().lazy()
    # an earlier book, as ``metrics.seen_at`` computes it, reads no forecast: its exhaustion
    # quantiles stay null
    health = account_health(book, rated, params, as_of, daily, forecast=not prefix)
    shown = max(MONTHS_SHOWN, params.overconsumption.lookback_months)
    months = meter_months(book, rated, as_of, shown).collect().lazy()
    over = over_meters(months, book, params, as_of).collect().lazy()
    lazy = {"account_health": health, "over": over, "_daily": daily}
    daily_artifact = by_account_day(daily)
    if revenue:
        lazy["revenue"] = account_revenue(book.accounts, daily_artifact, as_of)
    if series:
        lazy |= {
            "daily_spend": daily_artifact,
            "account_months": account_months(book, daily, as_of),
            "meter_months": with_patterns(months, over),
        }
    frames = _collect(**lazy)
    return {
        (name if name.startswith("_") else prefix + name): frame for name, frame in frames.items()
    }


FORECASTS = ("consumption_forecast", "limit_crossing", "renewal_scenarios")
"""Per-account forecast artifacts (docs/forecasts.md), computed whole in each shard."""
BY_ACCOUNT = (*FORECASTS, "account_budgets")
"""The per-account artifacts each shard computes whole (the forecasts and the budgets)."""


def _forecasts(
    book: Book, rated: pl.LazyFrame, params: Params, parts: Mapping[str, pl.DataFrame]
) -> dict[str, pl.DataFrame]:
    """One shard's forecasts, as ``metrics.forecast_stage`` computes them, and the back-test's
    per-account outcomes (``backtest``), scored in ``combine``."""
    as_of = params.as_of
    assert as_of is not None
    health = parts["account_health"].lazy()
    spend = forecast_spend(parts["daily_spend"].lazy(), as_of)
    forecast = consumption_forecast(health, spend, as_of).collect()
    months = parts["meter_months"].lazy()
    return {"consumption_forecast": forecast} | _collect(
        limit_crossing=limit_crossing(months, rated, book.contracts, book.rate_card, spend, as_of),
        renewal_scenarios=renewal_scenarios(health, forecast.lazy(), rated, as_of),
        account_budgets=account_budgets(health, book.budgets, parts["daily_spend"].lazy(), as_of),
        backtest=backtest_outcomes(book.contracts, spend, as_of, params.bands.run_rate_window_days),
    )


def shard_actions(
    parts: Mapping[str, pl.DataFrame], cases: pl.DataFrame, params: Params
) -> pl.DataFrame:
    """account_actions of one shard's accounts, from its parts and the whole book's ranked cases."""
    health = parts["account_health"]
    mine = cases.filter(pl.col("account_id").is_in(health["account_id"].implode()))
    book = Book.from_frames(accounts=health.select("account_id"))
    frames = actions_stage(
        book, params, health, mine, parts["account_months"], parts["daily_spend"]
    )
    return frames["account_actions"]


# -- combine -------------------------------------------------------------------------------------


SERIES_ORDER = {
    "daily_spend": ("account_id", "usage_date"),
    "account_months": ("account_id", "month"),
    "meter_months": ("account_id", "meter", "month"),
    "account_actions": ("account_id",),
}
"""The per-account artifacts ``combine`` assembles from the shards, and the order of each (one
row per key)."""


@dataclass
class Combined:
    """The whole book's artifacts (``tables``) and the history the pipeline writes beside them
    (``previous_month``: account_health, overage_cases, segment_summary; ``previous_week``:
    account_health, overage_cases).

    ``series``: the ``SERIES_ORDER`` artifacts when ``combine`` spilled them, each as the
    shards' sorted files in shard order (never held whole; ``write_run`` streams them into the
    artifact files); otherwise they are in ``tables``.
    """

    tables: dict[str, pl.DataFrame]
    history: dict[str, dict[str, pl.DataFrame]]
    series: dict[str, list[Path]] = field(default_factory=dict)

    def collected(self) -> dict[str, pl.DataFrame]:
        """Every artifact in memory (the spilled series merged and collected)."""
        names = list(self.series)
        lazy = [merged([pl.scan_parquet(path) for path in self.series[name]]) for name in names]
        return self.tables | dict(zip(names, pl.collect_all(lazy), strict=True))


def combine(
    parts: Callable[[str], pl.DataFrame],
    per_shard: Iterable[Callable[[str], pl.DataFrame]],
    params: Params,
    spill: Path | None = None,
) -> Combined:
    """The whole-book stages from the shards' parts.

    ``parts(name)`` is one part concatenated over the shards (the one-row-per-account frames,
    cheap); ``per_shard`` yields, shard by shard, a reader of that shard's parts (for the
    per-account artifacts and account_actions, so that memory holds one shard's series at a time
    besides the results). With ``spill`` (a folder, replaced), each shard's per-account
    artifacts go to ``spill/<name>/<k>.parquet`` as they are made and ``Combined.series`` lists
    them: memory then never holds a whole-book series (``SERIES_ORDER``).
    """
    as_of = params.as_of
    assert as_of is not None
    light = Book.from_frames(**{table: parts(f"book:{table}") for table in SMALL_TABLES})
    month_ago = pl.select(pl.lit(as_of).dt.offset_by("-1mo")).item()
    week_ago = as_of - _days(WEEK_DAYS)
    seen = {}
    for prefix, day in (("", as_of), ("month:", month_ago), ("week:", week_ago)):
        health = parts(f"{prefix}account_health").sort("account_id")
        earlier = params.with_overrides({"as_of": day.isoformat()})
        cases = rank_cases(
            parts(f"{prefix}over").lazy(), health.lazy(), light, earlier, day
        ).collect()
        seen[prefix] = {"account_health": health, "overage_cases": cases}
        if prefix != "week:":
            ratios = retention_ratios(parts(f"{prefix}revenue").lazy())
            summary = segment_summary(health.lazy(), cases.lazy(), ratios).collect()
            seen[prefix]["segment_summary"] = summary
    health, cases = seen[""]["account_health"], seen[""]["overage_cases"]
    tables = dict(seen[""])
    tables["ttfbe_cohorts"] = ttfbe_cohorts(health.lazy(), params.health).collect()
    tables["forecast_backtest"] = backtest_scores(parts("backtest").lazy()).collect()
    for name in BY_ACCOUNT:
        tables[name] = parts(name).sort("account_id", maintain_order=True)
    series: dict[str, list[pl.DataFrame]] = {name: [] for name in SERIES_ORDER}
    spilled: dict[str, list[Path]] = {name: [] for name in SERIES_ORDER}
    if spill is not None:
        shutil.rmtree(spill, ignore_errors=True)
        for name in SERIES_ORDER:
            (spill / name).mkdir(parents=True)
    for number, read in enumerate(per_shard):
        shard = {name: read(name) for name in PER_ACCOUNT}
        shard["account_actions"] = shard_actions(shard, cases, params)
        for name in SERIES_ORDER:
            frame = shard[name]
            if spill is None:
                series[name].append(frame)
                continue
            path = spill / name / f"{number}.parquet"
            frame.sort(*SERIES_ORDER[name], maintain_order=True).write_parquet(path)
            spilled[name].append(path)
        del shard
    if spill is None:
        tables |= {
            "daily_spend": by_account_day(pl.concat(series["daily_spend"]).lazy()).collect(),
            "account_months": pl.concat(series["account_months"]).sort("account_id", "month"),
            "meter_months": pl.concat(series["meter_months"]).sort("account_id", "meter", "month"),
            "account_actions": pl.concat(series["account_actions"]).sort("account_id"),
        }
    if params.reset.start_date is not None:
        start = params.reset.start_date
        health_start = parts("start:account_health").sort("account_id")
        cases_start = rank_cases(
            parts("start:over").lazy(), health_start.lazy(), light, params, start
        )
        tables["reset_tracker"] = reset_tracker(
            light, pl.LazyFrame(), health.lazy(), cases.lazy(), params, as_of
        ).collect()
        tables["reset_comparison"] = compare_states(
            health_start.lazy(), cases_start, health.lazy(), cases.lazy(), params
        ).collect()
    tables |= changes_stage(tables, seen["week:"], week_ago)
    history = {"previous_month": seen["month:"], "previous_week": seen["week:"]}
    return Combined(
        {name: conform(name, frame) for name, frame in tables.items()},
        history,
        spilled if spill is not None else {},
    )


# -- data quality ----------------------------------------------------------------------------------


def merge_quality(
    checks: Sequence[ShardCheck], raw_meta: Mapping[str, Mapping[str, str]]
) -> tuple[DataQuality, dict[str, pl.DataFrame]]:
    """The whole book's data quality and rejects from its shards': counts add, rejects
    concatenate in input order (``in_input_order``; a database table's position column
    dropped)."""
    tables = {}
    for table in TABLES:
        entries = [check.tables[table] for check in checks if table in check.tables]
        by_rule: dict[str, int] = {}
        for entry in entries:
            for name, count in entry.rejected_by_rule.items():
                by_rule[name] = by_rule.get(name, 0) + count
        tables[table] = TableQuality(
            table=table,
            origin=entries[0].origin if entries else None,
            rows_read=sum(entry.rows_read for entry in entries),
            rows_accepted=sum(entry.rows_accepted for entry in entries),
            rejected_by_rule=dict(sorted(by_rule.items())),
        )
    exceptions = pl.concat([check.exceptions for check in checks if check.exceptions is not None])
    rejects = {}
    for table in TABLES:
        frames = [check.rejects[table] for check in checks if table in check.rejects]
        if frames:
            merged = in_input_order(pl.concat(frames, how="vertical"))
            if raw_meta.get(table, {}).get("row_reference") == "key":
                merged = merged.drop(ROW_COLUMN, strict=False)
            rejects[table] = merged
    quality = DataQuality(
        tables=tables,
        usage_daily_rows=sum(check.usage_daily_rows for check in checks),
        rating_exceptions=exceptions.sort("account_id", "rating_status"),
    )
    return quality, rejects


def merge_broken(checks: Sequence[ShardCheck]) -> ContractBroken | None:
    """The error the whole book gives from its shards' errors: the earliest validation stage any
    shard stopped at; its findings per table in contract order (``_merge_table``), each rule's
    rows added and its lines merged in input order; the message re-capped at ``MESSAGE_LINES``
    lines."""
    broken = [check.broken for check in checks if check.broken is not None]
    if not broken:
        return None
    stage = min(error.stage for error in broken)
    merged: dict[str, dict[tuple[str, int], list[Finding]]] = {}
    for error in broken:
        if error.stage == stage:
            for finding in error.findings:
                key = (finding.rule, finding.place)
                merged.setdefault(finding.table, {}).setdefault(key, []).append(finding)
    order = sorted(merged, key=lambda table: TABLES.index(table) if table in TABLES else -1)
    return ContractBroken(
        stage, [found for table in order for found in _merge_table(table, merged[table])]
    )


def _merge_table(table: str, groups: Mapping[tuple[str, int], list[Finding]]) -> list[Finding]:
    """One table's findings from several shards, as the whole book gives them: a table-level
    finding (a missing column) once; structural rules in their declared order (``RULES``; one
    rule's findings by ``Finding.place``); row rules (strict validation) in the order of their
    first rows, as the whole book groups its rejects; each finding's lines in input order.

    Input order is ``in_input_order`` of the rows the lines show (``Finding.shown``): ``_row``
    for a file or a database table other than usage (its position, ``_numbered``), else
    ``database.USAGE_ORDER``, every column of a database's usage row, so that two lines tie only
    for identical rows, whose lines are identical (or for one contract's overlapping pairs, all
    in one shard and kept in its order). Lines without their rows keep shard order.
    """
    keys = list(groups)
    ordered = _lines_in_input_order([groups[key] for key in keys])
    first = ordered["_group"].unique(maintain_order=True).to_list()
    declared = {found.name: found for found in RULES.get(table, ())}
    names = list(declared)

    def position(number: int) -> tuple[int, int, int]:
        name, place = keys[number]
        row_rule = name in declared and declared[name].kind == "row"
        at = names.index(name) if name in names and not row_rule else len(names)
        return at, place, first.index(number) if number in first else len(first)

    findings = []
    for number in sorted(range(len(keys)), key=position):
        name, place = keys[number]
        group = groups[keys[number]]
        if name in _FILE_RULES:
            findings.append(group[0])
            continue
        lines = ordered.filter(pl.col("_group") == number)["_line"].to_list()
        lines += [line for found in group if found.shown is None for line in found.lines]
        rows = sum(finding.rows for finding in group)
        findings.append(Finding(table, name, rows, tuple(lines[:MESSAGE_LINES]), place=place))
    return findings


def _lines_in_input_order(groups: Sequence[Sequence[Finding]]) -> pl.DataFrame:
    """The lines of the groups' findings (``_line``, with its group's number ``_group``) in the
    input order of the rows they show; findings without their rows left out."""
    shown = [
        finding.shown.with_columns(
            pl.lit(number, pl.Int32).alias("_group"), pl.Series("_line", finding.lines, pl.String)
        )
        for number, group in enumerate(groups)
        for finding in group
        if finding.shown is not None and finding.rule not in _FILE_RULES
    ]
    if not shown:
        return pl.DataFrame(schema={"_group": pl.Int32, "_line": pl.String})
    return in_input_order(pl.concat(shown, how="diagonal_relaxed")).select("_group", "_line")


def _days(days: int) -> Any:
    from datetime import timedelta

    return timedelta(days=days)


def _collect(**lazy: pl.LazyFrame) -> dict[str, pl.DataFrame]:
    return dict(zip(lazy, pl.collect_all(list(lazy.values())), strict=True))


# -- the local engine ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShardedBook:
    """A routed and validated book: its shards' checks, the merged data quality and rejects, and
    ``params`` with as_of resolved for the whole book."""

    routed: RoutedBook
    checks: list[ShardCheck]
    quality: DataQuality
    rejects: dict[str, pl.DataFrame]
    params: Params


def validate_sharded(
    source: str | Path, params: Params, shards: int | None, folder: Path, workers: int | None = None
) -> ShardedBook:
    """Route ``source`` into ``folder`` (replaced) and validate its shards (``map_shards``);
    each shard's validated book stays in ``folder`` for ``compute_parts``.

    Raises InputError with the message the whole book gives for a structural error.
    """
    routed = route_source(source, params, shards, folder)
    meta = json.loads((folder / "tables.json").read_text(encoding="utf-8"))
    checks = map_shards(_validate_worker, routed, params, workers)
    broken = merge_broken(checks)
    if broken is not None:
        raise broken
    latest = max((check.latest for check in checks if check.latest is not None), default=None)
    if params.as_of is None:
        if latest is None:
            raise InputError("the usage table has no rows: set as_of to compute metrics")
        params = params.with_overrides({"as_of": latest.isoformat()})
    quality, rejects = merge_quality(checks, meta)
    return ShardedBook(routed, checks, quality, rejects, params)


def compute_sharded(
    source: str | Path, params: Params, shards: int | None, folder: Path, workers: int | None = None
) -> tuple[Artifacts, Combined]:
    """The whole book's artifacts, computed shard by shard (``validate_sharded``, then each
    shard's parts, then ``combine``). Returns the artifacts (as ``api.compute_all`` returns
    them) and the combined result with its history."""
    sharded = validate_sharded(source, params, shards, folder, workers)
    combined = compute_parts(sharded, workers)
    return Artifacts(combined.collected(), sharded.quality.to_json(), sharded.rejects), combined


def compute_parts(sharded: ShardedBook, workers: int | None = None) -> Combined:
    """Each shard's parts (``map_shards``), then the whole-book ``combine``, its per-account
    series spilled to ``<folder>/series`` (``Combined.series``)."""
    map_shards(_parts_worker, sharded.routed, sharded.params, workers)
    folder, numbers = sharded.routed.folder, range(sharded.routed.shards)

    def parts(name: str) -> pl.DataFrame:
        return pl.concat([pl.read_parquet(_part_path(folder, shard, name)) for shard in numbers])

    def reader(shard: int) -> Callable[[str], pl.DataFrame]:
        return lambda name: pl.read_parquet(_part_path(folder, shard, name))

    readers = (reader(shard) for shard in numbers)
    return combine(parts, readers, sharded.params, folder / "series")


def map_shards(
    work: Callable[[RoutedBook, int, Params], Any],
    routed: RoutedBook,
    params: Params,
    workers: int | None = None,
) -> list[Any]:
    """``work(routed, shard, params)`` for every shard, in shard order: in a pool of ``workers``
    processes (None: one per core, at most one per shard; each process holds one shard at a
    time), or in this process when ``workers`` is 0."""
    numbers = list(range(routed.shards))
    if workers == 0:
        return [work(routed, shard, params) for shard in numbers]
    count = workers or min(routed.shards, os.cpu_count() or 1)
    with ProcessPoolExecutor(count, mp_context=get_context("spawn")) as pool:
        return list(pool.map(work, [routed] * len(numbers), numbers, [params] * len(numbers)))


def _validate_worker(routed: RoutedBook, shard: int, params: Params) -> ShardCheck:
    """Validate one shard and keep its validated book (``shards/<k>/book``) for ``_parts_worker``."""
    check, validated = validate_shard(routed.raw_tables(shard), params)
    if validated is not None:
        book_folder = routed.folder / "shards" / str(shard) / "book"
        write_book(validated, book_folder, book_folder / "_rated.parquet")
    return check


def _parts_worker(routed: RoutedBook, shard: int, params: Params) -> None:
    """One shard's ``shard_parts``, written to ``shards/<k>/parts``."""
    book_folder = routed.folder / "shards" / str(shard) / "book"
    rated = book_folder / "_rated.parquet"
    parts = shard_parts(read_book(book_folder, rated), pl.scan_parquet(rated), params)
    for name, frame in parts.items():
        path = _part_path(routed.folder, shard, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(path)


def _part_path(folder: Path, shard: int, name: str) -> Path:
    return folder / "shards" / str(shard) / "parts" / f"{name.replace(':', '__')}.parquet"


# -- drawdown run ----------------------------------------------------------------------------------


def planned_shards(params: Params) -> int:
    """How many shards ``drawdown run`` splits the book into: ``engine.shards`` when set, else
    ``default_shards`` of the accounts the source holds (``source_accounts``); 1 when they cannot
    be counted (the whole-book validation then names the problem)."""
    if params.engine.shards is not None:
        return params.engine.shards
    accounts = source_accounts(params)
    return 1 if accounts is None else default_shards(accounts)


def source_accounts(params: Params) -> int | None:
    """The rows of the source's accounts table, counted without reading the book: a folder's
    accounts file scanned, a PostgreSQL or DuckDB table by one ``SELECT COUNT(*)``. None when
    they cannot be counted (no such table or file, another kind of source): the whole-book
    validation then names the problem. ConnectionFailed when the database cannot be reached or
    refuses the login: that is the run's answer, without a second attempt."""
    uri = params.source.uri
    try:
        if uri.startswith("duckdb://"):
            from drawdown.inputs.warehouse import count_duckdb_rows

            return count_duckdb_rows(uri, params, "accounts")
        if "://" in uri:
            from drawdown.inputs.database import SCHEMES, count_rows

            postgresql = urlsplit(uri).scheme in SCHEMES
            return count_rows(uri, params, "accounts") if postgresql else None
        accounts = table_file(Path(uri), "accounts")
        if accounts is None:
            return None
        scan = (
            pl.scan_csv(accounts, infer_schema=False)
            if accounts.suffix == ".csv"
            else pl.scan_parquet(accounts)
        )
        return scan.select(pl.len()).collect().item()
    except ConnectionFailed:
        raise  # the whole-book validation would connect again, and wait or fail the same way
    except (OSError, pl.exceptions.PolarsError, InputError, ParamsError):
        return None


def write_run(sharded: ShardedBook, combined: Combined, stage: Path) -> None:
    """What the validation and compute notebooks leave in a run folder, from a sharded
    computation: ``artifacts/`` (data_quality.json, rejects/, every artifact but the changes,
    which the run computes against its previous run), ``artifacts/previous_month`` and
    ``previous_week``. No snapshot of the book is written (``work/`` stays empty) and no compute
    notebook is executed (``notebooks/`` holds only the reports)."""
    from drawdown.reports.inert import spreadsheet_cells
    from drawdown.run.steps import ARTIFACTS, write_artifacts

    folder = stage / ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    write_json(folder / "data_quality.json", sharded.quality.to_json())
    write_rejects(
        folder, {table: spreadsheet_cells(frame) for table, frame in sharded.rejects.items()}
    )
    frames = {name: frame for name, frame in combined.tables.items() if name != "changes"}
    write_artifacts(frames, stage)
    accounts = book_accounts(sharded.quality.to_json())
    for name, paths in combined.series.items():
        if name in PARTITIONED:
            write_parts(name, paths, folder, accounts)
        else:
            scans = [pl.scan_parquet(path) for path in paths]
            write_artifact(name, merged(scans), folder / f"{name}.parquet")
    for name, frames in combined.history.items():
        write_artifacts(frames, stage, name)
    for empty in ("work", "notebooks"):
        (stage / empty).mkdir(exist_ok=True)
