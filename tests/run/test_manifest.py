"""manifest.py: the git revision is best effort; a slow or missing git never fails a run."""

from __future__ import annotations

import subprocess

import pytest

from drawdown.run import manifest


@pytest.mark.parametrize(
    "failure",
    [
        subprocess.TimeoutExpired(["git", "status"], 10),
        subprocess.CalledProcessError(128, ["git", "status"]),
        FileNotFoundError("git"),
    ],
)
def test_git_revision_is_none_when_git_fails(
    monkeypatch: pytest.MonkeyPatch, failure: Exception
) -> None:
    def fail(*args: object, **kwargs: object) -> None:
        raise failure

    monkeypatch.setattr(manifest.subprocess, "run", fail)
    assert manifest.git_revision() is None


def test_git_revision_names_the_checkout() -> None:
    revision = manifest.git_revision()
    assert revision is not None and len(revision.removesuffix("+dirty")) == 40
