"""Searches per violence/weapons offence in each district (searches placed by point in
polygon)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from harmscope.analysis.intervals import rate_ratio_ci
from harmscope.analysis.stopsearch.located import VIOLENCE_TYPES, offence_filter, search_points
from harmscope.analysis.stopsearch.selection import Period

if TYPE_CHECKING:
    from harmscope.store import Store


def searches_per_offence_by_district(
    store: Store,
    s_period: Period,
    c_period: Period,
    force: str | None,
    crime_types: tuple[str, ...] = VIOLENCE_TYPES,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, int] | None:
    """Searches placed in districts by point in polygon, per violence/weapons offence there.

    ``searches_per_offence`` is (searches a month) / (offences a month), so periods of unequal
    length compare fairly; its interval treats both counts as Poisson (log scale). Returns the
    table and the number of located searches outside every Kent and Medway district, or None
    when the reference placing helper is not installed.
    """
    try:
        from harmscope.reference import load_lsoa11, place_points
    except ImportError:
        return None
    points = search_points(store, s_period, force, located_only=True)
    lsoa = place_points(points.longitude.to_numpy(), points.latitude.to_numpy())
    lookup = load_lsoa11().set_index("lsoa11_code")["lad_code"]
    points = points.assign(lad_code=pd.Series(lsoa, dtype=object).map(lookup).to_numpy())
    by_lad = points.dropna(subset=["lad_code"]).groupby("lad_code").n.sum().rename("searches")
    where, params = offence_filter(c_period, crime_types, force)
    offences = store.query(
        f"""SELECT lad_code, any_value(lad_name) AS lad_name, count(*) AS offences
        FROM street_crimes WHERE {where} AND lad_code IS NOT NULL
        GROUP BY lad_code""",
        params,
    )
    frame = offences.merge(by_lad.reset_index(), on="lad_code", how="left")
    frame["searches"] = frame.searches.fillna(0).astype("int64")
    # Both counts are scaled to a month so that unequal periods compare fairly.
    s_months, c_months = s_period.months, c_period.months
    ratio, low, high = rate_ratio_ci(frame.searches, s_months, frame.offences, c_months, alpha)
    frame["searches_per_offence"] = ratio
    frame["searches_per_offence_low"], frame["searches_per_offence_high"] = low, high
    frame = frame.sort_values("searches_per_offence", ascending=False).reset_index(drop=True)
    return frame, int(points.n.sum() - by_lad.sum())
