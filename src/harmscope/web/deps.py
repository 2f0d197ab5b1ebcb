"""The store as the web routes use it: a small pool, one store per request at a time.

An embedded DuckDB file allows one writing process, and one DuckDB connection must not run
two statements at once from two threads: the server holds ONE store and a lock, so requests
take turns at the store (cached payloads need no store at all). A PostgreSQL server store
gets a small pool of connections (``WebSettings.pool_size``), each used by one request at a
time.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator

from fastapi import Request

from harmscope.store import Store
from harmscope.store.queries.web import ensure_audit_trigger


def is_server_url(db: str | None) -> bool:
    return db is not None and str(db).startswith(("postgresql://", "postgres://"))


class StorePool:
    """``with pool.store() as store:`` lends one store to one request."""

    def __init__(self, db: str | None, size: int = 4) -> None:
        self.db = db
        self._idle: queue.LifoQueue[Store] = queue.LifoQueue()
        self._opened = 0
        self.size = 1
        self._lock = threading.Lock()
        self._all: list[Store] = []
        self._held = threading.local()
        first = self._open()  # open (and migrate) now: a bad --db fails at start
        ensure_audit_trigger(first)  # PostgreSQL: web_audit refuses UPDATE and DELETE
        from harmscope.web.data import store_identity

        self.identity = store_identity(first)  # the payload cache's name for this store
        self.dialect = getattr(first, "dialect", "duckdb")
        self.size = max(1, size) if self.dialect == "postgres" else 1
        self._idle.put(first)

    def _open(self) -> Store:
        store = Store.open(self.db)
        self._opened += 1
        self._all.append(store)
        return store

    @contextlib.contextmanager
    def store(self, wait: float | None = None) -> Iterator[Store]:
        """One store for this thread; ``wait`` seconds at most (queue.Empty after that)."""
        held = getattr(self._held, "store", None)
        if held is not None:  # this thread already holds one (a helper inside a route)
            yield held
            return
        store = self._take(wait)
        self._held.store = store
        try:
            yield store
        finally:
            self._held.store = None
            self._idle.put(store)

    def _take(self, wait: float | None = None) -> Store:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            with self._lock:
                grow = self._opened < self.size
                store = self._open() if grow else None
            return store if store is not None else self._idle.get(timeout=wait)

    def close(self) -> None:
        for store in self._all:
            store.close()
        self._all.clear()


def pool(request: Request) -> StorePool:
    return request.app.state.pool


@contextlib.contextmanager
def store_of(request: Request) -> Iterator[Store]:
    """The store for this request (returned to the pool when the block ends)."""
    with request.app.state.pool.store() as store:
        yield store
