"""GIS files for an audience (issue 13): GeoJSON per RFC 7946 and a styled GeoPackage.

- ``.geojson`` / ``.json``: WGS84 longitude/latitude (RFC 7946 allows no other CRS),
  counter-clockwise exterior rings, coordinates rounded to 6 decimals (about 0.1 m: finer
  digits only add bytes, RFC 7946 section 11.2). What the cells are (crime types, period, cell
  size, neighbours, weights, audience, method) travels as a top-level ``metadata`` member
  (a foreign member, allowed by RFC 7946 section 6.1) and in a ``<stem>.meta.json`` sidecar,
  because most GIS tools drop foreign members on import.
- ``.gpkg``: British National Grid (EPSG:27700), one layer ``hotspots``, with a QGIS style
  (categorised by ``class``: hot reds, cold blues, not significant transparent) written beside
  it as ``<stem>.qml`` and embedded in the QGIS ``layer_styles`` table, so QGIS opens it styled.
  The same sidecar ``<stem>.meta.json`` as for GeoJSON.

Callers hand in ``pub.tables[...]`` (the published, disclosure-checked cells) and metadata
built from the Publication (``metadata``), never a frame of their own.
"""

from __future__ import annotations

import json
import sqlite3
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.result import frame_records
from harmscope.errors import HarmscopeError

DECIMALS = 6
LAYER = "hotspots"
STYLE_NAME = "harmscope hotspots"

# Gi* classes: fill (r, g, b, alpha) and the legend label. Reds and blues as the report's maps
# (analysis.hotspots.CLASS_COLOURS); "not significant" is transparent so the basemap shows.
CLASS_STYLE = {
    "hot 99%": ((178, 24, 43, 255), "Hot spot, 99% confidence"),
    "hot 95%": ((239, 138, 98, 255), "Hot spot, 95% confidence"),
    "hot 90%": ((253, 219, 199, 255), "Hot spot, 90% confidence"),
    "not significant": ((240, 240, 240, 0), "Not significant"),
    "cold 90%": ((209, 229, 240, 255), "Cold spot, 90% confidence"),
    "cold 95%": ((103, 169, 207, 255), "Cold spot, 95% confidence"),
    "cold 99%": ((33, 102, 172, 255), "Cold spot, 99% confidence"),
}


def metadata(pub, summary: dict, *, crime_types, period: tuple[str, str], units: str) -> dict:
    """What an export's cells are, from a finished Publication (texts and audience) and the
    analysis settings; no figure that is not published (no counts)."""
    return {
        "title": "harmscope hotspot cells",
        "crime_types": list(crime_types) if crime_types else "all",
        "period": {"from": period[0], "to": period[1]},
        "units": units,
        "cell_size_m": summary.get("cell_size_m") if units == "grid" else None,
        "neighbours": summary.get("neighbours"),
        "weights": summary.get("weight", "none"),
        "correction": summary.get("correction"),
        "permutations": summary.get("permutations"),
        "audience": pub.audience.name,
        "audience_label": pub.audience.label,
        "disclosure_control": (
            f"counts under {pub.audience.threshold} and cells that would reveal them are null"
            if pub.audience.suppress
            else "none (counts as held)"
        ),
        "method": pub.texts.get("method"),
        "notes": list(pub.texts.get("notes") or []),
        "source": "police.uk open data (Open Government Licence v3.0)",
    }


def _sidecar(out: Path, meta: dict | None) -> None:
    if meta is not None:
        path = out.with_name(f"{out.stem}.meta.json")
        path.write_text(json.dumps(meta, indent=2, allow_nan=False), encoding="utf-8")


def write_geojson(geoms_bng, table: pd.DataFrame, out: Path, meta: dict | None = None) -> Path:
    """RFC 7946 FeatureCollection of ``table``'s rows (geometries given in BNG)."""
    import shapely

    from harmscope.analysis.grid import geoms_to_wgs84

    geoms = np.asarray(geoms_to_wgs84(np.asarray(geoms_bng, dtype=object)), dtype=object)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, DECIMALS))
    # RFC 7946 section 3.1.6: exterior rings counter-clockwise, holes clockwise
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    doc: dict = {"type": "FeatureCollection"}
    if meta is not None:
        doc["metadata"] = meta
    doc["features"] = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(g), "properties": rec}
        for g, rec in zip(geoms, frame_records(table), strict=True)
    ]
    # allow_nan=False: a NaN would be invalid JSON; suppressed cells must be null
    out.write_text(json.dumps(doc, allow_nan=False), encoding="utf-8")
    _sidecar(out, meta)
    return out


