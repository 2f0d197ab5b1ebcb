"""The store: one object that owns the DuckDB connection, schema versions and transactions."""

from harmscope.store.store import Store

__all__ = ["Store"]
