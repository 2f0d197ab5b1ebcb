"""What the report's sections and renderer ask of the store (coverage, months held, files).

Report modules never write SQL (docs/DEVELOPING.md, tests/test_architecture.py rule c): they
call these. Each function takes the open store and plain arguments and returns a DataFrame,
a list or a scalar. ``scope`` is an ``analysis.harm.Scope`` (``resolve_scope``): its ``where``
is a fragment over ``street_crimes s`` built from the packaged area names, never user text,
and its ``params`` carry every value.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from harmscope.store.queries.catalog import table_rows
from harmscope.store.queries.links import link_count


def street_count(store, scope) -> int:
    """Street-level crimes in a scope (area and months)."""
    n = store.query(f"SELECT count(*) AS n FROM street_crimes s WHERE {scope.where}", scope.params)
    return int(n["n"][0])


def street_span(store, scope) -> tuple[str, str] | None:
    """(first month, last month) held for a scope as YYYY-MM, or None when it holds none."""
    held = store.query(
        "SELECT strftime(min(s.month), '%Y-%m') AS a, strftime(max(s.month), '%Y-%m') AS b "
        f"FROM street_crimes s WHERE {scope.where}",
        scope.params,
    )
    if not held.a.notna().all():
        return None
    return str(held.a[0]), str(held.b[0])


def rows_per_month(store, scope) -> pd.DataFrame:
    """Street-level crimes per month in a scope: ``month`` (YYYY-MM), ``rows``."""
    out = store.query(
        "SELECT strftime(s.month, '%Y-%m') AS month, count(*) AS rows "
        f"FROM street_crimes s WHERE {scope.where} GROUP BY 1 ORDER BY 1",
        scope.params,
    )
    return out


def street_months_held(store, force: str) -> list[str]:
    """The months (YYYY-MM) a force's police.uk street file is in the store for."""
    return store.query(
        "SELECT strftime(month, '%Y-%m') AS month FROM partitions "
        "WHERE kind = 'street' AND force = ?",
        [force],
    ).month.tolist()


# How a row was placed (the ingest's derived columns placed_by, out_of_area), in words.
_PLACEMENT = """
    CASE
      WHEN s.longitude IS NULL AND s.lsoa_code IS NULL THEN 'no location (not placed)'
      WHEN s.placed_by IS NULL THEN 'location but not placed'
      WHEN coalesce(s.out_of_area, false) THEN 'outside the force area (left out)'
      WHEN s.placed_by = 'lsoa_code' THEN 'placed by its 2011 LSOA code'
      WHEN s.placed_by = 'point' THEN 'placed by point in 2011 LSOA polygon (2021-only code)'
      WHEN s.placed_by = 'lsoa_name' THEN 'placed by LSOA name (district only)'
      ELSE 'placed by ' || s.placed_by END
"""


def placement_counts(store, force: str | None, date_from: date, date_to: date) -> pd.DataFrame:
    """Rows by how they were placed (``placement``, ``rows``), largest first, over a force's
    rows (every force's when None) from ``date_from`` to ``date_to`` (first days of months)."""
    force_where, force_params = ("s.falls_within = ?", [force]) if force else ("TRUE", [])
    return store.query(
        f"SELECT {_PLACEMENT} AS placement, count(*) AS rows FROM street_crimes s "
        f"WHERE {force_where} AND s.month BETWEEN ? AND ? GROUP BY 1 ORDER BY 2 DESC",
        [*force_params, date_from, date_to],
    )


def outcome_status_by_month(store, scope, pending: tuple[str, ...]) -> pd.DataFrame:
    """Rows by month (YYYY-MM) and outcome status: each ``pending`` outcome by name, 'no
    outcome (anti-social behaviour)' for none, else 'final outcome recorded'."""
    marks = ", ".join("?" for _ in pending)
    return store.query(
        f"""
        SELECT strftime(s.month, '%Y-%m') AS month,
               CASE WHEN s.last_outcome_category IN ({marks}) THEN s.last_outcome_category
                    WHEN s.last_outcome_category IS NULL THEN 'no outcome (anti-social behaviour)'
                    ELSE 'final outcome recorded' END AS outcome_status,
               count(*) AS rows
        FROM street_crimes s WHERE {scope.where}
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        [*pending, *scope.params],
    )


def street_source_files(store, force: str | None, date_from: date, date_to: date) -> pd.DataFrame:
    """The street files (of one force, or all when None) that hold a month in the window:
    name, kind, force, months, rows, the first 12 characters of the SHA-256, when ingested."""
    return store.query(
        """
        SELECT file_name, kind, force, months, rows_loaded AS rows, left(sha256, 12) AS sha256_prefix,
               strftime(finished_at, '%Y-%m-%d %H:%M') AS ingested
        FROM ingests i
        WHERE kind = 'street' AND (? IS NULL OR force = ?)
          AND EXISTS (SELECT 1 FROM partitions p WHERE p.ingest_id = i.ingest_id
                      AND p.month BETWEEN ? AND ?)
        ORDER BY months, file_name
        """,
        [force, force, date_from, date_to],
    )


def street_forces_held(store, date_from: date, date_to: date) -> list[str]:
    """Forces with a street file for some month in the window, sorted."""
    return store.query(
        "SELECT DISTINCT force FROM partitions WHERE kind = 'street' AND month BETWEEN ? AND ? "
        "ORDER BY 1",
        [date_from, date_to],
    ).force.tolist()


def street_months(store) -> list[pd.Timestamp]:
    """Every month of street crime held (any force), sorted."""
    return sorted(pd.to_datetime(store.query("SELECT DISTINCT month FROM street_crimes")["month"]))


def stop_search_months(store) -> pd.DataFrame:
    """Stop-and-search records per month held: ``month`` (YYYY-MM), ``n``."""
    return store.query(
        "SELECT strftime(month, '%Y-%m') AS month, count(*) AS n FROM stop_searches "
        "GROUP BY 1 ORDER BY 1"
    )


def has_people_crimes(store) -> bool:
    """Whether the people tables (migration 6) exist and hold a crime."""
    return table_rows(store, "crimes") > 0  # 0 in a store made before migration 6


def has_links(store) -> bool:
    """Whether the county-lines link tables (migration 8) exist and hold a link."""
    return bool(link_count(store))  # None (no table) or 0: nothing to show
