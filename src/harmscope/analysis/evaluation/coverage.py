"""Coverage and false-positive rates of the evaluation's intervals, on simulated data with
planted truth (shared by benchmarks/validate_evaluation.py at >= 1,000 runs and by the
seeded tests at a few hundred).

ITS: a monthly count series, Poisson around a level with AR(1) noise on the log scale
(log mu_t = log(level) + e_t, e_t = rho e_{t-1} + sqrt(1 - rho^2) sigma z_t), 16 consecutive
months (as many as the street data hold), a start month drawn from the 7th to the 14th, and
the planted effect multiplying the post-period mean. Each run is fitted with every error
choice of :func:`its_fit` on the same series (paired comparison).

DiD: G1 treated and 3 G1 comparison areas, 16 months, area effects (sd 0.5 on the log
scale), month effects (sd 0.1), AR(1) area-by-month noise (rho 0.5, sd 0.3), gamma-Poisson
(NB2, alpha 0.3) counts around 5 a month, the effect multiplying the treated post means. Each
run: the conventional cluster-robust Wald test (statsmodels, t with G1 - 1 df), the negative-
binomial model-based test, and the restricted wild cluster score bootstrap, each of H0:
log IRR = log(true IRR). A 95% interval covers the truth exactly when that test does not
reject at 5% (the bootstrap's interval is that test inverted), so coverage = 1 - rejection
at the truth, and the false-positive rate is the rejection rate when the truth is 1.

Rates come with their Monte Carlo standard error sqrt(p (1 - p) / n) and a Wilson 95% interval
(analysis.intervals.wilson).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.did import dispersion, wild_p, wild_weights
from harmscope.analysis.evaluation.its import ERRORS, its_fit
from harmscope.analysis.intervals import wilson

MONTHS = pd.date_range("2023-01-01", periods=16, freq="MS")


def rate(k: int, n: int) -> dict:
    """A Monte Carlo rate with its standard error and Wilson 95% interval."""
    p = k / n if n else float("nan")
    lo, hi = wilson(k, n) if n else (float("nan"), float("nan"))
    return {
        "rate": p,
        "k": int(k),
        "n": int(n),
        "mc_se": float(np.sqrt(p * (1 - p) / n)) if n else float("nan"),
        "mc_ci": [float(lo), float(hi)],
    }


def ar1(rng, n: int, rho: float, sigma: float, size: int | tuple = ()) -> np.ndarray:
    """Stationary AR(1) noise with marginal sd ``sigma`` along the last axis."""
    shape = (*np.atleast_1d(size).tolist(), n) if size != () else (n,)
    z = rng.normal(size=shape) * sigma
    e = np.empty(shape)
    e[..., 0] = z[..., 0]
    for t in range(1, n):
        e[..., t] = rho * e[..., t - 1] + np.sqrt(1 - rho**2) * z[..., t]
    return e


def its_runs(
    n_runs: int,
    *,
    rho: float,
    irr: float = 1.0,
    seed: int = 0,
    level: float = 200.0,
    sigma: float = 0.08,
    errors=ERRORS,
) -> pd.DataFrame:
    """One row per run and error choice: p-value of H0 IRR = 1, and whether the 95% interval
    covers the planted IRR."""
    rng = np.random.default_rng(seed)
    n = len(MONTHS)
    rows = []
    with single_thread():
        for i in range(n_runs):
            start_i = int(rng.integers(6, n - 2))
            mu = level * np.exp(ar1(rng, n, rho, sigma))
            mu[start_i:] *= irr
            s = pd.DataFrame({"month": MONTHS, "count": rng.poisson(mu).astype(float)})
            for e in errors:
                r = its_fit(s, MONTHS[start_i], errors=e)
                lo, hi = r["irr_ci"]
                rows.append(
                    {"run": i, "errors": e, "p_value": r["p_value"], "covers": lo <= irr <= hi}
                )
    return pd.DataFrame(rows)


def did_panel(rng, g1: int, g0: int, irr: float, n_months: int = 16, start: int = 10):
    """A simulated DiD panel: y, the design matrix (intercept, area and month dummies, the DiD
    term last), the area and month indices."""
    g = g1 + g0
    a = rng.normal(0, 0.5, g)
    m = rng.normal(0, 0.1, n_months)
    mu = 5.0 * np.exp(a[:, None] + m[None, :] + ar1(rng, n_months, 0.5, 0.3, size=g))
    did = (np.arange(g) < g1)[:, None] & (np.arange(n_months) >= start)[None, :]
    mu = mu * np.where(did, irr, 1.0)
    alpha = 0.3
    y = rng.poisson(rng.gamma(1 / alpha, alpha * mu)).ravel().astype(float)
    area = np.repeat(np.arange(g), n_months)
    month = np.tile(np.arange(n_months), g)
    X = np.column_stack(
        [
            np.ones(len(y)),
            (area[:, None] == np.arange(1, g)[None, :]).astype(float),
            (month[:, None] == np.arange(1, n_months)[None, :]).astype(float),
            did.ravel().astype(float),
        ]
    )
    return y, X, area, month


def _conventional(y, X, area, g1: int, beta0: float) -> tuple[bool, bool, bool]:
    """Rejections at 5% of H0: beta = beta0 by the cluster-robust Wald test (statsmodels;
    t with G1 - 1 df as the DiD uses from 10 treated areas, and statsmodels' own normal
    reference) and the NB model-based test (t with the residual df)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, X, family=sm.families.Poisson()).fit(
            cov_type="cluster", cov_kwds={"groups": area}
        )
        t = (res.params[-1] - beta0) / res.bse[-1]
        cl = 2 * stats.t.sf(abs(t), max(g1 - 1, 1)) < 0.05
        cz = 2 * stats.norm.sf(abs(t)) < 0.05
        alpha = max(dispersion(y, res.mu), 1e-8)
        nb = sm.GLM(y, X, family=sm.families.NegativeBinomial(alpha=alpha)).fit()
        tn = (nb.params[-1] - beta0) / nb.bse[-1]
        return bool(cl), bool(cz), bool(2 * stats.t.sf(abs(tn), nb.df_resid) < 0.05)


