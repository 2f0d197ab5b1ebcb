"""Ingest police open data into the store: lose nothing, idempotent, atomic per file.

For every file: rows read = rows loaded + rows duplicate + rows rejected.

- A row that cannot be parsed or validated goes to ``rejects`` with file, line, reason and
  raw text (the rest of the file still loads).
- A file whose bytes were ingested before (same SHA-256) adds nothing while the store still
  holds what it loaded: its rows are duplicates. If a later file has replaced those months, the
  file is loaded again (it restores them), as it is with ``force_reload``.
- A different file for the same force, kind and month *replaces* what the store holds for
  that partition (police.uk re-publishes months with newer outcomes). Rows that were already
  there, identical, count as duplicates; the replaced rows are recorded in ``ingests``.
- A month is never replaced by fewer rows than the most it has ever held (its peak, kept in
  ``partition_history``) unless ``allow_shrink`` is given; the allowed shrink is recorded.
- A stop-and-search file's month is the month of its rows' dates; a file name that says
  another month is an error naming both.
- A file whose every row is rejected has status ``rejected`` (its rows are quarantined, nothing
  it would replace is touched).
- Each file is one transaction: an error or a kill leaves the store as it was before it.

The fast path hands the file to DuckDB's CSV reader in strict mode and checks its row count
against an independent count of the file's lines. Any disagreement or parse error sends the
file down a slower line-by-line path that quarantines exactly the bad lines.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from harmscope import __version__
from harmscope.errors import HarmscopeError, InputFileError
from harmscope.sources import geography
from harmscope.sources._bookkeeping import bulk_load_settings, row_counts
from harmscope.sources.files import InputFile, expand_paths
from harmscope.sources.ingest_batch import BatchRunner
from harmscope.sources.police import (
    FORCE_COLUMN,
    IDENTITY_COLUMNS,
    STOP_SEARCH,
    STREET,
    TABLE_FOR_KIND,
    detect_kind,
    expected_headers_text,
    normalise_sql,
    parse_file_name,
)
from harmscope.store import Store
from harmscope.store.store import StoreError, store_failure

REPLACE_WARN_FRACTION = 0.5
# DuckDB's memory during ingest: past it, working tables spill to the store's temporary folder,
# so peak memory stays flat however many files are loaded (issue 18: under 1 GB in all).
INGEST_MEMORY_LIMIT = "256MB"
_BLANK_LINE = re.compile(
    rb"\n[ \t\r]*\n"
)  # a replacement with under half the rows is probably a partial file


@dataclass
class FileReport:
    file: str
    kind: str | None = None
    force: str | None = None
    months: list[str] = field(default_factory=list)
    rows_read: int = 0
    rows_loaded: int = 0
    rows_duplicate: int = 0
    rows_rejected: int = 0
    rows_replaced: int = 0
    status: str = "failed"  # loaded | unchanged | rejected (every row) | failed
    parser: str | None = None
    ingest_id: int | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reconciles(self) -> bool:
        return self.rows_read == self.rows_loaded + self.rows_duplicate + self.rows_rejected


@dataclass
class IngestReport:
    files: list[FileReport] = field(default_factory=list)
    # The store itself failed (disk full, damaged file): the run stopped at that file.
    fatal: StoreError | None = None

    # The run's totals: the sums over its files.
    rows_read = property(lambda self: self._sum("rows_read"))
    rows_loaded = property(lambda self: self._sum("rows_loaded"))
    rows_duplicate = property(lambda self: self._sum("rows_duplicate"))
    rows_rejected = property(lambda self: self._sum("rows_rejected"))

    def _sum(self, attr: str) -> int:
        return sum(getattr(f, attr) for f in self.files)

    @property
    def failed(self) -> list[FileReport]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def rejected(self) -> list[FileReport]:
        """Files read but with every row rejected (nothing loaded)."""
        return [f for f in self.files if f.status == "rejected"]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.rejected and self.fatal is None

    def to_dict(self) -> dict:
        return {
            **row_counts(self),
            "files_failed": len(self.failed),
            "files_rejected": len(self.rejected),
            "error": str(self.fatal) if self.fatal else None,
            "files": [asdict(f) for f in self.files],
        }


def ingest_paths(
    store: Store,
    paths: Iterable[str | Path],
    *,
    force: str | None = None,
    quiet: bool = True,
    on_file: Callable[[FileReport], None] | None = None,
    allow_shrink: bool = False,
    force_reload: bool = False,
) -> IngestReport:
    """Ingest every police CSV found under ``paths`` (files, .gz, folders, .zip archives).

    ``force`` names the force for stop-and-search files whose name does not carry it (one of
    the 43 territorial forces or British Transport Police; raises HarmscopeError otherwise).
    A file that cannot be read is reported (``status='failed'``, ``error``) and the others
    still load. ``allow_shrink`` lets a file replace a month with fewer rows than the month
    has ever held; ``force_reload`` loads files again even when their bytes were ingested.
    """
    if store.dialect == "postgres":  # the server store: DuckDB reads, PostgreSQL keeps (issue 16)
        from harmscope.sources import ingest_pg

        return ingest_pg.ingest_paths(store, paths, force=force, quiet=quiet, on_file=on_file, allow_shrink=allow_shrink, force_reload=force_reload)  # fmt: skip
    force = canonical_force(force) if force is not None else None
    report = IngestReport()
    inputs = _expand(paths, report)
    progress, task = (None, None) if quiet else _progress_bar(len(inputs))

    def emit(fr: FileReport) -> None:
        report.files.append(fr)
        if on_file:
            on_file(fr)
        if progress is not None:
            progress.update(task, description=Path(fr.file).name)
            progress.advance(task)

    # Files are read in batches (ingest_batch.py): one DuckDB read per run of clean files,
    # both cores, each file still all-or-nothing. The WAL is folded into the database file
    # once at the end, not every 16 MB: the repeated checkpoints were a third of ingest time.
    # DuckDB's memory is capped so a national load spills to disk instead of growing.
    threshold = store.con.execute("SELECT current_setting('checkpoint_threshold')").fetchone()[0]
    store.con.execute("SET checkpoint_threshold = '1GB'")
    runner = BatchRunner(
        store, emit, force=force, allow_shrink=allow_shrink, force_reload=force_reload
    )
    try:
        with _ingest_memory(store):
            try:
                for f in inputs:
                    runner.add(f)
                runner.flush()
            except StoreError as exc:  # disk full, damaged store: no point going on
                report.files.append(FileReport(file=runner.at or "", error=str(exc)))
                report.fatal = exc
    finally:
        if progress is not None:
            progress.stop()
        try:
            store.con.execute(f"SET checkpoint_threshold = '{threshold}'")
            if store.path is not None:
                store.con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            # Committed files are safe in the WAL; report why the fold failed unless the
            # run already stopped on a store failure.
            if report.fatal is None:
                report.fatal = store_failure(exc, store.path) or StoreError.damaged(exc, store.path)
    return report


def _ingest_memory(store: Store):
    """The memory cap for a store file; an in-memory store (tests, scratch) keeps its data in
    that same memory, so it is left as it is."""
    if store.path is None:
        return contextlib.nullcontext()
    return bulk_load_settings(store.con, INGEST_MEMORY_LIMIT)


def _expand(paths: Iterable[str | Path], report: IngestReport) -> list[InputFile]:
    """Every input file under ``paths``; a path that cannot be listed is reported as failed."""
    inputs: list[InputFile] = []
    for p in paths:
        try:
            inputs.extend(expand_paths([p]))
        except HarmscopeError as exc:
            report.files.append(FileReport(file=str(p), error=str(exc)))
    return inputs


def _progress_bar(total: int):
    """A transient bar on stderr (stdout stays clean for --json); returns (progress, task)."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("ingest"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=Console(stderr=True),
        transient=True,
    )
    progress.start()
    return progress, progress.add_task("", total=total)


