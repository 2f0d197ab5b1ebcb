"""Staggered roll-out: schemes that start in different areas in different months, and stop.

Callaway & Sant'Anna (2021), "Difference-in-Differences with multiple time periods",
J. Econometrics 225(2): the group-time average treatment effect ATT(g,t) of the areas that
started in month g (a *cohort*), in month t, is the change in their mean outcome from the
month before g to month t, minus the same change among comparison areas: areas never
treated (``control="never"``) or not yet treated by month t (``"notyet"``). Parallel trends
are unconditional (no covariates) and there is no anticipation. Pre-start cells (t < g) use
the change from the month before t ("varying" base period, as the R ``did`` package's
default) and are the placebo check of parallel trends.

Each ATT(g,t) has an influence function over the areas; the aggregated effects (``simple``:
the post-start cells weighted by cohort size; ``group``; ``dynamic``: the event study by
months since the start) carry the influence function of the estimated weights as in the
R package (``aggte``). Inference: the multiplier bootstrap of the paper (Mammen weights, one
per area, i.e. clustered by area; standard error from the bootstrap interquartile range) and
a simultaneous critical value over the event-study (sup-t band); the analytic standard error
is kept beside it. Checked against the R ``did`` package on its ``mpdta`` example
(``reference_check``; docs/evaluation_staggered.md).

The police outcome is the count of crimes per area and month (an additive effect, crimes per
area-month); it is also expressed as a ratio to the counterfactual (observed / (observed -
ATT) over the treated area-months) so it reads like the other methods' incidence rate ratio.

A scheme that stops: cells after its ``end`` month are reported apart from those during it
("persistence"), in the staggered estimator (``during`` / ``after`` rows) and, for a single
start, with the existing DiD (``did_stop``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.result import Result, frame_records
from harmscope.errors import HarmscopeError

DRAWS = 999
MAMMEN_LOW = (1 - np.sqrt(5)) / 2
MAMMEN_HIGH = (1 + np.sqrt(5)) / 2
MAMMEN_P = (1 + np.sqrt(5)) / (2 * np.sqrt(5))  # P(weight = MAMMEN_LOW)
IQR_Z = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
CONTROLS = ("never", "notyet")
FEW_AREAS = 10  # below this many treated areas the area-clustered bootstrap is fragile
REFERENCE = Path(__file__).resolve().parents[2] / "reference" / "data" / "evaluation"
SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"


@dataclass
class GroupTime:
    """ATT(g,t) estimates with their influence functions (units x cells)."""

    table: pd.DataFrame  # group, time, event_time, att, se, se_analytic, ci_low, ci_high
    psi: np.ndarray  # n units x cells; ATT-hat - ATT ~ psi.mean(axis=0)
    cohort: np.ndarray  # each unit's cohort (period index of its start; inf: never in data)
    times: list  # the periods, in order
    control: str
    draws: int
    seed: int
    notes: list[str] = field(default_factory=list)
    Y: np.ndarray | None = None  # units x periods outcome (for randomization inference)

    @property
    def n(self) -> int:
        return self.psi.shape[0]


def mammen(n: int, draws: int, seed: int) -> np.ndarray:
    """draws x n Mammen two-point weights (mean 0, variance 1, third moment 1)."""
    rng = np.random.default_rng(seed)
    low = rng.random((draws, n)) < MAMMEN_P
    return np.where(low, MAMMEN_LOW, MAMMEN_HIGH)


def multiplier_bootstrap(psi: np.ndarray, draws: int = DRAWS, seed: int = 0, alpha=0.05):
    """Standard errors (bootstrap IQR / normal IQR, as the R ``did`` package) and the
    simultaneous critical value (sup over columns of |t*|) from one Mammen weight per unit."""
    psi = np.atleast_2d(psi.T).T
    n = psi.shape[0]
    boot = mammen(n, draws, seed) @ psi / np.sqrt(n)  # sqrt(n) (ATT* - ATT-hat)
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    sigma = (q75 - q25) / IQR_Z
    ok = sigma > 1e-12
    tmax = np.max(np.abs(boot[:, ok]) / sigma[ok], axis=1) if ok.any() else np.zeros(draws)
    crit = float(np.quantile(tmax, 1 - alpha)) if ok.any() else float("nan")
    return sigma / np.sqrt(n), crit


def _analytic_se(psi: np.ndarray) -> np.ndarray:
    return np.sqrt(np.sum(psi**2, axis=0)) / psi.shape[0]


def att_gt(
    data: pd.DataFrame,
    *,
    y: str,
    unit: str,
    time: str,
    group: str,
    control: str = "never",
    draws: int = DRAWS,
    seed: int = 0,
) -> GroupTime:
    """ATT(g,t) on a balanced panel; ``group`` is the first treated period (0 or NaN: never
    treated). Units treated in the first period are dropped (no pre-period), as in R."""
    if control not in CONTROLS:
        raise HarmscopeError(
            f"unknown control group {control!r}",
            where="control",
            fix="use 'never' (never-treated areas) or 'notyet' (not yet treated)",
        )
    wide = data.pivot_table(index=unit, columns=time, values=y, aggfunc="first").sort_index(axis=1)
    if wide.isna().any().any():
        raise HarmscopeError(
            "the panel is not balanced: some areas lack some periods",
            where="staggered panel",
            fix="zero-fill counts over the months held (the store's panels already are)",
        )
    times = list(wide.columns)
    first = data.groupby(unit)[group].first().reindex(wide.index)
    idx = {t: i for i, t in enumerate(times)}
    cohort = np.array(
        [np.inf if (pd.isna(g) or g == 0 or g not in idx) else float(idx[g]) for g in first]
    )
    late = [g for g in first.dropna().unique() if g != 0 and g not in idx]
    notes = []
    if any(g < times[0] for g in late):
        raise HarmscopeError(
            "a start month lies before the first period held",
            where="starts",
            fix="ingest earlier months or drop that area",
        )
    if late:
        notes.append(
            f"{len(late)} cohort(s) start after the last period held: counted as not yet treated"
        )
    keep = cohort != 0
    if (~keep).any():
        notes.append(f"{int((~keep).sum())} area(s) treated from the first period dropped")
    Y, cohort = wide.to_numpy(dtype=float)[keep], cohort[keep]
    if not np.isinf(cohort).any() and control == "never":
        raise HarmscopeError(
            "no never-treated areas to compare with",
            where="control",
            fix="use control 'notyet' (areas not yet treated), or add comparison areas",
        )
    rows, psis = _cells(Y, cohort, times, control)
    if not rows:
        raise HarmscopeError(
            "no group-time cell can be estimated",
            where="staggered panel",
            fix="each cohort needs a month before its start and comparison areas",
        )
    psi = np.column_stack(psis)
    table = pd.DataFrame(rows)
    table["se_analytic"] = _analytic_se(psi)
    gt = GroupTime(table, psi, cohort, times, control, draws, seed, notes, Y)
    se, crit = multiplier_bootstrap(psi, draws, seed)
    _intervals(table, table["att"].to_numpy(), se, crit)
    return gt


def _intervals(table: pd.DataFrame, att, se, crit: float | None = None) -> None:
    z = stats.norm.ppf(0.975)
    table["se"] = se
    table["ci_low"], table["ci_high"] = att - z * se, att + z * se
    if crit is not None and np.isfinite(crit):
        table["band_low"], table["band_high"] = att - crit * se, att + crit * se
        table.attrs["crit"] = crit


def _cells(Y: np.ndarray, cohort: np.ndarray, times: list, control: str):
    n = len(cohort)
    rows, psis = [], []
    for g in sorted(set(cohort[np.isfinite(cohort)].astype(int))):
        treated = cohort == g
        for t in range(1, len(times)):
            base = g - 1 if t >= g else t - 1
            if control == "never":
                comp = np.isinf(cohort)
            else:
                comp = (cohort > max(t, base)) & ~treated
            if comp.sum() == 0:
                continue
            dy = Y[:, t] - Y[:, base]
            mu_d, mu_c = dy[treated].mean(), dy[comp].mean()
            psi = np.zeros(n)
            psi[treated] = (dy[treated] - mu_d) * n / treated.sum()
            psi[comp] = -(dy[comp] - mu_c) * n / comp.sum()
            rows.append(
                {
                    "group": times[g],
                    "time": times[t],
                    "event_time": t - g,
                    "post": t >= g,
                    "att": mu_d - mu_c,
                    "areas_in_group": int(treated.sum()),
                    "comparison_areas": int(comp.sum()),
                    "_g": g,
                    "_t": t,
                }
            )
            psis.append(psi)
    return rows, psis


def _pg(gt: GroupTime) -> np.ndarray:
    """P(G = g) of each cell's cohort, over all units (the aggregation weights)."""
    return np.array([np.mean(gt.cohort == g) for g in gt.table["_g"]])


