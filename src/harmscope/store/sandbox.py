"""The `harmscope sql` sandbox: one SELECT over allow-listed tables, on a locked-down connection.

A user's query is parsed by DuckDB's own parser (``duckdb.extract_statements`` for the count and
type of statements, ``json_serialize_sql`` for the syntax tree) and accepted only if:

* it is exactly one SELECT statement (WITH, UNION/INTERSECT/EXCEPT, VALUES, FROM-first,
  DESCRIBE and SUMMARIZE all parse as SELECT; COPY, EXPORT, SET, PRAGMA, CHECKPOINT, INSTALL,
  ATTACH, CALL, EXPLAIN and every write do not);
* every table it names is a base table on the allow-list for the audience (or a CTE defined
  in the query), in the store's own catalog and ``main`` schema;
* it calls no table function at all (``query_table``, ``read_csv``, ``read_text``, ``glob``...)
  and only built-in scalar, aggregate and window functions that cannot reach files, settings,
  variables or sequences.

The table references found in the tree (not a pattern over the text, so quoting, case, schema
prefixes and comments cannot hide them) decide who may run the query and whether it is
audited. The query then runs on a read-only connection opened with external access off,
extension autoinstall/autoload off and the configuration locked, so a gap in the checks above
still cannot read or write a file, load an extension or reach the network.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import duckdb

from harmscope.config import resolve_db_path
from harmscope.errors import HarmscopeError
from harmscope.store.store import first_line, no_store_yet

# -- what may be read ------------------------------------------------------------------------
# Public police data, provenance and the intervention register: any audience.
OPEN_TABLES = frozenset(
    {
        "street_crimes",
        "outcomes",
        "stop_searches",
        "ingests",
        "partitions",
        "partition_history",
        "interventions",
        "schema_migrations",
        "covariates",
        "covariate_values",
    }
)
# Health, person-level and network records: internal audience only, and every read is audited.
# ``rejects`` is here because ED ingest keeps (redacted) rejected ED rows in it; crimes,
# persons_in_crimes and links are the person-level tables planned in ARCHITECTURE.md.
SENSITIVE_TABLES = frozenset(
    {
        "ed_assaults",
        "police_victims",
        "audit_log",
        "rejects",
        "crimes",
        "persons",
        "persons_in_crimes",
        "links",
        "link_entities",
    }
)
SENSITIVE_AUDIENCES = frozenset({"internal"})

# Built-in functions that exist as scalars but reach state outside the allowed tables
# (settings, variables, sequences, serialised plans) or stall the engine (sleep). Table functions
# are refused wholesale.
DENIED_FUNCTIONS = frozenset(
    {
        "current_setting",
        "getvariable",
        "getenv",
        "nextval",
        "currval",
        "setval",
        "setseed",
        "sleep_ms",
        "pg_sleep",
        "json_execute_serialized_sql",
        "query",
        "query_table",
        "read_text",
        "read_blob",
        "glob",
    }
)
_DENIED_PREFIXES = ("read_", "duckdb_", "pragma_", "sql_")
# Functions the parser emits for syntax (``SELECT unnest(x)``) that the catalog lists as table
# functions; in an expression they do not read anything.
_EXPRESSION_ONLY = frozenset({"unnest", "unlist"})
_ALLOWED_FUNCTION_TYPES = ("scalar", "aggregate", "window")
# Built-in scalar macros are allowed only when their body is a plain expression (no subquery
# over the catalog, no pragma) that calls nothing denied.
_RISKY_MACRO_BODY = re.compile(
    r"\b(select|from|pragma_\w*|duckdb_\w*|" + "|".join(sorted(DENIED_FUNCTIONS)) + r")\b",
    re.IGNORECASE,
)

_QUERY_NODES = frozenset({"SELECT_NODE", "SET_OPERATION_NODE", "RECURSIVE_CTE_NODE", "CTE_NODE"})
_TABLE_REFS = frozenset(
    {
        "BASE_TABLE",
        "JOIN",
        "SUBQUERY",
        "EXPRESSION_LIST",
        "EMPTY",
        "EMPTY_FROM",
        "PIVOT",
        "SHOW_REF",
    }
)
_EXPRESSIONS = frozenset(
    {
        "BETWEEN",
        "CASE",
        "CAST",
        "COLLATE",
        "COLUMN_REF",
        "COMPARISON",
        "CONJUNCTION",
        "CONSTANT",
        "FUNCTION",
        "LAMBDA",
        "LAMBDA_REF",
        "OPERATOR",
        "POSITIONAL_REFERENCE",
        "STAR",
        "SUBQUERY",
        "TYPE",
        "WINDOW",
    }
)
# SHOW TABLES / SHOW ALL TABLES list names only.
_SHOW_SPECIAL = frozenset({'"tables"', "__show_tables_expanded", '"databases"'})
_PLAIN_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")

# The connection the query runs on (DuckDB configuration names, checked against DuckDB 2.0).
HARDENED_CONFIG: dict[str, Any] = {
    "enable_external_access": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "python_enable_replacements": False,
    "lock_configuration": True,
}

_FIX_SELECT = 'pass one SELECT, for example `harmscope sql "SELECT count(*) FROM street_crimes"`'


def allowed_tables(audience: str) -> frozenset[str]:
    """The tables ``audience`` may read through the sandbox."""
    if audience in SENSITIVE_AUDIENCES:
        return OPEN_TABLES | SENSITIVE_TABLES
    return OPEN_TABLES


@dataclass(frozen=True)
class CheckedQuery:
    """A query the sandbox accepted: its text and the tables it reads (lower case)."""

    sql: str
    tables: frozenset[str]

    @property
    def sensitive(self) -> frozenset[str]:
        return self.tables & SENSITIVE_TABLES


@dataclass(frozen=True)
class SandboxResult:
    columns: list[str]
    rows: list[tuple[Any, ...]]
    checked: CheckedQuery


# -- parsing and checking -------------------------------------------------------------------
def _refuse(problem: str, fix: str = _FIX_SELECT) -> HarmscopeError:
    return HarmscopeError(problem, where="sql", fix=fix)


def check_statement(sql: str) -> None:
    """Refuse anything but exactly one SELECT statement (needs no store connection)."""
    if not isinstance(sql, str) or not sql.strip():
        raise _refuse("the query is empty")
    if "\x00" in sql:
        raise _refuse("the query contains a NUL character")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise _refuse(f"the query does not parse ({first_line(exc)})") from None
    if not statements:
        raise _refuse("the query is empty (only comments or semicolons)")
    if len(statements) != 1:
        raise _refuse(
            f"only a single read-only query is allowed, found {len(statements)} statements",
            fix="remove the extra statements; use `harmscope ingest` to load data",
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        name = getattr(kind, "name", str(kind))
        raise _refuse(
            "only a single read-only query (SELECT, WITH, VALUES, DESCRIBE, SUMMARIZE) is "
            f"allowed; refused: {name} statement",
            fix="remove statements that change the store or reach files; "
            "use `harmscope ingest` to load data",
        )


def check_query(sql: str, *, audience: str, con: duckdb.DuckDBPyConnection) -> CheckedQuery:
    """Parse ``sql`` and accept it only if it is one SELECT over tables ``audience`` may read.

    ``con`` supplies the parser (``json_serialize_sql``), the built-in function catalog and the
    names of existing tables (a CTE may not shadow one). Raises HarmscopeError naming what was
    refused.
    """
    check_statement(sql)
    raw = con.execute("SELECT json_serialize_sql(?)", [sql]).fetchone()[0]
    tree = json.loads(raw)
    if tree.get("error") or len(tree.get("statements") or []) != 1:
        raise _refuse(
            "only a single read-only SELECT can run here "
            f"({tree.get('error_message') or 'not one SELECT statement'})"
        )
    walker = _Walker(con)
    walker.walk(tree["statements"][0]["node"], frozenset())
    tables = frozenset(walker.tables)
    not_allowed = sorted(tables - (OPEN_TABLES | SENSITIVE_TABLES))
    if not_allowed:
        raise _refuse(
            f"table {', '.join(not_allowed)} is not on the allow-list for `harmscope sql`",
            fix=f"query one of: {', '.join(sorted(allowed_tables(audience)))}",
        )
    denied = sorted(tables - allowed_tables(audience))
    if denied:
        raise _refuse(
            f"ED tables and other person-level tables ({', '.join(denied)}) cannot be queried "
            f"row by row for the '{audience}' audience",
            fix="use `harmscope ed export --audience ...`, which applies disclosure control",
        )
    return CheckedQuery(sql=sql, tables=tables)


class _Walker:
    """Walks the serialised tree, collecting table names and refusing anything not allowed.

    The walk is generic (every dict and list is visited), so a new place where DuckDB puts a
    subquery or function cannot be skipped; what is recognised is checked against allow-lists.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection):
        self.tables: set[str] = set()
        self._functions = _allowed_functions(con)
        self._catalog_names = _catalog_names(con)
        self._db = str(con.execute("SELECT current_database()").fetchone()[0]).lower()

    def walk(self, obj: Any, ctes: frozenset[str]) -> None:
        if isinstance(obj, list):
            for item in obj:
                self.walk(item, ctes)
            return
        if not isinstance(obj, dict):
            return
        if "class" in obj:
            self._expression(obj)
        elif isinstance(obj.get("type"), str) and obj["type"].endswith("_NODE"):
            ctes = self._query_node(obj, ctes)
        elif _looks_like_table_ref(obj):
            self._table_ref(obj, ctes)
        for value in obj.values():
            self.walk(value, ctes)

    def _query_node(self, node: dict, ctes: frozenset[str]) -> frozenset[str]:
        if node["type"] not in _QUERY_NODES:
            raise _refuse(f"query part {node['type']} is not allowed in `harmscope sql`")
        names = set()
        for entry in (node.get("cte_map") or {}).get("map") or []:
            name = str(entry.get("key", "")).lower()
            if not _PLAIN_NAME.match(name):
                raise _refuse(
                    f"CTE name {entry.get('key')!r} is not allowed",
                    fix="name CTEs with plain letters, digits and underscores",
                )
            if name in self._catalog_names or name in OPEN_TABLES | SENSITIVE_TABLES:
                raise _refuse(
                    f"CTE name {name} shadows a table of the store",
                    fix="give the CTE another name",
                )
            names.add(name)
        return ctes | names

    def _table_ref(self, ref: dict, ctes: frozenset[str]) -> None:
        kind = ref["type"]
        if kind == "TABLE_FUNCTION":
            fn = (ref.get("function") or {}).get("function_name", "?")
            raise _refuse(
                f"table function {fn}() is not allowed in `harmscope sql` "
                "(table functions can read files or other tables)",
                fix="select from the store's tables by name",
            )
        if kind not in _TABLE_REFS:
            raise _refuse(f"table reference of type {kind} is not allowed in `harmscope sql`")
        if kind == "BASE_TABLE":
            self._base_table(ref, ctes)
        elif kind == "SHOW_REF" and not ref.get("query"):
            name = str(ref.get("table_name", ""))
            if ref.get("show_type") == "SHOW_SPECIAL" and name.lower() in _SHOW_SPECIAL:
                return
            self._base_table(ref, frozenset())

    def _base_table(self, ref: dict, ctes: frozenset[str]) -> None:
        name = str(ref.get("table_name", "")).lower()
        qualifiers = [
            str(q).lower() for q in (ref.get("catalog_name"), ref.get("schema_name")) if q
        ]
        if not qualifiers and name in ctes:
            return
        bad = [q for q in qualifiers if q not in ("main", self._db)]
        if bad:
            raise _refuse(
                f"table {'.'.join([*qualifiers, name])} is outside the store's own tables",
                fix="name the table without a schema, or with main.",
            )
        if ref.get("at_clause"):
            raise _refuse(f"time travel (AT ...) on {name} is not allowed")
        self.tables.add(name)

    def _expression(self, expr: dict) -> None:
        cls = expr["class"]
        if cls not in _EXPRESSIONS:
            raise _refuse(f"expression {cls} is not allowed in `harmscope sql`")
        if cls in ("FUNCTION", "WINDOW"):
            name = str(expr.get("function_name", "")).lower()
            if expr.get("schema") or expr.get("catalog"):
                raise _refuse(
                    f"qualified function {expr.get('schema')}.{name}() is not allowed",
                    fix="call built-in functions by their plain name",
                )
            if (
                name in DENIED_FUNCTIONS
                or name.startswith(_DENIED_PREFIXES)
                or name not in self._functions
            ):
                raise _refuse(
                    f"function {name}() is not allowed in `harmscope sql` (only built-in "
                    "scalar, aggregate and window functions that cannot reach files, settings "
                    "or other state)",
                    fix="use the store's tables and ordinary SQL functions",
                )


