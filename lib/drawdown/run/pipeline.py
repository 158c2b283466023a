"""``drawdown run``: validate, execute the notebooks, export, render, publish (docs/outputs.md).

Order: validate the source (structural errors stop here, exit 2) → write the validated snapshot
into a staging folder → execute the compute notebooks (independent ones concurrently) → the
changes since the previous run → exports → report notebooks → render → manifest → publish the
folder and point ``latest`` at it. Any failure
keeps the staging folder as ``<run>.failed`` and leaves the previous run and ``latest`` untouched.

All notebooks of a run execute on one pool of warm kernels (``execute.KernelPool``); each report
is rendered (``render.ReportRenderer``) as soon as its notebook has run. When the
inputs, the metric parameters and the code are those of a cached run (``drawdown.run.cache``), the
validation and the compute notebooks are skipped: their snapshot, artifacts and executed notebooks
are reused, and only the changes, exports, reports and rendering run; a report whose own parameters
and changes are those of a cached one is reused too (its executed notebook and rendered files).
The changes are never cached: they depend on the run ``latest`` pointed at before this one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from drawdown.errors import DrawdownError, InputError, StepFailed, Terminated
from drawdown.notebook_files import read_notebook, write_notebook
from drawdown.params import Params, quote
from drawdown.reports import brand
from drawdown.reports.narrative import logo_image
from drawdown.reports.render import ReportRenderer, renderer_name
from drawdown.resources import COMPUTE_NOTEBOOKS, REPORTS_DIR
from drawdown.run import cache, shards, steps
from drawdown.run.folders import check_run_dir, keep_failed, publish, run_lock, staging_dir
from drawdown.run.kernels import KernelPool, Step, execute_all
from drawdown.run.manifest import build_manifest, input_files
from drawdown.run.progress import ACCOUNT_REPORTS, RunProgress

log = logging.getLogger("drawdown")
T = TypeVar("T")


@dataclass(frozen=True)
class RunRequest:
    """What the user asked ``drawdown run`` for, beyond the parameters."""

    out: Path | None = None
    accounts: tuple[str, ...] = ()
    top: int | None = None
    formats: tuple[str, ...] | None = None


@dataclass(frozen=True)
class RunResult:
    """A published run: its folder and the reports it rendered."""

    run_dir: Path
    reports: tuple[Path, ...]


def run(params: Params, request: RunRequest = RunRequest()) -> RunResult:
    """The whole pipeline for one parameter set; returns the published run folder."""
    started = _now()
    if request.out is not None:
        check_run_dir(request.out, params.source.uri)
    if params.report.brand.logo:
        logo_image(params.report.brand.logo)
    runs = (request.out.parent if request.out else Path("runs")).resolve()
    cache.check_folder(runs)
    inputs = input_files(params.source.uri)
    notebooks = [step.template for step in compute_steps(runs, params)]
    key = cache.cache_key(params, notebooks, inputs.hashes)
    notes: list[str] = []
    cached = cache.lookup(runs, key, warn=notes.append)
    work = runs / f".shards-{os.getpid()}"
    sharded = None if cached else _validate_sharded(params, work)
    validated = None if cached or sharded else steps.validate_source(params)
    if validated is not None or sharded is not None:
        inputs.check_unchanged()
    if cached or sharded:
        as_of = cached.as_of if cached else sharded.params.as_of
    else:
        as_of = steps.resolve_as_of(validated.book, params)
        steps.check_as_of(validated.book, as_of)
    if params.scope.segment is not None:
        steps.check_scope(_segments(cached, validated, sharded), params)
    params = params.with_overrides({"as_of": as_of.isoformat()})
    previous = steps.previous_run(runs, params, as_of)
    run_dir = (request.out or Path("runs") / params.as_of.isoformat()).resolve()
    check_run_dir(run_dir, params.source.uri)
    with secrets_withheld(params), run_lock(run_dir):
        stage = staging_dir(run_dir)
        logger = _attach_log(stage / "run.log")
        for note in notes:
            log.warning(note)
        progress = RunProgress()
        stored = False
        try:
            with progress, KernelPool(stage, eager=cached is None) as pool:
                if cached:
                    _reuse(cached, stage, progress)
                elif sharded:
                    with progress.step("shards"):
                        combined = _compute_parts(sharded, params)
                        shards.write_run(sharded, combined, stage)
                    stored = cache.store(runs, key, stage, params.as_of, run_dir)
                else:
                    with progress.step("validate"):
                        steps.write_snapshot(validated, stage)
                    validated = None  # the notebooks read the snapshot; the book is GBs at L
                    _compute(stage, params, pool, progress)
                    stored = cache.store(runs, key, stage, params.as_of, run_dir)
                with progress.step("changes"):
                    steps.changes_step(stage, previous)
                reports = cache.ReportCache.of(runs, key, stage)
                result = _report(
                    stage,
                    run_dir,
                    params,
                    request,
                    pool,
                    progress,
                    started,
                    reports,
                    previous,
                    inputs.hashes,
                )
        except BaseException as exc:
            with _signals_held():
                failure = _failure(exc, stage / "run.log")
                if stored:
                    cache.discard(runs, key)
                try:
                    failed = keep_failed(stage, run_dir)
                except OSError:
                    failed = stage
                failure = _relocated(failure, stage, failed)
                _record_failure(failed, params, started, progress.timings, failure, inputs.hashes)
                logger.close()
                log.removeHandler(logger)
            if isinstance(exc, KeyboardInterrupt):
                raise
            raise failure from None
        finally:
            shutil.rmtree(work, ignore_errors=True)
        logger.close()
        log.removeHandler(logger)
        publish(stage, run_dir)
    return RunResult(run_dir, tuple(run_dir / path.relative_to(stage) for path in result))


def _segments(
    cached: cache.Entry | None,
    validated: steps.ValidatedBook | None,
    sharded: shards.ShardedBook | None,
) -> list[str]:
    """The book's segments: from the validated book, the routed accounts of a sharded book, or
    the cached entry (its snapshot, or its account_health when a sharded run stored it)."""
    if validated is not None:
        return steps.book_segments(validated.book)
    if sharded is not None:
        accounts = sharded.routed.folder / "raw" / "accounts" / "*" / "*.parquet"
    else:
        assert cached is not None
        accounts = cached.folder / steps.BOOK_FOLDER / "accounts.parquet"
        if not accounts.exists():
            accounts = cached.folder / steps.ARTIFACTS / "account_health.parquet"
    frame = pl.scan_parquet(accounts).select(pl.col("segment").cast(pl.String).unique())
    return sorted(segment for segment in frame.collect()["segment"] if segment is not None)


def _validate_sharded(params: Params, work: Path) -> shards.ShardedBook | None:
    """The book routed into shards and validated shard by shard (``drawdown.run.shards``) when
    ``engine`` asks for more than one shard or for Spark; None for the whole-book path."""
    count = shards.planned_shards(params)
    if count == 1 and params.engine.kind == "local":
        return None
    try:
        if params.engine.kind == "spark":
            from drawdown.engines.spark import validate_spark

            return validate_spark(
                params.source.uri, params, count, work, params.engine.spark_master
            )
        return shards.validate_sharded(params.source.uri, params, count, work)
    except Exception:
        shutil.rmtree(work, ignore_errors=True)
        raise


def _compute_parts(sharded: shards.ShardedBook, params: Params) -> shards.Combined:
    """The shards' parts on the engine of ``params.engine``, combined."""
    if params.engine.kind == "spark":
        from drawdown.engines.spark import compute_parts_spark

        return compute_parts_spark(sharded, params.engine.spark_master)
    return shards.compute_parts(sharded)


