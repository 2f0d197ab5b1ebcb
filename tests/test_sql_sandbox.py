"""`harmscope sql` is a sandbox: one SELECT over allow-listed tables, nothing else.

Every bypass of issue 20 (finding 1) is tried on a real store (two Kent street files plus a
simulated ED file ingested with a key): statements hidden behind comments, table functions that
read files or other tables, scalar functions that reach settings or sequences, and spellings of
the ED tables that a pattern over the text would miss. A property test then mixes comments,
casing, quoting, nesting and forbidden parts and checks that nothing outside the allow-list runs
and that every read of a sensitive table leaves exactly one audit row.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import KENT_STREET
from harmscope.cli import main
from harmscope.errors import HarmscopeError
from harmscope.store import Store, sandbox

SENTINEL = "SANDBOX-SENTINEL-7f3a"


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A store with real police rows and simulated ED rows, and files the sandbox must not
    touch: a secret text file, a secret CSV and an output folder that must stay empty."""
    folder = tmp_path_factory.mktemp("sqlsandbox")
    db = folder / "sb.duckdb"
    assert (
        main(["ingest", str(KENT_STREET[0]), str(KENT_STREET[1]), "--db", str(db), "--quiet"]) == 0
    )
    ed = folder / "ed.csv"
    assert main(["simulate", "ed", "--seed", "1", "--out", str(ed), "--db", str(db)]) == 0
    key = folder / "partnership.key"
    key.write_text("sandbox-test-key-0123456789abcdef\n")
    assert main(["ed", "ingest", str(ed), "--db", str(db), "--key-file", str(key), "--quiet"]) == 0
    outside = folder / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SENTINEL} private note\n")
    (outside / "secret.csv").write_text(f"a,b\n{SENTINEL},1\n")
    out = folder / "out"
    out.mkdir()
    return {"folder": folder, "db": db, "outside": outside, "out": out, "ed": ed}


def _audit_rows(db: Path) -> list[tuple]:
    with Store.open(db, read_only=True) as store:
        return store.con.execute(
            "SELECT audit_id, action, audience, query, rows, output FROM audit_log ORDER BY 1"
        ).fetchall()


def _files(folder: Path) -> set[str]:
    return {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if not p.name.endswith(".wal") and not p.name.endswith(".tmp")
    }


def _sql(capsys, db: Path, query: str, *extra: str) -> tuple[int, str, str]:
    # "--" so that a query starting with a comment ("-- x") is not read as an option
    code = main(["sql", "--db", str(db), "--format", "csv", *extra, "--", query])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- statements hidden behind a comment -------------------------------------------------------
@pytest.mark.parametrize(
    "query, kind",
    [
        ("/**/COPY street_crimes TO '{out}/street.csv'", "COPY"),
        ("/**/ COPY (SELECT * FROM ed_assaults) TO '{out}/ed.csv' (HEADER)", "COPY"),
        ("-- export\nEXPORT DATABASE '{out}/dump'", "EXPORT"),
        ("/**/EXPORT DATABASE '{out}/dump2'", "EXPORT"),
    ],
)
def test_copy_and_export_are_refused_and_write_nothing(env, capsys, query, kind):
    before_files, before_audit = _files(env["folder"]), _audit_rows(env["db"])
    code, out, err = _sql(capsys, env["db"], query.format(out=env["out"]))
    assert code == 2
    assert f"refused: {kind} statement" in err and "read-only" in err
    assert list(env["out"].iterdir()) == []
    assert _files(env["folder"]) == before_files
    assert _audit_rows(env["db"]) == before_audit


@pytest.mark.parametrize(
    "query, kind",
    [
        ("/**/SET threads = 1", "SET"),
        ("/**/SET enable_external_access = true", "SET"),
        ("CHECKPOINT", "CALL"),
        ("/**/PRAGMA version", "PRAGMA"),
        ("/**/INSTALL httpfs", "LOAD"),
        ("/**/LOAD httpfs", "LOAD"),
        ("/**/ATTACH '{out}/other.duckdb' AS other", "ATTACH"),
        ("/**/CALL pragma_version()", "CALL"),
        ("EXPLAIN SELECT 1", "EXPLAIN"),
        ("/**/DELETE FROM street_crimes", "DELETE"),
    ],
)
def test_settings_pragmas_and_extensions_are_refused(env, capsys, query, kind):
    before = _files(env["folder"])
    code, _, err = _sql(capsys, env["db"], query.format(out=env["out"]))
    assert code == 2
    assert f"refused: {kind} statement" in err
    assert _files(env["folder"]) == before


