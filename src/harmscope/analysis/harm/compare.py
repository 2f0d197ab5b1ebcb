"""Comparisons of harm rates: rural against urban, across IMD deciles, and between forces."""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.harm._data import (
    check_categories,
    lsoa_frame,
    lsoa_placement_note,
    months_covered,
    prepare,
    weighted_cube,
)
from harmscope.analysis.harm.populations import populations
from harmscope.analysis.harm.rates import HARM_SUMS, MIXED_NOTE, add_rates, coverage_note
from harmscope.analysis.harm.scope import (
    Scope,
    area_or_only_force,
    check_category_names,
    resolve_scope,
    resolve_weights,
    scheme_name,
)
from harmscope.analysis.intervals import log_ratio_ci
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.reference import load_lad
from harmscope.store import Store
from harmscope.store.queries.catalog import forces_held
from harmscope.store.queries.scope import CUBE_KEYS, scope_filter

# The report compares a force with at most this many others: the forces the store holds
# that are closest to it in resident population (comparison_forces).
MAX_COMPARISON_FORCES = 5
# compare_forces' ratios to the first force, with their intervals
RATIO_COLS = (
    "count_ratio",
    "count_ratio_ci_low",
    "count_ratio_ci_high",
    "harm_ratio",
    "harm_ratio_ci_low",
    "harm_ratio_ci_high",
)