def _wif(gt: GroupTime, keep: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """Influence of estimating the cohort-share weights (R did's ``wif``): units x kept."""
    ind = np.column_stack([(gt.cohort == gt.table["_g"].iloc[k]).astype(float) for k in keep])
    dev = ind - pg[keep][None, :]
    total = pg[keep].sum()
    return dev / total - np.outer(dev.sum(axis=1), pg[keep] / total**2)


def _weighted(gt: GroupTime, keep: np.ndarray) -> tuple[float, np.ndarray]:
    """Cohort-size weighted mean of the kept cells and its influence function."""
    pg = _pg(gt)
    w = pg[keep] / pg[keep].sum()
    att = gt.table["att"].to_numpy()
    psi = gt.psi[:, keep] @ w + _wif(gt, keep, pg) @ att[keep]
    return float(att[keep] @ w), psi


def aggregate(gt: GroupTime, kind: str = "simple", *, cells=None) -> dict:
    """Aggregated effects with influence functions: ``simple`` (post cells weighted by cohort
    size; ``cells`` may restrict them, e.g. to the months after a scheme's end), ``group``,
    ``dynamic`` (event study; its overall effect averages event times >= 0). Returns
    {"att", "se", "se_analytic", "ci", "table" (per group / event time, or None)}."""
    tab = gt.table
    post = tab["post"].to_numpy()
    if kind == "simple":
        mask = post if cells is None else post & np.asarray(cells)
        keep = np.flatnonzero(mask)
        if len(keep) == 0:
            return {"att": None, "se": None, "se_analytic": None, "ci": None, "table": None}
        att, psi = _weighted(gt, keep)
        return _overall(gt, att, psi[:, None]) | {"table": None}
    if kind == "group":
        return _by_group(gt)
    if kind == "dynamic":
        return _by_cells(gt, "event_time", gt.table["event_time"] >= 0)
    if kind == "calendar":
        return _by_cells(gt, "time", gt.table["post"])
    raise HarmscopeError(
        f"unknown aggregation {kind!r}",
        where="aggregate",
        fix="use simple, group, dynamic or calendar",
    )


def _overall(gt: GroupTime, att: float, psi: np.ndarray) -> dict:
    se, _ = multiplier_bootstrap(psi, gt.draws, gt.seed + 1)
    se = float(se[0])
    z = stats.norm.ppf(0.975)
    return {
        "att": att,
        "se": se,
        "se_analytic": float(_analytic_se(psi)[0]),
        "ci": [att - z * se, att + z * se],
        "psi": psi[:, 0],
    }


def _by_group(gt: GroupTime) -> dict:
    tab = gt.table
    att = tab["att"].to_numpy()
    groups = sorted(set(tab["_g"]))
    ests, psis = [], []
    for g in groups:
        keep = np.flatnonzero((tab["_g"] == g).to_numpy() & tab["post"].to_numpy())
        ests.append(att[keep].mean())
        psis.append(gt.psi[:, keep].mean(axis=1))
    psi_g = np.column_stack(psis)
    pgg = np.array([np.mean(gt.cohort == g) for g in groups])
    w = pgg / pgg.sum()
    dev = np.column_stack([(gt.cohort == g).astype(float) for g in groups]) - pgg[None, :]
    wif = dev / pgg.sum() - np.outer(dev.sum(axis=1), pgg / pgg.sum() ** 2)
    overall = float(np.asarray(ests) @ w)
    psi_all = psi_g @ w + wif @ np.asarray(ests)
    table = pd.DataFrame({"group": [gt.times[g] for g in groups], "att": ests})
    _finish(gt, table, psi_g)
    return _overall(gt, overall, psi_all[:, None]) | {"table": table}


def _by_cells(gt: GroupTime, key: str, within) -> dict:
    """Cohort-size weighted effects by event time (``dynamic``; the overall effect averages
    event times >= 0) or by calendar period (``calendar``, post cells; overall: their mean)."""
    tab = gt.table[np.asarray(within)] if key == "time" else gt.table
    levels = sorted(set(tab[key]))
    ests, psis = [], []
    for v in levels:
        cells = (gt.table[key] == v).to_numpy()
        if key == "time":
            cells = cells & gt.table["post"].to_numpy()
        keep = np.flatnonzero(cells)
        est, psi = _weighted(gt, keep)
        ests.append(est)
        psis.append(psi)
    psi_e = np.column_stack(psis)
    table = pd.DataFrame({key: levels, "att": ests})
    _finish(gt, table, psi_e)
    post = np.asarray(levels) >= 0 if key == "event_time" else np.ones(len(levels), bool)
    overall = float(np.mean(np.asarray(ests)[post]))
    out = _overall(gt, overall, psi_e[:, post].mean(axis=1)[:, None])
    return out | {"table": table, "psi_by": psi_e}


def _finish(gt: GroupTime, table: pd.DataFrame, psi: np.ndarray) -> None:
    se, crit = multiplier_bootstrap(psi, gt.draws, gt.seed + 2)
    table["se_analytic"] = _analytic_se(psi)
    _intervals(table, table["att"].to_numpy(), se, crit)


# --- the naive comparison the literature warns about ------------------------------------


def twfe(data: pd.DataFrame, *, y: str, unit: str, time: str, group: str) -> float:
    """The static two-way fixed-effects DiD coefficient (y on unit and period effects and
    a treated-after-start dummy): biased under staggered starts when effects change with
    time since the start (Goodman-Bacon 2021), shown beside the ATT in the simulation test."""
    d = data.copy()
    g = d[group].where(d[group] > 0)
    d["_d"] = (g.notna() & (d[time] >= g)).astype(float)
    # within transformation by alternating projections (balanced panel: one pass suffices)
    for col in (y, "_d"):
        v = d[col] - d.groupby(unit)[col].transform("mean")
        d[col + "_w"] = v - v.groupby(d[time]).transform("mean")
    x, yy = d["_d_w"].to_numpy(), d[y + "_w"].to_numpy()
    return float(x @ yy / (x @ x))


# --- the reference check: R did on its mpdta example -------------------------------------


def mpdta() -> pd.DataFrame:
    """The R ``did`` package's mpdta example (500 US counties, 2003-2007, log teen
    employment; source in reference/data/evaluation/SOURCES.md)."""
    return pd.read_csv(REFERENCE / "mpdta.csv")


def reference_check(control: str = "never", *, draws: int = DRAWS, seed: int = 0) -> pd.DataFrame:
    """Ours beside R did 2.5.0's published output on mpdta (analytic SEs), one row per
    estimand: ATT(g,t), the group and event-study effects and the overall effects."""
    ref = pd.read_csv(REFERENCE / "mpdta_did_reference.csv")
    ref = ref[ref["control"] == control]
    gt = att_gt(
        mpdta(),
        y="lemp",
        unit="countyreal",
        time="year",
        group="first.treat",
        control=control,
        draws=draws,
        seed=seed,
    )
    ours = gt.table.assign(estimand="att_gt")[
        ["estimand", "group", "time", "att", "se", "se_analytic"]
    ]
    parts = [ours]
    for kind in ("group", "dynamic", "calendar"):
        agg = aggregate(gt, kind)
        parts.append(agg["table"].assign(estimand=kind))
        parts.append(_overall_row(f"overall_{kind}", agg))
    parts.append(_overall_row("overall_simple", aggregate(gt, "simple")))
    mine = _with_event(pd.concat(parts, ignore_index=True))
    keys = ["estimand", "group", "time", "event_time"]
    for k in keys[1:]:
        mine[k] = mine[k].astype("Int64")
        ref[k] = ref[k].astype("Int64")
    ref = ref.rename(columns={"att": "att_r", "se": "se_r"})[keys + ["att_r", "se_r"]]
    out = ref.merge(mine, on=keys, how="left")
    out["att_diff"] = out["att"] - out["att_r"]
    out["se_analytic_ratio"] = out["se_analytic"] / out["se_r"]
    out["se_bootstrap_ratio"] = out["se"] / out["se_r"]
    return out


def _with_event(mine: pd.DataFrame) -> pd.DataFrame:
    """ATT(g,t) rows keyed by group and time only (the reference's event_time is t - g)."""
    m = mine.copy()
    for k in ("group", "time", "event_time"):
        if k not in m:
            m[k] = np.nan
    at = m["estimand"] == "att_gt"
    m.loc[at, "event_time"] = m.loc[at, "time"] - m.loc[at, "group"]
    return m


def _overall_row(name: str, agg: dict) -> pd.DataFrame:
    return pd.DataFrame(
        [{"estimand": name, "att": agg["att"], "se": agg["se"], "se_analytic": agg["se_analytic"]}]
    )


# --- a scheme over the store --------------------------------------------------------------


def unit_panel(
    panel: pd.DataFrame, starts: dict[str, pd.Timestamp], pool: list[str]
) -> pd.DataFrame:
    """Area x month counts of the treated areas (with their start month as ``group``) and
    the comparison areas (group 0), over every month held (balanced, zero-filled)."""
    areas = list(starts) + [a for a in pool if a not in starts]
    p = panel[panel["area"].isin(set(areas))]
    wide = p.pivot_table(index="area", columns="month", values="count", aggfunc="sum")
    wide = wide.reindex(index=[a for a in areas if a in wide.index]).fillna(0.0)
    long = wide.stack().rename("count").reset_index()
    long["group"] = long["area"].map(lambda a: _first_held(starts.get(a), wide.columns))
    return long


def _first_held(start, months):
    """A cohort's start as the first month held on or after it (0: never treated)."""
    if start is None:
        return 0
    later = [m for m in months if m >= start]
    return later[0] if later else start


def evaluate_staggered(
    store,
    areas: dict,
    starts: dict | None = None,
    *,
    start=None,
    end=None,
    crime_types=None,
    control: str = "never",
    name: str = "scheme",
    draws: int = DRAWS,
    seed: int = 0,
    panels=None,
) -> Result:
    """Callaway-Sant'Anna over the store's area x month counts: ``starts`` maps each treated
    district or LSOA (as named in the register) to its first month (without it every area
    starts at ``start``: one cohort); ``end`` is the scheme's last month (effects after it
    are reported apart, as persistence)."""
    from harmscope.analysis.evaluation.design import resolve_design
    from harmscope.analysis.evaluation.evaluate import _month
    from harmscope.store.queries.evaluation import VIOLENCE, load_panels

    panels = panels or load_panels(store, crime_types or VIOLENCE)
    areas = {k: v for k, v in areas.items() if k != "starts"}
    design = resolve_design(areas, panels.lsoa, panels.district, panels.covariates)
    if design.aggregate:
        raise HarmscopeError(
            "a countywide scheme has one treated unit: the staggered design needs areas that "
            "start at different times",
            where="--design staggered",
            fix="use the default design, or list the districts with their starts",
        )
    if starts:
        keyed = _starts_by_area(design, starts, _month)
    elif start:
        keyed = {a: _month(start, "start") for a in design.treated}
    else:
        raise HarmscopeError("no start month", where="--start", fix="give --start YYYY-MM")
    end_m = _month(end, "end") if end else None
    panel = panels.lsoa if design.unit == "lsoa" else panels.district
    data = unit_panel(panel, keyed, design.pool)
    gt = att_gt(
        data,
        y="count",
        unit="area",
        time="month",
        group="group",
        control=control,
        draws=draws,
        seed=seed,
    )
    return staggered_result(
        gt,
        data,
        end_m,
        name=name,
        unit=design.unit,
        crime_types=panels.crime_types,
        notes=list(design.notes),
    )


def run_staggered(
    store,
    *,
    scheme: str | None = None,
    areas: dict | None = None,
    start=None,
    end=None,
    crime_types=None,
    control: str = "never",
    seed: int = 0,
    **_ignored,
) -> Result:
    """``harmscope evaluate --design staggered``: a stored scheme (its per-area starts and
    end from the register) or areas given with one ``start``."""
    from harmscope.sources.register import load_schemes

    if _ignored.get("plant"):
        raise HarmscopeError(
            "--plant is not available with the staggered design",
            where="--plant",
            fix="the planted self-check of the staggered estimator is tests/test_staggered.py",
        )
    name, starts = "scheme", None
    if scheme:
        s = load_schemes(store, [scheme])[0]
        name, starts = s["name"], s["areas"].get("starts")
        areas = areas or s["areas"]
        crime_types = crime_types or s["crime_types"]
        start, end = start or s["start"], end or s["end"]
    if areas is None:
        raise HarmscopeError(
            "no scheme or areas given",
            where="evaluate --design staggered",
            fix="pass --scheme NAME, or --district/--lsoa with --start",
        )
    if not scheme:
        from harmscope.analysis.evaluation.run import describe

        name = describe(areas)
    return evaluate_staggered(
        store,
        areas,
        starts,
        start=start,
        end=end,
        crime_types=crime_types,
        control=control,
        name=name,
        seed=seed,
    )


def _starts_by_area(design, starts: dict, month) -> dict:
    """The register's per-area starts keyed by the design's area names."""
    out = {}
    for key, value in starts.items():
        k = str(key).strip()
        area = k.upper() if design.unit == "lsoa" else f"{design.force} / {k}"
        if area not in design.treated:
            raise HarmscopeError(
                f"{k!r} has a start but is not one of the scheme's areas",
                where="starts",
                fix="give a start for each listed area, named as in areas",
            )
        out[area] = month(value, f"starts.{k}")
    missing = [a for a in design.treated if a not in out]
    if missing:
        raise HarmscopeError(
            f"no start month for {', '.join(missing[:5])}",
            where="starts",
            fix="give every treated area its start month (YYYY-MM)",
        )
    return out


def _ratio(data: pd.DataFrame, gt: GroupTime, cells: np.ndarray, att: float, ci) -> dict:
    """Observed / counterfactual over the cells' treated area-months (cohort-size weights,
    as the simple ATT), with the ATT's interval carried through (counterfactual treated as
    known), and crimes averted = -ATT x treated area-months."""
    tab = gt.table[cells]
    obs = data[data["group"] != 0].groupby(["group", "month"])["count"].mean()
    means = np.array(
        [obs.get((g, t), np.nan) for g, t in zip(tab["group"], tab["time"], strict=True)]
    )
    w = tab["areas_in_group"].to_numpy(dtype=float)
    o = float(np.nansum(means * w) / w.sum())
    exposure = float(w.sum())
    lo, hi = ci
    safe = o - hi > 0 and o - lo > 0 and o - att > 0
    return {
        "irr": o / (o - att) if safe else None,
        "irr_ci": [o / (o - lo), o / (o - hi)] if safe else None,
        "observed_mean": o,
        "area_months": exposure,
        "crimes_averted": -att * exposure,
        "crimes_averted_ci": [-hi * exposure, -lo * exposure],
    }


# --- few treated areas: randomization inference ---------------------------------------------

PERMUTATIONS = 999
RI_LIMIT = 1e6  # the interval search stops at +-RI_LIMIT x the outcome's SD (open interval)


def simple_att(Y: np.ndarray, cohort: np.ndarray, tmask: np.ndarray) -> float:
    """The simple ATT against never-treated areas over the post-start periods in ``tmask``
    (cohort-size weights), computed directly: the statistic of the permutation test."""
    yc = Y[np.isinf(cohort)].mean(axis=0)
    total = weight = 0.0
    for g in np.unique(cohort[np.isfinite(cohort)]).astype(int):
        tr = cohort == g
        yt = Y[tr].mean(axis=0)
        diff = (yt[g:] - yt[g - 1]) - (yc[g:] - yc[g - 1])
        keep = tmask[g:]
        total += tr.sum() * diff[keep].sum()
        weight += tr.sum() * keep.sum()
    return total / weight if weight else float("nan")


def _ri_stat(A: np.ndarray, gs: np.ndarray, cs: np.ndarray, weight: float) -> np.ndarray:
    """simple_att for each row of ``cs`` (assignments of cohorts to units), from A[i, g] =
    sum over the kept periods t >= g of (Y_it - Y_i,g-1): linear in the outcome."""
    never = np.isinf(cs).astype(float)
    n_c = never.sum(axis=1)
    total = np.zeros(len(cs))
    for j, g in enumerate(gs):
        member = (cs == g).astype(float)
        total += member @ A[:, j] - member.sum(axis=1) * (never @ A[:, j]) / n_c
    return total / weight


def randomization(gt: GroupTime, tmask: np.ndarray, *, draws=PERMUTATIONS, seed=0) -> dict:
    """Fisher randomization inference for few treated areas: the areas' start months are
    reassigned at random among all the areas (treated and comparison, cohort sizes kept),
    the simple ATT recomputed each time; p = share at least as far from zero as the
    estimate's. The 95% interval inverts the test under a constant additive effect d
    (d taken off the treated areas' counts in the window, the same reassignments for
    every d; the statistic is linear in d, so each d costs nothing). Needs never-treated
    comparison areas."""
    Y, cohort = gt.Y, gt.cohort
    gs = np.unique(cohort[np.isfinite(cohort)]).astype(int)
    t_idx = np.arange(Y.shape[1])
    on = (t_idx[None, :] >= np.where(np.isfinite(cohort), cohort, np.inf)[:, None]) & tmask

    def parts(M: np.ndarray) -> np.ndarray:
        return np.column_stack([(M[:, g:][:, tmask[g:]] - M[:, [g - 1]]).sum(axis=1) for g in gs])

    weight = float(sum((cohort == g).sum() * tmask[g:].sum() for g in gs))
    rng = np.random.default_rng(seed)
    cs = np.array([rng.permutation(cohort) for _ in range(draws)])
    s0 = _ri_stat(parts(Y), gs, cs, weight)
    s1 = _ri_stat(parts(on.astype(float)), gs, cs, weight)
    att = simple_att(Y, cohort, tmask)

    def p_at(d: float) -> float:
        return float((1 + np.sum(np.abs(s0 - d * s1) >= abs(att - d) - 1e-12)) / (draws + 1))

    scale = max(float(np.std(np.diff(Y, axis=1))), 1e-9)

    def edge(direction: float) -> tuple[float, bool]:
        inside, step = att, scale
        outside = att + direction * step
        while p_at(outside) > 0.05:
            if abs(outside - att) > RI_LIMIT * scale:
                return outside, True
            inside, step = outside, 2 * step
            outside = att + direction * step
        for _ in range(40):
            mid = 0.5 * (inside + outside)
            if p_at(mid) > 0.05:
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside), False

    (lo, lo_open), (hi, hi_open) = edge(-1.0), edge(1.0)
    return {"att": att, "p_value": p_at(0.0), "ci": [lo, hi], "open": [lo_open, hi_open]}


