"""Difference-in-differences on counts: Poisson / negative-binomial GLM with area and month effects.

Inference depends on how many treated areas (clusters) there are, G1:

- G1 >= 10: standard errors clustered by area (Poisson pseudo-likelihood), t with G1 - 1 df.
- 2 <= G1 < 10: cluster-robust errors over-reject with so few treated clusters, so the
  headline p-value and 95% interval come from a restricted wild cluster score bootstrap
  (Kline & Santos 2012; the score bootstrap of Roodman, Nielsen, MacKinnon & Webb 2019,
  Stata's boottest, for ML models): the model is refitted with the null imposed (the DiD term
  fixed at beta0 as an offset), each area's efficient score for the DiD term (the nuisance area
  and month effects partialled out with the restricted Hessian) is flipped by one weight per
  area, and the self-normalised score statistic sum_g S_g / sqrt(sum_g S_g^2) is compared with
  its 999 bootstrap draws. Weights: Webb's six-point distribution (fewer than 12 areas in all
  would leave Rademacher's 2^G sign patterns too few); Rademacher otherwise. The interval
  inverts the test (the beta0 the bootstrap does not reject at 5%, same draws for every
  beta0). The conventional cluster-robust result is reported beside it.
- G1 = 1: no cluster method works with one treated cluster (a wild bootstrap's draws are
  dominated by that one score; MacKinnon & Webb 2017), so negative-binomial model-based errors
  inflated by the serial-correlation design effect are used, as before.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.fepois import fe_poisson
from harmscope.errors import HarmscopeError

MIN_CLUSTERS = 10  # below this many treated areas, cluster-robust SEs are unreliable
MIN_WILD = 2  # from this many treated areas (to MIN_CLUSTERS - 1) the wild bootstrap is used
WILD_DRAWS = 999
WILD_LIMIT = float(np.log(20.0))  # the interval search stops at IRRs of 1/20 and 20
WEBB_BELOW = 12  # fewer treated (or untreated) areas than this: Webb six-point weights
SOLVERS = ("fe", "glm")
WEBB = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


def _design(df: pd.DataFrame, extra: dict[str, np.ndarray]) -> np.ndarray:
    area = pd.get_dummies(df["area"], drop_first=True, dtype=float)
    month = pd.get_dummies(df["month"], drop_first=True, dtype=float)
    cols = [np.ones((len(df), 1)), area.to_numpy(), month.to_numpy()]
    cols += [v.reshape(-1, 1) for v in extra.values()]
    return np.hstack(cols)


def dispersion(y: np.ndarray, mu: np.ndarray) -> float:
    """NB2 overdispersion by the method of moments: Var(y) = mu + alpha mu^2."""
    return max(0.0, float(np.sum((y - mu) ** 2 - y) / np.sum(mu**2)))


def _poisson(df: pd.DataFrame, y, x, groups, cluster: bool, solver: str):
    """The coefficient of ``x`` in a Poisson model with area and month effects, its SE
    (clustered by area when ``cluster``, else model-based) and the fitted means.

    ``solver="fe"``: the two-way fixed-effects solver (:mod:`.fepois`, the effects concentrated
    out); ``"glm"``: statsmodels' GLM on dense dummy columns, the reference it reproduces
    (tests/test_evaluation_speed.py) and the benchmark's baseline."""
    if solver == "fe":
        f = fe_poisson(y, groups, pd.factorize(df["month"])[0], x)
        return f.beta, (f.cluster_se(groups) if cluster else f.se), f.mu
    if solver != "glm":
        raise HarmscopeError(
            f"unknown DiD solver {solver!r}", where="solver", fix=f"use one of {', '.join(SOLVERS)}"
        )
    X = _design(df, {"x": x})
    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        kw = {"cov_type": "cluster", "cov_kwds": {"groups": groups}} if cluster else {}
        res = sm.GLM(y, X, family=sm.families.Poisson()).fit(**kw)
    return float(res.params[-1]), float(res.bse[-1]), res.mu


def _fit(
    df: pd.DataFrame,
    y,
    x,
    groups,
    n_treated_clusters,
    se_inflation: float = 1.0,
    *,
    cluster=False,
    solver: str = "fe",
):
    """Poisson with clustered SEs from MIN_CLUSTERS treated areas (or when ``cluster``, the
    conventional result beside the wild bootstrap), else NB model-based SEs.

    Returns (log IRR, its SE, fitted means, alpha, SE kind, t df)."""
    cluster = cluster or n_treated_clusters >= MIN_CLUSTERS
    b, se, mu = _poisson(df, y, x, groups, cluster, solver)
    alpha = dispersion(y, mu)
    if cluster:
        se_kind = "cluster-robust by area (Poisson pseudo-likelihood)"
        # t reference with (treated areas - 1) df: with treatment assigned by area, the
        # effective number of clusters is nearer the treated count than the total.
        return b, se, mu, alpha, se_kind, max(n_treated_clusters - 1, 1)
    # One treated area (no placebo scheme reaches this path): the NB GLM on dense dummies.
    X = _design(df, {"x": x})
    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=max(alpha, 1e-8))).fit()
    se_kind = (
        f"negative binomial model-based (alpha {alpha:.4f}; fewer than {MIN_CLUSTERS} "
        f"treated areas to cluster on), inflated x{se_inflation:.2f} for serial correlation"
    )
    df_t = max(int(res.df_resid), 1)
    return float(res.params[-1]), float(res.bse[-1]) * se_inflation, res.mu, alpha, se_kind, df_t


