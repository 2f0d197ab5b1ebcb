"""Validate the early-warning alerts (run by `make validate`).

1. Simulated negative-binomial series (seeded): the false-alert rate with no change, and how
   often a planted step is flagged within two months (exceedance or CUSUM).
2. The real Kent series (2024-01..04, 2025-01..12), unaltered: the alarm rate per judged
   area-month, against alpha. Real series hold real changes and seasonality, so this is an
   upper bound on the false-alert rate.
3. The real district series with a planted step (+50% of the expected count from a chosen
   month, Poisson noise added): share flagged within two months.
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
from _common import kent_street_files

from harmscope.analysis.trends import AlertSettings, alerts, judge_matrix
from harmscope.analysis.trends import _monthly_cube as monthly_cube
from harmscope.sources.ingest import ingest_paths
from harmscope.store import Store


def months_2y() -> list[date]:
    return [date(2024 + (m // 12), m % 12 + 1, 1) for m in range(24)]


def simulate(n_series: int, mean: float, size: float, step: float, step_at: int, seed: int):
    """NB counts (mean, dispersion `size`) over 24 months; from `step_at` the mean is x(1+step)."""
    rng = np.random.default_rng(seed)
    mu = np.full((n_series, 24), float(mean))
    mu[:, step_at:] *= 1 + step
    p = size / (size + mu)
    return rng.negative_binomial(size, p)


def detection(y, months, step_at: int, s: AlertSettings) -> tuple[float, float, float]:
    m = judge_matrix(y, months, s)
    flag = m["alarm"] | m["cusum_alarm"]
    within2 = flag[:, step_at : step_at + 2].any(axis=1).mean()
    exceed_only = m["alarm"][:, step_at : step_at + 2].any(axis=1).mean()
    before = m["alarm"][:, 6:step_at]
    return float(within2), float(exceed_only), float(before.mean())


def simulated(seed: int = 2026, n: int = 2000) -> dict:
    s = AlertSettings()
    months = months_2y()
    out = {}
    for mean, size in ((10, 20.0), (50, 20.0), (200, 50.0)):
        null = simulate(n, mean, size, 0.0, 24, seed)
        m = judge_matrix(null, months, s)
        judged = m["baseline"][0] != "too short"
        rate = m["alarm"][:, judged].mean()
        cusum_rate = m["cusum_alarm"][:, judged].mean()
        for step in (0.5, 1.0):
            y = simulate(n, mean, size, step, 18, seed + 1)
            w2, ex, _ = detection(y, months, 18, s)
            out[f"mean {mean}, step +{step:.0%}"] = (w2, ex)
        out[f"mean {mean}, null"] = (rate, cusum_rate)
    return out


def real(store) -> dict:
    res = {}
    for level in ("district", "lsoa_cluster"):
        r = alerts(store, level=level, weight="none")
        res[level] = (
            r.summary["alarm_rate"],
            r.summary["alarm_rate_ci"],
            r.summary["judged_area_months"],
        )
    # planted step on the real district violence series
    cube, months = monthly_cube(store, "district", ["Violence and sexual offences"])
    wide = cube.pivot_table(index="area", columns="month", values="count").reindex(columns=months)
    y = wide.to_numpy().astype(float)
    s = AlertSettings()
    base = judge_matrix(y, months, s)
    rng = np.random.default_rng(7)
    results = {}
    for start in (date(2025, 8, 1), date(2025, 10, 1)):
        t0 = months.index(start)
        for step in (0.25, 0.5):
            yy = y.copy()
            add = rng.poisson(step * np.nan_to_num(base["expected"][:, t0:], nan=0.0))
            yy[:, t0:] += add
            m = judge_matrix(yy, months, s)
            flag = (m["alarm"] | m["cusum_alarm"])[:, t0 : t0 + 2].any(axis=1)
            results[f"step +{step:.0%} from {start:%Y-%m}"] = (
                float(flag.mean()),
                int(flag.sum()),
                len(flag),
            )
    res["planted"] = results
    return res


def main() -> int:
    t0 = time.perf_counter()
    print("1. Simulated NB series, 2000 per setting, seed 2026; alpha 0.05 (one-sided)")
    for k, v in simulated().items():
        if "null" in k:
            print(f"   {k}: exceedance alarm rate {v[0]:.3f}, CUSUM alarm rate {v[1]:.3f}")
        else:
            print(
                f"   {k} at month 19: flagged within two months {v[0]:.3f} (exceedance alone {v[1]:.3f})"
            )
    with tempfile.TemporaryDirectory() as tmp:
        with Store.open(Path(tmp) / "kent.duckdb") as store:
            ingest_paths(store, kent_street_files(), quiet=True)
            res = real(store)
    print(
        "2. Real Kent series, unaltered (alarm rate per judged area-month; real changes included)"
    )
    for level in ("district", "lsoa_cluster"):
        rate, ci, n = res[level]
        print(
            f"   {level}: {rate:.3f} (95% CI {ci[0]:.3f}-{ci[1]:.3f}) over {n:,} area-months; alpha 0.05"
        )
    print("3. Real district violence series with a planted step (+x% of expected, Poisson noise)")
    for k, (share, hit, n) in res["planted"].items():
        print(f"   {k}: flagged within two months in {hit}/{n} districts ({share:.0%})")
    print(f"({time.perf_counter() - t0:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