def staggered_result(
    gt: GroupTime,
    data: pd.DataFrame,
    end: pd.Timestamp | None,
    *,
    name: str,
    unit: str,
    crime_types,
    notes: list[str],
) -> Result:
    """The Result: a row per window (all post months; during and after the scheme when it
    stopped), the ATT(g,t) and event-study tables, the event-study chart."""
    post = gt.table["post"].to_numpy()
    windows = {"all months since the start": np.ones(len(post), bool)}
    if end is not None:
        after = (gt.table["time"] > end).to_numpy()
        windows = {"during the scheme": ~after, "after it ended (persistence)": after}
    rows = [window_effect(gt, data, label, cells) for label, cells in windows.items()]
    rows = [r for r in rows if r is not None]
    dyn = aggregate(gt, "dynamic")
    table = pd.DataFrame([_flat(r) for r in rows])
    pre_p = _pre_test(gt, dyn["table"], dyn["psi_by"])
    n_treated = int(np.isfinite(gt.cohort).sum())
    notes = notes + gt.notes + _plain(rows, pre_p, end, n_treated)
    results = [_public(r, pre_p) for r in rows]
    summary = {
        "scheme": name,
        "design": "staggered",
        "unit": unit,
        "control": gt.control,
        "n_treated_areas": int(np.isfinite(gt.cohort).sum()),
        "n_cohorts": int(len(set(gt.cohort[np.isfinite(gt.cohort)]))),
        "n_comparison_areas": int(np.isinf(gt.cohort).sum()),
        "end": None if end is None else end.date().isoformat(),
        "event_study_overall_att": dyn["att"],
        "event_study_overall_ci": dyn["ci"],
        "pre_trend_p": pre_p,
        "results": results,
    }
    att_table = gt.table.drop(columns=["_g", "_t"])
    return Result(
        table=table,
        summary=summary,
        charts={"event_study": event_study_chart(dyn["table"], name)},
        method=method_text(unit, crime_types, gt),
        tables={"att_gt": att_table, "event_study": dyn["table"]},
        notes=notes,
        title=f"Staggered roll-out: {name}",
    )


