"""The ``drawdown`` command line (SPEC section 5). Each command is a thin shell over one library call.

Exit statuses: 0 success, 1 a step failed, 2 bad input or bad parameters.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from drawdown.errors import DrawdownError

app = typer.Typer(
    name="drawdown",
    help="Usage health, commit bands and overconsumption for consumption-based books of business.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _exits_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DrawdownError into its message on stderr and its exit status; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DrawdownError as exc:
            err_console.print(f"[bold red]drawdown:[/] {exc}", markup=True, highlight=False, soft_wrap=True)
            raise typer.Exit(exc.exit_code) from None

    return wrapper


@app.command()
@_exits_cleanly
def sample(
    out: Annotated[Path, typer.Option(help="Folder to write the sample book into.")],
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = 300,
    days: Annotated[int, typer.Option(min=60, help="Days of usage history ending at the as-of date.")] = 730,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed writes the same files.")] = 7,
) -> None:
    """Write a realistic sample book of business (SPEC section 2 tables)."""
    from drawdown.sample import write_sample

    folder = write_sample(out, accounts=accounts, days=days, seed=seed)
    typer.echo(f"sample book written to {folder}")
