"""Store: the embedded DuckDB file, its schema versions, transactions and read-only SQL."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harmscope.config import resolve_db_path
from harmscope.errors import HarmscopeError
from harmscope.store.migrations import LATEST_VERSION, MIGRATIONS

_WRITE_SQL = re.compile(
    r"^\s*(insert|update|delete|create|drop|alter|attach|detach|copy|install|load|pragma|set|"
    r"call|checkpoint|vacuum|begin|commit|rollback|export|import)\b",
    re.IGNORECASE,
)


class Store:
    """An embedded DuckDB store.

    >>> store = Store.open(":memory:")
    >>> store.query("SELECT count(*) AS n FROM street_crimes").n[0]
    0

    Analyses read through :meth:`query` (SQL the store runs in the engine) and get small
    aggregated frames back. Writers use :meth:`transaction`, so a failure or a kill leaves
    the file as it was before.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path | None, read_only: bool):
        self.con = con
        self.path = path
        self.read_only = read_only

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, db: str | os.PathLike | None = None, *, read_only: bool = False) -> Store:
        """Open (and create or migrate) the store at ``db``, ``HARMSCOPE_DB`` or the default."""
        if db is not None and str(db) == ":memory:":
            con = duckdb.connect(":memory:")
            store = cls(con, None, False)
            store.migrate()
            return store
        path = resolve_db_path(db)
        if read_only and not path.exists():
            raise HarmscopeError(
                "no store file here yet",
                where=str(path),
                fix="run `harmscope ingest PATH...` first, or point --db / HARMSCOPE_DB at an existing store",
            )
        if path.parent and not path.parent.exists():
            raise HarmscopeError(
                f"the folder {path.parent} does not exist",
                where=f"--db {path}",
                fix="create the folder or choose another --db path",
            )
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            raise HarmscopeError(
                f"cannot open the store ({_first_line(exc)})",
                where=str(path),
                fix="close other programs using it, or pass another --db",
            ) from None
        except duckdb.Error as exc:
            raise HarmscopeError(
                f"not a harmscope/DuckDB store ({_first_line(exc)})",
                where=str(path),
                fix="pass the path of a store made by harmscope, or a new file name",
            ) from None
        store = cls(con, path, read_only)
        if read_only:
            version = store.schema_version()
            if version == 0 or store.pending_migrations():
                raise HarmscopeError(
                    f"store schema is version {version} and lacks migrations "
                    f"{store.pending_migrations() if version else 'all'}; this harmscope is at {LATEST_VERSION}",
                    where=str(path),
                    fix="open it once without read-only (for example `harmscope status`) to migrate it",
                )
        else:
            store.migrate()
        return store

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------------
    def schema_version(self) -> int:
        exists = self.con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_migrations'"
        ).fetchone()[0]
        if not exists:
            return 0
        row = self.con.execute("SELECT max(version) FROM schema_migrations").fetchone()
        return int(row[0] or 0)

    def migrate(self) -> list[int]:
        """Apply every migration this store has not had, each in its own transaction.

        Versions are applied by membership, not by "above the maximum", so a migration that
        lands later with a lower number still runs on stores made in between.
        """
        applied: list[int] = []
        self.con.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            "version INTEGER PRIMARY KEY, description VARCHAR, applied_at TIMESTAMP)"
        )
        done = {r[0] for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        for version, description, sql in MIGRATIONS:
            if version in done:
                continue
            with self.transaction():
                self.con.execute(sql)
                self.con.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    [version, description, _now()],
                )
            applied.append(version)
        return applied

    def pending_migrations(self) -> list[int]:
        done = {r[0] for r in self.con.execute("SELECT version FROM schema_migrations").fetchall()}
        return [v for v, _, _ in MIGRATIONS if v not in done]

    # -- transactions and queries ------------------------------------------------------------
    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All-or-nothing: commits on success, rolls back on any exception (or a kill)."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
            raise
        else:
            self.con.execute("COMMIT")

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        """Run SQL in the engine and return the (small) result as a DataFrame."""
        return self.con.execute(sql, params or []).df()

    def execute(self, sql: str, params: list | dict | None = None) -> duckdb.DuckDBPyConnection:
        return self.con.execute(sql, params or [])

    def read_only_query(self, sql: str) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run a user's SELECT without letting it change the store (used by `harmscope sql`)."""
        if _WRITE_SQL.match(sql) or ";" in sql.strip().rstrip(";"):
            raise HarmscopeError(
                "only a single read-only query (SELECT, WITH, DESCRIBE, SHOW, SUMMARIZE) is allowed",
                where="sql",
                fix="remove statements that change the store; use `harmscope ingest` to load data",
            )
        self.con.execute("BEGIN TRANSACTION")
        try:
            cur = self.con.execute(sql)
            cols = [d[0] for d in cur.description] if cur.description else []
            rows = cur.fetchall() if cur.description else []
        except duckdb.Error as exc:
            raise HarmscopeError(
                _first_line(exc),
                where="sql",
                fix="check the table and column names with `harmscope status`",
            ) from None
        finally:
            with contextlib.suppress(duckdb.Error):
                self.con.execute("ROLLBACK")
        return cols, rows

    def table_exists(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchone()[0]
        )


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