def window_effect(gt: GroupTime, data: pd.DataFrame, label: str, cells: np.ndarray) -> dict | None:
    """One window's simple ATT: bootstrap inference, or with fewer than FEW_AREAS treated
    areas (and never-treated comparisons) randomization inference as the headline."""
    post = gt.table["post"].to_numpy()
    agg = aggregate(gt, "simple", cells=cells)
    if agg["att"] is None:
        return None
    p = float(2 * stats.norm.sf(abs(agg["att"] / agg["se"]))) if agg["se"] else None
    row = {
        "method": f"staggered DiD, {label}",
        "window": label,
        "att": agg["att"],
        "att_low": agg["ci"][0],
        "att_high": agg["ci"][1],
        "se": agg["se"],
        "se_analytic": agg["se_analytic"],
        "p_value": p,
        "inference": "multiplier bootstrap by area",
    }
    if np.isfinite(gt.cohort).sum() < FEW_AREAS and gt.control == "never":
        times = gt.table.loc[post & cells, "_t"].unique()
        tmask = np.isin(np.arange(len(gt.times)), times)
        ri = randomization(gt, tmask, seed=gt.seed)
        row |= {
            "att_low": ri["ci"][0],
            "att_high": ri["ci"][1],
            "p_value": ri["p_value"],
            "inference": f"randomization inference ({PERMUTATIONS} reassignments of the starts)",
            "ci_open": ri["open"],
            "bootstrap_ci": agg["ci"],
            "bootstrap_p_value": p,
        }
    return row | _ratio(data, gt, post & cells, row["att"], [row["att_low"], row["att_high"]])


