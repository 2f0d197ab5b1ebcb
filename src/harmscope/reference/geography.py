"""Packaged boundaries of every police force area and point-in-polygon placement in 2011 LSOAs.

The 2011 LSOA polygons of England and Wales are packaged per police force (the districts
``geography/lad.csv`` gives each force), built by ``scripts/build_boundaries.py``:

- ``boundaries/placement/<force>.geojson.gz``: unsimplified, 7 decimals (~1 cm), for placing
  police points. Police points are snapped to street centre lines, and LSOA edges follow
  streets, so many points lie within a metre of an edge: rounding to 5 decimals alone moves
  about 0.5% of points into a neighbour, which is why placement does not use the map copy.
- ``boundaries/maps/<force>_lsoa.geojson.gz`` and ``<force>_lad.geojson.gz``: simplified
  copies for maps, LSOA units and clipping.
- ``boundaries/forces.geojson.gz``: the 43 force areas, dissolved from their LSOAs.

Only the forces whose bounding box holds a point are read, so a Kent file loads Kent and
its neighbours, not all of England and Wales.
"""

from __future__ import annotations

import copy
import gzip
import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import shape

from harmscope.errors import HarmscopeError
from harmscope.reference._files import (
    _read_geojson_cached,
    _stamp,
    read_geojson,
    read_geojson_shared,
    read_table,
    resolve,
)

PLACEMENT_INDEX_FILE = "boundaries/placement/index.csv"
FORCES_MAP_FILE = "boundaries/forces.geojson.gz"
LSOA21_FILE = "geography/lsoa21_to_lsoa11.csv.gz"

LSOA_PROPERTIES = ("lsoa11_code", "lsoa11_name", "lad_code")
LAD_PROPERTIES = ("lad_code", "lad_name")
FORCE_PROPERTIES = ("force_slug", "force_name")
INDEX_COLUMNS = {
    "force_slug": "string",
    "force_name": "string",
    "lsoas": "Int64",
    "min_lon": "float64",
    "min_lat": "float64",
    "max_lon": "float64",
    "max_lat": "float64",
}
LSOA21_COLUMNS = {"lsoa21_code": "string", "lsoa11_code": "string", "change": "string"}


def placement_file(slug: str) -> str:
    return f"boundaries/placement/{slug}.geojson.gz"


def lsoa_map_file(slug: str) -> str:
    return f"boundaries/maps/{slug}_lsoa.geojson.gz"


def lad_map_file(slug: str) -> str:
    return f"boundaries/maps/{slug}_lad.geojson.gz"


def placement_index() -> pd.DataFrame:
    """One row per force: slug, name, LSOA count and WGS84 bounding box of its polygons."""
    return read_table(PLACEMENT_INDEX_FILE, INDEX_COLUMNS, unique="force_slug")


def forces_for_lads(lad_codes: Iterable[str] | None) -> list[str]:
    """Slugs of the forces whose areas hold these districts (every force when None)."""
    from harmscope.reference.tables import load_forces, load_lad

    index = placement_index()
    if lad_codes is None:
        return sorted(index.force_slug.astype(str))
    lad = load_lad()
    names = set(lad.loc[lad.lad_code.isin(list(lad_codes)), "force"].dropna().astype(str))
    forces = load_forces()
    slugs = set(forces.loc[forces.force_name.isin(names), "force_slug"].astype(str))
    return sorted(slugs & set(index.force_slug.astype(str)))


def _merged(files: list[str], required: tuple[str, ...], codes, key: str) -> dict:
    feats = []
    for rel in files:
        fc = read_geojson_shared(rel, required)
        feats.extend(f for f in fc["features"] if codes is None or f["properties"][key] in codes)
    feats.sort(key=lambda f: f["properties"][key])
    return copy.deepcopy({"type": "FeatureCollection", "features": feats})


def lsoa_boundaries(lad_codes: Iterable[str] | None = None) -> dict:
    """2011 LSOA polygons (simplified for maps) of these districts, a GeoJSON dict.

    ``None`` reads every force's file (all of England and Wales, about 35,000 polygons)."""
    codes = None if lad_codes is None else set(lad_codes)
    files = [lsoa_map_file(s) for s in forces_for_lads(codes)]
    return _merged(files, LSOA_PROPERTIES, codes, "lad_code")


def lad_boundaries(lad_codes: Iterable[str] | None = None) -> dict:
    """Districts dissolved from their LSOAs (simplified), a GeoJSON dict; every district of
    England and Wales when ``lad_codes`` is None."""
    codes = None if lad_codes is None else set(lad_codes)
    files = [lad_map_file(s) for s in forces_for_lads(codes)]
    return _merged(files, LAD_PROPERTIES, codes, "lad_code")


def force_boundaries() -> dict:
    """The 43 police force areas of England and Wales, dissolved from their LSOAs."""
    return read_geojson(FORCES_MAP_FILE, FORCE_PROPERTIES)


