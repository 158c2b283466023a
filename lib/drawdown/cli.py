"""The ``drawdown`` command line (docs/outputs.md#command-line). Each command is a thin shell over one library call.

Exit statuses (docs/outputs.md#exit-statuses): 0 success, 1 a step failed (or the machine refused:
a read-only folder, a full disk), 2 bad input or bad parameters, 130 Ctrl-C, 143 SIGTERM. Help texts are written for someone who has only the command and the docs pages.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, NoReturn

import click
import typer
from rich.console import Console
from rich.markup import escape

from drawdown.errors import DrawdownError, Terminated
from drawdown.resources import DOCS_DIR, PARAMS_DIR

app = typer.Typer(
    name="drawdown",
    help="""Usage health, commit utilization and overconsumption for vendors that sell on
consumption.

Point drawdown at your usage data and contracts: it computes, per account and
per segment, how each commit is burning, how healthy usage is, who is past
their contractual limits and who should call them, and renders an executive
review, account value reviews and a weekly usage-clinic pack (HTML and PDF).

Try it: drawdown sample --out data/sample, then drawdown validate --data
data/sample, then drawdown run --data data/sample.""",
    epilog=f"""Exit statuses: 0 success, 1 a step failed, 2 bad input or bad parameters,
130 or 143 when interrupted. Documentation, in {DOCS_DIR}:
data-contract.md (what drawdown reads), metrics.md (what it computes),
outputs.md (what a run writes). Every parameter: {PARAMS_DIR / "default.yaml"}.""",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)

DataOption = Annotated[
    str | None,
    typer.Option(
        metavar="SRC",
        help="Where the input tables are: a folder with one CSV or Parquet file per table, or a "
        "database URI such as postgresql://analyst@db:5432/usage (password from PGPASSWORD or "
        "~/.pgpass). Default: source.uri of the parameters, data/sample.",
    ),
]
ParamsOption = Annotated[
    Path | None,
    typer.Option(
        "--params",
        metavar="FILE",
        help="A YAML file of parameters; keys it leaves out keep their defaults "
        "(every key is documented in params/default.yaml).",
    ),
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        metavar="KEY=VALUE",
        help="Set one parameter by its dotted key, after --params; repeatable. "
        "Example: --set as_of=2026-09-30 --set bands.band_low=0.8",
    ),
]


def _exits_cleanly(command: Callable[..., Any]) -> Callable[..., Any]:
    """One line on stderr and an exit status of 0, 1, 2, 130 or 143; never a traceback.

    A DrawdownError exits with its own status; Ctrl-C with 130 and SIGTERM with 143 (a run
    puts its staging folder away first); an error of the machine (a read-only folder, a full
    disk, stdout on a full device or a closed pipe) with 1; anything else, a bug, with 1 and its
    traceback only when DRAWDOWN_DEBUG is set.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        previous = _on_sigterm()
        try:
            result = command(*args, **kwargs)
            sys.stdout.flush()
            return result
        except (typer.Exit, click.exceptions.ClickException, click.exceptions.Abort):
            raise
        except DrawdownError as exc:
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, Terminated)
            name = "SIGTERM" if terminated else "Ctrl-C"
            _fail(
                f"interrupted by {name}; earlier runs and latest are as they were",
                143 if terminated else 130,
            )
        except OSError as exc:
            _fail(_os_problem(exc), 1)
        except Exception as exc:
            if os.environ.get("DRAWDOWN_DEBUG"):
                raise
            _fail(
                f"internal error ({type(exc).__name__}: {_first_line(exc)}); set DRAWDOWN_DEBUG=1 for the traceback",
                1,
            )
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)

    return wrapper


def _on_sigterm() -> Any:
    """SIGTERM raises ``Terminated`` in the main thread (as Ctrl-C raises KeyboardInterrupt);
    returns the handler it replaced (None outside the main thread)."""
    if threading.current_thread() is not threading.main_thread():
        return None

    def terminate(signum: int, frame: object) -> None:
        raise Terminated()

    return signal.signal(signal.SIGTERM, terminate)


