"""Emergency-department (ISTV) assault records in the store (``ed_assaults``)."""

from __future__ import annotations


def has_ed_data(store) -> bool:
    """Whether the store holds any ED assault record (the table exists only after
    ``harmscope ed ingest``)."""
    return (
        store.table_exists("ed_assaults")
        and int(store.query("SELECT count(*) AS n FROM ed_assaults").n[0]) > 0
    )
