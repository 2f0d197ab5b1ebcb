"""Area x month panels for scheme evaluation (``analysis.evaluation``), aggregated in the engine.

An evaluation reads the store once: counts per area (LSOA or district) and month for the
outcome's crime types and for all other crime, and the areas' covariates. Everything after
that (matching, DiD, synthetic control, placebos) works on these frames, so they are built
here, where the SQL lives, and handed over as :class:`Panels`.

Portability (issue 16): the SQL uses DuckDB's named parameters with ``unnest`` for lists,
``regexp_replace`` and ``median``; PostgreSQL has ``unnest`` and ``regexp_replace`` but wants
``percentile_cont(0.5)`` for the median and ``%(name)s`` parameters (the engine adapter).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from harmscope.errors import HarmscopeError

VIOLENCE = ("Violence and sexual offences",)

# The LSOA name carries the district ("Maidstone 012F"); this works for every force,
# while lad_name is only filled where the packaged 2011 lookup covers the LSOA.
_DISTRICT_SQL = "regexp_replace(lsoa_name, ' [0-9]{3}[A-Z]$', '')"

UNITS = ("lsoa", "district")


@dataclass
class Panels:
    """Everything an evaluation reads from the store, aggregated once (reused by placebos)."""

    crime_types: tuple[str, ...]
    lsoa: pd.DataFrame
    district: pd.DataFrame
    lsoa_other: pd.DataFrame  # all other crime: matching features free of the outcome's noise
    district_other: pd.DataFrame
    covariates: pd.DataFrame
    district_covariates: pd.DataFrame
    harm_weight: float | None
    harm_label: str


def load_panels(store, crime_types=VIOLENCE) -> Panels:
    """The panels of an evaluation of ``crime_types`` (police.uk categories held in the
    store), with the mean harm weight of those types; "other" is every other category
    except anti-social behaviour (all categories when nothing else is held)."""
    crime_types = tuple(crime_types)
    known = set(store.query("SELECT DISTINCT crime_type FROM street_crimes")["crime_type"])
    bad = [c for c in crime_types if c not in known]
    if bad:
        raise HarmscopeError(
            f"unknown crime type(s): {', '.join(bad)}",
            where="crime types",
            fix=f"use police.uk categories present in the store: {', '.join(sorted(known))}",
        )
    other = sorted(known - set(crime_types) - {"Anti-social behaviour"}) or sorted(known)
    weight, label = _harm_weight(store, crime_types)
    return Panels(
        crime_types,
        count_panel(store, unit="lsoa", crime_types=crime_types),
        count_panel(store, unit="district", crime_types=crime_types),
        count_panel(store, unit="lsoa", crime_types=other),
        count_panel(store, unit="district", crime_types=other),
        area_covariates(store, unit="lsoa"),
        area_covariates(store, unit="district"),
        weight,
        label,
    )


def _harm_weight(store, crime_types) -> tuple[float | None, str]:
    """Mean severity weight per crime of the target types (volume-weighted), if weights exist.

    The weights are the packaged reference table (``harmscope.reference``, data below the
    analyses), so reading them here keeps the query layer free of analysis imports."""
    try:
        from harmscope.reference.offences import load_weights
    except ImportError:
        return None, "no harm weights available"
    w = load_weights().set_index("category")["weight"]
    vol = store.query(
        "SELECT crime_type, count(*) AS n FROM street_crimes "
        "WHERE crime_type IN (SELECT unnest($t)) GROUP BY 1",
        {"t": list(crime_types)},
    ).set_index("crime_type")["n"]
    vol = vol[vol.index.isin(w.index)]
    if vol.empty:
        return None, "no harm weight for these crime types"
    return (
        float((w[vol.index] * vol).sum() / vol.sum()),
        "ONS Crime Severity Score weights (harmscope.reference.offences; estimates for mixed categories)",
    )


def _area_expr(unit: str) -> str:
    if unit == "lsoa":
        return "lsoa_code"
    if unit == "district":
        return f"falls_within || ' / ' || {_DISTRICT_SQL}"
    raise HarmscopeError(
        f"unknown area unit {unit!r}", where="unit", fix=f"use one of: {', '.join(UNITS)}"
    )


def count_panel(
    store,
    *,
    unit: str = "lsoa",
    crime_types: tuple[str, ...] | list[str] = VIOLENCE,
    forces: list[str] | None = None,
) -> pd.DataFrame:
    """Counts per area and month, zero-filled over the months the force published.

    Returns columns area, force, month (Timestamp), count. Months absent from the store
    (the 2024-05..12 gap in the shared data) are simply absent: every method here treats
    months as labelled periods, never as a contiguous index.
    """
    area = _area_expr(unit)
    crime_types = list(crime_types)
    if not crime_types:
        raise HarmscopeError(
            "no crime types given", where="crime_types", fix="name at least one crime type"
        )
    where_force = ""
    params: dict = {"types": crime_types}
    if forces:
        where_force = "AND falls_within IN (SELECT unnest($forces))"
        params["forces"] = list(forces)
    sql = f"""
        WITH ev AS (
            SELECT {area} AS area, falls_within AS force, month
            FROM street_crimes
            WHERE lsoa_code IS NOT NULL AND crime_type IN (SELECT unnest($types))
              AND NOT coalesce(out_of_area, false) {where_force}
        ),
        months AS (SELECT DISTINCT falls_within AS force, month FROM street_crimes
                   WHERE lsoa_code IS NOT NULL {where_force}),
        areas AS (SELECT area, force, count(*) AS n FROM ev GROUP BY 1, 2),
        counts AS (SELECT area, force, month, count(*) AS count FROM ev GROUP BY 1, 2, 3)
        SELECT a.area, a.force, m.month, coalesce(c.count, 0) AS count
        FROM areas a JOIN months m USING (force)
        LEFT JOIN counts c ON c.area = a.area AND c.force = a.force AND c.month = m.month
        ORDER BY a.area, m.month
    """
    df = store.query(sql, params)
    if df.empty:
        raise HarmscopeError(
            f"no located {', '.join(crime_types)} in the store",
            where="store",
            fix="ingest police street files first (`harmscope ingest PATH...`), or check the crime types",
        )
    df["month"] = pd.to_datetime(df["month"])
    df["count"] = df["count"].astype(float)
    # An LSOA can turn up in a neighbouring force's file (a few stray rows): keep each area
    # with the force that records most of its crimes, so no area is counted twice.
    totals = df.groupby(["area", "force"], as_index=False)["count"].sum()
    home = totals.sort_values("count", ascending=False).drop_duplicates("area")
    df = df.merge(home[["area", "force"]], on=["area", "force"])
    if unit == "lsoa":
        names = store.query(
            f"SELECT lsoa_code AS area, any_value({_DISTRICT_SQL}) AS district "
            "FROM street_crimes WHERE lsoa_code IS NOT NULL GROUP BY 1"
        )
        df = df.merge(names, on="area", how="left")
        df["district"] = df["force"] + " / " + df["district"].fillna("?")
    else:
        df["district"] = df["area"]
    return df.reset_index(drop=True)


def area_covariates(store, *, unit: str = "lsoa") -> pd.DataFrame:
    """Deprivation (median IMD decile) and rurality (share of crimes in rural LSOAs) per area."""
    area = _area_expr(unit)
    sql = f"""
        SELECT {area} AS area,
               median(imd_decile) AS imd_decile,
               avg(CASE WHEN urban_rural = 'rural' THEN 1.0
                        WHEN urban_rural = 'urban' THEN 0.0 END) AS rural_share,
               avg(latitude) AS lat, avg(longitude) AS lon
        FROM street_crimes
        WHERE lsoa_code IS NOT NULL AND NOT coalesce(out_of_area, false)
        GROUP BY 1
    """
    return store.query(sql)
