"""Sharded runs (docs/scale.md): byte-identical to the whole book, errors and data quality merged."""

from __future__ import annotations

import filecmp
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType

import polars as pl
import pyarrow as pa
import pytest
from polars.testing import assert_frame_equal

from drawdown import artifacts
from drawdown.api import compute_all
from drawdown.artifacts import conform, write_partitioned
from drawdown.errors import InputError
from drawdown.inputs.quality import Finding
from drawdown.inputs.sample import write_sample
from drawdown.inputs.validate import STAGE_STRICT, ContractBroken, load_book
from drawdown.params import Params, load_params
from drawdown.run import steps
from drawdown.run.shards import (
    SERIES_ORDER,
    ShardCheck,
    compute_parts,
    compute_sharded,
    default_shards,
    merge_broken,
    planned_shards,
    route_source,
    shard_numbers,
    validate_sharded,
    write_run,
)
from inputs.test_bad_inputs import CASES, _expected, _source


def _params(source: Path, **overrides: object) -> Params:
    return load_params(overrides=overrides).with_overrides({"source": {"uri": str(source)}})


def _same_files(left: Path, right: Path) -> list[str]:
    """Names of the files under ``left`` that differ from (or are missing under) ``right``."""
    compared = filecmp.dircmp(left, right)
    different = compared.diff_files + compared.left_only + compared.right_only
    for name in compared.common_dirs:
        different += [f"{name}/{file}" for file in _same_files(left / name, right / name)]
    return different


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sample")
    write_sample(folder, accounts=300)
    return folder


def test_shard_numbers_are_stable_and_in_range() -> None:
    ids = pl.Series("account_id", ["A1", "A2", None, "Ä-42"])
    assert shard_numbers(ids, 4).to_list() == shard_numbers(ids, 4).to_list()
    assert all(0 <= number < 4 for number in shard_numbers(ids, 4).to_list())
    assert shard_numbers(ids, 1).to_list() == [0, 0, 0, 0]
    assert shard_numbers(ids, 7)[2] == 0


def test_default_shards_grow_with_the_book() -> None:
    assert [default_shards(n) for n in (1, 6_250, 6_251, 50_000)] == [1, 1, 2, 8]


@pytest.mark.parametrize("shards", [1, 2, 3])
def test_sharded_artifacts_are_byte_identical_on_the_sample(
    sample: Path, tmp_path: Path, shards: int
) -> None:
    params = _params(sample, reset={"start_date": "2026-10-05"})
    compute_all(sample, params).write(tmp_path / "whole")
    sharded, _ = compute_sharded(sample, params, shards, tmp_path / "work", workers=0)
    sharded.write(tmp_path / "sharded")
    assert _same_files(tmp_path / "whole", tmp_path / "sharded") == []


@pytest.mark.parametrize("case", CASES)
def test_sharded_validation_gives_the_whole_books_verdict(case: str, tmp_path: Path) -> None:
    """Every bad-input case: the same error message, or the same data quality and rejects."""
    source = _source(case, tmp_path / "data")
    args = _expected(case).get("args", [])
    settings = dict(arg.split("=", 1) for arg in args[1::2])
    params = _params(
        source, **{k: v == "true" if v in ("true", "false") else v for k, v in settings.items()}
    )
    try:
        whole = compute_all(source, params)
    except InputError as error:
        with pytest.raises(InputError) as sharded_error:
            compute_sharded(source, params, 3, tmp_path / "work", workers=0)
        assert str(sharded_error.value) == str(error)
        return
    sharded, _ = compute_sharded(source, params, 3, tmp_path / "work", workers=0)
    whole.write(tmp_path / "whole")
    sharded.write(tmp_path / "sharded")
    assert _same_files(tmp_path / "whole", tmp_path / "sharded") == []


def test_a_contract_id_of_two_accounts_is_named_as_the_whole_book_names_it(tmp_path: Path) -> None:
    source = _source("duplicate_contract_id", tmp_path / "data")
    with pytest.raises(InputError, match="primary_key"):
        validate_sharded(source, _params(source), 7, tmp_path / "work", workers=0)


