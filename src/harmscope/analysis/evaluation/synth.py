"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with placebo-in-space inference.

Donor weights W are >= 0 and sum to 1: :func:`simplex_weights` solves that quadratic programme
exactly (non-negative least squares for the support, then the equality-constrained KKT system on
it, checked against the KKT conditions). Predictor importance V (diagonal, sums to 1) is chosen
as the Synth package does, to minimise the pre-period outcome MSPE of W*(V): :func:`nested_fit`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.stats import qmc

from harmscope.errors import HarmscopeError

# log10 range searched for each (unnormalised) predictor weight: 1e-6 relative is "off"
_LOG_V_FLOOR = -6.0


def _kkt_polish(a: np.ndarray, b: np.ndarray, w: np.ndarray, tol: float) -> np.ndarray | None:
    """Exact solution on the support of ``w``, or None if it is not the optimum."""
    support = w > tol * max(float(w.max()), 1e-300)
    s = int(support.sum())
    a_s = a[:, support]
    m = np.zeros((s + 1, s + 1))
    m[:s, :s] = a_s.T @ a_s
    m[:s, s] = 1.0
    m[s, :s] = 1.0
    rhs = np.append(a_s.T @ b, 1.0)
    try:
        sol = np.linalg.solve(m, rhs)
    except np.linalg.LinAlgError:  # more donors on the support than the predictors pin down
        sol = np.linalg.lstsq(m, rhs, rcond=None)[0]
    u = sol[:s]
    if u.min() < 0:
        return None
    out = np.zeros_like(w)
    out[support] = u
    # KKT: the gradient a'(a w - b) equals -lambda on the support and is >= -lambda off it
    grad = a.T @ (a @ out - b)
    tol_g = 1e-9 * max(float(np.abs(a.T @ b).max()), float(np.abs(grad).max()), 1e-12)
    lam = grad[support].mean()
    if np.ptp(grad[support]) > tol_g or (grad[~support] - lam).min(initial=0.0) < -tol_g:
        return None
    # never worse than the NNLS answer it refines
    if np.sum((a @ out - b) ** 2) > np.sum((a @ w - b) ** 2) * (1 + 1e-12) + 1e-300:
        return None
    return out


def simplex_weights(x1: np.ndarray, x0: np.ndarray, v: np.ndarray | None = None) -> np.ndarray:
    """argmin_w (x1 - x0 w)' V (x1 - x0 w) subject to w >= 0, sum w = 1 (exact QP).

    x1: (k,) treated predictors; x0: (k, J) donor predictors; v: (k,) diagonal of V.
    Non-negative least squares with the sum-to-one constraint as a heavily weighted extra row
    finds the support; the KKT system on that support then gives the exact optimum (checked
    against the KKT conditions; if the check fails the NNLS answer, exact to ~1e-9, is kept).
    """
    k, j = x0.shape
    v = np.ones(k) if v is None else np.asarray(v, dtype=float)
    sv = np.sqrt(v)
    a = x0 * sv[:, None]
    b = x1 * sv
    lam = 1e4 * max(float(np.abs(a).max()), 1e-12)
    a_aug = np.vstack([a, np.full((1, j), lam)])
    b_aug = np.append(b, lam)
    w, _ = optimize.nnls(a_aug, b_aug, maxiter=50 * j)
    s = w.sum()
    if s <= 0:
        return np.full(j, 1.0 / j)
    w = w / s
    exact = _kkt_polish(a, b, w, 1e-9)
    return w if exact is None else exact


