"""Ingest police open data into a PostgreSQL server store (issue 16).

DuckDB stays the engine that reads the files: each file is ingested by the ordinary
``ingest_file`` into a scratch in-memory DuckDB store that holds what the server's bookkeeping
says (``ingests`` for the unchanged-file skip, ``partitions`` and ``partition_history`` for
replacements and the shrink guard). When the file replaces months the server already holds,
the file is read a second time with those months' rows in the scratch store too, so duplicate
and replaced rows are counted exactly as on a file store. The result then moves to the server
in ONE PostgreSQL transaction: the replaced months' rows are deleted, the file's new rows
(every table with its ``source_id``) are copied in, with its partitions, history, rejects and
``ingests`` row. An error or a kill leaves the server as it was; counts reconcile as on DuckDB.

Ingests on one server run one at a time (an advisory lock): each file's counts are taken
against what the server holds at that moment.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from pathlib import Path

from harmscope.errors import HarmscopeError
from harmscope.sources import ingest as core
from harmscope.sources.files import InputFile, expand_paths
from harmscope.sources.police import FORCE_COLUMN, TABLE_FOR_KIND
from harmscope.store import Store
from harmscope.store.store import StoreError, first_line

# pg_advisory_lock key: one police ingest at a time per server database ("hs" + 2).
_INGEST_LOCK = 0x68730002
_BOOKKEEPING = ("ingests", "partitions", "partition_history")


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    quiet: bool = True,
    on_file: Callable[[core.FileReport], None] | None = None,
    allow_shrink: bool = False,
    force_reload: bool = False,
) -> core.IngestReport:
    """``sources.ingest.ingest_paths`` for a PostgreSQL store: same arguments, same report."""
    force = core.canonical_force(force) if force is not None else None
    report = core.IngestReport()
    inputs: list[InputFile] = []
    for p in paths:
        try:
            inputs.extend(expand_paths([p]))
        except HarmscopeError as exc:
            report.files.append(core.FileReport(file=str(p), error=str(exc)))
    bar = getattr(core, "_progress_bar", None)  # the file-store ingest's bar, when it has one
    progress, task = (None, None) if quiet or bar is None else bar(len(inputs))
    scratch = Store.open(":memory:")
    store.con.raw_execute("SELECT pg_advisory_lock(%s)", [_INGEST_LOCK])
    try:
        for f in inputs:
            if progress is not None:
                progress.update(task, description=f.name)
            try:
                fr = _ingest_one(store, scratch, f, force, allow_shrink, force_reload)
            except StoreError as exc:  # the server failed: no point going on
                report.files.append(core.FileReport(file=f.display, error=str(exc)))
                report.fatal = exc
                break
            report.files.append(fr)
            if on_file:
                on_file(fr)
            if progress is not None:
                progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
        with contextlib.suppress(Exception):
            store.con.raw_execute("SELECT pg_advisory_unlock(%s)", [_INGEST_LOCK])
        scratch.close()
    return report


def _ingest_one(
    store: Store,
    scratch: Store,
    f: InputFile,
    force: str | None,
    allow_shrink: bool,
    force_reload: bool,
) -> core.FileReport:
    first_id = _seed(store, scratch, replaced=[])
    opts = {"force": force, "allow_shrink": allow_shrink, "force_reload": force_reload}
    fr = core.ingest_file(scratch, f, **opts)
    new = _new_ingest(scratch, first_id)
    if new is None:  # failed, or unchanged (skipped): nothing to write
        return fr
    kind = new[1]
    replaced = _replaced_partitions(store, scratch, kind, new[0])
    if replaced:
        # Second pass: the replaced months' rows in the scratch store, so duplicates and
        # replaced rows are counted against what the server holds.
        _seed(store, scratch, replaced=replaced, kind=kind)
        fr = core.ingest_file(scratch, f, **opts)
        new = _new_ingest(scratch, first_id)
        if new is None:
            return fr
    try:
        _move(store, scratch, new[0], kind, replaced)
    except HarmscopeError:
        raise
    except Exception as exc:  # psycopg.Error: the transaction rolled back
        raise StoreError(
            f"the PostgreSQL store could not take the file ({first_line(exc)}); nothing "
            "of it was written",
            where=store.location,
            fix="check the server (disk, connection) and run the ingest again; files already "
            "loaded are kept",
        ) from None
    return fr


def _new_ingest(scratch: Store, first_id: int) -> tuple[int, str] | None:
    return scratch.con.execute(
        "SELECT ingest_id, kind FROM ingests WHERE ingest_id >= ? ORDER BY ingest_id LIMIT 1",
        [first_id],
    ).fetchone()


def _replaced_partitions(store: Store, scratch: Store, kind: str, ingest_id: int) -> list:
    """The (force, month) partitions the new ingest writes that the server already holds."""
    mine = scratch.con.execute(
        "SELECT force, month FROM partitions WHERE kind = ? AND ingest_id = ?", [kind, ingest_id]
    ).fetchall()
    if not mine:
        return []
    held = store.con.raw_execute(
        "SELECT force, month FROM partitions WHERE kind = %s", [kind]
    ).fetchall()
    held_set = {(h[0], h[1]) for h in held}
    return sorted(p for p in mine if (p[0], p[1]) in held_set)


# -- seeding the scratch store -----------------------------------------------------------------
def _tables_with(store: Store, column: str) -> list[str]:
    return [
        r[0]
        for r in store.con.execute(
            "SELECT table_name FROM information_schema.columns WHERE column_name = ? "
            "AND table_schema = 'main' AND table_catalog <> 'temp' ORDER BY 1",
            [column],
        ).fetchall()
    ]


def _columns(store: Store, table: str) -> list[str]:
    return [
        r[0]
        for r in store.con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "AND table_schema = 'main' AND table_catalog <> 'temp' ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def _seed(store: Store, scratch: Store, *, replaced: list, kind: str | None = None) -> int:
    """Empty the scratch store, copy in the server's bookkeeping (and the rows of the
    ``replaced`` partitions), and start its ingest ids after the server's. Returns that id."""
    for table in {*_tables_with(scratch, "source_id"), *_BOOKKEEPING, "rejects"}:
        scratch.con.execute(f"DELETE FROM {table}")
    for table in _BOOKKEEPING:
        _copy_to_scratch(store, scratch, table, f"SELECT * FROM {table}", None)
    if replaced:
        table, fcol = TABLE_FOR_KIND[kind], FORCE_COLUMN[kind]
        cols = ", ".join(_columns(scratch, table))
        forces = [p[0] for p in replaced]
        months = [p[1] for p in replaced]
        _copy_to_scratch(
            store,
            scratch,
            table,
            f"SELECT {cols} FROM {table} t JOIN unnest(%s::text[], %s::date[]) AS p(f, m) "
            f"ON t.{fcol} = p.f AND t.month = p.m",
            [forces, months],
        )
    first_id = int(
        store.con.raw_execute(
            "SELECT greatest((SELECT coalesce(max(ingest_id), 0) FROM ingests), "
            "(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
            "FROM ingest_id_seq)) + 1"
        ).fetchone()[0]
    )
    scratch.con.execute("DROP SEQUENCE IF EXISTS ingest_id_seq")
    scratch.con.execute(f"CREATE SEQUENCE ingest_id_seq START {first_id}")
    return first_id


