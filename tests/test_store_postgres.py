"""The PostgreSQL server store (issue 16): same migrations, same ingest, same analyses as DuckDB.

A real PostgreSQL cluster (tests/pg_cluster.py, started by the ``pg_url`` / ``pg_db`` /
``pg_cluster`` fixtures) and the real Kent police files. Every comparison is DuckDB against
PostgreSQL on the same input, so no figure is written here: the two stores must agree row for
row, count for count and number for number.
"""

from __future__ import annotations

import gzip
import json
import math
import re

import pytest

from conftest import EXCERPTS, KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store
from harmscope.store.backup import backup, restore, store_rows
from harmscope.store.migrations import LATEST_VERSION, MIGRATIONS, POSTGRES_SQL

STREET_2025 = [p for p in KENT_STREET if p.name.startswith("2025-0")]
# Bookkeeping columns that hold the moment or place of the run, not the data.
_CLOCK = {"started_at", "finished_at", "written_at", "applied_at", "path"}
_TABLES = (
    "ingests",
    "rejects",
    "partitions",
    "partition_history",
    "street_crimes",
    "outcomes",
    "stop_searches",
)


def _tables(store: Store) -> set[str]:
    return {
        r[0]
        for r in store.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        ).fetchall()
    }


def _columns(store: Store, table: str) -> list[str]:
    return [
        r[0]
        for r in store.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = current_schema() ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _rows(store: Store, table: str) -> list[tuple]:
    cols = [c for c in _columns(store, table) if c not in _CLOCK]
    rows = store.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall()
    return sorted((tuple(v for v in r) for r in rows), key=repr)


def _damaged_month(tmp_path):
    """The real 2025-02 file with three rows broken (quarantined as rejects)."""
    lines = gzip.decompress(STREET_2025[1].read_bytes()).split(b"\n")
    for i, how in ((5, b"2025-13"), (40, b""), (300, b"Jan 2025")):
        fields = lines[i].split(b",")
        fields[1] = how
        lines[i] = b",".join(fields)
    out = tmp_path / STREET_2025[1].name.removesuffix(".gz")
    out.write_bytes(b"\n".join(lines))
    return out


def _load(store: Store, damaged) -> list[tuple]:
    """The same sequence on each store: new months, a month with rejects, its replacement
    by the full file (duplicates + replaced rows), and an unchanged file skipped."""
    steps = [
        [STREET_2025[0], damaged, KENT_STOP_SEARCH[0]],
        [EXCERPTS / "2025-06-kent-outcomes.EXCERPT.csv"],
        [STREET_2025[1]],
        [STREET_2025[0]],
    ]
    counts = []
    for paths in steps:
        report = ingest_paths(store, paths)
        assert report.fatal is None
        counts += [
            (
                f.status,
                f.rows_read,
                f.rows_loaded,
                f.rows_duplicate,
                f.rows_rejected,
                f.rows_replaced,
            )
            for f in report.files
        ]
    return counts


@pytest.fixture(scope="module")
def pair(pg_cluster, tmp_path_factory):
    """(DuckDB store path, PostgreSQL URL, per-file counts of each) after the same ingests."""
    folder = tmp_path_factory.mktemp("pg_pair")
    damaged = _damaged_month(folder)
    duck_path = folder / "pair.duckdb"
    name = pg_cluster.new_database("hs_pair")
    url = pg_cluster.url_for(name)
    with Store.open(duck_path) as duck:
        duck_counts = _load(duck, damaged)
    with Store.open(url) as pg:
        pg_counts = _load(pg, damaged)
    yield duck_path, url, duck_counts, pg_counts
    pg_cluster.drop_database(name)


def test_migrations_run_on_postgres(pg_db):
    with Store.open(pg_db) as pg:
        assert pg.dialect == "postgres"
        assert pg.schema_version() == LATEST_VERSION
        assert pg.pending_migrations() == []
        versions = [
            r[0] for r in pg.execute("SELECT version FROM schema_migrations ORDER BY 1").fetchall()
        ]
        assert versions == [v for v, _, _ in MIGRATIONS]
        pg_tables = _tables(pg)
        pg_columns = {t: _columns(pg, t) for t in pg_tables}
    with Store.open(":memory:") as duck:
        assert _tables(duck) == pg_tables
        assert {t: _columns(duck, t) for t in pg_tables} == pg_columns
    with Store.open(pg_db) as again:  # opening again applies nothing new
        assert again.migrate() == []
        # A migration's PostgreSQL-only statements (POSTGRES_SQL) ran with it.
        named = {
            n.lower()
            for sql in POSTGRES_SQL.values()
            for n in re.findall(r"CREATE (?:OR REPLACE )?TRIGGER (\w+)", sql, flags=re.I)
        }
        held = {r[0] for r in again.con.raw_execute("SELECT tgname FROM pg_trigger").fetchall()}
        assert named <= held


def test_ingest_counts_and_rows_match_duckdb(pair):
    duck_path, url, duck_counts, pg_counts = pair
    assert pg_counts == duck_counts
    statuses = {c[0] for c in duck_counts}
    # The sequence exercised every path: loads, quarantined rows, a replacement, a skip.
    assert {"loaded", "unchanged"} <= statuses
    assert any(c[4] for c in duck_counts) and any(c[3] and c[5] >= 0 for c in duck_counts)
    for status, read, loaded, dup, rejected, _replaced in pg_counts:
        assert read == loaded + dup + rejected, status
    with Store.open(duck_path, read_only=True) as duck, Store.open(url, read_only=True) as pg:
        for table in _TABLES:
            d, p = _rows(duck, table), _rows(pg, table)
            assert len(p) == len(d), table
            assert p == d, table
        assert pg.execute("SELECT count(*) FROM rejects").fetchone()[0] == 3


def _cli_json(capsys, *args) -> dict:
    code = main([*args, "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _differences(a, b, path="$") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            return [f"{path}: keys {sorted(set(a) ^ set(b))}"]
        return [d for k in a for d in _differences(a[k], b[k], f"{path}.{k}")]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} vs {len(b)} items"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in _differences(x, y, f"{path}[{i}]")
        ]
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers) and not isinstance(a, bool):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["harm", "--audience", "public"],
        ["hotspots"],
        ["stopsearch"],
        ["knox", "--seed", "3"],
    ],
    ids=lambda c: "-".join(c),
)
def test_analyses_match_duckdb(pair, capsys, command):
    duck_path, url, _, _ = pair
    duck = _cli_json(capsys, *command, "--db", str(duck_path))
    pg = _cli_json(capsys, *command, "--db", url)
    if command == ["status"]:
        assert pg.pop("path").startswith("postgresql://") and duck.pop("path") == str(duck_path)
    assert _differences(duck, pg) == []


