"""Stop and search records (``stop_searches``) and the street crimes set against them.

The stop-search analyses (``analysis.stopsearch``) decide the months and the force; these
functions are the SQL that reads them. A force is matched as police.uk stores it in either
table: a slug in ``stop_searches.force`` ("kent"), a name in ``street_crimes.falls_within``
("Kent Police"); :func:`force_filter` accepts either spelling.

Portability (issue 16): ``GROUP BY ALL`` and ``any_value`` are DuckDB's (PostgreSQL: list the
columns; ``min``), the rest is standard SQL with ``?`` parameters.
"""

from __future__ import annotations

from datetime import date

import pandas as pd


def force_filter(column: str, force: str | None, *, keyword: str = "AND") -> tuple[str, list]:
    """``keyword (condition on column)`` selecting one force and its parameters; none if no force."""
    if not force:
        return "", []
    # Forces are stored as police.uk slugs or names ("kent", "Kent Police"): match either.
    return (
        f"{keyword} (lower({column}) = lower(?) OR lower({column}) LIKE lower(?) || ' %')",
        [force, force],
    )


def month_span(store, table: str, force: str | None = None) -> tuple[date | None, date | None]:
    """First and last month ``table`` (``stop_searches`` or ``street_crimes``) holds for the
    force (every force without one); (None, None) when it holds none."""
    column = "force" if table == "stop_searches" else "falls_within"
    where, params = force_filter(column, force, keyword="WHERE")
    row = store.query(f"SELECT min(month) AS lo, max(month) AS hi FROM {table} {where}", params)
    lo, hi = row.lo[0], row.hi[0]
    if pd.isna(lo):
        return None, None
    return pd.Timestamp(lo).date(), pd.Timestamp(hi).date()


def street_months_overlap(store, start: date, end: date) -> tuple[date | None, date | None, int]:
    """First and last street-crime month held, and the street crimes between ``start`` and
    ``end`` (months as their first day); (None, None, 0) when the store holds none."""
    have = store.query(
        "SELECT min(month) AS lo, max(month) AS hi, "
        "count(*) FILTER (WHERE month BETWEEN ? AND ?) AS overlap FROM street_crimes",
        [start, end],
    )
    if pd.isna(have.lo[0]):
        return None, None, 0
    return pd.Timestamp(have.lo[0]).date(), pd.Timestamp(have.hi[0]).date(), int(have.overlap[0])


def search_forces(store, start: date, end: date) -> list[str]:
    """The forces (as stored, sorted) whose searches fall between ``start`` and ``end``."""
    return store.query(
        "SELECT DISTINCT force FROM stop_searches WHERE month BETWEEN ? AND ? ORDER BY 1",
        [start, end],
    ).force.tolist()


def search_points(
    store, start: date, end: date, force: str | None, *, located_only: bool = False
) -> pd.DataFrame:
    """Searches between ``start`` and ``end`` counted (``n``) at each published point
    (``longitude``, ``latitude``); with ``located_only`` False the searches without a
    location come back as one NaN row."""
    located = "AND longitude IS NOT NULL AND latitude IS NOT NULL" if located_only else ""
    fs, fsp = force_filter("force", force)
    return store.query(
        f"""SELECT longitude, latitude, count(*) AS n FROM stop_searches
        WHERE month BETWEEN ? AND ? {located} {fs} GROUP BY ALL""",
        [start, end, *fsp],
    )


def offences_by_district(store, where: str, params: list) -> pd.DataFrame:
    """Street crimes matching ``where`` (conditions on ``street_crimes``) with a district:
    ``lad_code``, ``lad_name``, ``offences``."""
    return store.query(
        f"""SELECT lad_code, any_value(lad_name) AS lad_name, count(*) AS offences
        FROM street_crimes WHERE {where} AND lad_code IS NOT NULL
        GROUP BY lad_code""",
        params,
    )


def street_force_names(store, force: str) -> list[str]:
    """The street-crime force names (``falls_within``) matching a force name or slug."""
    cond, params = force_filter("falls_within", force, keyword="WHERE")
    return store.query(
        f"SELECT DISTINCT falls_within AS f FROM street_crimes {cond}", params
    ).f.tolist()


def outcome_mix_counts(store, base: str, params: list) -> pd.DataFrame:
    """Searches by month (YYYY-MM), outcome group (blank, unknown and unmapped as one
    'not_recorded') and ``found`` (outcome linked to the object), from the searches CTE
    ``base`` (``s``) and its parameters."""
    return store.query(
        f"""{base}
        SELECT strftime(month, '%Y-%m') AS month,
               CASE WHEN grp IN ('blank', 'unknown', 'unmapped') THEN 'not_recorded'
                    ELSE grp END AS grp,
               found, count(*) AS n
        FROM s GROUP BY ALL ORDER BY 1""",
        params,
    )
