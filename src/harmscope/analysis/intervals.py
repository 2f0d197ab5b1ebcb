"""Interval and test helpers for proportions, Poisson counts and rate ratios, shared by the
analyses: the one Holm adjustment (:func:`holm`) and the one Poisson interval (:func:`garwood`)
of the codebase live here.

Everything here works on counts (the small aggregated frames the store hands back), is
vectorised over numpy arrays, and is pinned in the tests against statsmodels.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

Z95 = float(stats.norm.ppf(0.975))


def _z(alpha: float) -> float:
    if not 0 < alpha < 1:
        raise ValueError(f"alpha must lie strictly between 0 and 1, got {alpha}")
    return float(stats.norm.ppf(1 - alpha / 2))


def wilson(count, nobs, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion (arrays or scalars).

    Chosen over the Wald interval because it keeps its coverage for small n and for
    proportions near 0 or 1 (rates from small groups and rare outcomes). Where ``nobs`` is
    0 the interval is undefined and comes back as NaN. Matches
    ``statsmodels.stats.proportion.proportion_confint(method="wilson")``.
    """
    k = np.asarray(count, dtype=float)
    n = np.asarray(nobs, dtype=float)
    if np.any(k < 0) or np.any(n < 0) or np.any(k > n):
        raise ValueError("counts must satisfy 0 <= count <= nobs")
    z = _z(alpha)
    z2 = z * z
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        denom = 1 + z2 / n
        centre = (p + z2 / (2 * n)) / denom
        half = z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / denom
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    if low.ndim == 0:
        return float(low), float(high)  # type: ignore[return-value]
    return low, high


