"""National scale on one machine (issue 18): a synthetic corpus of 43 forces over 36 months.

Run: .venv/bin/python benchmarks/bench_national.py [--scale N] [--national]   (or `make bench`)

The corpus is the shared street files (Kent, Essex, Sussex: 48 force-months) relabelled:
each of the 43 territorial forces of England and Wales over 36 months (2023-01..2025-12)
gets a copy of one real file with its force and month rewritten, written as the plain CSV
police.uk ships inside its zips. The force-months are taken month by month (all 43 forces of
the first month, then the next), so scale 1 is 48 files (the size of the shared set, about
0.66M rows), scale 16 is 768 files (about 10.6M rows) and the whole corpus (``--national``,
1,548 files) about 21M rows. Rows keep their real coordinates, so a relabelled force's rows
sit outside its area (``out_of_area``); Kent's copies are Kent's own files.

For each scale (1, 2, 4 by default; doubling up to ``--scale N``) a fresh process ingests the
corpus into a fresh store and reports seconds, CPU seconds, peak memory (its ru_maxrss) and
bytes written. Time should grow linearly (the baseline of each point is the 1x time times
the scale) and memory stay flat (baseline: the 1x peak).

Then one force on the largest store against the same force alone: Kent's files of that
corpus ingested into a store of their own, and Kent's report sections, hotspots and harm
timed on both (best of REPEATS runs, each analysis in its own process, the two stores
in turn ROUNDS times). The national store should cost no more than the force alone
(target 1.2x).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from _common import SHARED, figure, run_child

FILES_PER_SCALE = 48  # the shared street files: 16 months x Kent, Essex, Sussex
MONTHS = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
FORCE = "Kent Police"
REPEATS = {"report": 2, "hotspots": 5, "harm": 5}  # best of; the report takes seconds
ROUNDS = 3  # national and alone measured in turn, this many times each

_CORPUS = r"""
import json, sys
from pathlib import Path
import duckdb
from harmscope.reference import tables

out, n_files, shared = Path(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
forces = tables.load_forces()
forces = forces[~forces.force_slug.isin(["british-transport-police", "northern-ireland"])]
forces = forces[~forces.force_name.str.contains("Northern Ireland|Transport")]
assert len(forces) == 43, len(forces)
sources = {
    "kent": sorted((shared / "police/kent/street").glob("*-street.csv.gz")),
    "essex": sorted((shared / "police/comparison/street").glob("*-essex-street.csv.gz")),
    "sussex": sorted((shared / "police/comparison/street").glob("*-sussex-street.csv.gz")),
}
months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
con = duckdb.connect()
con.execute("SET enable_progress_bar = false")  # it draws on stdout
loaded = {}
def source(name, i):
    path = sources[name][i % len(sources[name])]
    if path not in loaded:
        t = f"s{len(loaded)}"
        con.execute(f"CREATE TABLE {t} AS SELECT * FROM read_csv(?, all_varchar = true, header = true)", [str(path)])
        loaded[path] = t
    return loaded[path]
cols = None
made = []
k = 0
for mi, month in enumerate(months):
    for fi, (slug, name) in enumerate(zip(forces.force_slug, forces.force_name)):
        if k >= n_files:
            break
        src = "kent" if name == "Kent Police" else ("essex", "sussex", "kent")[fi % 3]
        t = source(src, mi + fi)
        if cols is None:
            cols = [r[0] for r in con.execute(f"DESCRIBE {t}").fetchall()]
        q = lambda c: '"' + c + '"'
        lit = "'" + name.replace("'", "''") + "'"
        sel = ", ".join(
            f"'{month}' AS {q(c)}" if c == "Month"
            else f"{lit} AS {q(c)}" if c in ("Reported by", "Falls within")
            else q(c)
            for c in cols
        )
        path = out / month / f"{month}-{slug}-street.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        con.execute(f"COPY (SELECT {sel} FROM {t}) TO '{path}' (HEADER)")
        made.append([str(path), name])
        k += 1
(out / "files.json").write_text(json.dumps(made))
print(json.dumps({"files": len(made)}))
"""

_INGEST = r"""
import json, os, resource, sys, time
from pathlib import Path
db, listing, limit, only = sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
made = json.loads(Path(listing).read_text())[:limit]
files = [p for p, force in made if only in ("", force)]
def written():
    for line in open("/proc/self/io"):
        if line.startswith("write_bytes"):
            return int(line.split()[1])
from harmscope.store import Store
from harmscope.sources.ingest import ingest_paths
w0, t0, c0 = written(), time.perf_counter(), time.process_time()
with Store.open(db) as store:
    rep = ingest_paths(store, files)
secs, cpu = time.perf_counter() - t0, time.process_time() - c0
assert rep.ok and rep.rows_read == rep.rows_loaded + rep.rows_duplicate + rep.rows_rejected
print(json.dumps({"files": len(files), "rows": rep.rows_read, "seconds": secs, "cpu": cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "written_mb": (written() - w0) / 1e6, "store_mb": os.path.getsize(db) / 1e6}))
"""

_ONE_FORCE = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
db, what, force = sys.argv[2], sys.argv[3], sys.argv[4]
from harmscope.store import Store
store = Store.open(db, read_only=True)
first, last = store.con.execute(
    "SELECT strftime(min(month), '%Y-%m'), strftime(max(month), '%Y-%m') FROM street_crimes "
    "WHERE falls_within = ?", [force]).fetchone()
def report():
    from harmscope.report.render import build_report, make_context
    rep = build_report(make_context(store, force, first, last))
    return rep
def hotspots():
    from harmscope.analysis.hotspots import hotspots
    return hotspots(store, area=force, crime_types=["Violence and sexual offences"])
def harm():
    from harmscope.analysis import harm as H
    H.harm_by_area(store, area=force, by_month=True)
    return H.harm_trend(store, area=force)
fn = {"report": report, "hotspots": hotspots, "harm": harm}[what]
fn()  # warm: imports, reference tables
best = float("inf")
for _ in range(int(sys.argv[5])):
    t0 = time.perf_counter(); fn(); best = min(best, time.perf_counter() - t0)
print(json.dumps({"seconds": best}))
"""


def scales(top: int) -> list[int]:
    out, s = [], 1
    while s <= top:
        out.append(s)
        s *= 2
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=int, default=4, help="largest scale (1 = 48 files)")
    ap.add_argument("--national", action="store_true", help="also all 43 forces x 36 months")
    args = ap.parse_args(argv)
    points = scales(args.scale)
    n_files = [s * FILES_PER_SCALE for s in points]
    if args.national:
        n_files.append(len(MONTHS) * 43)
    work = Path(tempfile.mkdtemp(prefix="harmscope-national-"))
    try:
        corpus = work / "corpus"
        made = run_child(_CORPUS, "corpus", corpus, max(n_files), SHARED)
        print(f"synthetic corpus: {made['files']} files in {corpus}", flush=True)
        results = []
        for n in n_files:
            db = work / f"n{n}.duckdb"
            r = run_child(_INGEST, "ingest", db, corpus / "files.json", n, "")
            results.append(r)
            print(
                f"  {r['files']:5d} files {r['rows']:>11,} rows  {r['seconds']:7.1f} s "
                f"(cpu {r['cpu']:6.1f} s)  peak {r['peak_mb']:6.0f} MB  "
                f"wrote {r['written_mb']:7.0f} MB  store {r['store_mb']:6.0f} MB",
                flush=True,
            )
            if n != max(n_files):
                db.unlink()
        report_scaling(results)
        one_force(work, corpus, max(n_files))
    finally:
        shutil.rmtree(work, ignore_errors=True)


