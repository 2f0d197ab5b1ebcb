"""Drivers: is a covariate (officer numbers, youth services) associated with violence across
areas and years, once each area's own level and the changes every area shared are allowed for?

The estimator is two-way fixed effects (area and period) on logs, with standard errors
clustered by area (every year of one area shares its shocks):

    log(outcome per head)_it = a_i + d_t + b * log(covariate per head)_i,t-lag + e_it

``b`` is an elasticity: a 1% higher covariate goes with b% more outcome. The same model is
fitted on first differences (changes on changes), with several lags at once (a distributed lag,
whose sum is the cumulative association), with the covariate's *lead* added (the covariate next
year cannot have moved violence this year, so a clear lead "effect" means violence drives the
covariate, or something drives both), and on a placebo outcome (a crime type the covariate
should not move). The two placebos must come back null before the main estimate is believed.

Inference uses the cluster-robust sandwich with the small-sample factor
G/(G-1) x (N-1)/(N-K) and t quantiles on G-1 degrees of freedom: the same as statsmodels' OLS
with entity and time dummies, ``cov_type='cluster'`` and ``use_t=True`` (pinned in
tests/test_drivers.py to 1e-8). The smallest detectable association (MDE, 80% power, 5% level)
is (t_0.975 + t_0.80) x the main estimate's standard error.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

# "harm" as the outcome: ONS CSS-weighted sum over every police.uk crime type (store data)
VIOLENCE_NAMES = ("violence", "violence and sexual offences", "violence against the person")
DEFAULT_PLACEBO = "Bicycle theft"
PER = 100_000  # rates per 100,000 people


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", str(text).strip().lower().replace("&", " and ")).strip()


# -- the estimator -----------------------------------------------------------------------------
@dataclass
class Fit:
    params: np.ndarray  # coefficients of the named regressors
    cov: np.ndarray  # their cluster-robust covariance
    names: list[str]
    nobs: int
    groups: int
    k: int  # columns of the full design (with dummies), its rank
    df: int  # degrees of freedom for t: groups - 1

    def se(self, i: int = 0) -> float:
        return float(math.sqrt(self.cov[i, i]))

    def t_p(self, i: int = 0) -> tuple[float, float]:
        t = float(self.params[i] / self.se(i))
        return t, float(2 * stats.t.sf(abs(t), self.df))

    def ci(self, i: int = 0, alpha: float = 0.05) -> list[float]:
        q = stats.t.ppf(1 - alpha / 2, self.df)
        return [float(self.params[i] - q * self.se(i)), float(self.params[i] + q * self.se(i))]

    def combo(
        self, weights: np.ndarray, alpha: float = 0.05
    ) -> tuple[float, float, list[float], float]:
        """A linear combination (e.g. the sum of lags): estimate, se, ci, p."""
        est = float(weights @ self.params)
        se = float(math.sqrt(weights @ self.cov @ weights))
        q = stats.t.ppf(1 - alpha / 2, self.df)
        p = float(2 * stats.t.sf(abs(est / se), self.df)) if se > 0 else float("nan")
        return est, se, [est - q * se, est + q * se], p


def _dummies(codes: pd.Series) -> np.ndarray:
    cat = pd.Categorical(codes)
    d = np.zeros((len(codes), len(cat.categories)))
    d[np.arange(len(codes)), cat.codes] = 1.0
    return d[:, 1:]  # first level dropped: the intercept carries it (as a formula would)


def fe_ols(
    y: np.ndarray,
    x: np.ndarray,
    *,
    cluster: pd.Series,
    area: pd.Series | None,
    period: pd.Series | None,
    names: list[str],
) -> Fit:
    """OLS of y on x plus an intercept and area/period dummies; cluster-robust covariance."""
    x = np.asarray(x, float).reshape(len(y), -1)
    blocks = [x, np.ones((len(y), 1))]
    if area is not None:
        blocks.append(_dummies(area))
    if period is not None:
        blocks.append(_dummies(period))
    design = np.hstack(blocks)
    xtx = design.T @ design
    # X'X is small (regressors + one column per area and period): its eigen-decomposition is
    # cheap, and gives both the rank and the (pseudo-)inverse the sandwich needs
    w, v = np.linalg.eigh(xtx)
    keep = w > w.max() * 1e-10
    bread = (v[:, keep] / w[keep]) @ v[:, keep].T
    beta = bread @ (design.T @ y)
    resid = y - design @ beta
    k = int(keep.sum())
    n = len(y)
    g_codes = pd.Categorical(cluster).codes
    groups = int(g_codes.max()) + 1
    scores = np.zeros((groups, design.shape[1]))
    np.add.at(scores, g_codes, design * resid[:, None])
    meat = scores.T @ scores
    factor = groups / (groups - 1) * (n - 1) / (n - k)
    cov = factor * bread @ meat @ bread
    m = x.shape[1]
    return Fit(beta[:m], cov[:m, :m], list(names), n, groups, k, groups - 1)


# -- the panel ---------------------------------------------------------------------------------
def _period_index(starts: pd.Series, kind: str) -> pd.Series:
    s = pd.to_datetime(starts)
    if kind == "month":
        return s.dt.year * 12 + s.dt.month - 1
    return s.dt.year  # calendar and financial years: the year the period starts in


def _pick(outcome: pd.DataFrame, wanted: str, what: str) -> pd.DataFrame:
    names = outcome.offence.astype(str)
    key = _norm(wanted)
    if key == "harm" and what == "outcome":
        return _harm(outcome)
    if key in VIOLENCE_NAMES:
        hit = names.map(_norm).isin(VIOLENCE_NAMES)
    elif key in ("all", "all crime", "total recorded crime"):
        hit = pd.Series(True, index=outcome.index)
    else:
        hit = names.map(_norm) == key
    if not hit.any():
        held = ", ".join(sorted(names.unique())[:20])
        raise HarmscopeError(
            f"no {what} called {wanted!r} in the outcome data (it holds: {held})",
            where="--outcome" if what == "outcome" else "--placebo",
            fix="name one of the offences held (violence matches 'Violence and sexual offences' "
            "and 'Violence against the person')",
        )
    part = outcome.loc[hit]
    return part.groupby(["area_code", "period_start"], as_index=False).agg(
        area_name=("area_name", "first"),
        period=("period", "first"),
        count=("count", "sum"),
        population=("population", "first"),
    )


def _harm(outcome: pd.DataFrame) -> pd.DataFrame:
    """Harm: every crime type's count times its ONS Crime Severity Score weight (police.uk
    categories; the packaged table says where each weight comes from)."""
    from harmscope.analysis.harm import resolve_weights

    weights, _label = resolve_weights("css")
    w = dict(zip(weights.category.map(_norm), weights.weight.astype(float), strict=True))
    weight = outcome.offence.map(lambda o: w.get(_norm(o)))
    if weight.isna().all():
        raise HarmscopeError(
            "harm needs police.uk crime types (the CSS weights are by police.uk category); "
            "this outcome table has none",
            where="--outcome harm",
            fix="use --outcome violence (or an offence in the table), or the store's street data",
        )
    part = outcome.assign(count=outcome["count"] * weight).loc[weight.notna()]
    return part.groupby(["area_code", "period_start"], as_index=False).agg(
        area_name=("area_name", "first"),
        period=("period", "first"),
        count=("count", "sum"),
        population=("population", "first"),
    )


def build_panel(
    covariate: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    outcome_name: str,
    placebo: str,
    period_kind: str,
    lag: int,
    lags: int,
    per_capita: bool,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per area x outcome period: counts, rates, covariate lags and the lead."""
    notes: list[str] = []
    if "population" not in outcome:
        outcome = outcome.assign(population=np.nan)
    main = _pick(outcome, outcome_name, "outcome")
    plc = _pick(outcome, placebo, "placebo outcome")
    if _norm(placebo) == _norm(outcome_name) or (
        _norm(placebo) in VIOLENCE_NAMES and _norm(outcome_name) in VIOLENCE_NAMES
    ):
        raise HarmscopeError(
            "the placebo outcome is the outcome itself",
            where="--placebo",
            fix="choose a crime type the covariate should not move, e.g. 'Bicycle theft'",
        )
    panel = main.rename(columns={"count": "outcome_count"}).merge(
        plc[["area_code", "period_start", "count"]].rename(columns={"count": "placebo_count"}),
        on=["area_code", "period_start"],
        how="left",
    )
    panel["pidx"] = _period_index(panel.period_start, period_kind)
    cov = covariate.copy()
    cov["pidx"] = _period_index(cov.period_start, period_kind)
    shared = set(cov.area_code) & set(panel.area_code)
    if len(shared) < 3:
        raise HarmscopeError(
            f"the covariate and the outcome share {len(shared)} area(s); a panel needs at least 3",
            where="--covariate",
            fix="use a covariate and outcome at the same level (force, CSP or district) covering "
            "the same areas",
        )
    dropped = sorted(set(panel.area_code) - shared)
    if dropped:
        notes.append(
            f"{len(dropped)} outcome area(s) have no covariate and are left out: "
            + ", ".join(dropped[:8])
            + (" ..." if len(dropped) > 8 else "")
        )
    panel = panel[panel.area_code.isin(shared)].copy()
    cov = cov[cov.area_code.isin(shared)].copy()

    # population for every covariate period: the outcome's, else the area's nearest known one
    pops = panel[["area_code", "pidx", "population"]]
    cov = cov.merge(pops, on=["area_code", "pidx"], how="left").sort_values(["area_code", "pidx"])
    cov["population"] = cov.groupby("area_code").population.transform(lambda s: s.ffill().bfill())
    have_pop = bool(panel.population.notna().all() and cov.population.notna().all())
    if per_capita and not have_pop:
        notes.append(
            "No population for every area and period: rates are not per head. With each "
            "area's own effect in the model, a population that stays the same cancels out; "
            "only population change is lost."
        )
        per_capita = False
    if (cov.value <= 0).any():
        bad = cov.loc[cov.value <= 0].iloc[0]
        raise HarmscopeError(
            f"covariate value {bad.value} for {bad.area_code} {bad.period} is not positive; "
            "elasticities need logs of positive numbers",
            where="--covariate",
            fix="use a positive series (a level such as FTE or spend, not a change)",
        )
    cov["rate"] = cov.value / cov.population * PER if per_capita else cov.value
    cov["log_x"] = np.log(cov.rate)
    xlog = cov.set_index(["area_code", "pidx"]).log_x
    for k in sorted(set(range(0, lags + 1)) | {lag, -1}):
        key = list(zip(panel.area_code, panel.pidx - k, strict=True))
        panel[_shift_col(k)] = xlog.reindex(key).to_numpy()
    panel["covariate_value"] = (
        cov.set_index(["area_code", "pidx"])
        .value.reindex(list(zip(panel.area_code, panel.pidx, strict=True)))
        .to_numpy()
    )
    zeros = bool((panel.outcome_count <= 0).any() or (panel.placebo_count.fillna(0) <= 0).any())
    shift = 1.0 if zeros else 0.0
    if zeros:
        notes.append(
            "Some area-periods count zero: logs are taken of count + 1, which pulls small "
            "counts together; prefer larger areas or longer periods."
        )
    denom = panel.population / PER if per_capita else 1.0
    panel["outcome_rate"] = panel.outcome_count / denom
    panel["placebo_rate"] = panel.placebo_count / denom
    panel["log_y"] = np.log((panel.outcome_count + shift) / denom)
    panel["log_yp"] = np.log((panel.placebo_count + shift) / denom)
    panel["per_capita"] = per_capita
    return panel.sort_values(["area_code", "pidx"]).reset_index(drop=True), notes


