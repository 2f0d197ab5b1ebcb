"""Batched police ingest: many files in one DuckDB read, the same results as one at a time.

Reading and placing the files one by one left one core idle and paid DuckDB's fixed costs
(a CSV read, a geography join, a commit through the write-ahead log) per file. Here
consecutive clean files of one kind and header are read in ONE ``read_csv`` (both cores,
``filename = true`` tells each row its file), normalised and placed once, and written in one
transaction per run of files. Large appends go straight to the database file instead of
through the WAL, so the disk sees the data about once.

What stays exactly as :func:`harmscope.sources.ingest.ingest_file` does it:

- each file's counts reconcile (its rows are counted by grouping on the file name and
  checked against an independent count of its lines);
- any file that needs more than a plain load goes through ``ingest_file`` at its place in
  the order: stop and search (month from the dates), a file with any rejected or unparsed
  row (quarantined with line and reason), a file whose months the store already holds or
  has held (duplicates, replacement, the shrink guard), a file whose bytes were ingested
  before, a file another in the same run already writes to;
- ingest ids follow the files' order; every file is all-or-nothing (a run is one
  transaction, so a kill leaves each file wholly in or wholly out).
"""

from __future__ import annotations

import contextlib
import csv
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb

from harmscope import __version__
from harmscope.errors import HarmscopeError
from harmscope.sources import geography
from harmscope.sources.files import InputFile
from harmscope.sources.police import FORCE_COLUMN, STOP_SEARCH, STREET, TABLE_FOR_KIND
from harmscope.sources.police import normalise_sql as _normalise_sql
from harmscope.store import Store
from harmscope.store.store import store_failure

# A run is written in one transaction; past DuckDB's row group (122,880 rows) an append is
# written to the database file directly rather than logged. Small enough that a kill loses
# little work and the staged rows stay well inside the memory cap.
# Runs well past one row group: a run that ends with a small partial row group after another
# gets merged and rewritten by the next checkpoint (measured: 150,000-row runs wrote 2.7x the
# store, 16-file runs of ~220,000 rows 1.05x).
BATCH_ROWS = 400_000
BATCH_FILES = 16

_TEMPS = (
    "_hs_bnorm",
    "_hs_bnew",
    "_hs_bparts",
    "_hs_bhist",
    "_hs_bmap",
    "_hs_bplaced",
    "_hs_bnamed",
)


@dataclass
class _Staged:
    """A file checked in Python (header, kind, bytes seen before?, line count) and waiting for
    its batch's read."""

    f: InputFile
    fr: object  # FileReport (its kind and any force-reload warning)
    kind: str
    header: tuple[str, ...]
    sha: str
    size: int
    rows: int
    path: str
    compression: str
    seconds: float
    order: tuple[str, ...] = ()  # force and month of the first row (see _read_order)

    @property
    def key(self) -> tuple:
        return (self.kind, self.header, self.compression)


