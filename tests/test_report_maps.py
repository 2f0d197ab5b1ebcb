"""Zoomable offline maps in the report (issue 13): Leaflet, place names, no network."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from harmscope.analysis import grid as gridmod
from harmscope.analysis.places import GENERIC_PLACES
from harmscope.report.render import write_report
from report_helpers import CHARTS_SETTLED

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECTIONS = ["hotspots", "profile_map"]
VIOLENCE = "Violence and sexual offences"


@pytest.fixture(scope="module")
def maidstone(kent_store, tmp_path_factory):
    """Maidstone, 2025, the two map sections, for the internal and the public audience."""
    folder = tmp_path_factory.mktemp("maps")
    out = {}
    for audience in ("internal", "public"):
        path, rep = write_report(
            kent_store,
            "Maidstone",
            "2025-01",
            "2025-12",
            folder / f"maidstone-{audience}.html",
            audience=audience,
            only=SECTIONS,
        )
        assert not rep.errors, [b.error_trace for b in rep.errors]
        assert not rep.publication.dropped, rep.publication.dropped  # every map published
        out[audience] = (path, rep)
    return out


def _section(rep, name):
    return next(b.section for b in rep.sections if b.name == name)


def _page_json(html: str, element_id: str):
    m = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(m.group(1).replace("<\\/", "</"))


def test_district_cell_size_rule():
    # Kent's districts run 10-32 km across their shorter side (report/sections/hotspots.py)
    assert gridmod.district_cell_size(29_100, 22_800) == 250  # Maidstone
    assert gridmod.district_cell_size(13_700, 10_100) == 150  # Dartford: kept at 150
    assert gridmod.district_cell_size(16_600, 9_800) == 150  # Thanet
    assert gridmod.district_cell_size(22_400, 21_900) == 200  # Tonbridge and Malling
    # a force keeps sfhotspot's 1/50 rule (unchanged: tests/test_hotspots_grid.py)
    assert gridmod.auto_cell_size(100_000, 60_000) == 1200


def test_top_cells_name_real_places(maidstone, kent_store):
    _, rep = maidstone["internal"]
    sec = _section(rep, "hotspots")
    assert any("Cell size chosen for a district: 250 m" in n for n in sec.notes)
    top = sec.tables["top_hot_cells"]
    assert list(top.columns[:4]) == ["place", "near_town", "lsoa_name", "lad_name"]
    assert "unit" not in top and top["place"].str.startswith("On or near ").all()
    assert (top["lad_name"] == "Maidstone").all() and top["lsoa_name"].str.match(
        r"Maidstone \d{3}[A-Z]"
    ).all()
    # independent check: the named streets are police.uk locations of the cell's own events
    # (the cell is the 250 m square around its published centre, +-15 m for the rounding)
    first = top.iloc[0]
    x, y = gridmod.to_bng([first.lon], [first.lat])
    pts = kent_store.query(
        "SELECT longitude, latitude, location, count(*) AS n FROM street_crimes "
        "WHERE lad_name = 'Maidstone' AND crime_type = ? AND month BETWEEN '2025-01-01' AND "
        "'2025-12-01' AND longitude IS NOT NULL GROUP BY ALL",
        [VIOLENCE],
    )
    px, py = gridmod.to_bng(pts.longitude.to_numpy(), pts.latitude.to_numpy())
    inside = (np.abs(px - x[0]) <= 140) & (np.abs(py - y[0]) <= 140)
    names = pts[inside].groupby("location")["n"].sum().sort_values(ascending=False)
    streets = [n for n in names.index if n not in GENERIC_PLACES]
    named = ["On or near " + s.strip() for s in first.place.removeprefix("On or near ").split(";")]
    assert named == streets[: len(named)], (named, streets[:4])
    assert first.near_town == "Maidstone"


def test_public_maps_have_no_event_level_points(maidstone, kent_store):
    path, rep = maidstone["public"]
    html = path.read_text(encoding="utf-8")
    specs = _page_json(html, "harmscope-specs")
    refs = _page_json(html, "harmscope-map-refs")
    maps = {k: v for k, v in specs.items() if v.get("harmscope_map")}
    assert set(maps) == {"chart-hotspots-hotspot_map", "chart-map-map"}
    cells = next(la for la in maps["chart-hotspots-hotspot_map"]["layers"] if la["kind"] == "cells")
    assert cells["values"] and not {"count", "value", "gi_z"} & {
        k for r in cells["values"] for k in r
    }
    # the street layer: one point per police.uk map point over every month held, no counts
    streets = [
        refs[la["ref"]]
        for spec in maps.values()
        for la in spec["layers"]
        if la["kind"] == "streets"
    ]
    assert len(streets) == 2 and streets[0] is not None
    assert (
        len({la["ref"] for s in maps.values() for la in s["layers"] if la["kind"] == "streets"})
        == 1
    )
    points = streets[0]["points"]
    assert all(len(p) == 3 for p in points)  # lon, lat, name: nothing to count with
    assert len({(p[0], p[1]) for p in points}) == len(points)  # distinct: never one per crime
    held = kent_store.query(
        "SELECT count(DISTINCT (round(longitude, 5), round(latitude, 5))) AS points, count(*) AS crimes "
        "FROM street_crimes WHERE lad_name = 'Maidstone' AND longitude IS NOT NULL "
        "AND location <> 'No Location'"
    )
    assert len(points) == int(held.points[0]) < int(held.crimes[0])
    # the public top-cells table still names places and hides the z-scores
    top = _section(rep, "hotspots").tables["top_hot_cells"]
    assert "gi_z" not in top and top["place"].notna().all()


@pytest.mark.browser
def test_maps_zoom_offline_in_chromium(maidstone):
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is absent: run scripts/install-chromium.sh to run this test")
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip install playwright")
    path, rep = maidstone["internal"]
    top = _section(rep, "hotspots").tables["top_hot_cells"].iloc[0]
    attempted: list[str] = []

    def only_local(route):
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:  # anything else would leave the machine: block it and remember it
            attempted.append(route.request.url)
            route.abort()

    hot = "#chart-hotspots-hotspot_map"
    state = "el => ({zoom: Number(el.dataset.zoom), streets: el.dataset.streets, rendered: el.dataset.rendered})"
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 1300, "height": 900})
        page.route("**/*", only_local)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_function(CHARTS_SETTLED, timeout=60_000)
        page.locator(hot).scroll_into_view_if_needed()
        first = page.eval_on_selector(hot, state)
        towns = page.eval_on_selector_all(f"{hot} .hs-town", "els => els.map(e => e.textContent)")
        legend = page.inner_text(f"{hot} .hs-legend")
        # zoom with the map's own + button, then fly to the top cell at street level
        page.click(f"{hot} .leaflet-control-zoom-in")
        page.wait_for_timeout(400)
        zoomed_in = page.eval_on_selector(hot, state)
        page.eval_on_selector(
            hot,
            f"el => {{ el.harmscopeMap.setView([{top.lat}, {top.lon}], 16, {{animate: false}}); }}",
        )
        page.wait_for_timeout(300)
        street = page.eval_on_selector(hot, state)
        box = page.locator(hot).bounding_box()
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_timeout(300)
        tooltip = page.inner_text(".leaflet-tooltip")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "map_maidstone_zoomed.png"))
        for _ in range(5):
            page.click(f"{hot} .leaflet-control-zoom-out")
            page.wait_for_timeout(250)
        zoomed_out = page.eval_on_selector(hot, state)
        choropleth = page.eval_on_selector("#chart-map-map", state)
        browser.close()
    assert not attempted, attempted  # nothing asked for beyond the file itself
    assert not errors, errors
    assert first["rendered"] == "1" and choropleth["rendered"] == "1"
    assert "Maidstone" in towns and "hot 99%" in legend
    assert zoomed_in["zoom"] > first["zoom"]
    assert first["streets"] == "0" and street["streets"] == "1" and street["zoom"] == 16
    assert zoomed_out["zoom"] < street["zoom"] and zoomed_out["streets"] == "0"
    # a hot cell's tooltip names its streets, LSOA and district in readers' words
    assert top.place.removeprefix("On or near ").split(";")[0] in tooltip, tooltip
    assert "Streets" in tooltip and "District" in tooltip and "properties." not in tooltip


def test_basemap_only_when_asked(maidstone, kent_store, tmp_path):
    from harmscope.errors import HarmscopeError
    from harmscope.report.maps import check_basemap

    path, _ = maidstone["public"]
    html = path.read_text(encoding="utf-8")
    assert all("basemap" not in s for s in _page_json(html, "harmscope-specs").values())
    assert "nothing is fetched from the network" in html
    url = "https://tiles.example.org/{z}/{x}/{y}.png"
    out, rep = write_report(
        kent_store,
        "Maidstone",
        "2025-10",
        "2025-12",
        tmp_path / "b.html",
        options={"basemap": url},
        only=["hotspots"],
    )
    html = out.read_text(encoding="utf-8")
    spec = _page_json(html, "harmscope-specs")["chart-hotspots-hotspot_map"]
    assert spec["basemap"] == {"url": url}
    assert "tiles.example.org" in html and "fetched when the report is opened" in html
    assert any(
        n.startswith("Basemap: tiles from tiles.example.org")
        for n in _section(rep, "hotspots").notes
    )
    for bad in ("tiles.example.org/{z}/{x}/{y}.png", "https://tiles.example.org/{z}/{x}.png"):
        with pytest.raises(HarmscopeError) as err:
            check_basemap(bad)
        assert err.value.where == "--basemap"
