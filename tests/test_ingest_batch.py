"""Issue 18: batched ingest gives exactly what ingesting the files one at a time gives.

Many files go through one DuckDB read (sources/ingest_batch.py); any file that needs more
than a plain load (rejects, a month already held, the same bytes twice, stop and search)
goes through the single-file path at its place. On real police files, mixed with such cases,
the store's content and every file's report must be the same as file by file.
"""

from __future__ import annotations

import gzip
from dataclasses import asdict
from pathlib import Path

import pytest

from conftest import COMPARISON_STREET, KENT_STOP_SEARCH, KENT_STREET
from harmscope.sources import ingest_batch
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

# Every table ingest writes, with the columns that do not depend on the clock.
_TABLES = {
    "street_crimes": "*",
    "stop_searches": "*",
    "partitions": "*",
    "partition_history": "* EXCLUDE (written_at)",
    "rejects": "*",
    "ingests": "* EXCLUDE (started_at, finished_at)",
}


def _content(db: Path) -> dict[str, list[tuple]]:
    with Store.open(db, read_only=True) as store:
        return {
            t: store.con.execute(f"SELECT {cols} FROM {t} ORDER BY ALL").fetchall()
            for t, cols in _TABLES.items()
        }


def _reports(files) -> list[dict]:
    return [{k: v for k, v in asdict(f).items() if k != "seconds"} for f in files]


def _inputs(tmp_path: Path) -> list[Path]:
    """Real files plus the awkward cases: a row rejected, a month replaced by a later file
    in the same call, a file given twice, a stop-and-search file between street files."""
    bad = tmp_path / "bad" / KENT_STREET[6].name.removesuffix(".gz")
    bad.parent.mkdir()
    lines = gzip.decompress(KENT_STREET[6].read_bytes()).splitlines(keepends=True)
    lines[3] = lines[3].replace(b",51.", b",not-a-latitude.", 1)
    bad.write_bytes(b"".join(lines))
    half = tmp_path / "half" / KENT_STREET[4].name.removesuffix(".gz")
    half.parent.mkdir()
    keep = gzip.decompress(KENT_STREET[4].read_bytes()).splitlines(keepends=True)
    half.write_bytes(b"".join(keep[: len(keep) // 2]))
    return [
        *KENT_STREET[4:6],
        bad,
        COMPARISON_STREET[8],
        KENT_STOP_SEARCH[0],
        KENT_STREET[7],
        half,  # replaces 2025-01 with fewer rows: refused (shrink) in both ways
        KENT_STREET[4],  # the same bytes again: unchanged
        COMPARISON_STREET[9],
    ]


@pytest.mark.parametrize("batch_files", [2, 16])
def test_a_batch_gives_what_one_file_at_a_time_gives(tmp_path, monkeypatch, batch_files):
    monkeypatch.setattr(ingest_batch, "BATCH_FILES", batch_files)
    paths = _inputs(tmp_path)
    one, many = tmp_path / "one.duckdb", tmp_path / "many.duckdb"
    singles = []
    with Store.open(one) as store:
        for p in paths:
            singles.extend(ingest_paths(store, [p]).files)
    runs: list[int] = []
    write_run = ingest_batch._write_run
    monkeypatch.setattr(
        ingest_batch,
        "_write_run",
        lambda store, run: (runs.append(len(run)), write_run(store, run)),
    )
    with Store.open(many) as store:
        batched = ingest_paths(store, paths).files
    assert max(runs) > 1  # files really were written together
    assert _reports(batched) == _reports(singles)
    assert _content(many) == _content(one)
    # The cases above were all exercised: a reject, a refusal, a skip and batched loads.
    statuses = [f.status for f in batched]
    assert statuses.count("unchanged") == 1 and statuses.count("failed") == 1
    assert sum(f.rows_rejected for f in batched) == 1
    assert all(f.reconciles for f in batched)


def test_batched_files_reconcile_per_file_and_each_has_its_own_ingest(tmp_path):
    """One read for several files: each file's rows carry its own ingest id."""
    paths = [*KENT_STREET[:3], *COMPARISON_STREET[:2]]
    with Store.open(tmp_path / "s.duckdb") as store:
        rep = ingest_paths(store, paths)
        held = dict(
            store.con.execute("SELECT source_id, count(*) FROM street_crimes GROUP BY 1").fetchall()
        )
    assert [f.status for f in rep.files] == ["loaded"] * len(paths)
    assert len({f.ingest_id for f in rep.files}) == len(paths)
    assert {f.ingest_id: f.rows_loaded for f in rep.files} == held
    assert [f.ingest_id for f in rep.files] == sorted(f.ingest_id for f in rep.files)


def test_a_crash_inside_a_batch_leaves_no_part_of_it(tmp_path, monkeypatch):
    """A failure while a run of files is written rolls the whole run back: the store holds
    the files committed before it, each whole, and nothing of the run."""
    monkeypatch.setattr(ingest_batch, "BATCH_FILES", 2)
    real_row = ingest_batch._ingests_row
    calls = []

    def failing_row(s, *args):
        calls.append(s.path)
        if len(calls) == 4:  # the second file of the second run
            raise RuntimeError("planted failure")
        return real_row(s, *args)

    monkeypatch.setattr(ingest_batch, "_ingests_row", failing_row)
    db = tmp_path / "c.duckdb"
    with Store.open(db) as store, pytest.raises(RuntimeError, match="planted"):
        ingest_paths(store, KENT_STREET[:4])
    with Store.open(db, read_only=True) as store:
        files = store.con.execute("SELECT file_name FROM ingests ORDER BY 1").fetchall()
        held = store.con.execute(
            "SELECT count(*), count(DISTINCT source_id), count(DISTINCT month) FROM street_crimes"
        ).fetchone()
        parts = store.con.execute("SELECT count(*), sum(rows) FROM partitions").fetchone()
    assert [f[0] for f in files] == [p.name for p in KENT_STREET[:2]]
    assert held[1:] == (2, 2) and parts == (2, held[0])
