"""Place names for maps and hot cells, from what the store and the packaged tables already hold.

police.uk moves every crime to one of a fixed set of anonymised map points that lie on streets
or at named kinds of place, each with a location name ("On or near High Street"). The distinct
points trace the street network, so they can stand in for a basemap offline, and the names of
the points inside a grid cell say where the cell is better than its number does.

Nothing here is a count that a report shows: the street layer is the distinct points (never
one per crime), and a cell's label is the names of its most frequent points.
"""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pandas as pd

from harmscope.analysis import grid as gridmod

# police.uk names a point by the kind of place when it has no street name of its own (the
# "On or near" convention of the police.uk anonymisation; the kinds below are the ones the
# Kent 2024-25 files use). Such a name says what is there, not where, so a cell is named by its
# streets first and by one of these only when it has no street.
GENERIC_PLACES = frozenset(
    f"On or near {kind}"
    for kind in (
        "Parking Area",
        "Sports/Recreation Area",
        "Petrol Station",
        "Supermarket",
        "Park/Open Space",
        "Shopping Area",
        "Hospital",
        "Theatre/Concert Hall",
        "Further/Higher Educational Building",
        "Bus/Coach Station",
        "Nightclub",
        "Police Station",
        "Conference/Exhibition Centre",
        "Airport/Airfield",
        "Prison",
        "Pedestrian Subway",
        "Theme/Adventure Park",
    )
)
NO_LOCATION = "No Location"


def point_scope(
    area: str | None,
    *,
    crime_types: list[str] | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
) -> tuple[str, list]:
    """WHERE clause (alias ``s``) and parameters for the located street crimes of an area (and,
    for cell names, the analysis' own categories and months), the same scope the hotspot grid
    reads. The points themselves come from the query layer (``store.queries.points``):

    - ``street_points(store, *point_scope(area), skip_location=NO_LOCATION)``: the distinct map
      points over **every month the store holds**, with their names, for the street layer.
      Every month, not the report's period: the layer then shows the street network rather
      than where crime happened in the period, and a sparse quarter still gets its streets.
    - ``point_names(store, *point_scope(area, crime_types=..., date_from=..., date_to=...))``:
      events by map point and name, for :func:`cell_places`.
    """
    return gridmod._filters(crime_types, date_from, date_to, area)


def cell_places(
    cells: pd.DataFrame,
    cell_size: float,
    points: pd.DataFrame,
    towns: pd.DataFrame | None = None,
    *,
    streets: int = 2,
) -> pd.DataFrame:
    """Name each grid cell (``unit``, centre ``x``, ``y`` in BNG) from the points inside it.

    Returns ``unit``, ``place`` (its most frequent street names, "On or near High Street;
    Week Street"), ``lsoa_name`` and ``lad_name`` (the most frequent among its events) and
    ``near_town`` (the nearest packaged town centre, with the distance when over 1 km)."""
    out = pd.DataFrame({"unit": cells["unit"].to_numpy()})
    if not len(cells):
        return out.assign(place=[], lsoa_name=[], lad_name=[], near_town=[])
    cx, cy = cells["x"].to_numpy(float), cells["y"].to_numpy(float)
    # cell centres lie on a regular lattice: x = ox + (i + 0.5) * size
    ox, oy = cx.min() - cell_size / 2, cy.min() - cell_size / 2
    key = {
        (int(round((x - ox) / cell_size - 0.5)), int(round((y - oy) / cell_size - 0.5))): u
        for x, y, u in zip(cx, cy, out["unit"], strict=True)
    }
    located = points.dropna(subset=["lon", "lat"]).reset_index(drop=True)
    pts = located.copy()
    px, py = gridmod.to_bng(pts["lon"].to_numpy(), pts["lat"].to_numpy())
    ix = np.floor((px - ox) / cell_size).astype(int)
    iy = np.floor((py - oy) / cell_size).astype(int)
    pts["unit"] = [key.get((i, j)) for i, j in zip(ix, iy, strict=True)]
    pts = pts.dropna(subset=["unit"])
    # Every cell's names by events, most first (ties by name), in one grouped sort rather
    # than a groupby per cell (issue 18: the per-cell loop was most of the hotspot section).
    by_name: dict = {unit: [] for unit in pts["unit"].unique()}  # (a cell of unnamed points: "")
    ranked = _ranked(pts, "location")
    for unit, name in zip(ranked["unit"].to_numpy(), ranked["location"].to_numpy(), strict=True):
        by_name.setdefault(unit, []).append(name)
    place = {}
    for unit, names in by_name.items():
        named = [n for n in names if n not in GENERIC_PLACES and n != NO_LOCATION]
        place[unit] = _join_names(named[:streets] or names[:1])
    out["place"] = out["unit"].map(place)
    out["lsoa_name"] = out["unit"].map(_tops(pts, "lsoa_name", by_name))
    out["lad_name"] = out["unit"].map(_tops(pts, "lad_name", by_name))
    # A cell can be hot through its neighbours with no event of its own: name it by the map
    # point nearest its centre, and say so.
    empty = out["place"].isna().to_numpy()
    if empty.any() and len(px):
        from scipy.spatial import cKDTree

        _, idx = cKDTree(np.column_stack([px, py])).query(np.column_stack([cx[empty], cy[empty]]))
        near = located.iloc[idx]
        out.loc[empty, "place"] = [f"{n} (nearest; no crime in the cell)" for n in near["location"]]
        out.loc[empty, "lsoa_name"] = near["lsoa_name"].to_numpy()
        out.loc[empty, "lad_name"] = near["lad_name"].to_numpy()
    out["near_town"] = nearest_town(cx, cy, towns) if towns is not None else None
    return out


