"""Where harm concentrates: Gi* hotspots on a BNG grid or LSOAs, and emerging hotspots over months.

``hotspots`` answers "where should patrols, youth work and lighting go" for one period;
``emerging_hotspots`` answers "how is each place changing" from a space-time Gi* per month
and a Mann-Kendall trend, using the ArcGIS Pro pattern definitions (Esri, "How Emerging Hot
Spot Analysis works", pro.arcgis.com/en/pro-app/latest/tool-reference/space-time-pattern-mining/
learnmoreemerging.htm; also implemented in R sfdep::emerging_hotspot_analysis).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse, stats

from harmscope.analysis import grid as gridmod
from harmscope.analysis.gistar import CLASS_ORDER, adjust, analytic_p, gi_star, gi_star_z, with_self
from harmscope.analysis.grid import EventFilter
from harmscope.analysis.hotspot_inputs import (
    area_boundary,
    harm_weights,
    lsoa_units,
    study_area,
)
from harmscope.analysis.result import Result, frame_records
from harmscope.errors import HarmscopeError
from harmscope.store.queries.scope import forces_held, weighted_counts

CLASS_COLOURS = {
    "hot 99%": "#b2182b",
    "hot 95%": "#ef8a62",
    "hot 90%": "#fddbc7",
    "not significant": "#f0f0f0",
    "cold 90%": "#d1e5f0",
    "cold 95%": "#67a9cf",
    "cold 99%": "#2166ac",
}


# -- units and their values ------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRule:
    """How units are formed and valued: grid cells (of ``cell_size`` m, None = automatic) or
    LSOAs, the neighbour rule, and the harm weighting scheme."""

    units: str = "grid"
    cell_size: float | None = None
    neighbours: str = "queen"
    weight: str = "none"


def _build_units(
    store, events: EventFilter, rule: UnitRule, *, clip: bool = True, by_month: bool = False
):
    """Units (grid cells or LSOAs), their counts and weighted values, and binary neighbours.

    Returns (frame, W, notes, extra) where frame has unit, x, y, count, value and, with
    ``by_month``, extra['months'] and extra['counts'/'values'] as (T, n) arrays.
    """
    units, neighbours = rule.units, rule.neighbours
    held = None if events.area else forces_held(store, *events.sql(located=True))
    area, anotes = study_area(events.area, held)
    weights, wnote = harm_weights(rule.weight)
    notes: list[str] = [wnote, *anotes]
    extra: dict = {}
    if units not in ("grid", "lsoa"):
        raise HarmscopeError(f"unknown units {units!r}", where="--units", fix="use grid or lsoa")
    if units == "grid":
        pts = events.points(store, weights, by_month)
        grid, gnotes = clipped_grid(pts, area, rule.cell_size, clip)
        notes += gnotes
        frame, outside = grid_frame(grid, pts)
        if outside:
            notes.append(
                f"{outside:,} located events fall outside the clipped grid (outside the area) and are left out."
            )
        if by_month:
            extra["months"], extra["counts"], extra["values"] = _monthly(grid, pts)
        W, wdesc = gridmod.neighbours(
            neighbours, x=frame.x.to_numpy(), y=frame.y.to_numpy(), grid=grid
        )
        extra["grid"] = grid
        extra["cell_size"] = grid.cell_size
        extra["auto_cell_size"] = grid.auto_size
    else:
        codes, polys = lsoa_units(area)
        import shapely

        cent = shapely.point_on_surface(polys)
        frame = pd.DataFrame({"unit": codes, "x": shapely.get_x(cent), "y": shapely.get_y(cent)})
        agg = _lsoa_counts(store, events, weights, by_month)
        if by_month:
            extra["months"], extra["counts"], extra["values"] = _pivot(agg, codes)
            frame["count"] = extra["counts"].sum(axis=0).round().astype(np.int64)
            frame["value"] = extra["values"].sum(axis=0)
        else:
            agg = agg.set_index("lsoa11_code")
            frame["count"] = agg["count"].reindex(codes).fillna(0).to_numpy().astype(np.int64)
            frame["value"] = agg["value"].reindex(codes).fillna(0).to_numpy()
        W, wdesc = gridmod.neighbours(
            neighbours, x=frame.x.to_numpy(), y=frame.y.to_numpy(), polygons=polys
        )
        extra["polygons"] = polys
        notes.append(
            f"Units: {len(codes):,} 2011 LSOAs (police 2021-only LSOAs placed by point in polygon at ingest)."
        )
    lon, lat = gridmod.to_wgs84(frame.x.to_numpy(), frame.y.to_numpy())
    frame["lon"], frame["lat"] = lon, lat
    if weights is not None:
        unweighted = _unweighted(store, events, weights)
        if unweighted:
            notes.append(
                f"{unweighted:,} events are in categories without a weight and add nothing to 'value'."
            )
    extra["neighbours"] = wdesc
    return frame, W, notes, extra


def grid_frame(grid: gridmod.Grid, pts: pd.DataFrame) -> tuple[pd.DataFrame, int]:
    """One row per kept cell (unit, x, y, count, value), and how many events fell outside."""
    frame = grid.cells.rename(columns={"cell_id": "unit"})[["unit", "x", "y"]].copy()
    counts, values, outside = grid.count(pts)
    frame["count"], frame["value"] = counts.round().astype(np.int64), values
    return frame, outside


def _monthly(grid, pts: pd.DataFrame):
    months = sorted(pts["month"].unique()) if not pts.empty else []
    counts = np.zeros((len(months), grid.n))
    values = np.zeros((len(months), grid.n))
    for t, m in enumerate(months):
        sub = pts[pts["month"] == m]
        counts[t], values[t], _ = grid.count(sub)
    return [pd.Timestamp(m).date() for m in months], counts, values


def _lsoa_counts(store, events: EventFilter, weights, by_month) -> pd.DataFrame:
    where, params = events.sql(located=False)
    keys = {"month": "s.month"} if by_month else {}
    keys["lsoa11_code"] = "s.lsoa11_code"
    where = f"s.lsoa11_code IS NOT NULL AND {where}"
    return weighted_counts(store, where, params, keys, weights).drop(columns="unweighted")


def _pivot(agg: pd.DataFrame, codes: list[str]):
    months = sorted(agg["month"].unique())
    c = agg.pivot_table(index="month", columns="lsoa11_code", values="count", aggfunc="sum")
    v = agg.pivot_table(index="month", columns="lsoa11_code", values="value", aggfunc="sum")
    c = c.reindex(index=months, columns=codes).fillna(0).to_numpy()
    v = v.reindex(index=months, columns=codes).fillna(0).to_numpy()
    return [pd.Timestamp(m).date() for m in months], c, v


def _unweighted(store, events: EventFilter, weights) -> int:
    where, params = events.sql(located=False)
    cats = list(weights.index)
    sql = f"SELECT count(*) AS n FROM street_crimes s WHERE {where} AND s.crime_type NOT IN ({','.join('?' * len(cats))})"
    return int(store.query(sql, params + cats)["n"].iloc[0])


def _study_area_note(grid, pts: pd.DataFrame, area: str | None, clipped: bool) -> str:
    """The study area chosen, and how much of it is empty: the hot-cell share of an offence
    depends on how many empty cells the grid holds, so the choice is announced."""
    counts, _, _ = grid.count(pts)
    cells = len(counts)
    empty = int((np.asarray(counts) == 0).sum())
    where = (
        f"the boundary of {area}" if area else "the boundary of England and Wales (no area named)"
    )
    what = (
        f"Study area: {where}, dissolved from the packaged 2011 LSOAs; the grid is clipped to it"
        if clipped
        else "Study area: the events' bounding box (not clipped)"
    )
    tail = (
        "hot-cell shares count only cells inside it"
        if clipped
        else "empty cells outside the area dilute the hot-cell shares"
    )
    return f"{what}. {empty:,} of its {cells:,} cells ({empty / max(cells, 1):.0%}) hold no event; {tail}."


def clipped_grid(pts: pd.DataFrame, area: str | None, cell_size: float | None, clip: bool):
    """The grid clipped to the area's packaged boundary (every force area of England and Wales
    is packaged), or unclipped when asked or when the area has no known district; the study
    area and its share of empty cells are announced either way."""
    if not len(pts) or not float(pts["count"].sum()):
        raise HarmscopeError(
            "no located events match these filters, so there is nothing to map",
            where="--crime-type / --from / --to / --area",
            fix="widen the period or check the crime type and months held with `harmscope status`",
        )
    x, y = pts["x"].to_numpy(), pts["y"].to_numpy()
    boundary = area_boundary(area) if clip else None
    if boundary is not None:
        grid = gridmod.make_grid(x, y, cell_size=cell_size, boundary=boundary)
        return grid, [*grid.notes, _study_area_note(grid, pts, area, clipped=True)]
    note = (
        "No district of England and Wales matches this area, so there is no boundary to clip to."
        if clip
        else "Grid not clipped (as asked)."
    )
    grid = gridmod.make_grid(x, y, cell_size=cell_size, boundary=None)
    return grid, [*grid.notes, note, _study_area_note(grid, pts, area, clipped=False)]


# -- one-period hotspots ---------------------------------------------------------------------


def hotspots(
    store,
    *,
    crime_types: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    area: str | None = None,
    units: str = "grid",
    cell_size: float | None = None,
    neighbours: str = "queen",
    weight: str = "none",
    permutations: int = 0,
    seed: int | None = None,
    correction: str = "holm",
    clip: bool = True,
) -> Result:
    """Gi* hotspots of (harm-weighted) counts on a grid or on LSOAs, with corrected p-values."""
    frame, W, notes, extra = _build_units(
        store,
        EventFilter(crime_types, date_from, date_to, area),
        UnitRule(units, cell_size, neighbours, weight),
        clip=clip,
    )
    if frame["count"].sum() == 0:
        raise HarmscopeError(
            "no located events match these filters",
            where="hotspots",
            fix="check --crime-type (exact police.uk names), --from/--to and --area",
        )
    gi = gi_star(
        frame["value"].to_numpy(), W, permutations=permutations, seed=seed, correction=correction
    )
    table = pd.concat([frame.reset_index(drop=True), gi], axis=1)
    iso = int((np.diff(sparse.csr_matrix(W).indptr) == 0).sum())
    if iso:
        notes.append(
            f"{iso:,} units have no neighbours under this rule; their Gi* uses themselves only."
        )
    summary = _summary(table, extra, weight, permutations, correction, seed)
    method = _method_text(extra, weight, permutations, correction, seed, units)
    res = _spatial_result(table, summary, method, notes, W, crime_types, "Gi* hotspots")
    res.charts["map"] = map_chart(table, extra, title="Gi* hotspots")
    res.tables["classes"] = class_table(table)
    return res


def _spatial_result(table, summary, method, notes, W, crime_types, title: str) -> Result:
    """A hotspot Result with its declared extras (analysis.result.EXTRAS): the neighbour
    matrix, for disclosure control of published z-scores; the categories, to tell a
    one-category weighted value (weight x count) from a mix of weights."""
    extras = {"weights": W, "crime_types": list(crime_types or [])}
    return Result(
        table=table, summary=summary, method=method, notes=notes, extras=extras, title=title
    )


def class_table(table: pd.DataFrame) -> pd.DataFrame:
    g = table.groupby("class").agg(
        units=("class", "size"), count=("count", "sum"), value=("value", "sum")
    )
    g = g.reindex([c for c in CLASS_ORDER if c in g.index])
    g["share_of_units"] = g["units"] / g["units"].sum()
    g["share_of_events"] = g["count"] / max(g["count"].sum(), 1)
    return g.reset_index()


def _summary(table, extra, weight, permutations, correction, seed) -> dict:
    hot = table["class"].isin(["hot 99%", "hot 95%"])
    total = float(table["count"].sum())
    return {
        "units": int(len(table)),
        "cell_size_m": extra.get("cell_size"),
        "cell_size_automatic": extra.get("auto_cell_size"),
        "neighbours": extra["neighbours"],
        "events": int(total),
        "weighted_total": float(table["value"].sum()),
        "weight": weight,
        "hot_units_95": int(hot.sum()),
        "cold_units_95": int(table["class"].isin(["cold 99%", "cold 95%"]).sum()),
        "hot_share_of_units": float(hot.mean()),
        "hot_share_of_events": float(table.loc[hot, "count"].sum() / total) if total else None,
        "hot_share_of_value": float(
            table.loc[hot, "value"].sum() / max(table["value"].sum(), 1e-12)
        ),
        "correction": correction,
        "permutations": int(permutations),
        "seed": seed,
    }


def _method_text(extra, weight, permutations, correction, seed, units) -> str:
    unit = (
        f"{extra['cell_size']:g} m grid cells in British National Grid"
        if units == "grid"
        else "2011 LSOAs"
    )
    p_basis = (
        f"conditional-permutation pseudo p-values ({permutations} permutations, seed {seed}; two-sided)"
        if permutations
        else "analytic two-sided normal p-values"
    )
    return (
        f"Getis-Ord Gi* (focal unit included) on {unit}, neighbours: {extra['neighbours']} (binary weights). "
        f"Values analysed: {'harm-weighted counts (' + weight + ')' if weight != 'none' else 'counts'}. "
        f"Significance: {p_basis}, adjusted for multiple testing by "
        f"{'Holm (family-wise error)' if correction == 'holm' else 'Benjamini-Hochberg (false discovery rate)' if correction in ('fdr', 'bh') else 'no correction'}; "
        "classes hot/cold at 99/95/90% confidence from the adjusted p. "
        "Assumptions: police.uk locations are snapped to nearby anonymised points, so cells smaller "
        "than a few hundred metres mostly measure the snap points; Gi* z is asymptotically normal "
        "and with many empty cells the permutation p is the safer guide. Uncertainty: each class "
        "carries its p-value; a cell's class is not a forecast (see --evaluate for PAI on a later period)."
    )


def map_chart(
    table: pd.DataFrame,
    extra: dict,
    *,
    title: str,
    colour: str = "class",
    max_features: int = 20000,
) -> dict:
    """Vega-Lite geoshape map of the units, coloured by class (grid cells drawn as squares)."""
    show = table[(table["count"] > 0) | (table.get(colour, "") != "not significant")]
    if len(show) > max_features:
        show = show.reindex(show["value"].abs().sort_values(ascending=False).index[:max_features])
    feats = unit_features(
        show, extra, props=[c for c in ("unit", "count", "value", "gi_z", colour) if c in show]
    )
    domain = [c for c in CLASS_ORDER if c in set(show[colour])] if colour == "class" else None
    enc = {"color": {"field": f"properties.{colour}", "type": "nominal", "title": colour}}
    if domain:
        enc["color"]["scale"] = {"domain": domain, "range": [CLASS_COLOURS[c] for c in domain]}
    enc["tooltip"] = [
        {"field": f"properties.{c}", "type": "nominal" if c in ("unit", colour) else "quantitative"}
        for c in ("unit", "count", "value", "gi_z", colour)
        if c in show
    ]
    return geoshape_chart(title, feats, enc)


def geoshape_chart(title: str, feats: list[dict], encoding: dict, mark: dict | None = None) -> dict:
    """Vega-Lite map of ``feats`` (from ``unit_features``); default mark: cells with thin grey edges."""
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": title,
        "width": 500,
        "height": 350,
        "data": {"values": feats},
        "projection": {"type": "mercator"},
        "mark": mark or {"type": "geoshape", "strokeWidth": 0.2, "stroke": "#999"},
        "encoding": encoding,
    }


def features(geoms, records: list[dict]) -> list[dict]:
    """GeoJSON features pairing each geometry with its properties."""
    import shapely

    return [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": rec}
        for g, rec in zip(geoms, records, strict=True)
    ]


def unit_features(table: pd.DataFrame, extra: dict, props: list[str]) -> list[dict]:
    """GeoJSON-like features (WGS84, clockwise rings for Vega-Lite charts) for the units in ``table``."""
    import shapely

    if "grid" in extra:
        boxes = gridmod.cell_boxes(table.x, table.y, extra["cell_size"])
    else:
        boxes = np.asarray(extra["polygons"])[table.index.to_numpy()]
    # Vega's d3-geo reads rings by spherical winding: a counter-clockwise square (shapely's and
    # RFC 7946's order) would mean "the whole globe except this square", so charts get clockwise rings
    geoms = shapely.orient_polygons(gridmod.geoms_to_wgs84(boxes), exterior_cw=True)
    return features(geoms, frame_records(table[props]))


# -- emerging hotspots -----------------------------------------------------------------------


def mann_kendall(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mann-Kendall trend test along the last axis: (S, z, two-sided p), tie-corrected variance,
    no continuity correction (so p equals scipy.stats.kendalltau(t, x, method='asymptotic'))."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    n = x.shape[-1]
    i, j = np.triu_indices(n, 1)
    s = np.sign(x[:, j] - x[:, i]).sum(axis=1)
    var = np.full(x.shape[0], n * (n - 1) * (2 * n + 5) / 18.0)
    for r in range(x.shape[0]):
        _, t = np.unique(x[r], return_counts=True)
        t = t[t > 1]
        if len(t):
            var[r] -= (t * (t - 1) * (2 * t + 5)).sum() / 18.0
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(var > 0, s / np.sqrt(var), 0.0)
    p = 2 * stats.norm.sf(np.abs(z))
    return s, z, p


PATTERNS = [
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
]


def classify_pattern(
    z: np.ndarray, sig: np.ndarray, trend_z: float, trend_p: float, alpha: float = 0.05
) -> str:
    """One location's ArcGIS emerging-hotspot pattern from its per-period Gi* z, significance and
    the Mann-Kendall trend of its z series (hot patterns checked first, then cold)."""
    for kind, sign in (("hot", 1), ("cold", -1)):
        on = sig & (np.sign(z) == sign)
        off = sig & (np.sign(z) == -sign)
        n = len(z)
        share = on.sum() / n
        last = bool(on[-1])
        # as sfdep (and ArcGIS's "never been significant before"): earlier significance of either
        # sign rules out new/consecutive, so a cold spot turning hot is oscillating
        if last and sig[:-1].sum() == 0:
            return f"new {kind} spot"
        if last:
            run = 0
            for v in on[::-1]:
                if not v:
                    break
                run += 1
            if run >= 2 and sig[: n - run].sum() == 0 and share < 0.9:
                return f"consecutive {kind} spot"
            if share >= 0.9:
                up = trend_p < alpha and np.sign(trend_z) == sign
                down = trend_p < alpha and np.sign(trend_z) == -sign
                if up:
                    return f"intensifying {kind} spot"
                if down:
                    return f"diminishing {kind} spot"
                return f"persistent {kind} spot"
            if off.sum() == 0:
                return f"sporadic {kind} spot"
            return f"oscillating {kind} spot"
        if share >= 0.9:
            return f"historical {kind} spot"
    return "no pattern"


def latest_contiguous(months: list[date]) -> tuple[int, int]:
    """Start and end index of the latest run of consecutive months."""
    if not months:
        return 0, 0
    idx = [m.year * 12 + m.month for m in months]
    start = len(idx) - 1
    while start > 0 and idx[start] - idx[start - 1] == 1:
        start -= 1
    return start, len(idx)


def space_time_gi(values: np.ndarray, W: sparse.spmatrix, time_lag: int = 1) -> np.ndarray:
    """Space-time Gi* z (T, n): each bin's neighbourhood is its spatial neighbours and itself in
    the same and the previous ``time_lag`` periods (ArcGIS's neighbourhood time step)."""
    T, n = values.shape
    band = sparse.csr_matrix(np.tril(np.triu(np.ones((T, T)), -time_lag)))
    wst = sparse.kron(band, with_self(W), format="csr")
    return gi_star_z(values.ravel(), wst).reshape(T, n)


def emerging_hotspots(
    store,
    *,
    crime_types: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    area: str | None = None,
    units: str = "grid",
    cell_size: float | None = None,
    neighbours: str = "queen",
    weight: str = "none",
    time_lag: int = 1,
    alpha: float = 0.05,
    min_periods: int = 10,
) -> Result:
    """Emerging hotspot patterns per unit from a monthly space-time Gi* and a Mann-Kendall trend."""
    frame, W, notes, extra = _build_units(
        store,
        EventFilter(crime_types, date_from, date_to, area),
        UnitRule(units, cell_size, neighbours, weight),
        by_month=True,
    )
    months = extra["months"]
    a, b = latest_contiguous(months)
    if (a, b) != (0, len(months)):
        notes.append(
            f"Months are not consecutive; using the latest unbroken run {months[a]:%Y-%m}..{months[b - 1]:%Y-%m} "
            f"({b - a} months) and leaving out {a} earlier month(s)."
        )
    months = months[a:b]
    if len(months) < min_periods:
        raise HarmscopeError(
            f"emerging hotspots need at least {min_periods} consecutive months (ArcGIS requires 10 time "
            f"steps); the data give {len(months)}",
            where="--from/--to",
            fix="widen the period, or use `harmscope hotspots` for a single-period map",
        )
    vals = extra["values"][a:b]
    z = space_time_gi(vals, W, time_lag=time_lag)
    p = adjust(analytic_p(z).ravel(), "fdr").reshape(z.shape)
    sig = p < alpha
    _, tz, tp = mann_kendall(z.T)
    patterns = [
        classify_pattern(z[:, i], sig[:, i], tz[i], tp[i], alpha) for i in range(z.shape[1])
    ]
    table = frame.copy()
    table["count"] = extra["counts"][a:b].sum(axis=0).round().astype(np.int64)
    table["value"] = vals.sum(axis=0)
    table["pattern"] = patterns
    table["trend_z"], table["trend_p"] = tz, tp
    table["hot_periods"] = ((z > 0) & sig).sum(axis=0)
    table["cold_periods"] = ((z < 0) & sig).sum(axis=0)
    table["final_gi_z"] = z[-1]
    counts = table["pattern"].value_counts()
    summary = {
        "units": int(len(table)),
        "months": len(months),
        "first_month": months[0],
        "last_month": months[-1],
        "cell_size_m": extra.get("cell_size"),
        "neighbours": extra["neighbours"],
        "time_lag": time_lag,
        **{f"n_{k.replace(' ', '_')}": int(v) for k, v in counts.items()},
    }
    method = (
        f"Space-time Gi* on {len(months)} monthly slices (neighbourhood: {extra['neighbours']}, plus the same "
        f"cells in the previous {time_lag} month(s)), p-values FDR-corrected across all bins "
        f"(alpha {alpha}); Mann-Kendall trend test (two-sided, tie-corrected) on each unit's Gi* z "
        "series. Patterns follow ArcGIS Pro's definitions (Esri, How Emerging Hot Spot Analysis works): "
        "new, consecutive, intensifying, persistent, diminishing, sporadic, oscillating, historical (hot "
        "or cold), with the 90%-of-periods rule. Assumptions: months are consecutive and the grid is "
        "fixed; with 12 months, 90% means 11 of 12. Uncertainty: each bin's FDR-adjusted p and each "
        "trend's p are in the table."
    )
    res = _spatial_result(table, summary, method, notes, W, crime_types, "Emerging hotspots")
    show = table[table["pattern"] != "no pattern"]
    res.charts["map"] = _pattern_map(show, extra)
    res.tables["patterns"] = counts.rename_axis("pattern").reset_index(name="units")
    return res


def _pattern_map(show: pd.DataFrame, extra: dict) -> dict:
    feats = unit_features(show, extra, props=["unit", "count", "pattern", "trend_z"])
    return geoshape_chart(
        "Emerging hotspot patterns",
        feats,
        {
            "color": {"field": "properties.pattern", "type": "nominal", "title": "pattern"},
            "tooltip": [
                {"field": "properties.unit"},
                {"field": "properties.pattern"},
                {"field": "properties.count"},
            ],
        },
    )
