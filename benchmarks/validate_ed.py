"""Validate the ED true-picture statistics against truth planted by seeded simulations.

Run: .venv/bin/python benchmarks/validate_ed.py   (or `make validate`)

The simulations are calibrated on the real Kent police street files in ../shared/data
(violence counts by district x month). Prints, for each check, the figure and its target:

1. Chapman capture-recapture: share of 200 seeded repetitions whose 95% Chao interval covers
   the true number of victims (target >= 0.90), with planted under-reporting that varies by
   place, age and weapon (police capture heterogeneous, ED capture homogeneous).
2. The same for 200 textbook closed populations (N = 2000 and N = 300).
3. Reporting rates: share of district x repetition Wilson intervals covering the planted
   district rate (target about 0.95).
4. Hidden hotspots: share of planted hotspots found (power) and share of other districts
   flagged (false discovery), at FDR 0.05.
5. End to end on 10 seeds: ISTV CSV with messy records -> ingest (pseudonymised) -> true
   picture; interval covers the truth and the planted hotspots are the ones found.
6. What breaks it: positive dependence between the sources (an assumption failing) and the
   coverage it leaves.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _common import SHARED, kent_street_files

from harmscope.analysis.capture_recapture import chapman
from harmscope.analysis.intervals import wilson
from harmscope.analysis.linkage import hidden_hotspot_test, true_picture
from harmscope.simulate.ed import (
    police_volumes,
    simulate_ed,
    simulate_population_only,
    write_ed_csv,
    write_police_csv,
)
from harmscope.sources.ed import ingest_ed, ingest_police_victims
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store

KEY = b"validate-ed-key-0123456789"
REPS = 200
E2E = 10


def kent_store(path: Path) -> Store:
    store = Store.open(path)
    files = kent_street_files()
    if not files:
        sys.exit(f"no Kent street files under {SHARED}")
    ingest_paths(store, files, quiet=True)
    return store


def hotspot_tally(sim, lads: list, police_by_lad) -> np.ndarray:
    """Planted hotspots found, planted, other districts flagged, other districts (FDR 0.05)."""
    pop = sim.population
    ed_by_lad = pop[pop.in_ed].groupby("lad_code").size().reindex(lads, fill_value=0)
    _, q, expected = hidden_hotspot_test(ed_by_lad.to_numpy(), police_by_lad.to_numpy())
    flagged = {
        lad
        for lad, qq, e, o in zip(lads, q, expected, ed_by_lad, strict=True)
        if qq < 0.05 and o > e
    }
    planted = set(sim.truth["hidden_hotspots"])
    return np.array(
        [len(flagged & planted), len(planted), len(flagged - planted), len(lads) - len(planted)]
    )


def check(label: str, value: float, target: float) -> bool:
    ok = value >= target
    print(f"   {label}: {value:.3f} (target >= {target}) {'PASS' if ok else 'FAIL'}")
    return ok


def main() -> int:
    t0 = time.perf_counter()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        store = kent_store(Path(tmp) / "kent.duckdb")
        volumes = police_volumes(store)
        police_by_lad = volumes.groupby("lad_code").n.sum()
        lads = list(police_by_lad.index)

        print(
            f"1-4. {REPS} seeded repetitions calibrated on Kent violence "
            f"({int(volumes.n.sum()):,} police records, {len(lads)} districts, "
            f"{volumes.month.nunique()} months)"
        )
        covered = 0
        widths = []
        rate_cov = rate_n = 0
        tally = np.zeros(4, dtype=int)
        for seed in range(REPS):
            sim = simulate_ed(volumes, seed=seed, istv=False)
            pop = sim.population
            ed, pol = pop.in_ed.to_numpy(), pop.in_police.to_numpy()
            est = chapman(ed.sum(), pol.sum(), (ed & pol).sum())
            covered += est.ci[0] <= len(pop) <= est.ci[1]
            widths.append((est.ci[1] - est.ci[0]) / len(pop))
            for lad, g in pop[pop.in_ed].groupby("lad_code"):
                lo, hi = wilson(int(g.in_police.sum()), len(g))
                truth = pop.loc[pop.lad_code == lad, "r"].mean()
                rate_cov += lo <= truth <= hi
                rate_n += 1
            tally += hotspot_tally(sim, lads, police_by_lad)
        found, planted_n, false_pos, others_n = tally.tolist()
        print(f"1. Chapman (Chao interval), mean relative width {np.mean(widths):.3f}")
        results.append(check("coverage of the true number of victims", covered / REPS, 0.90))
        print("2. Textbook closed populations")
        for n, p1, p2 in ((2000, 0.4, 0.3), (300, 0.3, 0.2)):
            cov = 0
            for seed in range(REPS):
                e = chapman(*simulate_population_only(n, p1, p2, seed))
                cov += e.ci[0] <= n <= e.ci[1]
            results.append(check(f"coverage N={n}, p=({p1}, {p2})", cov / REPS, 0.90))
        print("3. Reporting rate by district (Wilson 95%)")
        results.append(check("coverage of the planted district rate", rate_cov / rate_n, 0.90))
        print("4. Hidden hotspots (exact binomial test, BH-FDR 0.05)")
        results.append(check("planted hotspots found (power)", found / planted_n, 0.90))
        fp = false_pos / others_n
        print(f"   other districts flagged: {fp:.3f} (should be near 0)")
        results.append(fp <= 0.05)

        print("4b. Power for a weaker planted effect (hidden_factor 1.3, 100 repetitions)")
        tally = np.zeros(4, dtype=int)
        for seed in range(100):
            sim = simulate_ed(volumes, seed=5000 + seed, istv=False, hidden_factor=1.3)
            tally += hotspot_tally(sim, lads, police_by_lad)
        found, planted_n, false_pos, others_n = tally.tolist()
        print(
            f"   planted hotspots found: {found / planted_n:.3f}; other districts flagged: "
            f"{false_pos / others_n:.3f} (informative, no target)"
        )

        print(f"5. End to end (messy ISTV CSV -> ingest -> true picture), {E2E} seeds")
        store.execute("CHECKPOINT")
        e2e_cov = e2e_hot = 0
        for seed in range(E2E):
            db = Path(tmp) / f"e2e{seed}.duckdb"
            shutil.copy(Path(tmp) / "kent.duckdb", db)  # the police data, checkpointed above
            e2e = Store.open(db)
            sim = simulate_ed(volumes, seed=1000 + seed)
            ed_csv = write_ed_csv(sim, Path(tmp) / f"ed{seed}.csv")
            pol_csv = write_police_csv(sim, Path(tmp) / f"pol{seed}.csv")
            ingest_ed(e2e, ed_csv, key=KEY)
            ingest_police_victims(e2e, pol_csv, key=KEY)
            res = true_picture(e2e)
            lo, hi = res.summary["capture_N_ci"]
            hit = lo <= sim.truth["population"] <= hi
            got = set(res.table.loc[res.table.hidden_hotspot, "area_code"])
            same = got == set(sim.truth["hidden_hotspots"])
            e2e_cov += hit
            e2e_hot += same
            print(
                f"   seed {1000 + seed}: N {res.summary['capture_N']:,.0f} ({lo:,.0f}-{hi:,.0f}) "
                f"truth {sim.truth['population']:,}; hotspots {'match' if same else sorted(got)}"
            )
            e2e.close()
        results.append(check("end-to-end coverage", e2e_cov / E2E, 0.8))
        results.append(check("end-to-end hotspots exactly recovered", e2e_hot / E2E, 0.8))

        print("6. When an assumption fails: positive dependence between ED and police")
        rng = np.random.default_rng(7)
        cov = 0
        for _ in range(REPS):
            n = 3000
            frail = rng.random(n) < 0.3
            a = rng.random(n) < np.where(frail, 0.8, 0.25)
            b = rng.random(n) < np.where(frail, 0.7, 0.15)
            e = chapman(a.sum(), b.sum(), (a & b).sum())
            cov += e.ci[0] <= n <= e.ci[1]
        print(
            f"   coverage with dependence: {cov / REPS:.3f} (expected far below 0.95: "
            "the estimate is biased down, as the method text warns)"
        )
        store.close()
    print(f"\n{sum(results)}/{len(results)} checks passed in {time.perf_counter() - t0:.0f} s")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
