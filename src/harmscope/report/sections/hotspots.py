"""Report section "Hotspots": a Gi* map of (harm-weighted) violence on the BNG grid."""

from __future__ import annotations

from harmscope.report.section import ReportContext, Section
from harmscope.report.sections._util import para

ORDER = 55
_CATEGORIES = ["Violence and sexual offences"]
_DECIMALS = 5  # about 1 m: plenty for a map, and the file stays small


def _round(coords):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), _DECIMALS) for c in coords]
    return [_round(c) for c in coords]


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.hotspots import class_table, hotspots, map_chart
    from harmscope.errors import HarmscopeError

    cats = ctx.options.get("hotspot_categories", _CATEGORIES)
    weight = ctx.options.get("hotspot_weight", ctx.options.get("scheme", "css"))
    try:
        res = hotspots(
            ctx.store,
            crime_types=cats,
            date_from=ctx.date_from.replace(day=1),
            date_to=ctx.date_to.replace(day=1),
            area=ctx.area,
            weight=weight,
        )
    except HarmscopeError:  # no events in the period/area: the section is simply absent
        return None
    t = res.table
    s = res.summary
    classes = ctx.protect(
        class_table(t), count_cols=["count"], derived={"value": "count", "share_of_events": "count"}
    )
    top = t[t["class"].str.startswith("hot")].sort_values("gi_z", ascending=False).head(25)
    # for the public, z-scores go: with neighbours' counts a z can give a hidden count back
    zcols = [] if ctx.public else ["gi_z", "gi_p_adjusted"]
    top = top[["unit", "lon", "lat", "count", "value", *zcols, "class"]].round({"lon": 4, "lat": 4})
    top_pub = ctx.protect(
        top.reset_index(drop=True), count_cols=["count"], derived={"value": "count"}, totals=False
    )
    # the map shows classes only: no counts, so nothing small is disclosed on it
    shown = t[t["class"] != "not significant"].copy()
    extra = {"grid": True, "cell_size": s["cell_size_m"]}
    chart = map_chart(
        shown[["unit", "x", "y", "class", "gi_z"]].assign(count=1, value=0.0),
        extra,
        title="Gi* hotspots (significant cells)",
    )
    for f in chart["data"]["values"]:
        f["geometry"]["coordinates"] = _round(f["geometry"]["coordinates"])
        keep = ("unit", "class") if ctx.public else ("unit", "class", "gi_z")
        f["properties"] = {k: v for k, v in f["properties"].items() if k in keep}
    chart["encoding"]["tooltip"] = [{"field": "properties.class", "type": "nominal"}] + (
        []
        if ctx.public
        else [{"field": "properties.gi_z", "type": "quantitative", "format": ".2f"}]
    )
    outline = _district_outlines(ctx.area)
    if outline:
        # district outlines under the cells, for orientation (packaged boundaries, no tiles)
        cells_layer = {k: chart.pop(k) for k in ("data", "mark", "encoding")}
        chart["layer"] = [
            {
                "data": {"values": outline},
                "mark": {"type": "geoshape", "filled": False, "stroke": "#777", "strokeWidth": 0.6},
            },
            cells_layer,
        ]
    hot_share = s.get("hot_share_of_events")
    html = para(
        f"Where does {', '.join(cats).lower()} concentrate? Getis-Ord Gi* on {s['cell_size_m']:g} m cells "
        f"({s['units']:,} cells over the area) marks {s['hot_units_95']:,} cells as hotspots at 95% confidence or more "
        f"after Holm correction: {s['hot_share_of_units']:.1%} of cells"
        + (
            f", holding {hot_share:.1%} of the events."
            if hot_share is not None and not ctx.public
            else "."
        ),
        "Cells are British National Grid squares; the map shows only significant cells.",
    )
    return Section(
        key="hotspots",
        title="Hotspots",
        html=html,
        charts={"hotspot_map": chart},
        tables={
            # the map's own table: classes and z only, no counts
            "hotspot_map": ctx.protect(
                shown[["unit", "lon", "lat", "class", *zcols[:1]]]
                .round({"lon": 4, "lat": 4, "gi_z": 3})
                .reset_index(drop=True)
            ),
            "hotspot_classes": classes,
            "top_hot_cells": top_pub,
        },
        method=res.method,
        notes=[n for n in res.notes if not n.startswith("Unweighted")],
        disclosure_checked=True,
    )


def _district_outlines(area: str) -> list[dict]:
    """The area's district polygons (WGS84, clockwise rings for d3-geo), or [] when not packaged."""
    import shapely
    from shapely.geometry import mapping, shape

    from harmscope.analysis.hotspot_inputs import area_lad_codes

    try:
        from harmscope.reference import lad_boundaries

        feats = lad_boundaries()["features"]
        codes = area_lad_codes(area)
    except Exception:  # the outline is decoration: without it the map still stands
        return []
    out = []
    for f in feats:
        if codes is not None and f["properties"].get("lad_code") not in codes:
            continue
        geom = shapely.orient_polygons(shape(f["geometry"]), exterior_cw=True)
        m = mapping(geom)
        out.append(
            {
                "type": "Feature",
                "properties": {"lad_name": f["properties"].get("lad_name")},
                "geometry": {"type": m["type"], "coordinates": _round(m["coordinates"])},
            }
        )
    return out
