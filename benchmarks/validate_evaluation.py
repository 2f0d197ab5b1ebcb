"""Validate scheme evaluation on the real police data (run by `make validate`).

1. 200 placebo schemes (random sets of 30 untreated Kent LSOAs, random start month with >= 6
   months before and 3 after): false-positive rate at alpha 0.05 per method; must lie in 2-8%.
2. 100 schemes with a planted 20% reduction: coverage of the truth (IRR 0.8) and mean IRR.
3. 200 schemes with the DiD's own minimum detectable effect planted: detection rate (~80%).
4. District placebos: every Kent district x every admissible start, no effect planted.
5. The example register's minimum detectable effects (12 months before / 12 after, assumed).
6. California Proposition 99 (ADH 2010 Table 2), if its data are installed: fails unless our
   weights 'reproduce' Table 2 by the rule in prop99.RULE and California ranks 1 of 39.
7. Coverage on simulated data with planted truth, HARMSCOPE_VALIDATE_COVERAGE_N runs each
   (default 1,000; analysis.evaluation.coverage): ITS false-positive rate on AR(1) nulls
   (rho 0.3, 0.5) with quasi-Poisson (before), AR(1) (now) and Newey-West errors, and ITS
   coverage at a planted IRR 0.8; DiD with 3 and 6 treated areas: false-positive rate and
   coverage (IRR 0.8) of the cluster-robust, NB model-based and wild-bootstrap tests. Each rate
   with its Monte Carlo SE and Wilson 95% interval. Fails if the ITS (AR(1)) or wild-bootstrap
   false-positive rate is outside 2-8% or their coverage outside 92-98%.

The street data hold 2024-01..04 and 2025-01..12 (a gap in 2024): months are labelled periods.
Exit status 1 if a false-positive rate is outside 2-8% or the power check is outside 70-90%.
"""

from __future__ import annotations

import os
import sys
import time

import pandas as pd
from _common import street_store

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.design import Design, _districts
from harmscope.analysis.evaluation.evaluate import evaluate_design, load_panels
from harmscope.analysis.evaluation.placebo import candidate_starts, run_placebos, summarise
from harmscope.analysis.evaluation.register_power import register_power
from harmscope.analysis.intervals import wilson
from harmscope.sources.register import example_register_path, read_register

N_PLACEBO = int(os.environ.get("HARMSCOPE_VALIDATE_N", "200"))


def _in_range(r, key: str, low: float, high: float) -> tuple[bool, str]:
    """Whether the rate ``r[key]`` lies in [low, high], and the rate with its 95% CI as text."""
    lo, hi = r[f"{key}_ci"]
    return bool(low <= r[key] <= high), f"{r[key]:.1%} (95% CI {lo:.1%}-{hi:.1%})"


