"""Sharded runs (docs/scale.md): byte-identical to the whole book, errors and data quality merged."""

from __future__ import annotations

import filecmp
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from drawdown import artifacts
from drawdown.api import compute_all
from drawdown.artifacts import conform, write_partitioned
from drawdown.errors import InputError
from drawdown.inputs.sample import write_sample
from drawdown.params import Params, load_params
from drawdown.run import steps
from drawdown.run.shards import (
    SERIES_ORDER,
    compute_parts,
    compute_sharded,
    default_shards,
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
