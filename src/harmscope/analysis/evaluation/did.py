"""Difference-in-differences on counts: Poisson / negative-binomial GLM with area and month effects."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.errors import HarmscopeError

MIN_CLUSTERS = 10  # below this many treated areas, cluster-robust SEs are unreliable


def _design(df: pd.DataFrame, extra: dict[str, np.ndarray]) -> np.ndarray:
    area = pd.get_dummies(df["area"], drop_first=True, dtype=float)
    month = pd.get_dummies(df["month"], drop_first=True, dtype=float)
    cols = [np.ones((len(df), 1)), area.to_numpy(), month.to_numpy()]
    cols += [v.reshape(-1, 1) for v in extra.values()]
    return np.hstack(cols)


def dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """NB2 overdispersion by the method of moments: Var(y) = mu + alpha mu^2."""
    return max(0.0, float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)))


def _fit(y, X, groups, n_treated_clusters, se_inflation: float = 1.0):
    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        if n_treated_clusters >= MIN_CLUSTERS:
            res = sm.GLM(y, X, family=sm.families.Poisson()).fit(
                cov_type="cluster", cov_kwds={"groups": groups}
            )
        else:
            res = sm.GLM(y, X, family=sm.families.Poisson()).fit()
        alpha = dispersion(y, res.mu)
        if n_treated_clusters >= MIN_CLUSTERS:
            se_kind = "cluster-robust by area (Poisson pseudo-likelihood)"
            # t reference with (treated areas - 1) df: with treatment assigned by area, the
            # effective number of clusters is nearer the treated count than the total.
            df_t = max(n_treated_clusters - 1, 1)
        else:
            res = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=max(alpha, 1e-8))).fit()
            se_kind = (
                f"negative binomial model-based (alpha {alpha:.4f}; fewer than {MIN_CLUSTERS} "
                f"treated areas to cluster on), inflated x{se_inflation:.2f} for serial correlation"
            )
            df_t = max(int(res.df_resid), 1)
            return res, alpha, se_kind, df_t, se_inflation
    return res, alpha, se_kind, df_t, 1.0


def did_fit(
    panel: pd.DataFrame,
    treated: list[str],
    comparisons: list[str],
    start: pd.Timestamp,
    *,
    check_pre_trend: bool = True,
    se_inflation: float = 1.0,
) -> dict:
    """IRR for treated x post, with a 95% CI, p-value and the pre-trend check."""
    df = panel[panel["area"].isin(set(treated) | set(comparisons))].copy()
    if df["month"].ge(start).sum() == 0:
        raise HarmscopeError(
            f"no months in the data from the start {start:%Y-%m} onwards",
            where="start",
            fix="choose a start inside the ingested months (see `harmscope status`)",
        )
    tr = df["area"].isin(set(treated)).to_numpy(dtype=float)
    post = (df["month"] >= start).to_numpy(dtype=float)
    y = df["count"].to_numpy(dtype=float)
    groups = pd.factorize(df["area"])[0]
    n_tr = len(set(treated) & set(df["area"]))
    X = _design(df, {"did": tr * post})
    res, alpha, se_kind, df_t, infl = _fit(y, X, groups, n_tr, se_inflation)
    b, se = float(res.params[-1]), float(res.bse[-1]) * infl
    tcrit = float(stats.t.ppf(0.975, df_t))
    p = float(2 * stats.t.sf(abs(b / se), df_t)) if se > 0 else float("nan")
    out = {
        "method": "did",
        "df": df_t,
        "log_irr": b,
        "se": se,
        "irr": float(np.exp(b)),
        "irr_ci": [float(np.exp(b - tcrit * se)), float(np.exp(b + tcrit * se))],
        "p_value": p,
        "alpha": alpha,
        "se_kind": se_kind,
        "n_treated": n_tr,
        "n_comparison": len(set(comparisons) & set(df["area"])),
    }
    if check_pre_trend:
        out.update(pre_trend(df, treated, start, se_inflation))
    # Counterfactual for the treated areas: fitted values with the treatment term switched off.
    df["fitted"] = res.mu
    df["counterfactual"] = res.mu / np.exp(b * tr * post)
    out["series"] = (
        df[df["area"].isin(set(treated))]
        .groupby("month", as_index=False)[["count", "counterfactual"]]
        .sum()
        .rename(columns={"count": "observed"})
    )
    return out


def pre_trend(
    df: pd.DataFrame, treated: list[str], start: pd.Timestamp, se_inflation: float = 1.0
) -> dict:
    """Differential linear trend of treated vs comparison before the start (should be ~0)."""
    pre = df[df["month"] < start]
    if pre["month"].nunique() < 3:
        return {"pre_trend_pct_per_month": None, "pre_trend_p": None}
    t = (pre["month"].dt.year * 12 + pre["month"].dt.month).to_numpy(dtype=float)
    tr = pre["area"].isin(set(treated)).to_numpy(dtype=float)
    X = _design(pre, {"trend": tr * (t - t.mean())})
    y = pre["count"].to_numpy(dtype=float)
    groups = pd.factorize(pre["area"])[0]
    res, _, _, df_t, infl = _fit(y, X, groups, len(set(treated) & set(pre["area"])), se_inflation)
    b, se = float(res.params[-1]), float(res.bse[-1]) * infl
    p = float(2 * stats.t.sf(abs(b / se), df_t)) if se > 0 else float("nan")
    return {"pre_trend_pct_per_month": float(100 * (np.exp(b) - 1)), "pre_trend_p": p}
