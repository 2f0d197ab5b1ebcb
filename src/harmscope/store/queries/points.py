"""Map points of the street crimes: the distinct police.uk points and their names.

police.uk snaps every crime to one of a fixed set of anonymised map points, each with a
location name. The analyses (``analysis.places``, ``analysis.grid``) decide the scope as a
WHERE clause over ``street_crimes`` (alias ``s``) and its parameters; these functions are the
SQL that reads the points for it. Aggregated in the engine, so the frames are the size of the
point set, not of the rows.
"""

from __future__ import annotations

import pandas as pd


def street_points(store, where: str, params: list, *, skip_location: str) -> pd.DataFrame:
    """The distinct map points of the scope (rounded to 5 decimals, about 1 m) with one of
    their location names: ``lon``, ``lat``, ``location``; points without a name, or named
    ``skip_location`` (police.uk's "No Location"), are left out."""
    df = store.query(
        "SELECT round(s.longitude, 5) AS lon, round(s.latitude, 5) AS lat, "
        "any_value(s.location) AS location FROM street_crimes s "
        f"WHERE {where} AND s.location IS NOT NULL AND s.location <> ? "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        [*params, skip_location],
    )
    return df.reset_index(drop=True)


def point_names(store, where: str, params: list) -> pd.DataFrame:
    """Rows of the scope by map point and name: ``lon``, ``lat``, ``location``, ``lsoa_name``,
    ``lad_name``, ``n`` (one row per point and LSOA)."""
    return store.query(
        "SELECT s.longitude AS lon, s.latitude AS lat, s.location, s.lsoa_name, s.lad_name, "
        "count(*) AS n FROM street_crimes s "
        f"WHERE {where} GROUP BY s.longitude, s.latitude, s.location, s.lsoa_name, s.lad_name",
        params,
    )
