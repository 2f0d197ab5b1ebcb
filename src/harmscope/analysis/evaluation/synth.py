"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo-in-space inference.

Weights are >= 0 and sum to 1 (scipy SLSQP). Predictor importance V is either given or chosen,
as in the Synth package, to minimise the pre-period outcome MSPE (nested optimisation).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize

from harmscope.errors import HarmscopeError


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """argmin_w (x1 - x0 w)' V (x1 - x0 w) subject to w >= 0, sum w = 1.

    x1: (k,) treated predictors; x0: (k, J) donor predictors; v: (k,) diagonal of V.
    """
    k, j = x0.shape
    v = np.ones(k) if v is None else np.asarray(v, dtype=float)
    sv = np.sqrt(v)
    a = x0 * sv[:, None]
    b = x1 * sv
    # Non-negative least squares with the sum-to-one constraint as a heavily weighted extra
    # row: exact to ~1e-9 here and 100x faster than SLSQP (thousands of placebo fits).
    lam = 1e4 * max(float(np.abs(a).max()), 1e-12)
    a_aug = np.vstack([a, np.full((1, j), lam)])
    b_aug = np.append(b, lam)
    w, _ = optimize.nnls(a_aug, b_aug, maxiter=50 * j)
    s = w.sum()
    return w / s if s > 0 else np.full(j, 1.0 / j)


def nested_weights(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    seed: int = 0,
    starts: int = 4,
) -> tuple[np.ndarray, np.ndarray]:
    """Choose V (diagonal, sums to 1) to minimise the pre-period outcome MSPE of W*(V).

    Predictors are scaled to unit variance across units first, as Synth does. Nelder-Mead on
    a softmax parameterisation from several starts (the surface has local minima).
    """
    allx = np.column_stack([x1, x0])
    sd = allx.std(axis=1, ddof=1)
    sd[sd == 0] = 1.0
    x1s, x0s = x1 / sd, x0 / sd[:, None]

    def loss_v(theta):
        v = np.exp(theta - theta.max())
        v /= v.sum()
        w = simplex_weights(x1s, x0s, v)
        return float(np.mean((z1 - z0 @ w) ** 2)), w, v

    rng = np.random.default_rng(seed)
    best = None
    k = len(x1)
    inits = [np.zeros(k)] + [rng.normal(0, 1.5, k) for _ in range(starts - 1)]
    for th0 in inits:
        res = optimize.minimize(
            lambda th: loss_v(th)[0],
            th0,
            method="Nelder-Mead",
            options={"maxiter": 600, "xatol": 1e-4, "fatol": 1e-8},
        )
        loss, w, v = loss_v(res.x)
        if best is None or loss < best[0]:
            best = (loss, w, v)
    return best[1], best[2]