def load_lsoa21_lookup() -> pd.DataFrame:
    """2021 LSOA code -> 2011 LSOA code(s) with the ONS change indicator (U unchanged, S split,
    M merged, X irregular). England only; see reference/data/SOURCES.md."""
    return read_table(LSOA21_FILE, LSOA21_COLUMNS)


@lru_cache(maxsize=64)
def _placement_tree(stamp: tuple[str, int, int], rel: str) -> tuple[shapely.STRtree, np.ndarray]:
    fast = _fast_polygons(stamp)
    if fast is not None:
        codes, geoms = fast
    else:
        # Read uncached: the parsed JSON of a large force is ten times its polygons' size.
        fc = _read_geojson_cached.__wrapped__(stamp, LSOA_PROPERTIES)
        feats = sorted(fc["features"], key=lambda f: f["properties"]["lsoa11_code"])
        codes = np.array([f["properties"]["lsoa11_code"] for f in feats], dtype=object)
        geoms = np.array([shape(f["geometry"]) for f in feats], dtype=object)
    return shapely.STRtree(geoms), codes


_PROPERTY = {p: re.compile(rb'"' + p.encode() + rb'"\s*:\s*"([^"\\]+)"') for p in LSOA_PROPERTIES}


def _fast_polygons(stamp: tuple[str, int, int]) -> tuple[np.ndarray, np.ndarray] | None:
    """A placement file's (codes, polygons) in code order, parsed by GEOS (shapely's
    from_geojson) rather than json + shape: about four times faster, the same coordinates
    (both parse decimals to the nearest double). Used only when every feature plainly has
    the three properties and a polygon; anything else is None, and the checked reader
    (which names the fault) reads the file instead. A stop-and-search file with a few
    points scattered across England loads some thirty forces, so this is most of its time."""
    path = stamp[0]
    try:
        with (gzip.open if path.endswith(".gz") else open)(path, "rb") as fh:
            raw = fh.read()
        collection = shapely.from_geojson(raw)
    except (OSError, EOFError, shapely.errors.GEOSException, ValueError):
        return None
    geoms = shapely.get_parts(collection) if collection.geom_type == "GeometryCollection" else None
    if geoms is None or not len(geoms):
        return None
    found = {p: rx.findall(raw) for p, rx in _PROPERTY.items()}
    if any(len(v) != len(geoms) for v in found.values()):
        return None
    if not np.isin(shapely.get_type_id(geoms), (3, 6)).all():  # Polygon, MultiPolygon
        return None
    codes = np.array([c.decode("utf-8") for c in found["lsoa11_code"]], dtype=object)
    order = np.argsort(codes, kind="stable")  # as sorted() orders the features
    return codes[order], geoms[order]


def _as_float(values) -> np.ndarray:
    # pandas nullable columns (Float64 with pd.NA) do not convert with np.asarray.
    if hasattr(values, "to_numpy"):
        return values.to_numpy(dtype=float, na_value=np.nan).ravel()
    return np.asarray(values, dtype=float).ravel()


def _place_in_force(slug: str, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Lowest 2011 LSOA code of the force's polygons holding each point, or None."""
    rel = placement_file(slug)
    tree, codes = _placement_tree(_stamp(resolve(rel)), rel)
    pt_idx, poly_idx = tree.query(shapely.points(lon, lat), predicate="intersects")
    found = np.full(lon.size, None, dtype=object)
    if pt_idx.size:
        # Tree order is code order, so the smallest polygon index is the lowest code.
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.r_[True, pt_idx[1:] != pt_idx[:-1]]
        found[pt_idx[first]] = codes[poly_idx[first]]
    return found


def _place_unique(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    found = np.full(lon.size, None, dtype=object)
    index = placement_index()
    for row in index.itertuples(index=False):
        inside = (
            (lon >= row.min_lon)
            & (lon <= row.max_lon)
            & (lat >= row.min_lat)
            & (lat <= row.max_lat)
        )
        if not inside.any():
            continue
        hit = _place_in_force(str(row.force_slug), lon[inside], lat[inside])
        at = np.flatnonzero(inside)
        for i, code in zip(at, hit, strict=True):
            # a point on a force boundary is in two forces' polygons: keep the lower code
            if code is not None and (found[i] is None or code < found[i]):
                found[i] = code
    return found


def place_points(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """2011 LSOA code containing each WGS84 point, or None (object array, same length).

    None for missing coordinates and for points outside England and Wales. A point exactly
    on a shared edge goes to the lower LSOA code, so results do not depend on file order.
    Repeated points (police snap points repeat a lot) are looked up once.
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
    # One complex number per point: a 1-D unique is several times faster than axis=0.
    uniq, inverse = np.unique(lon[ok] + 1j * lat[ok], return_inverse=True)
    found = _place_unique(np.ascontiguousarray(uniq.real), np.ascontiguousarray(uniq.imag))
    out[ok] = found[inverse.ravel()]
    return out
