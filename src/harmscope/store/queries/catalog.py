"""What the store holds, asked the way the commands need it (counts, months, forces held).

Commands never write SQL (docs/DEVELOPING.md); the few questions they ask of the store
before choosing what to run live here. Each function takes the open store and returns a
scalar, a tuple or a small DataFrame.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

from harmscope.errors import HarmscopeError

# shown by `harmscope demo` as a first query to try with `harmscope sql`
EXAMPLE_QUERY = "SELECT crime_type, count(*) FROM street_crimes GROUP BY 1"


def _count(store, sql: str, params: list | None = None) -> int:
    return int(store.query(sql, params or []).n[0])


def street_crime_count(store, crime_type: str | None = None) -> int:
    """Street-level crimes held (of one police.uk category when ``crime_type`` is given)."""
    if crime_type is None:
        return _count(store, "SELECT count(*) AS n FROM street_crimes")
    return _count(
        store, "SELECT count(*) AS n FROM street_crimes WHERE crime_type = ?", [crime_type]
    )


def stop_search_count(store, *, located: bool = False) -> int:
    """Stop-and-search records held (only those with a location when ``located``)."""
    where = " WHERE latitude IS NOT NULL" if located else ""
    return _count(store, f"SELECT count(*) AS n FROM stop_searches{where}")


def table_rows(store, table: str) -> int:
    """Rows in an optional table (``interventions``, ``ed_assaults``...); 0 when it is absent.

    ``table`` is one of the store's own table names, never user text."""
    if not store.table_exists(table):
        return 0
    return _count(store, f'SELECT count(*) AS n FROM "{table}"')


def held_months(store) -> tuple[date, date]:
    """First and last month of street crime held; an error naming the fix when there is none."""
    r = store.query("SELECT min(month) AS lo, max(month) AS hi FROM street_crimes")
    if pd.isna(r.lo[0]):
        raise HarmscopeError(
            "the store holds no street crimes",
            where="--db",
            fix="run `harmscope ingest PATH...` first",
        )
    return pd.Timestamp(r.lo[0]).date(), pd.Timestamp(r.hi[0]).date()


def held_period(store, date_from: date | None = None, date_to: date | None = None):
    """``date_from``..``date_to``, each defaulting to the first/last month held."""
    lo, hi = held_months(store)
    return date_from or lo, date_to or hi


def street_span(store) -> tuple[str, str, str] | None:
    """(first month, last month, first force name) of the street crimes held, months as
    YYYY-MM; None when the store holds no street crimes."""
    r = store.query(
        "SELECT strftime(min(month), '%Y-%m') AS a, strftime(max(month), '%Y-%m') AS b, "
        "min(falls_within) AS force FROM street_crimes"
    )
    if r.a.isna().all():
        return None
    return str(r.a[0]), str(r.b[0]), str(r.force[0])


def forces_held(store) -> list[str]:
    """The forces whose street crimes the store holds (police.uk "Falls within"), sorted."""
    r = store.query(
        "SELECT DISTINCT falls_within AS force FROM street_crimes "
        "WHERE falls_within IS NOT NULL ORDER BY 1"
    )
    return [str(f) for f in r.force]


def district_name(store, code: str) -> str:
    """The district name the street crimes carry for a GSS code (the code when none do)."""
    hit = store.query(
        "SELECT any_value(lad_name) AS n FROM street_crimes WHERE lad_code = ?", [code]
    ).n
    return str(hit[0]) if len(hit) and hit[0] is not None else code


def covariates_held(store) -> pd.DataFrame:
    """One row per stored covariate series: unit, level, kind, rows, coverage, source."""
    return store.query(
        "SELECT c.name, c.unit, c.area_level, c.period_kind, c.rows, c.synthetic, c.source, "
        "min(v.period) AS first, max(v.period) AS last, count(DISTINCT v.area_code) AS areas "
        "FROM covariates c LEFT JOIN covariate_values v USING (name) GROUP BY ALL ORDER BY name"
    )


def forces_of_lsoas(store, codes: list[str]) -> list[str]:
    """The forces whose street crimes fall in these LSOAs (police.uk codes), sorted."""
    if not codes:
        return []
    r = store.query(
        "SELECT DISTINCT falls_within AS force FROM street_crimes "
        "WHERE lsoa_code IN (SELECT unnest(?)) AND falls_within IS NOT NULL ORDER BY 1",
        [list(codes)],
    )
    return [str(f) for f in r.force]


def forces_near(store, lat: float, lon: float, radius_m: float) -> list[str]:
    """The forces with street crimes in the box around a circle (a box, so a circle near a
    force boundary may name both forces: then the force must be given)."""
    import math

    dlat = radius_m / 111_320
    dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 1e-6))
    r = store.query(
        "SELECT DISTINCT falls_within AS force FROM street_crimes "
        "WHERE latitude BETWEEN ? AND ? AND longitude BETWEEN ? AND ? "
        "AND falls_within IS NOT NULL ORDER BY 1",
        [lat - dlat, lat + dlat, lon - dlon, lon + dlon],
    )
    return [str(f) for f in r.force]


def force_of_areas(store, areas: dict | None) -> str | None:
    """The one force a scheme's districts (packaged district table), LSOAs or point (the
    store's street crimes) lie in; None for a countywide scheme or areas in several forces
    (then the force must be named)."""
    if not areas:
        return None
    if "districts" in areas:
        from harmscope.reference.tables import load_lad

        lad = load_lad()
        names = {str(d).strip().lower() for d in areas["districts"]}
        hit = lad[lad.lad_name.str.lower().isin(names) | lad.lad_code.str.lower().isin(names)]
        forces = sorted(set(hit.force.dropna()))
    elif "lsoas" in areas:
        forces = forces_of_lsoas(store, areas["lsoas"])
    elif "point" in areas:
        forces = forces_near(store, **areas["point"])
    else:
        return None
    return forces[0] if len(forces) == 1 else None