def write_gpkg(geoms_bng, table: pd.DataFrame, out: Path, meta: dict | None = None) -> Path:
    """GeoPackage in EPSG:27700 with the QGIS style beside it and in ``layer_styles``."""
    try:
        import geopandas as gpd
    except ImportError:
        raise HarmscopeError(
            "GeoPackage output needs geopandas (with pyogrio), which is not installed",
            where="--out",
            fix="pip install geopandas pyogrio, or write .geojson or .csv",
        ) from None
    t = table.astype(
        {c: "float64" for c in table.columns if str(table[c].dtype) in ("Int64", "Float64")}
    )
    gdf = gpd.GeoDataFrame(t, geometry=list(geoms_bng), crs="EPSG:27700")
    if out.exists():
        out.unlink()  # a GeoPackage is appended to by GDAL; a rerun must start clean
    gdf.to_file(out, driver="GPKG", layer=LAYER)
    qml = style_qml(table)
    out.with_name(f"{out.stem}.qml").write_text(qml, encoding="utf-8")
    embed_style(out, qml, LAYER)
    _sidecar(out, meta)
    return out


def _fill_symbol(
    name: str, rgba: tuple[int, int, int, int], outline: bool | None = None
) -> ET.Element:
    sym = ET.Element(
        "symbol",
        {"type": "fill", "name": name, "alpha": "1", "clip_to_extent": "1", "force_rhr": "0"},
    )
    layer = ET.SubElement(
        sym, "layer", {"class": "SimpleFill", "enabled": "1", "locked": "0", "pass": "0"}
    )
    # by default a transparent cell gets no outline either, so only significant cells draw
    outline = bool(rgba[3]) if outline is None else outline
    props = {
        "color": ",".join(map(str, rgba)),
        "style": "solid",
        "outline_color": "80,80,80,255" if outline else "0,0,0,0",
        "outline_style": "solid" if outline else "no",
        "outline_width": "0.1",
        "outline_width_unit": "MM",
        "joinstyle": "miter",
    }
    # QGIS >= 3.26 reads the Option map; older 3.x read <prop>: write both so either opens it
    opts = ET.SubElement(layer, "Option", {"type": "Map"})
    for k, v in props.items():
        ET.SubElement(opts, "Option", {"type": "QString", "name": k, "value": v})
    for k, v in props.items():
        ET.SubElement(layer, "prop", {"k": k, "v": v})
    return sym


def style_qml(table: pd.DataFrame) -> str:
    """A QGIS style (QML): categorised by ``class`` when the table has it (Gi* cells), else a
    single outline-only symbol (emerging patterns, KDE)."""
    root = ET.Element("qgis", {"version": "3.28.0", "styleCategories": "Symbology"})
    if "class" in table.columns:
        renderer = ET.SubElement(
            root,
            "renderer-v2",
            {
                "type": "categorizedSymbol",
                "attr": "class",
                "symbollevels": "0",
                "enableorderby": "0",
                "forceraster": "0",
            },
        )
        cats = ET.SubElement(renderer, "categories")
        syms = ET.SubElement(renderer, "symbols")
        for i, (value, (rgba, text)) in enumerate(CLASS_STYLE.items()):
            ET.SubElement(
                cats,
                "category",
                {"symbol": str(i), "value": value, "label": text, "render": "true"},
            )
            syms.append(_fill_symbol(str(i), rgba))
    else:
        renderer = ET.SubElement(
            root, "renderer-v2", {"type": "singleSymbol", "symbollevels": "0", "forceraster": "0"}
        )
        syms = ET.SubElement(renderer, "symbols")
        syms.append(_fill_symbol("0", (0, 0, 0, 0), outline=True))  # no class to colour by
    ET.SubElement(root, "layerGeometryType").text = "2"  # polygons
    ET.indent(root)  # one element a line, as QGIS writes it, so a diff of two styles reads
    body = ET.tostring(root, encoding="unicode")
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + body + "\n"


# QGIS's own schema for styles saved in a GeoPackage (QgsOgrProviderUtils / saveStyle)
_LAYER_STYLES = """CREATE TABLE IF NOT EXISTS layer_styles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), f_table_schema TEXT(256),
    f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), styleQML TEXT,
    styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
    update_time DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"""


def embed_style(gpkg: Path, qml: str, layer: str) -> None:
    """Store ``qml`` as the default style of ``layer`` in the GeoPackage's ``layer_styles``
    table, registered in gpkg_contents as an attributes table (as QGIS does), so GDAL keeps
    the file valid."""
    con = sqlite3.connect(gpkg)
    try:
        with con:
            row = con.execute(
                "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = ?", (layer,)
            ).fetchone()
            geom_col = row[0] if row else "geom"
            con.execute(_LAYER_STYLES)
            con.execute(
                "INSERT OR IGNORE INTO gpkg_contents (table_name, data_type, identifier, "
                "description, last_change) VALUES ('layer_styles', 'attributes', "
                "'layer_styles', '', strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
            )
            con.execute("DELETE FROM layer_styles WHERE f_table_name = ?", (layer,))
            con.execute(
                "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, "
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, "
                "owner, ui) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL)",
                (layer, geom_col, STYLE_NAME, qml, "Gi* classes: hot reds, cold blues (harmscope)"),
            )
    finally:
        con.close()
