"""Searches per violence/weapons offence in each district (searches placed by point in
polygon)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from harmscope.analysis.intervals import rate_ratio_ci
from harmscope.analysis.stopsearch.located import VIOLENCE_TYPES, offence_filter
from harmscope.analysis.stopsearch.selection import Period
from harmscope.store.queries.stopsearch import offences_by_district, search_points

if TYPE_CHECKING:
    from harmscope.store import Store


def _searches_per_offence_by_district(
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
    table and the number of located searches outside the force's districts, or None
    when the reference placing helper is not installed.
    """
    try:
        from harmscope.reference import load_lsoa11, place_points
    except ImportError:
        return None
    points = search_points(store, s_period.start, s_period.end, force, located_only=True)
    lsoa = place_points(points.longitude.to_numpy(), points.latitude.to_numpy())
    lookup = load_lsoa11().set_index("lsoa11_code")["lad_code"]
    points = points.assign(lad_code=pd.Series(lsoa, dtype=object).map(lookup).to_numpy())
    by_lad = points.dropna(subset=["lad_code"]).groupby("lad_code").n.sum().rename("searches")
    where, params = offence_filter(c_period, crime_types, force)
    offences = offences_by_district(store, where, params)
    frame = offences.merge(by_lad.reset_index(), on="lad_code", how="left")
    frame["searches"] = frame.searches.fillna(0).astype("int64")
    # Both counts are scaled to a month so that unequal periods compare fairly.
    s_months, c_months = s_period.months, c_period.months
    ratio, low, high = rate_ratio_ci(frame.searches, s_months, frame.offences, c_months, alpha)
    frame["searches_per_offence"] = ratio
    frame["searches_per_offence_low"], frame["searches_per_offence_high"] = low, high
    frame = frame.sort_values("searches_per_offence", ascending=False).reset_index(drop=True)
    # outside: in no district, or in a district of another force (every force is packaged)
    return frame, int(points.n.sum() - frame.searches.sum())