def _shift_col(k: int) -> str:
    return f"x_lag{k}" if k >= 0 else f"x_lead{-k}"


def _fit(panel: pd.DataFrame, ycol: str, xcols: list[str], *, fd: bool = False) -> Fit | None:
    if fd:
        prev = panel.set_index(["area_code", "pidx"])
        key = list(zip(panel.area_code, panel.pidx - 1, strict=True))
        d = panel.copy()
        d["dy"] = d[ycol].to_numpy() - prev[ycol].reindex(key).to_numpy()
        for c in xcols:
            d["d" + c] = d[c].to_numpy() - prev[c].reindex(key).to_numpy()
        ycol, xcols, panel = "dy", ["d" + c for c in xcols], d
    rows = panel.dropna(subset=[ycol, *xcols])
    if rows.area_code.nunique() < 3 or rows.pidx.nunique() < 3 - int(fd):
        return None
    return fe_ols(
        rows[ycol].to_numpy(float),
        rows[xcols].to_numpy(float),
        cluster=rows.area_code,
        area=None if fd else rows.area_code,
        period=rows.pidx,
        names=xcols,
    )


def _more_fits(panel: pd.DataFrame, xmain: str, lags: int) -> dict[str, Fit | None]:
    dl_cols = [_shift_col(k) for k in range(lags + 1)]
    return {
        "fd": _fit(panel, "log_y", [xmain], fd=True),
        "lead": _fit(panel, "log_y", [xmain, "x_lead1"]),
        "placebo": _fit(panel, "log_yp", [xmain]),
        "dl": _fit(panel, "log_y", dl_cols) if lags > 0 else None,
    }


