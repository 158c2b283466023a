"""The sample book: deterministic by seed, on contract, and rich enough to exercise every metric."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from drawdown.errors import FolderRefused
from drawdown.inputs import sample
from drawdown.inputs.contract import ACTIVITY_TYPES, COLUMNS, Book
from drawdown.inputs.rating import covers, rate_usage
from drawdown.inputs.sample import AS_OF, SAMPLE_RECORD, sample_tables, write_sample
from drawdown.inputs.validate import load_book
from drawdown.metrics import compute_artifacts
from drawdown.metrics.reset import reset_tracker
from drawdown.params import load_params

SMALL = {"accounts": 40, "days": 90}
"""A book small enough for byte-level tests: 40 accounts, 90 days of usage."""

SAMPLE_PARAMS = {"reset": {"start_date": "2026-10-05"}}
"""The reset the sample is built for (params/sample.yaml)."""


def _tables(folder: Path) -> list[Path]:
    """The table files (not the sample's own record of what it wrote)."""
    return [path for path in folder.iterdir() if path.name != SAMPLE_RECORD]


def _digests(folder: Path) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in _tables(folder)}


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path) if path.suffix == ".csv" else pl.read_parquet(path)


@pytest.fixture(scope="module")
def small_book() -> dict[str, pl.DataFrame]:
    return sample_tables(**SMALL)


@pytest.fixture(scope="module")
def default_book() -> Book:
    return Book.from_frames(**sample_tables())


@pytest.fixture(scope="module")
def default_artifacts(default_book: Book) -> dict[str, pl.DataFrame]:
    params = load_params(overrides=SAMPLE_PARAMS)
    artifacts = compute_artifacts(default_book, params)
    artifacts["reset_tracker"] = reset_tracker(
        default_book,
        rate_usage(default_book),
        artifacts["account_health"].lazy(),
        artifacts["overage_cases"].lazy(),
        params,
        AS_OF,
    ).collect()
    return artifacts


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_same_seed_writes_identical_files(tmp_path: Path, file_format: str) -> None:
    first = write_sample(tmp_path / "a", seed=3, file_format=file_format, **SMALL)
    second = write_sample(tmp_path / "b", seed=3, file_format=file_format, **SMALL)
    assert _digests(first) == _digests(second)


def test_different_seeds_write_different_usage(tmp_path: Path) -> None:
    first = write_sample(tmp_path / "a", seed=3, **SMALL)
    second = write_sample(tmp_path / "b", seed=4, **SMALL)
    assert _digests(first)["usage.csv"] != _digests(second)["usage.csv"]


@pytest.mark.parametrize("file_format", ["csv", "parquet"])
def test_every_table_is_written_with_the_contract_columns(tmp_path: Path, file_format: str) -> None:
    folder = write_sample(tmp_path, file_format=file_format, **SMALL)
    written = {path.stem: _read(path).columns for path in _tables(folder)}
    assert written == {table: list(columns) for table, columns in COLUMNS.items()}


def test_small_books_are_csv(tmp_path: Path) -> None:
    folder = write_sample(tmp_path, **SMALL)
    assert sorted(path.suffix for path in _tables(folder)) == [".csv"] * len(COLUMNS)


def test_books_above_the_threshold_are_parquet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample, "PARQUET_ABOVE", 39)  # 40 accounts > 39
    folder = write_sample(tmp_path, **SMALL)
    assert sorted(path.suffix for path in _tables(folder)) == [".parquet"] * len(COLUMNS)


def test_a_rewrite_in_the_other_format_leaves_one_file_per_table(tmp_path: Path) -> None:
    write_sample(tmp_path, file_format="csv", **SMALL)
    write_sample(tmp_path, file_format="parquet", **SMALL)
    assert sorted(path.name for path in _tables(tmp_path)) == sorted(
        f"{table}.parquet" for table in COLUMNS
    )


def test_latest_usage_date_is_the_as_of_date(small_book: dict[str, pl.DataFrame]) -> None:
    assert small_book["usage"]["usage_date"].max() == date(2026, 11, 15)


def test_usage_history_covers_the_requested_days(small_book: dict[str, pl.DataFrame]) -> None:
    # 90 days ending 2026-11-15 start on 2026-08-18
    assert small_book["usage"]["usage_date"].min() == AS_OF - timedelta(days=89)


def test_usage_is_for_known_accounts_only(small_book: dict[str, pl.DataFrame]) -> None:
    unknown = small_book["usage"].join(small_book["accounts"], on="account_id", how="anti")
    assert unknown.height == 0


def test_usage_has_one_row_per_account_meter_day(small_book: dict[str, pl.DataFrame]) -> None:
    usage = small_book["usage"]
    assert usage.select("account_id", "meter", "usage_date").is_unique().all()


def test_contracts_of_one_account_never_overlap(small_book: dict[str, pl.DataFrame]) -> None:
    contracts = small_book["contracts"]
    pairs = contracts.join(contracts, on="account_id", suffix="_other").filter(
        pl.col("contract_id") != pl.col("contract_id_other"),
        covers("start_date", "start_date_other", "end_date_other"),
    )
    assert pairs.height == 0


