"""The store as the sections of one report read it: each identical read runs once.

The report's sections ask the store many of the same questions: every harm analysis checks
the months and crime types its scope holds, the LSOA analyses each read the same weighted
LSOA cube and placement counts (measured on a Kent force-year: 61 queries, 33 distinct, the
repeats about 40% of the query time). :class:`ReportReads` remembers each ``query`` result
for the length of one report (the context's ``store``), so a repeat costs a copy of a small
frame, and every section sees the same figures (the engine's parallel float sums can differ
in the last bits from one run of a query to the next).

Anything that may write (``execute``, ``transaction``, the raw ``con``: the audit rows a
section with person-level figures writes) forgets what was read, so no read is served from
before a write. Everything else is the store's own attribute.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

# Statements whose result can be remembered: reads. Anything else passes straight through.
_READS = ("SELECT", "WITH", "VALUES", "DESCRIBE", "SUMMARIZE", "SHOW")


class ReportReads:
    """A store (``harmscope.store.Store``) whose ``query`` remembers its results."""

    def __init__(self, store: Any):
        self._store = store
        self._memo: dict[tuple[str, str], pd.DataFrame] = {}
        self.hits = 0  # repeats answered from memory (the report's tests read it)

    @property
    def store(self) -> Any:
        """The store itself."""
        return self._store

    def query(self, sql: str, params: list | dict | None = None) -> pd.DataFrame:
        if not sql.lstrip().upper().startswith(_READS):
            self._memo.clear()
            return self._store.query(sql, params)
        key = (sql, repr(params))  # params: lists of str, dates and numbers, so repr is exact
        hit = self._memo.get(key)
        if hit is None:
            hit = self._memo[key] = self._store.query(sql, params)
        else:
            self.hits += 1
        return hit.copy()  # a caller may change its frame; the remembered one stays as read

    def execute(self, *args: Any, **kwargs: Any):
        self._memo.clear()
        return self._store.execute(*args, **kwargs)

    def transaction(self, *args: Any, **kwargs: Any):
        self._memo.clear()
        return self._store.transaction(*args, **kwargs)

    @property
    def con(self):
        self._memo.clear()  # a raw connection may write (privacy.audit does)
        return self._store.con

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)
