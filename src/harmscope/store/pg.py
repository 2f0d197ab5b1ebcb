"""PostgreSQL behind the DuckDB connection API the store's callers use (issue 16).

DuckDB stays the engine that reads police files; a partnership's shared server keeps its store
in PostgreSQL. :class:`PgConnection` offers the subset of ``duckdb.DuckDBPyConnection`` the
query layer, the migrations and the store use (``execute`` returning something with
``fetchone``/``fetchall``/``df``, ``executemany``, ``register``/``unregister``, ``cursor``), so
the same SQL runs on both: each statement is written in DuckDB's dialect and translated once
(cached per SQL text) with sqlglot. What sqlglot cannot translate is rewritten in portable SQL
in the query layer (docs/postgres.md lists those rewrites).

The connection runs in autocommit mode, as DuckDB does; ``BEGIN``/``COMMIT`` (the store's
``transaction()``) open and close a real transaction.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

URL_PREFIXES = ("postgresql://", "postgres://")
_PARAM = "__hs_param__"
_NAMED = "__hs_named_"


def is_url(db: object) -> bool:
    """True for a ``postgresql://`` (or ``postgres://``) connection URL."""
    return isinstance(db, str) and db.startswith(URL_PREFIXES)


def redact_url(url: str) -> str:
    """The URL without its password, for messages and ``store.path``-like labels."""
    return re.sub(r"(://[^:/@]*):[^@/]*@", r"\1:***@", url)


# -- translation -------------------------------------------------------------------------------
def _expand_group_by_all(node):
    """``GROUP BY ALL`` (DuckDB) -> ``GROUP BY 1, 2, ...``: the select items with no aggregate."""
    from sqlglot import exp

    if not isinstance(node, exp.Select):
        return node
    _expand_order_by_all(node)
    group = node.args.get("group")
    if group is None or not group.args.get("all"):
        return node
    positions = []
    for i, item in enumerate(node.expressions, start=1):
        inner = item.this if isinstance(item, exp.Alias) else item
        if not _has_aggregate(inner):
            positions.append(exp.Literal.number(i))
    node.set("group", exp.Group(expressions=positions) if positions else None)
    return node


def _expand_order_by_all(node) -> None:
    """``ORDER BY ALL [DESC]`` (DuckDB) -> ``ORDER BY 1, 2, ...`` in the same direction."""
    from sqlglot import exp

    order = node.args.get("order")
    items = order.expressions if order is not None else []
    if (
        len(items) != 1
        or not isinstance(items[0].this, exp.Var)
        or items[0].this.name.upper() != "ALL"
    ):
        return
    first = items[0]
    order.set(
        "expressions",
        [
            exp.Ordered(
                this=exp.Literal.number(i),
                desc=first.args.get("desc"),
                nulls_first=first.args.get("nulls_first"),
            )
            for i in range(1, len(node.expressions) + 1)
        ],
    )


def _has_aggregate(node) -> bool:
    from sqlglot import exp

    for sub in node.walk(prune=lambda n: isinstance(n, exp.Subquery | exp.Window)):
        if isinstance(sub, exp.AggFunc) and not isinstance(sub.parent, exp.Window):
            return True
    return False


def _any_value(node):
    """``any_value(x)`` -> ``min(x)``: PostgreSQL has no any_value before version 16, and the
    query layer uses it only for a value fixed within the group (a district's name)."""
    from sqlglot import exp

    if isinstance(node, exp.IgnoreNulls) and isinstance(node.this, exp.AnyValue):
        node = node.this  # DuckDB's any_value skips NULLs; so does min
    if isinstance(node, exp.AnyValue):
        return exp.Min(this=node.this)
    return node


