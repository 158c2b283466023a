"""A throwaway PostgreSQL server for the database tests: ``scripts/postgres.sh`` in a fresh folder.

``postgres_server()`` starts one (installing PostgreSQL through ``scripts/system-deps.sh`` when no
``initdb`` is found), sets ``PGPASSWORD`` for its lifetime, yields a ``Server`` and tears it down.
Where PostgreSQL cannot be installed at all, the tests that need it skip with that reason; under
CI (``CI`` set) they fail instead, so a CI run never passes without the database tests.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import adbc_driver_postgresql.dbapi
import polars as pl
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres.sh"
PASSWORD = "s3cret-drawdown-pw"
"""The test user's password: recognisable, so that a test can look for it in a run folder."""
_NOT_INSTALLABLE = 69


@dataclass(frozen=True)
class Server:
    """A running server: ``uri`` (no password) reaches its database ``drawdown`` as ``drawdown``."""

    uri: str

    def database(self, name: str) -> str:
        """A new empty database on this server (name: lower-case letters, digits, _); its URI."""
        with self._cursor(self.uri) as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        return f"{self.uri.rsplit('/', 1)[0]}/{name}"

    def execute(self, uri: str, *statements: str) -> None:
        """Run SQL statements on the database at ``uri``, one by one."""
        with self._cursor(uri) as cursor:
            for statement in statements:
                cursor.execute(statement)

    def ingest(self, uri: str, table: str, frame: pl.DataFrame) -> None:
        """Create or replace ``table`` on the database at ``uri`` with ``frame``'s rows."""
        with self._cursor(uri) as cursor:
            cursor.adbc_ingest(table, frame.to_arrow(), mode="replace")

    @staticmethod
    @contextmanager
    def _cursor(uri: str) -> Iterator[adbc_driver_postgresql.dbapi.Cursor]:
        with (
            adbc_driver_postgresql.dbapi.connect(uri, autocommit=True) as connection,
            connection.cursor() as cursor,
        ):
            yield cursor


@contextmanager
def postgres_server() -> Iterator[Server]:
    """Start a server in a new folder, with ``PGPASSWORD`` set; stop it and remove the folder."""
    folder = tempfile.mkdtemp(prefix="drawdown-pg-")
    env = {**os.environ, "DRAWDOWN_PG_DIR": folder, "DRAWDOWN_PG_PASSWORD": PASSWORD}
    started = subprocess.run(
        [str(SCRIPT), "start"], env=env, capture_output=True, text=True, check=False
    )
    if started.returncode == _NOT_INSTALLABLE and not os.environ.get("CI"):
        pytest.skip(f"PostgreSQL cannot be installed here: {started.stderr.strip()}")
    try:
        assert started.returncode == 0, f"scripts/postgres.sh start failed:\n{started.stderr}"
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PGPASSWORD", PASSWORD)
            yield Server(uri=started.stdout.strip().splitlines()[-1])
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, check=False)