def did_runs(
    n_runs: int, *, g1: int, irr: float = 1.0, seed: int = 0, draws: int = 999
) -> pd.DataFrame:
    """One row per run: whether each test rejects H0 at the planted truth (log IRR = log irr)."""
    rng = np.random.default_rng(seed)
    beta0 = float(np.log(irr))
    rows = []
    with single_thread():
        for i in range(n_runs):
            y, X, area, month = did_panel(rng, g1, 3 * g1, irr)
            cl, cz, nb = _conventional(y, X, area, g1, beta0)
            w, _ = wild_weights(4 * g1, draws, rng, few=g1 < 12)
            wild = wild_p(y, X, area, month, beta0, w) <= 0.05
            rows.append(
                {"run": i, "cluster": cl, "cluster_z": cz, "nb_model": nb, "wild": bool(wild)}
            )
    return pd.DataFrame(rows)


def its_summary(runs: pd.DataFrame, planted: bool) -> dict:
    """Per error choice: false-positive rate (planted IRR 1) or coverage, with MC error."""
    out = {}
    for e, d in runs.groupby("errors", sort=False):
        k = int((~d["covers"]).sum()) if not planted else int(d["covers"].sum())
        out[e] = rate(k, len(d))
    return out


def did_summary(runs: pd.DataFrame, planted: bool) -> dict:
    """Per test: false-positive rate (no effect) or coverage (planted effect), with MC error."""
    out = {}
    for col in ("cluster", "cluster_z", "nb_model", "wild"):
        k = int(runs[col].sum())
        out[col] = rate(len(runs) - k if planted else k, len(runs))
    return out