def _flat(row: dict) -> dict:
    """A window's row for the table: each [low, high] pair as two columns (plain floats)."""
    out = {}
    for key, value in row.items():
        if key == "ci_open":
            continue
        if isinstance(value, (list, tuple)):
            stem = key.removesuffix("_ci")
            out[f"{stem}_low"], out[f"{stem}_high"] = (
                (float(value[0]), float(value[1])) if value is not None else (None, None)
            )
        else:
            out[key] = float(value) if isinstance(value, np.floating) else value
    return out


def _pre_test(gt: GroupTime, dyn: pd.DataFrame, psi_e: np.ndarray) -> float | None:
    """Joint test that the event-study effects before the start are all zero: the sup-t
    statistic max |ATT_e / se_e| over e < 0 against its multiplier-bootstrap distribution
    (stable with few areas, where a Wald test on many pre-start cells is singular)."""
    pre = (dyn["event_time"] < 0).to_numpy()
    if not pre.any():
        return None
    psi = psi_e[:, pre]
    n = psi.shape[0]
    boot = mammen(n, gt.draws, gt.seed + 3) @ psi / np.sqrt(n)
    sigma = (np.quantile(boot, 0.75, axis=0) - np.quantile(boot, 0.25, axis=0)) / IQR_Z
    ok = sigma > 1e-12
    if not ok.any():
        return None
    t_obs = np.max(np.abs(dyn["att"].to_numpy()[pre][ok]) * np.sqrt(n) / sigma[ok])
    t_star = np.max(np.abs(boot[:, ok]) / sigma[ok], axis=1)
    return float((1 + np.sum(t_star >= t_obs)) / (len(t_star) + 1))


