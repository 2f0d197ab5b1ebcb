"""The scope of an analysis in SQL: which street crimes it reads, the months they hold, and
the harm-weighted cube over them.

Analyses decide *what* they want in plain values (a force, districts, months, police.uk
categories, a weights table); this module is the one place that writes those values as SQL
against ``street_crimes`` (alias ``s``). Every function takes the store (anything with
``.query(sql, params)``) and returns a DataFrame or plain values.

Portability (PostgreSQL later, issue 16). The SQL sticks to standard forms: ``IN`` lists,
``coalesce``, ``IS NOT DISTINCT FROM``, a ``VALUES`` list in a CTE with column names,
``CAST(... AS VARCHAR)``, ``GROUP BY`` / ``ORDER BY`` ordinals. Months are grouped and
filtered as DATE values (the first of the month) and turned into 'YYYY-MM' labels in Python,
so no engine-specific date formatting (DuckDB ``strftime``, PostgreSQL ``to_char``) is needed.
The exceptions: parameters are written ``?`` (DuckDB's paramstyle; a PostgreSQL driver wants
``%s``, one substitution in the engine adapter), and an untyped ``?`` inside ``VALUES`` relies
on the engine inferring its type from the first row (PostgreSQL infers from the column's use
too, but a ``CAST`` may be needed on the month column there).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import pandas as pd

from harmscope.months import to_month

# Rows police.uk marks as outside the force's area never count towards an area.
IN_AREA = "coalesce(s.out_of_area, false) = false"


def _placeholders(n: int) -> str:
    return ", ".join("?" * n)


def scope_filter(
    *,
    force: str | None = None,
    forces: Sequence[str] | None = None,
    lad_codes: Sequence[str] | None = None,
    start: date | None = None,
    end: date | None = None,
    months: Iterable | None = None,
    categories: Sequence[str] | None = None,
) -> tuple[str, list]:
    """WHERE clause (table alias ``s``) and its parameters for the rows an analysis reads.

    ``force``/``forces``: police.uk ``falls_within`` names; ``lad_codes``: districts (GSS
    codes); ``start``/``end``: first and last month (inclusive; anything :func:`to_month`
    reads); ``months``: an explicit list of months instead; ``categories``: police.uk crime
    types, already checked. Rows flagged out of area are always left out.
    """
    clauses, params = [IN_AREA], []
    names = [force] if force else list(forces or [])
    if len(names) == 1:
        clauses.append("s.falls_within = ?")
        params.append(names[0])
    elif names:
        clauses.append(f"s.falls_within IN ({_placeholders(len(names))})")
        params.extend(names)
    if lad_codes is not None:
        codes = list(lad_codes)
        clauses.append(f"s.lad_code IN ({_placeholders(len(codes))})")
        params.extend(codes)
    if months is not None:
        held = [to_month(m).first_day for m in months]
        clauses.append(f"s.month IN ({_placeholders(len(held))})")
        params.extend(held)
    if start is not None:
        clauses.append("s.month >= ?")
        params.append(to_month(start).first_day)
    if end is not None:
        clauses.append("s.month <= ?")
        params.append(to_month(end).first_day)
    if categories:
        cats = list(categories)
        clauses.append(f"s.crime_type IN ({_placeholders(len(cats))})")
        params.extend(cats)
    return " AND ".join(clauses), params


def months_held(store, where: str = "true", params: list | None = None) -> list[str]:
    """The months ('YYYY-MM', ascending) that hold at least one row of the scope (of the
    whole street_crimes table by default)."""
    df = store.query(
        f"SELECT DISTINCT s.month AS m FROM street_crimes s WHERE {where} ORDER BY 1",
        list(params or []),
    )
    return [str(to_month(m)) for m in df.m]


def crime_types_held(store, where: str, params: list) -> list[str]:
    """The police.uk crime types that occur in the scope."""
    df = store.query(
        f"SELECT DISTINCT s.crime_type AS crime_type FROM street_crimes s WHERE {where}", params
    )
    return df.crime_type.tolist()


def forces_held(store, where: str, params: list) -> list[str]:
    """The forces (``falls_within``) with rows in the scope."""
    df = store.query(
        f"SELECT DISTINCT s.falls_within AS f FROM street_crimes s WHERE {where}", params
    )
    return df.f.dropna().tolist()


def lsoa_placement(store, where: str, params: list) -> dict[str, int]:
    """Rows in the scope by how far ingest placed them: ``rows``, ``lsoa`` (a 2011 LSOA),
    ``district_only`` (a district from the LSOA name) and ``unplaced``."""
    df = store.query(
        f"""SELECT count(*) AS rows,
                   count(*) FILTER (WHERE s.lsoa11_code IS NOT NULL) AS lsoa,
                   count(*) FILTER (WHERE s.lsoa11_code IS NULL AND s.lad_code IS NOT NULL)
                       AS district_only,
                   count(*) FILTER (WHERE s.lsoa11_code IS NULL AND s.lad_code IS NULL)
                       AS unplaced
            FROM street_crimes s WHERE {where}""",
        params,
    )
    return {k: int(v) for k, v in df.iloc[0].items()}


def count_rows(store, where: str, params: list) -> int:
    """Rows in the scope."""
    return int(
        store.query(f"SELECT count(*) AS n FROM street_crimes s WHERE {where}", params).n.iloc[0]
    )


def count_cube(store, where: str, params: list, keys: dict[str, str]) -> pd.DataFrame:
    """Rows of the scope counted by ``keys`` (alias -> SQL expression over ``s``), in key
    order; a key whose expression is ``s.month`` comes back as 'YYYY-MM' text."""
    select = ", ".join(f"{expr} AS {alias}" for alias, expr in keys.items())
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    df = store.query(
        f"SELECT {select}, count(*) AS count FROM street_crimes s WHERE {where} "
        f"GROUP BY {group} ORDER BY {group}",
        params,
    )
    _month_labels(df, keys)
    return df


def _month_labels(df: pd.DataFrame, keys: dict[str, str]) -> None:
    for alias, expr in keys.items():
        if expr == "s.month":
            df[alias] = [None if pd.isna(m) else str(to_month(m)) for m in df[alias]]


# Grouping keys a caller may ask of the weighted cube: alias -> SQL expression. 'month' is the
# DATE, relabelled 'YYYY-MM' after the query (see the module docstring).
CUBE_KEYS = {
    "force": "s.falls_within",
    "district": "s.lad_code",
    "lsoa": "s.lsoa11_code",
    "month": "s.month",
    "category": "s.crime_type",
    "location": "s.location",
    "any_lsoa": "coalesce(s.lsoa11_code, s.lsoa_code)",
    "district_name": "s.lad_name",
    # LSOA names are the MSOA name plus a letter ("Maidstone 012F"): dropping the letter groups
    # an LSOA with its neighbours into a cluster of 4-6 LSOAs big enough to count on
    # (regexp_replace: DuckDB and PostgreSQL both have it, with this signature)
    "lsoa_cluster": "regexp_replace(s.lsoa_name, '[A-Z]$', '')",
}


def weights_values(weights: pd.DataFrame) -> tuple[str, list]:
    """The weights table as a ``w(category, weight)`` CTE of VALUES, so the weight join runs
    in the engine. The one way weights enter SQL."""
    rows = list(zip(weights["category"].astype(str), weights["weight"].astype(float), strict=True))
    sql = "w(category, weight) AS (VALUES " + ", ".join("(?, ?)" for _ in rows) + ")"
    return sql, [x for pair in rows for x in pair]


def _overrides_values(overrides: pd.DataFrame) -> tuple[str, list]:
    """Per district x month x category weights (privacy.harm_view.published_weights)."""
    rows = list(
        zip(
            overrides["lad_code"],
            overrides["month"].astype(str),
            overrides["category"].astype(str),
            overrides["weight"].astype(float),
            strict=True,
        )
    )
    sql = (
        "o(lad_code, month, category, weight) AS (VALUES "
        + ", ".join("(CAST(? AS VARCHAR), CAST(? AS DATE), ?, ?)" for _ in rows)
        + ")"
    )
    return sql, [None if (v is None or v != v) else v for r in rows for v in r]


# Rows with a map point: police.uk leaves a few without one.
LOCATED = "s.longitude IS NOT NULL AND s.latitude IS NOT NULL"


def weighted_counts(
    store,
    where: str,
    params: list,
    keys: dict[str, str],
    weights: pd.Series | None = None,
) -> pd.DataFrame:
    """count, value (Σ weight, 0 for a group with none) and unweighted (rows whose category
    has no weight) of the scope's rows grouped by ``keys`` (alias -> SQL expression); month
    keys stay DATE. ``weights``: weight by category (index); None counts every row as 1.

    For the point and area counts of the hotspot analyses, where a category without a weight
    is counted but adds nothing (the caller reports how many), unlike :func:`weighted_cube`,
    where every category must have a weight.
    """
    select = ", ".join(f"{expr} AS {alias}" for alias, expr in keys.items())
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    if weights is None:
        cte, wparams, join, w = "", [], "", "1.0"
    else:
        cte, wparams = weights_values(
            pd.DataFrame({"category": weights.index.astype(str), "weight": weights.to_numpy()})
        )
        cte, join, w = f"WITH {cte} ", " LEFT JOIN w ON s.crime_type = w.category", "w.weight"
    sql = (
        f"{cte}SELECT {select}, count(*) AS count, coalesce(sum({w}), 0) AS value, "
        f"count(*) FILTER (WHERE {w} IS NULL) AS unweighted "
        f"FROM street_crimes s{join} WHERE {where} GROUP BY {group}"
    )
    return store.query(sql, wparams + list(params))


def weighted_cube(
    store, where: str, params: list, weights: pd.DataFrame, keys: dict[str, str]
) -> pd.DataFrame:
    """count, harm (Σ w), harm_w2 (Σ w²) and w_max (max w) of the scope's rows, grouped by
    ``keys`` (alias -> SQL expression over ``s``, e.g. :data:`CUBE_KEYS`) in key order.

    ``weights``: category, weight. When ``weights.attrs['overrides']`` holds a frame (lad_code,
    month, category, weight: the published weights of privacy.harm_view.published_weights),
    a row in a listed district, month and category takes that weight instead, so no public
    harm figure mixes suppressed categories' own weights. A key whose expression is
    ``s.month`` comes back as 'YYYY-MM' text.
    """
    cte, wparams = weights_values(weights)
    select = ", ".join(f"{expr} AS {alias}" for alias, expr in keys.items())
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    overrides = weights.attrs.get("overrides")
    weight, join, oparams = "w.weight", "", []
    if overrides is not None and len(overrides):
        octe, oparams = _overrides_values(overrides)
        cte += ", " + octe
        join = (
            " LEFT JOIN o ON o.category = s.crime_type AND o.month = s.month"
            " AND o.lad_code IS NOT DISTINCT FROM s.lad_code"
        )
        weight = "coalesce(o.weight, w.weight)"
    sql = (
        f"WITH {cte} SELECT {select}{', ' if keys else ''}count(*) AS count, "
        f"sum({weight}) AS harm, sum({weight} * {weight}) AS harm_w2, max({weight}) AS w_max "
        f"FROM street_crimes s JOIN w ON s.crime_type = w.category{join} WHERE {where}"
        + (f" GROUP BY {group} ORDER BY {group}" if keys else "")
    )
    df = store.query(sql, wparams + oparams + list(params))
    _month_labels(df, keys)
    df["count"] = df["count"].astype("int64")
    for col in ("harm", "harm_w2", "w_max"):
        df[col] = df[col].astype(float).fillna(0.0)
    return df


__all__ = [
    "CUBE_KEYS",
    "IN_AREA",
    "LOCATED",
    "count_cube",
    "count_rows",
    "crime_types_held",
    "forces_held",
    "months_held",
    "scope_filter",
    "weighted_counts",
    "weighted_cube",
    "weights_values",
]
