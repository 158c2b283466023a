"""Execute parameterized notebooks with Papermill, independent ones concurrently.

A failed cell becomes :class:`StepFailed` naming the notebook, the cell and the error, and pointing
at the executed notebook that holds the traceback.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import papermill

from drawdown.errors import StepFailed

KERNEL = "python3"
"""ipykernel's own kernelspec: the interpreter drawdown runs in, whatever venv that is."""
QUIET_KERNEL = ["--IPKernelApp.log_level=CRITICAL"]
"""The kernel's own log lines (transport warnings, shutdown notices) would clutter the run's
output; errors reach the user through the executed notebook instead."""


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


def execute_step(step: Step, cwd: Path) -> float:
    """Run one notebook; return its wall time in seconds."""
    step.output.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        papermill.execute_notebook(
            str(step.template),
            str(step.output),
            parameters=step.parameters,
            kernel_name=KERNEL,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            extra_arguments=QUIET_KERNEL,
        )
    except papermill.PapermillExecutionError as exc:
        raise StepFailed(
            f"notebook {step.template.name} failed in cell {exc.exec_count} "
            f"({exc.ename}: {_first_line(exc.evalue)}); the traceback is in {step.output}"
        ) from None
    except Exception as exc:  # the kernel died, or Papermill could not start it
        raise StepFailed(
            f"notebook {step.template.name} could not run ({type(exc).__name__}: "
            f"{_first_line(str(exc))}); see {step.output}"
        ) from None
    return time.perf_counter() - started


def execute_all(
    steps: Sequence[Step],
    cwd: Path,
    on_done: Callable[[Step, float], None] = lambda step, seconds: None,
    workers: int | None = None,
) -> StepTimings:
    """Execute ``steps`` respecting ``needs``, at most ``workers`` (default: cores) at once.

    Stops at the first failure: running steps finish, nothing new starts, and that failure is
    raised.
    """
    pending = {step.name: step for step in steps}
    done: set[str] = set()
    timings = StepTimings()
    running: dict[Future[float], Step] = {}
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        while pending or running:
            for name, step in list(pending.items()):
                if set(step.needs) <= done:
                    running[pool.submit(execute_step, step, cwd)] = pending.pop(name)
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


def _first_line(text: str) -> str:
    return (text or "").strip().splitlines()[0] if (text or "").strip() else ""