@pytest.mark.parametrize(
    "query",
    [
        "SELECT 1; /**/ DROP TABLE ingests",
        "SELECT 1 /* ; */; -- x\n CHECKPOINT",
        "SELECT count(*) FROM street_crimes;\nCOPY street_crimes TO '{out}/x.csv'",
    ],
)
def test_a_second_statement_is_refused(env, capsys, query):
    code, _, err = _sql(capsys, env["db"], query.format(out=env["out"]))
    assert code == 2 and "2 statements" in err
    assert list(env["out"].iterdir()) == []


@pytest.mark.parametrize("query", ["", "   ", "-- nothing here\n", "/* */", ";"])
def test_empty_query_is_a_clear_error(env, capsys, query):
    code, _, err = _sql(capsys, env["db"], query)
    assert code == 2
    assert "empty" in err and "unexpected" not in err and "Fix:" in err


# -- files and other tables through functions -----------------------------------------------
@pytest.mark.parametrize(
    "query, refused",
    [
        ("SELECT * FROM read_text('/etc/passwd')", "read_text"),
        ("SELECT * FROM read_text('{outside}/secret.txt')", "read_text"),
        ("SELECT * FROM glob('{home}/*')", "glob"),
        ("SELECT * FROM glob('{outside}/*')", "glob"),
        ("SELECT * FROM read_blob('{db}')", "read_blob"),
        ("SELECT * FROM read_csv('{outside}/secret.csv')", "read_csv"),
        ("SELECT * FROM '{outside}/secret.csv'", "not on the allow-list"),
        ("SELECT count(*) FROM read_csv_auto('{ed}')", "read_csv_auto"),
        ("FROM sniff_csv('{outside}/secret.csv')", "sniff_csv"),
        ("SELECT (SELECT content FROM read_text('{outside}/secret.txt'))", "read_text"),
        ("SELECT * FROM duckdb_settings()", "duckdb_settings"),
        ("SELECT current_setting('home_directory')", "current_setting"),
        ("SELECT nextval('audit_id_seq')", "nextval"),
        ("SELECT getvariable('x')", "getvariable"),
        ("SELECT * FROM information_schema.tables", "outside the store"),
        ("SELECT * FROM system.main.duckdb_settings", "outside the store"),
    ],
)
def test_functions_reaching_files_or_settings_are_refused(env, capsys, query, refused):
    q = query.format(
        outside=env["outside"], db=env["db"], ed=env["ed"], home=os.path.expanduser("~")
    )
    code, out, err = _sql(capsys, env["db"], q)
    assert code == 2
    assert refused in err
    assert SENTINEL not in out and "root:" not in out


def test_query_table_cannot_reach_ed_rows_for_public(env, capsys):
    before = _audit_rows(env["db"])
    q = "SELECT * FROM query_table(['ed_'||'assaults'])"
    for audience in ("public", "internal"):
        code, out, err = _sql(capsys, env["db"], q, "--audience", audience)
        assert code == 2 and "query_table" in err and out == ""
    assert _audit_rows(env["db"]) == before


# -- sensitive tables: who may read them, and the audit row ---------------------------------
SENSITIVE_SPELLINGS = [
    "SELECT count(*) AS n FROM ed_assaults",
    'SELECT count(*) AS n FROM "ED_ASSAULTS"',
    "/* hi */ select COUNT(*) as n from Main.Ed_Assaults",
    "SELECT count(*) AS n FROM sb.main.ed_assaults",
    "SELECT count(*) AS n FROM sb.ed_assaults",
    "WITH v AS (SELECT * FROM police_victims) SELECT count(*) AS n FROM v",
    "SELECT 1 AS n UNION ALL SELECT count(*) FROM (SELECT * FROM rejects)",
    "SELECT (SELECT count(*) FROM audit_log) AS n",
    "SELECT count(*) AS n FROM street_crimes WHERE EXISTS (SELECT 1 FROM ed_assaults)",
    "SUMMARIZE ed_assaults",
    "DESCRIBE police_victims",
]


