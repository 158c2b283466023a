"""Errors that end a drawdown command, each with the exit status the CLI returns.

Exit statuses (docs/outputs.md#exit-statuses):
    0  success
    1  a step failed while running (a notebook cell raised, a renderer failed), or the machine
       refused (a read-only folder, a full disk, a closed output)
    2  bad input or bad parameters: nothing was computed
    130, 143  interrupted by Ctrl-C (SIGINT) or SIGTERM
"""

from __future__ import annotations


class DrawdownError(Exception):
    """Base class: a failure with a message meant for the person running drawdown."""

    exit_code = 1


class InputError(DrawdownError):
    """A structural problem in the input data (docs/data-contract.md#errors-and-bad-input): the run stops before computing."""

    exit_code = 2


class ConnectionFailed(InputError):
    """The source database could not be reached, or refused the login: asking it again would
    only wait (an unreachable host) or fail the same way."""


class ParamsError(DrawdownError):
    """An unknown parameter key or a value the parameter does not accept."""

    exit_code = 2


class FolderRefused(DrawdownError):
    """A folder drawdown would have to replace or write into holds what it did not write
    (docs/reliability.md#guarantees)."""

    exit_code = 2


class StepFailed(DrawdownError):
    """A pipeline step (a notebook or a renderer) failed while running."""

    exit_code = 1


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread like Ctrl-C's KeyboardInterrupt so that every clean-up
    that runs for one runs for the other; the CLI exits with 143 instead of 130."""

    exit_code = 143
