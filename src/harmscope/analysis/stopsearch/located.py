"""Located searches and violence/weapons offences as the store holds them, for comparing
where searches happen with where those offences are. The located searches themselves come
from the query layer (``store.queries.stopsearch.search_points``)."""

from __future__ import annotations

from harmscope.analysis.stopsearch.selection import Period
from harmscope.store.queries.stopsearch import force_filter

VIOLENCE_TYPES = ("Violence and sexual offences", "Possession of weapons")


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