@functools.lru_cache(maxsize=1)
def _date_parts() -> tuple:
    from sqlglot import exp

    return (
        (exp.DayOfWeekIso, "ISODOW"),
        (exp.DayOfWeek, "DOW"),  # Sunday = 0 in both
        (exp.Hour, "HOUR"),
        (exp.Minute, "MINUTE"),
        (exp.DayOfMonth, "DAY"),
        (exp.DayOfYear, "DOY"),
        (exp.Week, "WEEK"),
        (exp.Quarter, "QUARTER"),
    )


def _functions(node):
    """DuckDB functions sqlglot leaves as they are, in PostgreSQL's words (same results)."""
    from sqlglot import exp

    part = next((p for cls, p in _date_parts() if isinstance(node, cls)), None)
    if part is not None:  # DuckDB's hour(ts) etc.: an integer (PostgreSQL's EXTRACT: numeric)
        extract = exp.Extract(this=exp.var(part), expression=node.this)
        return exp.cast(extract, "BIGINT")
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None:
        # PostgreSQL rounds to decimals only in numeric; DuckDB's answer is a double.
        rounded = exp.Round(this=exp.cast(node.this, "NUMERIC"), decimals=node.args["decimals"])
        return exp.cast(rounded, "DOUBLE PRECISION")
    return node


def _mark_params(node):
    """Placeholders become sentinels, so literal ``%`` can be escaped for psycopg afterwards."""
    from sqlglot import exp

    if isinstance(node, exp.Placeholder):
        name = node.this if isinstance(node.this, str) else None
        marked = exp.var(f"{_NAMED}{name}__" if name else _PARAM)
        if isinstance(node.parent, exp.Is):
            # `? IS NULL`: PostgreSQL must know a parameter's type; any value casts to text.
            return exp.cast(marked, "TEXT")
        return marked
    if isinstance(node, exp.Parameter):  # $name / $1
        return exp.var(f"{_NAMED}{node.name}__")
    return node


@functools.lru_cache(maxsize=1)
def _reader():
    """DuckDB's dialect, less the keyword FORCE (MySQL's index hint, which DuckDB lacks): our
    tables have a column named ``force`` and sqlglot would not parse it as a name."""
    from sqlglot.dialects.duckdb import DuckDB

    class HarmscopeDuckDB(DuckDB):
        class Tokenizer(DuckDB.Tokenizer):
            KEYWORDS = {k: v for k, v in DuckDB.Tokenizer.KEYWORDS.items() if k != "FORCE"}

    return HarmscopeDuckDB


# DuckDB's file readers: a PostgreSQL server cannot read the client's files.
_FILE_READERS = re.compile(
    r"\b(read_csv|read_csv_auto|read_parquet|parquet_scan|read_json|read_json_auto|read_text|"
    r"read_blob|glob)\s*\(",
    re.IGNORECASE,
)


def translate(sql: str) -> tuple[str, ...]:
    """DuckDB SQL -> PostgreSQL statements, with ``%s`` / ``%(name)s`` placeholders.

    Raises HarmscopeError for what only DuckDB can run (its file readers; SQL sqlglot cannot
    say in PostgreSQL), so a DuckDB-only path fails with a clear message, not a server error.
    """
    from harmscope.errors import HarmscopeError

    if (m := _FILE_READERS.search(sql)) is not None:
        raise HarmscopeError(
            f"this step reads a file inside the database ({m.group(1)}), which only the "
            "embedded DuckDB store can do",
            where="PostgreSQL store",
            fix="load this kind of file into a DuckDB store (--db harmscope.duckdb); police "
            "open data (`harmscope ingest`) and ED data load into the server store",
        )
    try:
        return _translate_collapsed(sql)
    except HarmscopeError:
        raise
    except Exception as exc:  # sqlglot's ParseError / UnsupportedError
        raise HarmscopeError(
            f"this query cannot run on PostgreSQL ({str(exc).splitlines()[0]})",
            where="PostgreSQL store",
            fix="run the command on a DuckDB store (--db harmscope.duckdb), and report it: "
            "the query layer should say it in portable SQL (docs/postgres.md)",
        ) from None