def _public(r: dict, pre_p) -> dict:
    verdict = _verdict(r)
    keys = (
        "method",
        "att",
        "se",
        "p_value",
        "inference",
        "irr",
        "irr_ci",
        "crimes_averted",
        "crimes_averted_ci",
        "bootstrap_ci",
        "bootstrap_p_value",
        "ci_open",
    )
    return {k: r.get(k) for k in keys} | {
        "att_ci": [r["att_low"], r["att_high"]],
        "pre_trend_p": pre_p,
        "mde": None,
        "verdict": verdict,
    }


def _verdict(r: dict) -> str:
    lo, hi = r["att_low"], r["att_high"]
    if hi < 0:
        return (
            f"Fewer crimes than the comparison areas predict: {-r['att']:.2f} fewer per area "
            f"per month (95% interval {-hi:.2f} to {-lo:.2f})."
        )
    if lo > 0:
        return (
            f"More crimes than the comparison areas predict: {r['att']:.2f} more per area per "
            f"month (95% interval {lo:.2f} to {hi:.2f})."
        )
    return (
        f"No change we can detect: {r['att']:+.2f} crimes per area per month, and the 95% "
        f"interval ({lo:+.2f} to {hi:+.2f}) includes no effect."
    )


def _plain(rows: list[dict], pre_p, end, n_treated: int = 10) -> list[str]:
    out = []
    if n_treated < FEW_AREAS:
        out.append(
            f"Only {n_treated} treated areas: the p-values and 95% intervals come from "
            "randomization inference (the starts reassigned at random among the areas), because "
            "the area bootstrap is far too optimistic with so few (on real Kent districts it "
            "called 32.5% of no-effect roll-outs over 2 districts significant, randomization "
            "inference 3.8%; benchmarks/validate_staggered.py). The event-study bands are the "
            "bootstrap's and only indicative."
        )
    if pre_p is not None and pre_p < 0.05:
        out.append(
            f"Warning: before their starts the scheme's areas already moved differently from the "
            f"comparison areas (pre-test p {pre_p:.3f}); the estimate may reflect that, not the scheme."
        )
    if end is not None and len(rows) < 2:
        out.append(f"The scheme ended {end:%Y-%m}; no months after its end are held yet.")
    return out