def _show(df: pd.DataFrame, cols: list[str]) -> None:
    print(df[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}"))


def district_placebos(panels) -> pd.DataFrame:
    d = panels.district
    big = _districts(d).index
    kent = sorted(a for a in big if a.startswith("Kent Police / "))
    rows = []
    for area in kent:
        pool = [a for a in kent if a != area]
        for start in candidate_starts(panels):
            res = evaluate_design(
                panels, Design("district", [area], pool, "Kent Police"), start, details=False
            )
            for r in res:
                if r.get("p_value") is None:
                    continue
                lo, hi = r["irr_ci"]
                rows.append(
                    {"method": r["method"], "sig": r["p_value"] < 0.05, "covers": lo <= 1 <= hi}
                )
    return pd.DataFrame(rows)


def prop99_check() -> bool:
    """Section 6: synthetic California beside ADH Table 2, placebos at the full search budget.

    Fails if the wording rule (prop99.RULE) does not give 'reproduces', if our pre-period MSPE
    is worse than the published weights' on the same data, or if California is not ranked 1st.
    """
    from harmscope.analysis.evaluation.prop99 import report_lines, reproduce, smoking_path

    if smoking_path() is None:
        print("   skipped: pip install --no-deps pyautocausal to get the data")
        return True
    r = reproduce(placebos=True, placebo_generations=60, placebo_polish_evals=None)
    for line in report_lines(r):
        print(f"   {line}")
    good = r["wording"] == "reproduces" and r["mspe"] <= r["mspe_published"] + 1e-6
    good &= r["rank"] == 1
    print(f"   {'OK' if good else 'FAIL: see the wording rule, MSPE and rank above'}")
    return bool(good)


N_COVERAGE = int(os.environ.get("HARMSCOPE_VALIDATE_COVERAGE_N", "1000"))


def _mc(r: dict) -> str:
    lo, hi = r["mc_ci"]
    return f"{r['rate']:.1%} (MC SE {r['mc_se']:.1%}; 95% {lo:.1%}-{hi:.1%}; n {r['n']})"


def _judge(r: dict, low: float, high: float) -> bool:
    inside = low <= r["rate"] <= high
    print(f"      {'OK' if inside else f'OUTSIDE {low:.0%}-{high:.0%}'}")
    return inside


def coverage_check(n: int = N_COVERAGE) -> bool:
    """Section 7: false-positive rates and coverage at >= 1,000 simulated runs (see top)."""
    from harmscope.analysis.evaluation import coverage as cv

    ok = True
    t = time.perf_counter()
    for rho, seed in ((0.3, 101), (0.5, 102)):
        null = cv.its_summary(cv.its_runs(n, rho=rho, seed=seed), planted=False)
        print(f"   ITS, no effect, AR(1) rho {rho} (seed {seed}): false-positive rate")
        for e, label in (
            ("quasi", "quasi-Poisson (before)"),
            ("ar1", "AR(1) errors (now)"),
            ("hac", "Newey-West HAC"),
        ):
            print(f"      {label:<24} {_mc(null[e])}")
        ok &= _judge(null["ar1"], 0.02, 0.08)
    cov = cv.its_summary(
        cv.its_runs(n, rho=0.5, irr=0.8, seed=103, errors=("quasi", "ar1")), planted=True
    )
    print("   ITS, planted IRR 0.80, rho 0.5 (seed 103): coverage of the 95% interval")
    for e in ("quasi", "ar1"):
        print(f"      {e:<24} {_mc(cov[e])}")
    ok &= _judge(cov["ar1"], 0.92, 0.98)
    for g1, seed in ((3, 201), (6, 202)):
        null = cv.did_summary(cv.did_runs(n, g1=g1, seed=seed), planted=False)
        cov = cv.did_summary(cv.did_runs(n, g1=g1, irr=0.8, seed=seed + 10), planted=True)
        print(f"   DiD, {g1} treated + {3 * g1} comparison areas (seeds {seed}, {seed + 10})")
        for k, label in (
            ("cluster", "cluster-robust, t G1-1"),
            ("cluster_z", "cluster-robust, normal"),
            ("nb_model", "NB model-based"),
            ("wild", "wild cluster bootstrap"),
        ):
            print(f"      {label:<24} false positives {_mc(null[k])}")
            print(f"      {'':<24} coverage at 0.80 {_mc(cov[k])}")
        ok &= _judge(null["wild"], 0.02, 0.08) & _judge(cov["wild"], 0.92, 0.98)
    print(f"   ({time.perf_counter() - t:.0f} s)")
    return ok


def main() -> int:
    ok = True
    store = street_store("validate.duckdb")
    t0 = time.perf_counter()
    with single_thread():
        panels = load_panels(store)
        print(f"1. {N_PLACEBO} placebo schemes (30 Kent LSOAs each, random start; seed 2026)")
        null = summarise(run_placebos(panels, N_PLACEBO, seed=2026, force="Kent Police"))
        _show(null, ["method", "runs", "significant_rate", "coverage", "mean_irr"])
        for r in null.to_dict(orient="records"):
            inside, rate = _in_range(r, "significant_rate", 0.02, 0.08)
            ok &= inside
            print(
                f"   {r['method']}: false-positive rate {rate} {'OK' if inside else 'OUTSIDE 2-8%'}"
            )

        print("\n2. 100 schemes with a planted 20% reduction (seed 77): truth IRR 0.80")
        planted = summarise(run_placebos(panels, 100, seed=77, reduction=0.2, force="Kent Police"))
        _show(planted, ["method", "runs", "detection_rate", "coverage", "mean_irr", "mean_mde"])

        print(f"\n3. {N_PLACEBO} schemes with the DiD minimum detectable effect planted (seed 31)")
        at_mde = summarise(
            run_placebos(panels, N_PLACEBO, seed=31, methods=("did",), reduction_at_mde=True, force="Kent Police")
        )
        r = at_mde.iloc[0]
        inside, rate = _in_range(r, "detection_rate", 0.70, 0.90)
        ok &= inside
        print(
            f"   detected {rate} at a mean MDE of {r['mean_mde']:.1%}; nominal 80% {'OK' if inside else 'OUTSIDE 70-90%'}"
        )

        print("\n4. District placebos: every Kent district x every admissible start (no effect)")
        dp = district_placebos(panels)
        for method, g in dp.groupby("method", sort=False):
            k, n = int(g["sig"].sum()), len(g)
            lo, hi = wilson(k, n)
            print(
                f"   {method}: {k}/{n} significant = {k / n:.1%} (95% CI {float(lo):.1%}-{float(hi):.1%}); coverage {g['covers'].mean():.1%}"
            )
        print("   (13 districts share months, so these runs are not independent: indicative only)")

        print(
            "\n5. Example register: minimum detectable reduction, 12 months before / 12 after (assumed)"
        )
        pw = register_power(store, read_register(example_register_path()))
        _show(
            pw.table,
            [
                "scheme",
                "unit",
                "n_areas",
                "baseline_per_month",
                "design_effect",
                "mde_did",
                "mde_synth",
            ],
        )

        print("\n6. California Proposition 99 (Abadie, Diamond & Hainmueller 2010, Table 2)")
        ok &= prop99_check()

        print(f"\n7. Coverage and false positives on simulated data ({N_COVERAGE} runs each)")
        ok &= coverage_check()
    print(f"\ntotal {time.perf_counter() - t0:.0f} s; {'PASS' if ok else 'FAIL'}")
    store.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