def canonical_force(name: str) -> str:
    """The police.uk 'Falls within' name for ``name`` (a force name or slug, any case).

    Raises HarmscopeError for anything that is not one of the forces police.uk publishes
    (the 43 territorial forces of England and Wales and British Transport Police).
    """
    from harmscope.reference import tables

    forces = tables.load_forces()
    key = name.strip().lower()
    for slug, full in zip(forces.force_slug, forces.force_name, strict=True):
        if key in (str(slug).lower(), str(full).lower()):
            return str(full)
    raise HarmscopeError(
        f"'{name}' is not a police force police.uk publishes",
        where="--force",
        fix="give a force name such as 'Kent Police' or its police.uk slug such as 'kent' "
        f"(one of: {', '.join(sorted(str(n) for n in forces.force_name.unique()))})",
    )


def ingest_file(
    store: Store,
    f: InputFile,
    *,
    force: str | None = None,
    allow_shrink: bool = False,
    force_reload: bool = False,
) -> FileReport:
    """Ingest one file in one transaction. Never raises for bad input: see ``error``."""
    fr = FileReport(file=f.display)
    t0 = time.perf_counter()
    try:
        if f.error is not None:
            raise f.error
        _ingest(store, f, fr, force, allow_shrink=allow_shrink, force_reload=force_reload)
    except HarmscopeError as exc:  # bad input (InputFileError) or a refused file
        fr.status, fr.error = "failed", str(exc)
        _reset_counts(fr)
    except duckdb.Error as exc:
        # The transaction rolled back; a full disk or a damaged store stops the run.
        mapped = store_failure(exc, store.path)
        if mapped is None:
            raise
        raise mapped from None
    finally:
        f.release()
        with contextlib.suppress(duckdb.Error):
            _drop_temps(store)
        fr.seconds = round(time.perf_counter() - t0, 4)
    return fr