def event_study_chart(table: pd.DataFrame, title: str) -> dict:
    """Vega-Lite: ATT by months since the start, with pointwise and simultaneous bands."""
    return {
        "$schema": SCHEMA,
        "title": f"{title}: effect by months since the start",
        "width": 560,
        "height": 240,
        "data": {"values": frame_records(table)},
        "layer": [
            {
                "mark": {"type": "rule", "opacity": 0.35, "strokeWidth": 6},
                "encoding": {
                    "x": {
                        "field": "event_time",
                        "type": "quantitative",
                        "title": "months since the start (negative: before)",
                    },
                    "y": {
                        "field": "band_low",
                        "type": "quantitative",
                        "title": "crimes per area per month vs comparison",
                    },
                    "y2": {"field": "band_high"},
                },
            },
            {
                "mark": {"type": "rule"},
                "encoding": {
                    "x": {"field": "event_time", "type": "quantitative"},
                    "y": {"field": "ci_low", "type": "quantitative"},
                    "y2": {"field": "ci_high"},
                },
            },
            {
                "mark": {"type": "point", "filled": True},
                "encoding": {
                    "x": {"field": "event_time", "type": "quantitative"},
                    "y": {"field": "att", "type": "quantitative"},
                },
            },
            {"mark": {"type": "rule", "color": "grey"}, "encoding": {"y": {"datum": 0}}},
        ],
    }


