"""The hotspot map and alerts table sections of the report, with disclosure control."""

from __future__ import annotations

from datetime import date

import pandas as pd

from harmscope.privacy.audience import is_checked
from harmscope.report.section import ReportContext
from harmscope.report.sections import alerts as alerts_section
from harmscope.report.sections import hotspots as hotspots_section


def _ctx(store, audience):
    return ReportContext(
        store=store,
        area="Kent Police",
        date_from=date(2025, 1, 1),
        date_to=date(2025, 12, 1),
        audience=audience,
    )


def test_hotspot_section_public(kent_store):
    sec = hotspots_section.build(_ctx(kent_store, "public"))
    assert sec.disclosure_checked and sec.key == "hotspots"
    assert all(is_checked(t) for t in sec.tables.values())
    # issue 13: the map is a zoomable Leaflet spec (report/maps.py), not a Vega-Lite geoshape,
    # so the d3 ring-winding check went with it
    spec = sec.charts["hotspot_map"]
    layers = {layer["kind"]: layer for layer in spec["layers"]}
    districts = next(la for la in spec["layers"] if la["name"] == "District boundaries")
    assert len(districts["features"]) == 13  # Kent Police: 12 Kent districts and Medway
    cells = layers["cells"]
    keys = {k for row in cells["values"] for k in row}
    # no counts (nor z, which could give one back) on the public map: classes and names only
    shown = {"unit", "place", "near_town", "lsoa_name", "lad_name", "class", "lon", "lat"}
    assert keys <= shown | {"geometry"}
    assert "gi_z" not in sec.tables["top_hot_cells"]
    assert len(cells["values"]) == len(sec.tables["hotspot_map"])
    # the street layer is the published table of distinct map points, without counts
    assert layers["streets"]["table"] == "street_points"
    assert list(sec.tables["street_points"].columns) == ["lon", "lat", "location"]
    assert "Holm" in sec.method


def test_alerts_section_ranked_and_protected(kent_store):
    sec = alerts_section.build(_ctx(kent_store, "public"))
    t = sec.tables["alerts"]
    assert is_checked(t) and sec.disclosure_checked
    shown = pd.to_numeric(t["observed"], errors="coerce").dropna()
    assert not ((shown > 0) & (shown < 5)).any()
    assert "too short" in sec.notes[0] or "impossible" in sec.notes[0]
    internal = alerts_section.build(_ctx(kent_store, "internal")).tables["alerts"]
    assert internal["harm_excess"].is_monotonic_decreasing
