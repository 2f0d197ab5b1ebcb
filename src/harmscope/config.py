"""Where things live: the store file and the key material, from flags or the environment."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB = "harmscope.duckdb"


def resolve_db_path(db: str | os.PathLike | None = None) -> Path:
    """``--db`` wins, then ``HARMSCOPE_DB``, then ``harmscope.duckdb`` in the working folder."""
    if db:
        return Path(db)
    env = os.environ.get("HARMSCOPE_DB")
    if env:
        return Path(env)
    return Path.cwd() / DEFAULT_DB
