"""Ingest every police file in ../shared/data; compare with a bare DuckDB read of the same files.

Prints rows per second, peak memory, and the ratio of ingest time to two baselines measured
in the same run: DuckDB reading each file (count(*)), and DuckDB reading each file into a
table of a database file (what ingest must at least do). Target: ingest within 3x of the
bare read, under 1 GB of memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLICE = ROOT.parent / "shared" / "data" / "police"

_CHILD = r"""
import json, resource, sys, time
from pathlib import Path
mode, db, files = sys.argv[1], sys.argv[2], sys.argv[3:]
t0 = time.perf_counter()
if mode == "ingest":
    from harmscope.store import Store
    from harmscope.sources.ingest import ingest_paths
    with Store.open(db) as store:
        rep = ingest_paths(store, files)
    rows = rep.rows_read
    assert rep.ok and rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_rejected
else:
    import duckdb
    con = duckdb.connect(db if mode == "read_to_table" else ":memory:")
    rows = 0
    for i, f in enumerate(files):
        if mode == "read":
            rows += con.execute("SELECT count(*) FROM read_csv(?, all_varchar = true)", [f]).fetchone()[0]
        else:
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv(?, all_varchar = true)", [f])
            rows += con.execute(f"SELECT count(*) FROM t{i}").fetchone()[0]
    con.close()
secs = time.perf_counter() - t0
print(json.dumps({"mode": mode, "rows": rows, "seconds": secs,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run(mode: str, files: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = subprocess.run(
            [sys.executable, "-c", _CHILD, mode, str(Path(d) / "b.duckdb"), *files],
            check=True,
            capture_output=True,
            text=True,
        )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    files = sorted(str(p) for p in POLICE.rglob("*.csv*"))
    size = sum(Path(f).stat().st_size for f in files) / 1e6
    print(f"{len(files)} police files, {size:.1f} MB on disk")
    read = run("read", files)
    to_table = run("read_to_table", files)
    ingest = run("ingest", files)
    for r in (read, to_table, ingest):
        print(
            f"{r['mode']:>14}: {r['rows']:>9,} rows in {r['seconds']:6.2f} s "
            f"({r['rows'] / r['seconds']:>10,.0f} rows/s), peak memory {r['peak_mb']:.0f} MB"
        )
    print(
        f"ratio ingest / bare read_csv          : {ingest['seconds'] / read['seconds']:.2f}x (target <= 3x)"
    )
    print(f"ratio ingest / read_csv into a table  : {ingest['seconds'] / to_table['seconds']:.2f}x")
    print(f"ingest peak memory {ingest['peak_mb']:.0f} MB (target < 1024 MB)")


if __name__ == "__main__":
    main()
