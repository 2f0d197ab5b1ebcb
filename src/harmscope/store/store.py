"""Store: the embedded DuckDB file, its schema versions, transactions and read-only SQL."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from harmscope.config import resolve_db_path
from harmscope.errors import HarmscopeError
from harmscope.store.migrations import LATEST_VERSION, MIGRATIONS


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
            raise no_store_yet(path)
        if path.parent and not path.parent.exists():
            raise HarmscopeError(
                f"the folder {path.parent} does not exist",
                where=f"--db {path}",
                fix="create the folder or choose another --db path",
            )
        try:
            con = duckdb.connect(str(path), read_only=read_only)
        except duckdb.Error as exc:
            text = str(exc).lower()
            if "not a valid duckdb" not in text and "lock" not in text:
                if (mapped := store_failure(exc, path, any_io=False)) is not None:
                    raise mapped from None
            if not isinstance(exc, duckdb.IOException) or "not a valid duckdb" in text:
                raise HarmscopeError(
                    f"not a harmscope/DuckDB store ({first_line(exc)})",
                    where=str(path),
                    fix="pass the path of a store made by harmscope, or a new file name",
                ) from None
            raise HarmscopeError(
                f"cannot open the store ({first_line(exc)})",
                where=str(path),
                fix="close other programs using it, or pass another --db",
            ) from None
        store = cls(con, path, read_only)
        try:
            if read_only and store.schema_version() and store.pending_migrations():
                # A store made by an older harmscope: migrate it once (briefly writable), then
                # read it as asked. Upgrading must not make every read-only command fail.
                store.close()
                with cls.open(path, read_only=False):
                    pass
                return cls.open(path, read_only=True)
            store._check_schema(read_only)
        except duckdb.Error as exc:
            store.close()
            raise (store_failure(exc, path) or StoreError.damaged(exc, path)) from None
        return store

    def _check_schema(self, read_only: bool) -> None:
        store, path = self, self.path
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

    def read_only_query(
        self, sql: str, *, audience: str = "internal"
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run one user SELECT through the sandbox checks (``store/sandbox.py``): allow-listed
        tables only, no table functions, rolled back. `harmscope sql` itself goes through
        ``sandbox.run_query``, which adds a locked-down connection and the audit row."""
        from harmscope.store import sandbox

        result = sandbox.query_store(self, sql, audience=audience)
        return result.columns, result.rows

    def table_exists(self, name: str) -> bool:
        return bool(
            self.con.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            ).fetchone()[0]
        )


class StoreError(HarmscopeError):
    """The store itself failed (disk full, damaged file): not the user's input.

    The CLI prints it as one ``Error:`` line and, with ``--json``, as ``{"error": ...}``.
    """

    @classmethod
    def disk_full(cls, exc: BaseException, path: str | os.PathLike | None) -> StoreError:
        return cls(
            f"the disk is full: the store could not be written ({first_line(exc)}); "
            "the file being loaded was rolled back",
            where=str(path) if path else "store",
            fix="free disk space (or point --db / HARMSCOPE_DB at a disk with room) and run "
            "the command again; files already loaded are kept",
        )

    @classmethod
    def damaged(cls, exc: BaseException, path: str | os.PathLike | None) -> StoreError:
        return cls(
            f"the store file is damaged and cannot be read ({first_line(exc)})",
            where=str(path) if path else "store",
            fix="restore the store from a backup, or build a new one with `harmscope ingest` "
            "from the original files (keep the damaged file for inspection)",
        )


_DISK_FULL = ("no space left on device", "disk quota exceeded", "file too large")
_DAMAGE = (
    "corrupt",
    "checksum",
    "could not read enough bytes",
    "invalidated",
    "serialization error",
    "invalid block",
)


def store_failure(
    exc: BaseException, path: str | os.PathLike | None = None, *, any_io: bool = True
) -> StoreError | None:
    """A StoreError for a DuckDB failure the user must act on (disk full, damaged file), else None.

    With ``any_io``, any I/O error reading an open store (other than a lock or permissions)
    counts as damage: DuckDB reports a truncated file as "Could not read enough bytes".
    """
    return _classify(exc, str(exc), isinstance(exc, duckdb.IOException) and any_io, path)


def store_failure_text(message: str, path: str | os.PathLike | None = None) -> StoreError | None:
    """store_failure for an error already turned into text ("IOException: ...", as report
    sections record them)."""
    return _classify(message, message, message.startswith("IOException"), path)


def _classify(exc, message: str, io: bool, path) -> StoreError | None:
    text = message.lower()
    if any(k in text for k in _DISK_FULL):
        return StoreError.disk_full(exc, path)
    if any(k in text for k in _DAMAGE) or (io and "lock" not in text and "permission" not in text):
        return StoreError.damaged(exc, path)
    return None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def no_store_yet(path: Path) -> HarmscopeError:
    """Reading a store that was never made (the sandbox refuses the same way)."""
    return HarmscopeError(
        "no store file here yet",
        where=str(path),
        fix="run `harmscope ingest PATH...` first, or point --db / HARMSCOPE_DB at an existing store",
    )


def first_line(exc: BaseException | str) -> str:
    """The first line of an error's text (DuckDB's run to several), else its type."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
