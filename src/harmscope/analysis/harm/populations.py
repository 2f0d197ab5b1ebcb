"""Residents (ONS 2019 mid-year estimates) per area, the denominators of every rate."""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.harm.scope import Scope
from harmscope.reference import load_lad, load_lsoa11
from harmscope.store.queries.scope import CUBE_KEYS

# the street_crimes column that places a row at each level
LEVEL_KEYS = {
    "county": {"area_code": CUBE_KEYS["force"]},
    "district": {"area_code": CUBE_KEYS["district"]},
    "lsoa": {"area_code": CUBE_KEYS["lsoa"]},
}


def populations(level: str) -> pd.DataFrame:
    """area_code, area_name, population (2019 mid-year) for a level."""
    if level == "lsoa":
        ref = load_lsoa11()
        out = ref[["lsoa11_code", "lsoa11_name", "population_2019"]]
        out.columns = ["area_code", "area_name", "population"]
    else:
        lad = load_lad()
        if level == "district":
            out = lad[["lad_code", "lad_name", "population_2019"]].copy()
            out.columns = ["area_code", "area_name", "population"]
        else:
            sub = lad.dropna(subset=["force"])
            out = (
                sub.groupby("force", as_index=False)["population_2019"]
                .sum()
                .rename(columns={"force": "area_code", "population_2019": "population"})
            )
            out["area_name"] = out["area_code"]
    out = out.astype({"area_code": str, "area_name": str})
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype(float)
    return out


def scope_population(scope: Scope) -> float:
    lad = load_lad()
    if scope.lad_codes:
        sel = lad[lad.lad_code.isin(scope.lad_codes)]
    elif scope.force:
        sel = lad[lad.force.fillna("") == scope.force]
    else:
        return float("nan")
    return float(pd.to_numeric(sel.population_2019, errors="coerce").sum())