# -- the analysis ------------------------------------------------------------------------------
def drivers(
    covariate: pd.DataFrame,
    outcome: pd.DataFrame,
    *,
    covariate_name: str = "covariate",
    unit: str = "",
    source: str = "",
    outcome_name: str = "violence",
    placebo: str = DEFAULT_PLACEBO,
    period_kind: str = "financial_year",
    lag: int = 1,
    lags: int = 2,
    per_capita: bool = True,
    alpha: float = 0.05,
    power: float = 0.8,
    synthetic: bool = False,
    outcome_source: str = "",
    charts: bool = True,
) -> Result:
    """Two-way fixed effects association between ``covariate`` and ``outcome`` (see module doc).

    ``covariate``: area_code, area_name, period, period_start, value.
    ``outcome``: area_code, area_name, period, period_start, offence, count[, population].
    """
    if lag < 0 or lags < 0:
        raise HarmscopeError("lags cannot be negative", where="--lag", fix="use 0, 1 or 2")
    panel, notes = build_panel(
        covariate,
        outcome,
        outcome_name=outcome_name,
        placebo=placebo,
        period_kind=period_kind,
        lag=lag,
        lags=lags,
        per_capita=per_capita,
    )
    xmain = _shift_col(lag)
    from harmscope.analysis.evaluation._threads import single_thread

    with single_thread():  # small dense fits: one BLAS thread is many times faster when shared
        main = _fit(panel, "log_y", [xmain])
        fits = _more_fits(panel, xmain, lags) if main is not None else {}
    if main is None:
        raise HarmscopeError(
            "too few areas or periods with both the outcome and the lagged covariate "
            f"({panel.area_code.nunique()} areas, {panel.pidx.nunique()} periods before lags)",
            where="drivers",
            fix="a panel needs at least 3 areas and 3 periods that have the covariate "
            f"{lag} period(s) earlier; add more years or areas",
        )
    fd, lead, plc = fits["fd"], fits["lead"], fits["placebo"]

    q = stats.t.ppf(1 - alpha / 2, main.df) + stats.t.ppf(power, main.df)
    mde = float(q * main.se())
    est = float(main.params[0])
    ci = main.ci(0, alpha)
    p = main.t_p(0)[1]
    lead_p = lead.t_p(1)[1] if lead is not None else float("nan")
    plc_p = plc.t_p(0)[1] if plc is not None else float("nan")
    if lead is None:
        notes.append(
            "The covariate is not held one period beyond the outcome's periods for enough "
            "areas, so the lead (placebo timing) test could not be run."
        )

    table, cum = _model_table(main, fits, lag, lags, placebo, alpha)

    timing = _timing(lag, period_kind)
    # believed only when both placebo checks ran and came back null
    credible = bool(plc_p >= alpha and lead_p >= alpha)  # NaN (not run) compares False
    verdict = _verdict(
        covariate_name,
        outcome_name,
        est,
        ci,
        p,
        mde,
        alpha,
        timing,
        plc_p,
        lead_p,
        placebo,
        credible,
    )
    per_cap = bool(panel.per_capita.iloc[0])
    summary = {
        "covariate": covariate_name,
        "unit": unit,
        "covariate_source": source,
        "outcome": outcome_name,
        "outcome_source": outcome_source,
        "placebo_outcome": placebo,
        "synthetic": bool(synthetic),
        "lag": lag,
        "per_capita": per_cap,
        "elasticity": est,
        "elasticity_ci": ci,
        "elasticity_se": main.se(),
        "elasticity_p": p,
        "pct_change_for_10pct": _pct(est),
        "pct_change_for_10pct_ci": [_pct(ci[0]), _pct(ci[1])],
        "elasticity_fd": float(fd.params[0]) if fd is not None else None,
        "elasticity_fd_ci": fd.ci(0, alpha) if fd is not None else None,
        "placebo_outcome_estimate": float(plc.params[0]) if plc is not None else None,
        "placebo_outcome_p": plc_p,
        "placebo_lead_estimate": float(lead.params[1]) if lead is not None else None,
        "placebo_lead_p": lead_p,
        "cumulative_elasticity": cum[0] if cum else None,
        "cumulative_elasticity_ci": cum[2] if cum else None,
        "mde": mde,
        "mde_pct_for_10pct": _pct(mde) if mde < 50 else None,
        "power": power,
        "alpha": alpha,
        "n_obs": main.nobs,
        "n_areas": main.groups,
        "n_periods": int(panel.dropna(subset=[xmain]).pidx.nunique()),
        "credible": credible,
        "verdict": verdict,
    }
    method = _method(
        covariate_name,
        unit,
        source,
        outcome_name,
        placebo,
        lag,
        lags,
        per_cap,
        period_kind,
        alpha,
        power,
        synthetic,
        outcome_source,
    )
    if synthetic:
        notes.insert(0, "SYNTHETIC data: the figures test the method, not the world.")
    is_harm = _norm(outcome_name) == "harm"
    if is_harm:
        notes.append(
            "Outcome: harm, the ONS Crime Severity Score weighted sum of every crime type "
            "(sentence-equivalent days); the placebo's own harm is part of it, a small share."
        )
    out_panel = _out_panel(panel, is_harm)
    res = Result(
        table=table,
        summary=summary,
        method=method,
        tables={"panel": out_panel},
        notes=notes,
        title=f"Drivers: {outcome_name} and {covariate_name}",
    )
    if charts:
        res.charts = _charts(panel, main, xmain, covariate_name, outcome_name, per_cap)
    return res