def _copy_to_scratch(store: Store, scratch: Store, table: str, sql: str, params) -> None:
    result = store.con.raw_execute(sql, params)
    rows = result.fetchall()
    if not rows:
        return
    import pandas as pd

    names = [d.name for d in result.description]
    frame = pd.DataFrame.from_records(rows, columns=names).astype(object)
    frame = frame.where(frame.notna(), None)
    scratch.con.register("_hs_seed", frame)
    try:
        scratch.con.execute(
            f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(names)} FROM _hs_seed"
        )
    finally:
        scratch.con.unregister("_hs_seed")


# -- moving one file's result to the server ------------------------------------------------------
def _move(store: Store, scratch: Store, ingest_id: int, kind: str, replaced: list) -> None:
    """One PostgreSQL transaction: what the scratch ingest did, done on the server."""
    pg = store.con
    with store.transaction():
        # First, move the server's sequence past the id (setval is not transactional): a
        # loader taking ids with nextval meanwhile (ED) gets later ones. One that took this id
        # already makes the ingests insert fail, and the whole file rolls back.
        pg.raw_execute(
            "SELECT setval('ingest_id_seq', greatest(%s, (SELECT last_value FROM ingest_id_seq)))",
            [ingest_id],
        )
        if replaced:
            table, fcol = TABLE_FOR_KIND[kind], FORCE_COLUMN[kind]
            forces = [p[0] for p in replaced]
            months = [p[1] for p in replaced]
            pg.raw_execute(
                f"DELETE FROM {table} t USING unnest(%s::text[], %s::date[]) AS p(f, m) "
                f"WHERE t.{fcol} = p.f AND t.month = p.m",
                [forces, months],
            )
            pg.raw_execute(
                "DELETE FROM partitions t USING unnest(%s::text[], %s::date[]) AS p(f, m) "
                "WHERE t.kind = %s AND t.force = p.f AND t.month = p.m",
                [forces, months, kind],
            )
        for table in _tables_with(scratch, "source_id"):
            _copy_rows(scratch, pg, table, "source_id", ingest_id)
        for table in ("partitions", "partition_history", "rejects", "ingests"):
            _copy_rows(scratch, pg, table, "ingest_id", ingest_id)


def _copy_rows(scratch: Store, pg, table: str, id_col: str, ingest_id: int) -> int:
    cols = _columns(scratch, table)
    rows = scratch.con.execute(
        f"SELECT {', '.join(cols)} FROM {table} WHERE {id_col} = ?", [ingest_id]
    ).fetchall()
    if not rows:
        return 0
    return pg.copy_rows(table, cols, rows)