def _reset_counts(fr: FileReport) -> None:
    fr.rows_read = fr.rows_loaded = fr.rows_duplicate = fr.rows_rejected = fr.rows_replaced = 0


_TEMPS = (
    "_hs_raw0",
    "_hs_raw",
    "_hs_norm",
    "_hs_new",
    "_hs_parts",
    "_hs_placed",
    "_hs_named",
    "_hs_hist",
)


def _drop_temps(store: Store) -> None:
    """Drop this file's temporary tables and views (only those that exist)."""
    names = set(_TEMPS)
    found = store.con.execute(
        "SELECT table_name, table_type FROM information_schema.tables "
        "WHERE table_schema = 'main' AND table_catalog = 'temp'"
    ).fetchall()
    for name, kind in found:
        if name in names:
            what = "VIEW" if kind == "VIEW" else "TABLE"
            try:
                store.con.execute(f"DROP {what} IF EXISTS {name}")
            except duckdb.Error:
                pass
    with contextlib.suppress(duckdb.Error, KeyError):
        store.con.unregister("_hs_raw_df")


def _read_header(f: InputFile, text: bytes) -> list[str]:
    if not text.strip():
        raise InputFileError(
            "is empty: no header line",
            where=f"{f.display}, line 1",
            fix="download the file again; police.uk files start with a header row",
        )
    if b"\x00" in text[:65536]:
        raise InputFileError(
            "is a binary file (it contains NUL bytes), not a CSV",
            where=f.display,
            fix="pass the police.uk CSV (or its .zip / .csv.gz), not another kind of file",
        )
    first = text.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"the header is not UTF-8 text ({exc.reason} at byte {exc.start})",
            where=f"{f.display}, line 1",
            fix="save the file as UTF-8 CSV",
        ) from None
    try:
        return next(csv.reader([line]))
    except (csv.Error, StopIteration) as exc:
        raise InputFileError(
            f"the header cannot be parsed as CSV ({exc})",
            where=f"{f.display}, line 1",
            fix="check the file is a police.uk CSV",
        ) from None


def _ingest(
    store: Store,
    f: InputFile,
    fr: FileReport,
    force_override: str | None,
    *,
    allow_shrink: bool = False,
    force_reload: bool = False,
) -> None:
    text = f.text_bytes()
    header = _read_header(f, text)
    kind, file_month, force = _identify(f, fr, header, force_override)
    sha = f.sha256()
    if _skip_unchanged(store, f, fr, kind, sha, force_reload):
        return
    lines: list[bytes] = text.split(b"\n")
    rejects = _parse(store, f, fr, text, lines, kind, header, file_month, force)
    load = _FileLoad(store, f, fr, kind)
    _stage_new_rows(load)
    old_rows, replaces = _partition_changes(load, allow_shrink)
    _write(load, sha, rejects, old_rows, replaces)
    # Every row rejected: quarantined and recorded, but nothing was loaded.
    fr.status = "rejected" if fr.rows_read and fr.rows_rejected == fr.rows_read else "loaded"
    if fr.status == "rejected":
        fr.error = _all_rejected(f, fr)