@pytest.mark.parametrize("query", SENSITIVE_SPELLINGS)
def test_sensitive_tables_are_internal_only_however_spelled(env, capsys, query):
    before = _audit_rows(env["db"])
    for audience in ("public", "partner"):
        code, out, err = _sql(capsys, env["db"], query, "--audience", audience)
        assert code == 2 and "ED tables" in err and out == ""
    assert _audit_rows(env["db"]) == before


@pytest.mark.parametrize("query", SENSITIVE_SPELLINGS)
def test_every_sensitive_read_is_audited(env, capsys, query):
    before = _audit_rows(env["db"])
    code, out, _ = _sql(capsys, env["db"], query)
    assert code == 0 and out
    after = _audit_rows(env["db"])
    assert len(after) == len(before) + 1
    _, action, audience, logged, rows, output = after[-1]
    assert (action, audience, logged, output) == ("sql", "internal", query, "stdout")
    assert rows == len(out.splitlines()) - 1


def test_a_failed_sensitive_read_is_audited_too(env, capsys):
    """An engine error can quote a value it read, so the failed read leaves an audit row."""
    before = _audit_rows(env["db"])
    q = "SELECT error(CAST(count(*) AS VARCHAR)) FROM ed_assaults"
    code, _, err = _sql(capsys, env["db"], q)
    assert code == 2 and err.startswith("Error:")
    after = _audit_rows(env["db"])
    assert len(after) == len(before) + 1 and after[-1][3] == q
    assert after[-1][5] == "stderr (error)"


def test_cte_cannot_shadow_a_table_or_name_a_file(env, capsys):
    for q in (
        "WITH street_crimes AS (SELECT * FROM outcomes) SELECT count(*) FROM street_crimes",
        'WITH "{outside}/secret.csv" AS (SELECT 1) SELECT * FROM "{outside}/secret.csv"',
    ):
        code, out, err = _sql(capsys, env["db"], q.format(outside=env["outside"]))
        assert code == 2 and "CTE name" in err and SENTINEL not in out


# -- what still works ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "query",
    [
        "SELECT count(*) AS n FROM street_crimes",
        "with m as (select month, count(*) n from street_crimes group by all) "
        "select * from m order by month",
        "SELECT crime_type FROM street_crimes UNION SELECT outcome_type FROM outcomes",
        "SELECT month, row_number() OVER (ORDER BY month) AS r FROM partitions",
        "FROM street_crimes SELECT lad_name, count(*) GROUP BY ALL ORDER BY 2 DESC LIMIT 3",
        "SELECT * FROM main.street_crimes LIMIT 2",
        "DESCRIBE street_crimes",
        "SUMMARIZE SELECT month FROM street_crimes",
        "SHOW TABLES",
        "VALUES (1, 'a'), (2, 'b')",
        "SELECT unnest([1, 2]) AS x, [y * 2 for y in [1, 2]] AS l, CAST('3' AS INTEGER) AS c",
        "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 3) "
        "SELECT * FROM r",
        "SELECT min(month), max(month) FROM street_crimes;",
    ],
)
def test_ordinary_queries_over_open_tables_run_for_internal_only(env, capsys, query):
    """They pass the sandbox; their output leaves only through the publishing path, which has
    no protection spec for an ad hoc result, so partner and public get a clear refusal."""
    before = _audit_rows(env["db"])
    code, out, err = _sql(capsys, env["db"], query)
    assert code == 0, err
    assert out.strip()
    for audience in ("public", "partner"):
        code, out, err = _sql(capsys, env["db"], query, "--audience", audience)
        assert code == 2 and "not published" in err and out == ""
    assert _audit_rows(env["db"]) == before