class BatchRunner:
    """Feed files in order with :meth:`add`; call :meth:`flush` at the end. ``emit`` receives
    every file's report in input order, once the file is committed."""

    def __init__(
        self,
        store: Store,
        emit: Callable[[object], None],
        *,
        force: str | None,
        allow_shrink: bool,
        force_reload: bool,
    ):
        self.store, self.emit = store, emit
        self.opts = {"force": force, "allow_shrink": allow_shrink, "force_reload": force_reload}
        self.batch: list[_Staged] = []
        self.at: str | None = None  # the file being written (named if the store fails)

    # -- gathering ---------------------------------------------------------------------
    def add(self, f: InputFile) -> None:
        staged = _prepare(self.store, f, self.opts["force"], self.opts["force_reload"])
        if staged is not None and any(s.sha == staged.sha for s in self.batch):
            # The same bytes twice: the second copy is judged after the first is stored.
            self.flush()
            staged = _prepare(self.store, f, self.opts["force"], self.opts["force_reload"])
        if staged is None:
            self.flush()
            self._one(f)
            return
        if self.batch and (
            staged.key != self.batch[0].key
            or len(self.batch) >= BATCH_FILES
            or sum(s.rows for s in self.batch) + staged.rows > BATCH_ROWS
        ):
            self.flush()
        self.batch.append(staged)

    def _one(self, f: InputFile) -> None:
        from harmscope.sources.ingest import ingest_file

        self.at = f.display
        self.emit(ingest_file(self.store, f, **self.opts))

    # -- one batch ---------------------------------------------------------------------
    def flush(self) -> None:
        batch, self.batch = self.batch, []
        if not batch:
            return
        try:
            t0 = time.perf_counter()
            clean = _stage(self.store, batch)
            share = (time.perf_counter() - t0) / len(batch)
            for s in batch:
                s.seconds += share
            self._write_in_order(batch, clean)
        finally:
            for s in batch:
                s.f.release()
            _drop_temps(self.store)

    def _write_in_order(self, batch: list[_Staged], clean: dict[str, tuple]) -> None:
        """Runs of clean files in one transaction each; any other file by itself, in place."""
        run: list[_Staged] = []
        for s in batch:
            parts = clean.get(s.path)
            overlaps = parts is not None and any(set(parts[2]) & set(clean[r.path][2]) for r in run)
            if parts is None or overlaps:
                self._write_runs(run)
                run = []
            if parts is None:
                self._one(s.f)
            else:
                run.append(s)
        self._write_runs(run)

    def _write_runs(self, run: list[_Staged]) -> None:
        """Write ``run``, sending any file whose months the store holds or has held (as it
        stands now) through the single-file path at its place."""
        while run:
            touching = _touching(self.store, run)
            i = next((k for k, s in enumerate(run) if s.path in touching), None)
            if i is None:
                self._commit(run)
                return
            self._commit(run[:i])
            self._one(run[i].f)
            run = run[i + 1 :]

    def _commit(self, run: list[_Staged]) -> None:
        if not run:
            return
        t0 = time.perf_counter()
        self.at = run[0].f.display
        try:
            _write_run(self.store, run)
        except duckdb.Error as exc:
            # The transaction rolled back; a full disk or a damaged store stops the run.
            mapped = store_failure(exc, self.store.path)
            if mapped is None:
                raise
            raise mapped from None
        share = (time.perf_counter() - t0) / len(run)
        for s in run:
            s.fr.seconds = round(s.seconds + share, 4)
            self.emit(s.fr)


def _drop_bytes(f: InputFile) -> None:
    """Forget the file's bytes (DuckDB reads it from disk); a zip member keeps its temporary
    copy until the batch is done."""
    f._raw = f._text = None


def _prepare(store: Store, f: InputFile, force: str | None, force_reload: bool) -> _Staged | None:
    """The checks ``ingest_file`` makes before reading, or None when the file must go through
    ``ingest_file`` itself (its bytes stay cached for it)."""
    from harmscope.sources.ingest import (
        _BLANK_LINE,
        FileReport,
        _identify,
        _read_header,
        _skip_unchanged,
    )

    if f.error is not None:
        return None
    t0 = time.perf_counter()
    try:
        text = f.text_bytes()
        header = _read_header(f, text)
        fr = FileReport(file=f.display)
        kind, _, _ = _identify(f, fr, header, force)
        if kind == STOP_SEARCH:
            return None
        sha = f.sha256()
        if _skip_unchanged(store, f, fr, kind, sha, force_reload):
            return None
        body = text.rstrip(b"\r\n\t ")
        if _BLANK_LINE.search(body) is not None:
            return None  # blank lines inside: line numbers need the careful path
        rows = body.count(b"\n")
        path, compression = f.duckdb_path()
        size = f.size()
        order = _read_order(header, body)
    except (HarmscopeError, duckdb.Error):
        return None  # ingest_file reports it exactly as before
    _drop_bytes(f)
    fr.rows_read, fr.parser = rows, "duckdb"
    return _Staged(
        f,
        fr,
        kind,
        tuple(header),
        sha,
        size,
        rows,
        path,
        compression,
        time.perf_counter() - t0,
        order,
    )


