"""Issue 18: the store's physical layout keeps one force's queries cheap on a national store.

Batched ingest writes each batch's rows ordered by force, then month, into small row groups
(store.ROW_GROUP_SIZE), so a row group's zone map spans few forces and a query for one force
skips the others' groups. DuckDB keeps no row group size in the file: a writable reopen must
set it again, or its checkpoint merges the small groups back into 122,880-row ones.
"""

from __future__ import annotations

from conftest import COMPARISON_STREET, KENT_STREET
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store
from harmscope.store.store import ROW_GROUP_SIZE


def _group_sizes(store: Store) -> list[int]:
    rows = store.con.execute(
        "SELECT row_group_id, sum(count) FROM pragma_storage_info('street_crimes') "
        "WHERE column_name = 'falls_within' AND segment_type <> 'VALIDITY' GROUP BY 1"
    ).fetchall()
    return [int(n) for _, n in rows]


def test_batches_are_written_by_force_in_small_row_groups(tmp_path):
    db = tmp_path / "layout.duckdb"
    # Essex, then Kent, then Sussex files of interleaved months: one batch of mixed forces.
    essex = [p for p in COMPARISON_STREET if "essex" in p.name][:2]
    sussex = [p for p in COMPARISON_STREET if "sussex" in p.name][:2]
    files = [sussex[0], KENT_STREET[0], essex[0], sussex[1], KENT_STREET[1], essex[1]]
    with Store.open(db) as store:
        rep = ingest_paths(store, files)
        assert rep.ok and rep.rows_loaded > 2 * ROW_GROUP_SIZE
        store.con.execute("CHECKPOINT")
        sizes = _group_sizes(store)
        assert sum(sizes) == rep.rows_loaded
        assert max(sizes) <= ROW_GROUP_SIZE, sizes
        order = [
            r[0]
            for r in store.con.execute(
                "SELECT falls_within FROM street_crimes ORDER BY rowid"
            ).fetchall()
        ]
    # Written in force order, not file order: each force's rows are one run.
    runs = [f for i, f in enumerate(order) if i == 0 or order[i - 1] != f]
    assert runs == sorted(set(order)), runs
    # A later writable open (here, another ingest) keeps the groups small.
    with Store.open(db) as store:
        assert ingest_paths(store, [KENT_STREET[2]]).ok
        store.con.execute("CHECKPOINT")
        assert max(_group_sizes(store)) <= ROW_GROUP_SIZE