def _model_table(main: Fit, fits: dict, lag: int, lags: int, placebo: str, alpha: float):
    """(one row per model and term, the distributed lag's sum or None)."""
    fd, lead, plc, dl = fits["fd"], fits["lead"], fits["placebo"], fits["dl"]
    dl_cols = [_shift_col(k) for k in range(lags + 1)]
    rows = [_row("levels (two-way fixed effects)", f"lag {lag}", main, 0, alpha)]
    if fd is not None:
        rows.append(_row("first differences", f"change, lag {lag}", fd, 0, alpha))
    if lead is not None:
        rows.append(
            _row("placebo timing (lead)", "lead 1 (next period's covariate)", lead, 1, alpha)
        )
    if plc is not None:
        rows.append(_row(f"placebo outcome ({placebo})", f"lag {lag}", plc, 0, alpha))
    cum = None
    if dl is not None:
        for i, c in enumerate(dl_cols):
            rows.append(_row("distributed lag", c.replace("x_lag", "lag "), dl, i, alpha))
        cum = dl.combo(np.ones(len(dl_cols)), alpha)
        rows.append(
            {
                "model": "distributed lag",
                "term": f"sum of lags 0-{lags}",
                "estimate": cum[0],
                "ci_low": cum[2][0],
                "ci_high": cum[2][1],
                "se": cum[1],
                "p": cum[3],
                "n_obs": dl.nobs,
                "n_areas": dl.groups,
            }
        )
    return pd.DataFrame(rows), cum