def _translate_collapsed(sql: str) -> tuple[str, ...]:
    collapsed, counts = _collapse_values(sql)
    if counts:
        try:
            return tuple(_expand_values(t, counts) for t in _translate(collapsed))
        except (ValueError, IndexError):  # a marker row sqlglot did not keep: the long way
            pass
    return _translate(sql)


_PARAM_CAST = re.compile(r"\?::\s*([A-Za-z_]\w*(?:\[\])?)")
# A VALUES list of one placeholder tuple repeated (the query layer's weights and overrides,
# hundreds of rows): parsed once, not once per row. sqlglot takes ~0.15 s to parse 500 rows,
# and each list length is a new SQL text, so the translation cache did not help.
_SLOT = r"\s*(?:\?|CAST\(\s*\?\s+AS\s+\w+\s*\))\s*"
_VALUES_RUN = re.compile(rf"(\bVALUES\s*)(\({_SLOT}(?:,{_SLOT})*\))((?:\s*,\s*\2)+)", re.I)
_MORE = "__hs_more_{}__"


def _collapse_values(sql: str) -> tuple[str, list[int]]:
    """Each run of k identical placeholder tuples after VALUES -> the first tuple and a
    marker row; returns the SQL and each run's k, in marker order."""
    counts: list[int] = []

    def one(m: re.Match) -> str:
        k = 1 + m.group(3).count(m.group(2))
        counts.append(k)
        return f"{m.group(1)}{m.group(2)}, ({_MORE.format(len(counts) - 1)})"

    return _VALUES_RUN.sub(one, sql), counts


def _expand_values(text: str, counts: list[int]) -> str:
    """The translated tuple before each marker row, repeated k times in its place."""
    for i, k in enumerate(counts):
        marker = f", ({_MORE.format(i)})"
        at = text.index(marker)
        depth, start = 0, at - 1
        while True:  # back to the '(' that opens the translated tuple
            depth += {")": 1, "(": -1}.get(text[start], 0)
            if depth == 0:
                break
            start -= 1
        row = text[start:at]
        text = text[:start] + ", ".join([row] * k) + text[at + len(marker) :]
    return text


@functools.lru_cache(maxsize=4096)
def _translate(sql: str) -> tuple[str, ...]:
    import sqlglot
    from sqlglot.errors import ErrorLevel

    # ``?::TYPE`` (a cast parameter) is DuckDB shorthand sqlglot cannot parse; say it as CAST.
    sql = _PARAM_CAST.sub(r"CAST(? AS \1)", sql)
    out = []
    for tree in sqlglot.parse(sql, read=_reader()):
        if tree is None:
            continue
        tree = tree.transform(_expand_group_by_all).transform(_any_value).transform(_functions)
        tree = tree.transform(_mark_params)
        # Raise, not warn, on what PostgreSQL cannot say: a silently changed query is worse.
        text = tree.sql(dialect="postgres", unsupported_level=ErrorLevel.RAISE)
        text = text.replace("%", "%%").replace(_PARAM, "%s")
        text = re.sub(rf"{_NAMED}(\w+?)__", r"%(\1)s", text)
        out.append(text)
    return tuple(out)


def _params(params: Any) -> Any:
    if params is None:
        return None
    if isinstance(params, dict):
        return {str(k): _value(v) for k, v in params.items()}
    return [_value(v) for v in params]


