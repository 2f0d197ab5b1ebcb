"""CLI commands over a real store, and the store's own guarantees."""

from __future__ import annotations

import json

import pytest

from conftest import KENT_STOP_SEARCH, KENT_STREET
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.store import Store
from harmscope.store.migrations import LATEST_VERSION


@pytest.fixture()
def small_db(tmp_path):
    db = tmp_path / "s.duckdb"
    assert (
        main(["ingest", str(KENT_STREET[0]), str(KENT_STOP_SEARCH[0]), "--db", str(db), "--quiet"])
        == 0
    )
    return db


def test_ingest_json_keys(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    code = main(["ingest", str(KENT_STOP_SEARCH[0]), "--db", str(db), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert {"rows_read", "rows_loaded", "rows_duplicate", "rows_rejected", "files"} <= set(data)
    assert data["rows_read"] == data["rows_loaded"] == 613
    assert data["files"][0]["kind"] == "stop_search" and data["files"][0]["force"] == "Kent Police"


def test_status_json(small_db, capsys):
    assert main(["status", "--db", str(small_db), "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    kinds = {(c["kind"], c["force"], c["first_month"]) for c in st["coverage"]}
    assert kinds == {
        ("street", "Kent Police", "2024-01"),
        ("stop_search", "Kent Police", "2018-01"),
    }
    placement = st["street_placement"][0]
    assert placement["unplaced"] == placement["no_location"] > 0
    assert st["schema_version"] == LATEST_VERSION


def test_status_reports_missing_months(tmp_path, capsys):
    db = tmp_path / "s.duckdb"
    main(["ingest", str(KENT_STREET[0]), str(KENT_STREET[2]), "--db", str(db), "--quiet"])
    capsys.readouterr()
    main(["status", "--db", str(db), "--json"])
    st = json.loads(capsys.readouterr().out)
    assert st["coverage"][0]["missing_months"] == ["2024-02"]


def test_sql_formats_and_read_only(small_db, capsys):
    assert (
        main(
            [
                "sql",
                "SELECT count(*) AS n FROM stop_searches",
                "--db",
                str(small_db),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    assert capsys.readouterr().out.splitlines() == ["n", "613"]
    assert main(["sql", "SELECT 1 AS one", "--db", str(small_db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == [{"one": 1}]
    for bad in (
        "DELETE FROM stop_searches",
        "SELECT 1; DROP TABLE ingests",
        "CREATE TABLE x AS SELECT 1",
    ):
        assert main(["sql", bad, "--db", str(small_db)]) == 2
        assert "read-only" in capsys.readouterr().err
    with Store.open(small_db, read_only=True) as store:
        assert store.query("SELECT count(*) AS n FROM stop_searches").n[0] == 613


def test_sql_error_is_one_line(small_db, capsys):
    assert main(["sql", "SELECT nope FROM stop_searches", "--db", str(small_db)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("Error:") and "Traceback" not in err


def test_db_from_environment(tmp_path, monkeypatch, capsys):
    db = tmp_path / "env.duckdb"
    monkeypatch.setenv("HARMSCOPE_DB", str(db))
    assert main(["ingest", str(KENT_STOP_SEARCH[1]), "--quiet"]) == 0
    assert db.exists()


def test_missing_store_is_a_clear_error(tmp_path, capsys):
    assert main(["status", "--db", str(tmp_path / "nope.duckdb")]) == 2
    assert "harmscope ingest" in capsys.readouterr().err


def test_migrations_run_once_and_are_recorded(tmp_path):
    db = tmp_path / "m.duckdb"
    with Store.open(db) as store:
        v = store.query("SELECT version FROM schema_migrations ORDER BY 1").version.tolist()
    with Store.open(db) as store:
        assert store.migrate() == []
        assert store.query("SELECT version FROM schema_migrations ORDER BY 1").version.tolist() == v
    assert v[-1] == LATEST_VERSION and v[0] == 1


def test_transaction_rolls_back(tmp_path):
    with Store.open(tmp_path / "t.duckdb") as store:
        with pytest.raises(RuntimeError):
            with store.transaction() as con:
                con.execute("INSERT INTO rejects VALUES (1, 'f', 1, 'r', 'x')")
                raise RuntimeError("boom")
        assert store.query("SELECT count(*) AS n FROM rejects").n[0] == 0


def test_not_a_store_is_a_clear_error(tmp_path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HarmscopeError) as exc:
        Store.open(junk)
    assert "junk.duckdb" in str(exc.value) and "Fix:" in str(exc.value)


def test_migration_landing_later_with_a_lower_number_still_runs(tmp_path):
    """Versions are applied by membership: a store that skipped one gets it on next open."""
    db = tmp_path / "m.duckdb"
    with Store.open(db) as store:
        versions = store.query("SELECT version FROM schema_migrations ORDER BY 1").version.tolist()
    if len(versions) < 2:
        pytest.skip("needs at least two migrations")
    import importlib
    import pkgutil
    import re

    import harmscope.store.migrations as migrations

    def module_of(version):
        return next(
            importlib.import_module(f"{migrations.__name__}.{m.name}")
            for m in pkgutil.iter_modules(migrations.__path__)
            if m.name.startswith(f"m{version:03d}_")
        )

    def tables_of(version):
        sql = module_of(version).SQL
        return re.findall(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)", sql, re.IGNORECASE)

    # The newest migration below the latest that creates tables (one that only alters a table
    # cannot be re-run on a store that has its columns, so it says nothing about this rule).
    skipped = next(v for v in reversed(versions[:-1]) if tables_of(v))
    created = tables_of(skipped)
    with Store.open(db) as store:
        # the store as an older harmscope left it: without that migration or its tables
        for table in created:
            store.execute(f"DROP TABLE IF EXISTS {table}")
        store.execute("DELETE FROM schema_migrations WHERE version = ?", [skipped])
        assert store.pending_migrations() == [skipped]
    # even a read-only command migrates it first, then reads it as asked
    with Store.open(db, read_only=True) as store:
        assert store.pending_migrations() == []
        assert all(store.table_exists(t) for t in created)


def test_sql_over_ed_tables_is_internal_and_audited(small_db, capsys):
    q = "SELECT count(*) AS n FROM ed_assaults"
    assert main(["sql", q, "--db", str(small_db), "--audience", "public"]) == 2
    assert "ED tables" in capsys.readouterr().err
    assert main(["sql", q, "--db", str(small_db), "--format", "csv"]) == 0
    capsys.readouterr()
    with Store.open(small_db, read_only=True) as store:
        log = store.query("SELECT action, query, audience FROM audit_log")
    assert log.values.tolist() == [["sql", q, "internal"]]
