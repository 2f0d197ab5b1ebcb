"""Minimum detectable effects (MDE) before a scheme starts: "could we even tell?".

DiD (two groups of counts, log IRR): with S1 = sum of the treated areas' monthly means and
S2 = the sum of their squares, an aggregate's log count has variance about
v = 1/S1 + alpha * S2 / S1^2 (negative binomial, NB2 overdispersion alpha estimated from the
data). The DiD log IRR averages m0 months before and m1 after, for treated and for k matched
comparison areas per treated area, so

    Var(log IRR) = v_T (1/m0 + 1/((1 - d) m1)) + (v_T / k)(1/m0 + 1/m1)

and the MDE is the reduction d with |log(1 - d)| = (z_{1-a/2} + z_{power}) * SE (Bloom 1995).
Synthetic control with placebo-in-space inference rejects when rank / (J + 1) <= alpha, so its
MDE asks for the shift that beats enough of J null placebos with the stated power (Gaussian
approximation, Monte Carlo with a fixed seed); the standard error of its log IRR is the robust
spread of the placebo units' own estimates.
"""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
from scipy import optimize, stats


def overdispersion(panel: pd.DataFrame) -> float:
    """NB2 alpha from area and (per-force) month effects, by the method of moments.

    For a complete two-way table the Poisson main-effects MLE is the independence fit
    mu_it = y_i. * y_.t / y_.., so no large GLM is needed.
    """
    alphas_num, alphas_den = 0.0, 0.0
    for _, d in panel.groupby("force"):
        tab = d.pivot_table(index="area", columns="month", values="count", aggfunc="sum").fillna(0)
        y = tab.to_numpy(dtype=float)
        tot = y.sum()
        if tot <= 0:
            continue
        mu = np.outer(y.sum(axis=1), y.sum(axis=0)) / tot
        alphas_num += float(np.sum((y - mu) ** 2 - y))
        alphas_den += float(np.sum(mu**2))
    return max(0.0, alphas_num / alphas_den) if alphas_den > 0 else 0.0


def _z(alpha_level: float, power: float) -> float:
    return float(stats.norm.ppf(1 - alpha_level / 2) + stats.norm.ppf(power))


def group_variance(monthly_means: np.ndarray, alpha: float) -> float:
    """Variance of the log of one month's aggregate count over the given areas."""
    mu = np.asarray(monthly_means, dtype=float)
    s1, s2 = float(mu.sum()), float((mu**2).sum())
    if s1 <= 0:
        return float("inf")
    return 1.0 / s1 + alpha * s2 / s1**2


def mde_did(
    monthly_means: np.ndarray,
    alpha: float,
    m_pre: int,
    m_post: int,
    *,
    k: float = 3.0,
    alpha_level: float = 0.05,
    power: float = 0.8,
    deff: float = 1.0,
    df: int | None = None,
) -> dict:
    """Smallest reduction (fraction) a DiD against k matched areas per treated area detects.

    ``deff`` inflates the variance for serial correlation (see :func:`design_effect`); with
    ``df`` the test is a t test with that many degrees of freedom (clustered SEs).
    """
    v = group_variance(monthly_means, alpha) * deff
    z = (
        _z(alpha_level, power)
        if df is None
        else float(stats.t.ppf(1 - alpha_level / 2, df) + stats.t.ppf(power, df))
    )
    if not np.isfinite(v):
        return {"mde": None, "se_log_irr": None}

    def se(d: float) -> float:
        return float(
            np.sqrt(v * (1 / m_pre + 1 / ((1 - d) * m_post)) + (v / k) * (1 / m_pre + 1 / m_post))
        )

    def gap(d: float) -> float:
        return -np.log(1 - d) - z * se(d)

    if gap(0.999) < 0:
        return {"mde": None, "se_log_irr": se(0.0)}
    d = float(optimize.brentq(gap, 1e-9, 0.999))
    return {"mde": d, "se_log_irr": se(0.0)}


