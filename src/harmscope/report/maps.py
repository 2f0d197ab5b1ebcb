"""Zoomable maps for the report, drawn by the vendored Leaflet (report/vendor) with no tiles.

A map is a small spec (``{"harmscope_map": 1, ...}``) that a section puts in ``Section.charts``
like a Vega-Lite chart, so the publishing path treats it the same way: its data rows are the
section's same-named protected table, in ``values`` where ``chart_drawn_from`` reads them.
What it draws beside the data carries no counts:

* packaged boundaries (LSOAs, districts) and town names, as GeoJSON features;
* the street layer: police.uk's distinct anonymised map points with their "On or near" names,
  named by ``table``: the section's published (no-count) table, which the renderer inlines
  once per page. It is faint, has no counts and is one point per map point, never per crime.

The renderer (``render.py`` and the template's script) moves every ``features`` list into one
page-level store, so boundaries shared by two maps are written once.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

MAP_KEY = "harmscope_map"
_DECIMALS = 5  # about 1 m: plenty for a map, and the file stays small
# Streets appear from this zoom (about 1:70,000: a town fills the map); below it the points
# would be a grey smear over the data.
STREETS_MIN_ZOOM = 13


def is_map(spec: dict) -> bool:
    return isinstance(spec, dict) and MAP_KEY in spec


def round_coords(coords):
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(float(c), _DECIMALS) for c in coords]
    return [round_coords(c) for c in coords]


def feature(geometry: dict, properties: dict) -> dict:
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {
            "type": geometry["type"],
            "coordinates": round_coords(geometry["coordinates"]),
        },
    }


def map_spec(
    title: str,
    layers: list[dict],
    legend: dict | None = None,
    height: int = 520,
    basemap: str | None = None,
) -> dict:
    """A Leaflet map: ``layers`` in drawing order (first at the bottom); ``basemap`` a tile URL
    template the user asked for (``--basemap``), else none: nothing is fetched."""
    spec = {MAP_KEY: 1, "title": title, "height": height, "layers": layers, "legend": legend}
    if basemap:
        spec["basemap"] = {"url": basemap}
    return spec


def check_basemap(url: str) -> str:
    """A tile URL template as Leaflet reads it: http(s), with {z}, {x} and {y}."""
    from harmscope.errors import HarmscopeError

    missing = [k for k in ("{z}", "{x}", "{y}") if k not in url]
    if not url.startswith(("https://", "http://")) or missing:
        raise HarmscopeError(
            f"not a tile URL template: {url!r}"
            + (f" (no {', '.join(missing)})" if missing else " (not http or https)"),
            where="--basemap",
            fix="give a template such as https://tiles.example.org/{z}/{x}/{y}.png, from a tile "
            "server your organisation runs or is licensed to use",
        )
    return url


def basemap_note(url: str | None) -> str | None:
    """The sentence that says which basemap the maps use (none by default)."""
    if not url:
        return None
    host = url.split("/")[2]
    return (
        f"Basemap: tiles from {host} (asked with --basemap), fetched from that server whenever "
        "the report is opened; without it the maps fetch nothing."
    )


def boundary_layer(
    name: str,
    features: list[dict],
    *,
    colour: str,
    weight: float,
    tooltip: str | None = None,
    show: bool = True,
) -> dict:
    """Outlines (no fill). ``tooltip``: the property shown on hover (e.g. the LSOA name)."""
    return {
        "kind": "outline",
        "name": name,
        "features": features,
        "style": {"color": colour, "weight": weight},
        "tooltip": tooltip,
        "show": show,
    }


def lsoa_features(lad_codes: set[str] | None = None) -> list[dict]:
    """Packaged 2011 LSOA polygons (map copy) of these districts, as features with their code
    and name; the same list for every map of a report, so the page holds it once.

    The polygons are those of ``reference.lsoa_boundaries`` in its order (by district, then as
    packaged), read from the shared cached files without its defensive deep copy: ``feature``
    only reads them and builds new coordinate lists, and the copy of a force's polygons was
    the largest part of this function's time."""
    from harmscope.reference import load_lsoa11
    from harmscope.reference._files import read_geojson_shared
    from harmscope.reference.geography import LSOA_PROPERTIES, forces_for_lads, lsoa_map_file

    codes = None if lad_codes is None else set(lad_codes)
    shared = []
    for slug in forces_for_lads(codes):
        fc = read_geojson_shared(lsoa_map_file(slug), LSOA_PROPERTIES)
        shared.extend(
            f for f in fc["features"] if codes is None or f["properties"]["lad_code"] in codes
        )
    shared.sort(key=lambda f: f["properties"]["lad_code"])
    lsoa = load_lsoa11()
    names = dict(zip(lsoa["lsoa11_code"], lsoa["lsoa11_name"], strict=True))
    return [
        feature(
            f["geometry"],
            {
                "lsoa11_code": f["properties"]["lsoa11_code"],
                "lsoa11_name": names.get(f["properties"]["lsoa11_code"]),
            },
        )
        for f in shared
    ]


def town_layer(towns: pd.DataFrame, bounds_codes: set[str] | None = None) -> dict:
    """Town names (the packaged town-centre table) as labels."""
    t = towns if bounds_codes is None else towns[towns["lad_code"].isin(bounds_codes)]
    feats = [
        feature({"type": "Point", "coordinates": [r.longitude, r.latitude]}, {"name": r.name_short})
        for r in t.itertuples()
    ]
    return {"kind": "towns", "name": "Town names", "features": feats, "show": True}


def street_layer(table_id: str) -> dict:
    """The faint street layer, from the section's published table ``table_id`` (lon, lat,
    location): shown from STREETS_MIN_ZOOM, each point naming its street on hover."""
    return {
        "kind": "streets",
        "name": "Streets (police.uk map points)",
        "table": table_id,
        "min_zoom": STREETS_MIN_ZOOM,
        "show": True,
    }


def rows(df: pd.DataFrame, cols: list[str]) -> list[dict[str, Any]]:
    """Records of a published table for a map's ``values``: missing as None (suppressed)."""
    sub = df[cols].astype(object)
    sub = sub.where(sub.notna(), None)
    return [dict(zip(cols, r, strict=True)) for r in sub.itertuples(index=False)]


def tooltip(*fields: tuple[str, str] | tuple[str, str, int]) -> list[list]:
    """[(field, title[, decimals])]: a number is shown with separators and these decimals."""
    return [list(f) for f in fields]
