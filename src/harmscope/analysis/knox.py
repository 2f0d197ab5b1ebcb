"""Near-repeat (Knox) test for events with exact dates: stop and search, ED records, force extracts.

For each distance band x time band, count the pairs of events that close in both; compare
with the same count after shuffling the dates among the events (which keeps both the spatial
pattern and the time profile but breaks their link). Ratio = observed / mean of the shuffles,
Monte Carlo p = (1 + #{shuffled >= observed}) / (iterations + 1) (Johnson et al. 2007; the
Near Repeat Calculator, Ratcliffe 2009). Street-level police.uk data carry only the month, so
the test is not offered for them.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from harmscope.analysis.grid import to_bng
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError


def _bands(edges: list[float], name: str) -> np.ndarray:
    e = np.asarray(edges, dtype=float)
    if len(e) < 1 or np.any(np.diff(e) <= 0) or e[0] <= 0:
        raise HarmscopeError(
            f"{name} bands must be increasing positive upper limits",
            where=name,
            fix="e.g. 100,200,400",
        )
    return e


def knox_table(
    x: np.ndarray,
    y: np.ndarray,
    t_days: np.ndarray,
    *,
    distance_bands: list[float] = (200, 400, 800),
    time_bands: list[float] = (7, 14, 28),
    iterations: int = 999,
    seed: int | None = None,
    same_incident_hours: float = 0.0,
) -> pd.DataFrame:
    """Knox table: one row per distance band x time band with observed, expected, ratio and p.

    Band limits are inclusive upper limits (0 < d <= 200, 200 < d <= 400, ...); pairs further
    apart than the last band are not counted (they do not change the test within the bands).
    """
    d_edges = _bands(list(distance_bands), "distance_bands")
    t_edges = _bands(list(time_bands), "time_bands")
    x, y, t = (np.asarray(v, dtype=float) for v in (x, y, t_days))
    if len(x) < 3:
        raise HarmscopeError(f"the Knox test needs at least 3 events, got {len(x)}", where="knox")
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(d_edges[-1], output_type="ndarray")
    if len(pairs) == 0:
        raise HarmscopeError(
            "no pairs of events within the largest distance band",
            where="distance_bands",
            fix="use wider bands",
        )
    i, j = pairs[:, 0], pairs[:, 1]
    d = np.hypot(x[i] - x[j], y[i] - y[j])
    # several people searched together are one incident, not a repeat: drop such pairs from
    # the pair list, for the observed and every shuffled count alike
    same = (d < 1.0) & (np.abs(t[i] - t[j]) <= same_incident_hours / 24.0)
    i, j, d = i[~same], j[~same], d[~same]
    dbin = np.searchsorted(d_edges, d, side="left")  # 0..len-1 (all d <= last edge)
    nd, nt = len(d_edges), len(t_edges)

    def counts(tt: np.ndarray) -> np.ndarray:
        dt = np.abs(tt[i] - tt[j])
        tbin = np.searchsorted(t_edges, dt, side="left")
        ok = tbin < nt
        return np.bincount(dbin[ok] * nt + tbin[ok], minlength=nd * nt)

    observed = counts(t)
    rng = np.random.default_rng(seed)
    # reshaped so that zero iterations still give one (empty) column per cell
    sims = np.array([counts(rng.permutation(t)) for _ in range(iterations)], dtype=float)
    sims = sims.reshape(iterations, nd * nt)
    ge = (sims >= observed).sum(axis=0)
    expected = sims.sum(axis=0) / iterations
    d_lo = np.r_[0, d_edges[:-1]]
    t_lo = np.r_[0, t_edges[:-1]]
    rows = []
    for a in range(nd):
        for b in range(nt):
            k = a * nt + b
            rows.append(
                {
                    "distance_band": f"{d_lo[a]:g}-{d_edges[a]:g} m",
                    "time_band": f"{t_lo[b]:g}-{t_edges[b]:g} days",
                    "observed": int(observed[k]),
                    "expected": float(expected[k]),
                    "ratio": float(observed[k] / expected[k]) if expected[k] > 0 else np.nan,
                    "p": float((1 + ge[k]) / (iterations + 1)),
                    "expected_lo": float(np.percentile(sims[:, k], 2.5)),
                    "expected_hi": float(np.percentile(sims[:, k], 97.5)),
                }
            )
    out = pd.DataFrame(rows)
    out.attrs["same_incident_pairs"] = int(same.sum())
    return out


# Each source: table, time expression (days since 1970), its month column, and a label.
SOURCES = {
    "stop_search": (
        "stop_searches",
        "epoch(datetime) / 86400.0",
        "month",
        "stop-and-search records",
    ),
    # ED: the assault time when recorded, else the assault (or arrival) date at midday
    "ed": (
        "ed_assaults",
        "coalesce(epoch(assault_at), epoch(assault_date::TIMESTAMP) + 43200) / 86400.0",
        "month",
        "ED assault attendances",
    ),
}


def knox_store(
    store,
    *,
    source: str = "stop_search",
    date_from: date | None = None,
    date_to: date | None = None,
    distance_bands: list[float] = (200, 400, 800),
    time_bands: list[float] = (7, 14, 28),
    iterations: int = 999,
    seed: int | None = None,
    alpha: float = 0.05,
    same_incident_hours: float | None = None,
) -> Result:
    """Knox test on located, dated records in the store: stop and search or ED assaults."""
    if source not in SOURCES:
        raise HarmscopeError(
            f"unknown source {source!r}", where="--source", fix="use stop_search or ed"
        )
    table, texpr, mcol, what = SOURCES[source]
    if not store.table_exists(table):
        raise HarmscopeError(
            f"the store has no {table} table", where="--source", fix="ingest that data first"
        )
    where = ["latitude IS NOT NULL", "longitude IS NOT NULL"]
    params: list = []
    if date_from:
        where.append(f"{mcol} >= ?")
        params.append(date_from)
    if date_to:
        where.append(f"{mcol} <= ?")
        params.append(date_to)
    extra = ", synthetic" if source == "ed" else ""
    df = store.query(
        # Ordered: the Monte Carlo draws permute rows, so a seed gives one answer on every engine.
        f"SELECT longitude, latitude, {texpr} AS t{extra} FROM {table} WHERE {' AND '.join(where)} ORDER BY t, longitude, latitude",
        params,
    )
    if df.empty:
        raise HarmscopeError(
            f"no located {what}", where="knox", fix="ingest them, or widen --from/--to"
        )
    if same_incident_hours is None:
        same_incident_hours = 1.0 if source == "stop_search" else 0.0
    res = knox_points(
        df.longitude.to_numpy(),
        df.latitude.to_numpy(),
        df.t.to_numpy(),
        what=what,
        distance_bands=distance_bands,
        time_bands=time_bands,
        iterations=iterations,
        seed=seed,
        alpha=alpha,
        same_incident_hours=same_incident_hours,
    )
    if "synthetic" in df and df["synthetic"].any():
        res.notes.insert(
            0, f"SYNTHETIC DATA: {int(df['synthetic'].sum()):,} of the records are simulated."
        )
    return res


def knox_stop_search(store, **kwargs) -> Result:
    """Knox test on located stop-and-search records (exact date-times) in the store."""
    return knox_store(store, source="stop_search", **kwargs)


def knox_points(lon, lat, t_days, *, what: str = "events", **kwargs) -> Result:
    """Knox test on WGS84 points with times in days (e.g. a force extract read from a file)."""
    kwargs.setdefault("alpha", 0.05)
    kwargs.setdefault("iterations", 999)
    kwargs.setdefault("seed", None)
    kwargs.setdefault("distance_bands", (200, 400, 800))
    kwargs.setdefault("time_bands", (7, 14, 28))
    x, y = to_bng(np.asarray(lon, float), np.asarray(lat, float))
    # drop the handful geolocated far away (e.g. Northern Ireland in Kent stop-and-search files)
    cx, cy = np.median(x), np.median(y)
    near = np.hypot(x - cx, y - cy) < 100_000
    dropped = int((~near).sum())
    res = knox_result(x[near], y[near], np.asarray(t_days, float)[near], what=what, **kwargs)
    if dropped:
        res.notes.append(
            f"{dropped} records more than 100 km from the median location were left out."
        )
    return res


def read_extract(
    path, *, lon: str = "longitude", lat: str = "latitude", when: str = "date"
) -> tuple:
    """Longitude, latitude and time (days) from a CSV extract (ED records, a force extract)."""
    from pathlib import Path

    p = Path(path)
    if not p.exists():
        raise HarmscopeError("file not found", where=str(path), fix="check the path")
    df = pd.read_csv(p)
    missing = [c for c in (lon, lat, when) if c not in df.columns]
    if missing:
        raise HarmscopeError(
            f"missing column(s) {', '.join(missing)}; the file has {', '.join(map(str, df.columns[:12]))}",
            where=str(path),
            fix="name the columns with --lon-col, --lat-col and --date-col",
        )
    t = pd.to_datetime(df[when], errors="coerce", utc=True)
    ok = t.notna() & df[lon].notna() & df[lat].notna()
    if ok.sum() < 3:
        raise HarmscopeError(
            "fewer than 3 rows with a location and a readable date", where=str(path)
        )
    days = (t[ok] - pd.Timestamp("1970-01-01", tz="UTC")).dt.total_seconds().to_numpy() / 86400.0
    return df.loc[ok, lon].to_numpy(float), df.loc[ok, lat].to_numpy(float), days, int((~ok).sum())


def knox_result(
    x,
    y,
    t_days,
    *,
    distance_bands,
    time_bands,
    iterations,
    seed,
    alpha,
    what="events",
    same_incident_hours=0.0,
) -> Result:
    table = knox_table(
        x,
        y,
        t_days,
        distance_bands=distance_bands,
        time_bands=time_bands,
        iterations=iterations,
        seed=seed,
        same_incident_hours=same_incident_hours,
    )
    first = table.iloc[0]
    sig = table[(table.p < alpha) & (table.ratio > 1)]
    summary = {
        "events": int(len(x)),
        "iterations": iterations,
        "seed": seed,
        "closest_ratio": first["ratio"],
        "closest_p": first["p"],
        "closest_expected_ci": [first["expected_lo"], first["expected_hi"]],
        "near_repeat_cells": int(len(sig)),
        "near_repeat_detected": bool(first["p"] < alpha and first["ratio"] > 1),
    }
    method = (
        f"Knox test on {len(x):,} {what} in British National Grid: pairs counted in distance bands "
        f"{', '.join(f'{b:g}' for b in distance_bands)} m and time bands {', '.join(f'{b:g}' for b in time_bands)} days; "
        f"expected counts from {iterations} random shufflings of the dates among events (seed {seed}). "
        "Ratio = observed / expected; p = (1 + shuffles >= observed) / (iterations + 1), one-sided for excess "
        "closeness; expected_lo/hi are the 2.5-97.5% range of the shuffled counts. Assumptions: the shuffle "
        "keeps each place's and each day's totals, so a ratio above 1 means space and time interact (near "
        "repeats), not that places or days are busy. Several cells are tested, so read single p < 0.05 with care."
    )
    notes = []
    if same_incident_hours:
        notes.append(
            f"{table.attrs['same_incident_pairs']:,} pairs at the same point within {same_incident_hours:g} h were treated "
            "as one incident (e.g. a group searched together) and not counted as repeats."
        )
    res = Result(table=table, summary=summary, method=method, notes=notes)
    res.charts["ratios"] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": "Knox ratios (observed / expected close pairs)",
        "data": {
            "values": table[["distance_band", "time_band", "ratio", "p"]].to_dict(orient="records")
        },
        "mark": "rect",
        "encoding": {
            "x": {"field": "time_band", "type": "ordinal", "sort": None},
            "y": {"field": "distance_band", "type": "ordinal", "sort": None},
            "color": {
                "field": "ratio",
                "type": "quantitative",
                "scale": {"scheme": "redblue", "reverse": True, "domainMid": 1},
            },
            "tooltip": [
                {"field": "ratio", "type": "quantitative"},
                {"field": "p", "type": "quantitative"},
            ],
        },
    }
    return res
