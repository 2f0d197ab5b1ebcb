"""The pages' maps, drawn with the report's map code (report/maps.py) from a page's payload
rows and the packaged boundaries: presentation only. The rows are the published ones (a
suppressed rate is None and draws grey); the boundaries, town names and grid squares carry no
counts."""

from __future__ import annotations

from typing import Any

import numpy as np

from harmscope.report import maps

_COLOURS = ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"]
MISSING = "#cccccc"


def _quantile_classes(values: list[float]) -> tuple[list[float], list[str], list[list[str]]]:
    """Quantile class edges, colours and legend items (the report's LSOA map rule)."""
    if not values:
        return [], _COLOURS[:1], [[_COLOURS[0], "all areas"]]
    edges = sorted(set(np.round(np.quantile(values, [0.2, 0.4, 0.6, 0.8, 0.95]), 0)))
    colours = _COLOURS[: len(edges) + 1]
    b = [f"{e:,.0f}" for e in edges]
    items = (
        [[colours[0], f"under {b[0]}"]]
        + [[colours[k + 1], f"{b[k]} to {b[k + 1]}"] for k in range(len(edges) - 1)]
        + [[colours[len(edges)], f"{b[-1]} or more"]]
    )
    return [float(e) for e in edges], colours, items


def district_map(totals: list[dict], field: str, title: str, *, public: bool) -> dict | None:
    """A choropleth of districts by ``field`` from the payload's per-district rows
    (``area_code`` a district's GSS code), or None when no row is a packaged district."""
    from harmscope.analysis.places import towns
    from harmscope.reference import lad_boundaries

    codes = {r["area_code"] for r in totals if r.get("area_code")}
    if not codes:
        return None
    feats = [
        maps.feature(f["geometry"], {"lad_code": f["properties"]["lad_code"]})
        for f in lad_boundaries(codes)["features"]
    ]
    if not feats:
        return None
    rows = [
        {
            "area_code": r["area_code"],
            "area_name": r.get("area_name"),
            field: None if r.get(field) is None else round(float(r[field]), 1),
        }
        for r in totals
    ]
    edges, colours, items = _quantile_classes([r[field] for r in rows if r[field] is not None])
    if public:
        items.append([MISSING, "suppressed"])
    layer = {
        "kind": "choropleth",
        "name": title,
        "features": feats,
        "key": "lad_code",
        "values": rows,
        "row_key": "area_code",
        "field": field,
        "edges": edges,
        "colors": colours,
        "missing_color": MISSING,
        "tooltip": maps.tooltip(("area_name", "District"), (field, title, 0)),
        "show": True,
    }
    return maps.map_spec(
        title, [layer, maps.town_layer(towns(), codes)], {"title": title, "items": items}
    )


def hotspot_map(
    cells: list[dict], cell_size: Any, *, public: bool, districts: list[str] = ()
) -> dict | None:
    """The significant Gi* cells of the payload (``x``, ``y`` British National Grid centres and
    ``class``) as squares over the districts they lie in; None when there are none."""
    import pandas as pd

    from harmscope.analysis.gistar import CLASS_ORDER
    from harmscope.analysis.hotspots import CLASS_COLOURS, unit_features

    sig = [c for c in cells if str(c.get("class", "")).startswith(("hot", "cold"))]
    if not sig or not cell_size:
        return None
    table = pd.DataFrame.from_records(sig)
    geoms = unit_features(table, {"grid": True, "cell_size": float(cell_size)}, [])
    keep = [k for k in ("class", "gi_z", "count", "place", "lad_name") if k in table.columns]
    if public:
        keep = [k for k in keep if k not in ("gi_z",)]
    values = [
        {**{k: r.get(k) for k in keep}, "geometry": maps.feature(g["geometry"], {})["geometry"]}
        for r, g in zip(sig, geoms, strict=True)
    ]
    present = [c for c in CLASS_ORDER if c in {v["class"] for v in values}]
    layer = {
        "kind": "cells",
        "name": f"Hotspot cells ({float(cell_size):g} m)",
        "values": values,
        "field": "class",
        "colors": {c: CLASS_COLOURS[c] for c in present},
        "tooltip": maps.tooltip(
            ("class", "Hotspot class"),
            *[(k, label, 2 if k == "gi_z" else 0) for k, label in _CELL_TIPS if k in keep],
        ),
        "show": True,
    }
    legend = {"title": "Gi* hotspot class", "items": [[CLASS_COLOURS[c], c] for c in present]}
    return maps.map_spec("Gi* hotspots (significant cells)", [*_outlines(districts), layer], legend)


def _outlines(codes: list[str]) -> list[dict]:
    """District outlines and town names under the cells (packaged reference data)."""
    if not codes:
        return []
    from harmscope.analysis.places import towns
    from harmscope.reference import lad_boundaries

    feats = [
        maps.feature(f["geometry"], {"lad_name": f["properties"].get("lad_name")})
        for f in lad_boundaries(set(codes))["features"]
    ]
    return [
        maps.boundary_layer("District boundaries", feats, colour="#15324a", weight=1.2),
        maps.town_layer(towns(), set(codes)),
    ]


_CELL_TIPS = (
    ("place", "Streets"),
    ("lad_name", "District"),
    ("count", "Crimes"),
    ("gi_z", "Gi* z-score"),
)
