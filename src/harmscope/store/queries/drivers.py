"""Street-crime counts by area and period, the outcome of the drivers analysis
(``analysis.drivers``) when it comes from the store rather than a file.

Portability (issue 16): ``make_date``, ``year()``/``month()`` and ``GROUP BY ALL`` are
DuckDB's; PostgreSQL writes the period start with ``make_date(extract(year ...)::int, ...)``
or ``date_trunc`` and lists the grouping columns.
"""

from __future__ import annotations

import pandas as pd

# Area level -> the street_crimes column that names the area (a CSP is built from districts).
AREA_COLUMNS = {"force": "falls_within", "district": "lad_code", "csp": "lad_code"}
# Period kind -> its first day as SQL over the month column (financial years start in April).
PERIOD_STARTS = {
    "month": "month",
    "year": "make_date(year(month), 1, 1)",
    "financial_year": "make_date(CASE WHEN month(month) >= 4 THEN year(month) "
    "ELSE year(month) - 1 END, 4, 1)",
}


def area_period_counts(store, *, level: str, period_kind: str) -> pd.DataFrame:
    """Street crimes by area and period and crime type: ``area_code``, ``period_start``,
    ``offence``, ``count``, ``months`` (distinct months of that offence held)."""
    area, per = AREA_COLUMNS[level], PERIOD_STARTS[period_kind]
    return store.query(
        f"SELECT {area} AS area_code, {per} AS period_start, crime_type AS offence, "
        f"count(*) AS count, count(DISTINCT month) AS months FROM street_crimes "
        f"WHERE {area} IS NOT NULL GROUP BY ALL"
    )


def area_period_months(store, *, level: str, period_kind: str) -> pd.DataFrame:
    """The months held in each area and period: ``area_code``, ``period_start``, ``months``
    (so a caller can keep whole periods only)."""
    area, per = AREA_COLUMNS[level], PERIOD_STARTS[period_kind]
    return store.query(
        f"SELECT {area} AS area_code, {per} AS period_start, count(DISTINCT month) AS months "
        f"FROM street_crimes WHERE {area} IS NOT NULL GROUP BY ALL"
    )