def test_streamed_per_account_artifacts_are_byte_identical(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a drawdown run streams daily_spend, account_months, meter_months and account_actions from
    # the shards' files into the artifact files (never the whole book's series in memory); small
    # row groups, so that the files hold many of them
    monkeypatch.setattr(artifacts, "ROW_GROUP_ROWS", 1_000)
    params = _params(sample, reset={"start_date": "2026-10-05"})
    whole = compute_all(sample, params)
    assert whole["daily_spend"].height > 10 * artifacts.ROW_GROUP_ROWS
    whole.write(tmp_path / "whole")
    sharded = validate_sharded(sample, params, 3, tmp_path / "work", workers=0)
    combined = compute_parts(sharded, workers=0)
    assert set(combined.series) == set(SERIES_ORDER)
    write_run(sharded, combined, tmp_path / "run")
    written = tmp_path / "run" / "artifacts"
    names = [path.name for path in (tmp_path / "whole").glob("*.parquet")]
    assert "account_actions.parquet" in names
    different = [
        name
        for name in names
        if name != "changes.parquet" and not filecmp.cmp(tmp_path / "whole" / name, written / name)
    ]
    assert different == []
    for name in artifacts.PARTITIONED:
        assert _same_files(tmp_path / "whole" / name, written / name) == []


def test_the_earlier_books_equal_the_whole_books(sample: Path, tmp_path: Path) -> None:
    # previous_month and previous_week, as the history notebook computes them: the earlier
    # books read no forecast, so their exhaustion quantiles are null in both
    params = _params(sample)
    sharded = validate_sharded(sample, params, 2, tmp_path / "work", workers=0)
    combined = compute_parts(sharded, workers=0)
    validated = steps.validate_source(params)
    daily = combined.collected()["daily_spend"]
    whole = steps.history_step(validated.book, sharded.params, validated.rated.lazy(), daily)
    for when, frames in whole.items():
        for name, frame in frames.items():
            assert_frame_equal(conform(name, combined.history[when][name]), conform(name, frame))


def test_a_sharded_run_from_the_command_line_writes_the_whole_books_artifacts(
    sample: Path, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from drawdown.cli import app

    runner = CliRunner()
    for shards in (1, 2):
        out = tmp_path / "runs" / f"n{shards}"
        ran = runner.invoke(
            app,
            [
                "run",
                "--data",
                str(sample),
                "--out",
                str(out),
                "--format",
                "none",
                "--shards",
                f"{shards}",
            ],
        )
        assert ran.exit_code == 0, ran.output
    runs = tmp_path / "runs"
    assert "shards" in (runs / "n2" / "run.log").read_text()
    assert "shards" not in (runs / "n1" / "run.log").read_text()
    assert _same_files(runs / "n1" / "artifacts", runs / "n2" / "artifacts") == []
    assert _same_files(runs / "n1" / "exports", runs / "n2" / "exports") == []


@pytest.mark.parametrize(("shards", "merges"), [(3, False), (2, True)])
def test_each_shard_writes_its_part_of_a_partitioned_series(
    sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shards: int, merges: bool
) -> None:
    # at 120 accounts a part, the sample's 300 accepted accounts give ceil(300 / 120) = 3 parts
    # for every series: 3 shards each write their own part as it is; 2 shards are merged and
    # split into 3 parts again. Either way the whole book's bytes.
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 120)
    params = _params(sample)
    compute_all(sample, params).write(tmp_path / "whole")
    calls = []
    monkeypatch.setattr(
        artifacts,
        "write_partitioned",
        lambda *args: calls.append(args[0]) or write_partitioned(*args),
    )
    sharded = validate_sharded(sample, params, shards, tmp_path / "work", workers=0)
    write_run(sharded, compute_parts(sharded, workers=0), tmp_path / "run")
    assert sorted(calls) == (sorted(artifacts.PARTITIONED) if merges else [])
    for name in artifacts.PARTITIONED:
        assert len(artifacts.part_files(tmp_path / "whole", name)) == 3
        assert _same_files(tmp_path / "whole" / name, tmp_path / "run" / "artifacts" / name) == []


# -- a database source ---------------------------------------------------------------------------


def write_rejecting_book(folder: Path) -> Path:
    """A small sample whose usage holds offending rows for several accounts (so several shards):
    negative and null quantities, two offending rows on one key beside its valid row, a null
    account, accounts unknown (some lower-case, which collations and byte order sort apart) and a
    null meter."""
    write_sample(folder, accounts=30, days=120, seed=4)
    usage = pl.read_csv(folder / "usage.csv", try_parse_dates=True)
    first = usage.group_by("account_id").first().sort("account_id").head(8)
    day = first["usage_date"][0]
    rows = []
    for account, meter in first.select("account_id", "meter").iter_rows():
        rows += [(account, meter, day, -1.0), (account, meter, day, None)]
        rows += [(account, meter, day, -2.5), (account, meter, day, -1.0)]
    rows += [(None, "api_calls", day, 3.0), ("a-unknown", "api_calls", day, 4.0)]
    rows += [("_unknown", "api_calls", day, 5.0), ("Z9", None, day, 6.0)]
    bad = pl.DataFrame(rows, schema=usage.schema, orient="row")
    pl.concat([usage, bad]).write_csv(folder / "usage.csv")
    return folder


@pytest.fixture(scope="module")
def rejecting_book(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_rejecting_book(tmp_path_factory.mktemp("rejecting"))


def _database_runs_agree(uri: str, tmp_path: Path) -> None:
    """The whole book and 2 and 3 shards from ``uri``: the same artifact files, data quality and
    rejects, the usage rejects coming from several shards."""
    params = _params(Path("."), reset={"start_date": "2026-10-05"})
    params = params.with_overrides({"source": {"uri": uri}})
    compute_all(uri, params).write(tmp_path / "whole")
    assert (tmp_path / "whole" / "rejects" / "usage.csv").is_file()
    for shards in (2, 3):
        work = tmp_path / f"work{shards}"
        sharded = validate_sharded(uri, params, shards, work, workers=0)
        assert sum("usage" in check.rejects for check in sharded.checks) >= 2
        assert not (work / "_usage.parquet").exists()
        combined = compute_parts(sharded, workers=0)
        written = artifacts.Artifacts(
            combined.collected(), sharded.quality.to_json(), sharded.rejects
        ).write(tmp_path / f"sharded{shards}")
        assert _same_files(tmp_path / "whole", written) == []


def test_a_sharded_run_from_duckdb_equals_the_whole_book(rejecting_book: Path, tmp_path: Path):
    pytest.importorskip("duckdb")
    from drawdown.inputs.warehouse import write_duckdb_book

    write_duckdb_book(tmp_path / "book.duckdb", rejecting_book, events_per_day=2)
    _database_runs_agree(f"duckdb://{tmp_path / 'book.duckdb'}", tmp_path)


@pytest.fixture(scope="module")
def postgres_book(rejecting_book: Path) -> Iterator[str]:
    from drawdown.inputs.database import write_book
    from postgres_server import postgres_server

    with postgres_server() as server:
        uri = server.database("rejecting")
        write_book(uri, rejecting_book, events_per_day=2)
        yield uri


@pytest.mark.postgres
def test_a_sharded_run_from_postgresql_equals_the_whole_book(postgres_book: str, tmp_path: Path):
    _database_runs_agree(postgres_book, tmp_path)


def _counted_batches(module: ModuleType, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the record batches ``module`` writes through ``write_batches``."""
    sizes: list[int] = []
    write = module.write_batches

    def counting(reader: pa.RecordBatchReader, path: Path) -> pa.Schema:
        def batches() -> Iterator[pa.RecordBatch]:
            for batch in reader:
                sizes.append(batch.num_rows)
                yield batch

        return write(pa.RecordBatchReader.from_batches(reader.schema, batches()), path)

    monkeypatch.setattr(module, "write_batches", counting)
    return sizes


def _routed_usage_rows(folder: Path) -> int:
    return (
        pl.scan_parquet(folder / "raw" / "usage" / "*" / "*.parquet")
        .select(pl.len())
        .collect()
        .item()
    )


def test_duckdb_usage_is_routed_batch_by_batch(
    rejecting_book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("duckdb")
    from drawdown.inputs import warehouse

    warehouse.write_duckdb_book(tmp_path / "book.duckdb", rejecting_book, events_per_day=2)
    monkeypatch.setattr(warehouse, "BATCH_ROWS", 500)
    monkeypatch.setattr(warehouse, "STREAM_MEMORY_LIMIT", "16MB")
    sizes = _counted_batches(warehouse, monkeypatch)
    uri = f"duckdb://{tmp_path / 'book.duckdb'}"
    params = _params(Path(".")).with_overrides({"source": {"uri": uri}})
    route_source(uri, params, 2, tmp_path / "w")
    assert len(sizes) > 2
    assert max(sizes) <= 500
    assert sum(sizes) == _routed_usage_rows(tmp_path / "w")
    # no usage file nor DuckDB spill folder left beside the routed tables
    assert sorted(path.name for path in (tmp_path / "w").iterdir()) == ["raw", "tables.json"]


@pytest.mark.postgres
def test_postgresql_usage_is_routed_batch_by_batch(
    postgres_book: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from drawdown.inputs import database

    monkeypatch.setattr(database, "BATCH_BYTES", 16_384)
    sizes = _counted_batches(database, monkeypatch)
    params = _params(Path(".")).with_overrides({"source": {"uri": postgres_book}})
    route_source(postgres_book, params, 2, tmp_path / "w")
    assert len(sizes) > 2
    assert sum(sizes) == _routed_usage_rows(tmp_path / "w")
    assert max(sizes) < sum(sizes) / 2


def _strict_messages_agree(uri: str, tmp_path: Path) -> None:
    """Strict validation of ``uri`` whole and in 2 and 3 shards: the same message, line for line."""
    params = _params(Path("."), strict=True).with_overrides({"source": {"uri": uri}})
    with pytest.raises(InputError) as whole:
        load_book(uri, params)
    assert "rule quantity|min" in str(whole.value)
    for shards in (2, 3):
        with pytest.raises(InputError) as sharded:
            validate_sharded(uri, params, shards, tmp_path / f"work{shards}", workers=0)
        assert str(sharded.value) == str(whole.value)


@pytest.mark.parametrize("source", ["folder", "duckdb"])
def test_strict_errors_from_shards_read_as_the_whole_books(
    rejecting_book: Path, tmp_path: Path, source: str
) -> None:
    # offending usage rows of several rules in several shards: the rules come in the order of
    # their first rows (not their declared order), and a database's rows, named by their key,
    # in the whole book's order (database.USAGE_ORDER), not shard by shard
    uri = str(rejecting_book)
    if source == "duckdb":
        pytest.importorskip("duckdb")
        from drawdown.inputs.warehouse import write_duckdb_book

        write_duckdb_book(tmp_path / "book.duckdb", rejecting_book, events_per_day=2)
        uri = f"duckdb://{tmp_path / 'book.duckdb'}"
    _strict_messages_agree(uri, tmp_path)


@pytest.mark.postgres
def test_strict_errors_from_postgresql_shards_read_as_the_whole_books(
    postgres_book: str, tmp_path: Path
) -> None:
    _strict_messages_agree(postgres_book, tmp_path)


def test_values_of_two_columns_that_do_not_parse_are_named_column_by_column(
    tmp_path: Path,
) -> None:
    # the whole book names each column's wrong_type rows in turn (contract column order), not
    # the rows of both columns interleaved by row number
    write_sample(tmp_path / "data", accounts=30, days=30, seed=4)
    usage = pl.read_csv(tmp_path / "data" / "usage.csv", infer_schema=False)
    ids = usage["account_id"].unique().sort().to_list()
    usage = usage.with_columns(
        pl.when(pl.col("account_id").is_in(ids[:6]))
        .then(pl.lit("x"))
        .otherwise(pl.col("quantity"))
        .alias("quantity"),
        pl.when(pl.col("account_id").is_in(ids[3:9]))
        .then(pl.lit("bad"))
        .otherwise(pl.col("usage_date"))
        .alias("usage_date"),
    )
    usage.sample(fraction=1.0, shuffle=True, seed=1).write_csv(tmp_path / "data" / "usage.csv")
    params = _params(tmp_path / "data")
    with pytest.raises(InputError) as whole:
        load_book(tmp_path / "data", params)
    for shards in (2, 3):
        with pytest.raises(InputError) as sharded:
            validate_sharded(tmp_path / "data", params, shards, tmp_path / f"w{shards}", workers=0)
        assert str(sharded.value) == str(whole.value)


def test_merged_lines_of_one_key_follow_every_column_of_the_usage_order() -> None:
    # database usage rows whose lines name one key, from two shards: ordered by every column of
    # database.USAGE_ORDER, nulls last, as the whole book sorts its rows, not shard by shard
    def check(quantities: list[float | None]) -> ShardCheck:
        usage = pl.DataFrame(
            {
                "account_id": [None] * len(quantities),
                "meter": ["api"] * len(quantities),
                "usage_date": [date(2026, 3, 1)] * len(quantities),
                "quantity": quantities,
                "_events": [1] * len(quantities),
            },
            schema_overrides={"account_id": pl.String, "quantity": pl.Float64},
        )
        lines = tuple(f"usage key account_id='', quantity={q}" for q in quantities)
        finding = Finding("usage", "account_id|nullability", len(lines), lines, usage)
        return ShardCheck(broken=ContractBroken(STAGE_STRICT, [finding]))

    merged = merge_broken([check([5.0, None]), check([-1.0, 3.0])])
    assert merged is not None
    assert merged.findings[0].lines == tuple(
        f"usage key account_id='', quantity={q}" for q in (-1.0, 3.0, 5.0, None)
    )
    assert merged.findings[0].rows == 4


def _planned(uri: str, **source: object) -> int:
    return planned_shards(_params(Path(".")).with_overrides({"source": {"uri": uri, **source}}))


def test_the_default_shard_count_of_a_folder_follows_its_accounts(
    rejecting_book: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 10)
    assert _planned(str(rejecting_book)) == 3  # 30 accounts


def test_the_default_shard_count_of_a_duckdb_book_follows_its_accounts(
    rejecting_book: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("duckdb")
    from drawdown.inputs.warehouse import write_duckdb_book

    write_duckdb_book(tmp_path / "book.duckdb", rejecting_book, events_per_day=2)
    uri = f"duckdb://{tmp_path / 'book.duckdb'}"
    assert _planned(uri) == 1
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 10)
    assert _planned(uri) == 3  # 30 accounts
    # a table the count cannot read: one shard, and the whole-book validation names it
    assert _planned(uri, tables={"accounts": "missing_accounts"}) == 1
    assert _planned(f"duckdb://{tmp_path / 'absent.duckdb'}") == 1
    assert not (tmp_path / "absent.duckdb").exists()


@pytest.mark.postgres
def test_the_default_shard_count_of_a_postgresql_book_follows_its_accounts(
    postgres_book: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _planned(postgres_book) == 1
    monkeypatch.setattr(artifacts, "ACCOUNTS_PER_PART", 10)
    assert _planned(postgres_book) == 3  # 30 accounts
    assert _planned(postgres_book, tables={"accounts": "missing_accounts"}) == 1
    assert _planned(postgres_book, password_env="DRAWDOWN_TEST_UNSET_PASSWORD") == 1


def test_a_sharded_run_from_duckdb_on_the_command_line_writes_the_whole_books_artifacts(
    rejecting_book: Path, tmp_path: Path
) -> None:
    pytest.importorskip("duckdb")
    from typer.testing import CliRunner

    from drawdown.cli import app
    from drawdown.inputs.warehouse import write_duckdb_book

    write_duckdb_book(tmp_path / "book.duckdb", rejecting_book, events_per_day=2)
    runs = tmp_path / "runs"
    for shards in (1, 2):
        ran = CliRunner().invoke(
            app,
            [
                "run",
                "--data",
                f"duckdb://{tmp_path / 'book.duckdb'}",
                "--out",
                str(runs / f"n{shards}"),
                "--format",
                "none",
                "--shards",
                f"{shards}",
            ],
        )
        assert ran.exit_code == 0, ran.output
    assert "shards" in (runs / "n2" / "run.log").read_text()
    assert (runs / "n2" / "artifacts" / "rejects" / "usage.csv").is_file()
    assert _same_files(runs / "n1" / "artifacts", runs / "n2" / "artifacts") == []
    assert _same_files(runs / "n1" / "exports", runs / "n2" / "exports") == []


def test_an_unreachable_database_is_asked_once_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Counting the accounts (to plan the shards) is the run's first contact with the database:
    # when it cannot connect, the run stops there with the driver's reason instead of planning
    # one shard and connecting again to validate (a second wait for an unreachable host).
    import adbc_driver_postgresql.dbapi

    from drawdown.run.pipeline import RunRequest, run
    from inputs.test_database import _closed_port_uri

    attempts: list[str] = []
    connect = adbc_driver_postgresql.dbapi.connect

    def counted(uri: str, **options: object) -> object:
        attempts.append(uri)
        return connect(uri, **options)

    monkeypatch.setattr(adbc_driver_postgresql.dbapi, "connect", counted)
    params = load_params(None).with_overrides({"source": {"uri": _closed_port_uri()}})
    with pytest.raises(InputError, match=r"^cannot connect to database .*: Connection refused$"):
        run(params, RunRequest(out=tmp_path / "runs" / "r"))
    assert len(attempts) == 1
    assert not (tmp_path / "runs" / "r").exists()
