"""The rows a web upload quarantined (web/upload.py): line and reason per rejected row of the
files one upload ingested, for the reconciliation report the uploader sees."""

from __future__ import annotations

import pandas as pd


def rejects_of(store, ingest_ids: list[int], limit: int = 1000) -> pd.DataFrame:
    """Rejected rows of these ingests (ingest_id, line, reason), in file and line order; at
    most ``limit`` rows (the counts come from the ingest report, not from this list)."""
    ids = [int(i) for i in ingest_ids]
    if not ids:
        return pd.DataFrame({"ingest_id": [], "line": [], "reason": []})
    marks = ", ".join("?" for _ in ids)
    return store.query(
        f"SELECT ingest_id, line, reason FROM rejects WHERE ingest_id IN ({marks}) "
        "ORDER BY ingest_id, line LIMIT ?",
        [*ids, int(limit)],
    )