def _value(v: Any) -> Any:
    """numpy scalars and arrays as the plain Python values psycopg adapts."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray | tuple):
        return [_value(x) for x in v]
    if isinstance(v, list):
        return [_value(x) for x in v]
    return v


def _is_text_list(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, str) for x in v)


def _has_text_list(args: Any) -> bool:
    values = args.values() if isinstance(args, dict) else args
    return any(_is_text_list(v) for v in values)


def _cast_text_lists(text: str, args: Any) -> str:
    """Type a list-of-strings parameter as ``text[]``: psycopg sends strings untyped (so a
    date column can compare with '2025-01-01'), and ``unnest`` of an untyped array is
    ambiguous in PostgreSQL, where DuckDB knows it is a list of VARCHAR."""
    if isinstance(args, dict):
        for name, v in args.items():
            if _is_text_list(v):
                text = text.replace(f"%({name})s", f"%({name})s::text[]")
        return text
    parts = re.split(r"(?<!%)%s", text)
    out = [parts[0]]
    for v, rest in zip(args, parts[1:], strict=False):
        out.append("%s::text[]" if _is_text_list(v) else "%s")
        out.append(rest)
    return "".join(out)


# -- results -----------------------------------------------------------------------------------
# PostgreSQL type oids -> the pandas dtype DuckDB's .df() gives (nullable when NULLs occur).
_INTS = {20: ("int64", "Int64"), 21: ("int16", "Int16"), 23: ("int32", "Int32")}
_FLOATS = {700, 701, 1700}
_BOOL, _DATES = 16, {1082, 1114, 1184}
# Statements that end a transaction: the moment to gather statistics of COPYed tables.
_ENDS = frozenset({"COMMIT", "COMMIT TRANSACTION", "END", "END TRANSACTION"})


def _column(values: list, oid: int):
    """One column as the array DuckDB's ``.df()`` would hold (arrays, not Series: a frame built
    from arrays skips pandas' index alignment, which costs more than the rows of a small
    result)."""
    has_null = None in values
    if oid in _INTS:
        plain, nullable = _INTS[oid]
        return pd.array(values, dtype=nullable) if has_null else np.array(values, dtype=plain)
    if oid in _FLOATS:
        if has_null:
            values = [np.nan if v is None else v for v in values]
        return np.array(values, dtype="float64")
    if oid == _BOOL:
        return pd.array(values, dtype="boolean") if has_null else np.array(values, dtype=bool)
    if oid in _DATES:
        s = pd.to_datetime(pd.Series(values, dtype=object), utc=(oid == 1184))
        if oid == 1184:
            s = s.dt.tz_convert(None)
        return s.astype("datetime64[us]").to_numpy()
    if not values or all(v is None for v in values):
        return np.array(values, dtype=object)
    return pd.Series(values).array  # inferred as pandas infers it (text: object)


class PgResult:
    """The rows of one statement, read the ways DuckDB's result is read."""

    def __init__(self, description, rows: list[tuple] | None):
        self.description = description
        self._rows = rows if rows is not None else []
        self._pos = 0

    def fetchone(self) -> tuple | None:
        if self._pos >= len(self._rows):
            return None
        row = self._rows[self._pos]
        self._pos += 1
        return row

    def fetchall(self) -> list[tuple]:
        rows = self._rows[self._pos :]
        self._pos = len(self._rows)
        return rows

    def fetchmany(self, size: int = 1) -> list[tuple]:
        rows = self._rows[self._pos : self._pos + size]
        self._pos += len(rows)
        return rows

    def df(self) -> pd.DataFrame:
        rows = self.fetchall()
        desc = self.description or []
        names = [d.name for d in desc]
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(desc)
        data = {
            i: _column(list(c), d.type_code)
            for i, (c, d) in enumerate(zip(cols, desc, strict=True))
        }
        frame = pd.DataFrame(data, index=pd.RangeIndex(len(rows)), copy=False)
        frame.columns = names
        return frame

    fetchdf = df

    def fetchnumpy(self) -> dict[str, np.ndarray]:
        frame = self.df()
        return {c: frame[c].to_numpy() for c in frame.columns}


# -- the connection ----------------------------------------------------------------------------
def psycopg_errors():
    import psycopg.errors

    return psycopg.errors


