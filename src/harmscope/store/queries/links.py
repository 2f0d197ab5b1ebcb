"""What the county-lines analyses ask of the link tables (``links``, ``link_entities``,
migration 8): counts, the entities seen in a window and the distinct linked pairs.

Analyses never write SQL (docs/DEVELOPING.md): ``analysis/networks`` calls these. A window
is two ``YYYY-MM`` strings (or None); every value travels as a parameter.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.store.queries.catalog import table_rows


def link_count(store) -> int | None:
    """Links held; None for a store made before migration 8 (no ``links`` table)."""
    if not store.table_exists("links"):
        return None
    return table_rows(store, "links")


def _window(month_from: str | None, month_to: str | None) -> tuple[str, list]:
    """Links seen at any time in the window: first_seen before its end, last_seen after its
    start (a link with no dates counts in every window)."""
    where, params = [], []
    if month_to:
        where.append(
            "(first_seen IS NULL OR first_seen < (CAST(? || '-01' AS DATE) + INTERVAL 1 MONTH))"
        )
        params.append(month_to)
    if month_from:
        where.append(
            "(coalesce(last_seen, first_seen) IS NULL"
            " OR coalesce(last_seen, first_seen) >= CAST(? || '-01' AS DATE))"
        )
        params.append(month_from)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def window_entities(store, month_from: str | None, month_to: str | None) -> pd.DataFrame:
    """One row per entity on a link seen in the window, ordered by key: key, type, age, the
    three flags, label and synthetic (attributes OR-ed / maxed over its entity rows)."""
    where, params = _window(month_from, month_to)
    return store.query(
        f"""
        WITH l AS (SELECT * FROM links{where}),
        seen AS (
            SELECT source_key AS key, any_value(source_type) AS type FROM l GROUP BY 1
            UNION ALL
            SELECT target_key, any_value(target_type) FROM l GROUP BY 1
        ),
        k AS (SELECT key, any_value(type) AS type FROM seen GROUP BY 1),
        e AS (
            SELECT entity_key, any_value(entity_type) AS etype, max(age) AS age,
                   bool_or(supply_offence) AS supply_offence, bool_or(vulnerable) AS vulnerable,
                   bool_or(out_of_area) AS out_of_area, max(label) AS label,
                   bool_or(synthetic) AS synthetic
            FROM link_entities GROUP BY 1
        )
        SELECT k.key, coalesce(e.etype, k.type) AS type, e.age,
               coalesce(e.supply_offence, false) AS supply_offence,
               coalesce(e.vulnerable, false) AS vulnerable,
               coalesce(e.out_of_area, false) AS out_of_area, e.label,
               coalesce(e.synthetic, false) AS synthetic
        FROM k LEFT JOIN e ON e.entity_key = k.key
        ORDER BY k.key
        """,
        params,
    ).reset_index(drop=True)


def links_synthetic(store) -> bool:
    """Whether any link held is synthetic."""
    return bool(
        store.con.execute("SELECT coalesce(bool_or(synthetic), false) FROM links").fetchall()[0][0]
    )


def window_pairs(
    store, keys: pd.Series, month_from: str | None, month_to: str | None
) -> pd.DataFrame:
    """One row per distinct pair of linked entities in the window, as positions in ``keys``
    (a, b with a's key < b's key): weight (links recorded), link_types (';'-joined), first and
    last seen. The engine joins the keys to positions (faster than matching a million strings
    in pandas)."""
    where, params = _window(month_from, month_to)
    ids = pd.DataFrame({"key": keys, "id": np.arange(len(keys), dtype=np.int64)})
    store.con.register("_harmscope_net_ids", ids)
    try:
        return store.query(
            f"""
            WITH l AS (SELECT * FROM links{where}),
            p AS (
                SELECT least(source_key, target_key) AS a, greatest(source_key, target_key) AS b,
                       count(*) AS weight,
                       string_agg(DISTINCT link_type, ';' ORDER BY link_type) AS link_types,
                       min(first_seen) AS first_seen,
                       max(coalesce(last_seen, first_seen)) AS last_seen
                FROM l WHERE source_key <> target_key GROUP BY 1, 2
            )
            SELECT ia.id AS a, ib.id AS b, p.weight, p.link_types, p.first_seen, p.last_seen
            FROM p JOIN _harmscope_net_ids ia ON ia.key = p.a
                   JOIN _harmscope_net_ids ib ON ib.key = p.b
            ORDER BY 1, 2
            """,
            params,
        )
    finally:
        store.con.unregister("_harmscope_net_ids")
