"""Validate value-for-money intervals against planted truth (run by `make validate`).

1. Simulated schemes (analysis.evaluation.value.simulate_coverage), HARMSCOPE_VALIDATE_VALUE_N
   runs each (default 1,000), a planted IRR of 0.8 by binomial thinning: ITS (16 months, AR(1)
   noise rho 0.3) and DiD with 10 treated areas (cluster-robust) and with 3 (wild cluster
   bootstrap; HARMSCOPE_VALIDATE_VALUE_WILD_N runs, default 1,000). Coverage of crimes
   averted (the expected truth O (1/0.8 - 1) and the crimes the thinning really removed) and
   of the benefit-cost ratio at a known cost and unit cost.
2. The real Kent data: HARMSCOPE_VALIDATE_VALUE_REAL_N (default 200) random sets of 30 Kent
   LSOAs with a random start, a 20% reduction planted by thinning (analysis.evaluation.placebo
   .plant), evaluated by DiD and ITS exactly as `harmscope evaluate` does; the same coverage.

Each rate with its Monte Carlo SE and Wilson 95% interval. Exit 1 if any coverage of the
expected truth lies more than 3 Monte Carlo SEs (at 95%) from 95%.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd
from _common import street_store

from harmscope.analysis.evaluation import value as v
from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.coverage import rate
from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.evaluate import evaluate_design, load_panels
from harmscope.analysis.evaluation.placebo import candidate_starts, plant

N = int(os.environ.get("HARMSCOPE_VALIDATE_VALUE_N", "1000"))
N_WILD = int(os.environ.get("HARMSCOPE_VALIDATE_VALUE_WILD_N", "1000"))
N_REAL = int(os.environ.get("HARMSCOPE_VALIDATE_VALUE_REAL_N", "200"))
IRR = 0.8


def _show(label: str, cov: dict) -> bool:
    ok = True
    for key, r in cov.items():
        lo, hi = r["mc_ci"]
        print(
            f"  {label:<28} {key:<22} {r['rate']:.1%} (MC SE {r['mc_se']:.1%}; "
            f"Wilson {lo:.1%}-{hi:.1%}; n {r['n']})"
        )
        nominal_se = (0.95 * 0.05 / r["n"]) ** 0.5  # the MC SE if coverage were exactly 95%
        if key == "covers_expected" and abs(r["rate"] - 0.95) > 3 * nominal_se:
            ok = False
    return ok


def simulated() -> bool:
    ok = True
    for label, kwargs, n in (
        ("ITS, AR(1) rho 0.3", {"design": "its"}, N),
        ("DiD, 10 treated (cluster)", {"design": "did", "g1": 10}, N),
        ("DiD, 3 treated (wild)", {"design": "did", "g1": 3}, N_WILD),
    ):
        t0 = time.perf_counter()
        runs = v.simulate_coverage(n, irr=IRR, seed=2026, **kwargs)
        bias = runs["averted_est"].mean() - runs["averted_realised"].mean()
        ok &= _show(label, v.coverage_summary(runs))
        print(
            f"  {label:<28} mean estimate - mean truth: {bias:+.1f} crimes "
            f"(truth mean {runs['averted_realised'].mean():.1f}); {time.perf_counter() - t0:.0f} s"
        )
    return ok


def real(store) -> bool:
    panels = load_panels(store)
    kent = sorted(panels.lsoa.loc[panels.lsoa["force"] == "Kent Police", "area"].unique())
    starts = candidate_starts(panels)
    rng = np.random.default_rng(20261)
    rows = []
    with single_thread():
        for i in range(N_REAL):
            areas = list(rng.choice(kent, 30, replace=False))
            start = starts[int(rng.integers(len(starts)))]
            design = Design("lsoa", areas, [a for a in kent if a not in set(areas)], "Kent Police")
            use = plant(panels, areas, start, 1 - IRR, rng)
            before = _post(panels.lsoa, areas, start)
            after = _post(use.lsoa, areas, start)
            for r in evaluate_design(
                use, design, start, methods=("did", "its"), details=False, seed=i
            ):
                if r.get("irr") is None:
                    continue
                obs = float(r["series"].loc[r["series"]["month"] >= start, "observed"].sum())
                row = v.value_row(
                    r, obs, cost=v.SIM_COST, unit_cost=v.SIM_UNIT_COST, harm_weight=None
                )
                lo, hi = row["crimes_averted_ci"]
                rows.append(
                    {
                        "method": r["method"],
                        "covers_expected": v._inside(obs * (1 / IRR - 1), lo, hi),
                        "covers_realised": v._inside(before - after, lo, hi),
                        "obs_matches": abs(obs - after) < 1e-6,
                    }
                )
    df = pd.DataFrame(rows)
    ok = bool(df["obs_matches"].all())
    for method, d in df.groupby("method"):
        cov = {k: rate(int(d[k].sum()), len(d)) for k in ("covers_expected", "covers_realised")}
        ok &= _show(f"Kent, 30 LSOAs, {method}", cov)
    return ok


def _post(lsoa: pd.DataFrame, areas, start) -> float:
    m = lsoa["area"].isin(set(areas)) & (lsoa["month"] >= start)
    return float(lsoa.loc[m, "count"].sum())


def main() -> int:
    print(f"Value-for-money interval coverage at a planted IRR of {IRR} (nominal 95%)")
    ok = simulated()
    with street_store("validate_value.duckdb") as store:
        ok &= real(store)
    print("PASS" if ok else "FAIL: a coverage lies more than 3 Monte Carlo SEs from 95%")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