def duckdb_only(exc: BaseException):
    """A HarmscopeError for SQL that uses what only DuckDB has (a setting, a function)."""
    from harmscope.errors import HarmscopeError

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return HarmscopeError(
        f"this step uses something only the embedded DuckDB store has ({text})",
        where="PostgreSQL store",
        fix="load or run it on a DuckDB store (--db harmscope.duckdb); police open data "
        "(`harmscope ingest`) and ED data load into the server store. If it was an analysis, "
        "report it: the query layer should say it in portable SQL (docs/postgres.md)",
    )


def _numeric_loader():
    """numeric (PostgreSQL's sum/avg of integers) as int or float, never Decimal: DuckDB gives
    Python numbers, and callers do arithmetic with floats."""
    from psycopg.adapt import Loader

    class NumericLoader(Loader):
        def load(self, data):
            text = bytes(data).decode()
            if "." in text or "e" in text.lower() or text in ("NaN", "Infinity", "-Infinity"):
                return float(text)
            return int(text)

    return NumericLoader


class PgConnection:
    """A PostgreSQL connection with the DuckDB connection methods harmscope uses."""

    dialect = "postgres"

    def __init__(self, url: str):
        import psycopg

        self.url = url
        self._raw = psycopg.connect(url, autocommit=True)
        self._raw.adapters.register_loader("numeric", _numeric_loader())
        self._last: PgResult | None = None
        self._registered: set[str] = set()
        self._copied: dict[str, int] = {}  # rows COPYed per table since its last ANALYZE

    # DuckDB returns the connection from execute(); so does this (the rows are in _last).
    def execute(self, sql: str, params: Any = None) -> PgConnection:
        statements = translate(sql)
        args = _params(params) if params not in (None, [], ()) else None
        if args is not None and _has_text_list(args):
            statements = tuple(_cast_text_lists(t, args) for t in statements)
        result = PgResult(None, None)
        with self._raw.cursor() as cur:
            for text in statements:
                try:
                    cur.execute(text if args is not None else text.replace("%%", "%"), args)
                except (
                    psycopg_errors().UndefinedFunction,
                    psycopg_errors().UndefinedObject,
                ) as exc:
                    raise duckdb_only(exc) from None
                result = PgResult(cur.description, cur.fetchall() if cur.description else None)
        self._last = result
        if self._copied and sql.strip().upper() in _ENDS:
            self._analyze_copied(final=False)
        return self

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgConnection:
        (text,) = translate(sql)
        with self._raw.cursor() as cur:
            cur.executemany(text, [_params(r) for r in rows])
        self._last = PgResult(None, None)
        return self

    def _result(self) -> PgResult:
        return self._last if self._last is not None else PgResult(None, None)

    def fetchone(self):
        return self._result().fetchone()

    def fetchall(self):
        return self._result().fetchall()

    def fetchmany(self, size: int = 1):
        return self._result().fetchmany(size)

    def df(self) -> pd.DataFrame:
        return self._result().df()

    fetchdf = df

    def fetchnumpy(self):
        return self._result().fetchnumpy()

    @property
    def description(self):
        return self._result().description

    def cursor(self) -> PgConnection:
        """Another connection to the same database (as DuckDB's cursor is): its own session,
        results and transaction, safe to use from another thread."""
        return PgConnection(self.url)

    # -- frames as tables -------------------------------------------------------------------
    def register(self, name: str, frame: pd.DataFrame) -> PgConnection:
        """A pandas frame as a temporary table ``name`` (DuckDB scans the frame in place)."""
        from psycopg import sql as psql

        self.unregister(name)
        cols = [
            psql.SQL("{} {}").format(psql.Identifier(str(c)), psql.SQL(_pg_type(frame[c])))
            for c in frame.columns
        ]
        ident = psql.Identifier(name)
        with self._raw.cursor() as cur:
            cur.execute(
                psql.SQL("CREATE TEMP TABLE {} ({})").format(ident, psql.SQL(", ").join(cols))
            )
            with cur.copy(psql.SQL("COPY {} FROM STDIN").format(ident)) as copy:
                for row in _rows(frame):
                    copy.write_row(row)
        self._registered.add(name)
        return self

    def unregister(self, name: str) -> PgConnection:
        from psycopg import sql as psql

        with self._raw.cursor() as cur:
            cur.execute(psql.SQL("DROP TABLE IF EXISTS pg_temp.{}").format(psql.Identifier(name)))
        self._registered.discard(name)
        return self

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """COPY rows into ``table`` (the fast path ingest uses to move a file's rows)."""
        from psycopg import sql as psql

        stmt = psql.SQL("COPY {} ({}) FROM STDIN").format(
            psql.Identifier(table), psql.SQL(", ").join(psql.Identifier(c) for c in columns)
        )
        n = 0
        with self._raw.cursor() as cur, cur.copy(stmt) as copy:
            for row in rows:
                copy.write_row(row)
                n += 1
        self._copied[table] = self._copied.get(table, 0) + n
        if self._idle():
            self._analyze_copied(final=False)
        return n

    def _idle(self) -> bool:
        from psycopg.pq import TransactionStatus

        return self._raw.info.transaction_status == TransactionStatus.IDLE

    def _analyze_copied(self, *, final: bool) -> None:
        """ANALYZE the tables this connection filled, once committed. PostgreSQL plans with
        its statistics, and autovacuum gathers them only a minute or so after a load: a
        report run straight after an ingest was planned on a table thought empty (nested
        loops over 180,000 rows: a dashboard took a minute instead of seconds). A table is
        analysed at once when it has none yet or grew by a fifth; the rest when the
        connection closes (the end of an ingest command)."""
        if not self._idle():
            return
        for table, n in list(self._copied.items()):
            try:
                known = self.raw_execute(
                    "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)", [table]
                ).fetchone()
                if known is None:
                    self._copied.pop(table)
                elif final or known[0] < 0 or n >= 0.2 * known[0]:
                    self._copied.pop(table)
                    self.raw_execute(f'ANALYZE "{table}"')
            except psycopg_errors().Error:  # statistics are an optimisation: never fail a load
                self._copied.pop(table, None)

    def raw_execute(self, sql: str, params: Any = None) -> PgResult:
        """Run PostgreSQL SQL as written (no translation): bookkeeping the DuckDB dialect lacks."""
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            return PgResult(cur.description, cur.fetchall() if cur.description else None)

    def close(self) -> None:
        if self._copied and not self._raw.closed:
            self._analyze_copied(final=True)
        self._raw.close()

    @property
    def closed(self) -> bool:
        return bool(self._raw.closed)


