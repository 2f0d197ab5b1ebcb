"""Where things live: the store file and the key material, from flags or the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "harmscope.duckdb"


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``HARMSCOPE_DB``, then ``harmscope.duckdb`` in the working folder.

    For a file store only: a ``postgresql://`` URL has no path (see :func:`resolve_db`), and
    the callers that need a file (the `harmscope sql` sandbox's locked-down DuckDB connection)
    refuse one clearly.
    """
    where = resolve_db(db)
    if isinstance(where, str):
        from harmscope.errors import HarmscopeError

        raise HarmscopeError(
            "this needs the embedded DuckDB store file, not a PostgreSQL server store",
            where="--db / HARMSCOPE_DB",
            fix="pass a .duckdb store file (`harmscope db backup` copies a store of the same "
            "kind); on the server store, query with psql under a read-only role",
        )
    return where


def resolve_db(db: str | os.PathLike | None = None) -> str | Path:
    """As :func:`resolve_db_path`, but a ``postgresql://`` URL (the server store) stays a URL."""
    chosen = db if db else os.environ.get("HARMSCOPE_DB")
    if chosen and is_db_url(str(chosen)):
        return str(chosen)
    if chosen:
        return Path(chosen)
    return Path.cwd() / DEFAULT_DB


def is_db_url(db: object) -> bool:
    """True when ``db`` names a PostgreSQL server store (``postgresql://...``)."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))
