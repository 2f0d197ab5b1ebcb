"""The fast placebo path (issue 18) gives the figures the old one gave.

What changed, and what each test holds it to:
- the DiD's Poisson GLM on dense area and month dummies became a two-way fixed-effects solver
  (:mod:`harmscope.analysis.evaluation.fepois`): pinned against statsmodels' GLM on real and
  simulated panels (coefficient, cluster-robust and model-based SE to 1e-6 relative);
- the months x area matrices, noise model and matching features are built once per run
  (:mod:`harmscope.analysis.evaluation.shared`): pinned against the ``pivot_table`` they replace;
- matching picks rows by position: pinned against the old pandas implementation, kept below;
- the rank test's fixed-seed normals are drawn once (memoised): the same number as a fresh draw;
- schemes are drawn first and evaluated on two processes: the whole placebo table (estimates,
  intervals, p-values, false-positive rates) equals the old one-at-a-time loop, kept below as
  :func:`_reference_placebos` and run with statsmodels' dense-dummy GLM and no shared state.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from harmscope.analysis.evaluation import power
from harmscope.analysis.evaluation._threads import single_thread
from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.did import _design, did_fit
from harmscope.analysis.evaluation.evaluate import evaluate_design, load_panels, synth_units
from harmscope.analysis.evaluation.fepois import fe_poisson
from harmscope.analysis.evaluation.matching import FEATURES, _smd, match_comparisons, pre_features
from harmscope.analysis.evaluation.placebo import (
    candidate_starts,
    plant,
    run_placebos,
    summarise,
)
from harmscope.analysis.evaluation.shared import Shared

FORCE = "Kent Police"
START = pd.Timestamp("2025-07-01")
RTOL = 1e-6


@pytest.fixture(scope="module")
def panels(all_store):
    return load_panels(all_store)


@pytest.fixture(scope="module")
def kent(panels):
    return sorted(panels.lsoa.loc[panels.lsoa["force"] == FORCE, "area"].unique())


def _statsmodels(y, X, groups):
    # one BLAS thread: a dense GLM spread over every core of a busy machine is 10-30x slower
    with warnings.catch_warnings(), single_thread():
        warnings.simplefilter("ignore")
        cl = sm.GLM(y, X, family=sm.families.Poisson()).fit(
            cov_type="cluster", cov_kwds={"groups": groups}
        )
        mb = sm.GLM(y, X, family=sm.families.Poisson()).fit()
    return float(cl.params[-1]), float(cl.bse[-1]), float(mb.bse[-1]), cl.mu


def _check_fe(df: pd.DataFrame, x: np.ndarray) -> None:
    y = df["count"].to_numpy(dtype=float)
    area, month = pd.factorize(df["area"])[0], pd.factorize(df["month"])[0]
    b, se_cl, se_mb, mu = _statsmodels(y, _design(df, {"x": x}), area)
    fit = fe_poisson(y, area, month, x)
    assert fit.beta == pytest.approx(b, rel=RTOL, abs=1e-9)
    assert fit.cluster_se(area) == pytest.approx(se_cl, rel=RTOL)
    assert fit.se == pytest.approx(se_mb, rel=RTOL)
    np.testing.assert_allclose(fit.mu, mu, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fe_poisson_is_the_dense_dummy_glm_on_real_kent_panels(panels, kent, seed):
    rng = np.random.default_rng(seed)
    areas = list(rng.choice(kent, 120, replace=False))
    df = panels.lsoa[panels.lsoa["area"].isin(areas)].reset_index(drop=True)
    start = candidate_starts(panels)[seed * 3]
    treated = df["area"].isin(areas[:30]).to_numpy(dtype=float)
    _check_fe(df, treated * (df["month"] >= start).to_numpy(dtype=float))
    # the pre-trend regressor too: a continuous x
    t = (df["month"].dt.year * 12 + df["month"].dt.month).to_numpy(dtype=float)
    _check_fe(df, treated * (t - t.mean()))


@pytest.mark.parametrize("seed", [3, 4])
def test_fe_poisson_is_the_dense_dummy_glm_on_simulated_panels(seed):
    """Unbalanced (missing cells), areas with no events at all, and a large true effect."""
    rng = np.random.default_rng(seed)
    n_a, n_t = 60, 14
    a = rng.normal(1.0, 1.0, n_a)
    a[:3] = -30.0  # three areas that never record a crime
    m = rng.normal(0.0, 0.3, n_t)
    grid = pd.MultiIndex.from_product([range(n_a), range(n_t)], names=["area", "month"])
    df = grid.to_frame(index=False).sample(frac=0.9, random_state=seed).reset_index(drop=True)
    df["area"] = "A" + df["area"].astype(str).str.zfill(3)
    df["month"] = pd.Timestamp("2025-01-01") + pd.to_timedelta(df["month"] * 31, unit="D")
    codes = df["area"].str[1:].astype(int).to_numpy()
    month = pd.factorize(df["month"], sort=True)[0]
    x = ((codes < 20) & (month >= 8)).astype(float)
    mu = np.exp(a[codes] + m[month] - 0.7 * x)
    df["count"] = rng.negative_binomial(2.0, 2.0 / (2.0 + mu)).astype(float)
    _check_fe(df, x)


def test_did_fit_with_the_fe_solver_matches_statsmodels_on_every_path(panels, kent):
    """Clustered (30 treated), the wild bootstrap (4 treated; its conventional SE feeds the
    interval search) and the negative-binomial path (1 treated), with the pre-trend check."""
    rng = np.random.default_rng(7)
    areas = list(rng.choice(kent, 120, replace=False))
    for n_tr in (30, 4, 1):
        treated, comps = areas[:n_tr], areas[n_tr : n_tr + 3 * n_tr]
        fast = did_fit(panels.lsoa, treated, comps, START, solver="fe")
        slow = did_fit(panels.lsoa, treated, comps, START, solver="glm")
        for key in ("log_irr", "se", "p_value", "pre_trend_p", "alpha"):
            assert fast[key] == pytest.approx(slow[key], rel=RTOL, abs=1e-9), (n_tr, key)
        np.testing.assert_allclose(fast["irr_ci"], slow["irr_ci"], rtol=RTOL)
        np.testing.assert_allclose(
            fast["series"]["counterfactual"], slow["series"]["counterfactual"], rtol=RTOL
        )


def test_shared_matrices_are_the_pivot_tables_they_replace(panels, kent):
    rng = np.random.default_rng(4)
    shared = Shared(panels)
    for planted_reduction in (0.0, 0.4):
        areas = list(rng.choice(kent, 30, replace=False))
        design = Design("lsoa", areas, [a for a in kent if a not in set(areas)], FORCE)
        use = plant(panels, areas, START, planted_reduction, rng) if planted_reduction else panels
        old = synth_units(use, design, seed=5)
        new = synth_units(use, design, seed=5, shared=shared)
        for a, b in zip(old, new, strict=True):
            if isinstance(a, pd.DataFrame):
                pd.testing.assert_frame_equal(a, b, check_names=False, check_freq=False)
            else:
                assert a == b


def _old_match(feats, treated, *, k=3, exclude_within_m=1000.0, pool=None):
    """match_comparisons as it was before issue 18 (pandas label look-ups), the reference."""
    treated = [a for a in treated if a in feats.index]
    cand = feats.drop(index=treated)
    if pool is not None:
        cand = cand[cand.index.isin(pool)]
    if exclude_within_m and feats.loc[treated, "lat"].notna().any():
        lat0 = np.radians(feats.loc[treated, "lat"].to_numpy(dtype=float))
        lon0 = np.radians(feats.loc[treated, "lon"].to_numpy(dtype=float))
        lat1 = np.radians(cand["lat"].to_numpy(dtype=float))[:, None]
        lon1 = np.radians(cand["lon"].to_numpy(dtype=float))[:, None]
        x = (lon1 - lon0) * np.cos((lat1 + lat0) / 2)
        d = 6_371_000 * np.sqrt(x**2 + (lat1 - lat0) ** 2)
        cand = cand[~(np.nan_to_num(d, nan=np.inf).min(axis=1) < exclude_within_m)]
    used = [f for f in FEATURES if feats.loc[treated, f].notna().mean() >= 0.7]
    cand = cand.dropna(subset=["pre_level", "pre_trend"])
    fill = cand[used].mean()
    feats = feats.copy()
    feats[used] = feats[used].fillna(fill)
    cand = cand.copy()
    cand[used] = cand[used].fillna(fill)
    allx = pd.concat([feats.loc[treated, used], cand[used]]).to_numpy(dtype=float)
    inv = np.linalg.pinv(np.cov(allx, rowvar=False) + 1e-9 * np.eye(len(used)))
    xt, xc = feats.loc[treated, used].to_numpy(dtype=float), cand[used].to_numpy(dtype=float)
    diff = xt[:, None, :] - xc[None, :, :]
    dist = np.einsum("ijk,kl,ijl->ij", diff, inv, diff)
    chosen, taken = [], np.zeros(len(cand), dtype=bool)
    for _ in range(k):
        for i in range(len(treated)):
            j = int(np.argmin(np.where(taken, np.inf, dist[i])))
            taken[j] = True
            chosen.append(j)
    comps = list(cand.index[chosen])
    rows = [
        {
            "feature": f,
            "used_in_matching": f in used,
            "treated_mean": float(feats.loc[treated, f].mean()),
            "pool_mean": float(cand[f].mean()),
            "matched_mean": float(feats.loc[comps, f].mean()),
            "smd_before": _smd(feats.loc[treated, f], cand[f]),
            "smd_after": _smd(feats.loc[treated, f], feats.loc[comps, f]),
        }
        for f in FEATURES
    ]
    return comps, pd.DataFrame(rows)


def test_matching_by_position_picks_what_the_label_lookups_picked(panels, kent):
    rng = np.random.default_rng(9)
    for start in candidate_starts(panels)[:3]:
        feats = pre_features(panels.lsoa_other, start, panels.covariates)
        for n_tr in (30, 5):
            treated = list(rng.choice(kent, n_tr, replace=False))
            pool = [a for a in kent if a not in set(treated)]
            comps, bal = match_comparisons(feats, treated, pool=pool)
            ref_comps, ref_bal = _old_match(feats, treated, pool=pool)
            assert comps == ref_comps
            pd.testing.assert_frame_equal(bal, ref_bal)
            assert match_comparisons(feats, treated, pool=pool, balance=False) == (comps, None)


def test_memoised_rank_test_shift_is_a_fresh_draw():
    power.rank_test_shift.cache_clear()
    fresh = power.rank_test_shift.__wrapped__(99, 0.8)
    assert power.rank_test_shift(99, 0.8) == fresh
    assert power.rank_test_shift(99, 0.8) == fresh  # from the memo
    assert power.rank_test_shift.cache_info().hits >= 1


def _reference_placebos(panels, n, *, seed, methods, force, reduction=0.0, at_mde=False):
    """The placebo loop as it was before issue 18: one scheme at a time in this process,
    every matrix, noise model and feature rebuilt per scheme, the rank test's normals drawn
    afresh, and the DiD fitted by statsmodels' GLM on dense dummies."""
    from harmscope.analysis.evaluation.evaluate import did_mde, noise_model

    rng = np.random.default_rng(seed)
    pool = sorted(set(panels.lsoa.loc[panels.lsoa["force"] == force, "area"]))
    starts = candidate_starts(panels)
    rows, noise = [], None
    for i in range(n):
        areas = list(rng.choice(pool, 30, replace=False))
        start = starts[int(rng.integers(len(starts)))]
        design = Design("lsoa", areas, [a for a in pool if a not in set(areas)], force)
        red = reduction
        if at_mde:
            p = panels.lsoa
            noise = noise or noise_model(p, design)
            pre = p[(p["month"] < start) & p["area"].isin(set(areas))].groupby("area")["count"]
            m0 = int((pd.Series(sorted(p["month"].unique())) < start).sum())
            m1 = p["month"].nunique() - m0
            red = did_mde(pre.mean().to_numpy(), *noise, m0, m1, 3, len(areas)) or 0.0
        use = plant(panels, areas, start, red, rng) if red > 0 else panels
        power.rank_test_shift.cache_clear()
        res = evaluate_design(
            use,
            design,
            start,
            methods=methods,
            details=False,
            seed=int(rng.integers(1 << 30)),
            solver="glm",
        )
        for r in res:
            lo, hi = r.get("irr_ci") or [np.nan, np.nan]
            rows.append(
                {
                    "run": i,
                    "method": r["method"],
                    "start": start.date().isoformat(),
                    "planted_reduction": red,
                    "irr": r.get("irr"),
                    "irr_low": lo,
                    "irr_high": hi,
                    "p_value": r.get("p_value"),
                    "mde": r.get("mde"),
                    "significant": bool(r.get("p_value") is not None and r["p_value"] < 0.05),
                    "detected_reduction": bool(
                        r.get("p_value") is not None
                        and r["p_value"] < 0.05
                        and (r.get("irr") or 1) < 1
                    ),
                    "covers_truth": bool(lo <= 1 - red <= hi) if np.isfinite(lo) else False,
                    "error": r.get("error"),
                }
            )
    return pd.DataFrame(rows)


