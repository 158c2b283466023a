"""Execute parameterized notebooks on a pool of warm kernels, independent ones concurrently.

A fresh kernel per notebook costs seconds of CPU before the first cell (kernel start, then
importing Polars, Altair, great_tables and vl-convert). A :class:`KernelPool` starts one kernel per
worker once per run, imports the libraries while the run validates its input, and executes every
notebook of the run on those kernels; each notebook starts from an empty namespace (``%reset -f``),
so it sees only its own parameters, as with a fresh kernel. Parameters are injected the Papermill
way (an ``injected-parameters`` cell after the ``parameters`` cell, and
``metadata.papermill.parameters``), so each executed notebook records what it ran with.

A failed cell becomes :class:`StepFailed` naming the notebook, the cell and the error, and pointing
at the executed notebook that holds the traceback.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from papermill.iorw import load_notebook_node
from papermill.parameterize import parameterize_notebook

from drawdown.errors import StepFailed
from drawdown.notebook_files import write_notebook

log = logging.getLogger("drawdown")

KERNEL = "python3"
"""ipykernel's own kernelspec: the interpreter drawdown runs in, whatever venv that is."""
KERNEL_ARGUMENTS = [
    "--IPKernelApp.log_level=CRITICAL",
    "--HistoryManager.enabled=False",
    "--InteractiveShell.cache_size=0",
]
"""The kernel's own log lines (transport warnings, shutdown notices) would clutter the run's
output; errors reach the user through the executed notebook instead. No input history: cells are
numbered from 1 again for each notebook, which IPython's history database would refuse. No output
cache (``Out``, ``_``): it would keep every notebook's results alive for the kernel's lifetime."""
WARM_UP = """
import drawdown.run.steps, drawdown.reports.charts, drawdown.reports.narrative, drawdown.reports.data, drawdown.reports.tables
import altair.utils.schemapi
altair.utils.schemapi.disable_debug_mode()
import vl_convert
vl_convert.vegalite_to_svg({"mark": "point"})
"""
"""What every notebook of a run imports, loaded once per kernel before the first notebook, and
vl-convert's first conversion (about 2 s: it starts its JavaScript engine). Altair's debug mode
is turned off: it checks every chart object against the Vega-Lite schema as it is made, about a
tenth of an account review's time; the chart builders' tests check every chart they make."""
RESET = "_drawdown_fresh_namespace()"
"""Run before each notebook: the names the previous notebook defined are removed (imported
modules stay loaded) and cells are numbered from 1 again. Lighter than ``%reset -f``, which also
rebuilds IPython's own namespace and runs a full garbage collection: about 0.2 s a notebook."""
FRESH_NAMESPACE = """
def _drawdown_fresh_namespace():
    shell = get_ipython()
    for name in [n for n in shell.user_ns if n not in shell.user_ns_hidden and n[:2] != "__"]:
        del shell.user_ns[name]
    shell.execution_count = 0

get_ipython().user_ns_hidden["_drawdown_fresh_namespace"] = _drawdown_fresh_namespace
"""
"""Defines ``RESET``'s function in the kernel, hidden from its own clean-up."""
START_TIMEOUT = 120
ABORT_SECONDS = 3
"""How long an interrupted run waits for its workers after killing their kernels."""


@dataclass(frozen=True)
class Step:
    """One notebook execution: ``template`` runs with ``parameters`` into ``output``."""

    name: str
    template: Path
    output: Path
    parameters: dict[str, Any]
    needs: tuple[str, ...] = ()


@dataclass
class StepTimings:
    """Wall seconds per step, in completion order."""

    seconds: dict[str, float] = field(default_factory=dict)


class _Kernel:
    """One started kernel with its client, used from one thread only.

    It talks over Unix sockets in a private folder (``transport="ipc"``), not TCP ports: ports
    are picked free and bound later, so kernels starting at once (here, or in another process)
    can race for the same one."""

    def __init__(self, cwd: Path) -> None:
        self._sockets = tempfile.TemporaryDirectory(prefix="drawdown-kernel-")
        self.manager = AsyncKernelManager(
            kernel_name=KERNEL, transport="ipc", ip=str(Path(self._sockets.name) / "ipc")
        )
        run_sync(self.manager.start_kernel)(cwd=str(cwd), extra_arguments=KERNEL_ARGUMENTS)
        self.client = self.manager.client()
        self.client.start_channels()
        run_sync(self.client.wait_for_ready)(timeout=START_TIMEOUT)
        self.run_source(WARM_UP + FRESH_NAMESPACE)

    def run_source(self, source: str) -> None:
        """Execute code in the kernel as a one-cell notebook (raises CellExecutionError)."""
        cell = nbformat.v4.new_code_cell(source)
        self.execute(nbformat.v4.new_notebook(cells=[cell]))

    def execute(self, notebook: nbformat.NotebookNode) -> None:
        """Execute every cell of ``notebook`` in place."""
        client = NotebookClient(notebook, km=self.manager, kernel_name=KERNEL, timeout=None)
        client.kc = self.client
        client.execute()

    def shutdown(self) -> None:
        self.client.stop_channels()
        run_sync(self.manager.shutdown_kernel)(now=True)
        self._sockets.cleanup()

    def kill(self) -> None:
        """Kill the kernel process at once (an interrupted run), from any thread."""
        process = getattr(self.manager.provisioner, "process", None)
        if process is not None and process.poll() is None:
            process.kill()


