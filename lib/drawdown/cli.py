"""The ``drawdown`` command line (docs/outputs.md#command-line). Each command is a thin shell over one library call.

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

DataOption = Annotated[
    str | None,
    typer.Option(
        help="Source: a folder of CSV/Parquet files or a database URI (default: source.uri)."
    ),
]
ParamsOption = Annotated[
    Path | None,
    typer.Option("--params", help="YAML params file layered over params/default.yaml."),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set", help="Override one parameter, e.g. --set bands.band_low=0.8 (repeatable)."
    ),
]


def _exits_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn a DrawdownError into its message on stderr and its exit status; never a traceback."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except DrawdownError as exc:
            err_console.print(
                f"[bold red]drawdown:[/] {exc}", markup=True, highlight=False, soft_wrap=True
            )
            raise typer.Exit(exc.exit_code) from None

    return wrapper


@app.command()
@_exits_cleanly
def sample(
    out: Annotated[Path, typer.Option(help="Folder to write the sample book into.")],
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = 300,
    days: Annotated[
        int, typer.Option(min=60, help="Days of usage history ending at the as-of date.")
    ] = 730,
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed writes the same files.")
    ] = 7,
) -> None:
    """Write a realistic sample book of business (the tables of docs/data-contract.md)."""
    from drawdown.inputs.sample import write_sample

    folder = write_sample(out, accounts=accounts, days=days, seed=seed)
    typer.echo(f"sample book written to {folder}")


@app.command()
@_exits_cleanly
def run(
    data: DataOption = None,
    params: ParamsOption = None,
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option(help="Run folder (default runs/<as_of>/).")] = None,
    accounts: Annotated[
        str | None, typer.Option(help="Account ids for account reviews, comma-separated.")
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(min=0, help="Account reviews for the top N accounts by account value."),
    ] = None,
    format_: Annotated[
        str | None, typer.Option("--format", help="Report formats: html,pdf | html | pdf | none.")
    ] = None,
) -> None:
    """Validate, execute the notebooks with Papermill, export and render the reports."""
    from drawdown.run.pipeline import RunRequest
    from drawdown.run.pipeline import run as run_pipeline

    resolved = _load_params(params, set_, data)
    request = RunRequest(
        out=out,
        accounts=tuple(_split(accounts)),
        top=top,
        formats=None if format_ is None else _formats(format_),
    )
    result = run_pipeline(resolved, request)
    typer.echo(f"run written to {result.run_dir}")
    for report in result.reports:
        typer.echo(f"  {report}")


def _load_params(params_file: Path | None, assignments: list[str] | None, data: str | None) -> Any:
    """Params from the file and --set assignments; ``--data`` wins over ``source.uri``.

    A password typed into a database URI is moved into the environment, never carried on.
    """
    from drawdown.params import load_params

    overrides = list(assignments or [])
    loaded = load_params(params_file, overrides)
    uri = data if data is not None else loaded.source.uri
    if "://" in uri:
        from drawdown.inputs.database import hide_password

        uri = hide_password(uri)
    return loaded.with_overrides({"source": {"uri": uri}})


def _split(listing: str | None) -> list[str]:
    return [item.strip() for item in (listing or "").split(",") if item.strip()]


def _formats(listing: str) -> tuple[str, ...]:
    from drawdown.errors import ParamsError

    chosen = _split(listing)
    if chosen == ["none"]:
        return ()
    unknown = sorted(set(chosen) - {"html", "pdf"})
    if unknown or not chosen:
        raise ParamsError(f"--format accepts html, pdf, html,pdf or none; got {listing!r}")
    return tuple(chosen)


@app.command("load-sample")
@_exits_cleanly
def load_sample(
    into: Annotated[
        str,
        typer.Option(
            help="Database URI, postgresql://user@host:port/db; the password comes from PGPASSWORD or ~/.pgpass."
        ),
    ],
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from", help="Folder of a book to load; without it a sample book is generated."
        ),
    ] = None,
    accounts: Annotated[
        int, typer.Option(min=1, help="Number of accounts of the generated book.")
    ] = 300,
    days: Annotated[
        int, typer.Option(min=60, help="Days of usage history of the generated book.")
    ] = 730,
    seed: Annotated[int, typer.Option(help="Random seed of the generated book.")] = 7,
    events_per_day: Annotated[
        int,
        typer.Option(
            min=0,
            help="Timestamped usage events per daily usage row (0: keep daily usage_date rows).",
        ),
    ] = 4,
) -> None:
    """Load a book into database tables named as in the data contract (created or replaced)."""
    import tempfile

    from drawdown.inputs.database import hide_password, redact, write_book

    uri = hide_password(into)
    with tempfile.TemporaryDirectory(prefix="drawdown-book-") as scratch:
        if from_ is None:
            from drawdown.inputs.sample import write_sample

            from_ = write_sample(Path(scratch), accounts=accounts, days=days, seed=seed)
        rows = write_book(uri, from_, events_per_day=events_per_day)
    typer.echo(
        f"loaded {', '.join(f'{table} {count:,}' for table, count in rows.items())} rows into {redact(uri)}"
    )


@app.command()
@_exits_cleanly
def validate(
    data: DataOption = None,
    params: ParamsOption = None,
    set_: SetOption = None,
    rejects: Annotated[
        Path | None,
        typer.Option(help="Folder to write the rejected rows into, one <table>.csv per table."),
    ] = None,
) -> None:
    """Check a source against the data contract and print the data-quality report."""
    from drawdown.inputs.quality import quality_report
    from drawdown.inputs.validate import load_book
    from drawdown.run.steps import rejects_as_written

    resolved = _load_params(params, set_, data)
    validated = load_book(resolved.source.uri, resolved)
    Console().print(quality_report(validated.quality))
    if rejects is not None:
        rejects.mkdir(parents=True, exist_ok=True)
        for table, rejected in rejects_as_written(validated).items():
            rejected.write_csv(rejects / f"{table}.csv")
        typer.echo(f"rejected rows of {len(validated.rejects)} tables written to {rejects}")
