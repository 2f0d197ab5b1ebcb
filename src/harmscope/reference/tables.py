"""Loaders for the packaged geography tables (LSOA 2011, local authority districts, forces)."""

from __future__ import annotations

import pandas as pd

from harmscope.reference._files import read_table

LSOA11_FILE = "geography/lsoa11.csv.gz"
LAD_FILE = "geography/lad.csv"
FORCES_FILE = "geography/forces.csv"

LSOA11_COLUMNS = {
    "lsoa11_code": "string",
    "lsoa11_name": "string",
    "lad_code": "string",
    "lad_name": "string",
    "ruc11_code": "string",
    "ruc11_class": "string",
    "urban_rural": "string",
    "imd_score": "float64",
    "imd_decile": "Int64",
    "population_2019": "Int64",
}
LAD_COLUMNS = {
    "lad_code": "string",
    "lad_name": "string",
    "alt_names": "string",
    "county": "string",
    "csp": "string",
    "force": "string",
    "population_2019": "Int64",
    "region": "string",
}
FORCES_COLUMNS = {"force_slug": "string", "force_name": "string"}


def load_lsoa11() -> pd.DataFrame:
    """Every 2011 LSOA in England and Wales with district, RUC 2011, IMD 2019, population."""
    return read_table(LSOA11_FILE, LSOA11_COLUMNS, unique="lsoa11_code")


def load_lad() -> pd.DataFrame:
    """Current local authority districts of England and Wales (names, county, CSP, force)."""
    return read_table(LAD_FILE, LAD_COLUMNS, unique="lad_code")


def load_forces() -> pd.DataFrame:
    """Police forces: police.uk slug (file names, API id) and 'Falls within' name."""
    return read_table(FORCES_FILE, FORCES_COLUMNS, unique="force_slug")


def force_name_for_slug(slug: str) -> str | None:
    """'kent' -> 'Kent Police'; None when the slug is unknown."""
    if not slug:
        return None
    f = load_forces()
    hit = f.loc[f.force_slug.str.lower() == slug.strip().lower(), "force_name"]
    return str(hit.iloc[0]) if len(hit) else None


def lad_codes_for_force(force_name: str) -> set[str]:
    """GSS codes of the districts in a force area ('Kent Police' -> 13 codes).

    Empty for forces whose districts lad.csv does not fill in (see SOURCES.md).
    """
    lad = load_lad()
    key = (force_name or "").strip().lower()
    return set(lad.loc[lad.force.fillna("").str.lower() == key, "lad_code"].astype(str))