def _out_panel(panel: pd.DataFrame, is_harm: bool) -> pd.DataFrame:
    """The panel as published beside the fit."""
    out_panel = panel[
        [
            "area_code",
            "area_name",
            "period",
            "covariate_value",
            "outcome_count",
            "placebo_count",
            "population",
            "outcome_rate",
            "placebo_rate",
        ]
    ].copy()
    if is_harm:  # a weighted sum, not a count: named so no presenter mistakes it for one
        out_panel = out_panel.rename(
            columns={"outcome_count": "outcome_harm", "outcome_rate": "harm_rate"}
        )
    return out_panel


def _row(model: str, term: str, fit: Fit, i: int, alpha: float) -> dict:
    t, p = fit.t_p(i)
    lo, hi = fit.ci(i, alpha)
    return {
        "model": model,
        "term": term,
        "estimate": float(fit.params[i]),
        "ci_low": lo,
        "ci_high": hi,
        "se": fit.se(i),
        "p": p,
        "n_obs": fit.nobs,
        "n_areas": fit.groups,
    }


def _pct(elasticity: float) -> float:
    """% change in the outcome that goes with a 10% higher covariate."""
    return float((1.1**elasticity - 1) * 100)


def _timing(lag: int, kind: str) -> str:
    unit = "month" if kind == "month" else "year"
    if lag == 0:
        return f"in the same {unit}"
    if lag == 1:
        return f"in the following {unit}"
    return f"{lag} {unit}s later"