def report_scaling(results: list[dict]) -> None:
    """The scaling table, then each point against linear growth from the first and the first
    point's memory."""
    base = results[0]
    print("\nrows, seconds, peak MB")
    for r in results:
        print(f"{r['rows']:>12,}  {r['seconds']:8.1f}  {r['peak_mb']:8.0f}")
    for r in results[1:]:
        x = r["rows"] / base["rows"]
        tag = f"{x:.0f}x"
        figure(f"national_ingest_time_{tag}", r["seconds"], "s", base["seconds"] * x, "s if linear")
        figure(f"national_ingest_cpu_{tag}", r["cpu"], "s", base["cpu"] * x, "s if linear")
        figure(
            f"national_ingest_peak_memory_{tag}", r["peak_mb"], "MB", base["peak_mb"], "MB at 1x"
        )
    top = results[-1]
    figure("national_ingest_disk_writes", top["written_mb"], "MB", top["store_mb"], "MB store size")


def one_force(work: Path, corpus: Path, n: int) -> None:
    alone = work / "alone.duckdb"
    r = run_child(_INGEST, "ingest", alone, corpus / "files.json", n, FORCE)
    print(f"\n{FORCE} alone: {r['rows']:,} rows; the national store: {n} files", flush=True)
    national = work / f"n{n}.duckdb"
    totals = {"national": 0.0, "alone": 0.0}
    for what in ("report", "hotspots", "harm"):
        # The two stores in turn, ROUNDS times, best of each: on a shared machine a load
        # change between two back-to-back measurements would otherwise land in the ratio.
        t = {"national": float("inf"), "alone": float("inf")}
        for _ in range(ROUNDS):
            for name, db in (("national", national), ("alone", alone)):
                r = run_child(_ONE_FORCE, what, db, what, FORCE, REPEATS[what])
                t[name] = min(t[name], r["seconds"])
        for name in totals:
            totals[name] += t[name]
        figure(
            f"one_force_{what}_on_national_store", t["national"], "s", t["alone"], "s force alone"
        )
    figure("one_force_on_national_store", totals["national"], "s", totals["alone"], "s force alone")


if __name__ == "__main__":
    main(sys.argv[1:])