def _ranked(pts: pd.DataFrame, col: str) -> pd.DataFrame:
    """Events (``n``) summed by cell and ``col`` value, each cell's values most events first,
    ties by value ascending: per cell, what ``groupby(col).sum()`` then a stable descending
    sort gives."""
    s = pts.dropna(subset=[col]).groupby(["unit", col])["n"].sum().reset_index()
    return s.sort_values(["unit", "n", col], ascending=[True, False, True], kind="stable")


def _tops(pts: pd.DataFrame, col: str, units) -> dict:
    """Each of ``units``' most frequent ``col`` value by events (ties: the first by value),
    None for a cell whose events have none."""
    first = _ranked(pts, col).drop_duplicates("unit")
    return {unit: None for unit in units} | dict(zip(first["unit"], first[col], strict=True))


def _join_names(names: list[str]) -> str:
    """ "On or near A; B" rather than repeating the prefix."""
    prefix = "On or near "
    tails = [n[len(prefix) :] if n.startswith(prefix) else n for n in names]
    return (prefix if names and names[0].startswith(prefix) else "") + "; ".join(tails)


def nearest_town(x, y, towns: pd.DataFrame) -> list[str | None]:
    """The nearest packaged town centre to each BNG point: "Maidstone", or "3 km from
    Maidstone" when it is more than 1 km away."""
    if towns is None or not len(towns):
        return [None] * len(x)
    tx, ty = gridmod.to_bng(towns["longitude"].to_numpy(), towns["latitude"].to_numpy())
    names = towns["name_short"].to_numpy()
    d = np.hypot(
        np.subtract.outer(np.asarray(x, float), tx), np.subtract.outer(np.asarray(y, float), ty)
    )
    best = d.argmin(axis=1)
    out = []
    for i, j in enumerate(best):
        km = d[i, j] / 1000
        out.append(str(names[j]) if km <= 1 else f"{math.floor(km + 0.5):g} km from {names[j]}")
    return out


def towns() -> pd.DataFrame:
    """The packaged town-centre table (``reference/data/ed/town_centres.csv``: 25 Kent and
    Medway towns, positions are estimates, see its README) with a short ``name_short``."""
    from harmscope.sources.ed_place import load_town_centres

    t = load_town_centres().copy()
    t["name_short"] = t["aliases"].astype(str).str.split("|").str[0]
    return t