# -- defence in depth --------------------------------------------------------------------
def test_the_connection_itself_cannot_reach_files_or_change_settings(env):
    """Even a query that got past the checks would run with external access off."""
    with sandbox.hardened_connection(env["db"]) as con:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(f"SELECT * FROM read_text('{env['outside']}/secret.txt')").fetchall()
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.execute(f"COPY street_crimes TO '{env['out']}/x.csv'")
        with pytest.raises(duckdb.Error, match="locked"):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.Error):
            con.execute("INSTALL httpfs")
        with pytest.raises(duckdb.Error):
            con.execute("CREATE TABLE x AS SELECT 1")
    assert list(env["out"].iterdir()) == []


def test_store_already_open_in_process_is_refused_not_shared(env, capsys):
    """The sandbox never borrows an ordinary connection it could not lock down."""
    with Store.open(env["db"], read_only=True):
        code, out, err = _sql(capsys, env["db"], "SELECT count(*) AS n FROM street_crimes")
        assert code == 2 and "already open in this process" in err and out == ""
        code, _, err = _sql(capsys, env["db"], "")  # refused before opening anything
        assert code == 2 and "empty" in err


def test_store_read_only_query_goes_through_the_checks(env):
    with Store.open(env["db"], read_only=True) as store:
        assert store.read_only_query("SELECT count(*) AS n FROM stop_searches") == (["n"], [(0,)])
        for bad in (
            f"SELECT * FROM read_text('{env['outside']}/secret.txt')",
            f"/**/COPY street_crimes TO '{env['out']}/y.csv'",
            "SELECT * FROM query_table(['ed_assaults'])",
        ):
            with pytest.raises(HarmscopeError):
                store.read_only_query(bad)
        with pytest.raises(HarmscopeError, match="ED tables"):
            store.read_only_query("SELECT count(*) FROM ed_assaults", audience="public")
    assert list(env["out"].iterdir()) == []


# -- property: nothing outside the allow-list runs ------------------------------------------
OPEN = ["street_crimes", "outcomes", "stop_searches", "ingests", "partitions"]
SENSITIVE = ["ed_assaults", "police_victims", "rejects", "audit_log"]


def _spellings(name: str) -> list[str]:
    mixed = "".join(c.upper() if i % 2 else c for i, c in enumerate(name))
    return [
        name,
        name.upper(),
        mixed,
        f'"{name}"',
        f'"{name.upper()}"',
        f"main.{name}",
        f'"main"."{name}"',
        f"sb.main.{name}",
        f"SB.{mixed}",
    ]


@st.composite
def _source(draw, env, depth=0):
    """(tokens, reads_sensitive, forbidden) for something that can follow FROM."""
    choice = draw(st.sampled_from(["open", "sensitive", "function", "file", "sub"]))
    if choice == "sub" and depth < 2:
        inner, sens, forb = draw(_select(env, depth + 1))
        return ["(", *inner, ")"], sens, forb
    if choice in ("open", "sub"):
        return [draw(st.sampled_from(_spellings(draw(st.sampled_from(OPEN)))))], False, False
    if choice == "sensitive":
        name = draw(st.sampled_from(SENSITIVE))
        return [draw(st.sampled_from(_spellings(name)))], True, False
    if choice == "file":
        return [f"'{env['outside']}/secret.csv'"], False, True
    fn = draw(
        st.sampled_from(
            [
                "query_table(['ed_'||'assaults'])",
                "query_table('street_crimes')",
                f"read_text('{env['outside']}/secret.txt')",
                "read_text('/etc/passwd')",
                f"read_blob('{env['db']}')",
                f"glob('{env['outside']}/*')",
                f"read_csv('{env['outside']}/secret.csv')",
                "range(3)",
                "duckdb_settings()",
            ]
        )
    )
    return [fn], False, True


