"""Evaluate one scheme with every method that fits its design, and say how sure we are."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from harmscope.analysis.evaluation import charts
from harmscope.analysis.evaluation.design import Design, _districts, resolve_design
from harmscope.analysis.evaluation.did import MIN_CLUSTERS, did_fit
from harmscope.analysis.evaluation.its import its_fit
from harmscope.analysis.evaluation.matching import match_comparisons, pre_features
from harmscope.analysis.evaluation.power import (
    design_effect,
    mde_did,
    mde_from_se,
    overdispersion,
    robust_sd,
)
from harmscope.analysis.evaluation.shared import Shared, placebo_sets
from harmscope.analysis.evaluation.synth import synth_fit
from harmscope.analysis.evaluation.value import averted, averted_interval
from harmscope.analysis.evaluation.verdict import verdict
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.months import gaps, to_month
from harmscope.store.queries.evaluation import VIOLENCE, Panels, load_panels

METHODS = ("did", "synth", "its")
ALPHA = 0.05


def _panel_for(panels: Panels, unit: str, other: bool = False) -> pd.DataFrame:
    if unit == "lsoa":
        return panels.lsoa_other if other else panels.lsoa
    return panels.district_other if other else panels.district


def _trim(panel: pd.DataFrame, end: pd.Timestamp | None) -> pd.DataFrame:
    return panel if end is None else panel[panel["month"] <= end]


def synth_units(
    panels: Panels,
    design: Design,
    end=None,
    *,
    n_placebo_sets: int = 99,
    seed: int = 0,
    shared: Shared | None = None,
) -> tuple[pd.DataFrame, str, list[str], pd.DataFrame | None]:
    """Months x units: the treated aggregate and donor districts (treated LSOAs removed), and
    for LSOA schemes, placebo units: random untreated LSOA sets of the scheme's size.
    ``shared`` (built from these panels' LSOA outcome matrix, ``end`` None) skips the pivots."""
    treated_key = "TREATED"
    placebo = None
    if design.unit == "lsoa":
        p = _trim(panels.lsoa, end)
        is_tr = p["area"].isin(set(design.treated))
        tr = p[is_tr].groupby("month")["count"].sum()
        if shared is None:
            rest = p[~is_tr]
            don = rest.pivot_table(index="month", columns="district", values="count", aggfunc="sum")
            big = _districts(_trim(panels.district, end)).index
            by_area = (
                p[p["area"].isin(set(design.pool))]
                .pivot_table(index="month", columns="area", values="count", aggfunc="sum")
                .fillna(0.0)
            )
        else:
            don, big = shared.donor_matrix(design.treated), shared.big_districts
            by_area = shared.pool_matrix(design.pool)
        don = don[[c for c in don.columns if c in big]]
        rng = np.random.default_rng(seed)
        n = min(len(design.treated), by_area.shape[1] // 2)
        placebo = placebo_sets(by_area, n_placebo_sets, n, rng)
    else:
        p = _trim(panels.district, end)
        big = _districts(p).index
        tr = p[p["area"].isin(set(design.treated))].groupby("month")["count"].sum()
        don = p[p["area"].isin(set(big) - set(design.treated))].pivot_table(
            index="month", columns="area", values="count", aggfunc="sum"
        )
    wide = don.copy()
    wide[treated_key] = tr
    return wide.fillna(0.0).sort_index(), treated_key, list(don.columns), placebo


def evaluate_design(
    panels: Panels,
    design: Design,
    start: pd.Timestamp,
    *,
    end: pd.Timestamp | None = None,
    methods=METHODS,
    k: int = 3,
    details: bool = True,
    seed: int = 0,
    shared: Shared | None = None,
    solver: str = "fe",
) -> list[dict]:
    """Run the methods; each dict has method, irr, irr_ci, p_value (+ details when asked).

    ``shared``: matrices and memos built once for many schemes on the same panels (placebo
    runs; :mod:`.shared`), used for LSOA schemes over all months; ``solver``: the DiD's
    Poisson solver (:func:`harmscope.analysis.evaluation.did._poisson`). Neither changes a
    figure."""
    out = []
    panel = _trim(_panel_for(panels, design.unit), end)
    if shared is not None and (design.unit != "lsoa" or end is not None or design.aggregate):
        shared = None
    months = sorted(panel["month"].unique())
    m0 = sum(1 for m in months if m < start)
    m1 = sum(1 for m in months if m >= start)
    alpha_nb, deff = _noise(panel, design, shared, panels)
    pre_means = (
        panel[(panel["month"] < start) & panel["area"].isin(set(design.treated))]
        .groupby("area")["count"]
        .mean()
        .to_numpy()
    )
    ctx = _Context(panels, design, start, end, panel, k, details, seed, shared, solver)
    for method in methods:
        try:
            r = _run_method(ctx, method, pre_means, alpha_nb, deff, m0, m1)
        except HarmscopeError as exc:
            if len(methods) == 1:
                raise
            r = {"method": method, "irr": None, "irr_ci": None, "p_value": None, "error": str(exc)}
        r["alpha_nb"] = alpha_nb
        r["design_effect"] = deff
        r["m_pre"], r["m_post"] = m0, m1
        out.append(r)
    return out


@dataclass(frozen=True)
class _Context:
    """One scheme's evaluation: what every method reads."""

    panels: Panels
    design: Design
    start: pd.Timestamp
    end: pd.Timestamp | None
    panel: pd.DataFrame
    k: int
    details: bool
    seed: int
    shared: Shared | None
    solver: str


def _noise(panel, design: Design, shared: Shared | None, panels: Panels) -> tuple[float, float]:
    """:func:`noise_model`, memoised in ``shared`` for the panels it was built from (a
    planted copy has other counts in the same force)."""
    if shared is None or shared.panels is not panels:
        return noise_model(panel, design)
    if design.force not in shared.noise:
        shared.noise[design.force] = noise_model(panel, design)
    return shared.noise[design.force]


def _run_method(c: _Context, method: str, pre_means, alpha_nb, deff, m0, m1) -> dict:
    if method == "did" and c.design.aggregate:
        return _did_aggregate(c, pre_means, alpha_nb, deff, m0, m1)
    if method == "did":
        return _did_matched(c, pre_means, alpha_nb, deff, m0, m1)
    if method == "synth":
        wide, key, donors, plc = synth_units(
            c.panels, c.design, c.end, seed=c.seed, shared=c.shared
        )
        r = synth_fit(wide, key, donors, c.start, placebo_units=plc)
        r["se_log_irr"] = robust_sd(r["placebos"]["log_ratio"])
        r["mde"] = mde_from_se(r["se_log_irr"], n_placebos=len(r["placebos"]))
        return r
    if method == "its":
        panel = c.panel
        tr = panel["area"].isin(set(c.design.treated))
        s = panel[tr].groupby("month", as_index=False)["count"].sum()
        rest = panel[~tr & (panel["force"] == c.design.force)].groupby("month")["count"].sum()
        if rest.sum() > 0:
            s["reference"] = s["month"].map(rest).to_numpy()
        r = its_fit(s, c.start)
        r["mde"] = mde_from_se(r["se"], df=r["df"])
        return r
    raise HarmscopeError(
        f"unknown method {method!r}",
        where="--method",
        fix=f"use one of {', '.join(METHODS)}",
    )


def _did_aggregate(c: _Context, pre_means, alpha_nb, deff, m0, m1) -> dict:
    """One treated unit (the county) against every district of the other forces."""
    agg = c.panel.copy()
    key = f"{c.design.force} (all districts)"
    agg.loc[agg["area"].isin(set(c.design.treated)), "area"] = key
    agg = agg.groupby(["area", "force", "month"], as_index=False)["count"].sum()
    r = did_fit(
        agg,
        [key],
        list(c.design.pool),
        c.start,
        check_pre_trend=c.details,
        se_inflation=float(np.sqrt(deff)),
        seed=c.seed,
        solver=c.solver,
    )
    total = np.array([pre_means.sum()])
    r["mde"] = did_mde(total, alpha_nb, deff, m0, m1, len(c.design.pool), 1)
    return r


def _features(c: _Context) -> pd.DataFrame:
    """Matching features of the panel's areas (memoised per start in ``shared``: they come
    from the other-crime panel, which a planted effect leaves alone)."""
    d = c.design
    if c.shared is not None and c.start in c.shared.features:
        return c.shared.features[c.start]
    cov = c.panels.covariates if d.unit == "lsoa" else c.panels.district_covariates
    feats = pre_features(_trim(_panel_for(c.panels, d.unit, other=True), c.end), c.start, cov)
    areas = c.shared.areas if c.shared is not None else set(c.panel["area"].unique())
    feats = feats[feats.index.isin(areas)]
    if c.shared is not None:
        c.shared.features[c.start] = feats
    return feats


def _did_matched(c: _Context, pre_means, alpha_nb, deff, m0, m1) -> dict:
    d = c.design
    feats = _features(c)
    kk = (
        c.k
        if len(d.pool) >= c.k * len(d.treated)
        else max(1, len(d.pool) // max(len(d.treated), 1))
    )
    comps, balance = match_comparisons(
        feats,
        d.treated,
        k=kk,
        pool=d.pool,
        exclude_within_m=1000.0 if d.unit == "lsoa" else 0.0,
        balance=c.details,
    )
    r = did_fit(
        c.panel,
        d.treated,
        comps,
        c.start,
        check_pre_trend=c.details,
        se_inflation=float(np.sqrt(deff)),
        seed=c.seed,
        solver=c.solver,
    )
    r["mde"] = did_mde(pre_means, alpha_nb, deff, m0, m1, kk, len(d.treated))
    if c.details:
        r["balance"] = balance
        r["comparisons"] = comps
    return r


def noise_model(panel: pd.DataFrame, design: Design) -> tuple[float, float]:
    """NB2 overdispersion and the serial-correlation design effect for the design's unit,
    from the same force's areas (districts: only real ones, not a few stray rows)."""
    same = panel[panel["force"] == design.force]
    if design.unit == "district":
        same = same[same["area"].isin(_districts(same).index)]
        # 13 districts of one force give a shaky design effect: borrow every force's districts
        big = panel[panel["area"].isin(_districts(panel).index)]
        deff = design_effect(big, overdispersion(big), by_force=not design.cross_force)
        return overdispersion(same), deff
    alpha = overdispersion(same)
    return alpha, design_effect(same, alpha)


def did_mde(pre_means, alpha_nb, deff, m0, m1, k, n_treated) -> float | None:
    """The DiD's MDE with the same inference it will use (clustered t or NB model-based)."""
    if n_treated >= MIN_CLUSTERS:
        return mde_did(pre_means, alpha_nb, m0, m1, k=k, deff=deff, df=n_treated - 1)["mde"]
    return mde_did(pre_means, alpha_nb, m0, m1, k=k, deff=deff)["mde"]


def _effects(r: dict, weight: float | None, cost: float | None) -> None:
    """Crimes and harm averted over the post period, with intervals, and cost per harm unit."""
    if r.get("irr") is None or "series" not in r:
        return
    s = r["series"]
    obs_post = float(s.loc[s["month"] >= r["_start"], "observed"].sum())
    irr, (lo, hi) = r["irr"], r["irr_ci"]
    # averted = counterfactual - observed = observed (1/IRR - 1), one arithmetic with value
    # for money's; an open interval end (IRR 0, e.g. a synthetic control's) is None: no limit
    r["crimes_averted"] = averted(obs_post, irr)
    r["crimes_averted_ci"] = averted_interval(obs_post, (lo, hi))
    if r["crimes_averted"] is None:
        return
    if weight is not None:
        r["harm_averted"] = r["crimes_averted"] * weight
        r["harm_averted_ci"] = [None if c is None else c * weight for c in r["crimes_averted_ci"]]
        if cost:
            h_lo, h_hi = r["harm_averted_ci"]
            r["cost_per_harm_averted"] = cost / r["harm_averted"] if r["harm_averted"] > 0 else None
            # None: unbounded (the interval includes no effect, or has no end on that side)
            r["cost_per_harm_averted_ci"] = [
                cost / h_hi if h_hi is not None and h_hi > 0 else None,
                cost / h_lo if h_lo is not None and h_lo > 0 else None,
            ]


def evaluate(
    store,
    areas: dict,
    start,
    *,
    end=None,
    crime_types=VIOLENCE,
    methods=METHODS,
    k: int = 3,
    cost: float | None = None,
    selected_for_high_counts: bool = False,
    name: str = "scheme",
    panels: Panels | None = None,
) -> Result:
    """Did it work, here, and how sure are we? One Result with a row per method."""
    start = _month(start, "start")
    end = _month(end, "end") if end else None
    panels = panels or load_panels(store, crime_types)
    design = resolve_design(areas, panels.lsoa, panels.district, panels.covariates)
    results = evaluate_design(panels, design, start, end=end, methods=methods, k=k)
    panel = _panel_for(panels, design.unit)
    pre = panel[panel["month"] < start].groupby("area")["count"].mean()
    pct = (
        float((pre[design.pool] < pre[design.treated].mean()).mean())
        if len(design.pool)
        else float("nan")
    )
    rtm = bool(selected_for_high_counts) or pct >= 0.8
    notes = list(design.notes)
    if rtm:
        notes.append(
            f"Regression to the mean: the scheme's areas had more crime before the start than "
            f"{pct:.0%} of comparison areas{' and were chosen for high counts' if selected_for_high_counts else ''}; "
            "high counts tend to fall back on their own, so a naive before/after comparison flatters the scheme."
        )
    months = sorted(panel["month"].unique())
    gap = _gaps(months)
    if gap:
        notes.append(
            f"The data have no months {gap}: methods use the months present (period effects), never interpolate."
        )
    notes += [_wild_note(r) for r in results if r.get("wild_bootstrap")]
    for r in results:
        r["_start"] = start
        _effects(r, panels.harm_weight, cost)
        r["verdict"] = (
            verdict(
                r.get("irr"),
                r.get("irr_ci"),
                r.get("p_value"),
                mde=r.get("mde"),
                pre_trend_p=r.get("pre_trend_p"),
                rtm_risk=rtm,
            )
            if r.get("irr") is not None
            else f"not run: {r.get('error')}"
        )
    table = pd.DataFrame(
        [
            {
                "method": r["method"],
                "irr": r.get("irr"),
                "irr_low": (r.get("irr_ci") or [None, None])[0],
                "irr_high": (r.get("irr_ci") or [None, None])[1],
                "p_value": r.get("p_value"),
                "mde": r.get("mde"),
                "pre_trend_p": r.get("pre_trend_p"),
                "crimes_averted": r.get("crimes_averted"),
                "harm_averted": r.get("harm_averted"),
                "verdict": r["verdict"],
            }
            for r in results
        ]
    )
    tables, chart_specs = {}, {}
    for r in results:
        if isinstance(r.get("series"), pd.DataFrame):
            tables[f"{r['method']}_series"] = r["series"]
        for key in ("balance", "weights", "placebos"):
            if isinstance(r.get(key), pd.DataFrame):
                tables[f"{r['method']}_{key}"] = r[key]
    chart_specs.update(charts.evaluation_charts(results, start, name))
    summary = {
        "scheme": name,
        "unit": design.unit,
        "n_treated_areas": len(design.treated),
        "start": start.date().isoformat(),
        "crime_types": ", ".join(panels.crime_types),
        "regression_to_mean_risk": rtm,
        "results": [_public(r) for r in results],
    }
    return Result(
        table=table,
        summary=summary,
        charts=chart_specs,
        method=_method_text(design, panels, k),
        tables=tables,
        notes=notes,
    )


PUBLIC_KEYS = (
    "method",
    "irr",
    "irr_ci",
    "p_value",
    "verdict",
    "mde",
    "pre_trend_pct_per_month",
    "pre_trend_p",
    "crimes_averted",
    "crimes_averted_ci",
    "harm_averted",
    "harm_averted_ci",
    "cost_per_harm_averted",
    "cost_per_harm_averted_ci",
    "rmspe_pre",
    "rmspe_ratio",
    "rmspe_rank_p",
    "placebo_median_irr",
    "rank",
    "n_units",
    "se_kind",
    "cluster_irr_ci",
    "cluster_p_value",
    "cluster_se_kind",
    "wild_weights",
    "wild_draws",
    "wild_ci_open",
    "ar1_rho",
    "hac_lags",
    "n_treated",
    "n_comparison",
    "alpha_nb",
    "design_effect",
    "m_pre",
    "m_post",
    "error",
)


def _wild_note(r: dict) -> str:
    lo, hi = r["irr_ci"]
    clo, chi = r["cluster_irr_ci"]
    return (
        f"DiD: only {r['n_treated']} treated areas (fewer than {MIN_CLUSTERS}), so its p-value "
        f"and 95% interval come from a wild cluster bootstrap ({r['wild_weights']} weights, "
        f"{r['wild_draws']} draws): p {r['p_value']:.3f}, IRR {r['irr']:.3f} ({lo:.3f} to "
        f"{hi:.3f}). The conventional cluster-robust result, which is unreliable with so few "
        f"treated areas, is p {r['cluster_p_value']:.3f} ({clo:.3f} to {chi:.3f})."
        + (
            " The bootstrap interval is open: it excludes no IRR out to the search limit "
            "(1/20 to 20) on the side shown at that limit; these areas cannot pin the effect down."
            if any(r.get("wild_ci_open") or ())
            else ""
        )
    )


def _public(r: dict) -> dict:
    return {k: r[k] for k in PUBLIC_KEYS if k in r}


def _gaps(months) -> str:
    return ", ".join(f"{a}..{b}" for a, b in gaps(pd.to_datetime(months)))


def _month(value, where: str) -> pd.Timestamp:
    month = to_month(value, where, day_ok=True)
    if month is None:
        raise HarmscopeError(
            f"{value!r} is not a month", where=where, fix="give the month as YYYY-MM, e.g. 2025-07"
        )
    return pd.Timestamp(month.first_day)


def _method_text(design: Design, panels: Panels, k: int) -> str:
    return (
        f"Outcome: monthly counts of {', '.join(panels.crime_types)} per {design.unit} "
        "(police.uk street data, located crimes only). "
        f"DiD: Poisson GLM with area and month fixed effects on the treated areas and {k} matched "
        "comparison areas per treated area (greedy Mahalanobis nearest neighbour without "
        "replacement on the pre-period level and trend of all other recorded crime, IMD decile and "
        "rural share; matching on the outcome's own noisy pre-period counts would build in "
        "regression to the mean), comparison areas within 1 km of a treated LSOA excluded; "
        "IRR with a 95% CI from standard errors clustered by area (t with G1-1 df, G1 treated "
        "areas) when at least 10 areas are treated; with 2-9 treated areas the p-value and CI "
        "come from a restricted wild cluster score bootstrap (Kline & Santos 2012; Roodman et al. "
        "2019: Webb six-point weights, 999 draws, the interval by test inversion), with the "
        "conventional cluster-robust result beside it; with one treated area (no cluster method "
        "works) negative-binomial model-based SEs inflated for serial correlation. Pre-trend check: "
        "differential linear trend before the start. "
        "Synthetic control: the treated aggregate against donor districts of every force in the "
        "store (treated LSOAs removed), each series indexed to its pre-period mean; weights >= 0 "
        "summing to 1 fitted to the pre-period months. Placebos: 99 random untreated LSOA sets of "
        "the scheme's size (LSOA schemes) or each donor district in turn. Effect: log(observed / "
        "synthetic) over the post months, centred on the placebos' median (what untreated areas "
        "show too); p = its rank among the placebos' / (J+1); the 95% interval is the set of "
        "IRRs that rank test does not reject. The ADH post/pre RMSPE-ratio rank is reported as rmspe_rank_p. "
        "ITS: quasi-Poisson segmented regression on the treated aggregate with the rest of the "
        "force as offset (seasonality and force-wide shocks), a pre-period trend and a level "
        "change at the start (no slope change by default: with few post months it is noise); "
        "standard errors quasi-Poisson with AR(1) errors in elapsed months (rho estimated from "
        "the residuals, corrected for the fit's bias; Newey-West HAC errors were rejected: "
        "22.5% false positives, Monte Carlo SE 1.3%, in 16-month series). Validated coverage of "
        "the 95% intervals on 1,000 simulated runs each with a planted IRR of 0.8 (Monte Carlo "
        "SE in brackets; benchmarks/validate_evaluation.py, docs/evaluation.md): ITS 95.9% "
        "(0.6%); DiD wild bootstrap 96.2% (0.6%) with 3 treated areas and 94.9% (0.7%) with 6, "
        "false-positive rates 5.0% (0.7%) and 5.6% (0.7%). "
        "Assumptions: no other change hit the treated areas alone at the start; no spillover "
        "beyond 1 km; the months absent from the data are skipped, not imputed. "
        "MDE: smallest reduction detectable with 80% power at alpha 0.05 (NB2 overdispersion "
        "estimated from the data). Harm = crimes x the volume-weighted severity weight; "
        f"{panels.harm_label}. Intervals cover sampling error only, not error in the weights."
    )