def _identify(
    f: InputFile, fr: FileReport, header: list[str], force_override: str | None
) -> tuple[str, str | None, str | None]:
    """(kind, the month the file name says, the force of a stop-and-search file)."""
    kind = detect_kind(header)
    if kind is None:
        raise InputFileError(
            f"the header is not police open data: it has {', '.join(header[:8])}"
            + (" ..." if len(header) > 8 else ""),
            where=f"{f.display}, line 1",
            fix=f"pass street, outcomes or stop-and-search files from data.police.uk (expected columns: {expected_headers_text()})",
        )
    fr.kind = kind
    file_month, slug = parse_file_name(f.name)
    force: str | None = None
    if kind == STOP_SEARCH:
        force = force_override or (geography.force_name_for_slug(slug) if slug else None)
        if force is None:
            raise InputFileError(
                "cannot tell which force this stop-and-search file is from (the file has no force "
                "column and its name does not follow YYYY-MM-<force>-stop-and-search.csv"
                + (f"; '{slug}' is not a known force" if slug else "")
                + ")",
                where=f.display,
                fix="keep the police.uk file name, or pass --force 'Kent Police'",
            )
        fr.force = force
    return kind, file_month, force


def _skip_unchanged(
    store: Store, f: InputFile, fr: FileReport, kind: str, sha: str, force_reload: bool
) -> bool:
    """True (and ``fr`` filled in) when these bytes were ingested and the store still holds
    every row that ingest loaded; otherwise say why the file is loaded again."""
    prev = store.con.execute(
        "SELECT ingest_id, rows_read, rows_rejected, force, months FROM ingests "
        "WHERE sha256 = ? AND kind = ? ORDER BY ingest_id DESC LIMIT 1",
        [sha, kind],
    ).fetchone()
    if prev is None:
        return False
    if force_reload:
        fr.warnings.append(
            f"already ingested as ingest {prev[0]}; loading it again (--force-reload)"
        )
        return False
    # Skipping is only right while the store still holds every row that ingest loaded;
    # if a later file has replaced its months, this file restores them.
    held = store.con.execute(
        "SELECT coalesce(sum(rows), 0) FROM partitions WHERE kind = ? AND ingest_id = ?",
        [kind, prev[0]],
    ).fetchone()[0]
    if int(held) != int(prev[1]) - int(prev[2]):
        fr.warnings.append(
            f"already ingested as ingest {prev[0]}, but later files replaced "
            f"{int(prev[1]) - int(prev[2]) - int(held):,} of its rows: loading it again to restore them"
        )
        return False
    fr.parser, fr.ingest_id = "skipped", prev[0]
    fr.rows_read, fr.rows_rejected = int(prev[1]), int(prev[2])
    fr.rows_duplicate = fr.rows_read - fr.rows_rejected
    fr.status = "rejected" if fr.rows_read and not fr.rows_duplicate else "unchanged"
    if fr.status == "rejected":
        fr.error = _all_rejected(f, fr)
    fr.force = prev[3]
    fr.months = prev[4].split(",") if prev[4] else []
    fr.warnings.append(f"already ingested (identical to ingest {prev[0]}): nothing added")
    return True


def _count_rows(text: bytes, lines: list[bytes]) -> tuple[bool, Iterable[int]]:
    """(no blank line before the last row?, the data lines' numbers): one row per non-blank
    line after the header, counted independently of any CSV parser."""
    body = text.rstrip(b"\r\n\t ")
    trailing_only = _BLANK_LINE.search(body) is None
    if trailing_only:
        return True, range(2, body.count(b"\n") + 2)
    return False, [i for i in range(2, len(lines) + 1) if lines[i - 1].strip(b"\r\t ")]


