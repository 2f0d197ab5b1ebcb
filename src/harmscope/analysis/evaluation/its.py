"""Interrupted time series for one area: quasi-Poisson segmented regression with seasonality.

log E[Y_t] = b0 + b1 t + b2 D_t [+ b3 (t - T0) D_t] + seasonality (b3 optional, off by default)

t counts real calendar months, so a gap in the data (2024-05..12 here) stretches the time axis
instead of being silently closed. Seasonality: with a ``reference`` series (the rest of the
force) its log is an offset, which carries the seasonal shape and force-wide shocks (a
recording change, a hot summer) that a single short series cannot separate from an effect.
Without one, a single annual harmonic pair stands in for twelve month dummies, because a
short series cannot support twelve seasonal parameters.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from harmscope.analysis.evaluation._threads import single_thread
from harmscope.errors import HarmscopeError


def its_fit(series: pd.DataFrame, start: pd.Timestamp, *, slope_change: bool = False) -> dict:
    """series: columns month, count (and optionally reference). IRR over the post period.

    By default the interruption is a level change only (b3 = 0): with 2-10 post months the
    slope-change term is poorly estimated and, on 300 placebo schemes in the Kent data, raised
    the false-positive rate from 5.3% to 7.3% at alpha 0.05. ``slope_change=True`` adds it.
    """
    s = series.sort_values("month").reset_index(drop=True)
    n_pre = int((s["month"] < start).sum())
    n_post = int((s["month"] >= start).sum())
    if n_pre < 6 or n_post < 1:
        raise HarmscopeError(
            f"interrupted time series needs >= 6 months before and 1 after {start:%Y-%m} "
            f"(have {n_pre} and {n_post})",
            where="start",
            fix="choose another start month, or use the DiD / synthetic control methods",
        )
    t = (s["month"].dt.year * 12 + s["month"].dt.month).to_numpy(dtype=float)
    t0 = float(start.year * 12 + start.month)
    d = (t >= t0).astype(float)
    mo = s["month"].dt.month.to_numpy(dtype=float)
    cols = [np.ones_like(t), (t - t0) / 12.0, d]
    if slope_change:
        cols.append(d * (t - t0) / 12.0)
    n_int = len(cols)  # the interruption terms are columns 2..n_int-1
    offset = None
    if "reference" in s and (s["reference"] > 0).all():
        offset = np.log(s["reference"].to_numpy(dtype=float))
        seasonality = "offset: log of the rest of the force's monthly count"
    else:
        cols += [np.sin(2 * np.pi * mo / 12), np.cos(2 * np.pi * mo / 12)]
        seasonality = "one annual harmonic (sin, cos)"
    X = np.column_stack(cols)
    y = s["count"].to_numpy(dtype=float)
    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        res = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    post_rel = ((t - t0) / 12.0)[d == 1]
    contrast = np.zeros(X.shape[1])
    contrast[2] = 1.0
    if slope_change:
        contrast[3] = float(post_rel.mean())
    b = float(contrast @ res.params)
    se = float(np.sqrt(contrast @ res.cov_params() @ contrast))
    df_t = max(int(res.df_resid), 1)
    tcrit = float(stats.t.ppf(0.975, df_t))
    p = float(2 * stats.t.sf(abs(b / se), df_t)) if se > 0 else float("nan")
    # Counterfactual: the same fit with the interruption terms switched off.
    Xc = X.copy()
    Xc[:, 2:n_int] = 0.0
    cf = np.exp(Xc @ res.params + (offset if offset is not None else 0.0))
    b1, se1 = float(res.params[1]), float(res.bse[1])
    return {
        "method": "its",
        "irr": float(np.exp(b)),
        "irr_ci": [float(np.exp(b - tcrit * se)), float(np.exp(b + tcrit * se))],
        "p_value": p,
        "log_irr": b,
        "se": se,
        "df": df_t,
        "scale": float(res.scale),
        "seasonality": seasonality,
        "pre_trend_pct_per_month": float(100 * (np.exp(b1 / 12) - 1)),
        "pre_trend_p": float(2 * stats.t.sf(abs(b1 / se1), df_t)) if se1 > 0 else None,
        "series": pd.DataFrame({"month": s["month"], "observed": y, "counterfactual": cf}),
    }