def _verdict(cov, outcome, est, ci, p, mde, alpha, timing, plc_p, lead_p, placebo, credible) -> str:
    pct, lo, hi = _pct(est), _pct(ci[0]), _pct(ci[1])
    allow = (
        "after allowing for each area's usual level and for the changes every area shared "
        "in each period"
    )
    limits = (
        f"This is an association, not proof that {cov} changes {outcome}: areas may have "
        f"changed {cov} because {outcome} was changing (reverse direction), and other things "
        f"that changed in the same areas at the same time, such as funding, recording "
        f"practice or the local economy, can move both."
    )
    if ci[0] > 0 or ci[1] < 0:
        word = "more" if est > 0 else "less"
        head = (
            f"Areas where {cov} rose by 10% saw {abs(pct):.1f}% {word} {outcome} {timing} "
            f"(95% interval {lo:+.1f}% to {hi:+.1f}%), {allow}."
        )
    else:
        head = (
            f"No clear association: areas where {cov} rose by 10% saw {pct:+.1f}% {outcome} "
            f"{timing} (95% interval {lo:+.1f}% to {hi:+.1f}%), {allow}. This panel could "
            f"only detect elasticities larger than {mde:.2f} either way (about "
            f"{abs(_pct(mde)):.1f}% for a 10% change)."
        )
    checks = []
    if plc_p < alpha:
        checks.append(f"the placebo outcome ({placebo}) also moved with {cov} (p = {plc_p:.3f})")
    if lead_p < alpha:
        checks.append(
            f"next period's {cov} already goes with this period's {outcome} (p = {lead_p:.3f})"
        )
    if checks:
        caution = (
            "Do not rely on this estimate: "
            + " and ".join(checks)
            + ", which points to something other than "
            + cov
            + " behind the pattern."
        )
    elif math.isnan(plc_p) or math.isnan(lead_p):
        caution = "One of the placebo checks could not be run, so the estimate is less checked."
    else:
        caution = (
            f"Both checks came back null: the placebo outcome ({placebo}, p = {plc_p:.2f}) "
            f"and next period's {cov} (p = {lead_p:.2f})."
        )
    return " ".join([head, caution, limits])


def _method(
    cov,
    unit,
    source,
    outcome,
    placebo,
    lag,
    lags,
    per_cap,
    kind,
    alpha,
    power,
    synthetic,
    outcome_source,
) -> str:
    scale = (
        "Both the outcome and the covariate are per 100,000 people (the population of each "
        "area and period); with each area's own effect in the model a population that "
        "stays the same cancels, so the scaling matters only where population changes."
        if per_cap
        else "Counts and covariate values are used as they are, not per head (no population for "
        "every area and period); a constant population would cancel anyway, population "
        "change does not."
    )
    return (
        f"Two-way fixed effects on logs: log({outcome} per head) in each area and "
        f"{kind.replace('_', ' ')} on log({cov} per head, {unit or 'its unit'}) {lag} period(s) "
        f"earlier, with a separate effect for each area (its usual level) and for each period "
        f"(changes shared by every area, such as recording rules). The coefficient is an "
        f"elasticity: the % change in {outcome} that goes with a 1% higher {cov}. {scale} "
        f"Also fitted: first differences (this period's change on the covariate's change, a "
        f"check that does not rely on levels), a distributed lag (lags 0-{lags}) whose sum is "
        f"the cumulative association, the covariate's lead (next period's value: a clear lead "
        f"association means {outcome} moves {cov}, or something moves both), and the same model "
        f"on a placebo outcome ({placebo}) that {cov} should not move. "
        f"Assumptions: apart from the area and period effects, what else changes {outcome} is "
        f"unrelated to changes in {cov}; the relationship is the same in every area; effects "
        f"are in logs, so they are proportional. Reverse direction and confounding: areas may "
        f"add {cov} because {outcome} is rising (which biases the estimate towards 'more {cov}, "
        f"more {outcome}'), and funding, recording practice or the economy can move both; the "
        f"placebo checks can show such problems but cannot rule them all out. The result is an "
        f"association, never proof of effect. "
        f"Uncertainty: standard errors are clustered by area (all periods of one area share "
        f"their shocks), with the small-sample factor G/(G-1)(N-1)/(N-K) and t quantiles on "
        f"G-1 degrees of freedom; intervals are {1 - alpha:.0%}. Power: the smallest detectable "
        f"elasticity (MDE) at {power:.0%} power is (t_{{1-a/2}} + t_{{power}}) x the standard "
        f"error. Covariate source: {source or 'not given'}. Outcome source: "
        f"{outcome_source or 'not given'}."
        + (
            " SYNTHETIC data: a test of the method, not evidence about any real area."
            if synthetic
            else ""
        )
    )


