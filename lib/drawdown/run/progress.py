"""The run's progress display: one line per finished step and a bar for steps and accounts.

Works unattended too: without a terminal, rich prints the finished-step lines and no animation.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterable, Iterator
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from drawdown.run.kernels import Step

log = logging.getLogger("drawdown")
ACCOUNT_REPORTS = ("account_review", "account_prep")
"""The reports made once per account: the customer review and the internal prep sheet."""
ACCOUNT_REVIEW = tuple(f"{report}:" for report in ACCOUNT_REPORTS)
"""Step-name prefixes of the per-account reports (counted on the accounts bar)."""


class RunProgress:
    """Shows steps as they finish and records each one's wall time in ``timings``."""

    def __init__(self, console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self.timings: dict[str, float] = {}
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=self.console,
            transient=True,
        )
        self._steps = self._bar.add_task("steps", total=None, visible=False)
        self._accounts = self._bar.add_task("account reviews", total=None, visible=False)

    def __enter__(self) -> RunProgress:
        self._bar.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._bar.stop()

    def expect(self, names: Iterable[str], accounts: int = 0) -> None:
        """Announce the next batch of steps (and how many of them are account reviews)."""
        batch = [name for name in names if not name.startswith(ACCOUNT_REVIEW)]
        self._bar.update(self._steps, total=len(batch), completed=0, visible=True)
        self._bar.update(self._accounts, total=accounts, completed=0, visible=accounts > 0)

    def done(self, step: Step, seconds: float) -> None:
        """Record a finished notebook step."""
        self._record(step.name, seconds)
        task = self._accounts if step.name.startswith(ACCOUNT_REVIEW) else self._steps
        self._bar.advance(task)

    def reused(self, step: Step) -> None:
        """Record a notebook step whose outputs came from the cache (no time of its own)."""
        log.info("step %s reused from the cache", step.name)
        if step.name.startswith(ACCOUNT_REVIEW):
            self._bar.advance(self._accounts)
        else:
            self._bar.advance(self._steps)
            self.console.print(f"  [green]✓[/] {step.name} [dim]cached[/]", highlight=False)

    @contextlib.contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time an in-process step."""
        started = time.perf_counter()
        yield
        self._record(name, time.perf_counter() - started)

    def _record(self, name: str, seconds: float) -> None:
        self.timings[name] = seconds
        log.info("step %s finished in %.1f s", name, seconds)
        if not name.startswith(ACCOUNT_REVIEW):
            self.console.print(f"  [green]✓[/] {name} [dim]{seconds:.1f} s[/]", highlight=False)
