"""Spatial units for hotspot work: points in British National Grid, regular grids, LSOA units,
and the binary neighbour structures (queen, distance band, k nearest) that Gi* needs.

Distances and areas are only meaningful in a projected CRS, so every point is moved to
EPSG:27700 (metres) before it meets a grid; outputs go back to WGS84 for maps.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from harmscope.errors import HarmscopeError
from harmscope.store.queries.scope import forces_held, weighted_counts

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

_TRANSFORMERS: dict[tuple[str, str], object] = {}


def _transformer(src: str, dst: str):
    key = (src, dst)
    if key not in _TRANSFORMERS:
        from pyproj import Transformer

        _TRANSFORMERS[key] = Transformer.from_crs(src, dst, always_xy=True)
    return _TRANSFORMERS[key]


def to_bng(lon, lat) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 longitude/latitude to British National Grid easting/northing (metres)."""
    x, y = _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def to_wgs84(x, y) -> tuple[np.ndarray, np.ndarray]:
    lon, lat = _transformer(BNG, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def geoms_to_bng(geoms):
    """Shapely geometries from WGS84 longitude/latitude to BNG."""
    return _transform_geoms(geoms, to_bng)


def geoms_to_wgs84(geoms):
    """Shapely geometries from BNG to WGS84 longitude/latitude."""
    return _transform_geoms(geoms, to_wgs84)


def _transform_geoms(geoms, fn):
    import shapely

    return shapely.transform(geoms, lambda xy: np.column_stack(fn(xy[:, 0], xy[:, 1])))


def cell_boxes(x, y, cell_size: float):
    """Square cells of side ``cell_size`` centred on (x, y), as shapely polygons."""
    import shapely

    h = cell_size / 2
    return shapely.box(x - h, y - h, x + h, y + h)


# -- loading points (aggregated in the engine) ------------------------------------------------


def _filters(
    crime_types: list[str] | None,
    date_from: date | None,
    date_to: date | None,
    area: str | None,
    located: bool = True,
) -> tuple[str, list]:
    """WHERE clause (table alias ``s``) for the rows an analysis reads.

    The area (force, county, district name or GSS code) and the category names go through
    harm.resolve_scope, so every analysis accepts the same areas and rejects misspelt
    categories with the same message."""
    from harmscope.analysis.harm import resolve_scope
    from harmscope.store.queries.scope import LOCATED

    scope = resolve_scope(
        area, date_from, date_to, categories=list(crime_types) if crime_types else None
    )
    return (scope.where + (f" AND {LOCATED}" if located else "")), list(scope.params)


def _require_one_force(store, where: str = "TRUE", params: list | None = None) -> None:
    """Without an area, the rows must come from one force: one grid across several forces
    would mix their patterns (and their boundaries)."""
    forces = sorted(forces_held(store, where, list(params or [])))
    if len(forces) > 1:
        raise HarmscopeError(
            f"the store holds {len(forces)} forces here ({', '.join(forces)}); one grid across "
            "them would mix their hotspots",
            where="--area",
            fix=f"pass --area with a force, county or district, e.g. --area '{forces[0]}'",
        )


@dataclass(frozen=True)
class EventFilter:
    """Which street crimes an analysis reads: categories, months and area. The public analyses
    keep their keyword signatures; inside, the four travel together, so every loader (grid
    points, LSOA counts, the unweighted tally) filters on exactly the same rows."""

    crime_types: list[str] | None = None
    date_from: date | None = None
    date_to: date | None = None
    area: str | None = None

    def sql(self, located: bool = True) -> tuple[str, list]:
        """The WHERE clause (alias ``s``) and its parameters."""
        return _filters(self.crime_types, self.date_from, self.date_to, self.area, located)

    def points(
        self, store, weights: pd.Series | None = None, by_month: bool = False
    ) -> pd.DataFrame:
        """Street crimes grouped by their (anonymised, snapped) location: x, y (BNG), count,
        value.

        police.uk snaps every crime to one of a limited set of map points, so grouping by
        coordinates in DuckDB returns a frame far smaller than the rows, without losing
        anything. ``value`` is the harm-weighted count; rows whose category has no weight are
        counted but add nothing to ``value`` (reported as ``unweighted`` by the caller).

        A loader, not an analysis (issue 11): its SQL is the query layer's
        (``store.queries.scope``), this only resolves the scope and projects the points.
        """
        where, params = self.sql()
        if self.area is None:
            _require_one_force(store, where, params)
        keys = {"month": "s.month"} if by_month else {}
        keys.update(longitude="s.longitude", latitude="s.latitude")
        df = weighted_counts(store, where, params, keys, weights)
        if df.empty:
            return df.assign(x=pd.Series(dtype=float), y=pd.Series(dtype=float))
        df["x"], df["y"] = to_bng(df["longitude"].to_numpy(), df["latitude"].to_numpy())
        return df


# -- grids ------------------------------------------------------------------------------------


def auto_cell_size(width: float, height: float, cells_short_side: int = 50) -> float:
    """sfhotspot's rule: 1/50 of the shorter side, then made a multiple of 100 m by adding cells
    (i.e. rounded down, never below 100 m). See sfhotspot ``set_cell_size`` (Ashby, CRAN)."""
    short = min(width, height)
    if short <= 0:
        return 100.0
    size = short / cells_short_side
    return float(max(100.0, math.floor(size / 100.0) * 100.0))


# For one district the report does not use sfhotspot's 1/50 rule: on Kent's districts (10-32 km
# across their shorter side) it gives 200-600 m cells, a few neighbourhoods each, where crime
# analysts map a district at about 150-250 m (a street or two: a block a patrol can cover). So a
# district gets 1/100 of its shorter side, rounded to 50 m and kept within this range; a force
# or county keeps sfhotspot's rule (Kent: 1,200 m). --cell-size overrides both.
DISTRICT_CELL_RANGE = (150.0, 250.0)


def district_cell_size(width: float, height: float) -> float:
    """Cell size for a single district: 1/100 of the shorter side (metres), rounded to 50 m,
    kept within DISTRICT_CELL_RANGE (150-250 m)."""
    low, high = DISTRICT_CELL_RANGE
    short = min(width, height)
    if short <= 0:
        return low
    return float(min(high, max(low, round(short / 100 / 50) * 50)))


def district_rule_note(size: float, short_side_m: float) -> str:
    """The sentence announcing the district rule and its choice (as sfhotspot announces its own)."""
    return (
        f"Cell size chosen for a district: {size:g} m (1/100 of the district's shorter side, "
        f"{short_side_m / 1000:.1f} km, rounded to 50 m and kept within "
        f"{DISTRICT_CELL_RANGE[0]:g}-{DISTRICT_CELL_RANGE[1]:g} m: the scale analysts map a "
        "district at). Override with --cell-size."
    )


@dataclass
class Grid:
    """A regular square grid in BNG; ``cells`` holds only the cells kept after clipping."""

    x0: float
    y0: float
    cell_size: float
    nx: int
    ny: int
    cells: pd.DataFrame  # cell_id, ix, iy, x, y (cell centres)
    auto_size: bool = False
    clipped: bool = False
    notes: list[str] = field(default_factory=list)

    @property
    def n(self) -> int:
        return len(self.cells)

    def locate(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Row position in ``cells`` of each point, or -1 outside the kept cells."""
        ix = np.floor((np.asarray(x) - self.x0) / self.cell_size).astype(np.int64)
        iy = np.floor((np.asarray(y) - self.y0) / self.cell_size).astype(np.int64)
        inside = (ix >= 0) & (ix < self.nx) & (iy >= 0) & (iy < self.ny)
        full = np.where(inside, iy * self.nx + ix, -1)
        ids = self.cells["cell_id"].to_numpy()
        pos = np.searchsorted(ids, full)
        pos = np.clip(pos, 0, len(ids) - 1)
        hit = inside & (ids[pos] == full)
        return np.where(hit, pos, -1)

    def count(self, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, int]:
        """Counts and weighted values per kept cell, and how many events fell outside."""
        if points.empty:
            return np.zeros(self.n), np.zeros(self.n), 0
        pos = self.locate(points["x"].to_numpy(), points["y"].to_numpy())
        ok = pos >= 0
        counts = np.bincount(pos[ok], weights=points["count"].to_numpy()[ok], minlength=self.n)
        values = np.bincount(pos[ok], weights=points["value"].to_numpy()[ok], minlength=self.n)
        outside = int(points["count"].to_numpy()[~ok].sum())
        return counts, values, outside


def make_grid(
    x: np.ndarray,
    y: np.ndarray,
    *,
    cell_size: float | None = None,
    boundary=None,
    max_cells: int = 2_000_000,
) -> Grid:
    """A grid covering the boundary (if given) or the points, buffered by half a cell as sfhotspot
    does, and clipped to the boundary: cells that do not touch it are dropped."""
    if boundary is not None:
        xmin, ymin, xmax, ymax = boundary.bounds
    else:
        if len(x) == 0:
            raise HarmscopeError(
                "no located events to build a grid from",
                where="hotspots",
                fix="widen --from/--to, check --crime-type spelling, or ingest data first",
            )
        xmin, ymin, xmax, ymax = (
            float(np.min(x)),
            float(np.min(y)),
            float(np.max(x)),
            float(np.max(y)),
        )
    auto = cell_size is None
    if auto:
        cell_size = auto_cell_size(xmax - xmin, ymax - ymin)
    if not cell_size or cell_size <= 0:
        raise HarmscopeError(
            f"cell size must be a positive number of metres, got {cell_size}",
            where="--cell-size",
            fix="pass for example --cell-size 250",
        )
    h = cell_size / 2
    x0, y0 = xmin - h, ymin - h
    nx = max(1, math.ceil((xmax + h - x0) / cell_size))
    ny = max(1, math.ceil((ymax + h - y0) / cell_size))
    if nx * ny > max_cells:
        raise HarmscopeError(
            f"a {cell_size:g} m grid over this area has {nx * ny:,} cells (limit {max_cells:,})",
            where="--cell-size",
            fix="choose a larger --cell-size",
        )
    iy, ix = np.divmod(np.arange(nx * ny, dtype=np.int64), nx)
    cx = x0 + (ix + 0.5) * cell_size
    cy = y0 + (iy + 0.5) * cell_size
    keep = np.ones(nx * ny, dtype=bool)
    area = np.full(nx * ny, float(cell_size) ** 2)
    notes = []
    if boundary is not None:
        import shapely

        boxes = cell_boxes(cx, cy, cell_size)
        shapely.prepare(boundary)
        keep = shapely.intersects(boundary, boxes)
        # edge cells (coast, area edge) count only their part inside, so PAI's areas are true areas
        edge = keep & ~shapely.contains_properly(boundary, boxes)
        area[edge] = shapely.area(shapely.intersection(boxes[edge], boundary))
        notes.append(
            f"Grid clipped to the area boundary: {int(keep.sum()):,} of {nx * ny:,} cells kept."
        )
    cells = pd.DataFrame(
        {
            "cell_id": np.arange(nx * ny, dtype=np.int64)[keep],
            "ix": ix[keep],
            "iy": iy[keep],
            "x": cx[keep],
            "y": cy[keep],
            "area_m2": area[keep],
        }
    ).reset_index(drop=True)
    if auto:
        notes.insert(
            0,
            f"Cell size chosen automatically: {cell_size:g} m (sfhotspot's rule: 1/50 of the shorter "
            f"side of the area, {min(xmax - xmin, ymax - ymin) / 1000:.1f} km, rounded down to a "
            "multiple of 100 m). Override with --cell-size.",
        )
    else:
        notes.insert(0, f"Cell size: {cell_size:g} m (set by the user).")
    return Grid(x0, y0, float(cell_size), nx, ny, cells, auto, boundary is not None, notes)


# -- neighbours -------------------------------------------------------------------------------

_SPEC = re.compile(r"^(queen|distance:(\d+(?:\.\d+)?)|knn:(\d+))$")


def parse_neighbours(spec: str) -> tuple[str, float | None]:
    m = _SPEC.match((spec or "").strip().lower())
    if not m:
        raise HarmscopeError(
            f"unknown neighbour rule {spec!r}",
            where="--neighbours",
            fix="use queen, distance:METRES (e.g. distance:500) or knn:K (e.g. knn:8)",
        )
    if m.group(1) == "queen":
        return "queen", None
    if m.group(2) is not None:
        d = float(m.group(2))
        if d <= 0:
            raise HarmscopeError(
                "the distance must be positive", where="--neighbours", fix="e.g. distance:500"
            )
        return "distance", d
    k = int(m.group(3))
    if k < 1:
        raise HarmscopeError("k must be at least 1", where="--neighbours", fix="e.g. knn:8")
    return "knn", float(k)


def distance_band(x: np.ndarray, y: np.ndarray, threshold: float) -> sparse.csr_matrix:
    """Binary weights: 1 for pairs within ``threshold`` (inclusive, like libpysal), 0 on the diagonal."""
    pts = np.column_stack([x, y])
    tree = cKDTree(pts)
    pairs = tree.query_pairs(threshold * (1 + 1e-12), output_type="ndarray")
    n = len(pts)
    i = np.concatenate([pairs[:, 0], pairs[:, 1]])
    j = np.concatenate([pairs[:, 1], pairs[:, 0]])
    return sparse.csr_matrix((np.ones(len(i)), (i, j)), shape=(n, n))


def knn_weights(x: np.ndarray, y: np.ndarray, k: int) -> sparse.csr_matrix:
    """Binary k-nearest-neighbour weights (asymmetric, as in libpysal KNN)."""
    pts = np.column_stack([x, y])
    n = len(pts)
    k = min(int(k), n - 1)
    _, idx = cKDTree(pts).query(pts, k=k + 1)
    rows = np.repeat(np.arange(n), k)
    cols = idx[:, 1:].ravel()
    return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))


def grid_queen(grid: Grid) -> sparse.csr_matrix:
    """The 8 surrounding cells on a regular grid (only those kept after clipping)."""
    ix = grid.cells["ix"].to_numpy()
    iy = grid.cells["iy"].to_numpy()
    ids = grid.cells["cell_id"].to_numpy()
    rows, cols = [], []
    for dx in (-1, 0, 1):
        for dy in (-1, 0, 1):
            if dx == 0 and dy == 0:
                continue
            jx, jy = ix + dx, iy + dy
            ok = (jx >= 0) & (jx < grid.nx) & (jy >= 0) & (jy < grid.ny)
            target = jy * grid.nx + jx
            pos = np.clip(np.searchsorted(ids, target), 0, len(ids) - 1)
            ok &= ids[pos] == target
            rows.append(np.nonzero(ok)[0])
            cols.append(pos[ok])
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    return sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(grid.n, grid.n))


def polygon_queen(polygons) -> sparse.csr_matrix:
    """Queen contiguity for polygons (sharing at least one boundary point)."""
    import shapely

    polys = np.asarray(polygons)
    tree = shapely.STRtree(polys)
    left, right = tree.query(polys, predicate="intersects")
    keep = left != right
    n = len(polys)
    return sparse.csr_matrix((np.ones(int(keep.sum())), (left[keep], right[keep])), shape=(n, n))


def neighbours(
    spec: str, *, x, y, grid: Grid | None = None, polygons=None
) -> tuple[sparse.csr_matrix, str]:
    """Binary neighbour matrix (no self-weights) for a --neighbours rule, and its description."""
    kind, arg = parse_neighbours(spec)
    if kind == "queen":
        if grid is not None:
            return grid_queen(grid), "queen (the 8 surrounding grid cells)"
        if polygons is not None:
            return polygon_queen(polygons), "queen contiguity (polygons sharing a boundary point)"
        raise HarmscopeError(
            "queen needs a grid or polygons", where="--neighbours", fix="use distance:M or knn:K"
        )
    if kind == "distance":
        return distance_band(x, y, arg), f"binary distance band of {arg:g} m between centres"
    return knn_weights(x, y, int(arg)), f"binary {int(arg)} nearest neighbours"
