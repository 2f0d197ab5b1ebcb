"""The harm profile: harm-weighted counts and rates by area (and month) and category, and the
monthly trend of one area against the same months a year before."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd

from harmscope.analysis.harm._data import months_covered, prepare, weighted_cube
from harmscope.analysis.harm.populations import LEVEL_KEYS, populations, scope_population
from harmscope.analysis.harm.rates import (
    HARM_SUMS,
    add_rates,
    bar_chart,
    coverage_note,
    method_text,
)
from harmscope.analysis.harm.scope import check_level, scheme_name
from harmscope.analysis.intervals import log_ratio_ci, weighted_poisson_ci
from harmscope.analysis.result import Result
from harmscope.months import shift_year
from harmscope.store import Store
from harmscope.store.queries.scope import CUBE_KEYS


def harm_by_area(
    store: Store,
    *,
    level: str = "district",
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    by_month: bool = False,
    categories=None,
    alpha: float = 0.05,
) -> Result:
    """Harm-weighted counts and rates per 1,000 residents by area (and month) and category.

    ``table``: area_code, area_name, [month], category, count, harm, population,
    rate_per_1000 (+ CI), harm_rate_per_1000 (+ CI), and harm_w2 (Σ w²n) and w_max, which a
    caller needs to put an interval on a sum of rows (:func:`weighted_poisson_ci`).
    ``tables['totals']``: the same over all categories per area (and month).
    ``tables['by_category']``: count and harm shares by category. ``tables['weights']``: the
    weights used, with their sources. Rows that could not be placed at the level asked for
    are left out (a note gives their number); at county level every in-area row counts.
    """
    level = check_level(level)
    scope, wt, wlabel = prepare(store, area, date_from, date_to, scheme, weights, categories)
    keys = dict(LEVEL_KEYS[level])
    if by_month:
        keys["month"] = CUBE_KEYS["month"]
    keys["category"] = CUBE_KEYS["category"]
    cube = weighted_cube(store, scope, wt, keys)
    months = months_covered(store, scope)
    notes = [coverage_note(months)]
    unplaced = int(cube.loc[cube.area_code.isna(), "count"].sum())
    if unplaced and level != "county":
        notes.append(
            f"{unplaced:,} rows could not be placed in a {'district' if level == 'district' else '2011 LSOA'}"
            " and are left out of this table (they are in the force totals)."
        )
    cube = cube.dropna(subset=["area_code"])
    if level == "county" and scope.lad_codes is not None:
        # a county or district asked for at county level: one area, its own population
        cube["area_code"] = scope.label
        cube = cube.groupby([c for c in cube.columns if c in keys], as_index=False).agg(**HARM_SUMS)
        pop = pd.DataFrame(
            {
                "area_code": [scope.label],
                "area_name": [scope.label],
                "population": [scope_population(scope)],
            }
        )
    else:
        pop = populations(level)
    table = cube.merge(pop, on="area_code", how="left")
    table["area_name"] = table["area_name"].fillna(table["area_code"])
    totals_keys = ["area_code", "area_name"] + (["month"] if by_month else [])
    totals = table.groupby(totals_keys, as_index=False, dropna=False).agg(
        **HARM_SUMS, population=("population", "first")
    )
    table = add_rates(table, alpha)
    totals = add_rates(totals, alpha)
    lead = ["area_code", "area_name"] + (["month"] if by_month else []) + ["category"]
    cols = lead + [c for c in table.columns if c not in lead]
    table = table[cols].sort_values(lead).reset_index(drop=True)
    totals = totals.sort_values("harm", ascending=False).reset_index(drop=True)
    by_cat = table.groupby("category", as_index=False)[["count", "harm"]].sum()
    total_count, total_harm = int(by_cat["count"].sum()), float(by_cat["harm"].sum())
    by_cat["count_share"] = by_cat["count"] / max(total_count, 1)
    by_cat["harm_share"] = by_cat["harm"] / total_harm if total_harm else np.nan
    by_cat = by_cat.sort_values("harm", ascending=False).reset_index(drop=True)
    lo, hi = weighted_poisson_ci(
        total_harm, float(table.harm_w2.sum()), float(table.w_max.max()), alpha
    )
    summary = {
        "area": scope.label,
        "level": level,
        "scheme": scheme_name(scheme, weights),
        "months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "count": total_count,
        "harm": total_harm,
        "harm_ci": [float(lo), float(hi)],
        "areas": int(totals.area_code.nunique()),
    }
    if len(by_cat):
        top = by_cat.iloc[0]
        summary["top_harm_category"] = top.category
        summary["top_harm_category_share"] = float(top.harm_share)
    charts = {}
    if len(by_cat):
        long = by_cat.melt(
            id_vars="category", value_vars=["count_share", "harm_share"], var_name="measure"
        )
        charts["harm_vs_count"] = functools.partial(  # built when read (Result.charts)
            bar_chart, long, "value", "category", "Share of count and of harm", "measure"
        )
    if len(totals) and not by_month:
        charts["areas_by_harm_rate"] = functools.partial(
            bar_chart,
            totals.head(40).copy(),
            "harm_rate_per_1000",
            "area_name",
            "Harm per 1,000 residents",
        )
    return Result(
        table=table,
        summary=summary,
        charts=charts,
        method=method_text(wlabel, level),
        tables={"totals": totals, "by_category": by_cat, "weights": wt},
        notes=notes,
    )


def harm_trend(
    store: Store,
    *,
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    categories=None,
    alpha: float = 0.05,
) -> Result:
    """Monthly harm and count for one area, with the change on the same month a year before.

    ``tables['same_period']`` compares the months present in both years (e.g. Jan-Apr 2025
    against Jan-Apr 2024), with a log-scale interval for the ratio.
    """
    scope, wt, wlabel = prepare(store, area, date_from, date_to, scheme, weights, categories)
    df = weighted_cube(store, scope, wt, {"month": CUBE_KEYS["month"]})
    pop = scope_population(scope)
    df["population"] = pop
    df = add_rates(df, alpha)
    months = df.month.tolist()
    idx = {m: i for i, m in enumerate(months)}
    prev_rows = [idx.get(shift_year(m, -1)) for m in months]
    has_prev = np.array([p is not None for p in prev_rows])
    p_idx = np.array([p if p is not None else 0 for p in prev_rows])
    for col in ("harm", "count"):
        var_col = "harm_w2" if col == "harm" else "count"
        y1, v1 = df[col].to_numpy(float), df[var_col].to_numpy(float)
        y0, v0 = y1[p_idx], v1[p_idx]
        r, lo, hi = log_ratio_ci(y1, v1, y0, v0, alpha)
        df[f"{col}_last_year"] = np.where(has_prev, y0, np.nan)
        df[f"{col}_yoy_ratio"] = np.where(has_prev, r, np.nan)
        df[f"{col}_yoy_ci_low"] = np.where(has_prev, lo, np.nan)
        df[f"{col}_yoy_ci_high"] = np.where(has_prev, hi, np.nan)
    cur = df[has_prev]
    base = df.iloc[p_idx[has_prev]] if has_prev.any() else df.iloc[[]]
    same = pd.DataFrame()
    summary = {
        "area": scope.label,
        "months": len(months),
        "scheme": scheme_name(scheme, weights),
    }
    if len(cur):
        same_rows = []
        for col, var_col in (("harm", "harm_w2"), ("count", "count")):
            y1, v1 = cur[col].sum(), cur[var_col].sum()
            y0, v0 = base[col].sum(), base[var_col].sum()
            r, lo, hi = log_ratio_ci(y1, v1, y0, v0, alpha)
            same_rows.append(
                {
                    "measure": col,
                    "period": f"{cur.month.iloc[0]}..{cur.month.iloc[-1]} ({len(cur)} months)",
                    "previous": f"{base.month.iloc[0]}..{base.month.iloc[-1]}",
                    "value": y1,
                    "previous_value": y0,
                    "ratio": float(r),
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "change_pct": float((r - 1) * 100),
                }
            )
            summary[f"{col}_same_period_change_pct"] = float((r - 1) * 100)
            summary[f"{col}_same_period_change_pct_ci"] = [
                float((lo - 1) * 100),
                float((hi - 1) * 100),
            ]
        same = pd.DataFrame(same_rows)
        summary["same_period_months"] = [str(m) for m in cur.month]
    notes = [coverage_note(months)]
    if not len(cur):
        notes.append(
            "No month has the same month of the previous year in the store: no change is given."
        )
    charts = {}
    if len(df):  # built when read (Result.charts)
        charts["harm_trend"] = functools.partial(_trend_chart, df.copy(), scope.label)
    method = method_text(
        wlabel,
        "one area, by month",
        "Change against the same month a year before: ratio of the two harm totals with a "
        "delta-method (log-scale) 95% interval from the Poisson variances; month-to-month "
        "extra variation (weather, events, recording practice) is not in the interval, so it is "
        "narrower than a model with overdispersion would give. Months missing in either year "
        "are left out of the same-period comparison.",
    )
    return Result(
        table=df,
        summary=summary,
        charts=charts,
        method=method,
        tables={"same_period": same},
        notes=notes,
    )


def _trend_chart(df: pd.DataFrame, label: str) -> dict:
    """The monthly harm line with its interval band."""
    import altair as alt

    base_chart = alt.Chart(df).encode(x=alt.X("month:T", title="month"))
    band = base_chart.mark_area(opacity=0.25).encode(y="harm_ci_low:Q", y2="harm_ci_high:Q")
    line = base_chart.mark_line(point=True).encode(
        y=alt.Y("harm:Q", title="harm"), tooltip=list(df.columns[:6])
    )
    return (band + line).properties(title=f"Monthly harm, {label}").to_dict()