def _normalise(mat: pd.DataFrame, pre_mask: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
    base = mat[pre_mask].mean()
    return mat / base.replace(0, np.nan), base


def _one(y_t: np.ndarray, y_d: np.ndarray, pre: np.ndarray) -> dict:
    w = simplex_weights(y_t[pre], y_d[pre])
    synth = y_d @ w
    gap = y_t - synth
    post = ~pre
    rm_pre = float(np.sqrt(np.mean(gap[pre] ** 2)))
    rm_post = float(np.sqrt(np.mean(gap[post] ** 2)))
    return {
        "w": w,
        "synth": synth,
        "rmspe_pre": rm_pre,
        "rmspe_post": rm_post,
        "ratio": rm_post / rm_pre if rm_pre > 0 else np.inf,
        "log_ratio": float(np.log(y_t[post].sum() / synth[post].sum())),
    }


def synth_fit(
    wide_counts: pd.DataFrame,
    treated: str,
    donors: list[str],
    start: pd.Timestamp,
    *,
    placebo_units: pd.DataFrame | None = None,
    alpha_level: float = 0.05,
) -> dict:
    """Synthetic control on series indexed to each unit's pre-period mean.

    Indexing lets an aggregate of a few LSOAs borrow from whole districts of other forces:
    the synthetic unit reproduces the treated unit's *shape* over time, and its counterfactual
    count is the synthetic index times the treated unit's own pre-period mean.

    Placebos: by default each donor in turn, fitted from the other donors (Abadie et al.
    2010). ``placebo_units`` (months x units, not donors) replaces them with untreated units
    built like the treated one (for example random LSOA sets of the same size), which are
    exchangeable with it: a sum of 30 LSOAs is far noisier than a whole district, so donor
    districts would make a poor reference distribution for it.

    The effect is the log of observed over synthetic counts in the post months, centred on the
    placebos' median; p = rank of its size among the placebos' / (J + 1); the 95% interval is
    the set of IRRs that test does not reject. The ADH post/pre RMSPE-ratio rank is reported
    too (``rmspe_rank_p``): on the Kent data it detected a planted 20% cut in 27% of 60
    schemes, against 78% for the signed effect (same schemes): short noisy series make the
    ratio weak.
    """
    pre = np.asarray(wide_counts.index < start)
    post = ~pre
    if pre.sum() < 3 or post.sum() < 1:
        raise HarmscopeError(
            f"synthetic control needs >= 3 months before and 1 after {start:%Y-%m}",
            where="start",
            fix="choose a start with more months of data on both sides",
        )
    units = [treated] + [d for d in donors if d != treated]
    mat, base = _normalise(wide_counts[units], pre)
    mat = mat.dropna(axis=1)
    if treated not in mat:
        raise HarmscopeError(
            "the treated areas have no crimes of this type before the start",
            where="areas",
            fix="choose other crime types or a longer pre-period",
        )
    donors = [d for d in mat.columns if d != treated]
    if len(donors) < 5:
        raise HarmscopeError(
            f"only {len(donors)} donor areas", where="donors", fix="ingest the comparison forces"
        )
    y_t = mat[treated].to_numpy(dtype=float)
    y_d = mat[donors].to_numpy(dtype=float)
    main = _one(y_t, y_d, pre)
    placebos = []
    if placebo_units is not None:
        pu, _ = _normalise(placebo_units.reindex(wide_counts.index).fillna(0.0), pre)
        pu = pu.dropna(axis=1)
        for col in pu.columns:
            r = _one(pu[col].to_numpy(dtype=float), y_d, pre)
            placebos.append(
                {
                    "area": str(col),
                    **{k: r[k] for k in ("rmspe_pre", "rmspe_post", "ratio", "log_ratio")},
                }
            )
    else:
        for j, d in enumerate(donors):
            keep = [i for i in range(len(donors)) if i != j]
            r = _one(y_d[:, j], y_d[:, keep], pre)
            placebos.append(
                {"area": d, **{k: r[k] for k in ("rmspe_pre", "rmspe_post", "ratio", "log_ratio")}}
            )
    plc = pd.DataFrame(placebos)
    ratios = plc["ratio"].to_numpy(dtype=float)
    n = len(plc) + 1
    # ADH statistic: rank of the post/pre RMSPE ratio among all units (reported alongside).
    rank_ratio = 1 + int((ratios >= main["ratio"]).sum())
    # Main inference: the signed effect (log of observed / synthetic over the post months)
    # against the same statistic for the placebos. Centring on the placebos' median removes
    # what every untreated unit shows too (a force-wide change the donors do not share).
    e = plc["log_ratio"].to_numpy(dtype=float)
    e = e[np.isfinite(e)]
    centre = float(np.median(e))
    lr = main["log_ratio"] - centre
    dev = np.abs(e - centre)
    rank = 1 + int((dev >= abs(lr)).sum())
    # The interval is exactly the set of IRRs this rank test does not reject: |lr - log(theta)|
    # may not exceed the m-th largest placebo deviation, m = floor(alpha (J + 1)).
    m = int(np.floor(alpha_level * (len(e) + 1)))
    if m >= 1:
        d_m = float(np.sort(dev)[::-1][m - 1])
        irr_ci = [float(np.exp(lr - d_m)), float(np.exp(lr + d_m))]
    else:
        irr_ci = [0.0, float("inf")]
    b = float(base[treated])
    weights = pd.DataFrame({"donor": donors, "weight": main["w"]}).sort_values(
        "weight", ascending=False
    )
    series = pd.DataFrame(
        {
            "month": wide_counts.index,
            "observed": wide_counts[treated].to_numpy(dtype=float),
            # the synthetic path, shifted by what the placebos show over the post months
            "counterfactual": main["synth"] * b * np.where(post, np.exp(centre), 1.0),
        }
    )
    return {
        "method": "synthetic_control",
        "irr": float(np.exp(lr)),
        "irr_ci": irr_ci,
        "p_value": rank / (len(e) + 1),
        "rank": rank,
        "n_units": len(e) + 1,
        "irr_uncorrected": float(np.exp(main["log_ratio"])),
        "placebo_median_irr": float(np.exp(centre)),
        "rmspe_rank": rank_ratio,
        "rmspe_rank_p": rank_ratio / n,
        "rmspe_pre": main["rmspe_pre"],
        "rmspe_post": main["rmspe_post"],
        "rmspe_ratio": main["ratio"],
        "weights": weights[weights["weight"] > 1e-4].reset_index(drop=True),
        "placebos": plc,
        "series": series,
    }
