"""Speed of a scheme evaluation and of 200 placebo schemes, against the bare count query.

Run: .venv/bin/python benchmarks/bench_evaluation.py (HARMSCOPE_BENCH_DB reuses a store).
The baseline is the engine's plain ``GROUP BY lsoa_code, month`` count of violence over the
same data, measured in the same run; each figure is printed with its ratio to it. No timing is
asserted anywhere.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import numpy as np

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.evaluate import evaluate, load_panels
from harmscope.analysis.evaluation.placebo import run_placebos
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

SHARED = (
    Path(os.environ.get("HARMSCOPE_SHARED", Path(__file__).resolve().parents[2] / "shared"))
    / "data"
)


def _store() -> Store:
    path = os.environ.get("HARMSCOPE_BENCH_DB")
    if path and Path(path).exists():
        return Store.open(path, read_only=True)
    tmp = Path(tempfile.mkdtemp()) / "bench.duckdb"
    files = sorted((SHARED / "police/kent/street").glob("*.csv.gz")) + sorted(
        (SHARED / "police/comparison/street").glob("*.csv.gz")
    )
    with Store.open(tmp) as store:
        ingest_paths(store, files, quiet=True)
    return Store.open(tmp, read_only=True)


def _time(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def main() -> None:
    store = _store()
    bare = (
        "SELECT lsoa_code, month, count(*) FROM street_crimes "
        "WHERE crime_type = 'Violence and sexual offences' GROUP BY ALL"
    )
    base = _time(lambda: store.query(bare))
    print(f"baseline (bare GROUP BY lsoa x month, violence): {base * 1000:.1f} ms")
    with single_thread():
        t_panels = _time(lambda: load_panels(store), repeat=2)
        panels = load_panels(store)
        kent = sorted(panels.lsoa.loc[panels.lsoa["force"] == "Kent Police", "area"].unique())
        areas = list(np.random.default_rng(1).choice(kent, 30, replace=False))
        t_eval = _time(
            lambda: evaluate(store, {"lsoas": areas}, "2025-07", panels=panels), repeat=2
        )
        t_full = _time(lambda: evaluate(store, {"lsoas": areas}, "2025-07"), repeat=1)
        t0 = time.perf_counter()
        run_placebos(panels, 200, seed=1)
        t_plc = time.perf_counter() - t0
    rows = [
        ("load panels (6 aggregations)", t_panels),
        ("one evaluation, 3 methods (panels loaded)", t_eval),
        ("one full evaluation incl. panels", t_full),
        ("200 placebo schemes, 3 methods", t_plc),
    ]
    for name, t in rows:
        print(f"{name:<44} {t:8.2f} s   ratio to baseline {t / base:8.0f}")
    print(f"per placebo scheme: {t_plc / 200 * 1000:.0f} ms")
    store.close()


if __name__ == "__main__":
    main()
