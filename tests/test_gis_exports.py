"""Issue 13, GIS-ready exports from `harmscope hotspots --out`: GeoJSON per RFC 7946 with its
metadata, a GeoPackage in EPSG:27700 that opens styled in QGIS (QML beside it and in
layer_styles), no hidden counts for the public, and the district cell-size rule."""

from __future__ import annotations

import json
import re
import sqlite3
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from harmscope.cli import main

THRESHOLD = 5


def _args(db, out, *extra):
    return [
        "hotspots",
        "--db",
        str(db),
        "--area",
        "Maidstone",
        "--crime-type",
        "Violence and sexual offences",
        "--from",
        "2025-01",
        "--to",
        "2025-03",
        "--audience",
        "public",
        "--threshold",
        str(THRESHOLD),
        "--out",
        str(out),
        "--quiet",
        *extra,
    ]


def _assert_no_hidden_counts(count: pd.Series, value: pd.Series) -> None:
    shown = count.dropna()
    assert count.isna().any(), "a public district export should suppress some small counts"
    assert ((shown == 0) | (shown >= THRESHOLD)).all()  # true zeros shown, 1..4 never
    assert value[count.isna()].isna().all()  # a derived value would give the count away


def _positions(coords):
    if isinstance(coords[0], (int, float)):
        yield coords
    else:
        for c in coords:
            yield from _positions(c)


@pytest.fixture(scope="module")
def geojson_out(kent_store_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("gis") / "maidstone.geojson"
    assert main(_args(kent_store_path, out)) == 0
    return out


def test_geojson_follows_rfc7946_and_carries_its_metadata(geojson_out):
    from harmscope.analysis import grid as gridmod
    from harmscope.analysis.hotspot_inputs import area_boundary

    text = geojson_out.read_text()
    doc = json.loads(text)
    assert doc["type"] == "FeatureCollection" and "crs" not in doc  # RFC 7946 drops crs
    feats = doc["features"]
    assert feats and all(f["type"] == "Feature" for f in feats)
    for f in feats:
        assert f["geometry"]["type"] == "Polygon"
        ring = f["geometry"]["coordinates"][0]
        assert ring[0] == ring[-1] and len(ring) >= 4
        # counter-clockwise exterior (RFC 7946 3.1.6): positive shoelace area
        area = sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False))
        assert area > 0
        for lon, lat in _positions(f["geometry"]["coordinates"]):
            assert -180 <= lon <= 180 and -90 <= lat <= 90
            assert 0.0 < lon < 1.0 and 51.0 < lat < 51.5  # Maidstone, in lon/lat not BNG
    # no coordinate (nor lon/lat property) with more than 6 decimals, in the text as written
    assert not re.search(r"\d\.\d{7,}", json.dumps([f["geometry"] for f in feats]))
    assert all(len(str(f["properties"]["lat"]).split(".")[-1]) <= 6 for f in feats)
    assert "NaN" not in text

    boundary = area_boundary("Maidstone")
    x0, y0, x1, y1 = boundary.bounds
    size = gridmod.district_cell_size(x1 - x0, y1 - y0)
    sidecar = json.loads(geojson_out.with_name("maidstone.meta.json").read_text())
    for meta in (doc["metadata"], sidecar):
        assert meta["crime_types"] == ["Violence and sexual offences"]
        assert meta["period"] == {"from": "2025-01", "to": "2025-03"}
        assert meta["cell_size_m"] == size and 150 <= size <= 250
        assert meta["neighbours"].startswith("queen") and meta["weights"] == "none"
        assert meta["audience"] == "public" and "Getis-Ord Gi*" in meta["method"]
        # the district rule is announced, and the grid's "set by the user" is not said
        assert any(n.startswith("Cell size chosen for a district") for n in meta["notes"])
        assert not any("set by the user" in n for n in meta["notes"])
        assert "events" not in meta  # no unpublished totals ride along
    props = pd.DataFrame([f["properties"] for f in feats])
    _assert_no_hidden_counts(props["count"], props["value"])


def test_geopackage_opens_in_bng_with_its_qgis_style(kent_store_path, tmp_path):
    pyogrio = pytest.importorskip("pyogrio")
    out = tmp_path / "maidstone.gpkg"
    assert main(_args(kent_store_path, out)) == 0
    assert main(_args(kent_store_path, out)) == 0  # a rerun replaces, never appends
    info = pyogrio.read_info(out, layer="hotspots")
    assert info["crs"] == "EPSG:27700" and info["geometry_type"] == "Polygon"
    df = pyogrio.read_dataframe(out, layer="hotspots")
    assert len(df) == info["features"] and df.total_bounds[0] > 500_000  # metres, not degrees
    _assert_no_hidden_counts(df["count"], df["value"])

    qml = out.with_name("maidstone.qml").read_text()
    with sqlite3.connect(out) as con:
        rows = con.execute(
            "SELECT f_table_name, f_geometry_column, styleQML, useAsDefault FROM layer_styles"
        ).fetchall()
        kind = con.execute(
            "SELECT data_type FROM gpkg_contents WHERE table_name = 'layer_styles'"
        ).fetchone()
    assert rows == [("hotspots", "geom", qml, 1)] and kind == ("attributes",)
    root = ET.fromstring(qml.split("\n", 1)[1])
    renderer = root.find("renderer-v2")
    assert renderer.get("type") == "categorizedSymbol" and renderer.get("attr") == "class"
    cats = {c.get("value"): c.get("symbol") for c in renderer.iter("category")}
    assert set(df["class"]) <= set(cats)
    fill = {
        s.get("name"): s.find("layer/Option/Option[@name='color']").get("value")
        for s in renderer.iter("symbol")
    }
    assert fill[cats["not significant"]].endswith(",0")  # transparent
    assert fill[cats["hot 99%"]] == "178,24,43,255"  # red
    assert fill[cats["cold 99%"]] == "33,102,172,255"  # blue
    assert json.loads(out.with_name("maidstone.meta.json").read_text())["audience"] == "public"


def test_cell_size_given_overrides_the_district_rule(kent_store_path, tmp_path):
    out = tmp_path / "m.geojson"
    assert main(_args(kent_store_path, out, "--cell-size", "400")) == 0
    meta = json.loads(out.read_text())["metadata"]
    assert meta["cell_size_m"] == 400
    assert not any(n.startswith("Cell size chosen for a district") for n in meta["notes"])


def test_style_without_classes_is_an_outline():
    from harmscope.export.gis import style_qml

    root = ET.fromstring(style_qml(pd.DataFrame({"kde": [0.1]})).split("\n", 1)[1])
    assert root.find("renderer-v2").get("type") == "singleSymbol"
