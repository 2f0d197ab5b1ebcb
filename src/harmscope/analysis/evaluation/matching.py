"""Comparison areas matched on pre-period level, trend, deprivation and rurality."""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError

FEATURES = ("pre_level", "pre_trend", "imd_decile", "rural_share")


def pre_features(panel: pd.DataFrame, start: pd.Timestamp, covariates: pd.DataFrame | None):
    """Per area: mean monthly count and linear trend (count per month) before ``start``."""
    pre = panel[panel["month"] < start]
    if pre["month"].nunique() < 3:
        raise HarmscopeError(
            f"only {pre['month'].nunique()} months of data before {start:%Y-%m}",
            where="start",
            fix="choose a later start month, or ingest earlier months (at least 3 are needed)",
        )
    # Real elapsed months, so the 2024-05..12 gap stretches the time axis rather than vanishing.
    t = (pre["month"].dt.year * 12 + pre["month"].dt.month).astype(float)
    pre = pre.assign(t=t, ty=t * pre["count"], tt=t * t)
    g = pre.groupby("area")
    s = g[["count", "t", "ty", "tt"]].sum()
    n = g.size()
    # OLS slope from sums: (sum ty - sum t sum y / n) / (sum tt - (sum t)^2 / n)
    slope = (s["ty"] - s["t"] * s["count"] / n) / (s["tt"] - s["t"] ** 2 / n).replace(0, np.nan)
    feats = pd.DataFrame({"pre_level": s["count"] / n, "pre_trend": slope})
    feats = feats.join(panel.groupby("area")[["force", "district"]].first())
    if covariates is not None and not covariates.empty:
        feats = feats.join(
            covariates.set_index("area")[["imd_decile", "rural_share", "lat", "lon"]]
        )
    for col in ("imd_decile", "rural_share", "lat", "lon"):
        if col not in feats:
            feats[col] = np.nan
    return feats


def _smd(a: pd.Series, b: pd.Series) -> float:
    a, b = a.dropna(), b.dropna()
    if len(a) == 0 or len(b) == 0:
        return float("nan")
    if len(a) < 2:  # one treated area: measure the gap in the pool's spread
        sd = b.std(ddof=1) if len(b) > 1 else 0.0
    else:
        sd = np.sqrt((a.var(ddof=1) + (b.var(ddof=1) if len(b) > 1 else 0.0)) / 2)
    return float((a.mean() - b.mean()) / sd) if sd > 0 else 0.0


def match_comparisons(
    feats: pd.DataFrame,
    treated: list[str],
    *,
    k: int = 3,
    exclude_within_m: float = 1000.0,
    pool: list[str] | None = None,
    balance: bool = True,
) -> tuple[list[str], pd.DataFrame | None]:
    """Greedy nearest-neighbour matching without replacement (Mahalanobis distance).

    Candidates within ``exclude_within_m`` metres of a treated area are left out, since a
    scheme's effect (or displacement) can spill over its edge. Features missing for the
    treated areas (for example deprivation outside the packaged tables) are dropped from the
    distance, and that is said in the balance table.

    Returns (comparison areas, balance table with standardised mean differences; None
    without ``balance``). Rows are picked by position (placebo runs match hundreds of times).
    """
    treated = [a for a in treated if a in feats.index]
    if not treated:
        raise HarmscopeError(
            "none of the scheme's areas has data in the store",
            where="areas",
            fix="check the area codes against `harmscope schemes --show NAME`, or ingest the area's force",
        )
    tpos = feats.index.get_indexer(treated)
    keep = np.ones(len(feats), dtype=bool)
    keep[tpos] = False
    if pool is not None:
        keep &= feats.index.isin(pool)
    lat, lon = (np.radians(feats[c].to_numpy(dtype=float)) for c in ("lat", "lon"))
    if exclude_within_m and (~np.isnan(lat[tpos])).any():
        c = np.flatnonzero(keep)
        lat0, lon0 = lat[tpos], lon[tpos]
        lat1, lon1 = lat[c][:, None], lon[c][:, None]
        x = (lon1 - lon0) * np.cos((lat1 + lat0) / 2)
        d = 6_371_000 * np.sqrt(x**2 + (lat1 - lat0) ** 2)
        keep[c[np.nan_to_num(d, nan=np.inf).min(axis=1) < exclude_within_m]] = False
    # A feature is used when most treated areas have it (2021-only LSOA codes have no 2011
    # deprivation or rurality); the few gaps are filled with the pool's mean.
    used = [f for f in FEATURES if (~np.isnan(feats[f].to_numpy(dtype=float)[tpos])).mean() >= 0.7]
    keep &= feats["pre_level"].notna().to_numpy() & feats["pre_trend"].notna().to_numpy()
    cpos = np.flatnonzero(keep)
    fill = feats[used].iloc[cpos].mean()
    if len(cpos) < k * len(treated):
        raise HarmscopeError(
            f"only {len(cpos)} candidate comparison areas for {len(treated)} treated areas x k={k}",
            where="comparison pool",
            fix="lower k, widen the pool (ingest comparison forces), or use synthetic control",
        )
    filled = feats[used].fillna(fill).to_numpy(dtype=float)
    xt, xc = filled[tpos], filled[cpos]
    allx = np.vstack([xt, xc])
    cov = np.cov(allx, rowvar=False) + 1e-9 * np.eye(len(used))
    inv = np.linalg.pinv(cov)
    diff = xt[:, None, :] - xc[None, :, :]
    dist = np.einsum("ijk,kl,ijl->ij", diff, inv, diff)
    chosen: list[int] = []
    taken = np.zeros(len(cpos), dtype=bool)
    # Round-robin so every treated area gets its nearest free neighbour in turn.
    for _ in range(k):
        for i in range(len(treated)):
            row = np.where(taken, np.inf, dist[i])
            j = int(np.argmin(row))
            taken[j] = True
            chosen.append(j)
    comps = list(feats.index[cpos[chosen]])
    if not balance:
        return comps, None
    return comps, _balance(feats, treated, comps, feats.index[cpos], used, fill)


def _balance(feats, treated, comps, cand_index, used, fill) -> pd.DataFrame:
    """Standardised mean differences before (treated against the candidates) and after
    matching (against the comparisons chosen); gaps in the used features filled as matched."""
    feats = feats.copy()
    feats[used] = feats[used].fillna(fill)
    cand = feats.loc[cand_index]
    rows = []
    for f in FEATURES:
        rows.append(
            {
                "feature": f,
                "used_in_matching": f in used,
                "treated_mean": float(feats.loc[treated, f].mean()),
                "pool_mean": float(cand[f].mean()) if f in cand else float("nan"),
                "matched_mean": float(feats.loc[comps, f].mean()),
                "smd_before": _smd(feats.loc[treated, f], cand[f]),
                "smd_after": _smd(feats.loc[treated, f], feats.loc[comps, f]),
            }
        )
    return pd.DataFrame(rows)
