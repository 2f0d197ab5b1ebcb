"""Back up and restore a store: a DuckDB file or a PostgreSQL server database (issue 16).

* DuckDB: the store is opened (which takes its write lock, so no other writer runs), folded
  (CHECKPOINT: the write-ahead log is emptied into the file) and its file copied while the lock
  is held: a consistent copy, itself an openable store. Restore copies a backup over the store
  file (through a temporary file and a rename, so a failure leaves the old store).
* PostgreSQL: ``pg_dump`` in its custom format (one consistent snapshot of the database) and
  ``pg_restore --single-transaction`` (all or nothing).

Restoring over a store that holds data is refused unless ``force`` is given: a backup never
silently replaces a partnership's store.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from harmscope.config import is_db_url, resolve_db
from harmscope.errors import HarmscopeError

PG_MAGIC = b"PGDMP"  # pg_dump custom format
DUCKDB_MAGIC = b"DUCK"  # at byte 8 of a DuckDB database file


@dataclass
class BackupResult:
    store: str
    file: str
    kind: str  # duckdb | postgres
    bytes: int
    tables: int = 0
    rows: int = 0

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def backup(db: str | os.PathLike | None, file: str | os.PathLike) -> BackupResult:
    """Write a backup of the store ``db`` (a path or ``postgresql://`` URL) to ``file``."""
    target = Path(file)
    if target.is_dir():
        raise HarmscopeError(
            f"{target} is a folder", where="FILE", fix="give a file name, e.g. store.backup"
        )
    if not target.parent.exists():
        raise HarmscopeError(
            f"the folder {target.parent} does not exist",
            where=str(target),
            fix="create the folder or choose another backup file",
        )
    where = resolve_db(db)
    if isinstance(where, str):
        return _backup_pg(where, target)
    return _backup_duckdb(where, target)


def restore(
    db: str | os.PathLike | None, file: str | os.PathLike, *, force: bool = False
) -> BackupResult:
    """Replace the store ``db`` by the backup ``file``; refuses a store holding data unless
    ``force``."""
    source = Path(file)
    if not source.is_file():
        raise HarmscopeError(
            "no backup file here",
            where=str(source),
            fix="give a file made by `harmscope db backup`",
        )
    kind = backup_kind(source)
    where = resolve_db(db)
    want = "postgres" if isinstance(where, str) else "duckdb"
    if kind != want:
        raise HarmscopeError(
            f"this is a {_KIND_NAMES.get(kind, kind)} backup, and the store is a "
            f"{_KIND_NAMES[want]} store",
            where=str(source),
            fix="restore a DuckDB backup into a .duckdb file and a PostgreSQL backup into a "
            "postgresql:// store (`harmscope db backup` on a store of the same kind makes one)",
        )
    if isinstance(where, str):
        return _restore_pg(where, source, force)
    return _restore_duckdb(where, source, force)


_KIND_NAMES = {"duckdb": "DuckDB", "postgres": "PostgreSQL", "unknown": "unrecognised"}


def backup_kind(file: Path) -> str:
    """duckdb | postgres | unknown, from the file's first bytes."""
    with open(file, "rb") as fh:
        head = fh.read(16)
    if head.startswith(PG_MAGIC):
        return "postgres"
    if head[8:12] == DUCKDB_MAGIC:
        return "duckdb"
    return "unknown"


def store_rows(store) -> tuple[int, int]:
    """(tables, rows) the store holds, leaving out the schema bookkeeping."""
    tables = [
        r[0]
        for r in store.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' AND table_name <> 'schema_migrations' ORDER BY 1"
        ).fetchall()
    ]
    rows = 0
    for t in tables:
        rows += int(store.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
    return len(tables), rows


def _refuse_non_empty(store, location: str, force: bool) -> None:
    _, rows = store_rows(store)
    if rows and not force:
        raise HarmscopeError(
            f"the store already holds {rows:,} rows; restoring would replace them",
            where=location,
            fix="restore into a new store (another --db), or pass --force to replace this one",
        )


# -- DuckDB ------------------------------------------------------------------------------------
def _backup_duckdb(path: Path, target: Path) -> BackupResult:
    from harmscope.store.store import Store, no_store_yet

    if not path.exists():
        raise no_store_yet(path)
    if target.resolve() == path.resolve():
        raise HarmscopeError(
            "the backup file is the store itself", where=str(target), fix="give another file name"
        )
    with Store.open(path) as store:  # holds the write lock while the file is copied
        tables, rows = store_rows(store)
        store.execute("CHECKPOINT")
        _atomic_copy(path, target)
    return BackupResult(str(path), str(target), "duckdb", target.stat().st_size, tables, rows)


def _restore_duckdb(path: Path, source: Path, force: bool) -> BackupResult:
    import duckdb

    from harmscope.store.store import Store

    try:  # a real, readable store? (read as it is: an older backup is migrated once restored)
        con = duckdb.connect(str(source), read_only=True)
    except duckdb.Error as exc:
        raise HarmscopeError(
            f"the backup cannot be read ({str(exc).splitlines()[0]})",
            where=str(source),
            fix="give a file made by `harmscope db backup`",
        ) from None
    try:
        tables, rows = store_rows(con)
    finally:
        con.close()
    if path.exists():
        with Store.open(path) as current:
            _refuse_non_empty(current, str(path), force)
    _atomic_copy(source, path)
    wal = Path(str(path) + ".wal")
    if wal.exists():  # the old store's log belongs to the old file
        wal.unlink()
    with Store.open(path):  # migrate an older backup to this harmscope's schema
        pass
    return BackupResult(str(path), str(source), "duckdb", path.stat().st_size, tables, rows)


def _atomic_copy(source: Path, target: Path) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


# -- PostgreSQL --------------------------------------------------------------------------------
def _pg_tool(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    path = found[-1] if found else shutil.which(name)
    if not path:
        raise HarmscopeError(
            f"{name} is not installed",
            where="PostgreSQL client tools",
            fix="run `make postgres` (installs PostgreSQL from Debian packages)",
        )
    return path


def _run(cmd: list[str], what: str, where: str) -> None:
    from harmscope.store.pg import redact_url

    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        message = (done.stderr or done.stdout).strip().splitlines()
        raise HarmscopeError(
            f"{what} failed ({redact_url(message[-1]) if message else f'exit {done.returncode}'})",
            where=where,
            fix="check that the server is running and the URL is right; nothing was changed",
        )


def _backup_pg(url: str, target: Path) -> BackupResult:
    from harmscope.store.store import Store

    with Store.open(url) as store:
        tables, rows = store_rows(store)
        location = store.location
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        _run([_pg_tool("pg_dump"), "-Fc", "--no-owner", "-f", tmp, "-d", url], "pg_dump", location)
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return BackupResult(location, str(target), "postgres", target.stat().st_size, tables, rows)


def _restore_pg(url: str, source: Path, force: bool) -> BackupResult:
    from harmscope.store.store import Store

    with Store.open(url) as store:
        _refuse_non_empty(store, store.location, force)
        location = store.location
    _run(
        [
            _pg_tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "-d",
            url,
            str(source),
        ],
        "pg_restore",
        location,
    )
    with Store.open(url) as store:  # migrate an older backup to this harmscope's schema
        tables, rows = store_rows(store)
    return BackupResult(location, str(source), "postgres", source.stat().st_size, tables, rows)


__all__ = ["BackupResult", "backup", "backup_kind", "is_db_url", "restore", "store_rows"]