def _parse(
    store: Store,
    f: InputFile,
    fr: FileReport,
    text: bytes,
    lines: list[bytes],
    kind: str,
    header: list[str],
    file_month: str | None,
    force: str | None,
) -> list[tuple[int, str, str]]:
    """Read and normalise the file into ``_hs_norm``; return every reject (line, reason, raw)."""
    trailing_only, data_line_numbers = _count_rows(text, lines)
    fr.rows_read = len(data_line_numbers)
    structural: list[tuple[int, str, str]] = []  # (line, reason, raw)
    ncols = len(header)
    # A stop-and-search month comes from the rows' dates (below), never from the name alone.
    name_month = file_month if kind != STOP_SEARCH else None
    norm_sql = lambda raw: normalise_sql(kind, header, raw, name_month, force)  # noqa: E731
    # Clean files (the usual case) are parsed and normalised in one DuckDB pass. Line numbers
    # are only needed for rejected rows, so a file with any reject is read again with them.
    fr.parser = "duckdb"
    if not (trailing_only and _one_pass(store, f, ncols, fr.rows_read, norm_sql)):
        if trailing_only and _fast_read(store, f, ncols, fr.rows_read):
            fr.parser = "duckdb"
        else:
            fr.parser = "python"
            structural = _slow_read(store, lines, data_line_numbers, ncols)
        store.con.execute(f"CREATE TEMP TABLE _hs_norm AS {norm_sql('_hs_raw')}")
    sql_rejects = store.con.execute(
        "SELECT __line, __reject FROM _hs_norm WHERE __reject IS NOT NULL ORDER BY __line"
    ).fetchall()
    rejects = structural + [
        (int(ln), str(reason), _raw_line(lines, int(ln))) for ln, reason in sql_rejects
    ]
    fr.rows_rejected = len(rejects)
    if kind == STOP_SEARCH:
        _settle_stop_search_month(store, f, fr, file_month)
    return rejects


@dataclass
class _FileLoad:
    """One file on its way in, once parsed: where it goes and what is reported."""

    store: Store
    f: InputFile
    fr: FileReport
    kind: str

    @property
    def table(self) -> str:
        return TABLE_FOR_KIND[self.kind]

    @property
    def fcol(self) -> str:
        """The table's force column (a partition is one force's month)."""
        return FORCE_COLUMN[self.kind]


def _stage_new_rows(load: _FileLoad) -> None:
    """The valid rows as ``_hs_new`` (street rows placed) and their (force, month) partitions
    as ``_hs_parts``."""
    store, fr, kind, fcol = load.store, load.fr, load.kind, load.fcol
    if kind == STREET:
        geography.derive_street_geography(store, "_hs_norm", "_hs_new")
    else:
        store.con.execute(
            "CREATE TEMP VIEW _hs_new AS SELECT * EXCLUDE (__line, __reject) FROM _hs_norm WHERE __reject IS NULL"
        )
    store.con.execute(
        f"CREATE TEMP TABLE _hs_parts AS SELECT {fcol} AS force, month, count(*) AS n "
        f"FROM _hs_norm WHERE __reject IS NULL GROUP BY ALL"
    )
    parts = store.con.execute(
        "SELECT force, strftime(month, '%Y-%m'), n FROM _hs_parts ORDER BY 2, 1"
    ).fetchall()
    fr.months = sorted({p[1] for p in parts})
    if kind != STOP_SEARCH:
        forces = sorted({p[0] for p in parts})
        fr.force = ", ".join(forces) if forces else None


def _partition_changes(load: _FileLoad, allow_shrink: bool) -> tuple[int, str | None]:
    """Count loaded, duplicate and replaced rows against what the store holds for the file's
    partitions; refuse a shrink unless allowed. Returns (rows held now, ingests replaced)."""
    store, fr, kind = load.store, load.fr, load.kind
    old = store.con.execute(
        "SELECT coalesce(sum(p.rows), 0), string_agg(DISTINCT CAST(p.ingest_id AS VARCHAR), ',') "
        "FROM partitions p JOIN _hs_parts n ON p.kind = ? AND p.force = n.force AND p.month = n.month",
        [kind],
    ).fetchone()
    old_rows, replaces = int(old[0]), old[1]
    shrinks = _check_shrink(load, allow_shrink)
    dup = _duplicate_rows(load) if old_rows else 0
    good = fr.rows_read - fr.rows_rejected
    fr.rows_duplicate = int(dup)
    fr.rows_loaded = good - fr.rows_duplicate
    fr.rows_replaced = old_rows - fr.rows_duplicate
    if old_rows and good < REPLACE_WARN_FRACTION * old_rows and not shrinks:
        fr.warnings.append(
            f"replaced {old_rows} stored rows for {', '.join(fr.months)} with only {good}: "
            "is this a partial file? re-ingest the full month to restore it"
        )
    if fr.rows_rejected:
        fr.warnings.append(
            f"{fr.rows_rejected} row(s) quarantined in rejects (see `harmscope status`)"
        )
    return old_rows, replaces


