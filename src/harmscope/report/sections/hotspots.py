"""Report section "Hotspots": a Gi* map of (harm-weighted) violence on the BNG grid."""

from __future__ import annotations

from harmscope.report.section import NotApplicable, ReportContext, Section
from harmscope.report.sections._util import lsoa_features, para, street_points

ORDER = 55
_CATEGORIES = ["Violence and sexual offences"]


def build(ctx: ReportContext) -> Section | None:
    from harmscope.analysis.hotspots import class_table, hotspots
    from harmscope.analysis.places import cell_places, point_scope
    from harmscope.errors import HarmscopeError
    from harmscope.report import maps
    from harmscope.store.queries.points import point_names

    cats = ctx.options.get("hotspot_categories", _CATEGORIES)
    weight = ctx.options.get("hotspot_weight", ctx.options.get("scheme", "css"))
    cell_size, size_note = _cell_size(ctx)
    try:
        res = hotspots(
            ctx.store,
            crime_types=cats,
            date_from=ctx.date_from.replace(day=1),
            date_to=ctx.date_to.replace(day=1),
            area=ctx.area,
            weight=weight,
            cell_size=cell_size,
        )
    except HarmscopeError as exc:  # no events in the period/area: said in the section's place
        raise NotApplicable(exc.problem, title="Hotspots") from None
    t = res.table
    s = res.summary
    classes = ctx.protect(
        class_table(t), count_cols=["count"], derived={"value": "count", "share_of_events": "count"}
    )
    # Places, not unit numbers: each significant cell is named by its most frequent police.uk
    # street names, LSOA, district and nearest town (analysis.places).
    shown = t[t["class"] != "not significant"].copy()
    names = cell_places(
        shown[["unit", "x", "y"]],
        s["cell_size_m"],
        point_names(
            ctx.store,
            *point_scope(
                ctx.area,
                crime_types=cats,
                date_from=ctx.date_from.replace(day=1),
                date_to=ctx.date_to.replace(day=1),
            ),
        ),
        _area_towns(ctx.area),
    )
    shown = shown.merge(names, on="unit", how="left")
    where_cols = ["place", "near_town", "lsoa_name", "lad_name"]
    top = shown[shown["class"].str.startswith("hot")].sort_values("gi_z", ascending=False).head(25)
    # for the public, z-scores go: with neighbours' counts a z can give a hidden count back
    zcols = [] if ctx.public else ["gi_z", "gi_p_adjusted"]
    top = top[[*where_cols, "count", "value", *zcols, "class", "lon", "lat"]].round(
        {"lon": 4, "lat": 4}
    )
    top_pub = ctx.protect(
        top.reset_index(drop=True), count_cols=["count"], derived={"value": "count"}, totals=False
    )
    # the map shows classes and names only: no counts, so nothing small is disclosed on it
    map_table = ctx.protect(
        shown[["unit", *where_cols, "class", *zcols[:1], "lon", "lat"]]
        .round({"lon": 4, "lat": 4, "gi_z": 3})
        .reset_index(drop=True)
    )
    chart = _leaflet_map(ctx, shown, map_table, s["cell_size_m"])
    streets = street_points(ctx)  # no counts: distinct map points
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
        "Cells are British National Grid squares; the map shows only significant cells. "
        "Zoom in to see streets (police.uk's anonymised map points, faint grey) and hover over a "
        "cell or a point for its name.",
    )
    return Section(
        key="hotspots",
        title="Hotspots",
        html=html,
        charts={"hotspot_map": chart},
        tables={
            # the map's own table: classes, names and z only, no counts
            "hotspot_map": map_table,
            "hotspot_classes": classes,
            "top_hot_cells": top_pub,
            # the street layer drawn under the cells (report.maps.street_layer)
            "street_points": streets,
        },
        method=res.method
        + " Each significant cell is named by the two police.uk street locations most crimes in it "
        'were mapped to ("On or near ..."; kinds of place such as "Supermarket" only when it '
        "has no street), the LSOA and district most of them fall in, and the nearest town in "
        "harmscope's packaged town-centre list (positions are estimates). A cell hot through its "
        "neighbours with no crime of its own is named by the nearest map point.",
        notes=[
            *([size_note] if size_note else []),
            *filter(None, [maps.basemap_note(ctx.options.get("basemap"))]),
            # the analysis' own "Cell size: ... (set by the user)" would misname our choice
            *(
                n
                for n in res.notes
                if not n.startswith("Unweighted") and not (size_note and n.startswith("Cell size"))
            ),
        ],
        disclosure_checked=True,
    )


