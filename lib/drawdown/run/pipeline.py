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

import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from drawdown.errors import DrawdownError, InputError, StepFailed
from drawdown.params import Params
from drawdown.reports.render import ReportRenderer, renderer_name
from drawdown.resources import COMPUTE_NOTEBOOKS, REPORTS_DIR
from drawdown.run import cache, steps
from drawdown.run.folders import keep_failed, publish, run_lock, staging_dir
from drawdown.run.kernels import KernelPool, Step, execute_all
from drawdown.run.manifest import build_manifest, file_hashes
from drawdown.run.progress import ACCOUNT_REPORTS, RunProgress

log = logging.getLogger("drawdown")


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
    runs = (request.out.parent if request.out else Path("runs")).resolve()
    key = cache.cache_key(params, [step.template for step in compute_steps(runs, params)])
    cached = cache.lookup(runs, key)
    validated = None if cached else steps.validate_source(params)
    as_of = cached.as_of if cached else steps.resolve_as_of(validated.book, params)
    params = params.with_overrides({"as_of": as_of.isoformat()})
    previous = steps.previous_run(runs, params, as_of)
    run_dir = (request.out or Path("runs") / params.as_of.isoformat()).resolve()
    with run_lock(run_dir):
        stage = staging_dir(run_dir)
        logger = _attach_log(stage / "run.log")
        progress = RunProgress()
        try:
            with progress, KernelPool(stage, eager=cached is None) as pool:
                if cached:
                    _reuse(cached, stage, progress)
                else:
                    with progress.step("validate"):
                        steps.write_snapshot(validated, stage)
                    validated = None  # the notebooks read the snapshot; the book is GBs at L
                    _compute(stage, params, pool, progress)
                    cache.store(runs, key, stage, params.as_of, run_dir)
                with progress.step("changes"):
                    steps.changes_step(stage, previous)
                reports = cache.ReportCache.of(runs, key, stage)
                result = _report(
                    stage, run_dir, params, request, pool, progress, started, reports, previous
                )
        except Exception as exc:
            failure = exc if isinstance(exc, DrawdownError) else _internal_error(exc)
            failed = keep_failed(stage, run_dir)
            _record_failure(failed, params, started, progress.timings, failure)
            raise failure from None
        finally:
            logger.close()
            log.removeHandler(logger)
        publish(stage, run_dir)
    return RunResult(run_dir, tuple(run_dir / path.relative_to(stage) for path in result))


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
) -> list[Path]:
    """Exports, report notebooks, rendering and the manifest; returns the rendered reports."""
    with progress.step("exports"):
        steps.export(stage, params)
    formats = tuple(params.report.formats if request.formats is None else request.formats)
    reports: list[Path] = []
    if formats:
        accounts = select_accounts(stage, request.accounts, _top(request, params))
        report = report_steps(stage, params, accounts)
        progress.expect(
            (step.name for step in report), accounts=len(accounts) * len(ACCOUNT_REPORTS)
        )
        with ReportRenderer(stage / "reports", formats) as renderer:
            keys = {
                step.name: reports_cache.key(step, renderer.formats, renderer_name())
                for step in report
            }
            fresh = [
                step
                for step in report
                if not _reuse_report(step, keys[step.name], reports_cache, renderer, progress)
            ]

            def done(step: Step, seconds: float) -> None:
                progress.done(step, seconds)
                renderer.add(step.output)

            execute_all(fresh, pool, on_done=done)
            with progress.step("render"):
                reports = steps.render(renderer, [step.output for step in report])
            for step in fresh:
                rendered = {
                    fmt: stage / "reports" / f"{step.output.stem}.{fmt}" for fmt in renderer.formats
                }
                reports_cache.store(keys[step.name], {"notebook": step.output} | rendered)
    outputs = _outputs(stage, reports)
    _write_manifest(stage, params, "succeeded", started, progress.timings, outputs, previous)
    log.info("run published to %s", run_dir)
    return reports


def _reuse_report(
    step: Step,
    key: str | None,
    reports_cache: cache.ReportCache,
    renderer: ReportRenderer,
    progress: RunProgress,
) -> bool:
    """Take ``step``'s executed notebook and rendered files from the cache; False on a miss."""
    files = reports_cache.lookup(key, renderer.formats)
    if files is None:
        return False
    step.output.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(files.pop("notebook"), step.output)
    renderer.reuse(step.output, files)
    progress.reused(step)
    return True


def compute_steps(stage: Path, params: Params) -> list[Step]:
    """The compute notebooks and what each waits for."""
    plan = [
        ("usage_health", ()),
        ("history", ()),
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


def select_accounts(stage: Path, requested: Sequence[str], top: int) -> list[str]:
    """``requested`` account ids (each must have a contract covering as_of), else the top
    ``top`` by account_value (ties by account_id)."""
    health = pl.read_parquet(
        stage / "artifacts" / "account_health.parquet", columns=["account_id", "account_value"]
    )
    if requested:
        unknown = sorted(set(requested) - set(health["account_id"].to_list()))
        if unknown:
            raise InputError(
                f"--accounts: no account with a contract covering as_of for {', '.join(unknown)}"
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
    previous: steps.PreviousRun | None = None,
    message: str | None = None,
) -> None:
    manifest = build_manifest(
        params,
        status=status,
        started=started,
        finished=_now(),
        timings=timings,
        inputs=file_hashes(params.source.uri),
        outputs=outputs,
        message=message,
        compared_with=previous.describe() if previous else None,
    )
    steps.write_json(folder / "manifest.json", manifest)


def _record_failure(
    failed: Path, params: Params, started: str, timings: dict[str, float], failure: Exception
) -> None:
    """Best effort: the failed run's manifest and log line; a full disk must not hide the
    original failure behind an error about recording it."""
    try:
        _write_manifest(failed, params, "failed", started, timings, {}, message=str(failure))
    except OSError as exc:
        log.error("the failed run's manifest could not be written: %s", exc.strerror)
    log.error("run failed: %s", failure)


def _internal_error(exc: Exception) -> StepFailed:
    """An unexpected exception: its traceback goes to run.log, a one-line summary to the user."""
    log.exception("unexpected error")
    return StepFailed(f"internal error ({type(exc).__name__}: {exc}); the traceback is in run.log")


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
