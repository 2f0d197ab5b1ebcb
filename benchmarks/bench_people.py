"""A synthetic force crime extract: ingest vs a bare DuckDB read, peak memory, analyses time.

Issue 14 targets, for a 1,000,000-crime extract: ingest within 3x of a bare DuckDB read of the
same file (both measured in this run, each in its own process), peak memory under 1.5 GB,
and every people analysis within 30 s. ``HARMSCOPE_BENCH_CRIMES`` sets the size (default
1,000,000; ``100000`` for a quick run). The extract is SYNTHETIC (harmscope simulate crimes).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

from _common import figure, run_child

_CHILD = r"""
import json, resource, sys, time
mode, path, db = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
out = {}
if mode == "make":  # the extract is made in its own process: the parent stays small, so
    # the children's peak memory (ru_maxrss counts what a fork inherits) is their own
    from pathlib import Path
    from harmscope.simulate.crimes import simulate_crimes, write_crimes_csv
    write_crimes_csv(simulate_crimes(1, crimes=int(db)), Path(path))
elif mode == "ingest":
    from harmscope.store import Store
    from harmscope.sources.crime_extract import ingest_crime_extract
    with Store.open(db) as store:
        t1 = time.perf_counter()
        rep = ingest_crime_extract(store, path)
        out["call_seconds"] = time.perf_counter() - t1
    assert rep.conserved()
    out["rows"] = rep.rows_read
elif mode == "analyses":
    from harmscope.store import Store
    from harmscope.analysis.people import people_profile
    with Store.open(db, read_only=True) as store:
        prof = people_profile(store, reps=200)
    out["power_few_share_top5pct"] = prof.summary["power_few_share_top5pct"]
    out["repeat_victim_rate"] = prof.summary["repeat_victim_rate"]
else:  # the bare read: every column as text into a table of a database file
    import duckdb
    con = duckdb.connect(db)
    t1 = time.perf_counter()
    con.execute("CREATE TABLE t AS SELECT * FROM read_csv(?, skip = 2, header = true, "
                "all_varchar = true)", [path])
    out["call_seconds"] = time.perf_counter() - t1
    out["rows"] = con.execute("SELECT count(*) FROM t").fetchone()[0]
out["seconds"] = time.perf_counter() - t0
out["peak_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps(out))
"""


def _child(mode: str, path: Path, db) -> dict:
    return run_child(_CHILD, mode, path, db)


def main() -> int:
    n = int(os.environ.get("HARMSCOPE_BENCH_CRIMES", "1000000"))
    os.environ.setdefault("HARMSCOPE_KEY", secrets.token_hex(32))
    tmp = Path(tempfile.mkdtemp(prefix="bench_people_"))
    t0 = time.perf_counter()
    path = tmp / "extract.csv"
    _child("make", path, n)
    print(
        f"SYNTHETIC extract: {n:,} crimes, {path.stat().st_size / 1e6:.0f} MB, made in "
        f"{time.perf_counter() - t0:.1f} s"
    )
    bare = min(
        (_child("read", path, tmp / f"bare{i}.duckdb") for i in range(2)),
        key=lambda r: r["seconds"],
    )
    ingest = _child("ingest", path, tmp / "people.duckdb")
    analyses = _child("analyses", path, tmp / "people.duckdb")
    ratio = ingest["seconds"] / bare["seconds"]
    # The same ratio without the fixed costs (interpreter, imports, opening the store):
    call_ratio = ingest["call_seconds"] / bare["call_seconds"]
    print(f"bare DuckDB read into a table: {bare['seconds']:.2f} s ({bare['rows']:,} rows)")
    print(
        f"ingest (validate, pseudonymise, load): {ingest['seconds']:.2f} s, "
        f"peak {ingest['peak_mb']:.0f} MB; ratio to the bare read {ratio:.1f}x (target 3x)"
    )
    print(
        f"  the calls alone (no interpreter, imports or store opening): read "
        f"{bare['call_seconds']:.2f} s, ingest {ingest['call_seconds']:.2f} s, {call_ratio:.1f}x"
    )
    print(
        f"all people analyses: {analyses['seconds']:.2f} s, peak {analyses['peak_mb']:.0f} MB "
        f"(target 30 s); top-5% share {analyses['power_few_share_top5pct']:.3f}, repeat rate "
        f"{analyses['repeat_victim_rate']:.3f}"
    )
    # against the bare DuckDB read of the same file (each in its own process); the analyses
    # too, the bare read being the least any work on the extract costs
    figure("people_ingest_vs_bare_read", ingest["seconds"], "s", bare["seconds"])
    figure("people_ingest_peak_memory", ingest["peak_mb"], "MB", bare["peak_mb"])
    figure("people_analyses", analyses["seconds"], "s", bare["seconds"])
    print(
        json.dumps(
            {
                "crimes": n,
                "bare_s": bare["seconds"],
                "ingest_s": ingest["seconds"],
                "ratio": ratio,
                "call_ratio": call_ratio,
                "ingest_peak_mb": ingest["peak_mb"],
                "analyses_s": analyses["seconds"],
                "analyses_peak_mb": analyses["peak_mb"],
            }
        )
    )
    shutil.rmtree(tmp, ignore_errors=True)  # the extract and stores are large: leave nothing
    return 0


if __name__ == "__main__":
    sys.exit(main())
