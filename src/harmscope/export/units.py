"""Hotspot units (grid cells or LSOAs) written for an audience: CSV, Excel, parquet, GeoJSON
or GeoPackage, the format from the extension (export.files rules).

The cells written are always the published ones (``publish_hotspots(...).tables["cells"]``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from harmscope.analysis.result import Result

CSV_COLUMNS = ["x", "y", "count", "value", "gi_z", "gi_p", "gi_p_adjusted", "class"]
FORMATS = {
    ".csv": "csv",
    ".xlsx": "table",
    ".parquet": "table",
    ".geojson": "geojson",
    ".json": "geojson",
    ".gpkg": "gpkg",
}


def write_units(
    res: Result,
    extra_cells: pd.DataFrame,
    out: Path,
    cell_size: float | None,
    meta: dict | None = None,
) -> Path:
    """Write one row/feature per unit as CSV, Excel, parquet (tables, BNG x/y), GeoJSON (RFC 7946,
    WGS84) or GeoPackage (EPSG:27700, QGIS style); the format comes from the extension (export.files
    rules). ``meta`` (``export.gis.metadata``) goes into the GeoJSON and a ``.meta.json`` sidecar."""
    from harmscope.export.files import check_out, write_table
    from harmscope.export.rounding import round_for_export

    fmt = FORMATS[check_out(out, formats=FORMATS)]
    t = extra_cells
    cols = [c for c in CSV_COLUMNS if c in t] + [c for c in t.columns if c not in CSV_COLUMNS]
    t = t[cols]
    if fmt in ("csv", "table"):
        return write_table(t, out)
    t = round_for_export(t)
    from harmscope.analysis.grid import cell_boxes
    from harmscope.export import gis

    if "geometry_bng" in res.tables:
        geoms = res.tables["geometry_bng"]["geometry"].to_numpy()
    else:
        geoms = cell_boxes(t.x, t.y, cell_size)
    if fmt == "geojson":
        return gis.write_geojson(geoms, t, out, meta)
    return gis.write_gpkg(geoms, t, out, meta)


def write_hotspot_cells(
    res: Result,
    pub,
    out: Path,
    *,
    period: tuple[str, str],
    area: str | None = None,
    units: str = "grid",
    crime_types: list[str] | None = None,
) -> Path:
    """The published cells of a hotspot run at ``out``, with GIS metadata (period YYYY-MM);
    LSOA polygons are added for a map format."""
    from harmscope.export.gis import metadata

    if units == "lsoa" and Path(out).suffix.lower() != ".csv":
        from harmscope.analysis.hotspot_inputs import lsoa_units

        _, polys = lsoa_units(area)
        res.tables["geometry_bng"] = pd.DataFrame({"geometry": polys})
    meta = metadata(pub, res.summary, crime_types=crime_types, period=period, units=units)
    return write_units(res, pub.tables["cells"], out, res.summary.get("cell_size_m"), meta)