@pytest.mark.parametrize("level", ["district", "lsoa"])
def test_harm_profile_frames_match(pair, level):
    """harmscope.analysis.harm on each store: every table, frame by frame (float tolerance)."""
    import pandas as pd

    from harmscope.analysis.harm import harm_by_area

    duck_path, url, _, _ = pair
    with Store.open(duck_path, read_only=True) as duck, Store.open(url, read_only=True) as pg:
        d = harm_by_area(duck, level=level, by_month=True)
        p = harm_by_area(pg, level=level, by_month=True)
    assert set(d.tables) == set(p.tables) and len(d.table) > 0
    for name, left, right in [("table", d.table, p.table)] + [
        (k, d.tables[k], p.tables[k]) for k in d.tables
    ]:
        assert list(left.columns) == list(right.columns), name
        keys = list(left.columns)
        pd.testing.assert_frame_equal(
            left.sort_values(keys).reset_index(drop=True),
            right.sort_values(keys).reset_index(drop=True),
            check_dtype=False,
            rtol=1e-9,
            obj=name,
        )
    assert _differences(d.summary, p.summary) == []


def test_seeded_bootstrap_matches(pair):
    """Harm concentration's seeded bootstrap draws the same numbers on both engines (the
    units' order must not hang on the last bits of a float sum)."""
    from harmscope.analysis.harm.concentration import concentration

    duck_path, url, _, _ = pair
    with Store.open(duck_path, read_only=True) as duck, Store.open(url, read_only=True) as pg:
        d = concentration(duck, area="Kent", reps=100)
        p = concentration(pg, area="Kent", reps=100)
    assert "gini_harm_expected_ci" in d.summary
    assert _differences(d.summary, p.summary) == []