def _reuse(cached: cache.Entry, stage: Path, progress: RunProgress) -> None:
    """The snapshot, artifacts and compute notebooks of the cached run, into the stage."""
    with progress.step("cache"):
        cache.restore(cached, stage)
    log.info("metrics reused from the cache (%s, computed by %s)", cached.folder, cached.run)


def _compute(stage: Path, params: Params, pool: KernelPool, progress: RunProgress) -> None:
    """The compute notebooks, on the snapshot in ``stage``."""
    compute = compute_steps(stage, params)
    progress.expect(step.name for step in compute)
    execute_all(compute, pool, on_done=progress.done)


def _report(
    stage: Path,
    run_dir: Path,
    params: Params,
    request: RunRequest,
    pool: KernelPool,
    progress: RunProgress,
    started: str,
    reports_cache: cache.ReportCache,
    previous: steps.PreviousRun,
    inputs: dict[str, str],
) -> list[Path]:
    """Exports, report notebooks, rendering and the manifest; returns the rendered reports.

    The exports are written first, in a process of their own (``_in_own_process``), while the
    CSM books are written and the report notebooks execute (in the kernels) and render: the
    workbook is about a second of CPU at 5,000 accounts and 6 at 50,000, which no report waits
    for."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="exports") as background:
        exported = background.submit(_timed_exports, stage, params, reports_cache, progress)
        reports = _reports(stage, params, request, pool, progress, reports_cache)
        exported.result()  # a failed run waits for the exports too, on leaving the block
    reports_cache.prune()
    outputs = _outputs(stage, reports)
    _write_manifest(
        stage, params, "succeeded", started, progress.timings, outputs, inputs, previous
    )
    log.info("run published to %s", run_dir)
    return reports


def _timed_exports(
    stage: Path, params: Params, reports_cache: cache.ReportCache, progress: RunProgress
) -> None:
    with progress.step("exports"):
        _exports(stage, params, reports_cache)


def _reports(
    stage: Path,
    params: Params,
    request: RunRequest,
    pool: KernelPool,
    progress: RunProgress,
    reports_cache: cache.ReportCache,
) -> list[Path]:
    """The report notebooks and their rendering, and the CSM books; returns the rendered
    reports. Reports whose executed notebooks are cached start rendering first, so that a
    report-parameter change (the brand) renders them while the CSM books are written; the
    books are written before any report notebook executes (the executive review reads their
    count)."""
    formats = tuple(params.report.formats if request.formats is None else request.formats)
    reports: list[Path] = []
    if formats:
        accounts = select_accounts(
            stage,
            request.accounts or tuple(params.report.accounts),
            _top(request, params),
            params.scope.segment,
        )
        report = report_steps(stage, params, accounts)
        progress.expect(
            (step.name for step in report), accounts=len(accounts) * len(ACCOUNT_REPORTS)
        )
        with ReportRenderer(stage / "reports", formats) as renderer:
            cached = _Reports(report, reports_cache, renderer, params)
            fresh = [step for step in report if not cached.reuse(step, progress)]
            if fresh:
                pool.start()  # the kernels warm up while the CSM books are written
            with progress.step("csm_books"):
                books = steps.csm_books_step(stage, params)

            def done(step: Step, seconds: float) -> None:
                progress.done(step, seconds)
                cached.executed(step)

            execute_all([cached.neutral[step.name] for step in fresh], pool, on_done=done)
            with progress.step("render"):
                reports = steps.render(renderer, [step.output for step in report])
            cached.store_rendered(report, stage / "reports")
        reports += books
    else:
        steps.measure_csm_books(stage, [], params.as_of)  # no reports: no CSM book written
    return reports


def _exports(stage: Path, params: Params, reports_cache: cache.ReportCache) -> None:
    """The exports, from the cache when its metrics, scope and changes are those of a run that
    wrote them (a report-parameter change does not write them again)."""
    key = reports_cache.exports_key(params.scope.segment)
    found = reports_cache.lookup(key, steps.EXPORTS)
    folder = stage / "exports"
    if found is not None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, path in found.items():
            shutil.copyfile(path, folder / name)
        log.info("exports reused from the cache")
        return
    written = _in_own_process(steps.export, stage, params)
    if sorted(path.name for path in written) == sorted(steps.EXPORTS):
        reports_cache.store(key, {path.name: path for path in written})


def _in_own_process(work: Callable[..., T], *args: Any) -> T:
    """``work(*args)`` in a fresh interpreter; its exception, if any, is raised here. The exports'
    workbook is about 6 CPU s at 50,000 accounts (its rows by Polars, ``reports.sheet_rows``,
    the rest XlsxWriter's and zlib's); on a thread of this process its Python would hold the
    interpreter lock that the kernels' clients and the HTML renderer wait for. Spawned, not
    forked: Polars' threads do not survive a fork."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(work, *args).result()