# The shift is a fixed function of its arguments (a fixed seed): drawing the 40,000 x J normals
# again for every evaluation cost a placebo run a fifth of its time.
@functools.lru_cache(maxsize=64)
def rank_test_shift(
    n_placebos: int,
    power: float,
    alpha_level: float = 0.05,
    *,
    seed: int = 20240101,
    draws: int = 40_000,
) -> float | None:
    """Standardised shift mu for which |mu + e| beats enough of J null placebos |e_j| to give
    rank / (J + 1) <= alpha with probability ``power`` (e, e_j standard normal). Memoised:
    the same arguments give the same number (``rank_test_shift.cache_clear()`` forgets)."""
    n_needed = int(np.floor(alpha_level * (n_placebos + 1)))
    if n_needed < 1:
        return None
    rng = np.random.default_rng(seed)
    null = np.abs(rng.standard_normal((draws, n_placebos)))
    # rank <= n_needed  <=>  our |z| exceeds the n_needed-th largest placebo |z|
    thresh = -np.partition(-null, n_needed - 1, axis=1)[:, n_needed - 1]
    noise = rng.standard_normal(draws)

    def f(mu: float) -> float:
        return float(np.mean(np.abs(mu + noise) > thresh)) - power

    return float(optimize.brentq(f, 0.0, 20.0))


def mde_from_se(
    se_log: float,
    *,
    alpha_level: float = 0.05,
    power: float = 0.8,
    n_placebos: int | None = None,
    df: int | None = None,
) -> float | None:
    """MDE (reduction) for an estimator whose log IRR has standard error ``se_log``.

    With ``n_placebos`` the test is the placebo rank test; with ``df`` a t test; otherwise
    the normal test.
    """
    if se_log is None or not np.isfinite(se_log):
        return None
    if n_placebos is not None:
        shift = rank_test_shift(n_placebos, power, alpha_level)
    elif df is not None:
        shift = float(stats.t.ppf(1 - alpha_level / 2, df) + stats.t.ppf(power, df))
    else:
        shift = _z(alpha_level, power)
    if shift is None:
        return None
    return 1 - float(np.exp(-shift * se_log))


def robust_sd(x) -> float:
    """1.4826 x median absolute deviation: a spread that one wild placebo cannot inflate."""
    x = np.asarray(x, dtype=float)
    x = x[np.isfinite(x)]
    if len(x) < 3:
        return float("nan")
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def design_effect(
    panel: pd.DataFrame, alpha: float, *, min_pre: int = 3, min_post: int = 2, by_force: bool = True
) -> float:
    """Empirical inflation of the NB variance of a pre/post contrast (>= 1).

    The NB formula treats months as independent; real areas drift (serial correlation), so a
    pre/post contrast varies more. For every area and every admissible start month, the
    contrast log(post mean / pre mean) minus its force's (``by_force``; otherwise minus all
    areas', so drift between forces counts as noise, as it does when comparisons come from
    other forces) is standardised by the NB formula's standard error; the design effect is the robust variance of those z-scores. Below 1 it is
    set to 1: we never assume less noise than the model.
    """
    months = sorted(panel["month"].unique())
    tab = panel.pivot_table(index="area", columns="month", values="count", aggfunc="sum").fillna(
        0.0
    )
    force = panel.groupby("area")["force"].first().reindex(tab.index)
    if not by_force:
        force = force.map(lambda _: "all")
    if not by_force:
        force = force.map(lambda _: "all")
    y = tab.to_numpy(dtype=float)
    mu = y.mean(axis=1)
    keep = mu >= 1.0  # near-empty areas give degenerate logs
    zs = []
    for i in range(min_pre, len(months) - min_post + 1):
        m0, m1 = i, len(months) - i
        pre, post = y[:, :i].sum(axis=1), y[:, i:].sum(axis=1)
        c = np.log((post + 0.5) / m1) - np.log((pre + 0.5) / m0)
        for f in force.unique():
            sel = (force == f).to_numpy()
            tot_pre, tot_post = pre[sel].sum(), post[sel].sum()
            c[sel] -= np.log(tot_post / m1) - np.log(tot_pre / m0)
        var = (1 / np.maximum(mu, 1e-9) + alpha) * (1 / m0 + 1 / m1)
        zs.append((c / np.sqrt(var))[keep])
    z = np.concatenate(zs) if zs else np.array([])
    return max(1.0, robust_sd(z) ** 2) if len(z) >= 10 else 1.0
