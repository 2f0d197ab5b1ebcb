"""Ingest every police file in ../shared/data against a bare DuckDB read of the same files.

Run: .venv/bin/python benchmarks/bench_ingest.py   (or `make bench`)

Each measurement runs in a fresh process, interleaved (bare, into a table, ingest, and again)
REPEATS times on this noisy machine; the median of each is reported. The baselines, measured
in the same run:

* bare read: DuckDB counting the rows of every file in one ``read_csv`` with
  ``union_by_name`` (the two kinds of file have different columns);
* read into a table: the same read into a table of a database file (what ingest must at
  least do, without normalising, placing or checking anything).

Figures (issue 18 targets): ingest within 1.5x wall of the bare read; disk writes at most 2x
the store's size; peak memory (the ingest process's ru_maxrss) under 1 GB.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from _common import SHARED, figure, run_child

REPEATS = 3

_CHILD = r"""
import json, os, resource, sys, time
mode, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
def written():
    for line in open("/proc/self/io"):
        if line.startswith("write_bytes"):
            return int(line.split()[1])
w0, t0, c0 = written(), time.perf_counter(), time.process_time()
if mode == "ingest":
    from harmscope.store import Store
    from harmscope.sources.ingest import ingest_paths
    with Store.open(db) as store:
        rep = ingest_paths(store, files)
    rows = rep.rows_read
    assert rep.ok and rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_rejected
else:
    import duckdb
    con = duckdb.connect(db if mode == "table" else ":memory:")
    con.execute("SET enable_progress_bar = false")  # it draws on stdout
    read = "read_csv(?, union_by_name = true, all_varchar = true)"
    if mode == "bare":
        rows = con.execute(f"SELECT count(*) FROM {read}", [files]).fetchone()[0]
    else:
        con.execute(f"CREATE TABLE t AS SELECT * FROM {read}", [files])
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]
    con.close()
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
size = os.path.getsize(db) if os.path.exists(db) else 0
print(json.dumps({"mode": mode, "rows": rows, "seconds": secs, "cpu": cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "written_mb": (written() - w0) / 1e6, "store_mb": size / 1e6}))
"""


def run(mode: str, files: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as d:
        return run_child(_CHILD, mode, Path(d) / "b.duckdb", *files)


def median(runs: list[dict], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    files = sorted(str(p) for p in (SHARED / "police").rglob("*.csv*"))
    size = sum(Path(f).stat().st_size for f in files) / 1e6
    print(f"{len(files)} police files, {size:.1f} MB on disk; {REPEATS} interleaved runs each")
    runs: dict[str, list[dict]] = {"bare": [], "table": [], "ingest": []}
    for _ in range(REPEATS):
        for mode, out in runs.items():
            out.append(run(mode, files))
    for mode, out in runs.items():
        r = out[0]
        print(
            f"{mode:>7}: {r['rows']:>9,} rows; median {median(out, 'seconds'):6.2f} s wall, "
            f"{median(out, 'cpu'):6.2f} s cpu, peak {median(out, 'peak_mb'):5.0f} MB, "
            f"wrote {median(out, 'written_mb'):5.0f} MB"
        )
    bare, table, ingest = runs["bare"], runs["table"], runs["ingest"]
    assert ingest[0]["rows"] == bare[0]["rows"], "ingest and the bare read disagree on rows"
    figure("ingest_vs_bare_read", median(ingest, "seconds"), "s", median(bare, "seconds"))
    figure("ingest_cpu_vs_bare_read", median(ingest, "cpu"), "s", median(bare, "cpu"))
    figure("ingest_vs_read_into_table", median(ingest, "seconds"), "s", median(table, "seconds"))
    figure(
        "ingest_disk_writes",
        median(ingest, "written_mb"),
        "MB",
        median(ingest, "store_mb"),
        "MB store size",
    )
    figure(
        "ingest_peak_memory",
        max(r["peak_mb"] for r in ingest),
        "MB",
        max(r["peak_mb"] for r in bare),
        "MB bare read",
    )
    rate = ingest[0]["rows"] / median(ingest, "seconds")
    print(f"ingest rate {rate:,.0f} rows/s; target: ratio <= 1.5, writes <= 2x, peak < 1024 MB")


if __name__ == "__main__":
    main()
