"""Searches and offences counted on grid cells: a plain grid over the offences, or the grid
of the Gi* hotspot analysis with its hot cells marked."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from harmscope.analysis.stopsearch.selection import Period
from harmscope.store.queries.stopsearch import street_force_names

if TYPE_CHECKING:
    from harmscope.store import Store


def to_bng(points: pd.DataFrame) -> pd.DataFrame:
    """Add British National Grid ``x``/``y`` (metres) to points with longitude/latitude."""
    from pyproj import Transformer

    transformer = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = transformer.transform(points.longitude.to_numpy(), points.latitude.to_numpy())
    points = points.copy()
    points["x"], points["y"] = x, y
    return points


def _cell_frame(offences: pd.Series, searches: pd.Series) -> pd.DataFrame:
    return (
        offences.rename("offences")
        .to_frame()
        .join(searches.rename("searches"), how="outer")
        .fillna(0)
        .astype("int64")
        .rename_axis("cell")
        .reset_index()
    )


def cells_own_grid(
    crimes: pd.DataFrame, searches: pd.DataFrame, cell_m: float
) -> tuple[pd.DataFrame, int, str]:
    """Fallback: a plain grid anchored at the offences' south-west corner, over their extent.

    Returns the cells (offences, searches), the searches outside the grid and the method text.
    """
    x0, y0 = crimes.x.min(), crimes.y.min()
    x1, y1 = crimes.x.max(), crimes.y.max()
    inside = searches.x.between(x0, x1) & searches.y.between(y0, y1)
    outside = int(searches.loc[~inside, "n"].sum())
    searches = searches[inside]
    for frame in (crimes, searches):
        frame["cell"] = (
            ((frame.x - x0) // cell_m).astype("int64").astype(str)
            + "_"
            + ((frame.y - y0) // cell_m).astype("int64").astype(str)
        )
    cells = _cell_frame(crimes.groupby("cell").n.sum(), searches.groupby("cell").n.sum())
    text = (
        f"a fixed {cell_m:g} m grid in British National Grid (EPSG:27700, via pyproj) over the "
        "extent of the offences (rows flagged out of area are left out; searches outside that "
        "extent are counted and left out); cells are those holding an offence or a search."
    )
    return cells, outside, text


def _street_force_name(store: Store, force: str | None) -> str | None:
    """The street-crime force name ('Kent Police') for a search force given as name or slug."""
    if not force:
        return None
    names = street_force_names(store, force)
    return names[0] if len(names) == 1 else force


def _cells_from_hotspots(
    store: Store,
    c_period: Period,
    crime_types: tuple[str, ...],
    cell_m: float,
    searches: pd.DataFrame,
    force: str | None = None,
) -> tuple[pd.DataFrame, int, str] | None:
    """The Gi* hotspot grid of harmscope.analysis.hotspots, with the searches placed on it.

    Returns what :func:`cells_own_grid` returns plus the Gi* class of each cell, or None when
    the hotspot analysis is not installed.
    """
    try:
        from harmscope.analysis.hotspots import hotspots
    except ImportError:
        return None
    res = hotspots(
        store,
        crime_types=list(crime_types),
        date_from=c_period.start,
        date_to=c_period.end,
        area=_street_force_name(store, force),
        cell_size=cell_m,
    )
    units = res.table
    size = float(res.summary.get("cell_size_m") or cell_m)
    # Cell centres sit on a regular lattice: index each by its column and row number. The
    # nearest centre (round) is the cell whose square holds a point.
    x0, y0 = units.x.min(), units.y.min()

    def key(x, y) -> np.ndarray:
        col = np.round((np.asarray(x, dtype=float) - x0) / size).astype("int64").astype(str)
        row = np.round((np.asarray(y, dtype=float) - y0) / size).astype("int64").astype(str)
        return np.char.add(np.char.add(col, "_"), row)

    units = units.assign(cell=key(units.x, units.y))
    located = searches.assign(cell=key(searches.x, searches.y)) if len(searches) else searches
    known = located.cell.isin(set(units.cell)) if len(located) else pd.Series([], dtype=bool)
    outside = int(located.loc[~known, "n"].sum()) if len(located) else 0
    located = located[known] if len(located) else located
    cells = units[["cell", "count"]].rename(columns={"count": "offences"})
    per_cell = located.groupby("cell").n.sum() if len(located) else pd.Series(dtype="int64")
    cells["searches"] = cells.cell.map(per_cell).fillna(0).astype("int64")
    cells["offences"] = cells.offences.astype("int64")
    cells["gistar_hot"] = units["class"].isin(["hot 99%", "hot 95%"]).to_numpy()
    cells["gistar_class"] = units["class"].to_numpy()
    text = (
        f"the {size:g} m British National Grid cells of the Gi* hotspot analysis "
        "(harmscope.analysis.hotspots), clipped to the packaged Kent and Medway district "
        f"boundaries; searches outside every cell are counted and left out. Gi*: {res.method}"
    )
    return cells, outside, text
