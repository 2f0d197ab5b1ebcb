"""Monthly counts for the Serious Violence Duty outcome measures (analysis.outcomes).

Each function returns one row per month and age group (``under_25``, ``25_and_over``,
``unknown``) with a ``count``; the analysis turns them into series, totals and trends. The
place filter is a list of district GSS codes (ED) or of LSOA codes, 2011 and 2021 (crime
extract), worked out by the analysis from the reference tables.
"""

from __future__ import annotations

from datetime import date

import pandas as pd

_ED_AGE = """CASE WHEN age_band IN ('0-15', '16-17', '18-24') THEN 'under_25'
                  WHEN age_band IS NULL THEN 'unknown' ELSE '25_and_over' END"""
_VICTIM_AGE = """CASE WHEN v.age IS NULL THEN 'unknown' WHEN v.age < 25 THEN 'under_25'
                      ELSE '25_and_over' END"""


def ed_knife_by_month(store, lad_codes: list[str], start: date, end: date) -> pd.DataFrame:
    """ED (ISTV) attendances for assault with a knife or sharp object (weapon code KNIFE) in
    these districts, by month (of the assault, else of arrival) and age group."""
    return store.query(
        f"""SELECT month, {_ED_AGE} AS age_group, count(*) AS count
        FROM ed_assaults
        WHERE weapon_code = 'KNIFE' AND lad_code IN (SELECT unnest(?::VARCHAR[]))
          AND month BETWEEN ? AND ?
        GROUP BY 1, 2 ORDER BY 1, 2""",
        [list(lad_codes), start, end],
    )


def ed_knife_unplaced(store, start: date, end: date) -> int:
    """ED knife attendances in the months with no district (they count towards no area)."""
    return int(
        store.query(
            """SELECT count(*) AS n FROM ed_assaults WHERE weapon_code = 'KNIFE'
            AND lad_code IS NULL AND month BETWEEN ? AND ?""",
            [start, end],
        ).n[0]
    )


def ed_synthetic(store) -> bool:
    return bool(
        store.query("SELECT coalesce(bool_or(synthetic), false) AS s FROM ed_assaults").s[0]
    )


def extract_by_month(
    store, codes: list[str], lsoa_codes: list[str], start: date, end: date, *, knife: bool
) -> pd.DataFrame:
    """Crimes of the extract with an offence code in ``codes`` (and the knife flag set when
    ``knife``) in these LSOAs, by month and the age group of the victim (a crime whose victim
    row is missing or has no age is ``unknown``; a crime with several victims counts once,
    under its youngest)."""
    knife_sql = "AND c.knife" if knife else ""
    return store.query(
        f"""WITH v AS (SELECT crime_id, min(age) AS age FROM persons_in_crimes
                       WHERE role = 'victim' GROUP BY 1),
        c AS (SELECT crime_id, month FROM crimes c
              WHERE offence_code IN (SELECT unnest(?::VARCHAR[])) {knife_sql}
                AND lsoa_code IN (SELECT unnest(?::VARCHAR[])) AND month BETWEEN ? AND ?)
        SELECT c.month, {_VICTIM_AGE} AS age_group, count(*) AS count
        FROM c LEFT JOIN v USING (crime_id) GROUP BY 1, 2 ORDER BY 1, 2""",
        [list(codes), list(lsoa_codes), start, end],
    )


def extract_unplaced(store, codes: list[str], start: date, end: date, *, knife: bool) -> int:
    """Crimes of these codes in the months with no LSOA (they count towards no area)."""
    knife_sql = "AND knife" if knife else ""
    return int(
        store.query(
            f"""SELECT count(*) AS n FROM crimes WHERE lsoa_code IS NULL {knife_sql}
            AND offence_code IN (SELECT unnest(?::VARCHAR[])) AND month BETWEEN ? AND ?""",
            [list(codes), start, end],
        ).n[0]
    )


def extract_knife_flag_missing(store, codes: list[str], start: date, end: date) -> int:
    """Crimes of these codes in the months whose knife flag is blank (counted as no knife)."""
    return int(
        store.query(
            """SELECT count(*) AS n FROM crimes WHERE knife IS NULL
            AND offence_code IN (SELECT unnest(?::VARCHAR[])) AND month BETWEEN ? AND ?""",
            [list(codes), start, end],
        ).n[0]
    )


def extract_months(store) -> tuple[date | None, date | None]:
    """First and last month the crime extract holds."""
    r = store.query("SELECT min(month) AS lo, max(month) AS hi FROM crimes")
    lo, hi = r.lo[0], r.hi[0]
    return (None, None) if pd.isna(lo) else (pd.Timestamp(lo).date(), pd.Timestamp(hi).date())


def extract_synthetic(store) -> bool:
    return bool(store.query("SELECT coalesce(bool_or(synthetic), false) AS s FROM crimes").s[0])


def ed_months(store) -> tuple[date | None, date | None]:
    """First and last month the ED assault records hold."""
    r = store.query("SELECT min(month) AS lo, max(month) AS hi FROM ed_assaults")
    lo, hi = r.lo[0], r.hi[0]
    return (None, None) if pd.isna(lo) else (pd.Timestamp(lo).date(), pd.Timestamp(hi).date())


def possession_of_weapons(store, where: str, params: list) -> int:
    """police.uk 'Possession of weapons' rows in a street-crime scope (named, never used as
    knife-enabled violence: possession is not violence and covers every weapon)."""
    return int(
        store.query(
            f"SELECT count(*) AS n FROM street_crimes s WHERE {where} "
            "AND s.crime_type = 'Possession of weapons'",
            params,
        ).n[0]
    )
