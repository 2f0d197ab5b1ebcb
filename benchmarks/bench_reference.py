"""Speed of reference.place_points against a brute-force baseline measured in the same run.

Run: .venv/bin/python benchmarks/bench_reference.py
Prints the time for the distinct located points of the real Kent street files (about the
number one ingest places), for place_points (per-force STRtrees chosen by bounding box,
repeated points looked up once) and for a baseline that tests every point against every
polygon of the same forces with shapely.intersects_xy, and the ratio between them. No timing
is asserted anywhere.
"""

from __future__ import annotations

import time

import duckdb
import numpy as np
import shapely
from _common import SHARED, figure
from shapely.geometry import shape

from harmscope import reference
from harmscope.reference._files import read_geojson_shared
from harmscope.reference.geography import LSOA_PROPERTIES, placement_file, placement_index


def main() -> None:
    glob = SHARED / "police/kent/street/*.csv.gz"
    pts = duckdb.sql(
        f"""SELECT "Longitude" AS lon, "Latitude" AS lat
            FROM read_csv('{glob}', union_by_name=true) WHERE "Longitude" IS NOT NULL"""
    ).df()
    lon, lat = pts.lon.to_numpy(), pts.lat.to_numpy()
    ulon, ulat = np.unique(np.column_stack([lon, lat]), axis=0).T

    reference.place_points(ulon[:10], ulat[:10])  # load and build the tree once
    t0 = time.perf_counter()
    fast = reference.place_points(ulon, ulat)
    t_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    reference.place_points(lon, lat)
    t_all = time.perf_counter() - t0

    # the forces whose box holds a point: Kent and the neighbours its files reach into
    idx = placement_index()
    near = [
        str(r.force_slug)
        for r in idx.itertuples()
        if (
            (ulon >= r.min_lon) & (ulon <= r.max_lon) & (ulat >= r.min_lat) & (ulat <= r.max_lat)
        ).any()
    ]
    feats = sorted(
        (
            f
            for s in near
            for f in read_geojson_shared(placement_file(s), LSOA_PROPERTIES)["features"]
        ),
        key=lambda f: f["properties"]["lsoa11_code"],
    )
    geoms = [shape(f["geometry"]) for f in feats]
    codes = [f["properties"]["lsoa11_code"] for f in feats]
    t0 = time.perf_counter()
    slow = np.full(len(ulon), None, dtype=object)
    for code, g in zip(reversed(codes), reversed(geoms), strict=True):
        slow[shapely.intersects_xy(g, ulon, ulat)] = code
    t_slow = time.perf_counter() - t0

    print(f"forces searched: {', '.join(near)} ({len(geoms):,} polygons)")
    print(f"distinct points: {len(ulon):,}; all located rows: {len(lon):,}")
    print(f"place_points, distinct points: {t_fast:.3f} s")
    print(f"place_points, all rows (repeats looked up once): {t_all:.3f} s")
    print(f"baseline, every point x every polygon: {t_slow:.3f} s")
    print(f"speed-up over baseline: {t_slow / t_fast:.1f}x")
    print(f"results identical to baseline: {bool((fast == slow).all())}")
    # both against the brute force on the distinct points (every point x every polygon)
    figure("place_points_distinct", t_fast, "s", t_slow)
    figure("place_points_all_rows", t_all, "s", t_slow)


if __name__ == "__main__":
    main()