def _fail(message: str, status: int) -> NoReturn:
    """``drawdown: message`` on stderr, then exit ``status``; stdout is let go first, so a full
    or closed stdout cannot add a traceback at exit."""
    _release_stdout()
    with contextlib.suppress(OSError):
        err_console.print(
            f"[bold red]drawdown:[/] {escape(message)}",
            markup=True,
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(status) from None


def _release_stdout() -> None:
    """Point stdout at /dev/null when it cannot take what is buffered (a full device, a closed
    pipe), so Python's flush at exit has nothing to fail on."""
    try:
        sys.stdout.flush()
    except (OSError, ValueError):
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass


def _os_problem(exc: OSError) -> str:
    """An OSError as a reason and the path it is about (no Python type names)."""
    reason = exc.strerror or str(exc)
    where = exc.filename if exc.filename is not None else None
    if exc.errno == errno.EPIPE or (exc.errno == errno.ENOSPC and where is None):
        return f"cannot write the output ({reason})"
    return f"{reason}: {where}" if where else reason


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else ""
    return line if len(line) <= 200 else f"{line[:200]}…"


@app.command()
@_exits_cleanly
def sample(
    out: Annotated[
        Path,
        typer.Option(
            metavar="DIR",
            help="Folder to write the tables into (created if missing); files of the same "
            "names there are replaced.",
        ),
    ],
    accounts: Annotated[int, typer.Option(min=1, metavar="N", help="Number of accounts.")] = 300,
    days: Annotated[
        int,
        typer.Option(min=60, metavar="D", help="Days of usage history, ending on 2026-11-15."),
    ] = 730,
    seed: Annotated[
        int, typer.Option(metavar="S", help="Random seed: the same seed writes the same files.")
    ] = 7,
) -> None:
    """Write a realistic sample book of business to try drawdown on.

    The eight tables of the data contract (docs/data-contract.md), as CSV up to
    1,000 accounts and as Parquet above, with accounts of every kind the
    reports show: healthy, under and over their commit, not live, churned,
    past their limits. Example:

      drawdown sample --out data/sample
      drawdown run --data data/sample --set reset.start_date=2026-10-05
    """
    from drawdown.inputs.sample import write_sample

    folder = write_sample(out, accounts=accounts, days=days, seed=seed)
    typer.echo(f"sample book written to {folder}")


@app.command()
@_exits_cleanly
def run(
    data: DataOption = None,
    params: ParamsOption = None,
    set_: SetOption = None,
    out: Annotated[
        Path | None,
        typer.Option(
            metavar="DIR",
            help="The run folder to write. Default: runs/<as_of>/. Name a new folder or an "
            "earlier run: a successful run replaces the folder as a whole.",
        ),
    ] = None,
    accounts: Annotated[
        str | None,
        typer.Option(
            metavar="ID,...",
            help="Account value reviews for these account ids, comma-separated, instead of "
            "--top (and of report.accounts). Each needs a contract covering the as-of date; an "
            "unknown id is exit status 2.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option(
            min=0,
            max=5000,
            metavar="N",
            help="Account value reviews for the N accounts of highest account value (0 to "
            "5000); 0 for none. Default: report.top_accounts, 10.",
        ),
    ] = None,
    format_: Annotated[
        str | None,
        typer.Option(
            "--format",
            metavar="FORMATS",
            help="Report formats: html,pdf, html, pdf, or none (artifacts and exports only, "
            "no reports). Default: report.formats.",
        ),
    ] = None,
    compare_to: Annotated[
        Path | None,
        typer.Option(
            "--compare-to",
            help="A run folder to report the changes against (default: the run `latest` "
            "pointed at, else the book as of A - 7 days).",
        ),
    ] = None,
    shards: Annotated[
        int | None,
        typer.Option(
            min=1,
            metavar="N",
            help="Split the book into N shards by account and compute them in a pool of "
            "processes (1: the whole book at once). Default: engine.shards, else one shard per "
            "6,250 accounts. Results are identical for any N.",
        ),
    ] = None,
    engine: Annotated[
        str | None,
        typer.Option(
            metavar="local|spark",
            help="Where the shards run: local (a process pool) or spark (needs "
            "drawdown[spark] and Java). Default: engine.kind.",
        ),
    ] = None,
    spark_master: Annotated[
        str | None,
        typer.Option(
            "--spark-master",
            metavar="URL",
            help="The Spark master for --engine spark, e.g. spark://host:7077. Default: "
            "engine.spark_master, else local[*].",
        ),
    ] = None,
) -> None:
    """Run the whole pipeline: validate, compute, export and render.

    Validates the source (docs/data-contract.md), executes the compute
    notebooks with Papermill into the metric artifacts, writes the exports
    (CRM case file, alert digest) and renders the executive review, the usage
    clinic and the account value reviews. Everything goes into one run folder,
    runs/<as_of>/ by default, and runs/latest points at the last successful
    run; a failed run changes nothing. What each file holds: docs/outputs.md.

    Examples:

      drawdown run --data exports/2026-10 --params params/monthly.yaml
      drawdown run --set as_of=2026-09-30 --set bands.band_low=0.8
      drawdown run --accounts A-0001,A-0042 --format html
      drawdown run --data exports/big --shards 8 --format none
    """
    from drawdown.run.pipeline import RunRequest
    from drawdown.run.pipeline import run as run_pipeline

    resolved = _load_params(params, set_, data)
    if compare_to is not None:
        resolved = resolved.with_overrides({"compare_to": str(compare_to)})
    chosen = {"shards": shards, "kind": engine, "spark_master": spark_master}
    if any(value is not None for value in chosen.values()):
        resolved = resolved.with_overrides(
            {"engine": {key: value for key, value in chosen.items() if value is not None}}
        )
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
            metavar="URI",
            help="The database, postgresql://user@host:port/db; the password comes from "
            "PGPASSWORD or ~/.pgpass.",
        ),
    ],
    from_: Annotated[
        Path | None,
        typer.Option(
            "--from",
            metavar="DIR",
            help="A folder holding a book (one CSV or Parquet file per table) to load; "
            "without it a sample book is generated.",
        ),
    ] = None,
    accounts: Annotated[
        int, typer.Option(min=1, metavar="N", help="Number of accounts of the generated book.")
    ] = 300,
    days: Annotated[
        int,
        typer.Option(min=60, metavar="D", help="Days of usage history of the generated book."),
    ] = 730,
    seed: Annotated[int, typer.Option(metavar="S", help="Random seed of the generated book.")] = 7,
    events_per_day: Annotated[
        int,
        typer.Option(
            min=0,
            metavar="K",
            help="Timestamped usage events (usage_ts) per day of usage; 0 keeps one "
            "usage_date row per day.",
        ),
    ] = 4,
) -> None:
    """Load a book into PostgreSQL, to try the database source.

    Creates or replaces one table per table of the data contract
    (docs/data-contract.md) and drops those the book lacks. Usage is loaded as
    timestamped events, several per day, as an event log would hold them;
    drawdown run --data URI then sums them per day in the database.
    """
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
        typer.Option(
            metavar="DIR",
            help="Also write the rejected rows to DIR, one <table>.csv per table, each row as "
            "read with its row number and the rule it broke.",
        ),
    ] = None,
) -> None:
    """Check a data source against the data contract and say what is wrong.

    Reads every table, applies every rule of docs/data-contract.md and prints
    the rows read, accepted and rejected per table and rule, and the usage no
    contract or rate card prices. Nothing is computed. Exit status 0 when the
    source can be used (rejected rows are set aside), 2 when it cannot (or, with
    strict: true, when a row is rejected): the message names the file, row,
    column, rule and value of every problem.
    """
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