def standardise(x1: np.ndarray, x0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each predictor divided by its standard deviation across all units, as Synth does."""
    allx = np.column_stack([x1, x0])
    sd = allx.std(axis=1, ddof=1)
    sd[~np.isfinite(sd) | (sd == 0)] = 1.0
    return x1 / sd, x0 / sd[:, None]


def regression_v(x1s: np.ndarray, x0s: np.ndarray, z1: np.ndarray, z0: np.ndarray) -> np.ndarray:
    """Synth's default starting V: regress each pre-period outcome on the (standardised)
    predictors across units; V = diag(B B') of the slope matrix B, normalised to sum 1."""
    xs = np.column_stack([x1s, x0s]).T
    design = np.column_stack([np.ones(xs.shape[0]), xs])
    z = np.column_stack([z1, z0]).T
    beta = np.linalg.lstsq(design, z, rcond=None)[0][1:]
    v = np.einsum("ij,ij->i", beta, beta)
    return v / v.sum() if v.sum() > 0 else np.full(len(v), 1.0 / len(v))


@dataclass(frozen=True)
class NestedFit:
    """Donor weights ``w``, predictor weights ``v`` and the pre-period outcome MSPE they give."""

    w: np.ndarray
    v: np.ndarray
    mspe: float
    evaluations: int
    starts: dict[str, float]  # pre-period MSPE at each named start (before the search)
    method: str


def _v_of(theta: np.ndarray) -> np.ndarray:
    v = 10.0 ** (np.asarray(theta, dtype=float) - np.max(theta))
    return v / v.sum()


def _theta_of(v: np.ndarray) -> np.ndarray:
    v = np.asarray(v, dtype=float)
    return np.clip(np.log10(np.maximum(v / v.max(), 1e-300)), _LOG_V_FLOOR, 0.0)


def _named_starts(x1s, x0s, z1, z0, extra) -> dict[str, np.ndarray]:
    k = len(x1s)
    starts = {"equal": np.full(k, 1.0 / k), "regression": regression_v(x1s, x0s, z1, z0)}
    for i in range(k):
        corner = np.full(k, 10.0**_LOG_V_FLOOR)
        corner[i] = 1.0
        starts[f"only_{i}"] = corner / corner.sum()
    for name, v in (extra or {}).items():
        starts[name] = np.asarray(v, dtype=float) / np.sum(v)
    return starts


def nested_fit(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    seed: int = 0,
    generations: int = 60,
    population: int = 32,
    polish_evals: int | None = None,
    extra_starts: dict[str, np.ndarray] | None = None,
) -> NestedFit:
    """Choose V (diagonal, >= 0, sums to 1) to minimise the pre-period outcome MSPE of W*(V).

    x1 (k,), x0 (k, J): predictors; z1 (T0,), z0 (T0, J): pre-period outcomes. Predictors are
    standardised first (:func:`standardise`). The MSPE surface in V is flat in patches and has
    many local minima (Kuosmanen et al. 2021 show the optimum often sits at a corner), so the
    outer search is global: differential evolution over log10 V in [-6, 0]^k (seeded, so
    deterministic) whose first population holds the named starts (equal weights, Synth's
    regression-based V, each predictor alone, any ``extra_starts``) and seeded Sobol points,
    then a bounded Nelder-Mead polish of the best point (``polish_evals`` loss evaluations,
    default 200 k). The inner W is the exact QP.
    """
    x1s, x0s = standardise(np.asarray(x1, float), np.asarray(x0, float))
    z1, z0 = np.asarray(z1, float), np.asarray(z0, float)
    count = [0]

    def loss(theta: np.ndarray) -> float:
        count[0] += 1
        w = simplex_weights(x1s, x0s, _v_of(theta))
        return float(np.mean((z1 - z0 @ w) ** 2))

    named = _named_starts(x1s, x0s, z1, z0, extra_starts)
    k = len(x1s)
    init = [_theta_of(v) for v in named.values()]
    m = int(np.ceil(np.log2(max(population - len(init), 4))))
    fill = qmc.Sobol(k, scramble=True, seed=seed).random_base2(m)
    n_fill = len(fill)
    init = np.vstack([init, _LOG_V_FLOOR * (1.0 - fill)])
    start_loss = {name: loss(_theta_of(v)) for name, v in named.items()}
    de = optimize.differential_evolution(
        loss,
        [(_LOG_V_FLOOR, 0.0)] * k,
        init=init,
        seed=seed,
        maxiter=generations,
        tol=1e-10,
        polish=False,
    )
    polish = optimize.minimize(
        loss,
        de.x,
        method="Nelder-Mead",
        bounds=[(_LOG_V_FLOOR, 0.0)] * k,
        options={"maxfev": polish_evals or 200 * k, "xatol": 1e-6, "fatol": 1e-12},
    )
    theta = polish.x if polish.fun <= de.fun else de.x
    v = _v_of(theta)
    w = simplex_weights(x1s, x0s, v)
    return NestedFit(
        w=w,
        v=v,
        mspe=float(np.mean((z1 - z0 @ w) ** 2)),
        evaluations=count[0],
        starts=start_loss,
        method=(
            "V: differential evolution over log10 V (first population: equal, Synth regression-"
            f"based, each predictor alone, {n_fill} Sobol points; seed {seed}, {generations} "
            "generations) then Nelder-Mead polish; W: exact simplex QP; predictors standardised"
        ),
    )


def nested_weights(
    x1: np.ndarray,
    x0: np.ndarray,
    z1: np.ndarray,
    z0: np.ndarray,
    *,
    seed: int = 0,
    generations: int = 60,
) -> tuple[np.ndarray, np.ndarray]:
    """(W, V) of :func:`nested_fit`."""
    fit = nested_fit(x1, x0, z1, z0, seed=seed, generations=generations)
    return fit.w, fit.v


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
        pu_y = pu.to_numpy(dtype=float)
        for j, col in enumerate(pu.columns):
            r = _one(pu_y[:, j], y_d, pre)
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
