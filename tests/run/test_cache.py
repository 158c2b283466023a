"""cache.py: the key changes with the inputs, the metric parameters and the code, not with
report-only parameters; entries are complete or absent."""

from __future__ import annotations

import json
import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from drawdown.errors import FolderRefused, InputError
from drawdown.params import Params, load_params
from drawdown.resources import REPORTS_DIR
from drawdown.run import cache
from drawdown.run.kernels import Step
from drawdown.run.manifest import file_hashes, input_files


@pytest.fixture
def book(tmp_path: Path) -> Path:
    folder = tmp_path / "book"
    folder.mkdir()
    (folder / "usage.csv").write_text("account_id,meter,usage_date,quantity\na,m,2026-01-01,1\n")
    return folder


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    path = tmp_path / "usage_health.ipynb"
    path.write_text("{}")
    return path


def _key(book: Path, notebook: Path, **overrides: object) -> str | None:
    return cache.cache_key(load_params(overrides={"source": str(book), **overrides}), [notebook])


def test_report_only_parameters_keep_the_key(book: Path, notebook: Path) -> None:
    plain = _key(book, notebook)
    assert plain == _key(book, notebook, report={"brand": {"vendor_name": "Other"}})
    assert plain == _key(book, notebook, report={"formats": ["html"]}, scope={"segment": "smb"})


@pytest.mark.parametrize(
    "overrides",
    [
        {"bands": {"band_low": 0.8}},
        {"as_of": "2026-01-01"},
        {"report": {"top_accounts": 5}},  # the reset comparison reads it
    ],
)
def test_metric_parameters_change_the_key(
    book: Path, notebook: Path, overrides: dict[str, object]
) -> None:
    assert _key(book, notebook) != _key(book, notebook, **overrides)


def test_input_content_changes_the_key(book: Path, notebook: Path) -> None:
    before = _key(book, notebook)
    (book / "usage.csv").write_text("account_id,meter,usage_date,quantity\na,m,2026-01-01,2\n")
    assert _key(book, notebook) != before


def test_compute_notebook_changes_the_key(book: Path, notebook: Path) -> None:
    before = _key(book, notebook)
    notebook.write_text('{"cells": []}')
    assert _key(book, notebook) != before


def test_a_database_source_is_not_cached(notebook: Path) -> None:
    params = load_params(overrides={"source": "postgresql://u@h/db"})
    assert cache.cache_key(params, [notebook]) is None
    assert cache.lookup(Path("/nonexistent"), None) is None


def test_store_then_lookup_and_restore(tmp_path: Path) -> None:
    stage = tmp_path / "runs" / ".first.staging"
    for name in ("work/book/usage.parquet", "artifacts/a.parquet", "notebooks/n.ipynb"):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(name)
    (stage / "notebooks" / "reports").mkdir()
    (stage / "notebooks" / "reports" / "r.ipynb").write_text("report")
    runs = tmp_path / "runs"
    cache.store(runs, "k1", stage, date(2026, 11, 15), runs / "first")

    entry = cache.lookup(runs, "k1")
    assert entry is not None and entry.as_of == date(2026, 11, 15)
    target = tmp_path / "next"
    cache.restore(entry, target)
    assert (target / "artifacts" / "a.parquet").read_text() == "artifacts/a.parquet"
    assert (target / "notebooks" / "n.ipynb").is_file()
    assert not (target / "notebooks" / "reports").exists()


def test_an_incomplete_entry_is_a_miss(tmp_path: Path) -> None:
    folder = tmp_path / cache.CACHE_FOLDER / "k1"
    folder.mkdir(parents=True)
    assert cache.lookup(tmp_path, "k1") is None
    (folder / "entry.json").write_text(json.dumps({"as_of": "2026-11-15"}))
    assert cache.lookup(tmp_path, "k1") is None


def test_only_the_most_recent_entries_are_kept(tmp_path: Path) -> None:
    stage = tmp_path / "stage"
    for name in cache.CACHED:
        (stage / name).mkdir(parents=True)
    for n in range(cache.KEEP + 2):
        cache.store(tmp_path, f"k{n}", stage, date(2026, 1, 1), tmp_path / "run")
    kept = sorted(path.name for path in (tmp_path / cache.CACHE_FOLDER).iterdir() if path.is_dir())
    assert len(kept) == cache.KEEP and f"k{cache.KEEP + 1}" in kept


def _step(tmp_path: Path, run_dir: str = "/runs/a", **parameters: object) -> Step:
    return Step(
        "account_review:A1",
        REPORTS_DIR / "account_review.ipynb",
        tmp_path / "out.ipynb",
        {"run_dir": run_dir, "params": {"report": {"brand": "x"}}, **parameters},
    )