def _read_order(header: list[str], body: bytes) -> tuple[str, ...]:
    """The force and month of a file's first row. A batch is read in this order, so its rows
    reach the store grouped by force, then month: with the store's small row groups
    (store.ROW_GROUP_SIZE) each group's zone map then spans few forces and one force's
    query skips the rest of a national store. (Sorting the rows in the INSERT instead made
    DuckDB log them as well as write them: half as many bytes again.)"""
    end = body.find(b"\n", body.find(b"\n") + 1)
    lines = body[: end if end > 0 else len(body)].decode("utf-8", "replace").splitlines()
    if len(lines) < 2:
        return ()
    try:
        row = next(csv.reader([lines[1]]), [])
    except csv.Error:
        return ()  # the read itself will judge the file
    cols = [header.index(c) for c in ("Falls within", "Month") if c in header]
    return tuple(row[i] if i < len(row) else "" for i in cols)


def _by_order(s: _Staged) -> tuple:
    return (s.order, s.path)


def _stage(store: Store, batch: list[_Staged]) -> dict[str, tuple]:
    """Read, normalise and place the batch; return the clean files (every line read, none
    rejected) as path -> (force text, months, partitions)."""
    first = batch[0]
    ncols = len(first.header)
    columns = {f"c{i}": "VARCHAR" for i in range(ncols)}
    raw = (
        "(SELECT * EXCLUDE (filename), filename AS __file, CAST(NULL AS BIGINT) AS __line "
        "FROM read_csv(?, columns = ?, header = true, auto_detect = false, delim = ',', "
        "quote = '\"', escape = '\"', strict_mode = true, compression = ?, filename = true))"
    )
    sql = _normalise_sql(first.kind, list(first.header), raw, None, None, carry=("__file",))
    con = store.con
    try:
        con.execute(
            f"CREATE TEMP TABLE _hs_bnorm AS {sql}",
            [[s.path for s in sorted(batch, key=_by_order)], columns, first.compression],
        )
    except duckdb.Error:
        # One file the strict reader refuses: each file goes the careful way.
        con.execute("DROP TABLE IF EXISTS _hs_bnorm")
        return {}
    counts = {
        p: (n, bad)
        for p, n, bad in con.execute(
            "SELECT __file, count(*), count(*) FILTER (__reject IS NOT NULL) "
            "FROM _hs_bnorm GROUP BY 1"
        ).fetchall()
    }
    fcol = FORCE_COLUMN[first.kind]
    con.execute(
        f"CREATE TEMP TABLE _hs_bparts AS SELECT __file, {fcol} AS force, month, count(*) AS n "
        "FROM _hs_bnorm WHERE __reject IS NULL GROUP BY ALL"
    )
    parts: dict[str, list[tuple]] = {}
    for p, force, month, _n in con.execute(
        "SELECT __file, force, strftime(month, '%Y-%m'), n FROM _hs_bparts ORDER BY 1, 3, 2"
    ).fetchall():
        parts.setdefault(p, []).append((force, month))
    clean = {}
    for s in batch:
        if counts.get(s.path, (0, 0)) == (s.rows, 0):
            held = parts.get(s.path, [])
            forces = sorted({force for force, _ in held})
            clean[s.path] = (", ".join(forces) or None, sorted({m for _, m in held}), held)
    if first.kind == STREET:
        geography.derive_street_geography(store, "_hs_bnorm", "_hs_bnew", tag="b")
    else:
        con.execute(
            "CREATE TEMP VIEW _hs_bnew AS SELECT * EXCLUDE (__line, __reject) FROM _hs_bnorm "
            "WHERE __reject IS NULL"
        )
    for s in batch:
        if s.path in clean:
            s.fr.force, s.fr.months, _ = clean[s.path]
    return clean


