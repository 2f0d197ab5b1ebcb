"""A choropleth of Empirical-Bayes-smoothed harm rates by 2011 LSOA, drawn from the packaged
boundaries (no map tiles: the report stays offline), with district outlines."""

from __future__ import annotations

import numpy as np

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import has_lsoa_area, lsoa_linked, para, smoothed_lsoa

ORDER = 50
# 5 decimals of a degree is about 1 m: plenty for a map, and it keeps the file small.
_DECIMALS = 5

_TABLE_COLS = [
    "area_code",
    "area_name",
    "lad_name",
    "urban_rural",
    "imd_decile",
    "population",
    "count",
    "harm",
    "raw_rate_per_1000",
    "eb_rate_per_1000",
    "shrinkage_weight",
]


def build(ctx: ReportContext) -> Section | None:
    from harmscope.reference import lad_boundaries, lsoa_boundaries

    if not has_lsoa_area(ctx):
        return None
    res = smoothed_lsoa(ctx)
    table = res.table[[c for c in _TABLE_COLS if c in res.table.columns]].copy()
    codes = set(table["area_code"])
    lsoa = lsoa_boundaries()
    features = [_for_d3(f) for f in lsoa["features"] if f["properties"]["lsoa11_code"] in codes]
    if not features:
        return None  # no packaged boundaries for this area (they cover Kent and Medway)
    # Smoothed rates are invertible given population and the published mean, so they are
    # hidden wherever the LSOA's count is (public audience).
    derived = {
        c: "count"
        for c in ("harm", "raw_rate_per_1000", "eb_rate_per_1000", "shrinkage_weight")
        if c in table.columns
    }
    linked = lsoa_linked(ctx)
    if linked is not None:
        # jointly with the district, rural/urban and deprivation totals published elsewhere
        hidden = linked.mask["count"].reindex(table.index).to_numpy()
        pub = ctx.protect_masked(table, hidden, count_cols=["count"], derived=derived)
    else:
        pub = ctx.protect(table, count_cols=["count"], derived=derived)
    lad_codes = {f["properties"]["lad_code"] for f in features}
    lads = [
        _for_d3(f) for f in lad_boundaries()["features"] if f["properties"]["lad_code"] in lad_codes
    ]

    shown = pub[["area_code", "area_name", "lad_name", "eb_rate_per_1000"]]
    rows = [
        {
            "area_code": r.area_code,
            "area_name": r.area_name,
            "lad_name": r.lad_name,
            "eb_rate_per_1000": None
            if r.eb_rate_per_1000 is None or r.eb_rate_per_1000 != r.eb_rate_per_1000
            else round(float(r.eb_rate_per_1000), 1),
        }
        for r in shown.astype(object).where(shown.notna(), None).itertuples()
    ]
    rates = pub["eb_rate_per_1000"].dropna().astype(float)
    # Quantile classes: a few very high town-centre LSOAs would flatten a linear scale.
    edges = (
        sorted(set(np.round(np.quantile(rates, [0.2, 0.4, 0.6, 0.8, 0.95]), 0)))
        if len(rates)
        else []
    )
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v6.json",
        "title": "Harm per 1,000 residents, EB-smoothed, by 2011 LSOA",
        "width": 700,
        "height": 520,
        "projection": {"type": "mercator"},
        # An array of GeoJSON features: each datum is one LSOA (no format.property needed).
        "datasets": {"lsoa_shapes": features, "lad_shapes": lads},
        "layer": [
            # Grey underlay: Vega-Lite drops features whose colour value is null, so a
            # suppressed LSOA shows through as grey rather than as a hole.
            {
                "data": {"name": "lsoa_shapes"},
                "mark": {
                    "type": "geoshape",
                    "fill": "#cccccc",
                    "stroke": "white",
                    "strokeWidth": 0.2,
                },
            },
            {
                "data": {"name": "lsoa_shapes"},
                "transform": [
                    {
                        "lookup": "properties.lsoa11_code",
                        "from": {
                            "data": {"values": rows},
                            "key": "area_code",
                            "fields": ["area_name", "lad_name", "eb_rate_per_1000"],
                        },
                    },
                    {
                        "calculate": "datum.eb_rate_per_1000 == null ? 'suppressed' : 'shown'",
                        "as": "status",
                    },
                ],
                "mark": {"type": "geoshape", "stroke": "white", "strokeWidth": 0.2},
                "encoding": {
                    "color": {
                        "condition": {"test": "datum.eb_rate_per_1000 == null", "value": "#cccccc"},
                        "field": "eb_rate_per_1000",
                        "type": "quantitative",
                        "title": "harm per 1,000",
                        "scale": {"type": "threshold", "domain": edges, "scheme": "orangered"}
                        if edges
                        else {"scheme": "orangered"},
                    },
                    "tooltip": [
                        {"field": "area_name", "title": "LSOA"},
                        {"field": "lad_name", "title": "district"},
                        {
                            "field": "eb_rate_per_1000",
                            "title": "smoothed harm per 1,000",
                            "format": ",.0f",
                        },
                    ],
                },
            },
            {
                "data": {"name": "lad_shapes"},
                "mark": {
                    "type": "geoshape",
                    "filled": False,
                    "stroke": "#15324a",
                    "strokeWidth": 1.1,
                },
            },
        ],
    }
    s = res.summary
    top = pub.dropna(subset=["eb_rate_per_1000"]).head(3)
    sentences = [
        f"{s.get('lsoas', len(pub)):,} LSOAs; smoothing pulls each raw rate towards the area mean of "
        f"{s.get('mean_rate_per_1000', float('nan')):,.0f} per 1,000 by a weight that is larger for "
        f"small populations (median weight on the LSOA's own rate {s.get('median_shrinkage_weight', float('nan')):.2f}).",
    ]
    if len(top):
        sentences.append(
            "Highest smoothed rates: "
            + "; ".join(
                f"{r.area_name} ({float(r.eb_rate_per_1000):,.0f})" for r in top.itertuples()
            )
            + ". Town-centre LSOAs have few residents and many visitors, so resident rates run high there."
        )
    if ctx.public:
        sentences.append(
            "Grey LSOAs: suppressed (a count under the threshold, or needed to protect one)."
        )
    return Section(
        key="map",
        title="Map: smoothed harm rates by LSOA",
        html=para(*sentences),
        charts={"map": spec},
        tables={"map": pub},
        captions={
            "map": "Classes are quantiles of the smoothed rate (20/40/60/80/95%). District boundaries in dark blue."
        },
        notes=list(res.notes),
        method=res.method,
        disclosure_checked=True,
    )


def _for_d3(feature: dict) -> dict:
    """Rewind rings clockwise for Vega's d3-geo (GeoJSON RFC 7946 winds them the other way,
    which d3 reads as 'the whole globe except this polygon') and round the coordinates."""
    from shapely.geometry import mapping, shape
    from shapely.geometry.polygon import orient

    geom = shape(feature["geometry"])
    if geom.geom_type == "Polygon":
        geom = orient(geom, sign=-1.0)
    elif geom.geom_type == "MultiPolygon":
        from shapely.geometry import MultiPolygon

        geom = MultiPolygon([orient(p, sign=-1.0) for p in geom.geoms])
    out = mapping(geom)
    return {
        "type": "Feature",
        "properties": feature["properties"],
        "geometry": {"type": out["type"], "coordinates": _round(out["coordinates"])},
    }


def _round(coords):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), _DECIMALS) for c in coords]
    return [_round(c) for c in coords]