def test_report_key_ignores_the_run_folder_but_not_parameters_formats_or_renderer(
    tmp_path: Path,
) -> None:
    reports = cache.ReportCache.of(tmp_path, "k1")
    key = reports.notebook_key(_step(tmp_path, account_id="A1"))
    assert key == reports.notebook_key(_step(tmp_path, "/runs/b", account_id="A1"))
    assert key != reports.notebook_key(_step(tmp_path, account_id="A2"))
    look = {"vendor_name": "drawdown"}
    html = reports.rendered_key(key, "html", "nbconvert", look)
    assert html != reports.rendered_key(key, "pdf", "nbconvert", look)
    assert html != reports.rendered_key(key, "html", "quarto", look)
    assert html != reports.rendered_key(key, "html", "nbconvert", {"vendor_name": "Other"})
    assert html == reports.rendered_key(key, "html", "nbconvert", dict(look))


def test_report_key_follows_the_runs_changes(tmp_path: Path) -> None:
    def key_with(stage_name: str, changes: bytes) -> str | None:
        stage = tmp_path / stage_name
        (stage / "artifacts").mkdir(parents=True)
        (stage / "artifacts" / "changes.parquet").write_bytes(changes)
        reports = cache.ReportCache.of(tmp_path, "k1", stage)
        return reports.notebook_key(_step(tmp_path, account_id="A1"))

    # the same metrics compared with another previous run: another clinic, another key
    first = key_with("a", b"against week 1")
    assert first == key_with("b", b"against week 1")
    assert first != key_with("c", b"against week 2")


def test_the_previous_run_is_not_a_metric_parameter() -> None:
    base = Params()
    assert cache.metric_params(base) == cache.metric_params(
        base.with_overrides({"compare_to": "/runs/2026-11-08"})
    )
    assert cache.metric_params(base) == cache.metric_params(
        base.with_overrides({"report": {"min_group": 9}})
    )


def test_no_report_is_cached_without_a_metric_entry(tmp_path: Path) -> None:
    reports = cache.ReportCache.of(tmp_path, None)
    assert reports.notebook_key(_step(tmp_path)) is None
    assert reports.rendered_key(None, "html", "nbconvert", {}) is None
    assert reports.lookup(None, ["html"]) is None


def test_a_stored_report_is_found_with_every_format_it_was_stored_with(tmp_path: Path) -> None:
    notebook, html = tmp_path / "r.ipynb", tmp_path / "r.html"
    notebook.write_text("{}")
    html.write_text("<p>r</p>")
    reports = cache.ReportCache.of(tmp_path / "runs", "k1")
    reports.store("r1", {"notebook": notebook, "html": html})
    found = reports.lookup("r1", ["notebook", "html"])
    assert found is not None and found["html"].read_text() == "<p>r</p>"
    assert found["notebook"].read_text() == "{}"
    assert reports.lookup("r1", ["html", "pdf"]) is None
    assert reports.lookup("r2", ["html"]) is None


def test_a_prune_keeps_the_most_recently_stored_or_used_reports(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cache, "KEEP_REPORTS", 2)
    html = tmp_path / "r.html"
    html.write_text("<p>r</p>")
    reports = cache.ReportCache.of(tmp_path / "runs", "k1")
    assert reports.folder is not None
    for n in range(4):
        reports.store(f"r{n}", {"html": html})
        os.utime(reports.folder / f"r{n}", (1_000 + n, 1_000 + n))
    assert len(list(reports.folder.iterdir())) == 4  # a store prunes nothing: the run prunes once
    assert reports.lookup("r0", ["html"]) is not None  # a use: r0 is now the most recent
    reports.prune()
    assert sorted(path.name for path in reports.folder.iterdir()) == ["r0", "r3"]


# --- an honest cache (docs/reliability.md#guarantees) ---


def _stored(tmp_path: Path) -> tuple[Path, Path]:
    """A runs folder with one metric entry ``k1`` stored from a staging folder; (runs, stage)."""
    runs = tmp_path / "runs"
    stage = runs / ".r.staging-1"
    for name in ("work/book/usage.parquet", "artifacts/a.parquet", "notebooks/n.ipynb"):
        (stage / name).parent.mkdir(parents=True, exist_ok=True)
        (stage / name).write_text(name)
    assert cache.store(runs, "k1", stage, date(2026, 11, 15), runs / "r")
    return runs, stage


