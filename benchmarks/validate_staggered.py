"""Validate the staggered (Callaway-Sant'Anna) evaluation's inference (run by `make validate`).

1. The R did package on mpdta: every ATT(g,t), aggregated effect and analytic SE (never and
   not-yet-treated controls), the bootstrap SEs within 10%.
2. False-positive rates on the real Kent data: HARMSCOPE_VALIDATE_STAGGERED_N (default 400)
   placebo schemes of 2, 4 and 6 Kent districts, each with a random start (2025-03, -05 or
   -07), no effect: the share called significant at 5% by the multiplier bootstrap, the
   analytic SE and randomization inference (the headline below 10 treated areas).
3. Coverage and detection on the real Kent data: HARMSCOPE_VALIDATE_STAGGERED_N / 2 schemes
   of 2, 4 and 6 districts with random starts and a 20% reduction planted from each start by
   binomial thinning (analysis.evaluation.placebo.plant): the share of 95% intervals (IRR)
   holding 0.8, and the share detected at 5%.

Exit 1 if the reference check fails or randomization inference's rate lies more than 3
Monte Carlo SEs (at 5%) above 5%.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import pandas as pd
from _common import street_store

from harmscope.analysis.evaluation import staggered as st
from harmscope.analysis.evaluation.design import _districts
from harmscope.analysis.evaluation.placebo import plant
from harmscope.store.queries.evaluation import load_panels

N = int(os.environ.get("HARMSCOPE_VALIDATE_STAGGERED_N", "400"))
STARTS = [pd.Timestamp(m) for m in ("2025-03-01", "2025-05-01", "2025-07-01")]


def reference() -> bool:
    ok = True
    for control in ("never", "notyet"):
        out = st.reference_check(control)
        worst = out["att_diff"].abs().max()
        se = (out["se_analytic_ratio"] - 1).abs().max()
        boot = out["se_bootstrap_ratio"]
        print(
            f"  mpdta, {control}: {len(out)} estimands, max |ATT - R| {worst:.1e}, "
            f"max |SE/R - 1| {se:.1e}, bootstrap SE / R {boot.min():.3f}-{boot.max():.3f}"
        )
        ok &= bool(worst < 1e-6 and se < 1e-6 and boot.between(0.9, 1.1).all())
    return ok


def placebos() -> bool:
    ok = True
    with street_store() as store:
        panel = load_panels(store).district
    kent = [a for a in _districts(panel).index if a.startswith("Kent Police / ")]
    for k in (2, 4, 6):
        t0 = time.time()
        r = st.placebo_rates(panel, kent, k, STARTS, runs=N, seed=k)
        line = ", ".join(
            f"{m} {r[m]['rate']:.1%} (MC SE {r[m]['mc_se']:.1%})"
            for m in ("bootstrap", "analytic", "randomization")
        )
        print(
            f"  {k} of {len(kent)} Kent districts, {N} placebos: {line} [{time.time() - t0:.0f}s]"
        )
        nominal = (0.05 * 0.95 / N) ** 0.5
        ok &= r["randomization"]["rate"] <= 0.05 + 3 * nominal
    return ok


def planted() -> bool:
    ok = True
    with street_store() as store:
        panels = load_panels(store)
    kent = [a for a in _districts(panels.district).index if a.startswith("Kent Police / ")]
    runs = max(N // 2, 1)
    for k in (2, 4, 6):
        rng = np.random.default_rng(100 + k)
        covered = detected = 0
        for i in range(runs):
            treated = rng.choice(kent, k, replace=False)
            starts = {a: STARTS[rng.integers(0, len(STARTS))] for a in treated}
            p = panels
            for area, month in starts.items():
                p = plant(p, [area], month, 0.2, rng, unit="district")
            data = st.unit_panel(p.district, starts, [a for a in kent if a not in starts])
            gt = st.att_gt(
                data, y="count", unit="area", time="month", group="group", draws=199, seed=i
            )
            row = st.window_effect(gt, data, "all", np.ones(len(gt.table), bool))
            lo, hi = row["irr_ci"] or (0.0, np.inf)
            covered += lo <= 0.8 <= hi
            detected += row["p_value"] <= 0.05
        cov, det = covered / runs, detected / runs
        se = (cov * (1 - cov) / runs) ** 0.5
        print(
            f"  {k} Kent districts, 20% planted, {runs} runs: coverage of IRR 0.8 {cov:.1%} "
            f"(MC SE {se:.1%}), detected {det:.1%}"
        )
        ok &= cov >= 0.95 - 3 * (0.05 * 0.95 / runs) ** 0.5
    return ok


if __name__ == "__main__":
    print("staggered DiD: reference check against R did 2.5.0")
    good = reference()
    print("staggered DiD: false-positive rates on real Kent districts")
    good &= placebos()
    print("staggered DiD: coverage with a planted 20% reduction (real Kent districts)")
    good &= planted()
    sys.exit(0 if good else 1)