def _check_shrink(load: _FileLoad, allow_shrink: bool) -> list[tuple]:
    """Peaks: a month must not hold fewer rows than it ever has, unless the caller says so.
    Leaves each partition's history in ``_hs_hist``; returns the months that shrink."""
    store, kind = load.store, load.kind
    store.con.execute(
        """CREATE TEMP TABLE _hs_hist AS
           SELECT n.force, n.month, n.n, p.rows AS previous_rows, h.peak AS peak_rows
           FROM _hs_parts n
           LEFT JOIN partitions p ON p.kind = ? AND p.force = n.force AND p.month = n.month
           LEFT JOIN (SELECT force, month, max(rows) AS peak FROM partition_history
                      WHERE kind = ? GROUP BY ALL) h ON h.force = n.force AND h.month = n.month""",
        [kind, kind],
    )
    shrinks = store.con.execute(
        "SELECT strftime(month, '%Y-%m'), force, n, previous_rows, peak_rows FROM _hs_hist "
        "WHERE n < peak_rows ORDER BY 1, 2"
    ).fetchall()
    if shrinks:
        what = "; ".join(
            f"{m} {force_name}: {n:,} rows, the store holds {prev_n or 0:,}, "
            f"the most it has held is {peak:,}"
            for m, force_name, n, prev_n, peak in shrinks
        )
        if not allow_shrink:
            raise InputFileError(
                f"would shrink {len(shrinks)} month(s) ({what}); refused, nothing changed",
                where=load.f.display,
                fix="ingest the complete month (re-ingest the full file to restore it); if the "
                "smaller month is right (police.uk withdrew records), pass --allow-shrink",
            )
        load.fr.warnings.append(f"shrank {len(shrinks)} month(s) with --allow-shrink ({what})")
    return shrinks


def _duplicate_rows(load: _FileLoad) -> int:
    """Rows of the file the store already holds, identical on the kind's identity columns
    (counted as a multiset: two equal rows match two stored ones)."""
    table, fcol = load.table, load.fcol
    ident = IDENTITY_COLUMNS[load.kind]
    hash_expr = (
        "md5(concat_ws(chr(31), "
        + ", ".join(f"coalesce(CAST({c} AS VARCHAR), chr(0))" for c in ident)
        + "))"
    )
    return load.store.con.execute(
        f"""
        WITH new AS (SELECT {hash_expr} AS h, count(*) AS n FROM _hs_new GROUP BY 1),
             old AS (SELECT {hash_expr} AS h, count(*) AS n FROM {table} t
                     SEMI JOIN _hs_parts p ON t.{fcol} = p.force AND t.month = p.month GROUP BY 1)
        SELECT coalesce(sum(least(new.n, old.n)), 0) FROM new JOIN old USING (h)
        """
    ).fetchone()[0]