def add_rate(
    frame: pd.DataFrame, count: str, nobs: str, name: str, alpha: float = 0.05
) -> pd.DataFrame:
    """Add ``name`` (count/nobs) and ``name_low``/``name_high`` Wilson bounds to ``frame``."""
    k = frame[count].to_numpy(dtype=float)
    n = frame[nobs].to_numpy(dtype=float)
    low, high = wilson(k, n, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        frame[name] = np.where(n > 0, k / n, np.nan)
    frame[f"{name}_low"] = low
    frame[f"{name}_high"] = high
    return frame


def rate_with_ci(count: int, nobs: int, alpha: float = 0.05) -> tuple[float | None, list]:
    """A single proportion and its Wilson interval as JSON-ready values (None when n = 0)."""
    if nobs <= 0:
        return None, [None, None]
    low, high = wilson(count, nobs, alpha)
    return count / nobs, [float(low), float(high)]


def precision_recall(true_pos: int, flagged: int, planted: int) -> dict:
    """Precision (true_pos of ``flagged``) and recall (true_pos of ``planted``) with their
    Wilson 95% bounds, as the flat JSON-ready keys every flag's error table carries (one
    definition, so the network and people transparency records cannot drift apart)."""
    prec, prec_ci = rate_with_ci(true_pos, flagged)
    rec, rec_ci = rate_with_ci(true_pos, planted)
    return {
        "precision": prec,
        "precision_low": prec_ci[0],
        "precision_high": prec_ci[1],
        "recall": rec,
        "recall_low": rec_ci[0],
        "recall_high": rec_ci[1],
    }


def two_proportion_z(k1, n1, k2, n2) -> tuple[np.ndarray, np.ndarray]:
    """Pooled two-proportion z test (two-sided), vectorised.

    Same statistic as ``statsmodels.stats.proportion.proportions_ztest`` with its default
    pooled variance. Returns (z, p); NaN where either group is empty or the pooled rate is 0/1.
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        pooled = (k1 + k2) / (n1 + n2)
        se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        z = np.where(se > 0, (p1 - p2) / se, np.nan)
    p = 2 * stats.norm.sf(np.abs(z))
    return z, p


def newcombe_diff(k1, n1, k2, n2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Newcombe's hybrid score interval for p1 - p2 (Newcombe 1998, method 10).

    Built from the two Wilson intervals, so it behaves for small groups. Matches
    ``statsmodels.stats.proportion.confint_proportions_2indep(method="newcomb")``.
    """
    k1, n1, k2, n2 = (np.asarray(a, dtype=float) for a in (k1, n1, k2, n2))
    l1, u1 = wilson(k1, n1, alpha)
    l2, u2 = wilson(k2, n2, alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        p1, p2 = k1 / n1, k2 / n2
        d = p1 - p2
        low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
        high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return low, high


def holm(pvalues) -> np.ndarray:
    """Holm step-down adjusted p-values (NaNs left as NaN), as statsmodels multipletests."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full_like(p, np.nan)
    ok = ~np.isnan(p)
    if not ok.any():
        return out
    pv = p[ok]
    m = len(pv)
    order = np.argsort(pv)
    adj = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, (m - rank) * pv[idx])
        adj[idx] = min(1.0, running)
    out[ok] = adj
    return out


def rate_ratio_ci(a, n1, b, n2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two rates a/n1 ÷ b/n2 with a log-scale (Katz) interval.

    For event counts against population denominators (searches per 1,000 residents) the
    searches are treated as Poisson counts and the population as fixed, so
    SE(log RR) = sqrt(1/a + 1/b). That is the usual disproportionality interval; it
    ignores error in the population estimate (stated in the method text).
    Returns (ratio, low, high); NaN where a count is zero.
    """
    a, n1, b, n2 = (np.asarray(x, dtype=float) for x in (a, n1, b, n2))
    z = _z(alpha)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (a / n1) / (b / n2)
        se = np.sqrt(1 / a + 1 / b)
        ok = (a > 0) & (b > 0) & (n1 > 0) & (n2 > 0)
        low = np.where(ok, np.exp(np.log(ratio) - z * se), np.nan)
        high = np.where(ok, np.exp(np.log(ratio) + z * se), np.nan)
        ratio = np.where((n1 > 0) & (n2 > 0) & (b > 0), ratio, np.nan)
    return ratio, low, high


def poisson_rate_ci(count: float, exposure: float, alpha: float = 0.05) -> tuple[float, float]:
    """Exact (Garwood) interval for a Poisson rate count/exposure (one rate, as floats)."""
    if exposure <= 0:
        return math.nan, math.nan
    low, high = garwood(count, alpha)
    return float(low / exposure), float(high / exposure)


# -- Poisson counts and weighted sums of them (harm) --------------------------------------------
# Counts are treated as Poisson and populations as fixed. A count gets the exact (Garwood)
# interval; a harm total Σ wᵢnᵢ gets the gamma interval of Fay & Feuer (1997, Stat Med
# 16:791), the standard interval for a weighted sum of Poisson counts (it reduces to Garwood
# when all weights are 1). Neither covers error in the weights or in the population.


def garwood(count, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for a count (arrays): the one Poisson interval of harmscope."""
    n = np.asarray(count, dtype=float)
    low = np.where(n > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(n, 1e-300)) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2
    return low, high


def weighted_poisson_ci(total, sum_w2, w_max, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Fay-Feuer gamma interval for y = Σ wᵢnᵢ with nᵢ ~ Poisson.

    ``total`` = y, ``sum_w2`` = Σ wᵢ²nᵢ (its variance estimate), ``w_max`` = the largest
    weight that could contribute. With every weight 1 this is the Garwood interval.
    """
    y = np.asarray(total, dtype=float)
    v = np.asarray(sum_w2, dtype=float)
    wm = np.asarray(w_max, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shape_lo = np.where(v > 0, 2 * y * y / v, np.nan)
        low = np.where(y > 0, v / (2 * y) * stats.chi2.ppf(alpha / 2, shape_lo), 0.0)
        v2, y2 = v + wm * wm, y + wm
        high = np.where(
            wm > 0, v2 / (2 * y2) * stats.chi2.ppf(1 - alpha / 2, 2 * y2 * y2 / v2), 0.0
        )
    return low, high


def log_ratio_ci(y1, v1, y2, v2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio y1/y2 of two independent weighted Poisson totals, delta-method log interval."""
    y1, v1, y2, v2 = (np.asarray(a, dtype=float) for a in (y1, v1, y2, v2))
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where((y1 > 0) & (y2 > 0), y1 / y2, np.nan)
        se = np.sqrt(v1 / y1**2 + v2 / y2**2)
        return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)
