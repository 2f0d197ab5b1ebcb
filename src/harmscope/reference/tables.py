"""Loaders for the packaged geography tables (LSOA 2011, local authority districts, forces)."""

from __future__ import annotations

import pandas as pd

from harmscope.reference._files import read_table

LSOA11_FILE = "geography/lsoa11.csv.gz"
LAD_FILE = "geography/lad.csv"
FORCES_FILE = "geography/forces.csv"
CSP_FILE = "geography/csp.csv"

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
CSP_COLUMNS = {
    "csp_name": "string",
    "aliases": "string",
    "lad_codes": "string",
    "status": "string",
    "source": "string",
    "estimate": "string",
}


def load_lsoa11() -> pd.DataFrame:
    """Every 2011 LSOA in England and Wales with district, RUC 2011, IMD 2019, population."""
    return read_table(LSOA11_FILE, LSOA11_COLUMNS, unique="lsoa11_code")


def load_lad() -> pd.DataFrame:
    """Current local authority districts of England and Wales (names, county, CSP, force)."""
    return read_table(LAD_FILE, LAD_COLUMNS, unique="lad_code")


def load_csps() -> pd.DataFrame:
    """Named community safety partnerships and their districts (Kent and Medway; sources and
    estimates in reference/data/SOURCES.md). ``lad_codes`` and ``aliases`` are ``|``-separated."""
    return read_table(CSP_FILE, CSP_COLUMNS, unique="csp_name")


def csp_key(name: str) -> str:
    """A CSP name as matched: case, "&", spacing and "Community Safety Partnership" vs "CSP"
    do not matter ("Dartford & Gravesham CSP" = "Dartford and Gravesham Community Safety
    Partnership")."""
    k = " ".join(str(name).lower().replace("&", " and ").split())
    return k.replace("community safety partnership", "csp")


def csp_districts(name: str) -> tuple[str, list[str]] | None:
    """``(CSP name, district GSS codes)`` for a CSP's name or alias; None if it names none."""
    key = csp_key(name)
    for row in load_csps().itertuples():
        aliases = row.aliases if isinstance(row.aliases, str) else ""  # empty cells are <NA>
        names = [row.csp_name, *aliases.split("|")]
        if any(n and csp_key(n) == key for n in names):
            return str(row.csp_name), [c for c in str(row.lad_codes).split("|") if c]
    return None


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
