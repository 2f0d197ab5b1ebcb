"""Audit trail: one row in ``audit_log`` (who, when, audience, what, query) per ED output.

Callers write the audit row and the output inside one store transaction and remove the file if
the transaction fails, so no ED output exists without its audit row.
"""

from __future__ import annotations

import getpass
import os
from datetime import UTC, datetime

import pandas as pd

from harmscope.privacy.audience import get_audience

USER_ENV = "HARMSCOPE_USER"


def current_user() -> str:
    """``HARMSCOPE_USER`` (a named analyst), else the operating-system login."""
    user = os.environ.get(USER_ENV, "").strip()
    if user:
        return user
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


def check_audience(audience: str) -> str:
    return get_audience(audience).name


def record(
    store,
    *,
    action: str,
    what: str,
    query: str,
    audience: str,
    rows: int | None = None,
    suppressed: int | None = None,
    output: str | None = None,
    who: str | None = None,
) -> int:
    """Append one audit row and return its id."""
    check_audience(audience)
    at = datetime.now(UTC).replace(tzinfo=None)
    row = store.con.execute(
        "INSERT INTO audit_log VALUES (nextval('audit_id_seq'), ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "RETURNING audit_id",
        [at, who or current_user(), audience, action, what, query, rows, suppressed, output],
    ).fetchall()[0]
    return int(row[0])


def entries(store, limit: int = 50) -> pd.DataFrame:
    return store.query("SELECT * FROM audit_log ORDER BY audit_id DESC LIMIT ?", [int(limit)])
