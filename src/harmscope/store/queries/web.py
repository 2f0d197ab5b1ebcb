"""Queries of the web workspace (issue 16): accounts, sessions, the web audit trail and the
data version the payload cache is keyed on. Plain SQL both engines run (no DuckDB-only
functions), parameters always bound."""

from __future__ import annotations

from datetime import datetime

import pandas as pd

# -- accounts -----------------------------------------------------------------------------


def account(store, name: str) -> dict | None:
    """The account called ``name`` (any state), else None."""
    df = store.query(
        "SELECT name, role, agency, password_hash, disabled FROM web_accounts WHERE name = ?",
        [name],
    )
    if df.empty:
        return None
    row = df.iloc[0]
    return {
        "name": str(row["name"]),
        "role": str(row["role"]),
        "agency": None if pd.isna(row["agency"]) else str(row["agency"]),
        "password_hash": str(row["password_hash"]),
        "disabled": bool(row["disabled"]),
    }


def accounts(store) -> pd.DataFrame:
    return store.query(
        "SELECT name, role, agency, disabled, created_at FROM web_accounts ORDER BY name"
    )


def add_account(
    store, name: str, role: str, agency: str | None, password_hash: str, at: datetime
) -> None:
    store.execute(
        "INSERT INTO web_accounts (name, role, agency, password_hash, disabled, created_at) "
        "VALUES (?, ?, ?, ?, FALSE, ?)",
        [name, role, agency, password_hash, at],
    )


def set_password(store, name: str, password_hash: str) -> None:
    store.execute("UPDATE web_accounts SET password_hash = ? WHERE name = ?", [password_hash, name])


def set_disabled(store, name: str, disabled: bool) -> None:
    store.execute("UPDATE web_accounts SET disabled = ? WHERE name = ?", [disabled, name])


# -- sessions -----------------------------------------------------------------------------


def add_session(
    store, token_hash: str, account: str | None, csrf: str, at: datetime, expires: datetime
) -> None:
    store.execute(
        "INSERT INTO web_sessions (token_hash, account, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        [token_hash, account, csrf, at, expires],
    )


def session(store, token_hash: str, now: datetime) -> dict | None:
    """The live session with this token hash and its account (None if expired or unknown).
    One row read as a tuple: every signed-in request asks, so no DataFrame is built."""
    row = store.execute(
        "SELECT s.account, s.csrf_token, a.role, a.agency, a.disabled "
        "FROM web_sessions s LEFT JOIN web_accounts a ON a.name = s.account "
        "WHERE s.token_hash = ? AND s.expires_at > ?",
        [token_hash, now],
    ).fetchone()
    if row is None:
        return None
    account_, csrf, role, agency, disabled = row
    return {
        "account": _text(account_),
        "csrf_token": str(csrf),
        "role": _text(role),
        "agency": _text(agency),
        "disabled": bool(disabled) if disabled is not None else False,
    }


def _text(v) -> str | None:
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)


def delete_session(store, token_hash: str) -> None:
    store.execute("DELETE FROM web_sessions WHERE token_hash = ?", [token_hash])


def delete_sessions_of(store, account: str) -> None:
    store.execute("DELETE FROM web_sessions WHERE account = ?", [account])


def delete_expired_sessions(store, now: datetime) -> None:
    store.execute("DELETE FROM web_sessions WHERE expires_at <= ?", [now])


# -- audit --------------------------------------------------------------------------------

AUDIT_COLUMNS = (
    "audit_id",
    "logged_at",
    "who",
    "role",
    "agency",
    "action",
    "resource",
    "audience",
    "query",
    "params",
    "prev_hash",
    "row_hash",
)


def lock_audit(store) -> None:
    """Inside a transaction: on PostgreSQL, hold the audit table against other writers (other
    server processes) until commit, so two rows never claim the same place in the chain. A
    DuckDB file has one writing process; the caller's thread lock covers it."""
    if getattr(store, "dialect", "duckdb") == "postgres":
        store.con.raw_execute("LOCK TABLE web_audit IN SHARE ROW EXCLUSIVE MODE")


def last_audit(store) -> tuple[int, str] | None:
    """(id, hash) of the newest audit row, None when there is none."""
    row = store.execute(
        "SELECT audit_id, row_hash FROM web_audit ORDER BY audit_id DESC LIMIT 1"
    ).fetchone()
    return None if row is None else (int(row[0]), str(row[1]))


def add_audit(store, row: dict) -> None:
    cols = ", ".join(AUDIT_COLUMNS)
    marks = ", ".join("?" for _ in AUDIT_COLUMNS)
    store.execute(
        f"INSERT INTO web_audit ({cols}) VALUES ({marks})", [row[c] for c in AUDIT_COLUMNS]
    )


def audit_rows(store, limit: int | None = None, after: int = 0) -> pd.DataFrame:
    """Audit rows in id order (the newest ``limit`` when given, still in id order)."""
    cols = ", ".join(AUDIT_COLUMNS)
    if limit is None:
        return store.query(
            f"SELECT {cols} FROM web_audit WHERE audit_id > ? ORDER BY audit_id", [after]
        )
    df = store.query(f"SELECT {cols} FROM web_audit ORDER BY audit_id DESC LIMIT ?", [int(limit)])
    return df.iloc[::-1].reset_index(drop=True)


def ensure_audit_trigger(store) -> bool:
    """On PostgreSQL, install (or refresh) the trigger that refuses UPDATE, DELETE and
    TRUNCATE on ``web_audit`` (migration m010's ``POSTGRES_SQL``, run as written). True when
    the store is PostgreSQL; a DuckDB store has no triggers and relies on the hash chain."""
    if getattr(store, "dialect", "duckdb") != "postgres":
        return False
    from harmscope.store.migrations.m010_web import POSTGRES_SQL

    store.con.raw_execute(POSTGRES_SQL)
    return True


# -- data version -------------------------------------------------------------------------

# Tables whose content the web pages publish: a change to any of them makes cached payloads
# stale. Counts and the newest ingest id, not timestamps, so a reload of the same rows counts.
# Every one is made by a migration (m001-m008), so all exist in a migrated store.
_DATA_TABLES = ("interventions", "ed_assaults", "crimes", "links", "covariate_values")


def data_version(store) -> str:
    """A short text that changes whenever the data the web pages show changes (one round
    trip: the server store re-reads it every few seconds under load)."""
    counts = ", ".join(f'(SELECT count(*) FROM "{t}") AS n{i}' for i, t in enumerate(_DATA_TABLES))
    row = store.query(f"SELECT (SELECT max(ingest_id) FROM ingests) AS latest, {counts}")
    return ":".join(str(v) for v in row.iloc[0].tolist())