def wild_weights(n_clusters: int, draws: int, rng, few: bool) -> tuple[np.ndarray, str]:
    """draws x clusters bootstrap weights: Webb six-point when ``few`` (the statistic then
    rests on a few clusters' scores, and Rademacher's 2^G1 sign patterns are too coarse),
    else Rademacher (both mean 0, variance 1)."""
    if few:
        return WEBB[rng.integers(0, 6, size=(draws, n_clusters))], "Webb six-point"
    return rng.choice([-1.0, 1.0], size=(draws, n_clusters)), "Rademacher"


def restricted_mu(y, area, month, offset, *, tol: float = 1e-10) -> np.ndarray:
    """Poisson ML fitted means of log mu = a_area + m_month + offset, by iterative
    proportional fitting (the two-way score equations: fitted totals equal observed totals
    for every area and every month). The same fit as a Poisson GLM on area and month dummies
    (pinned in the tests against statsmodels), in a fraction of the time."""
    ya, ym = np.bincount(area, weights=y), np.bincount(month, weights=y)
    a = np.zeros(len(ya))
    m = np.zeros(len(ym))
    base = np.exp(offset)
    with np.errstate(divide="ignore"):
        for _ in range(500):
            m_new = np.log(ym / np.bincount(month, weights=base * np.exp(a[area])))
            a_new = np.log(ya / np.bincount(area, weights=base * np.exp(m_new[month])))
            m_new, a_new = np.maximum(m_new, -50.0), np.maximum(a_new, -50.0)
            done = max(np.max(np.abs(m_new - m)), np.max(np.abs(a_new - a))) < tol
            a, m = a_new, m_new
            if done:
                break
    return base * np.exp(a[area] + m[month])


def cluster_scores(y, X, area, month, beta0: float = 0.0) -> np.ndarray:
    """Per-area efficient scores for the DiD term (the last column of X) at the restricted
    fit: that coefficient fixed at beta0, the area and month effects re-estimated."""
    x, Xn = X[:, -1], X[:, :-1]
    mu = restricted_mu(y, area, month, beta0 * x)
    # partial the nuisance columns out of x with the restricted Hessian's weights (mu)
    w = np.sqrt(mu)
    gamma = np.linalg.lstsq(Xn * w[:, None], x * w, rcond=None)[0]
    z = x - Xn @ gamma
    return np.bincount(area, weights=z * (y - mu))


def score_stat(S: np.ndarray) -> np.ndarray:
    """Self-normalised score statistic sum S / sqrt(sum S^2), over the last axis."""
    den = np.sqrt(np.sum(S**2, axis=-1))
    return np.divide(np.sum(S, axis=-1), den, out=np.zeros_like(den), where=den > 0)


def wild_p(y, X, area, month, beta0: float, weights: np.ndarray) -> float:
    """Two-sided restricted wild cluster score bootstrap p-value for H0: beta = beta0."""
    S = cluster_scores(y, X, area, month, beta0)
    t = float(score_stat(S))
    t_star = score_stat(weights * S[None, :])
    return float((1 + np.sum(np.abs(t_star) >= abs(t) - 1e-12)) / (len(t_star) + 1))


def wild_bootstrap(
    y,
    X,
    area,
    month,
    b: float,
    se: float,
    n_treated: int,
    *,
    draws: int = WILD_DRAWS,
    seed: int = 0,
) -> dict:
    """p-value for beta = 0 and the 95% interval by test inversion (module docstring);
    ``b``, ``se`` (the point estimate and a conventional SE) only bracket the search."""
    n_clusters = int(area.max()) + 1
    few = min(n_treated, n_clusters - n_treated) < WEBB_BELOW
    w, kind = wild_weights(n_clusters, draws, np.random.default_rng(seed), few)
    with single_thread():
        return _invert(y, X, area, month, b, se, w) | {
            "weights": kind,
            "draws": draws,
            "clusters": n_clusters,
        }