class _Reports:
    """The report cache of one run's reports (``cache.ReportCache``): each report notebook
    executes with the neutral brand (``reports.brand``), its executed notebook is kept as such,
    and the run's brand is applied before it is published and rendered; rendered files are kept
    per format with the brand."""

    def __init__(
        self,
        report: Sequence[Step],
        reports_cache: cache.ReportCache,
        renderer: ReportRenderer,
        params: Params,
    ) -> None:
        self.cache, self.renderer = reports_cache, renderer
        self.neutral = {
            step.name: dataclasses.replace(step, parameters=brand.unbranded(step.parameters))
            for step in report
        }
        self.steps = {step.name: step for step in report}
        self.notebook_keys = {
            name: reports_cache.notebook_key(step) for name, step in self.neutral.items()
        }
        look = params.report.brand.model_dump(mode="json")
        self.rendered_keys = {
            name: {
                fmt: reports_cache.rendered_key(key, fmt, renderer_name(), look)
                for fmt in renderer.formats
            }
            for name, key in self.notebook_keys.items()
        }
        self.reused: set[str] = set()

    def reuse(self, step: Step, progress: RunProgress) -> bool:
        """Take ``step``'s executed notebook from the cache (branded), and its rendered files
        when every format is cached too; False when it must execute."""
        found = self.cache.lookup(self.notebook_keys[step.name], ["notebook"])
        if found is None:
            return False
        self._publish(step, found["notebook"])
        rendered = {
            fmt: self.cache.lookup(key, [fmt]) for fmt, key in self.rendered_keys[step.name].items()
        }
        if all(files is not None for files in rendered.values()):
            self.renderer.reuse(step.output, {fmt: files[fmt] for fmt, files in rendered.items()})
            self.reused.add(step.name)
        else:
            self.renderer.add(step.output)
        progress.reused(step)
        return True

    def executed(self, neutral: Step) -> None:
        """A report notebook executed with the neutral brand: kept in the cache, branded, and
        handed to the renderer."""
        self.cache.store(self.notebook_keys[neutral.name], {"notebook": neutral.output})
        self._publish(self.steps[neutral.name], neutral.output)
        self.renderer.add(neutral.output)

    def _publish(self, step: Step, neutral: Path) -> None:
        book = read_notebook(neutral)
        step.output.parent.mkdir(parents=True, exist_ok=True)
        write_notebook(brand.apply_brand(book, step.parameters), step.output)

    def store_rendered(self, report: Sequence[Step], folder: Path) -> None:
        """Keep each rendered file that did not come from the cache."""
        for step in report:
            if step.name in self.reused:
                continue
            for fmt, key in self.rendered_keys[step.name].items():
                self.cache.store(key, {fmt: folder / f"{step.output.stem}.{fmt}"})


