"""Grids, projections, neighbours and KDE."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from harmscope.analysis import grid as g
from harmscope.analysis.kde import nrd_bandwidth, quartic_kde
from harmscope.errors import HarmscopeError


def test_bng_round_trip_and_kent_extent(kent_store):
    pts = g.EventFilter(date_from=date(2025, 1, 1), date_to=date(2025, 1, 1)).points(kent_store)
    # Kent and Medway lie within roughly E 530-655 km, N 105-195 km of the National Grid
    assert pts.x.between(530_000, 655_000).mean() > 0.999
    assert pts.y.between(105_000, 195_000).mean() > 0.999
    lon, lat = g.to_wgs84(pts.x.to_numpy(), pts.y.to_numpy())
    np.testing.assert_allclose(lon, pts.longitude, atol=1e-7)
    np.testing.assert_allclose(lat, pts.latitude, atol=1e-7)
    # events are grouped at their snap points in the engine: far fewer rows than events
    assert len(pts) < pts["count"].sum() / 2


def test_auto_cell_size_is_sfhotspot_rule():
    assert g.auto_cell_size(100_000, 61_400) == 1200  # 61.4 km / 50 = 1228 -> 1200
    assert g.auto_cell_size(3_000, 9_000) == 100  # never below 100 m
    assert g.auto_cell_size(20_000, 12_345) == 200


def test_grid_counts_conserve_events():
    rng = np.random.default_rng(0)
    x, y = rng.uniform(0, 10_000, 500), rng.uniform(0, 5_000, 500)
    pts = __import__("pandas").DataFrame({"x": x, "y": y, "count": 1, "value": 2.0})
    grid = g.make_grid(x, y)
    counts, values, outside = grid.count(pts)
    assert counts.sum() == 500 and outside == 0 and values.sum() == 1000
    assert grid.cell_size == 100 and grid.auto_size
    # the buffered grid contains every point's cell
    assert (grid.locate(x, y) >= 0).all()


def test_neighbour_rules_and_errors():
    libpysal = pytest.importorskip("libpysal")
    rng = np.random.default_rng(1)
    pts = rng.uniform(0, 1000, (60, 2))
    ours = g.knn_weights(pts[:, 0], pts[:, 1], 5).toarray()
    theirs, _ = libpysal.weights.KNN(pts, k=5).full()
    np.testing.assert_array_equal(ours, theirs)
    for bad in ("rook", "distance:-5", "knn:0", "distance:abc"):
        with pytest.raises(HarmscopeError):
            g.parse_neighbours(bad)
    assert g.parse_neighbours("distance:500") == ("distance", 500.0)


def test_clip_drops_cells_outside_and_keeps_true_areas():
    import shapely

    circle = shapely.Point(5000, 5000).buffer(3000)
    grid = g.make_grid(np.array([]), np.array([]), cell_size=500, boundary=circle)
    assert grid.clipped
    assert grid.cells.area_m2.sum() == pytest.approx(circle.area, rel=1e-9)
    assert grid.n < grid.nx * grid.ny


def test_quartic_kde_matches_brute_force_and_keeps_mass():
    rng = np.random.default_rng(2)
    px, py = rng.uniform(2000, 8000, 200), rng.uniform(2000, 8000, 200)
    w = rng.uniform(0.5, 3, 200)
    grid = g.make_grid(np.array([0.0, 10_000]), np.array([0.0, 10_000]), cell_size=100)
    dens = quartic_kde(px, py, w, grid, bandwidth=750)
    cx, cy = grid.cells.x.to_numpy(), grid.cells.y.to_numpy()
    sample = rng.choice(grid.n, 300, replace=False)
    d2 = (cx[sample, None] - px[None]) ** 2 + (cy[sample, None] - py[None]) ** 2
    brute = (3 / (np.pi * 750**2) * np.clip(1 - d2 / 750**2, 0, None) ** 2 * w).sum(axis=1)
    np.testing.assert_allclose(dens[sample], brute, rtol=1e-10, atol=1e-15)
    # the surface integrates to the weighted total (all mass inside the grid)
    assert dens.sum() * 100**2 == pytest.approx(w.sum(), rel=2e-3)


def test_nrd_bandwidth_formula():
    rng = np.random.default_rng(3)
    x, y = rng.normal(0, 1000, 400), rng.normal(0, 3000, 400)

    def nrd(v):  # MASS::bandwidth.nrd
        q1, q3 = np.percentile(v, [25, 75])
        return 4 * 1.06 * min(np.std(v, ddof=1), (q3 - q1) / 1.34) * len(v) ** -0.2

    assert nrd_bandwidth(x, y) == pytest.approx((nrd(x) + nrd(y)) / 2)
    counts = np.full(400, 2)
    assert nrd_bandwidth(x, y, counts) == pytest.approx(
        (nrd(np.repeat(x, 2)) + nrd(np.repeat(y, 2))) / 2
    )


def test_kde_on_real_kent_violence(kent_store):
    from harmscope.analysis.kde import kde

    res = kde(
        kent_store,
        crime_types=["Violence and sexual offences"],
        date_from=date(2025, 7, 1),
        cell_size=500,
        bandwidth=1500,
    )
    s = res.summary
    assert s["bandwidth_m"] == 1500 and not s["bandwidth_automatic"]
    # most of the mass lands on the clipped Kent grid; the coast and county edge lose a little
    assert 0.9 < s["mass_share_on_grid"] <= 1.0
    assert res.table["kde"].max() > 10 * res.table["kde"].mean()
    assert res.charts["map"]["mark"]["type"] == "geoshape"
    auto = kde(kent_store, crime_types=["Robbery"], date_from=date(2025, 7, 1))
    assert auto.summary["bandwidth_automatic"]
    assert any("Bandwidth chosen automatically" in n for n in auto.notes)