def _write(
    load: _FileLoad,
    sha: str,
    rejects: list[tuple[int, str, str]],
    old_rows: int,
    replaces: str | None,
) -> None:
    """One transaction: replace the partitions, record their history, the rejects and the
    file's row in ``ingests``. An error or a kill leaves the store as it was."""
    store, f, fr, kind, table, fcol = load.store, load.f, load.fr, load.kind, load.table, load.fcol
    started = datetime.now(UTC).replace(tzinfo=None)
    cols = ", ".join(_table_columns(store, table, exclude={"source_id"}))
    with store.transaction() as con:
        ingest_id = con.execute("SELECT nextval('ingest_id_seq')").fetchone()[0]
        if old_rows:
            con.execute(
                f"DELETE FROM {table} t USING _hs_parts p WHERE t.{fcol} = p.force AND t.month = p.month"
            )
            con.execute(
                "DELETE FROM partitions p USING _hs_parts n "
                "WHERE p.kind = ? AND p.force = n.force AND p.month = n.month",
                [kind],
            )
        con.execute(
            f"INSERT INTO {table} ({cols}, source_id) SELECT {cols}, ? FROM _hs_new", [ingest_id]
        )
        con.execute(
            "INSERT INTO partitions SELECT ?, force, month, ?, n FROM _hs_parts", [kind, ingest_id]
        )
        con.execute(
            "INSERT INTO partition_history SELECT ?, ?, force, month, n, previous_rows, "
            "coalesce(peak_rows, n), coalesce(n < peak_rows, FALSE), ? FROM _hs_hist",
            [ingest_id, kind, started],
        )
        if rejects:
            # Reasons and raw lines are screened for identifiers and capped (issue 20).
            from harmscope.privacy.identifiers import screen_raw_line as _screen

            con.executemany(
                "INSERT INTO rejects VALUES (?, ?, ?, ?, ?)",
                [
                    [ingest_id, f.display, ln, _screen(reason), _screen(raw)]
                    for ln, reason, raw in rejects
                ],
            )
        con.execute(
            "INSERT INTO ingests VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ingest_id,
                str(f.path.resolve()),
                f.path.name,
                f.member,
                sha,
                f.size(),
                kind,
                fr.force,
                ",".join(fr.months),
                fr.rows_read,
                fr.rows_loaded,
                fr.rows_duplicate,
                fr.rows_rejected,
                fr.rows_replaced,
                replaces,
                fr.parser,
                started,
                datetime.now(UTC).replace(tzinfo=None),
                __version__,
            ],
        )
    fr.ingest_id = int(ingest_id)


def _all_rejected(f: InputFile, fr: FileReport) -> str:
    return str(
        InputFileError(
            f"every row ({fr.rows_read:,}) was rejected: nothing loaded",
            where=f.display,
            fix='see why with `harmscope sql "SELECT reason, count(*) FROM rejects WHERE '
            f'ingest_id = {fr.ingest_id} GROUP BY 1"` and fix or replace the file',
        )
    )


def _settle_stop_search_month(
    store: Store, f: InputFile, fr: FileReport, name_month: str | None
) -> None:
    """Set the month of every row in ``_hs_norm`` to the month its dates say.

    police.uk files hold one month; a few searches at 23:xx UTC on the last day of the month
    before belong to it (00:xx UK summer time). So the file's month is the month most rows are
    dated in, and a name saying another month is an error naming both.
    """
    counts = store.con.execute(
        "SELECT strftime(date_trunc('month', datetime), '%Y-%m') AS m, count(*) AS n "
        "FROM _hs_norm WHERE __reject IS NULL GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    if not counts:
        return
    month, n = counts[0]
    total = sum(c for _, c in counts)
    if name_month is not None and name_month != month:
        raise InputFileError(
            f"the file name says {name_month} but its rows are dated {month} "
            f"({n:,} of {total:,} rows); refused, nothing changed",
            where=f.display,
            fix=f"rename the file to {month}-... (the month of its rows), or check that it is "
            f"the {name_month} file you meant to load",
        )
    # Rows more than a day outside the month are not time-zone strays: say so.
    stray = store.con.execute(
        "SELECT count(*) FROM _hs_norm WHERE __reject IS NULL AND (datetime < ?::TIMESTAMP - "
        "INTERVAL 1 DAY OR datetime >= ?::TIMESTAMP + INTERVAL 1 MONTH + INTERVAL 1 DAY)",
        [f"{month}-01", f"{month}-01"],
    ).fetchone()[0]
    if stray:
        fr.warnings.append(
            f"{stray:,} row(s) are dated outside {month} (the month of the other rows); "
            f"they are stored under {month}"
        )
    store.con.execute("UPDATE _hs_norm SET month = ?::DATE WHERE __reject IS NULL", [f"{month}-01"])


def _table_columns(store: Store, table: str, exclude: set[str]) -> list[str]:
    cache = store.__dict__.setdefault("_hs_columns", {})
    if table not in cache:
        cache[table] = [
            r[0]
            for r in store.con.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                "ORDER BY ordinal_position",
                [table],
            ).fetchall()
        ]
    return [c for c in cache[table] if c not in exclude]


def _raw_line(lines: list[bytes], line_no: int) -> str:
    return lines[line_no - 1].rstrip(b"\r").decode("utf-8", errors="backslashreplace")


