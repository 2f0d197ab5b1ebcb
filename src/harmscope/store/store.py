"""Store: the embedded DuckDB file, its schema versions, transactions and read-only SQL."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

if TYPE_CHECKING:  # only a type here: `harmscope status` must not wait for pandas
    import pandas as pd

from harmscope.config import is_db_url, resolve_db_path
from harmscope.errors import HarmscopeError
from harmscope.store.migrations import LATEST_VERSION, MIGRATIONS, POSTGRES_SQL


class Store:
    """An embedded DuckDB store.

    >>> store = Store.open(":memory:")
    >>> store.query("SELECT count(*) AS n FROM street_crimes").n[0]
    0

    Analyses read through :meth:`query` (SQL the store runs in the engine) and get small
    aggregated frames back. Writers use :meth:`transaction`, so a failure or a kill leaves
    the file as it was before.
    """

    def __init__(
        self,
        con: duckdb.DuckDBPyConnection,
        path: Path | None,
        read_only: bool,
        *,
        url: str | None = None,
    ):
        self.con = con
        self.path = path
        self.read_only = read_only
        # PostgreSQL server store (store/pg.py): ``path`` is None, ``url`` the connection URL.
        self.url = url
        self.dialect = "postgres" if url else "duckdb"
        # The key of a writable DuckDB file attached in this process (released at close).
        self._attached: str | None = None

    @property
    def location(self) -> str:
        """Where the store is, for messages: the file, the URL without password, or :memory:."""
        if self.url:
            from harmscope.store.pg import redact_url

            return redact_url(self.url)
        return str(self.path) if self.path else ":memory:"

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, db: str | os.PathLike | None = None, *, read_only: bool = False) -> Store:
        """Open (and create or migrate) the store at ``db``, ``HARMSCOPE_DB`` or the default."""
        if db is not None and str(db) == ":memory:":
            con = duckdb.connect(":memory:")
            store = cls(con, None, False)
            store.migrate()
            return store
        if is_db_url(str(db) if db is not None else os.environ.get("HARMSCOPE_DB", "")):
            return cls._open_pg(str(db) if db else os.environ["HARMSCOPE_DB"], read_only)
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
            con = _connect(path, read_only)
        except duckdb.Error as exc:
            text = str(exc).lower()
            # " lock": DuckDB's lock messages, not the "block" of a checksum failure
            if "not a valid duckdb" not in text and " lock" not in text:
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
        if not read_only:
            store._attached = str(path.resolve())
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

    @classmethod
    def _open_pg(cls, url: str, read_only: bool) -> Store:
        """The PostgreSQL server store at ``url``: migrated on open (also when asked for
        read-only, as a file store is), then read-only sessions refuse writes in the server."""
        from harmscope.store.pg import PgConnection, redact_url

        try:
            con = PgConnection(url)
        except Exception as exc:  # psycopg.OperationalError: no server, bad URL, no database
            raise HarmscopeError(
                f"cannot connect to the PostgreSQL store ({first_line(exc)})",
                where=redact_url(url),
                fix="start the server (`make serve`, or scripts/pg-cluster.sh start DIR) and "
                "check the URL in --db / HARMSCOPE_DB (postgresql://USER@HOST/DATABASE)",
            ) from None
        store = cls(con, None, read_only, url=url)  # type: ignore[arg-type]
        try:
            store.migrate()
            if read_only:
                con.execute("SET default_transaction_read_only = on")
        except Exception:
            store.close()
            raise
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
        with contextlib.suppress(Exception):  # duckdb.Error, or psycopg's on a server store
            self.con.close()
        if self._attached is not None:
            key, self._attached = self._attached, None
            _release(key)

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
        if self.dialect == "postgres":
            # Several server processes (web workers) may open a new database at once: one
            # migrates, the others wait for it (a file store has one writer by its lock).
            self.con.raw_execute("SELECT pg_advisory_lock(%s)", [_MIGRATE_LOCK])
            try:
                return self._migrate()
            finally:
                self.con.raw_execute("SELECT pg_advisory_unlock(%s)", [_MIGRATE_LOCK])
        return self._migrate()

    def _migrate(self) -> list[int]:
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
                if self.dialect == "postgres" and version in POSTGRES_SQL:
                    self.con.raw_execute(POSTGRES_SQL[version])  # PostgreSQL's own dialect
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
            with contextlib.suppress(Exception):  # duckdb.Error, or psycopg's on a server store
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


# pg_advisory_lock key serialising migrations of one PostgreSQL database ("hs" + 1).
_MIGRATE_LOCK = 0x68730001


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


# Rows per DuckDB row group when writing (its default is 122,880). A row group is what a
# zone map (min/max per column) lets a scan skip; ingest writes each batch's rows ordered by
# force, so with small groups one force's query on a national store reads about its own rows
# rather than whole groups shared with neighbouring forces (benchmarks/bench_national.py).
# DuckDB keeps no row group size in the file and merges small groups when a connection with
# the default size checkpoints, so every writable open must set it.
ROW_GROUP_SIZE = 16_384
STORE_ALIAS = "harmscope"


# Writable stores attached in this process: resolved path -> [base connection, users]. A
# second open of the same file in one process (the web app and a command run in-process, or
# two Stores in a test) gets a cursor on the same database, as ``duckdb.connect`` of one path
# twice did before stores were attached; the file is detached when its last user closes.
_ATTACHED: dict[str, list] = {}
_ATTACH_LOCK = threading.Lock()


def _connect(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """The store file as the connection's default database. Read-only connections never
    write row groups, so they open it directly."""
    if read_only:
        return duckdb.connect(str(path), read_only=True)
    key = str(path.resolve())
    with _ATTACH_LOCK:
        held = _ATTACHED.get(key)
        if held is None:
            base = duckdb.connect(":memory:")
            try:
                quoted = str(path).replace("'", "''")
                base.execute(
                    f"ATTACH '{quoted}' AS {STORE_ALIAS} (ROW_GROUP_SIZE {ROW_GROUP_SIZE})"
                )
            except BaseException:
                base.close()
                raise
            held = _ATTACHED[key] = [base, 0]
        con = held[0].cursor()
        try:
            con.execute(f"USE {STORE_ALIAS}")
        except BaseException:
            con.close()
            _release(key, locked=True)
            raise
        held[1] += 1
    return con


def _release(key: str, *, locked: bool = False) -> None:
    """One user of an attached store closed; detach the file when it was the last."""
    lock = contextlib.nullcontext() if locked else _ATTACH_LOCK
    with lock:
        held = _ATTACHED.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del _ATTACHED[key]
            with contextlib.suppress(Exception):
                held[0].close()


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
