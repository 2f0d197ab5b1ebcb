"""Speed of a scheme evaluation and of 200 placebo schemes.

Run: .venv/bin/python benchmarks/bench_evaluation.py (HARMSCOPE_BENCH_DB reuses a store).

``placebo_200`` (issue 18): 200 placebo schemes (30 random Kent LSOAs, a random start; DiD,
synthetic control and ITS each) by ``run_placebos`` as ``harmscope evaluate --placebo 200``
runs them: shared matrices built once, the DiD by the two-way fixed-effects Poisson solver,
the schemes spread over every core. Its baseline, measured in the same run, is the path
before issue 18 on the same schemes: one scheme at a time, every pivot, noise model and
matching feature rebuilt per scheme, the rank test's fixed-seed normals drawn afresh, the DiD
a statsmodels GLM on dense dummies; timed on the first BASELINE_SCHEMES schemes and scaled to
200 (each scheme costs about the same). The old path's figures on those schemes are compared
with the new ones and the largest relative difference printed. The false-positive rate of
each method is printed against the nominal 5% (``placebo_200_false_positive_<method>``). The
other lines are context (ratios to the engine's bare count query). No timing is asserted.
"""

from __future__ import annotations

import resource
import time

import numpy as np
import pandas as pd
from _common import best_time, figure, street_store

from harmscope.analysis.evaluation import power
from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.evaluate import evaluate, evaluate_design, load_panels
from harmscope.analysis.evaluation.placebo import (
    candidate_starts,
    default_workers,
    run_placebos,
    summarise,
)
from harmscope.analysis.intervals import wilson

FORCE = "Kent Police"
N, SEED, N_AREAS = 200, 1, 30
BASELINE_SCHEMES = 20


def old_path(panels, n: int) -> pd.DataFrame:
    """The first ``n`` of the placebo schemes (same draws as ``run_placebos(seed=SEED)``),
    evaluated as before issue 18 (module docstring): irr, interval and p per method."""
    rng = np.random.default_rng(SEED)
    pool = sorted(set(panels.lsoa.loc[panels.lsoa["force"] == FORCE, "area"]))
    starts = candidate_starts(panels)
    rows = []
    for i in range(n):
        areas = list(rng.choice(pool, N_AREAS, replace=False))
        start = starts[int(rng.integers(len(starts)))]
        design = Design("lsoa", areas, [a for a in pool if a not in set(areas)], FORCE)
        power.rank_test_shift.cache_clear()  # the old code drew the normals every time
        res = evaluate_design(
            panels, design, start, details=False, seed=int(rng.integers(1 << 30)), solver="glm"
        )
        for r in res:
            lo, hi = r.get("irr_ci") or [np.nan, np.nan]
            rows.append(
                {"run": i, "method": r["method"], "irr": r.get("irr"), "irr_low": lo,
                 "irr_high": hi, "p_value": r.get("p_value")}
            )  # fmt: skip
    return pd.DataFrame(rows)


def _cpu() -> float:
    """CPU seconds of this process and of its children that have ended."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def placebo_figures(panels) -> None:
    with single_thread():
        t0, c0 = time.perf_counter(), _cpu()
        runs = run_placebos(panels, N, seed=SEED, force=FORCE)
        t_new, c_new = time.perf_counter() - t0, _cpu() - c0
        t0, c0 = time.perf_counter(), _cpu()
        old = old_path(panels, BASELINE_SCHEMES)
        scale = N / BASELINE_SCHEMES
        t_old, c_old = (time.perf_counter() - t0) * scale, (_cpu() - c0) * scale
    cols = ["irr", "irr_low", "irr_high", "p_value"]
    new = runs[runs["run"] < BASELINE_SCHEMES].reset_index(drop=True)
    diff = np.abs(new[cols].to_numpy(float) - old[cols].to_numpy(float))
    rel = float(np.nanmax(diff / np.abs(old[cols].to_numpy(float))))
    print(
        f"placebo_200 on {default_workers()} processes; baseline: the old path on the first "
        f"{BASELINE_SCHEMES} schemes x {N // BASELINE_SCHEMES}; its figures there differ from "
        f"the new ones by at most {rel:.1e} (relative)"
    )
    # CPU seconds (this process and its finished worker processes): on a shared, busy machine
    # the wall times above stretch with the load, the work does not
    print(f"placebo_200 CPU: {c_new:.1f} s (old path {c_old:.1f} s, scaled)")
    figure("placebo_200", t_new, "s", t_old)
    for r in summarise(runs).to_dict(orient="records"):
        k = int(round(r["significant_rate"] * r["runs"]))
        lo, hi = wilson(k, r["runs"])
        print(f"  {r['method']}: {k}/{r['runs']} significant (Wilson 95% CI {lo:.1%} to {hi:.1%})")
        figure(f"placebo_200_false_positive_{r['method']}", 100 * r["significant_rate"], "%", 5.0)


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
        kent = sorted(panels.lsoa.loc[panels.lsoa["force"] == FORCE, "area"].unique())
        areas = list(np.random.default_rng(1).choice(kent, 30, replace=False))
        t_eval = best_time(
            lambda: evaluate(store, {"lsoas": areas}, "2025-07", panels=panels), repeat=2
        )
        t_full = best_time(lambda: evaluate(store, {"lsoas": areas}, "2025-07"), repeat=1)
    for name, t in (
        ("load panels (6 aggregations)", t_panels),
        ("one evaluation, 3 methods (panels loaded)", t_eval),
        ("one full evaluation incl. panels", t_full),
    ):
        print(f"{name:<44} {t:8.2f} s   ratio to baseline {t / base:8.0f}")
    store.close()
    placebo_figures(panels)


if __name__ == "__main__":
    main()
