"""The store reads every harm analysis starts from: a checked scope and weights, the weighted
cube over the scope, its months, and the LSOA frame with zeros.

Private to the package (the architecture rule: a public analysis function that takes the store
returns a Result); the SQL itself is the query layer's (:mod:`harmscope.store.queries.scope`).
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.harm.scope import Scope, require_area, resolve_scope, resolve_weights
from harmscope.errors import HarmscopeError
from harmscope.reference import load_lad, load_lsoa11
from harmscope.store import Store
from harmscope.store.queries import scope as q


def check_categories(store: Store, scope: Scope, weights: pd.DataFrame) -> None:
    """Fail loudly when the data hold a crime type the weights table does not know."""
    seen = q.crime_types_held(store, scope.where, scope.params)
    unknown = sorted(set(seen) - set(weights.category))
    if unknown:
        raise HarmscopeError(
            f"the store holds crime type(s) with no weight: {', '.join(unknown)}",
            where="weights table",
            fix="add a row for each (weight 0 leaves it out of harm)",
        )


def prepare(
    store: Store,
    area: str | None,
    date_from=None,
    date_to=None,
    scheme: str = "css",
    weights=None,
    categories=None,
    *,
    need_area: str | None = None,
) -> tuple[Scope, pd.DataFrame, str]:
    """The scope, weights and weights label every harm analysis starts from, checked.

    ``need_area``: the problem to report when the analysis needs an area and none is given
    (checked before the weights, so that error comes first).
    """
    scope = resolve_scope(area, date_from, date_to, categories)
    if need_area is not None:
        require_area(scope, need_area)
    wt, wlabel = resolve_weights(scheme, weights)
    check_categories(store, scope, wt)
    return scope, wt, wlabel


def weighted_cube(
    store: Store, scope: Scope, weights: pd.DataFrame, keys: dict[str, str]
) -> pd.DataFrame:
    """count, harm, harm_w2 (Σ w²n) and w_max grouped by ``keys`` (alias -> SQL expression).

    ``weights.attrs['overrides']`` (privacy.harm_view.published_weights) is applied: see
    :func:`harmscope.store.queries.scope.weighted_cube`."""
    return q.weighted_cube(store, scope.where, scope.params, weights, keys)


def months_covered(store: Store, scope: Scope) -> list[str]:
    """The months ('YYYY-MM') the scope holds."""
    return q.months_held(store, scope.where, scope.params)


def lsoa_placement_note(store: Store, scope: Scope) -> str:
    """The measured share of the scope's rows that LSOA-level figures leave out."""
    p = q.lsoa_placement(store, scope.where, scope.params)
    left = p["rows"] - p["lsoa"]
    share = left / p["rows"] if p["rows"] else 0.0
    return (
        f"LSOA placement: {p['lsoa']:,} of {p['rows']:,} rows in scope are in a 2011 LSOA; "
        f"{left:,} ({share:.1%}) are not and are left out of LSOA-level figures "
        f"({p['district_only']:,} known only to their district, {p['unplaced']:,} with no usable "
        "location). 2021 LSOA codes are placed by point in the packaged 2011 polygons of every "
        "force area, or through the ONS 2011-2021 lookup where the point is missing."
    )


def lsoa_frame(
    store: Store,
    scope: Scope,
    weights: pd.DataFrame,
    *,
    extra_keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per 2011 LSOA of the area (zeros included), with count, harm and reference data.

    LSOAs come from the reference table, so an LSOA with no recorded crime is a true zero,
    not a missing row; that matters for smoothing, concentration and regressions.
    """
    keys = {"area_code": q.CUBE_KEYS["lsoa"]}
    if extra_keys:
        keys.update(extra_keys)
    cube = weighted_cube(store, scope, weights, keys).dropna(subset=["area_code"])
    ref = load_lsoa11()
    if scope.lad_codes:
        ref = ref[ref.lad_code.isin(scope.lad_codes)]
    elif scope.force:
        lad = load_lad()
        ref = ref[ref.lad_code.isin(lad.loc[lad.force.fillna("") == scope.force, "lad_code"])]
    else:
        ref = ref[ref.lsoa11_code.isin(cube.area_code)]
    ref = ref.rename(
        columns={
            "lsoa11_code": "area_code",
            "lsoa11_name": "area_name",
            "population_2019": "population",
        }
    )
    ref = ref[
        [
            "area_code",
            "area_name",
            "lad_code",
            "lad_name",
            "urban_rural",
            "ruc11_class",
            "imd_decile",
            "population",
        ]
    ]
    out = ref.merge(cube, on="area_code", how="left")
    for col in ("count", "harm", "harm_w2"):
        out[col] = out[col].fillna(0)
    out["count"] = out["count"].astype("int64")
    out["w_max"] = out["w_max"].fillna(float(weights.weight.max()))
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype(float)
    return out.reset_index(drop=True)
