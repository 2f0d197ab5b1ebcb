"""Empirical-Bayes smoothing of small-area rates (global, Marshall 1991).

A rate in a small LSOA swings with a handful of crimes, so maps of raw rates put the most
extreme values in the least populated (often rural) areas. Global EB shrinks each raw rate
rᵢ = yᵢ/Pᵢ towards the overall rate m = Σy/ΣP with weight

    wᵢ = A / (A + m/Pᵢ),   A = Σ Pᵢ(rᵢ − m)² / ΣP − m / P̄   (floored at 0),

so big areas keep their own rate and small ones borrow from the mean. This is the estimator
of esda.smoothing.Empirical_Bayes (pinned against it in the tests), except that esda does not
floor A at 0; with no between-area variance left we shrink fully to m, as Marshall does.
"""

from __future__ import annotations

import functools

import numpy as np

from harmscope.analysis.harm._data import (
    lsoa_frame,
    lsoa_placement_note,
    months_covered,
    prepare,
)
from harmscope.analysis.harm.rates import MIXED_NOTE, coverage_note
from harmscope.analysis.harm.scope import area_or_only_force, scheme_name
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.store import Store
from harmscope.store.queries.catalog import forces_held


def eb_global(events, population) -> dict[str, np.ndarray | float]:
    """Global EB rates. Returns smoothed rates, shrinkage weights, m, A and the raw rates."""
    y = np.asarray(events, dtype=float).ravel()
    p = np.asarray(population, dtype=float).ravel()
    if y.shape != p.shape:
        raise ValueError("events and population must have the same length")
    if np.any(p <= 0) or not np.all(np.isfinite(p)):
        raise HarmscopeError(
            "every area needs a population above 0 for Empirical-Bayes smoothing",
            where="population",
            fix="drop areas with no population or supply a population table",
        )
    m = y.sum() / p.sum()
    raw = y / p
    a_raw = (p * (raw - m) ** 2).sum() / p.sum() - m / p.mean()
    a = max(a_raw, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(a > 0, a / (a + m / p), 0.0)
    smoothed = w * raw + (1 - w) * m
    return {
        "rate": smoothed,
        "weight": w,
        "raw": raw,
        "mean": float(m),
        "A": float(a),
        "A_unfloored": float(a_raw),
    }


def smoothed_lsoa_rates(
    store: Store,
    *,
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    categories=None,
    measure: str = "harm",
) -> Result:
    """EB-smoothed harm (or count) rates per 1,000 residents for every 2011 LSOA of the area.

    LSOAs with no recorded crime are included as zeros. The table also carries the raw rate,
    the shrinkage weight and a flag for LSOAs whose raw rate moved by more than half.
    """
    # no area: the one force the store holds, announced in the notes
    area, area_note = area_or_only_force(area, lambda: forces_held(store))
    if measure not in ("harm", "count"):
        raise HarmscopeError(
            f"unknown measure {measure!r}", where="measure", fix="use 'harm' or 'count'"
        )
    scope, wt, wlabel = prepare(
        store,
        area,
        date_from,
        date_to,
        scheme,
        weights,
        categories,
        need_area="smoothing needs an area (a force, county or district), so that LSOAs with no "
        "crime count as zeros",
    )
    df = lsoa_frame(store, scope, wt)
    df = df[df.population > 0].reset_index(drop=True)
    if df.empty:
        raise HarmscopeError(
            f"no LSOAs with population in {scope.label}", where="--area", fix="check the area name"
        )
    # A harm total is a weighted sum: its variance is phi times that of a Poisson count of the
    # same mean, phi = Σw²n / Σwn. Smoothing harm/phi (in "effective crimes") and scaling back
    # is the scaled-Poisson form of Marshall's estimator; for counts phi = 1.
    phi = (
        float(df.harm_w2.sum() / df.harm.sum()) if measure == "harm" and df.harm.sum() > 0 else 1.0
    )
    eb = eb_global(df[measure].to_numpy(float) / phi, df.population.to_numpy(float))
    eb["raw"], eb["rate"], eb["mean"] = eb["raw"] * phi, eb["rate"] * phi, eb["mean"] * phi
    df["raw_rate_per_1000"] = eb["raw"] * 1000
    df["eb_rate_per_1000"] = eb["rate"] * 1000
    df["shrinkage_weight"] = eb["weight"]
    with np.errstate(invalid="ignore", divide="ignore"):
        moved = np.abs(df.eb_rate_per_1000 - df.raw_rate_per_1000) / df.raw_rate_per_1000.where(
            df.raw_rate_per_1000 > 0
        )
    df["moved_over_half"] = (moved > 0.5).fillna(False)
    df["measure"] = measure
    df = df.sort_values("eb_rate_per_1000", ascending=False).reset_index(drop=True)
    months = months_covered(store, scope)
    raw_top = df.sort_values("raw_rate_per_1000", ascending=False).head(10)
    summary = {
        "area": scope.label,
        "measure": measure,
        "scheme": scheme_name(scheme, weights),
        "lsoas": int(len(df)),
        "mean_rate_per_1000": eb["mean"] * 1000,
        "between_area_variance_A": eb["A"],
        "median_shrinkage_weight": float(np.median(eb["weight"])),
        "variance_factor_phi": phi,
        "lsoas_moved_over_half": int(df.moved_over_half.sum()),
        "raw_top10_rural_share": float((raw_top.urban_rural == "rural").mean()),
        "eb_top10_rural_share": float((df.head(10).urban_rural == "rural").mean()),
    }
    method = (
        f"Global Empirical-Bayes (Marshall 1991) smoothing of LSOA {measure} rates per 1,000 "
        "residents (2019 mid-year population), shrinking each raw rate towards the area mean m "
        "with weight A/(A + m/Pᵢ); A is the method-of-moments between-LSOA variance. "
        f"{'Harm uses ' + wlabel + '. ' if measure == 'harm' else ''}"
        "The estimator assumes counts are Poisson given the rate. A harm total is a weighted "
        "sum whose variance is phi = Σw²n/Σwn times its mean, so harm is smoothed in units of "
        "harm/phi ('effective crimes', scaled Poisson) and scaled back; phi is in the summary. "
        "A (the between-LSOA variance) is floored at 0. Rows that cannot be placed "
        "in a 2011 LSOA are left out (their measured share is in the notes). Smoothed rates are for ranking and mapping; they are not intervals. "
        + (MIXED_NOTE if measure == "harm" else "")
    )
    return Result(
        table=df,
        summary=summary,
        charts={"raw_vs_smoothed": functools.partial(_scatter, df.copy(), measure)},  # lazy
        method=method,
        notes=[
            *([area_note] if area_note else []),
            coverage_note(months),
            lsoa_placement_note(store, scope),
        ],
    )


__all__ = ["eb_global", "smoothed_lsoa_rates"]


def _scatter(df, measure: str) -> dict:
    """Raw against smoothed rates (built when read: Result.charts is lazy)."""
    import altair as alt

    sc = (
        alt.Chart(df)
        .mark_circle(opacity=0.5)
        .encode(
            x=alt.X("raw_rate_per_1000:Q", title="raw rate per 1,000"),
            y=alt.Y("eb_rate_per_1000:Q", title="EB-smoothed rate per 1,000"),
            size=alt.Size("population:Q"),
            color=alt.Color("urban_rural:N"),
            tooltip=[
                "area_code",
                "area_name",
                "population",
                measure,
                "raw_rate_per_1000",
                "eb_rate_per_1000",
            ],
        )
        .properties(title="Raw against smoothed LSOA rates")
    )
    return sc.to_dict()