def test_failing_ingest_leaves_postgres_unchanged(pg_db):
    """A failure inside the server's transaction (here a real trigger refusing the file's
    ``ingests`` row, the last thing written) rolls back every row the file had copied in."""
    with Store.open(pg_db) as pg:
        assert ingest_paths(pg, [STREET_2025[0]]).ok
        before = {t: _rows(pg, t) for t in _TABLES}
        pg.con.raw_execute(
            "CREATE FUNCTION hs_refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$BEGIN RAISE EXCEPTION 'refused by test trigger'; END$$"
        )
        pg.con.raw_execute(
            "CREATE TRIGGER hs_refuse BEFORE INSERT ON ingests FOR EACH ROW EXECUTE FUNCTION hs_refuse()"
        )
        report = ingest_paths(pg, [STREET_2025[1], STREET_2025[2]])
        assert report.fatal is not None and "refused by test trigger" in str(report.fatal)
        assert len(report.files) == 1  # the run stopped at the failing file
        assert {t: _rows(pg, t) for t in _TABLES} == before
        pg.con.raw_execute("DROP TRIGGER hs_refuse ON ingests")
        again = ingest_paths(pg, [STREET_2025[1]])
        assert again.ok and again.files[0].rows_loaded == again.files[0].rows_read


def test_backup_restore_round_trip_on_both(pair, pg_cluster, tmp_path):
    duck_path, url, _, _ = pair
    target = pg_cluster.new_database("hs_restore")
    target_url = pg_cluster.url_for(target)
    try:
        for source, dest, file in (
            (str(duck_path), str(tmp_path / "restored.duckdb"), tmp_path / "store.backup"),
            (url, target_url, tmp_path / "store.pgdump"),
        ):
            made = backup(source, file)
            with Store.open(source, read_only=True) as s:
                want = {t: _rows(s, t) for t in _TABLES}
                tables, rows = store_rows(s)
            assert (made.tables, made.rows) == (tables, rows) and rows > 0
            restore(dest, file)
            with Store.open(dest, read_only=True) as r:
                assert {t: _rows(r, t) for t in _TABLES} == want
            with pytest.raises(HarmscopeError, match="already holds"):
                restore(dest, file)  # a store holding data is not replaced silently
            assert restore(dest, file, force=True).rows == rows
        with pytest.raises(HarmscopeError, match="PostgreSQL backup"):
            restore(str(tmp_path / "other.duckdb"), tmp_path / "store.pgdump")
    finally:
        pg_cluster.drop_database(target)


def test_cli_db_backup_and_status_on_a_url(pair, capsys, tmp_path):
    _, url, _, _ = pair
    out = _cli_json(capsys, "db", "backup", str(tmp_path / "cli.pgdump"), "--db", url)
    assert out["kind"] == "postgres" and out["rows"] > 0
    st = _cli_json(capsys, "status", "--db", url)
    assert st["schema_version"] == LATEST_VERSION


def test_unreachable_server_is_a_clear_error(pg_cluster):
    bad = pg_cluster.url_for("no_such_database")
    with pytest.raises(HarmscopeError, match="cannot connect to the PostgreSQL store") as err:
        Store.open(bad)
    assert "make serve" in err.value.fix