def _path_panel(field: str, title: str) -> dict:
    """One panel of the areas' paths: a line per area over the periods."""
    return {
        "mark": "line",
        "height": 160,
        "width": 520,
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "title": None},
            "y": {
                "field": field,
                "type": "quantitative",
                "title": title,
                "scale": {"zero": False},
            },
            "detail": {"field": "area_name"},
            "tooltip": [{"field": "area_name"}],
            "opacity": {"value": 0.5},
        },
    }


def _charts(panel, main: Fit, xcol, cov, outcome, per_cap) -> dict:
    per = " per 100,000" if per_cap else ""
    paths = (
        panel[["area_name", "period", "outcome_rate"]]
        .assign(covariate_rate=np.exp(panel[_shift_col(0)]))
        .dropna()
    )
    lines = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"Each area's path: {cov}{per} and {outcome}{per}",
        "data": {"values": paths.to_dict(orient="records")},
        "vconcat": [
            _path_panel("covariate_rate", f"{cov}{per}"),
            _path_panel("outcome_rate", f"{outcome}{per}"),
        ],
    }
    # The fitted association on the within scale: both variables with the area and period
    # effects taken out (Frisch-Waugh), so the slope of the line is exactly the elasticity.
    rows = panel.dropna(subset=["log_y", xcol])
    design = np.hstack([np.ones((len(rows), 1)), _dummies(rows.area_code), _dummies(rows.pidx)])

    def resid(v):
        b, *_ = np.linalg.lstsq(design, v, rcond=None)
        return v - design @ b

    rx, ry = resid(rows[xcol].to_numpy(float)), resid(rows.log_y.to_numpy(float))
    pts = pd.DataFrame(
        {"area_name": rows.area_name.to_numpy(), "period": rows.period.to_numpy(), "x": rx, "y": ry}
    )
    b = float(main.params[0])
    fit_line = pd.DataFrame({"x": [rx.min(), rx.max()], "y": [b * rx.min(), b * rx.max()]})
    fitted = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": f"{outcome} against {cov} {xcol.replace('x_lag', 'lag ')}, each area's own "
        f"level and each period's shared change taken out (slope = elasticity {b:.2f})",
        "width": 520,
        "height": 320,
        "layer": [
            {
                "data": {"values": pts.to_dict(orient="records")},
                "mark": {"type": "line", "point": True, "opacity": 0.35},
                "encoding": {
                    "x": {
                        "field": "x",
                        "type": "quantitative",
                        "title": f"log {cov} (within area and period)",
                    },
                    "y": {
                        "field": "y",
                        "type": "quantitative",
                        "title": f"log {outcome} (within area and period)",
                    },
                    "detail": {"field": "area_name"},
                    "order": {"field": "period"},
                    "tooltip": [{"field": "area_name"}, {"field": "period"}],
                },
            },
            {
                "data": {"values": fit_line.to_dict(orient="records")},
                "mark": {"type": "line", "color": "black", "strokeWidth": 2},
                "encoding": {
                    "x": {"field": "x", "type": "quantitative"},
                    "y": {"field": "y", "type": "quantitative"},
                },
            },
        ],
    }
    return {"area_paths": lines, "fitted_association": fitted}