def test_a_renewal_starts_the_day_after_its_predecessor_ends(
    small_book: dict[str, pl.DataFrame],
) -> None:
    contracts = small_book["contracts"]
    renewals = contracts.join(
        contracts, left_on="renewal_of", right_on="contract_id", suffix="_prior"
    )
    assert renewals.height > 0
    assert (renewals["start_date"] == renewals["end_date_prior"] + timedelta(days=1)).all()


def test_every_contract_is_in_usd(small_book: dict[str, pl.DataFrame]) -> None:
    assert small_book["contracts"]["currency"].unique().to_list() == ["USD"]


def test_every_rate_card_row_belongs_to_a_contract(small_book: dict[str, pl.DataFrame]) -> None:
    orphans = small_book["rate_card"].join(small_book["contracts"], on="contract_id", how="anti")
    assert orphans.height == 0


def test_the_written_sample_passes_validation_without_rejects(tmp_path: Path) -> None:
    folder = write_sample(tmp_path, **SMALL)
    validated = load_book(folder, load_params())
    assert validated.rejects == {}


def test_the_default_book_has_every_activity_type(default_book: Book) -> None:
    types = default_book.activities.select("activity_type").unique().collect()["activity_type"]
    assert sorted(types) == sorted(ACTIVITY_TYPES)


@pytest.mark.parametrize(
    ("artifact", "column", "expected"),
    [
        ("account_health", "band", {"paygo", "not_live", "under", "healthy", "over"}),
        ("account_health", "burn", {"too_slow", "on_pace", "too_fast"}),
        (
            "account_health",
            "adoption_stage",
            {"not_live", "first_billable", "one_workflow", "multi_workflow", "steady_draw"},
        ),
        ("overage_cases", "pattern", {"sustained", "emerging", "spike"}),
        ("overage_cases", "triage", {"conversation", "wait", "unassigned", "watch", "monitor"}),
        ("reset_tracker", "status", {"done", "late", "on_track", "not_started", "pending"}),
    ],
)
def test_the_default_book_reaches_every_value(
    default_artifacts: dict[str, pl.DataFrame], artifact: str, column: str, expected: set[str]
) -> None:
    assert set(default_artifacts[artifact][column].drop_nulls()) == expected


def test_the_default_book_raises_every_early_warning(
    default_artifacts: dict[str, pl.DataFrame],
) -> None:
    warnings = default_artifacts["account_health"]["early_warnings"].explode().drop_nulls()
    assert set(warnings) == {"usage_drop", "zero_streak", "renewal_risk", "breakage_risk"}


def test_the_default_book_has_retention_history(
    default_artifacts: dict[str, pl.DataFrame],
) -> None:
    book = default_artifacts["segment_summary"].filter(pl.col("segment") == "All")
    assert 0 < book["grr"].item() < 1 < book["nrr"].item()


@pytest.mark.parametrize("accounts", [1, 5])
def test_a_tiny_book_still_ends_on_the_as_of_date(accounts: int) -> None:
    # the first archetypes allocated are established accounts drawing every day
    tables = sample_tables(accounts=accounts, days=60)
    assert tables["usage"]["usage_date"].max() == AS_OF
    assert {table: dict(frame.schema) for table, frame in tables.items()} == COLUMNS


def test_a_sample_never_replaces_a_table_file_of_the_users(tmp_path: Path) -> None:
    (tmp_path / "accounts.csv").write_text("my real accounts")
    with pytest.raises(
        FolderRefused, match=r"accounts.csv is not a file an earlier drawdown sample"
    ):
        write_sample(tmp_path, **SMALL)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["accounts.csv"]
    assert (tmp_path / "accounts.csv").read_text() == "my real accounts"


def test_a_sample_never_removes_a_file_of_the_users_in_the_other_format(tmp_path: Path) -> None:
    write_sample(tmp_path, file_format="csv", **SMALL)
    (tmp_path / "usage.parquet").write_bytes(b"the user's")
    with pytest.raises(FolderRefused, match=r"usage.parquet"):
        write_sample(tmp_path, file_format="csv", **SMALL)
    assert (tmp_path / "usage.parquet").read_bytes() == b"the user's"


def test_a_sample_table_edited_since_is_not_replaced(tmp_path: Path) -> None:
    write_sample(tmp_path, **SMALL)
    (tmp_path / "budgets.csv").write_text("edited by hand")
    with pytest.raises(FolderRefused, match=r"budgets.csv"):
        write_sample(tmp_path, **SMALL)


def test_other_files_beside_a_sample_are_left_alone(tmp_path: Path) -> None:
    (tmp_path / "README.txt").write_text("mine")
    write_sample(tmp_path, **SMALL)
    write_sample(tmp_path, seed=9, **SMALL)
    assert (tmp_path / "README.txt").read_text() == "mine"