def test_cached_files_are_copies_never_links(tmp_path: Path) -> None:
    runs, stage = _stored(tmp_path)
    stored = runs / cache.CACHE_FOLDER / "k1" / "artifacts" / "a.parquet"
    assert stored.stat().st_nlink == 1
    assert stored.stat().st_ino != (stage / "artifacts" / "a.parquet").stat().st_ino
    entry = cache.lookup(runs, "k1")
    assert entry is not None
    cache.restore(entry, tmp_path / "next")
    restored = tmp_path / "next" / "artifacts" / "a.parquet"
    restored.write_text("edited in the published run")
    assert stored.read_text() == "artifacts/a.parquet"


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (
            lambda entry: (entry / "artifacts" / "a.parquet").write_text("edited"),
            "a.parquet does not match its checksum",
        ),
        (
            lambda entry: (entry / "work" / "book" / "usage.parquet").unlink(),
            "usage.parquet is missing",
        ),
        (
            lambda entry: (entry / "artifacts" / "x.parquet").write_text("planted"),
            "x.parquet was added",
        ),
    ],
    ids=["edited", "missing", "added"],
)
def test_a_damaged_entry_is_discarded_with_a_warning(tmp_path: Path, damage, problem) -> None:
    runs, _ = _stored(tmp_path)
    entry = runs / cache.CACHE_FOLDER / "k1"
    damage(entry)
    warnings: list[str] = []
    assert cache.lookup(runs, "k1", warn=warnings.append) is None
    assert not entry.exists()
    assert len(warnings) == 1 and problem in warnings[0] and "discarded" in warnings[0]


def test_an_entry_without_checksums_is_a_miss(tmp_path: Path) -> None:
    runs, _ = _stored(tmp_path)
    entry = runs / cache.CACHE_FOLDER / "k1" / "entry.json"
    entry.write_text(json.dumps({"as_of": "2026-11-15", "run": "r"}))
    assert cache.lookup(runs, "k1") is None


def test_a_damaged_report_is_a_miss_and_discarded(tmp_path: Path) -> None:
    notebook, html = tmp_path / "r.ipynb", tmp_path / "r.html"
    notebook.write_text("{}")
    html.write_text("<p>r</p>")
    reports = cache.ReportCache.of(tmp_path / "runs", "k1")
    reports.store("r1", {"notebook": notebook, "html": html})
    found = reports.lookup("r1", ["html"])
    assert found is not None and found["html"].stat().st_ino != html.stat().st_ino
    found["html"].write_text("<script>edited</script>")
    assert reports.lookup("r1", ["html"]) is None
    assert not found["html"].exists()


def test_a_discarded_entry_no_longer_names_its_run(tmp_path: Path) -> None:
    runs, _ = _stored(tmp_path)
    cache.discard(runs, "k1")
    assert cache.lookup(runs, "k1") is None


def test_a_cache_folder_that_is_not_drawdowns_is_refused_and_left_alone(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    foreign = runs / cache.CACHE_FOLDER
    (foreign / "k1").mkdir(parents=True)
    (foreign / "k1" / "mine.txt").write_text("x")
    with pytest.raises(FolderRefused, match="not drawdown's cache"):
        cache.check_folder(runs)
    stage = tmp_path / "stage"
    for name in cache.CACHED:
        (stage / name).mkdir(parents=True)
    assert not cache.store(runs, "k2", stage, date(2026, 1, 1), runs / "r")
    assert sorted(p.name for p in foreign.rglob("*")) == ["k1", "mine.txt"]


def test_only_the_table_files_are_inputs(book: Path, notebook: Path) -> None:
    before = _key(book, notebook)
    (book / "README.txt").write_text("notes beside the data")
    assert _key(book, notebook) == before
    assert set(file_hashes(str(book))) == {"usage.csv"}


def test_input_files_changed_after_hashing_stop_the_run(book: Path) -> None:
    inputs = input_files(str(book))
    inputs.check_unchanged()
    (book / "usage.csv").write_text("account_id,meter,usage_date,quantity\na,m,2026-01-01,22\n")
    with pytest.raises(InputError, match=r"usage.csv .* changed while drawdown read it"):
        inputs.check_unchanged()


@pytest.fixture
def package_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the drawdown package's sources that the cache keys hash instead of the real
    one, so a test can edit "the code"."""
    copy = tmp_path / "drawdown"
    shutil.copytree(cache.PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "PACKAGE_DIR", copy)
    cache.package_sources.cache_clear()
    yield copy
    cache.package_sources.cache_clear()


def _edit(path: Path) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    cache.package_sources.cache_clear()


@pytest.mark.parametrize("module", ["reports/charts.py", "reports/tables.py", "params.py"])
def test_the_report_key_changes_with_the_code_the_reports_run(
    tmp_path: Path, package_copy: Path, module: str
) -> None:
    def key() -> str | None:
        reports = cache.ReportCache.of(tmp_path, "k1")  # a fresh cache: nothing memoised
        return reports.notebook_key(_step(tmp_path, account_id="A1"))

    before = key()
    _edit(package_copy / module)
    assert key() != before


def test_report_code_keeps_the_metric_key_and_metric_code_changes_it(
    book: Path, notebook: Path, package_copy: Path
) -> None:
    before = _key(book, notebook)
    _edit(package_copy / "reports" / "charts.py")
    assert _key(book, notebook) == before  # a chart builder does not shape the artifacts
    _edit(package_copy / "reports" / "inert.py")  # the snapshot's rejects are written with it
    changed = _key(book, notebook)
    assert changed != before
    _edit(package_copy / "metrics" / "__init__.py")
    assert _key(book, notebook) != changed