def _read_csv_sql(f: InputFile, ncols: int) -> str:
    path, compression = f.duckdb_path()
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(ncols)) + "}"
    lit = "'" + path.replace("'", "''") + "'"
    return (
        f"read_csv({lit}, columns = {columns}, header = true, auto_detect = false, delim = ',', "
        f"quote = '\"', escape = '\"', strict_mode = true, compression = '{compression}')"
    )


def _one_pass(store: Store, f: InputFile, ncols: int, expected_rows: int, norm_sql) -> bool:
    """Parse and normalise in one statement; True if every row was read and none rejected."""
    try:
        store.con.execute(
            f"CREATE TEMP TABLE _hs_norm AS "
            f"{norm_sql(f'(SELECT *, CAST(NULL AS BIGINT) AS __line FROM {_read_csv_sql(f, ncols)})')}"
        )
    except duckdb.Error:
        store.con.execute("DROP TABLE IF EXISTS _hs_norm")
        return False
    n, bad = store.con.execute(
        "SELECT count(*), count(*) FILTER (__reject IS NOT NULL) FROM _hs_norm"
    ).fetchone()
    if n != expected_rows or bad:
        store.con.execute("DROP TABLE IF EXISTS _hs_norm")
        return False
    return True


def _fast_read(store: Store, f: InputFile, ncols: int, expected_rows: int) -> bool:
    """DuckDB's strict reader; True if it read exactly the rows the file holds."""
    path, compression = f.duckdb_path()
    columns = {f"c{i}": "VARCHAR" for i in range(ncols)}
    try:
        store.con.execute(
            "CREATE TEMP TABLE _hs_raw0 AS SELECT * FROM read_csv(?, columns = ?, header = true, "
            "auto_detect = false, delim = ',', quote = '\"', escape = '\"', strict_mode = true, "
            "compression = ?)",
            [path, columns, compression],
        )
    except duckdb.Error:
        store.con.execute("DROP TABLE IF EXISTS _hs_raw0")
        return False
    n = store.con.execute("SELECT count(*) FROM _hs_raw0").fetchone()[0]
    if n != expected_rows:
        store.con.execute("DROP TABLE IF EXISTS _hs_raw0")
        return False
    # Insertion order is the file's order, so rowid + 2 is the physical line (header is line 1,
    # and the caller has checked there are no blank lines before the last row).
    store.con.execute("CREATE TEMP VIEW _hs_raw AS SELECT *, rowid + 2 AS __line FROM _hs_raw0")
    return True


def _slow_read(
    store: Store, lines: list[bytes], line_numbers: Iterable[int], ncols: int
) -> list[tuple[int, str, str]]:
    """Parse line by line; return structural rejects and leave good rows in _hs_raw."""
    rejects: list[tuple[int, str, str]] = []
    good: list[list[str]] = []
    good_lines: list[int] = []
    for ln in line_numbers:
        raw = lines[ln - 1].rstrip(b"\r")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            rejects.append(
                (
                    ln,
                    f"not valid UTF-8 text ({exc.reason} at byte {exc.start})",
                    raw.decode("utf-8", errors="backslashreplace"),
                )
            )
            continue
        try:
            rows = list(csv.reader(io.StringIO(text), strict=True))
        except csv.Error as exc:
            rejects.append((ln, f"not valid CSV ({exc})", text))
            continue
        if len(rows) != 1:
            rejects.append(
                (ln, "not valid CSV (a quoted field runs past the end of the line)", text)
            )
            continue
        fields = rows[0]
        if len(fields) != ncols:
            rejects.append((ln, f"expected {ncols} fields, found {len(fields)}", text))
            continue
        good.append(fields)
        good_lines.append(ln)
    df = pd.DataFrame(good, columns=[f"c{i}" for i in range(ncols)], dtype="string")
    df["__line"] = pd.Series(good_lines, dtype="int64")
    store.con.register("_hs_raw_df", df)
    casts = ", ".join(f"CAST(c{i} AS VARCHAR) AS c{i}" for i in range(ncols))
    store.con.execute(f"CREATE TEMP TABLE _hs_raw AS SELECT {casts}, __line FROM _hs_raw_df")
    store.con.unregister("_hs_raw_df")
    return rejects