def _same_runs(new: pd.DataFrame, ref: pd.DataFrame) -> None:
    assert list(new.columns) == list(ref.columns)
    for col in ref.columns:
        if ref[col].dtype.kind == "f":
            np.testing.assert_allclose(new[col], ref[col], rtol=RTOL, err_msg=col)
        else:
            assert new[col].tolist() == ref[col].tolist(), col


@pytest.mark.parametrize(
    "kw",
    [
        {"n": 8, "seed": 3, "methods": ("did", "synth", "its")},
        {"n": 6, "seed": 2, "methods": ("did", "synth"), "reduction": 0.3},
        {"n": 6, "seed": 5, "methods": ("did",), "at_mde": True},
    ],
    ids=["null", "planted", "at_mde"],
)
def test_placebo_runs_equal_the_old_one_at_a_time_loop(panels, kw):
    ref = _reference_placebos(panels, force=FORCE, **kw)
    at_mde = kw.pop("at_mde", False)
    n = kw.pop("n")
    new = run_placebos(panels, n, force=FORCE, reduction_at_mde=at_mde, workers=2, **kw)
    _same_runs(new, ref)
    cols = ["method", "runs", "significant_rate", "detection_rate", "coverage"]
    pd.testing.assert_frame_equal(summarise(new)[cols], summarise(ref)[cols])


def test_placebo_rows_do_not_depend_on_the_number_of_processes(panels):
    one = run_placebos(panels, 6, seed=8, force=FORCE, workers=1)
    two = run_placebos(panels, 6, seed=8, force=FORCE, workers=2)
    pd.testing.assert_frame_equal(one, two)