def test_ed_ingest_matches_duckdb(pg_db, tmp_path):
    """ED data load into the server store too: same counts, same pseudonymised rows."""
    from harmscope.simulate.ed import police_volumes, simulate_ed, write_ed_csv
    from harmscope.sources.ed import ingest_ed

    key = b"pg-store-test-key-0123456789abcdef"
    duck_path = tmp_path / "ed.duckdb"
    with Store.open(duck_path) as duck:
        assert ingest_paths(duck, [STREET_2025[0]]).ok
        sim = simulate_ed(police_volumes(duck).head(3), seed=5)  # synthetic, labelled so
    ed_csv = write_ed_csv(sim, tmp_path / "ed_synthetic.csv")
    results = []
    for db in (str(duck_path), pg_db):
        with Store.open(db) as store:
            if db == pg_db:
                assert ingest_paths(store, [STREET_2025[0]]).ok
            rep = ingest_ed(store, ed_csv, key=key)
            results.append(((rep.rows_read, rep.rows_loaded, rep.rows_duplicate, rep.rows_rejected), _rows(store, "ed_assaults"), _rows(store, "rejects")))  # fmt: skip
    assert results[0][0][0] > 0
    assert results[1] == results[0]


def test_duckdb_only_loaders_refuse_clearly_and_change_nothing(pg_db, tmp_path):
    """The links loader reads its file with DuckDB's CSV reader: on the server store it stops
    with a message naming the fix, and the store is as it was."""
    import secrets

    from harmscope.sources.links import ingest_links

    path = tmp_path / "links.csv"
    path.write_text(
        "source_id,source_type,target_id,target_type,link_type,first_seen,last_seen,agency,"
        "confidence,source_age,target_age,source_flags,target_flags\n"
        "P1,person,P2,person,association,2025-03-01,,Kent Police,,,,,\n",
        encoding="utf-8",
    )
    with Store.open(pg_db) as pg:
        before = {t: _rows(pg, t) for t in (*_TABLES, "links", "link_entities")}
        with pytest.raises(HarmscopeError, match="only the embedded DuckDB store") as err:
            ingest_links(pg, path, key=secrets.token_hex(32).encode())
        assert "--db harmscope.duckdb" in err.value.fix
        assert {t: _rows(pg, t) for t in before} == before


def test_translated_constructs_give_duckdb_answers(pg_db):
    """The constructs store/pg.py rewrites (GROUP BY ALL, any_value, ? and $name parameters,
    a literal %) and a registered frame, run on both engines over the same rows."""
    import pandas as pd

    frame = pd.DataFrame(
        {
            "force": ["Kent Police", "Kent Police", "Essex Police", None],
            "lad": ["Dover", "Dover", "Basildon", "Dover"],
            "n": [1, 2, 3, 4],
            "day": pd.to_datetime(["2025-01-03", "2025-01-20", "2025-02-01", "2025-02-02"]),
        }
    )
    queries = [
        ("SELECT force, lad, sum(n) AS total, count(*) AS k FROM f GROUP BY ALL ORDER BY ALL", None),
        ("SELECT lad, any_value(force) AS force, count(*) FROM f GROUP BY lad ORDER BY lad", None),
        ("SELECT count(*) FROM f WHERE force LIKE '%Police' AND n > ?", [1]),
        ("SELECT strftime(day, '%Y-%m') AS m, n / 2 AS half FROM f WHERE n <= $top ORDER BY n", {"top": 3}),
        ("SELECT lad FROM f WHERE force IN (SELECT unnest($names)) ORDER BY n", {"names": ["Essex Police"]}),
    ]  # fmt: skip
    answers = []
    for db in (":memory:", pg_db):
        with Store.open(db) as store:
            store.con.register("f", frame)
            answers.append([store.execute(sql, params).fetchall() for sql, params in queries])
            store.con.unregister("f")
    assert answers[1] == answers[0]
    assert answers[0][2] == [(2,)]  # the literal % survived parameter binding
