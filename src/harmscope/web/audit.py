"""The web audit trail: every view or export of non-public data, append-only.

Each row of ``web_audit`` holds who, when, what (action and resource), the audience it was
published for, the query (request path or library call) and its parameters, plus
``prev_hash`` (the previous row's hash) and ``row_hash`` = sha256(prev_hash + the row's
fields). Editing a row breaks its own hash; deleting one breaks the next row's link (and
the ids, which run without gaps). Deleting the newest rows leaves a shorter valid chain, so
``verify`` also returns the head (count, hash) to keep outside the store and compare later.
On PostgreSQL a trigger refuses UPDATE and DELETE outright (migration m010).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from harmscope.store.queries import web as q
from harmscope.web import access
from harmscope.web.access import User

GENESIS = "0" * 64
# One writer at a time: the chain needs each row to see the one before it.
_lock = threading.Lock()


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _when(value: Any) -> str:
    return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S.%f")


def _text(value: Any) -> str | None:
    return None if value is None or (not isinstance(value, str) and pd.isna(value)) else str(value)


def row_hash(prev_hash: str, row: dict) -> str:
    """sha256 of the previous hash and this row's fields (a canonical JSON list)."""
    fields = [
        int(row["audit_id"]),
        _when(row["logged_at"]),
        *(_text(row[k]) for k in ("who", "role", "agency", "action", "resource", "audience")),
        _text(row["query"]),
        _text(row["params"]),
    ]
    body = json.dumps(fields, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def params_text(params: dict | None) -> str:
    return json.dumps(params or {}, sort_keys=True, default=str, separators=(",", ":"))


def record(
    store,
    user: User | None,
    action: str,
    resource: str,
    query: str,
    params: dict | None,
    *,
    audience: str | None = None,
) -> int:
    """Append one audit row (hash-chained) and return its id."""
    user = user or access.PUBLIC
    if audience is None:
        audience = (
            access.audience_for(user, resource)
            if resource in access.MATRIX and access.allowed(user, resource)
            else "internal"
        )
    with _lock, store.transaction():
        q.lock_audit(store)
        last = q.last_audit(store)
        audit_id, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
        row = {
            "audit_id": audit_id,
            "logged_at": _now(),
            "who": user.name,
            "role": user.role,
            "agency": user.agency,
            "action": action,
            "resource": resource,
            "audience": audience,
            "query": query,
            "params": params_text(params),
            "prev_hash": prev,
        }
        row["row_hash"] = row_hash(prev, row)
        q.add_audit(store, row)
    return audit_id


@dataclass
class Verdict:
    ok: bool
    first_bad_id: int | None
    rows: int
    head: str  # the newest row's hash: keep it outside the store to detect a cut tail
    problem: str | None = None


def check(store) -> Verdict:
    """Walk the chain from the first row: the first row whose link, hash or id is wrong."""
    df = q.audit_rows(store)
    prev, expected_id = GENESIS, 1
    for row in df.to_dict(orient="records"):
        problem = None
        if int(row["audit_id"]) != expected_id:
            problem = f"row {expected_id} is missing (next id is {int(row['audit_id'])})"
        elif row["prev_hash"] != prev:
            problem = "its link to the row before does not match (a row was removed or edited)"
        elif row_hash(prev, row) != row["row_hash"]:
            problem = "its fields do not match its hash (the row was edited)"
        if problem:
            return Verdict(False, int(row["audit_id"]), len(df), prev, problem)
        prev, expected_id = row["row_hash"], expected_id + 1
    return Verdict(True, None, len(df), prev)


def verify(store) -> tuple[bool, int | None]:
    """(True, None) when the chain is whole, else (False, the first bad row's id)."""
    v = check(store)
    return v.ok, v.first_bad_id


def entries(store, limit: int = 200) -> list[dict]:
    """The newest ``limit`` rows, newest first, as JSON-ready dicts."""
    df = q.audit_rows(store, limit=limit)
    out = []
    for row in reversed(df.to_dict(orient="records")):
        out.append(
            {
                "audit_id": int(row["audit_id"]),
                "logged_at": _when(row["logged_at"]),
                **{k: _text(row[k]) for k in ("who", "role", "agency", "action", "resource")},
                "audience": _text(row["audience"]),
                "query": _text(row["query"]),
                "params": json.loads(row["params"]) if row["params"] else {},
                "row_hash": _text(row["row_hash"]),
            }
        )
    return out