def _looks_like_table_ref(obj: dict) -> bool:
    return isinstance(obj.get("type"), str) and "alias" in obj and "sample" in obj


def _allowed_functions(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute(
        "SELECT lower(function_name), function_type, macro_definition FROM duckdb_functions() "
        "WHERE internal"
    ).fetchall()
    allowed = {n for n, kind, _ in rows if kind in _ALLOWED_FUNCTION_TYPES}
    macros: dict[str, bool] = {}
    for name, kind, body in rows:
        if kind == "macro":
            safe = bool(body) and not _RISKY_MACRO_BODY.search(body)
            macros[name] = macros.get(name, True) and safe
    allowed |= {n for n, safe in macros.items() if safe}
    return frozenset(allowed) | _EXPRESSION_ONLY


def _catalog_names(con: duckdb.DuckDBPyConnection) -> frozenset[str]:
    rows = con.execute(
        "SELECT lower(table_name) FROM duckdb_tables() "
        "UNION SELECT lower(view_name) FROM duckdb_views()"
    ).fetchall()
    return frozenset(r[0] for r in rows)


# -- running --------------------------------------------------------------------------------
@contextlib.contextmanager
def hardened_connection(db: str | os.PathLike | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection to the store with external access off and its settings locked."""
    from harmscope.store.migrations import LATEST_VERSION
    from harmscope.store.store import Store

    if db is not None and str(db) == ":memory:":
        con = duckdb.connect(":memory:", config=dict(HARDENED_CONFIG))
        Store(con, None, False).migrate()
    else:
        path = resolve_db_path(db)
        if not path.exists():
            raise no_store_yet(path)
        try:
            con = duckdb.connect(str(path), read_only=True, config=dict(HARDENED_CONFIG))
        except duckdb.Error as exc:
            if "different configuration" in str(exc):
                # This process already holds the file with ordinary settings; the sandbox
                # will not share that connection (it could not lock it down), so it refuses.
                raise HarmscopeError(
                    "the store is already open in this process, so the sandbox cannot open "
                    "its own locked-down connection",
                    where=str(path),
                    fix="close the other connection first; code holding a Store can use "
                    "Store.read_only_query",
                ) from None
            raise HarmscopeError(
                f"cannot open the store read-only ({first_line(exc)})",
                where=str(path),
                fix="close other programs writing to it, or pass another --db",
            ) from None
        store = Store(con, path, True)
        try:
            version = store.schema_version()
            pending = store.pending_migrations() if version else []
        except duckdb.Error:
            version, pending = 0, []
        if version == 0 or pending:
            con.close()
            raise HarmscopeError(
                f"store schema is version {version} and lacks migrations "
                f"{pending if version else 'all'}; this harmscope is at {LATEST_VERSION}",
                where=str(path),
                fix="open it once without read-only (for example `harmscope status`) to migrate it",
            )
    try:
        yield con
    finally:
        with contextlib.suppress(duckdb.Error):
            con.close()


def execute_checked(
    con: duckdb.DuckDBPyConnection, checked: CheckedQuery
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run an accepted query inside a transaction that is always rolled back."""
    con.execute("BEGIN TRANSACTION")
    try:
        cur = con.execute(checked.sql)
        cols = [d[0] for d in cur.description] if cur.description else []
        rows = cur.fetchall() if cur.description else []
    except duckdb.Error as exc:
        raise HarmscopeError(
            first_line(exc),
            where="sql",
            fix="check the table and column names with `harmscope status`",
        ) from None
    finally:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
    return cols, rows


def run_query(db: str | os.PathLike | None, sql: str, *, audience: str) -> SandboxResult:
    """Check and run ``sql`` on a hardened read-only connection; audit sensitive reads.

    The audit row is committed before the rows are returned, so no output of a sensitive table
    exists without its audit row. A refused query runs nothing and is not audited; a query over
    a sensitive table that fails in the engine is audited (its error message may quote a value).
    """
    from harmscope.privacy import audit
    from harmscope.store.store import Store

    audience = audit.check_audience(audience)
    check_statement(sql)  # before opening anything
    failure: HarmscopeError | None = None
    cols: list[str] = []
    rows: list[tuple[Any, ...]] = []
    with hardened_connection(db) as con:
        checked = check_query(sql, audience=audience, con=con)
        try:
            cols, rows = execute_checked(con, checked)
        except HarmscopeError as exc:
            failure = exc
    if checked.sensitive:
        # An engine error can quote a value it read (a failed cast, error(...)), so a failed
        # read of a sensitive table is audited too, with its output marked as an error.
        with Store.open(db) as store, store.transaction():
            audit.record(
                store,
                action="sql",
                what="ad hoc SQL over " + ", ".join(sorted(checked.sensitive)),
                query=sql,
                audience=audience,
                rows=None if failure else len(rows),
                output="stderr (error)" if failure else "stdout",
            )
    if failure is not None:
        raise failure
    return SandboxResult(cols, rows, checked)


def query_store(store, sql: str, *, audience: str = "internal") -> SandboxResult:
    """Check ``sql`` and run it on an already open store's connection (no audit, no locked
    connection: callers holding a store use this; `harmscope sql` uses :func:`run_query`)."""
    checked = check_query(sql, audience=audience, con=store.con)
    cols, rows = execute_checked(store.con, checked)
    return SandboxResult(cols, rows, checked)
