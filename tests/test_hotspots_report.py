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
    spec = sec.charts["hotspot_map"]
    outline, cells = spec["layer"]
    assert len(outline["data"]["values"]) == 13  # Kent Police: 12 Kent districts and Medway
    from shapely.geometry import shape

    # d3-geo needs clockwise exterior rings, or a square fills the whole globe
    ring = shape(cells["data"]["values"][0]["geometry"]).exterior
    assert not ring.is_ccw
    spec = cells
    props = {k for f in spec["data"]["values"] for k in f["properties"]}
    assert props <= {
        "unit",
        "class",
    }  # no counts (nor z, which could give one back) on the public map
    assert "gi_z" not in sec.tables["top_hot_cells"]
    assert len(spec["data"]["values"]) == len(sec.tables["hotspot_map"])
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
