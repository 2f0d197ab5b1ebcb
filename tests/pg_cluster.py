"""A throwaway PostgreSQL cluster for the tests (the ``pg_url`` / ``pg_db`` fixtures).

It is started with the same script `make serve` uses (scripts/pg-cluster.sh), in a private
folder under /tmp (short: a unix socket path is limited to 107 bytes), with no TCP port, and
removed at the end of the session. A missing PostgreSQL fails the tests that need it: `make
test` installs it (`make postgres`), so a skip would only hide a broken set-up.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "pg-cluster.sh"
_counter = itertools.count(1)


def postgres_installed() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class Cluster:
    """One running cluster: ``url`` is its database "harmscope"; ``new_database()`` adds more."""

    def __init__(self) -> None:
        if not postgres_installed():
            pytest.fail(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): run "
                "`make postgres` (`make test` does it) to install it from Debian packages"
            )
        self.dir = Path(tempfile.mkdtemp(prefix="hs-pg-"))
        env = {**os.environ, "PG_FAST": "1"}
        run = subprocess.run(
            ["sh", str(SCRIPT), "start", str(self.dir)], capture_output=True, text=True, env=env
        )
        if run.returncode != 0:
            shutil.rmtree(self.dir, ignore_errors=True)
            pytest.fail(f"could not start a PostgreSQL test cluster: {run.stderr.strip()}")
        self.url = run.stdout.strip().splitlines()[-1]

    def url_for(self, database: str) -> str:
        return self.url.replace("/harmscope?", f"/{database}?", 1)

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.url_for("postgres"), autocommit=True) as con:
            con.execute(sql)

    def new_database(self, prefix: str = "hs_test") -> str:
        name = f"{prefix}_{os.getpid()}_{next(_counter)}"
        self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        with contextlib.suppress(Exception):
            self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        env = {**os.environ, "PG_FAST": "1"}
        subprocess.run(["sh", str(SCRIPT), "stop", str(self.dir)], capture_output=True, env=env)
        shutil.rmtree(self.dir, ignore_errors=True)