def _cell_size(ctx: ReportContext) -> tuple[float | None, str | None]:
    """The cell size and the sentence announcing it: --cell-size when given; for one district
    the district rule (analysis.grid.district_cell_size, about 150-250 m); otherwise None, so
    the analysis applies sfhotspot's rule and announces it itself."""
    from harmscope.analysis import grid as gridmod
    from harmscope.analysis.hotspot_inputs import area_boundary, area_lad_codes

    asked = ctx.options.get("cell_size")
    if asked:
        return float(asked), f"Cell size: {float(asked):g} m (as asked with --cell-size)."
    codes = area_lad_codes(ctx.area)
    if codes is None or len(codes) != 1:
        return None, None
    boundary = area_boundary(ctx.area)
    if boundary is None:
        return None, None
    x0, y0, x1, y1 = boundary.bounds
    size = gridmod.district_cell_size(x1 - x0, y1 - y0)
    return size, gridmod.district_rule_note(size, min(x1 - x0, y1 - y0))


def _leaflet_map(ctx: ReportContext, shown, map_table, cell_size: float) -> dict:
    """The zoomable hotspot map: significant cells over LSOA and district boundaries, town
    names and the faint street layer. Its rows are ``map_table``'s (the published table)."""
    from harmscope.analysis.gistar import CLASS_ORDER
    from harmscope.analysis.hotspot_inputs import area_lad_codes
    from harmscope.analysis.hotspots import CLASS_COLOURS, unit_features
    from harmscope.analysis.places import towns
    from harmscope.report import maps

    cols = list(map_table.columns)
    geoms = unit_features(shown.reset_index(drop=True), {"grid": True, "cell_size": cell_size}, [])
    values = [
        {**row, "geometry": maps.feature(g["geometry"], {})["geometry"]}
        for row, g in zip(maps.rows(map_table, cols), geoms, strict=True)
    ]
    present = [c for c in CLASS_ORDER if c in set(map_table["class"])]
    codes = area_lad_codes(ctx.area)
    cells = {
        "kind": "cells",
        "name": f"Hotspot cells ({cell_size:g} m)",
        "values": values,
        "field": "class",
        "colors": {c: CLASS_COLOURS[c] for c in present},
        "tooltip": maps.tooltip(
            ("place", "Streets"),
            ("near_town", "Nearest town"),
            ("lsoa_name", "LSOA"),
            ("lad_name", "District"),
            ("class", "Hotspot class"),
            *([] if ctx.public else [("gi_z", "Gi* z-score", 2)]),
        ),
        "show": True,
    }
    layers = [
        maps.boundary_layer(
            "LSOA boundaries",
            lsoa_features(ctx, codes),
            colour="#9aa5ae",
            weight=0.5,
            tooltip="lsoa11_name",
        ),
        maps.boundary_layer(
            "District boundaries",
            _district_outlines(ctx.area),
            colour="#15324a",
            weight=1.4,
            tooltip="lad_name",
        ),
        maps.street_layer("street_points"),
        cells,
        maps.town_layer(towns(), codes),
    ]
    legend = {"title": "Gi* hotspot class", "items": [[CLASS_COLOURS[c], c] for c in present]}
    return maps.map_spec(
        "Gi* hotspots (significant cells)", layers, legend, basemap=ctx.options.get("basemap")
    )


def _district_outlines(area: str) -> list[dict]:
    """The area's district polygons (WGS84), or [] when not packaged."""
    from harmscope.analysis.hotspot_inputs import area_lad_codes
    from harmscope.report import maps

    try:
        from harmscope.reference import lad_boundaries

        feats = lad_boundaries(area_lad_codes(area))["features"]
    except Exception:  # the outline is decoration: without it the map still stands
        return []
    return [
        maps.feature(f["geometry"], {"lad_name": f["properties"].get("lad_name")}) for f in feats
    ]


def _area_towns(area: str):
    """The packaged town centres in the area's districts. The list covers Kent and Medway
    only, so elsewhere a hotspot is named by no town rather than one in another force
    ("35 km from Dartford" for a cell in Harlow; issue 19)."""
    from harmscope.analysis.hotspot_inputs import area_lad_codes
    from harmscope.analysis.places import towns

    t, codes = towns(), area_lad_codes(area)
    return t if codes is None else t[t["lad_code"].isin(codes)]