class KernelPool:
    """``size`` worker threads, each with its own warm kernel started in ``cwd``.

    With ``eager``, kernels start (and import ``WARM_UP``) as soon as the pool is entered, so they
    warm up while the caller does other work (validation); otherwise at ``start`` or the first
    ``submit``, so a run whose notebooks all come from the cache starts none. ``submit`` queues a
    step; the first free worker runs it.
    """

    def __init__(self, cwd: Path, size: int | None = None, *, eager: bool = True) -> None:
        self.cwd = Path(cwd)
        self._jobs: queue.Queue[tuple[Step, Future[float]] | None] = queue.Queue()
        self._eager = eager
        self._aborted = False
        self._kernels: list[_Kernel] = []
        self._lock = threading.Lock()
        count = size or os.cpu_count() or 1
        self._threads = [
            threading.Thread(target=self._work, name=f"kernel-{n}", daemon=True)
            for n in range(count)
        ]

    def __enter__(self) -> KernelPool:
        if self._eager:
            self.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        started = [thread for thread in self._threads if thread.is_alive()]
        for _ in started:
            self._jobs.put(None)
        if kind is not None and issubclass(kind, KeyboardInterrupt):
            self.abort()
            for thread in started:
                thread.join(timeout=ABORT_SECONDS)
            return
        for thread in started:
            thread.join()

    def abort(self) -> None:
        """Stop at once (Ctrl-C, SIGTERM): queued steps are dropped and every kernel is killed,
        so a notebook that is running fails within a moment instead of running to its end."""
        self._aborted = True
        with self._lock:
            kernels = list(self._kernels)
        for kernel in kernels:
            kernel.kill()

    def submit(self, step: Step) -> Future[float]:
        """Queue ``step``; the future holds its wall seconds or its StepFailed."""
        self.start()
        future: Future[float] = Future()
        self._jobs.put((step, future))
        return future

    def start(self) -> None:
        """Start the kernels that have not started (they warm up in the background)."""
        for thread in self._threads:
            if thread.ident is None:
                thread.start()

    def _work(self) -> None:
        self.cwd.mkdir(parents=True, exist_ok=True)
        started = time.perf_counter()
        try:
            kernel: _Kernel | None = _Kernel(self.cwd)
            problem: Exception | None = None
            log.info("kernel started and warmed up in %.1f s", time.perf_counter() - started)
        except Exception as exc:  # the kernel could not start: every step it takes fails
            kernel, problem = None, exc
        if kernel is not None:
            with self._lock:
                self._kernels.append(kernel)
            if self._aborted:
                kernel.kill()
        while (job := self._jobs.get()) is not None:
            step, future = job
            try:
                if self._aborted:
                    raise StepFailed(f"notebook {step.template.name} not run: interrupted")
                if kernel is None:
                    raise _could_not_run(step, problem)
                future.set_result(execute_step(step, kernel))
            except Exception as exc:
                future.set_exception(exc)
        if kernel is not None:
            kernel.shutdown()


def execute_step(step: Step, kernel: _Kernel) -> float:
    """Run one notebook on ``kernel`` and write it to ``step.output``; return its wall seconds.

    The executed notebook is written whether or not a cell failed.
    """
    step.output.parent.mkdir(parents=True, exist_ok=True)
    started, wall = datetime.now(UTC), time.perf_counter()
    notebook = parameterize_notebook(
        load_notebook_node(str(step.template)),
        step.parameters,
        kernel_name=KERNEL,
        language="python",
    )
    failure: StepFailed | None = None
    try:
        kernel.run_source(RESET)
        kernel.execute(notebook)
    except CellExecutionError as exc:
        failure = StepFailed(
            f"notebook {step.template.name} failed in cell {_failed_cell(notebook)} "
            f"({exc.ename}: {_first_line(exc.evalue)}); the traceback is in {step.output}"
        )
    except Exception as exc:  # the kernel died, or did not answer
        failure = _could_not_run(step, exc)
    seconds = time.perf_counter() - wall
    notebook.metadata.papermill.update(
        input_path=str(step.template),
        output_path=str(step.output),
        start_time=started.isoformat(),
        end_time=datetime.now(UTC).isoformat(),
        duration=seconds,
        exception=failure is not None,
    )
    write_notebook(notebook, step.output)
    if failure is not None:
        raise failure
    return seconds


def execute_all(
    steps: Sequence[Step],
    pool: KernelPool,
    on_done: Callable[[Step, float], None] = lambda step, seconds: None,
) -> StepTimings:
    """Execute ``steps`` on ``pool`` respecting ``needs``.

    Stops at the first failure: running steps finish, nothing new starts, and that failure is
    raised.
    """
    pending = {step.name: step for step in steps}
    done: set[str] = set()
    timings = StepTimings()
    running: dict[Future[float], Step] = {}
    while pending or running:
        for name, step in list(pending.items()):
            if set(step.needs) <= done:
                running[pool.submit(step)] = pending.pop(name)
        if not running:
            raise StepFailed(f"steps wait for steps that never run: {sorted(pending)}")
        finished, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in finished:
            step = running.pop(future)
            try:
                seconds = future.result()
            except StepFailed:
                pending.clear()
                wait(running)
                raise
            timings.seconds[step.name] = seconds
            done.add(step.name)
            on_done(step, seconds)
    return timings


def _failed_cell(notebook: nbformat.NotebookNode) -> int | str:
    """The execution count of the first cell with an error output ("?" when none has one)."""
    for cell in notebook.cells:
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            return cell.get("execution_count") or "?"
    return "?"


def _could_not_run(step: Step, exc: Exception | None) -> StepFailed:
    return StepFailed(
        f"notebook {step.template.name} could not run ({type(exc).__name__}: "
        f"{_first_line(str(exc))}); see {step.output}"
    )


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
