"""Located searches and violence/weapons offences as the store holds them, for comparing
where searches happen with where those offences are."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from harmscope.analysis.stopsearch.selection import Period, force_filter

if TYPE_CHECKING:
    from harmscope.store import Store

VIOLENCE_TYPES = ("Violence and sexual offences", "Possession of weapons")


def search_points(
    store: Store, period: Period, force: str | None, *, located_only: bool = False
) -> pd.DataFrame:
    """Searches in the period counted (``n``) at each published point; with
    ``located_only`` False the searches without a location come back as one NaN row."""
    located = "AND longitude IS NOT NULL AND latitude IS NOT NULL" if located_only else ""
    fs, fsp = force_filter("force", force)
    return store.query(
        f"""SELECT longitude, latitude, count(*) AS n FROM stop_searches
        WHERE month BETWEEN ? AND ? {located} {fs} GROUP BY ALL""",
        [period.start, period.end, *fsp],
    )


def offence_filter(
    period: Period, crime_types: tuple[str, ...], force: str | None
) -> tuple[str, list]:
    """WHERE conditions on street_crimes: the period's offences of ``crime_types`` in the
    force's own area (rows flagged out of area are left out), and their parameters."""
    fc, fcp = force_filter("falls_within", force)
    types_sql = ", ".join("?" for _ in crime_types)
    return (
        f"""month BETWEEN ? AND ? AND crime_type IN ({types_sql})
          AND coalesce(out_of_area, FALSE) = FALSE {fc}""",
        [period.start, period.end, *crime_types, *fcp],
    )