# -- inputs from the store or a file -----------------------------------------------------------
def _outcome_from_store(store, *, level: str, period_kind: str) -> tuple[pd.DataFrame, list[str]]:
    """Counts by area, period and crime type from ``street_crimes``; whole periods only.
    The counts come from the query layer (``store.queries.drivers``)."""
    from harmscope.reference.tables import load_lad
    from harmscope.store.queries.drivers import area_period_counts, area_period_months

    df = area_period_counts(store, level=level, period_kind=period_kind)
    notes = []
    if df.empty:
        return df.assign(area_name=[], period=[], population=[]), notes
    need = 1 if period_kind == "month" else 12
    months = area_period_months(store, level=level, period_kind=period_kind)
    whole = months[months.months >= need][["area_code", "period_start"]]
    part = len(months) - len(whole)
    if part:
        notes.append(
            f"{part} area-period(s) with fewer than {need} months in the store are left "
            "out (a part year would look like a fall)."
        )
    df = df.merge(whole, on=["area_code", "period_start"]).drop(columns="months")
    lad = load_lad()
    if level == "csp":
        m = lad.dropna(subset=["csp"]).set_index("lad_code").csp
        df["area_code"] = df.area_code.map(m)
        df = (
            df.dropna(subset=["area_code"])
            .groupby(["area_code", "period_start", "offence"], as_index=False)["count"]
            .sum()
        )
        pop = lad.dropna(subset=["csp"]).groupby("csp").population_2019.sum()
        df["area_name"] = df.area_code
    elif level == "district":
        pop = lad.set_index("lad_code").population_2019
        df["area_name"] = df.area_code.map(lad.set_index("lad_code").lad_name)
    else:
        pop = lad.dropna(subset=["force"]).groupby("force").population_2019.sum()
        df["area_name"] = df.area_code
    df["population"] = df.area_code.map(pop).astype(float)
    df["period_start"] = pd.to_datetime(df.period_start)
    df["period"] = df.period_start.map(lambda d: _period_label(d, period_kind))
    notes.append(
        "Population: ONS mid-2019 estimates held constant for every period (so per-head "
        "scaling only changes each area's level, which its own effect absorbs)."
    )
    # every crime type appears for every area-period; a missing one is a true zero
    full = pd.MultiIndex.from_product(
        [
            df[["area_code", "period_start"]].drop_duplicates().itertuples(index=False),
            df.offence.unique(),
        ]
    )
    keys = pd.DataFrame(
        [(a, p, o) for (a, p), o in full], columns=["area_code", "period_start", "offence"]
    )
    base = df.drop_duplicates(["area_code", "period_start"])[
        ["area_code", "period_start", "area_name", "period", "population"]
    ]
    df = (
        keys.merge(base, on=["area_code", "period_start"])
        .merge(
            df[["area_code", "period_start", "offence", "count"]],
            how="left",
            on=["area_code", "period_start", "offence"],
        )
        .fillna({"count": 0})
    )
    return df, notes


def _period_label(d, kind: str) -> str:
    d = pd.Timestamp(d)
    if kind == "month":
        return f"{d.year:04d}-{d.month:02d}"
    if kind == "year":
        return str(d.year)
    return f"{d.year}/{(d.year + 1) % 100:02d}"


def drivers_from_store(
    store,
    covariate: str,
    *,
    outcome: str = "violence",
    placebo: str = DEFAULT_PLACEBO,
    outcome_file=None,
    **kw,
) -> Result:
    """Load the covariate (and the outcome: the store's counts, or ``outcome_file``) and run
    :func:`drivers`."""
    from harmscope.sources.covariates import load_covariate
    from harmscope.sources.recorded_crime import read_outcome_table

    values, meta = load_covariate(store, covariate)
    level, kind = meta["area_level"], meta["period_kind"]
    if outcome_file is not None:
        out, source, notes = read_outcome_table(outcome_file, level=level, period_kind=kind)
    else:
        out, notes = _outcome_from_store(store, level=level, period_kind=kind)
        source = "police.uk street-level crime in this store (Open Government Licence v3.0)"
        if out.empty:
            raise HarmscopeError(
                f"the store holds no whole {kind.replace('_', ' ')}s of street crime at {level} level",
                where="--outcome",
                fix="ingest police.uk files covering whole periods, or pass --outcome-file with "
                "recorded crime by area and period",
            )
    res = drivers(
        values,
        out,
        covariate_name=covariate,
        unit=meta["unit"],
        source=meta["source"],
        outcome_name=outcome,
        placebo=placebo,
        period_kind=kind,
        synthetic=bool(meta.get("synthetic", False)) or "synthetic" in source.lower(),
        outcome_source=source,
        **kw,
    )
    res.notes[:0] = notes
    return res