@st.composite
def _select(draw, env, depth=0):
    src, sens, forb = draw(_source(env, depth))
    tokens = ["SELECT", "count(*)", "AS", "n", "FROM", *src, "AS", f"t{depth}"]
    extra = draw(st.sampled_from(["none", "exists", "scalar_ok", "scalar_bad"]))
    if extra == "exists" and depth < 2:
        sub, s2, f2 = draw(_source(env, depth + 1))
        tokens += ["WHERE", "EXISTS", "(", "SELECT", "1", "FROM", *sub, ")"]
        sens, forb = sens or s2, forb or f2
    elif extra == "scalar_ok":
        tokens += ["WHERE", "upper('a')", "=", "'A'"]
    elif extra == "scalar_bad":
        bad = draw(
            st.sampled_from(
                ["current_setting('threads')", "getvariable('x')", "nextval('audit_id_seq')"]
            )
        )
        tokens += ["WHERE", bad, "IS", "NOT", "NULL"]
        forb = True
    return tokens, sens, forb


@st.composite
def _statement(draw, env):
    tokens, sens, forb = draw(_select(env))
    shape = draw(st.sampled_from(["plain", "union", "cte", "nested"]))
    if shape == "union":
        t2, s2, f2 = draw(_select(env, 1))
        tokens, sens, forb = [*tokens, "UNION", "ALL", *t2], sens or s2, forb or f2
    elif shape == "cte":
        tokens = ["WITH", "c", "AS", "(", *tokens, ")", "SELECT", "n", "FROM", "c"]
    elif shape == "nested":
        tokens = ["SELECT", "*", "FROM", "(", *tokens, ")", "AS", "q"]
    wrap = draw(
        st.sampled_from(
            ["none", "none", "copy", "export", "set", "checkpoint", "pragma", "second", "explain"]
        )
    )
    if wrap == "copy":
        tokens, forb = ["COPY", "(", *tokens, ")", "TO", f"'{env['out']}/p.csv'"], True
    elif wrap == "export":
        tokens, forb = ["EXPORT", "DATABASE", f"'{env['out']}/dump'"], True
    elif wrap == "set":
        tokens, forb = ["SET", "threads", "=", "1"], True
    elif wrap == "checkpoint":
        tokens, forb = ["CHECKPOINT"], True
    elif wrap == "pragma":
        tokens, forb = ["PRAGMA", "database_size"], True
    elif wrap == "second":
        tokens, forb = [*tokens, ";", "SELECT", "1"], True
    elif wrap == "explain":
        tokens, forb = ["EXPLAIN", *tokens], True
    keywords = {"SELECT", "FROM", "AS", "WHERE", "EXISTS", "UNION", "ALL", "WITH", "IS", "NOT"}
    cased = [
        draw(st.sampled_from([t, t.lower(), t.title()])) if t in keywords else t for t in tokens
    ]
    seps = draw(
        st.lists(
            st.sampled_from([" ", " ", "\n", "/**/", " /* ; */ ", " -- c;\n", "\t"]),
            min_size=len(cased) + 1,
            max_size=len(cased) + 1,
        )
    )
    sql = seps[0] + "".join(t + s for t, s in zip(cased, seps[1:], strict=True))
    return sql, sens, forb


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_property_nothing_outside_the_allow_list_runs(env, capsys, data):
    """Through the CLI: refused (exit 2), or it read allowed tables only, wrote no file, showed
    nothing from outside the store, and left one audit row per sensitive read."""
    sql, sensitive, forbidden = data.draw(_statement(env))
    audience = data.draw(st.sampled_from(["internal", "public"]))
    before_files, before_audit = _files(env["folder"]), _audit_rows(env["db"])
    code, out, err = _sql(capsys, env["db"], sql, "--audience", audience)
    after_audit = _audit_rows(env["db"])
    assert code in (0, 2), err
    assert _files(env["folder"]) == before_files, sql
    assert SENTINEL not in out and "root:" not in out
    if forbidden or (sensitive and audience != "internal"):
        assert code == 2, f"ran: {sql!r} for {audience}"
        assert after_audit == before_audit, sql
        return
    if audience != "internal":  # the publishing path has no spec for ad hoc output
        assert code == 2 and "not published" in err and out == "", sql
        assert after_audit == before_audit, sql
        return
    assert code == 0, f"refused a query it should run: {sql!r}: {err}"
    if sensitive:
        assert len(after_audit) == len(before_audit) + 1, sql
        assert after_audit[-1][3] == sql and after_audit[-1][2] == audience
    else:
        assert after_audit == before_audit, sql