def compute_steps(stage: Path, params: Params) -> list[Step]:
    """The compute notebooks and what each waits for."""
    plan = [
        ("usage_health", ()),
        ("history", ("usage_health",)),
        ("overconsumption", ("usage_health",)),
        ("actions", ("usage_health", "overconsumption")),
        ("portfolio", ("usage_health", "overconsumption")),
        ("forecast", ("usage_health", "overconsumption")),
    ]
    if params.reset.start_date is not None:
        plan.append(("reset_tracker", ("usage_health", "overconsumption")))
    return [
        Step(
            name=name,
            template=COMPUTE_NOTEBOOKS / f"{name}.ipynb",
            output=stage / "notebooks" / f"{name}.ipynb",
            parameters={"run_dir": str(stage), "params": params.to_notebook()},
            needs=needs,
        )
        for name, needs in plan
    ]


def report_steps(stage: Path, params: Params, accounts: Sequence[str]) -> list[Step]:
    """The report notebooks: executive review, usage clinic, and per account the customer
    review and the internal prep sheet (``ACCOUNT_REPORTS``)."""
    shared = {"run_dir": str(stage), "params": params.to_notebook()}
    portfolio = [
        Step(
            name,
            REPORTS_DIR / f"{name}.ipynb",
            stage / "notebooks" / "reports" / f"{name}.ipynb",
            shared,
        )
        for name in ("executive_review", "usage_clinic")
    ]
    reviews = [
        Step(
            f"{report}:{account_id}",
            REPORTS_DIR / f"{report}.ipynb",
            stage / "notebooks" / "reports" / f"{report}_{steps.safe_filename(account_id)}.ipynb",
            {**shared, "account_id": account_id},
        )
        for account_id in accounts
        for report in ACCOUNT_REPORTS
    ]
    return portfolio + reviews


def select_accounts(
    stage: Path, requested: Sequence[str], top: int, segment: str | None = None
) -> list[str]:
    """``requested`` account ids (``--accounts``, else ``report.accounts``; each must have a
    contract covering as_of, and be of ``segment`` when the run is scoped to one), else the top
    ``top`` by account_value (ties by account_id) of ``segment`` (None: of all)."""
    health = pl.read_parquet(
        stage / "artifacts" / "account_health.parquet",
        columns=["account_id", "account_value", "segment"],
    )
    if segment is not None:
        health = health.filter(pl.col("segment") == segment)
    if requested:
        unknown = sorted(set(requested) - set(health["account_id"].to_list()))
        if unknown:
            where = f" in segment {quote(segment)}" if segment is not None else ""
            shown = ", ".join(quote(account, 60) for account in unknown[: steps.MAX_LISTED])
            more = (
                f" and {len(unknown) - steps.MAX_LISTED:,} more"
                if len(unknown) > steps.MAX_LISTED
                else ""
            )
            raise InputError(
                f"--accounts / report.accounts: no account with a contract covering as_of{where} "
                f"for {shown}{more}"
            )
        return list(dict.fromkeys(requested))
    ranked = health.sort(["account_value", "account_id"], descending=[True, False], nulls_last=True)
    return ranked["account_id"].head(top).to_list()