def _pg_type(series: pd.Series) -> str:
    kind = series.dtype.kind
    if kind == "b" or str(series.dtype) == "boolean":
        return "BOOLEAN"
    if kind in "iu":
        return "BIGINT"
    if kind == "f":
        return "DOUBLE PRECISION"
    if kind == "M":
        return "TIMESTAMP"
    sample = series.dropna()
    if len(sample):
        first = sample.iloc[0]
        import datetime as _dt

        if isinstance(first, bool | np.bool_):
            return "BOOLEAN"
        if isinstance(first, int | np.integer):
            return "BIGINT"
        if isinstance(first, float | np.floating):
            return "DOUBLE PRECISION"
        if isinstance(first, _dt.datetime):
            return "TIMESTAMP"
        if isinstance(first, _dt.date):
            return "DATE"
    return "TEXT"


def _rows(frame: pd.DataFrame) -> Iterable[tuple]:
    """The frame's rows as Python values, with every missing value as None."""
    cols = []
    for c in frame.columns:
        s = frame[c]
        if s.dtype.kind == "M":
            vals = [None if pd.isna(v) else v.to_pydatetime() for v in s]
        else:
            vals = [None if _missing(v) else _value(v) for v in s.astype(object)]
        cols.append(vals)
    return zip(*cols, strict=True) if cols else iter(())


def _missing(v: Any) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False