def _touching(store: Store, run: list[_Staged]) -> set[str]:
    """The files of ``run`` writing a month the store holds now or has ever held: those need
    the single-file path's duplicate, replacement and shrink bookkeeping."""
    kind = run[0].kind
    _file_map(store, run)
    rows = store.con.execute(
        """SELECT DISTINCT n.__file FROM _hs_bparts n SEMI JOIN _hs_bmap m USING (__file)
           WHERE EXISTS (SELECT 1 FROM partitions p WHERE p.kind = ? AND p.force = n.force
                         AND p.month = n.month)
              OR EXISTS (SELECT 1 FROM partition_history h WHERE h.kind = ?
                         AND h.force = n.force AND h.month = n.month)""",
        [kind, kind],
    ).fetchall()
    return {r[0] for r in rows}


def _file_map(store: Store, run: list[_Staged], ids: Iterable[int] | None = None) -> None:
    """``_hs_bmap``: the run's files and (once taken) their ingest ids."""
    store.con.execute("CREATE OR REPLACE TEMP TABLE _hs_bmap (__file VARCHAR, ingest_id BIGINT)")
    ids = list(ids) if ids is not None else [None] * len(run)
    store.con.executemany(
        "INSERT INTO _hs_bmap VALUES (?, ?)", [[s.path, i] for s, i in zip(run, ids, strict=True)]
    )


def _write_run(store: Store, run: list[_Staged]) -> None:
    """One transaction: the run's rows (each tagged with its file's ingest id), partitions,
    their history and one ``ingests`` row per file."""
    from harmscope.sources.ingest import _table_columns

    kind = run[0].kind
    table = TABLE_FOR_KIND[kind]
    cols = _table_columns(store, table, exclude={"source_id"})
    started = datetime.now(UTC).replace(tzinfo=None)
    with store.transaction() as con:
        ids = [con.execute("SELECT nextval('ingest_id_seq')").fetchone()[0] for _ in run]
        _file_map(store, run, ids)
        # Rows in the order _stage read them: by force, then month (see _read_order).
        con.execute(
            f"INSERT INTO {table} ({', '.join(cols)}, source_id) "
            f"SELECT {', '.join('n.' + c for c in cols)}, m.ingest_id "
            "FROM _hs_bnew n JOIN _hs_bmap m ON n.__file = m.__file"
        )
        con.execute(
            "INSERT INTO partitions SELECT ?, n.force, n.month, m.ingest_id, n.n "
            "FROM _hs_bparts n JOIN _hs_bmap m ON n.__file = m.__file",
            [kind],
        )
        # New months only (see _touching): no previous rows, the peak is this write's.
        con.execute(
            "INSERT INTO partition_history SELECT m.ingest_id, ?, n.force, n.month, n.n, NULL, "
            "n.n, FALSE, ? FROM _hs_bparts n JOIN _hs_bmap m ON n.__file = m.__file",
            [kind, started],
        )
        finished = datetime.now(UTC).replace(tzinfo=None)
        con.executemany(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [_ingests_row(s, i, started, finished) for s, i in zip(run, ids, strict=True)],
        )
    for s, i in zip(run, ids, strict=True):
        fr = s.fr
        fr.ingest_id = int(i)
        fr.rows_loaded, fr.status = fr.rows_read, "loaded"


def _ingests_row(s: _Staged, ingest_id: int, started: datetime, finished: datetime) -> list:
    fr = s.fr
    return [
        ingest_id,
        str(s.f.path.resolve()),
        s.f.path.name,
        s.f.member,
        s.sha,
        s.size,
        s.kind,
        fr.force,
        ",".join(fr.months),
        fr.rows_read,
        fr.rows_read,  # loaded: a clean file of new months loads every row
        0,
        0,
        0,
        None,
        fr.parser,
        started,
        finished,
        __version__,
    ]


def _drop_temps(store: Store) -> None:
    for name in _TEMPS:
        for what in ("VIEW", "TABLE"):
            with contextlib.suppress(duckdb.Error):
                store.con.execute(f"DROP {what} IF EXISTS {name}")
