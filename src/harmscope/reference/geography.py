"""Packaged boundaries and point-in-polygon placement of police points in 2011 LSOAs.

Two copies of the Kent and Medway LSOA polygons are shipped: a simplified one for maps and
an unsimplified one (7 decimals, gzipped) for placement. Police points are snapped to street
centre lines, and LSOA edges follow streets, so many points lie within a metre of an edge:
rounding the map copy to 5 decimals alone moves about 0.5% of points into a neighbour, which
is why placement does not use it (measured in scripts/build_reference.py and the tests).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import shapely
from shapely.geometry import shape

from harmscope.errors import HarmscopeError
from harmscope.reference._files import _stamp, read_geojson, read_geojson_shared, resolve

LSOA_MAP_FILE = "boundaries/lsoa11_kent_medway.geojson"
LAD_MAP_FILE = "boundaries/lad_kent_medway.geojson"
LSOA_PLACEMENT_FILE = "boundaries/lsoa11_kent_medway_placement.geojson.gz"

LSOA_PROPERTIES = ("lsoa11_code", "lsoa11_name", "lad_code")
LAD_PROPERTIES = ("lad_code", "lad_name")


def lsoa_boundaries() -> dict:
    """2011 LSOA polygons of Kent and Medway (simplified for maps), a GeoJSON dict."""
    return read_geojson(LSOA_MAP_FILE, LSOA_PROPERTIES)


def lad_boundaries() -> dict:
    """The 13 Kent and Medway districts, dissolved from the LSOAs, a GeoJSON dict."""
    return read_geojson(LAD_MAP_FILE, LAD_PROPERTIES)


@lru_cache(maxsize=2)
def _placement_tree(stamp: tuple[str, int, int]) -> tuple[shapely.STRtree, np.ndarray]:
    fc = read_geojson_shared(LSOA_PLACEMENT_FILE, LSOA_PROPERTIES)
    feats = sorted(fc["features"], key=lambda f: f["properties"]["lsoa11_code"])
    codes = np.array([f["properties"]["lsoa11_code"] for f in feats], dtype=object)
    geoms = np.array([shape(f["geometry"]) for f in feats], dtype=object)
    return shapely.STRtree(geoms), codes


def _as_float(values) -> np.ndarray:
    # pandas nullable columns (Float64 with pd.NA) do not convert with np.asarray.
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=float, na_value=np.nan).ravel()
    return np.asarray(values, dtype=float).ravel()


def place_points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """2011 LSOA code containing each WGS84 point, or None (object array, same length).

    None for missing coordinates and for points outside the packaged polygons (Kent and
    Medway only). A point exactly on a shared edge goes to the lower LSOA code, so results
    do not depend on file order. Repeated points (police snap points repeat a lot) are
    looked up once.
    """
    lon, lat = _as_float(lon), _as_float(lat)
    if lon.shape != lat.shape:
        raise HarmscopeError(
            f"lon has {lon.size} values but lat has {lat.size}",
            where="place_points(lon, lat)",
            fix="pass one longitude and one latitude per point",
        )
    out = np.full(lon.size, None, dtype=object)
    ok = np.isfinite(lon) & np.isfinite(lat)
    if not ok.any():
        return out
    tree, codes = _placement_tree(_stamp(resolve(LSOA_PLACEMENT_FILE)))
    # One complex number per point: a 1-D unique is several times faster than axis=0.
    uniq, inverse = np.unique(lon[ok] + 1j * lat[ok], return_inverse=True)
    pt_idx, poly_idx = tree.query(shapely.points(uniq.real, uniq.imag), predicate="intersects")
    found = np.full(len(uniq), None, dtype=object)
    if pt_idx.size:
        # Tree order is code order, so the smallest polygon index is the lowest code.
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
        found[pt_idx[first]] = codes[poly_idx[first]]
    out[ok] = found[inverse.ravel()]
    return out
