"""The server store plans its queries well (issue 16): a load leaves PostgreSQL statistics and
m011's indexes, and long VALUES lists translate exactly as written, parsed once.

Before, a report straight after an ingest ran on tables PostgreSQL thought empty (nested loops:
a minute for the dashboard), and each weights list of a few hundred rows was parsed again by
sqlglot. A real PostgreSQL cluster (tests/pg_cluster.py) and a real Kent street month."""

from __future__ import annotations

import re

from conftest import KENT_STREET
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store, pg
from harmscope.store.migrations.m011_indexes import POSTGRES_SQL


def _cube_sql(n_overrides: int) -> str:
    """The shape of store/queries/scope.py's weighted cube: two VALUES lists of placeholders."""
    w = ", ".join("(?, ?)" for _ in range(14))
    o = ", ".join("(CAST(? AS VARCHAR), CAST(? AS DATE), ?, ?)" for _ in range(n_overrides))
    return (
        f"WITH w(category, weight) AS (VALUES {w}), o(lad_code, month, category, weight) AS "
        f"(VALUES {o}) SELECT s.lad_code, count(*) AS n, sum(coalesce(o.weight, w.weight)) "
        "FROM street_crimes s JOIN w ON s.crime_type = w.category LEFT JOIN o ON "
        "o.category = s.crime_type AND o.month = s.month AND o.lad_code IS NOT DISTINCT FROM "
        "s.lad_code WHERE s.month >= ? GROUP BY ALL"
    )


def test_long_values_lists_translate_exactly_as_parsed_whole():
    for n in (1, 2, 37, 476):
        sql = _cube_sql(n)
        (text,) = pg.translate(sql)
        assert (text,) == pg._translate(sql)  # the whole statement through sqlglot
        assert text.count("%s") == 28 + 4 * n + 1
    # a list of literals, or of tuples that differ, is not collapsed
    for sql in ("SELECT * FROM (VALUES (1, 'a'), (1, 'a')) t(x, y)",
                "SELECT * FROM (VALUES (?, ?), (?, CAST(? AS DATE)), (?, ?)) t(x, y)"):  # fmt: skip
        assert pg._collapse_values(sql)[1] == []
        assert pg.translate(sql) == pg._translate(sql)


def test_an_ingest_leaves_statistics_and_the_scope_indexes(pg_db):
    month = [p for p in KENT_STREET if p.name.startswith("2025-12")]
    assert month, "the real Kent street file for 2025-12 is missing"
    with Store.open(pg_db) as store:
        report = ingest_paths(store, month)
        assert report.ok and report.rows_loaded > 10_000
        # statistics at once (autovacuum would take a minute or so)
        (tuples,) = store.con.raw_execute(
            "SELECT reltuples FROM pg_class WHERE oid = 'street_crimes'::regclass"
        ).fetchone()
        assert tuples > 0.9 * report.rows_loaded
        held = {
            r[0]
            for r in store.con.raw_execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN "
                "('street_crimes', 'stop_searches')"
            ).fetchall()
        }
    assert set(re.findall(r"INDEX IF NOT EXISTS (\w+)", POSTGRES_SQL)) <= held
    with Store.open(":memory:") as duck:  # DuckDB: the migration adds no index
        assert duck.query("SELECT count(*) AS n FROM duckdb_indexes()").n[0] == 0