def quasi_poisson(df: pd.DataFrame, response: str, formula_rhs: str):
    """GLM log(E[y]) = log(pop) + Xβ with Poisson variance × a scale from Pearson χ² (quasi-Poisson).

    A harm total is not a Poisson count (it is a weighted sum), and LSOA counts vary more
    than Poisson, so the scale is estimated rather than fixed at 1. (The formula interface,
    for any right-hand side; the comparisons below use :func:`_qp_fit`, the same model
    without the formula layer.)
    """
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    data = df[df.population > 0].copy()
    data["log_pop"] = np.log(data["population"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = smf.glm(
            f"{response} ~ {formula_rhs}",
            data=data,
            offset=data["log_pop"],
            family=sm.families.Poisson(),
        )
        return model.fit(scale="X2")


def _qp_fit(df: pd.DataFrame, response: str, column: str, *, reference=None):
    """:func:`quasi_poisson` of ``response`` on one ``column`` without the formula layer
    (patsy costs more than the fit; issue 18): ``reference`` None is the formula
    ``"column"`` (a numeric slope), else ``"C(column, Treatment(reference))"``. The design
    matrix is the one patsy builds (intercept first, then a 0/1 column per other level in
    sorted order, rows with a missing value dropped), so the fit is the same to the last bit
    (tests/test_report_speed.py compares them). Returns the fit; ``params``, ``bse`` and
    ``pvalues`` are Series named as the formula names its terms."""
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    data = df.loc[df.population > 0, [response, column, "population"]].dropna()
    x = data[column]
    if reference is None:
        names, cols = [column], [x.to_numpy(dtype=float)]
    else:
        levels = [lv for lv in sorted(x.unique()) if lv != reference]
        names = [f"C({column}, Treatment({reference!r}))[T.{lv}]" for lv in levels]
        cols = [(x == lv).to_numpy(dtype=float) for lv in levels]
    exog = pd.DataFrame(
        np.column_stack([np.ones(len(data)), *cols]),
        columns=["Intercept", *names],
        index=data.index,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = GLM(
            data[response].astype(float),
            exog,
            offset=np.log(data["population"]),
            family=families.Poisson(),
        )
        return model.fit(scale="X2")


_NEED_AREA = "this comparison needs an area (a force, county or district)"


def _lsoa_groups(store, column, area, date_from, date_to, scheme, weights, categories):
    """The scope, the LSOA frame of the LSOAs with a known ``column`` (their group), the
    weights label and the notes so far (the area announced when it was resolved from the
    store): where both group comparisons (rural/urban, deprivation) start."""
    area, area_note = area_or_only_force(area, lambda: forces_held(store))
    scope, wt, wlabel = prepare(
        store, area, date_from, date_to, scheme, weights, categories, need_area=_NEED_AREA
    )
    notes = [area_note] if area_note else []
    notes.append(lsoa_placement_note(store, scope))
    return scope, lsoa_frame(store, scope, wt).dropna(subset=[column]), wlabel, notes


def _group_rates(df: pd.DataFrame, key: str, alpha: float) -> pd.DataFrame:
    g = df.groupby(key, as_index=False).agg(
        lsoas=("area_code", "count"), population=("population", "sum"), **HARM_SUMS
    )
    return add_rates(g, alpha)


def _glm_ratio(fit, term: str, z: float) -> tuple[float, list[float]]:
    """exp(β) of one GLM term with its Wald interval, as (ratio, [low, high])."""
    b, se = fit.params[term], fit.bse[term]
    return float(np.exp(b)), [float(np.exp(b - z * se)), float(np.exp(b + z * se))]


def _err_chart(df: pd.DataFrame, x: str, title: str, y: str = "harm_rate_per_1000") -> dict:
    import altair as alt

    base = alt.Chart(df).encode(x=alt.X(f"{x}:O", title=x.replace("_", " ")))
    bars = base.mark_bar().encode(
        y=alt.Y(f"{y}:Q", title="harm per 1,000 residents"), tooltip=list(df.columns)
    )
    err = base.mark_rule().encode(y="harm_rate_ci_low:Q", y2="harm_rate_ci_high:Q")
    return (bars + err).properties(title=title).to_dict()


def _lazy_err_chart(df: pd.DataFrame, x: str, title: str):
    """:func:`_err_chart` of a copy of ``df`` as it is now, built when the chart is first read
    (``Result.charts`` is lazy: most readers never look at it; issue 18)."""
    return functools.partial(_err_chart, df.copy(), x, title)


def rural_urban(
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
    """Harm and count rates in rural against urban LSOAs (ONS RUC 2011), with rate ratios.

    ``area``: a force, county, district(s) or CSP; None means the one force the store holds
    (announced in the notes; several forces are refused). An area whose LSOAs are all urban
    (or all rural) gets its one group's rates and ``summary["comparison"] = "not applicable"``
    with the reason in ``summary["not_applicable"]`` and the notes: there is nothing to compare.
    """
    scope, df, wlabel, notes = _lsoa_groups(
        store, "urban_rural", area, date_from, date_to, scheme, weights, categories
    )
    table = _group_rates(df, "urban_rural", alpha)
    ruc = _group_rates(df, "ruc11_class", alpha)
    summary = {"area": scope.label, "scheme": scheme_name(scheme, weights)}
    classes = sorted(set(df["urban_rural"].astype(str)))
    summary["comparison"] = "rural against urban" if len(classes) == 2 else "not applicable"
    if len(classes) < 2:
        summary["not_applicable"] = _one_class_text(df, classes, scope.label)
        notes.append(summary["not_applicable"])
    z = stats.norm.ppf(1 - alpha / 2)
    for measure in ("harm", "count") if len(classes) == 2 else ():
        fit = _qp_fit(df, measure, "urban_rural", reference="urban")
        key = f"rural_vs_urban_{measure}_rate_ratio"
        summary[key], summary[f"{key}_ci"] = _glm_ratio(
            fit, "C(urban_rural, Treatment('urban'))[T.rural]", z
        )
        summary[f"{measure}_dispersion"] = float(fit.scale)
    for _, r in table.iterrows():
        summary[f"{r.urban_rural}_harm_rate_per_1000"] = float(r.harm_rate_per_1000)
        summary[f"{r.urban_rural}_harm_rate_per_1000_ci"] = [
            float(r.harm_rate_ci_low),
            float(r.harm_rate_ci_high),
        ]
        summary[f"{r.urban_rural}_population"] = float(r.population)
    method = (
        "LSOAs are urban or rural by the ONS Rural-Urban Classification 2011 (classes A1-C2 "
        "urban, D1-E2 rural); population is the 2019 mid-year estimate; harm weights: "
        f"{wlabel}. Table intervals treat each group's count as Poisson (exact for counts, "
        "Fay-Feuer gamma for harm). The rate ratio comes from a quasi-Poisson GLM over LSOAs "
        "(log population offset, scale from Pearson χ², reported as *_dispersion), so its "
        "interval allows for the extra between-LSOA variation; it is unadjusted for anything "
        "else (deprivation, night-time economy). Crimes are counted where they happen and "
        "divided by who lives there, so town centres with few residents look high. Rows not "
        "placed in a 2011 LSOA are left out. " + MIXED_NOTE
    )
    return Result(
        table=table,
        summary=summary,
        charts={"rural_urban": _lazy_err_chart(table, "urban_rural", "Harm per 1,000 residents")},
        method=method,
        tables={"ruc_class": ruc},
        notes=[*notes, coverage_note(months_covered(store, scope))],
    )


def _one_class_text(df: pd.DataFrame, classes: list[str], label: str) -> str:
    """Why a rural/urban comparison does not apply to an area (all its LSOAs in one class,
    or none placed)."""
    if not classes:
        return (
            f"no crime of {label} in the period was placed in a 2011 LSOA with a rural-urban "
            "class (ONS RUC 2011); a rural/urban comparison does not apply"
        )
    other = "rural" if classes[0] == "urban" else "urban"
    return (
        f"all {len(df):,} LSOAs in {label} are {classes[0]} (ONS RUC 2011), none {other}; "
        "a rural/urban comparison does not apply"
    )


def deprivation_gradient(
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
    """Harm and count rates by IMD 2019 decile (1 = most deprived), with the gradient.
    ``area`` None means the one force the store holds (announced in the notes)."""
    scope, df, wlabel, notes = _lsoa_groups(
        store, "imd_decile", area, date_from, date_to, scheme, weights, categories
    )
    df["imd_decile"] = df["imd_decile"].astype(int)
    table = _group_rates(df, "imd_decile", alpha).sort_values("imd_decile").reset_index(drop=True)
    z = stats.norm.ppf(1 - alpha / 2)
    summary = {
        "scheme": scheme_name(scheme, weights),
        "area": scope.label,
        "deciles_present": [int(d) for d in table.imd_decile],
    }
    if len(table) < 2:  # no gradient from one decile (or none): say so, fit nothing
        summary["not_applicable"] = (
            f"the LSOAs of {scope.label} with a placed crime fall in "
            + (
                f"one IMD 2019 decile only ({table.imd_decile.iloc[0]})"
                if len(table)
                else "no IMD 2019 decile"
            )
            + "; a deprivation gradient does not apply"
        )
        notes.append(summary["not_applicable"])
    lo_d, hi_d = (int(df.imd_decile.min()), int(df.imd_decile.max())) if len(df) else (0, 0)
    for measure in ("harm", "count") if len(table) >= 2 else ():
        fit = _qp_fit(df, measure, "imd_decile")
        key = f"{measure}_rate_ratio_per_decile"
        summary[key], summary[f"{key}_ci"] = _glm_ratio(fit, "imd_decile", z)
        summary[f"{measure}_gradient_p"] = float(fit.pvalues["imd_decile"])
        if lo_d != hi_d:
            factor = f"C(imd_decile, Treatment({hi_d}))"
            cat = _qp_fit(df, measure, "imd_decile", reference=hi_d)
            key = f"{measure}_most_vs_least_deprived_ratio"
            summary[key], summary[f"{key}_ci"] = _glm_ratio(cat, f"{factor}[T.{lo_d}]", z)
            summary["most_vs_least_deciles"] = [lo_d, hi_d]
    method = (
        "LSOAs grouped by the English Index of Multiple Deprivation 2019 decile (national "
        "deciles, 1 = most deprived 10% of England). Harm weights: "
        f"{wlabel}. Per-decile intervals treat counts as Poisson (exact / Fay-Feuer gamma). "
        "The gradient is the rate ratio per one-decile step towards less deprivation from a "
        "quasi-Poisson GLM over LSOAs with a log population offset (scale from Pearson χ²); "
        "the most- against least-deprived ratio comes from the same model with decile as a "
        "factor. Associations only: deprivation travels with urban form, licensed premises and "
        "policing intensity. Population: 2019 mid-year estimates; rows not placed in a 2011 "
        "LSOA are left out. " + MIXED_NOTE
    )
    return Result(
        table=table,
        summary=summary,
        charts={
            "deprivation": _lazy_err_chart(
                table, "imd_decile", "Harm per 1,000 residents by IMD decile"
            )
        },
        method=method,
        notes=[*notes, coverage_note(months_covered(store, scope))],
    )


def _exact_rate_ratio(
    a: float, b: float, pa: float, pb: float, alpha: float
) -> tuple[float, float, float]:
    """Rate ratio (a/pa)/(b/pb) with the exact conditional (Clopper-Pearson) interval."""
    if a + b == 0:
        return np.nan, np.nan, np.nan
    ci = stats.binomtest(int(a), int(a + b)).proportion_ci(
        confidence_level=1 - alpha, method="exact"
    )
    scale = pb / pa
    lo = ci.low / (1 - ci.low) * scale if ci.low < 1 else np.inf
    hi = ci.high / (1 - ci.high) * scale if ci.high < 1 else np.inf
    return (a / pa) / (b / pb) if b > 0 else np.inf, lo, hi


def comparison_forces(
    force: str, held, *, limit: int = MAX_COMPARISON_FORCES
) -> tuple[list[str], dict[str, str]]:
    """The forces ``force`` is compared with, chosen from ``held`` (the names a store holds):
    every held police force with a packaged population, the ``limit`` closest to ``force``
    in resident population (2019 mid-year, the rates' own denominator; |log ratio|, ties by
    name) when more are held. Returns (chosen, sorted by name; {held name: why it is not
    compared}), so a caller can say what was left out: a name that is no police force
    harmscope knows (a relabelled or synthetic store's "Force 01"), or a force beyond the
    ``limit``. HMICFRS's most similar groups are not packaged; population is the stated
    stand-in."""
    pop = populations("county").set_index("area_code")["population"]
    if force not in pop.index or not np.isfinite(pop[force]):
        raise HarmscopeError(
            f"no population for {force} in the reference data",
            where="reference/data/geography/lad.csv",
            fix="add that force's districts with population_2019",
        )
    others = sorted({str(h) for h in held} - {force})
    known = [h for h in others if h in pop.index and np.isfinite(pop[h])]
    left_out = {
        h: "not a police force in harmscope's reference data (no population to rate it by)"
        for h in others
        if h not in known
    }
    closeness = sorted(known, key=lambda h: (abs(np.log(pop[h] / pop[force])), h))
    for h in closeness[limit:]:
        left_out[h] = f"further from {force} in population than the {limit} forces compared"
    return sorted(closeness[:limit]), left_out


def compare_forces(
    store: Store,
    forces,
    *,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    categories=None,
    alpha: float = 0.05,
) -> Result:
    """Rates per 1,000 residents for each force in ``forces`` (names, the reference force
    first; no default: :func:`comparison_forces` chooses from what a store holds) over the
    months all of them have, with ratios to the first force (exact conditional interval for
    counts, log-scale for harm).

    ``table``: one row per force (rates, intervals and the ``RATIO_COLS``); ``summary`` has
    fixed keys (forces, months, reference_force, the force with the highest harm rate), so a
    reader never builds a key from a force's name."""
    forces = [str(f) for f in forces]
    if len(forces) < 2:
        raise HarmscopeError(
            "give at least two forces", where="forces", fix="e.g. Kent Police, Essex Police"
        )
    scopes = [resolve_scope(f, date_from, date_to, categories) for f in forces]
    names = []
    for f, sc in zip(forces, scopes, strict=True):
        if sc.force is None or sc.lad_codes is not None:
            raise HarmscopeError(
                f"{f!r} is not a police force", where="forces", fix="use names like 'Kent Police'"
            )
        names.append(sc.force)
    wt, wlabel = resolve_weights(scheme, weights)
    month_sets = [set(months_covered(store, sc)) for sc in scopes]
    missing = [n for n, ms in zip(names, month_sets, strict=True) if not ms]
    if missing:
        raise HarmscopeError(
            f"no street data in the store for {', '.join(missing)}",
            where="forces",
            fix="ingest that force's street files first (harmscope ingest PATH)",
        )
    common = sorted(set.intersection(*month_sets))
    if not common:
        raise HarmscopeError(
            "the forces share no month of data", where="forces", fix="ingest the same months"
        )
    pop = populations("county").set_index("area_code")["population"]
    absent = [n for n in names if n not in pop.index or not np.isfinite(pop.get(n, np.nan))]
    if absent:
        raise HarmscopeError(
            f"no population for {', '.join(absent)} in the reference data",
            where="reference/data/geography/lad.csv",
            fix="add that force's districts with population_2019",
        )
    cats = check_category_names(categories) if categories else None
    where, params = scope_filter(forces=names, months=common, categories=cats)
    scope = Scope(where, params, ", ".join(names), None, None)
    check_categories(store, scope, wt)
    cube = weighted_cube(
        store, scope, wt, {"force": CUBE_KEYS["force"], "category": CUBE_KEYS["category"]}
    )
    cube["population"] = cube.force.map(pop)
    by_cat = add_rates(cube.copy(), alpha)
    tot = cube.groupby("force", as_index=False).agg(**HARM_SUMS, population=("population", "first"))
    tot = add_rates(tot, alpha)
    tot["force"] = pd.Categorical(tot.force, categories=names, ordered=True)
    tot = tot.sort_values("force").reset_index(drop=True)
    tot["force"] = tot.force.astype(str)
    ref = tot.iloc[0]
    for col in RATIO_COLS:
        tot[col] = np.nan
    for i, r in tot.iterrows():
        if i == 0:  # the reference force against itself: ratio 1 by definition, no interval
            tot.loc[i, ["count_ratio", "harm_ratio"]] = 1.0
            continue
        c = _exact_rate_ratio(r["count"], ref["count"], r.population, ref.population, alpha)
        h = log_ratio_ci(
            r.harm / r.population,
            r.harm_w2 / r.population**2,
            ref.harm / ref.population,
            ref.harm_w2 / ref.population**2,
            alpha,
        )
        tot.loc[i, ["count_ratio", "count_ratio_ci_low", "count_ratio_ci_high"]] = c
        tot.loc[i, ["harm_ratio", "harm_ratio_ci_low", "harm_ratio_ci_high"]] = [
            float(v) for v in h
        ]
    # Fixed keys: the per-force rates and ratios are rows of the table (one per force), not
    # summary keys named after the forces.
    top = tot.loc[tot.harm_rate_per_1000.idxmax()] if tot.harm_rate_per_1000.notna().any() else None
    summary = {
        "scheme": scheme_name(scheme, weights),
        "forces": names,
        "months": common,
        "reference_force": names[0],
        "highest_harm_rate_force": None if top is None else str(top.force),
        "highest_harm_rate_per_1000": None if top is None else float(top.harm_rate_per_1000),
    }
    lad = load_lad()
    pops = ", ".join(
        f"{n} {int(pop[n]):,} ({int((lad.force == n).sum())} districts)" for n in names
    )
    method = (
        f"Each force's street crimes over the {len(common)} months all forces have "
        f"({common[0]} to {common[-1]}), divided by the 2019 mid-year population of its "
        f"districts ({pops}). Harm weights: {wlabel}. Count rates have exact Poisson "
        "intervals; ratios to the first force use the exact conditional (binomial) interval "
        "for counts and a log-scale delta-method interval for harm. Intervals cover Poisson "
        "noise only; differences in recording practice between forces are not in them, and "
        "police.uk categories are filled by each force's own mapping. " + MIXED_NOTE
    )
    return Result(
        table=tot,
        summary=summary,
        charts={"forces": _lazy_err_chart(tot, "force", "Harm per 1,000 residents by force")},
        method=method,
        tables={"by_category": by_cat},
        notes=[f"Common months: {', '.join(common)}"],
    )
