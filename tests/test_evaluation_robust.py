"""Serial-correlation-robust ITS errors, the wild cluster bootstrap for few treated areas, and
`--plant` with `--placebo` (issue 19). Small seeded versions of the checks that
benchmarks/validate_evaluation.py (section 7) runs at 1,000 simulations each.

Tolerances on simulated rates are Monte Carlo ones: a rate from n runs whose truth is p has
standard error sqrt(p (1 - p) / n), and the tests allow three of them.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from harmscope.analysis.evaluation import coverage as cv
from harmscope.analysis.evaluation.design import Design
from harmscope.analysis.evaluation.did import (
    _design,
    restricted_mu,
    wild_bootstrap,
    wild_p,
    wild_weights,
)
from harmscope.analysis.evaluation.evaluate import evaluate, evaluate_design, load_panels
from harmscope.analysis.evaluation.its import its_fit, newey_west_lags
from harmscope.analysis.evaluation.placebo import placebo_check, plant
from harmscope.cli import main

START = pd.Timestamp("2025-07-01")


def _tol(p: float, n: int) -> float:
    return 3 * float(np.sqrt(p * (1 - p) / n))


@pytest.fixture(scope="module")
def panels(all_store):
    return load_panels(all_store)


@pytest.fixture(scope="module")
def kent(panels):
    return sorted(panels.lsoa.loc[panels.lsoa["force"] == "Kent Police", "area"].unique())


@pytest.fixture(scope="module")
def kent_series(panels, kent):
    """The real violence counts of 30 Kent LSOAs summed by month, with the rest of Kent."""
    areas = set(np.random.default_rng(8).choice(kent, 30, replace=False))
    p = panels.lsoa[panels.lsoa["force"] == "Kent Police"]
    s = p[p["area"].isin(areas)].groupby("month", as_index=False)["count"].sum()
    rest = p[~p["area"].isin(areas)].groupby("month")["count"].sum()
    s["reference"] = s["month"].map(rest).to_numpy()
    return s


# -- ITS ---------------------------------------------------------------------------------------


def test_its_newey_west_se_is_statsmodels_hac_on_real_counts(kent_series):
    r = its_fit(kent_series, START, errors="hac")
    s = kent_series.sort_values("month")
    t = (s["month"].dt.year * 12 + s["month"].dt.month).to_numpy(float)
    t0 = START.year * 12 + START.month
    X = np.column_stack([np.ones_like(t), (t - t0) / 12, (t >= t0).astype(float)])
    y = s["count"].to_numpy(float)
    off = np.log(s["reference"].to_numpy(float))
    assert newey_west_lags(len(y)) == 2 == r["hac_lags"]  # floor(4 (16/100)^(2/9))
    sm_res = sm.GLM(y, X, family=sm.families.Poisson(), offset=off).fit(
        cov_type="HAC", cov_kwds={"maxlags": 2, "use_correction": True}
    )
    assert r["se"] == pytest.approx(float(sm_res.bse[2]), rel=1e-6)
    assert r["log_irr"] == pytest.approx(float(sm_res.params[2]), rel=1e-6)
    # and by hand: Bartlett-weighted score autocovariances, n/(n-k)
    mu = sm_res.mu
    u = X * (y - mu)[:, None]
    S = u.T @ u
    for lag in (1, 2):
        G = u[lag:].T @ u[:-lag]
        S += (1 - lag / 3) * (G + G.T)
    B = np.linalg.inv(X.T @ (X * mu[:, None]))
    V = B @ S @ B * len(y) / (len(y) - X.shape[1])
    assert r["se"] == pytest.approx(float(np.sqrt(V[2, 2])), rel=1e-6)
    assert "Newey-West" in r["se_kind"] and "2 lags" in r["se_kind"]


def test_its_ar1_errors_reduce_to_quasi_poisson_when_rho_is_zero():
    for seed in range(200):  # the first white-noise series whose estimated rho is 0
        rng = np.random.default_rng(seed)
        s = pd.DataFrame({"month": cv.MONTHS, "count": rng.poisson(150, 16).astype(float)})
        r = its_fit(s, cv.MONTHS[10])
        if r["ar1_rho"] == 0.0:
            break
    assert r["ar1_rho"] == 0.0
    q = its_fit(s, cv.MONTHS[10], errors="quasi")
    assert r["se"] == pytest.approx(q["se"], rel=1e-9)
    # quasi is statsmodels' own quasi-Poisson (Pearson scale)
    mo = s["month"].dt.month.to_numpy(float)
    t = np.arange(16.0) - 10
    X = np.column_stack(
        [
            np.ones(16),
            t / 12,
            (t >= 0).astype(float),
            np.sin(np.pi * mo / 6),
            np.cos(np.pi * mo / 6),
        ]
    )
    ref = sm.GLM(s["count"].to_numpy(float), X, family=sm.families.Poisson()).fit(scale="X2")
    assert q["se"] == pytest.approx(float(ref.bse[2]), rel=1e-6)
    assert "AR(1)" in r["se_kind"] and "rho 0.00" in r["se_kind"]


def test_its_false_positive_rate_on_planted_ar1_nulls_small_seeded():
    n = 150
    runs = cv.its_runs(n, rho=0.5, seed=7, errors=("ar1", "hac"))
    res = cv.its_summary(runs, planted=False)
    assert abs(res["ar1"]["rate"] - 0.05) <= _tol(0.05, n), res["ar1"]
    # Newey-West's sandwich is far too small in 16 months: why it is not the default
    assert res["hac"]["rate"] > 0.05 + _tol(0.05, n), res["hac"]


# -- DiD wild cluster bootstrap ----------------------------------------------------------------


def test_restricted_fit_is_statsmodels_poisson_with_the_null_as_offset(panels, kent):
    areas = list(np.random.default_rng(2).choice(kent, 24, replace=False))
    df = panels.lsoa[panels.lsoa["area"].isin(areas)].reset_index(drop=True)
    did = (df["area"].isin(areas[:4]) & (df["month"] >= START)).to_numpy(float)
    X = _design(df, {"did": did})
    y = df["count"].to_numpy(float)
    area, month = pd.factorize(df["area"])[0], pd.factorize(df["month"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = sm.GLM(y, X[:, :-1], family=sm.families.Poisson(), offset=-0.3 * did).fit(tol=1e-12)
    np.testing.assert_allclose(restricted_mu(y, area, month, -0.3 * did), ref.mu, rtol=1e-7)


def test_wild_bootstrap_agrees_with_cluster_wald_with_many_large_clusters():
    # 60 treated and 60 comparison areas with large counts: the score and Wald tests coincide
    rng = np.random.default_rng(12)
    y, X, area, month = cv.did_panel(rng, 60, 60, irr=0.93)
    y = y * 0 + rng.poisson(np.exp(np.log(np.maximum(y, 0.5)) + 2.5))  # ~12x the counts
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": area}
    )
    wb = wild_bootstrap(y, X, area, month, res.params[-1], res.bse[-1], 60, draws=9999)
    assert wb["weights"] == "Rademacher"
    p_wald = float(res.pvalues[-1])
    assert 0.001 < p_wald < 0.5
    # bootstrap MC error sqrt(p(1-p)/9999) < 0.005; the rest is score vs Wald at G = 120
    assert wb["p_value"] == pytest.approx(p_wald, abs=0.02)
    lo, hi = wb["ci_log"]
    wlo, whi = res.conf_int()[-1]
    assert lo == pytest.approx(wlo, abs=0.25 * (whi - wlo) / 2)
    assert hi == pytest.approx(whi, abs=0.25 * (whi - wlo) / 2)


def test_wild_bootstrap_holds_size_with_three_treated_areas_small_seeded():
    n = 300
    res = cv.did_summary(cv.did_runs(n, g1=3, seed=21), planted=False)
    assert abs(res["wild"]["rate"] - 0.05) <= _tol(0.05, n), res["wild"]
    # the conventional cluster-robust test (statsmodels' normal reference) over-rejects
    assert res["cluster_z"]["rate"] > 0.05 + _tol(0.05, n), res["cluster_z"]


def test_wild_p_is_exact_sign_flip_share_on_a_toy_case():
    # two treated areas dominate: with Webb weights the p-value is the share of draws whose
    # |statistic| reaches the observed one (checked by brute force on the same draws)
    rng = np.random.default_rng(4)
    y, X, area, month = cv.did_panel(rng, 2, 6, irr=0.6)
    w, kind = wild_weights(8, 499, np.random.default_rng(1), few=True)
    assert kind == "Webb six-point" and set(np.round(np.abs(w).ravel() ** 2, 6)) <= {
        0.5,
        1.0,
        1.5,
    }
    from harmscope.analysis.evaluation.did import cluster_scores

    S = cluster_scores(y, X, area, month, 0.0)
    t = S.sum() / np.sqrt((S**2).sum())
    ts = (w * S).sum(1) / np.sqrt(((w * S) ** 2).sum(1))
    expect = (1 + np.sum(np.abs(ts) >= abs(t) - 1e-12)) / 500
    assert wild_p(y, X, area, month, 0.0, w) == pytest.approx(expect)


def test_did_with_few_treated_lsoas_uses_the_wild_bootstrap_on_real_data(panels, kent, all_store):
    rng = np.random.default_rng(31)
    areas = list(rng.choice(kent, 5, replace=False))
    planted = plant(panels, areas, START, 0.4, rng)
    design = Design("lsoa", areas, [a for a in kent if a not in set(areas)], "Kent Police")
    (r,) = evaluate_design(planted, design, START, methods=("did",), details=False)
    assert r["wild_bootstrap"] and "wild cluster score bootstrap" in r["se_kind"]
    assert r["irr_ci"][0] < r["irr"] < r["irr_ci"][1]
    assert r["cluster_irr_ci"] != r["irr_ci"] and 0 <= r["cluster_p_value"] <= 1
    res = evaluate(all_store, {"lsoas": areas}, "2025-07", methods=("did",), panels=planted)
    assert any("wild cluster bootstrap" in n for n in res.notes)
    assert "wild cluster score bootstrap" in res.method
    pub = res.summary["results"][0]
    assert {"cluster_p_value", "cluster_irr_ci", "wild_weights"} <= set(pub)


# -- --plant with --placebo -------------------------------------------------------------------


def test_planted_effect_raises_the_placebo_detection_rate_and_is_announced(panels):
    kw = dict(seed=5, methods=("did",), n_areas=30, force="Kent Police")
    null = placebo_check(panels, 8, **kw)
    planted = placebo_check(panels, 8, reduction=0.35, **kw)
    (n0,), (p1,) = null.summary["results"], planted.summary["results"]
    assert "false_positive_rate" in n0 and "detection_rate" in p1
    assert p1["detection_rate"] >= 0.75 > n0["false_positive_rate"]
    assert planted.summary["planted_irr"] == pytest.approx(0.65)
    assert (planted.tables["runs"]["planted_reduction"] == 0.35).all()
    assert any(n.startswith("SYNTHETIC CHECK") for n in planted.notes)
    assert "SYNTHETIC" in p1["verdict"] and "35%" in planted.method


def test_cli_plant_with_placebo_reports_detection(all_store_path, capsys):
    capsys.readouterr()
    argv = ["evaluate", "--placebo", "4", "--plant", "0.4", "--method", "did", "--json"]
    assert main([*argv, "--force", "Kent Police", "--db", str(all_store_path)]) == 0
    out = json.loads(capsys.readouterr().out)
    (r,) = out["results"]
    assert r["detection_rate"] is not None and "coverage_ci" in r
    assert out["summary"]["planted_irr"] == pytest.approx(0.6)
    assert any("SYNTHETIC" in n for n in out["notes"])


def test_wild_interval_that_never_rejects_is_reported_open_at_the_search_limit():
    # 3 treated areas and no effect: this seed's bootstrap cannot exclude large reductions
    rng = np.random.default_rng(3)
    y, X, area, month = cv.did_panel(rng, 3, 9, irr=0.7)
    res = sm.GLM(y, X, family=sm.families.Poisson()).fit(
        cov_type="cluster", cov_kwds={"groups": area}
    )
    wb = wild_bootstrap(y, X, area, month, res.params[-1], res.bse[-1], 3)
    assert wb["ci_open"] == [True, False]
    assert wb["ci_log"][0] == pytest.approx(-np.log(20.0))
    assert wb["ci_log"][0] < res.params[-1] < wb["ci_log"][1] < np.log(20.0)