def _invert(y, X, area, month, b: float, se: float, w: np.ndarray) -> dict:
    """p for beta = 0 and the set of beta0 not rejected at 5%, searched within
    |log IRR| <= WILD_LIMIT; a side still not rejected there is reported open at the limit."""
    p0 = wild_p(y, X, area, month, 0.0, w)
    b = float(np.clip(b, -WILD_LIMIT * 0.99, WILD_LIMIT * 0.99))

    def edge(direction: float) -> tuple[float, bool]:
        inside, step = b, 2 * max(se, 0.05)
        outside = b + direction * step
        while True:  # widen until the bootstrap rejects, or the limit
            outside = float(np.clip(outside, -WILD_LIMIT, WILD_LIMIT))
            if wild_p(y, X, area, month, outside, w) <= 0.05:
                break
            if abs(outside) >= WILD_LIMIT:
                return outside, True
            inside, outside = outside, outside + direction * 2 * step
        for _ in range(12):  # bisect to about 1e-4 of the log IRR
            mid = 0.5 * (inside + outside)
            if wild_p(y, X, area, month, mid, w) > 0.05:
                inside = mid
            else:
                outside = mid
        return 0.5 * (inside + outside), False

    (lo, lo_open), (hi, hi_open) = edge(-1.0), edge(1.0)
    return {"p_value": p0, "ci_log": [lo, hi], "ci_open": [lo_open, hi_open]}


def did_fit(
    panel: pd.DataFrame,
    treated: list[str],
    comparisons: list[str],
    start: pd.Timestamp,
    *,
    check_pre_trend: bool = True,
    se_inflation: float = 1.0,
    seed: int = 0,
    solver: str = "fe",
) -> dict:
    """IRR for treated x post, with a 95% CI, p-value and the pre-trend check; with 2-9
    treated areas the p-value and CI are the wild cluster bootstrap's (module docstring).
    ``solver``: see :func:`_poisson` (the same figures either way)."""
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
    present = set(df["area"].unique())
    n_tr = len(set(treated) & present)
    wild = MIN_WILD <= n_tr < MIN_CLUSTERS
    b, se, mu, alpha, se_kind, df_t = _fit(
        df, y, tr * post, groups, n_tr, se_inflation, cluster=wild, solver=solver
    )
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
        "n_comparison": len(set(comparisons) & present),
    }
    if wild:
        month = pd.factorize(df["month"])[0]
        X = _design(df, {"did": tr * post})
        out.update(_wild_result(out, y, X, groups, month, n_tr, seed))
    if check_pre_trend:
        out.update(pre_trend(df, treated, start, se_inflation, solver=solver))
    # Counterfactual for the treated areas: fitted values with the treatment term switched off.
    df["fitted"] = mu
    df["counterfactual"] = mu / np.exp(b * tr * post)
    out["series"] = (
        df[df["area"].isin(set(treated))]
        .groupby("month", as_index=False)[["count", "counterfactual"]]
        .sum()
        .rename(columns={"count": "observed"})
    )
    return out


def _wild_result(conv: dict, y, X, area, month, n_treated: int, seed: int) -> dict:
    """The wild bootstrap's p-value and interval as the headline, the conventional
    cluster-robust ones kept beside them."""
    wb = wild_bootstrap(y, X, area, month, conv["log_irr"], conv["se"], n_treated, seed=seed)
    lo, hi = wb["ci_log"]
    return {
        "p_value": wb["p_value"],
        "irr_ci": [float(np.exp(lo)), float(np.exp(hi))],
        "se_kind": (
            f"restricted wild cluster score bootstrap by area ({wb['weights']} weights, "
            f"{wb['draws']} draws, {wb['clusters']} areas of which {n_treated} treated; "
            f"interval by test inversion), used because fewer than {MIN_CLUSTERS} areas are "
            "treated"
        ),
        "wild_bootstrap": True,
        "wild_ci_open": wb["ci_open"],
        "wild_weights": wb["weights"],
        "wild_draws": wb["draws"],
        "cluster_irr_ci": conv["irr_ci"],
        "cluster_p_value": conv["p_value"],
        "cluster_se_kind": conv["se_kind"] + f", t with {conv['df']} df",
    }


def pre_trend(
    df: pd.DataFrame,
    treated: list[str],
    start: pd.Timestamp,
    se_inflation: float = 1.0,
    *,
    solver: str = "fe",
) -> dict:
    """Differential linear trend of treated vs comparison before the start (should be ~0)."""
    pre = df[df["month"] < start]
    if pre["month"].nunique() < 3:
        return {"pre_trend_pct_per_month": None, "pre_trend_p": None}
    t = (pre["month"].dt.year * 12 + pre["month"].dt.month).to_numpy(dtype=float)
    tr = pre["area"].isin(set(treated)).to_numpy(dtype=float)
    y = pre["count"].to_numpy(dtype=float)
    groups = pd.factorize(pre["area"])[0]
    n_tr = len(set(treated) & set(pre["area"].unique()))
    b, se, _, _, _, df_t = _fit(
        pre, y, tr * (t - t.mean()), groups, n_tr, se_inflation, solver=solver
    )
    p = float(2 * stats.t.sf(abs(b / se), df_t)) if se > 0 else float("nan")
    return {"pre_trend_pct_per_month": float(100 * (np.exp(b) - 1)), "pre_trend_p": p}
