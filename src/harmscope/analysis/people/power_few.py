"""The power few: share of harm held by the top 1/5/10% of offenders, victims and places."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harmscope.analysis.harm import gini, top_share
from harmscope.analysis.people._data import require_crimes, weights_cte
from harmscope.analysis.result import Result

TOP_PCTS = (1, 5, 10)


def bootstrap_top_shares(values, pcts, reps: int = 200, seed: int = 0, alpha=0.05) -> dict:
    """Basic (reverse-percentile) bootstrap interval for the top-``pct``% share.

    Units are resampled with replacement (multiplicities counted over the units sorted once,
    so a replicate costs O(n), not a sort; every ``pct`` uses the same replicates). The basic interval 2*theta - q is used, not
    the percentile one, because a resample's duplicated heavy units push the top share up:
    the percentile interval would sit above the estimate.
    """
    v = np.sort(np.asarray(values, float))[::-1]
    n = len(v)
    if n == 0 or v.sum() <= 0:
        return {p: (math.nan, [None, None]) for p in pcts}
    ks = {p: max(1, math.ceil(n * p / 100)) for p in pcts}
    kmax = max(ks.values())
    rng = np.random.default_rng(seed)
    reps_out = {p: np.empty(reps) for p in pcts}
    for b in range(reps):
        # Multiplicities of the units sorted once (bincount of n draws: no sort); only the
        # prefix of units that can reach the top k needs a cumulative sum.
        idx = rng.integers(0, n, n)
        total = float(v[idx].sum())
        m = np.bincount(idx, minlength=n)
        prefix = min(n, 2 * kmax + 64)
        cm = np.cumsum(m[:prefix])
        while cm[-1] < kmax and prefix < n:  # rare: extend the prefix
            prefix = min(n, prefix * 2)
            cm = np.cumsum(m[:prefix])
        mp, vp = m[:prefix], v[:prefix]
        for p, k in ks.items():
            take = np.minimum(mp, np.maximum(0, k - (cm - mp)))  # units counted in the top k
            reps_out[p][b] = float(vp @ take) / total if total > 0 else np.nan
    out = {}
    for p in pcts:
        theta = top_share(v, p)
        lo_q, hi_q = np.nanquantile(reps_out[p], [alpha / 2, 1 - alpha / 2])
        out[p] = (theta, [float(max(0.0, 2 * theta - hi_q)), float(min(1.0, 2 * theta - lo_q))])
    return out


def _harm_per_person(store, role: str, cte: str, params: dict) -> np.ndarray:
    # Only the sums come back: pseudonyms stay in the engine.
    return store.query(
        f"""WITH {cte} SELECT sum(coalesce(w.weight, 0)) AS harm
        FROM persons_in_crimes p JOIN crimes c USING (crime_id)
        LEFT JOIN w ON w.code = c.offence_code WHERE p.role = $role GROUP BY p.person_id""",
        {**params, "role": role},
    ).harm.to_numpy()


def power_few(store, *, scheme: str = "css", reps: int = 200, seed: int = 0) -> Result:
    """Harm concentration over offenders, victims and places (LSOAs), with bootstrap CIs."""
    require_crimes(store)
    cte, params = weights_cte(scheme)
    units = {
        "offenders": _harm_per_person(store, "offender", cte, params),
        "victims": _harm_per_person(store, "victim", cte, params),
        "places": store.query(
            f"""WITH {cte} SELECT c.lsoa_code, sum(coalesce(w.weight, 0)) AS harm
            FROM crimes c LEFT JOIN w ON w.code = c.offence_code
            WHERE c.lsoa_code IS NOT NULL GROUP BY 1""",
            params,
        ).harm.to_numpy(),
    }
    rows = []
    summary: dict = {}
    for unit, harm in units.items():
        boot = bootstrap_top_shares(harm, TOP_PCTS, reps=reps, seed=seed)
        for pct in TOP_PCTS:
            share, ci = boot[pct]
            rows.append(
                {
                    "unit": unit,
                    "top_pct": pct,
                    "units": len(harm),
                    "units_in_top": max(1, math.ceil(len(harm) * pct / 100)) if len(harm) else 0,
                    "harm_share": share,
                    "harm_share_low": ci[0],
                    "harm_share_high": ci[1],
                }
            )
            name = {"offenders": "power_few", "victims": "victim", "places": "place"}[unit]
            summary[f"{name}_share_top{pct}pct"] = share
            summary[f"{name}_share_top{pct}pct_ci"] = ci
        summary[f"{unit}_gini"] = gini(harm) if len(harm) else None
        summary[f"{unit}_count"] = len(harm)
    summary["scheme"] = scheme
    method = (
        f"Harm ({scheme.upper()} code-level weights) is summed per offender, per victim "
        "(keyed pseudonyms, so one person is one unit across crimes) and per LSOA; the share "
        "held by the top 1%, 5% and 10% of units (ceil(p x n) units, ranked by harm) is "
        f"reported with a {reps}-replicate basic bootstrap interval resampling units. "
        "Assumptions: only crimes with an identified offender count for offenders; a person "
        "recorded under two identifiers counts twice (splitting concentration), two people "
        "under one identifier once. Uncertainty: the interval covers resampling of units, "
        "not recording error or the weights' ranges; top shares of small groups are unstable."
    )
    return Result(table=pd.DataFrame(rows), summary=summary, method=method)
