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
    """The union polygon (BNG) of the area's districts, or of all packaged districts; None when the
    packaged boundaries are unavailable (the grid then covers the points' extent, unclipped)."""
    from shapely.geometry import shape

    try:
        from harmscope.reference import lad_boundaries

        feats = _features(lad_boundaries())
    except Exception:  # a missing data file must not stop an analysis that can run unclipped
        return None
    if not feats:
        return None
    codes = area_lad_codes(area)
    if codes is not None:
        feats = [f for f in feats if str(f["properties"].get("lad_code", "")) in codes]
        if not feats:
            return None  # an area outside the packaged boundaries: the grid stays unclipped
    return _project_union([shape(f["geometry"]) for f in feats])


def lsoa_units(area: str | None) -> tuple[list[str], object]:
    """2011 LSOA codes and their polygons in BNG (for LSOA units), for the area or all of them."""
    from shapely.geometry import shape

    from harmscope.analysis.grid import geoms_to_bng

    try:
        from harmscope.reference import lsoa_boundaries

        feats = _features(lsoa_boundaries())
    except Exception as exc:
        raise HarmscopeError(
            f"LSOA boundaries are not available ({type(exc).__name__})",
            where="--units lsoa",
            fix="use --units grid",
        ) from None
    codes = area_lad_codes(area)
    if codes is not None:
        feats = [f for f in feats if str(f["properties"].get("lad_code", "")) in codes]
    if not feats:
        raise HarmscopeError(
            f"no packaged LSOA boundaries for {area!r} (only Kent and Medway are packaged)",
            where="--units lsoa",
            fix="use --units grid",
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