def method_text(unit: str, crime_types, gt: GroupTime) -> str:
    ctl = "never treated" if gt.control == "never" else "not yet treated"
    return (
        f"Outcome: monthly counts of {', '.join(crime_types)} per {unit} (police.uk street data). "
        "Staggered difference in differences (Callaway & Sant'Anna 2021): for each cohort of "
        "areas starting in the same month g and each month t, ATT(g,t) = change in the "
        "cohort's mean count from the month before g to t minus the same change in the "
        f"comparison areas ({ctl}); months before a start use the change from the month "
        "before (the pre-trend placebo cells). Overall effect: the post-start cells weighted "
        "by cohort size; event study: cells grouped by months since the start, weighted by "
        "cohort size. Inference: multiplier bootstrap clustered by area (Mammen weights, "
        f"{gt.draws} draws, seed {gt.seed}; SE from the bootstrap interquartile range), 95% "
        "pointwise intervals and a simultaneous band over the event study; the analytic "
        "(influence-function) SE is kept beside it. With fewer than 10 treated areas the "
        "overall p-value and interval come from randomization inference instead: the start "
        "months reassigned at random among all the areas (999 times, cohort sizes kept), the "
        "interval by inverting that test under a constant additive effect (false-positive "
        "rates on 400 placebo roll-outs over 2, 4 and 6 Kent districts: 3.8%, 6.0%, 6.2%; "
        "the bootstrap's 32.5%, 17.5%, 11.2%). Pre-test: sup-t bootstrap test that every "
        "event-study effect before the start is zero. Reproduces the R did package (v2.5.0) on its mpdta example to 1e-10 "
        "(tests/test_staggered.py). The ratio (IRR) is observed / (observed - ATT) over the "
        "treated area-months, the counterfactual treated as known. Assumptions: parallel "
        "trends in counts between each cohort and its comparison areas; no anticipation "
        "(nothing changes before an area's start); no spillover to comparison areas; a "
        "scheme's effect after its end is reported apart (persistence), not assumed zero."
    )


# --- a single-start scheme that stops, with the existing DiD -------------------------------


def did_stop(panel, treated, comparisons, start, end, *, seed: int = 0) -> dict:
    """The existing DiD (did.did_fit) during the scheme (months up to ``end``) and after it
    (the pre-start months against the months after ``end``, the during months left out)."""
    from harmscope.analysis.evaluation.did import did_fit

    during = did_fit(
        panel[panel["month"] <= end], treated, comparisons, start, check_pre_trend=False, seed=seed
    )
    rest = panel[(panel["month"] < start) | (panel["month"] > end)]
    if not (rest["month"] > end).any():
        return {"during": during, "after": None}
    after_start = rest.loc[rest["month"] > end, "month"].min()
    after = did_fit(rest, treated, comparisons, after_start, check_pre_trend=False, seed=seed)
    return {"during": during, "after": after}


# --- false-positive rates on real data ---------------------------------------------------------


def placebo_rates(
    panel: pd.DataFrame,
    areas: list[str],
    n_treated: int,
    starts: list[pd.Timestamp],
    *,
    runs: int = 200,
    seed: int = 0,
    draws: int = PERMUTATIONS,
) -> dict:
    """Placebo staggered schemes with no effect: ``n_treated`` random areas of ``areas``, each
    given a random start from ``starts``, the rest as comparisons. How often each inference
    calls an effect at 5%: the multiplier bootstrap, the analytic SE, randomization inference.
    Each rate with its Monte Carlo SE."""
    rng = np.random.default_rng(seed)
    hits = {"bootstrap": 0, "analytic": 0, "randomization": 0}
    for i in range(runs):
        treated = rng.choice(areas, n_treated, replace=False)
        chosen = {a: starts[rng.integers(0, len(starts))] for a in treated}
        data = unit_panel(panel, chosen, [a for a in areas if a not in chosen])
        gt = att_gt(data, y="count", unit="area", time="month", group="group", draws=199, seed=i)
        agg = aggregate(gt, "simple")
        hits["bootstrap"] += not (agg["ci"][0] <= 0 <= agg["ci"][1])
        hits["analytic"] += abs(agg["att"] / agg["se_analytic"]) > stats.norm.ppf(0.975)
        tmask = np.ones(len(gt.times), bool)
        hits["randomization"] += randomization(gt, tmask, draws=draws, seed=i)["p_value"] <= 0.05
    return {
        k: {"rate": v / runs, "mc_se": float(np.sqrt(max(v / runs * (1 - v / runs), 1e-12) / runs))}
        for k, v in hits.items()
    } | {"runs": runs, "n_treated": n_treated}