def _top(request: RunRequest, params: Params) -> int:
    return params.report.top_accounts if request.top is None else request.top


def _outputs(stage: Path, reports: Sequence[Path]) -> dict[str, list[str]]:
    listing = {
        folder: sorted(
            str(path.relative_to(stage)) for path in (stage / folder).rglob("*") if path.is_file()
        )
        for folder in ("artifacts", "exports", "notebooks")
    }
    listing["reports"] = sorted(str(path.relative_to(stage)) for path in reports)
    return listing


def _write_manifest(
    folder: Path,
    params: Params,
    status: str,
    started: str,
    timings: dict[str, float],
    outputs: dict[str, list[str]],
    inputs: dict[str, str],
    previous: steps.PreviousRun | None = None,
    message: str | None = None,
) -> None:
    manifest = build_manifest(
        params,
        status=status,
        started=started,
        finished=_now(),
        timings=timings,
        inputs=inputs,
        outputs=outputs,
        message=message,
        compared_with=previous.describe() if previous else None,
    )
    steps.write_json(folder / "manifest.json", manifest)


def _record_failure(
    failed: Path,
    params: Params,
    started: str,
    timings: dict[str, float],
    failure: BaseException,
    inputs: dict[str, str],
) -> None:
    """Best effort: the failed run's manifest and log line; a full disk must not hide the
    original failure behind an error about recording it."""
    try:
        _write_manifest(
            failed, params, "failed", started, timings, {}, inputs, message=str(failure)
        )
    except OSError as exc:
        log.error("the failed run's manifest could not be written: %s", exc.strerror)
    log.error("run failed: %s", failure)


@contextlib.contextmanager
def secrets_withheld(params: Params) -> Iterator[None]:
    """The database password variables (``PGPASSWORD`` and ``source.password_env``) out of the
    environment while the notebooks execute and the reports render: the database was read at
    validation, and no kernel or browser needs them. Put back afterwards."""
    names = ["PGPASSWORD", params.source.password_env]
    held = {name: os.environ.pop(name) for name in names if name and name in os.environ}
    try:
        yield
    finally:
        os.environ.update(held)


def _failure(exc: BaseException, run_log: Path) -> BaseException:
    """What ends the run, for its manifest and its one line: a DrawdownError as it is, an
    interruption as such, anything else as an internal error (its traceback into run.log)."""
    if isinstance(exc, DrawdownError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        name = "SIGTERM" if isinstance(exc, Terminated) else "Ctrl-C (SIGINT)"
        log.error("run interrupted by %s", name)
        return StepFailed(f"interrupted by {name}")
    return _internal_error(exc, run_log)


def _relocated(failure: BaseException, stage: Path, failed: Path) -> BaseException:
    """``failure`` with the staging folder's paths in its message (an executed notebook, run.log)
    replaced by the folder the failed run is kept as: a message names paths that exist."""
    if not isinstance(failure, DrawdownError) or str(stage) not in str(failure):
        return failure
    moved = type(failure)(str(failure).replace(str(stage), str(failed)))
    moved.exit_code = failure.exit_code
    return moved


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM ignored while a failed run is put away (the main thread only): a second
    Ctrl-C must not leave a staging folder behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _internal_error(exc: BaseException, run_log: Path) -> StepFailed:
    """An unexpected exception: its traceback goes to run.log, a one-line summary to the user."""
    log.exception("unexpected error")
    return StepFailed(
        f"internal error ({type(exc).__name__}: {quote(str(exc), plain=True)}); the traceback is "
        f"in {run_log}"
    )


class _RunLogHandler(logging.FileHandler):
    """run.log: a line that cannot be written (a full disk) is dropped, not printed as a
    traceback over the run's own error message."""

    def handleError(self, record: logging.LogRecord) -> None:
        pass


def _attach_log(path: Path) -> logging.Handler:
    handler = _RunLogHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    return handler


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
