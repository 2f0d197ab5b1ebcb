"""Longer validations of the harm statistics against ground truth planted by seeded simulations.

Run: .venv/bin/python benchmarks/validate_harm.py   (or `make validate`)
Prints, for each check, the figure and what it should be close to:

1. Coverage of the Fay-Feuer interval for harm (weighted Poisson sums) over several weight
   mixes and count sizes: at least 95% (the interval is known to be conservative).
2. Coverage of the log-scale interval for the same-period harm ratio (harm_trend).
3. Empirical-Bayes smoothing on the real Kent and Medway LSOA populations with planted gamma
   rates: mean squared error of smoothed against raw rates (smoothing should cut it), and
   agreement with esda.
4. Concentration: how much of the Poisson-noise inflation of the Gini the bootstrap
   correction removes, at several crime densities.
"""

from __future__ import annotations

import numpy as np
from esda.smoothing import Empirical_Bayes

from harmscope.analysis.harm import log_ratio_ci, weighted_poisson_ci
from harmscope.analysis.harm.concentration import _bootstrap, gini
from harmscope.analysis.harm.smoothing import eb_global
from harmscope.reference import load_lad, load_lsoa11
from harmscope.reference.offences import load_weights

SEED = 20250101


def fay_feuer_coverage(rng) -> None:
    print("1. Fay-Feuer interval coverage for harm = Σ weight × Poisson count (target >= 0.95)")
    css = load_weights("css").set_index("category").weight.to_numpy()
    mixes = {
        "CSS categories": css,
        "CCHI categories": load_weights("chi").set_index("category").weight.to_numpy(),
    }
    for name, w in mixes.items():
        for scale in (0.05, 0.5, 5.0, 50.0):
            mu = np.full(len(w), scale)
            truth = float((w * mu).sum())
            n = rng.poisson(mu, size=(20000, len(w)))
            lo, hi = weighted_poisson_ci(n @ w, n @ (w * w), np.full(20000, w.max()))
            cov = np.mean((lo <= truth) & (truth <= hi))
            print(f"   {name:<16} mean count per category {scale:>5}: coverage {cov:.4f}")


def ratio_coverage(rng) -> None:
    print("2. Same-period harm ratio, delta-method log interval (target about 0.95)")
    w = load_weights("css").set_index("category").weight.to_numpy()
    for scale in (5.0, 50.0, 500.0):
        mu1 = np.full(len(w), scale)
        mu0 = mu1 * 1.1
        truth = (w * mu1).sum() / (w * mu0).sum()
        n1 = rng.poisson(mu1, size=(20000, len(w)))
        n0 = rng.poisson(mu0, size=(20000, len(w)))
        _, lo, hi = log_ratio_ci(n1 @ w, n1 @ (w * w), n0 @ w, n0 @ (w * w))
        cov = np.nanmean((lo <= truth) & (truth <= hi))
        print(f"   mean count per category {scale:>5}: coverage {cov:.4f}")


def eb_check(rng) -> None:
    print("3. Empirical-Bayes smoothing on the Kent and Medway LSOA populations, planted rates")
    lad = load_lad()
    codes = set(lad.loc[lad.force == "Kent Police", "lad_code"])
    ref = load_lsoa11()
    pop = ref.loc[ref.lad_code.isin(codes), "population_2019"].to_numpy(float)
    for label, mean_rate, shape in (
        ("one month of robbery", 0.00008, 2.0),
        ("one month of violence", 0.004, 4.0),
    ):
        mse_raw, mse_eb, max_diff = [], [], 0.0
        for _ in range(200):
            theta = rng.gamma(shape, mean_rate / shape, len(pop))
            y = rng.poisson(theta * pop)
            out = eb_global(y, pop)
            esda_r = Empirical_Bayes(y, pop).r.ravel()
            if out["A_unfloored"] > 0:
                max_diff = max(max_diff, float(np.max(np.abs(out["rate"] - esda_r))))
            mse_raw.append(np.mean((y / pop - theta) ** 2))
            mse_eb.append(np.mean((out["rate"] - theta) ** 2))
        print(
            f"   {label:<22} ({len(pop)} LSOAs, 200 runs): MSE smoothed/raw = "
            f"{np.mean(mse_eb) / np.mean(mse_raw):.3f} (below 1 = smoothing helps); "
            f"max |ours - esda| where A > 0: {max_diff:.2e}"
        )


def concentration_check(rng) -> None:
    print("4. Gini of recorded crime against the Gini of the planted risk (lognormal, sigma 1)")
    for mean in (0.5, 2.0, 10.0, 100.0):
        rows = []
        for _ in range(20):
            mu = rng.lognormal(0, 1, 2000)
            mu *= mean / mu.mean()
            counts = rng.poisson(mu).astype(float)
            obs = gini(counts)
            boot = _bootstrap(counts, np.ones_like(counts), 100, int(rng.integers(1 << 30)))[:, 0]
            rows.append((gini(mu), obs, 2 * obs - boot.mean()))
        t, o, e = np.array(rows).mean(axis=0)
        share = (o - e) / (o - t) if o != t else float("nan")
        print(
            f"   mean crimes per place {mean:>6}: true {t:.3f}, recorded {o:.3f}, "
            f"corrected {e:.3f} (removes {share:.0%} of the inflation)"
        )


def main() -> None:
    rng = np.random.default_rng(SEED)
    fay_feuer_coverage(rng)
    ratio_coverage(rng)
    eb_check(rng)
    concentration_check(rng)


if __name__ == "__main__":
    main()
