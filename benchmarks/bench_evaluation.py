"""Speed of a scheme evaluation and of 200 placebo schemes, against the bare count query.

Run: .venv/bin/python benchmarks/bench_evaluation.py (HARMSCOPE_BENCH_DB reuses a store).
The baseline is the engine's plain ``GROUP BY lsoa_code, month`` count of violence over the
same data, measured in the same run; each figure is printed with its ratio to it. No timing is
asserted anywhere.
"""

from __future__ import annotations

import time

import numpy as np
from _common import best_time, street_store

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.evaluate import evaluate, load_panels
from harmscope.analysis.evaluation.placebo import run_placebos


def main() -> None:
    store = street_store()
    bare = (
        "SELECT lsoa_code, month, count(*) FROM street_crimes "
        "WHERE crime_type = 'Violence and sexual offences' GROUP BY ALL"
    )
    base = best_time(lambda: store.query(bare))
    print(f"baseline (bare GROUP BY lsoa x month, violence): {base * 1000:.1f} ms")
    with single_thread():
        t_panels = best_time(lambda: load_panels(store), repeat=2)
        panels = load_panels(store)
        kent = sorted(panels.lsoa.loc[panels.lsoa["force"] == "Kent Police", "area"].unique())
        areas = list(np.random.default_rng(1).choice(kent, 30, replace=False))
        t_eval = best_time(
            lambda: evaluate(store, {"lsoas": areas}, "2025-07", panels=panels), repeat=2
        )
        t_full = best_time(lambda: evaluate(store, {"lsoas": areas}, "2025-07"), repeat=1)
        t0 = time.perf_counter()
        run_placebos(panels, 200, seed=1, force="Kent Police")
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
