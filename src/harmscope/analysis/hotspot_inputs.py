"""Inputs the hotspot and alert analyses borrow from other modules: harm weights and boundaries.

Both come from modules written elsewhere in harmscope; this adapter keeps the analyses
working (unweighted, unclipped) and says so plainly when those are not available.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from harmscope.errors import HarmscopeError

SCHEMES = ("none", "css", "chi")


def harm_weights(scheme: str) -> tuple[pd.Series | None, str]:
    """Weights per police.uk crime type for ``scheme`` (css|chi|none), and a note on their source."""
    scheme = (scheme or "none").lower()
    if scheme not in SCHEMES:
        raise HarmscopeError(
            f"unknown weight scheme {scheme!r}", where="--weights", fix="use css, chi or none"
        )
    if scheme == "none":
        return None, "Unweighted: every crime counts 1."
    try:
        from harmscope.reference.offences import load_weights as loader
    except ImportError:
        raise HarmscopeError(
            f"the {scheme} harm weights are not available in this installation",
            where="--weights",
            fix="use --weights none",
        ) from None
    table = loader(scheme)
    series = _as_series(table)
    estimates = (
        int((table["status"].astype(str).str.lower().str.contains("estimate")).sum())
        if "status" in table
        else 0
    )
    note = f"Harm-weighted with the packaged {scheme.upper()} category weights (sources in reference/data/SOURCES.md)"
    if estimates:
        note += f"; {estimates} of {len(table)} category weights are estimates (see the table's status column)"
    return series, note + "."


def _as_series(table) -> pd.Series:
    if isinstance(table, pd.Series):
        return table.astype(float)
    if isinstance(table, dict):
        return pd.Series(table, dtype=float)
    if isinstance(table, pd.DataFrame):
        key = next(
            (c for c in ("crime_type", "category", "police_category") if c in table.columns), None
        )
        val = next((c for c in ("weight", "days", "value") if c in table.columns), None)
        if key and val:
            return table.set_index(key)[val].astype(float)
    raise HarmscopeError(
        "the harm-weight table has an unexpected shape (need crime_type and weight columns)",
        where="--weights",
        fix="use --weights none",
    )


def _features(fc) -> list[dict]:
    return list(fc.get("features", [])) if isinstance(fc, dict) else []


def _project_union(geoms):
    import shapely

    from harmscope.analysis.grid import geoms_to_bng

    # simplified map polygons can be slightly invalid; make_valid keeps the union from failing
    return geoms_to_bng(shapely.union_all(shapely.make_valid(np.asarray(geoms, dtype=object))))


@lru_cache(maxsize=8)
def area_boundary(area: str | None):
    """The union polygon (BNG) of the area's districts (every force area of England and Wales
    is packaged), or of England and Wales when no area is named; None only for an area with
    no known district (the grid then covers the points' extent, unclipped, and says so)."""
    from shapely.geometry import shape

    from harmscope.reference import force_boundaries, lad_boundaries

    codes = area_lad_codes(area)
    if codes is None:
        feats = _features(force_boundaries())
    elif not codes:
        return None
    else:
        feats = _features(lad_boundaries(codes))
    if not feats:
        return None
    return _project_union([shape(f["geometry"]) for f in feats])


def study_area(area: str | None, held: list[str] | None) -> tuple[str | None, list[str]]:
    """The area to clip to: the one named, else the only force ``held`` in the rows read
    (announced); None (England and Wales) when the rows span several forces."""
    if area:
        return area, []
    if held and len(held) == 1:
        return held[0], [
            f"No area named: the study area is {held[0]}, the only force in these rows."
        ]
    return None, []


def lsoa_units(area: str | None) -> tuple[list[str], object]:
    """2011 LSOA codes and their polygons in BNG (for LSOA units), for the area or all of them."""
    from shapely.geometry import shape

    from harmscope.analysis.grid import geoms_to_bng
    from harmscope.reference import lsoa_boundaries

    codes = area_lad_codes(area)
    if codes is None:
        raise HarmscopeError(
            "LSOA units need an area (all of England and Wales is 35,000 LSOAs)",
            where="--units lsoa",
            fix="name the force, district or CSP with --area",
        )
    feats = _features(lsoa_boundaries(codes))
    if not feats:
        raise HarmscopeError(
            f"no packaged LSOA boundaries for {area!r} (no district of England and Wales matches)",
            where="--units lsoa",
            fix="check the --area spelling, or use --units grid",
        )
    feats = sorted(feats, key=lambda f: f["properties"]["lsoa11_code"])
    codes = [f["properties"]["lsoa11_code"] for f in feats]
    return codes, geoms_to_bng(np.asarray([shape(f["geometry"]) for f in feats], dtype=object))


def area_lad_codes(area: str | None) -> set[str] | None:
    """GSS codes of the districts an area (force, county, district) covers; None for no area."""
    if not area:
        return None
    from harmscope.analysis.harm import resolve_scope
    from harmscope.reference import lad_codes_for_force

    scope = resolve_scope(area)
    if scope.lad_codes:
        return set(scope.lad_codes)
    if scope.force:
        return lad_codes_for_force(scope.force)
    return None
