"""Do searches follow violence? A planted (synthetic, labelled) layout with a known answer,
then the real Kent data (2018 searches against 2024-25 offences)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest
from pyproj import Transformer

from harmscope.analysis import stopsearch as ss
from harmscope.store import Store

TO_WGS = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def _lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = TO_WGS.transform(x, y)
    return float(lon), float(lat)


def _planted_store(search_month: date, crime_month: date) -> Store:
    """SYNTHETIC rows: crimes and searches at chosen BNG points with a known hot-cell answer."""
    store = Store.open(":memory:")
    base_x, base_y = 560_250.0, 150_250.0  # cell centres on a 500 m grid from the min point
    crimes = [((base_x, base_y), 100), ((base_x + 5000, base_y), 50)]
    crimes += [((base_x + 500 * i, base_y + 3000), 1) for i in range(20)]
    for (x, y), n in crimes:
        lon, lat = _lonlat(x, y)
        for _ in range(n):
            store.con.execute(
                "INSERT INTO street_crimes (month, falls_within, longitude, latitude, crime_type,"
                " out_of_area, source_id) VALUES (?, 'Kent Police', ?, ?, 'Violence and sexual offences', FALSE, 0)",
                [crime_month, lon, lat],
            )
    searches = [
        ((base_x, base_y), 30),
        ((base_x + 5000, base_y), 10),
        ((base_x + 1000, base_y + 1000), 10),
    ]
    rows = [(_lonlat(x, y), n) for (x, y), n in searches]
    rows += [((None, None), 5), ((-5.7, 54.8), 5)]  # no location; Northern Ireland
    for (lon, lat), n in rows:
        for _ in range(n):
            store.con.execute(
                "INSERT INTO stop_searches (force, datetime, longitude, latitude, outcome,"
                " month, source_id) VALUES ('kent', ?, ?, ?, 'Arrest', ?, 0)",
                [datetime(search_month.year, search_month.month, 2), lon, lat, search_month],
            )
    return store


@pytest.mark.parametrize("source", ["grid", "gistar"])
def test_planted_hot_cell_shares_are_recovered_exactly(source):
    store = _planted_store(date(2025, 1, 1), date(2025, 1, 1))
    res = ss.intelligence_led(store, top_percents=(1, 5, 50), hotspot_source=source)
    assert res.summary["hotspot_source"] == source
    t = res.table.dropna(subset=["top_percent"]).set_index("top_percent")
    assert res.summary["cells_with_offences"] == 22
    assert res.summary["searches_compared"] == 50
    assert res.summary["searches_without_location"] == 5
    assert res.summary["searches_outside_area"] == 5
    assert t.loc[1, "hot_cells"] == 1
    assert t.loc[1, "offence_share"] == pytest.approx(100 / 170)
    assert t.loc[1, "search_share"] == pytest.approx(30 / 50)
    assert t.loc[5, "hot_cells"] == 2
    assert t.loc[5, "offence_share"] == pytest.approx(150 / 170)
    assert t.loc[5, "search_share"] == pytest.approx(40 / 50)
    assert t.loc[50, "hot_cells"] == 11
    assert res.summary["periods_match"] is True
    assert not any("Different periods" in n for n in res.notes)
    # Wilson interval on the search share.
    assert t.loc[5, "search_share_low"] < 0.8 < t.loc[5, "search_share_high"]
    curve = res.tables["concentration_curve"]
    assert curve.offence_share.is_monotonic_increasing
    assert curve.search_share.iloc[-1] == pytest.approx(1.0)
    if source == "gistar":
        # The 100-offence cell is a Gi* hot spot; the 20 single-offence cells are not.
        gi = res.table[res.table.top_percent.isna()].iloc[0]
        cells = res.tables["cells"].set_index("cell")
        assert cells.loc[cells.offences == 100, "gistar_hot"].all()
        assert not cells.loc[cells.offences == 1, "gistar_hot"].any()
        hot = cells[cells.gistar_hot]
        assert gi.offence_share == pytest.approx(hot.offences.sum() / 170)
        assert gi.search_share == pytest.approx(hot.searches.sum() / 50)


def test_concentration_index_extremes():
    """All searches in the busiest cell -> index near 1; spread evenly -> near 0."""
    import pandas as pd

    cells = pd.DataFrame({"offences": [50] + [1] * 99, "searches": [100] + [0] * 99})
    idx = ss._concentration_index(ss._concentration_curve(cells))
    assert idx["searches"] > 0.97
    even = pd.DataFrame({"offences": list(range(100, 0, -1)), "searches": [3] * 100})
    assert abs(ss._concentration_index(ss._concentration_curve(even))["searches"]) < 0.02


def test_different_periods_are_said_plainly():
    store = _planted_store(date(2018, 6, 1), date(2025, 1, 1))
    res = ss.intelligence_led(store, hotspot_source="grid")
    assert res.summary["periods_match"] is False
    assert any(n.startswith("Different periods") for n in res.notes)


def test_real_kent_searches_against_violence(kent_store):
    res = ss.intelligence_led(kent_store, "2018-01", "2018-12", force="kent")
    s = res.summary
    assert s["periods_match"] is False
    assert s["crime_period"] == "2024-01 to 2025-12"
    assert s["hotspot_source"] == "gistar" and s["gistar_hot_cells"] > 0
    t = res.table.dropna(subset=["top_percent"])
    assert t.offence_share.is_monotonic_increasing and t.search_share.is_monotonic_increasing
    assert ((t.search_share_low <= t.search_share) & (t.search_share <= t.search_share_high)).all()
    counted = kent_store.query(
        "SELECT count(*) AS n FROM stop_searches WHERE latitude IS NULL OR longitude IS NULL"
    ).n[0]
    assert s["searches_without_location"] == counted
    assert s["searches_compared"] + s["searches_outside_area"] + counted == s["searches"] == 6217
    district = res.tables["by_district"]
    assert len(district) == 13  # the 12 Kent districts and Medway
    assert district.searches.sum() + s["searches_outside_districts"] == 6217 - counted
    assert np.all(district.searches_per_offence_low <= district.searches_per_offence)


@pytest.mark.parametrize("source", ["grid", "gistar"])
def test_other_forces_offences_do_not_enter_the_comparison(kent_store, all_store, source):
    """Kent's searches are set against Kent's offences, even in a store that also holds
    Essex and Sussex: the figures equal those from a Kent-only store."""
    args = dict(hotspot_source=source, top_percents=(5.0,))
    alone = ss.intelligence_led(kent_store, "2018-01", "2018-12", **args)
    mixed = ss.intelligence_led(all_store, "2018-01", "2018-12", **args)
    assert mixed.summary == alone.summary
    assert mixed.table.equals(alone.table)
