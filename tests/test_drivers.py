"""`harmscope drivers`: the panel estimator against statsmodels, recovery of a planted elasticity,
the null rate, the placebo checks and the command's JSON contract (issue 21).

The long version of the recovery check (1,000 panels each way) is benchmarks/validate_drivers.py.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import statsmodels.formula.api as smf

from harmscope.analysis.drivers import build_panel, drivers
from harmscope.cli import main
from harmscope.privacy import publish
from harmscope.simulate.panel import recovery, simulate_panel


def _panel(sim, lag=1, lags=2):
    panel, _ = build_panel(
        sim.covariate,
        sim.outcome,
        outcome_name="violence",
        placebo="placebo",
        period_kind="financial_year",
        lag=lag,
        lags=lags,
        per_capita=True,
    )
    return panel


def _sm(formula, data):
    groups = data.area_code.astype("category").cat.codes
    return smf.ols(formula, data=data).fit(
        cov_type="cluster", cov_kwds={"groups": groups}, use_t=True
    )


@pytest.fixture(scope="module")
def sim():
    return simulate_panel(seed=11, elasticity=-0.2)


@pytest.fixture(scope="module")
def res(sim):
    return drivers(
        sim.covariate, sim.outcome, covariate_name="officers_fte", placebo="placebo", synthetic=True
    )


def test_levels_lead_and_placebo_match_statsmodels(sim, res):
    panel = _panel(sim)
    d = panel.dropna(subset=["log_y", "x_lag1"])
    m = _sm("log_y ~ x_lag1 + C(area_code) + C(pidx)", d)
    s = res.summary
    assert s["elasticity"] == pytest.approx(m.params["x_lag1"], abs=1e-8)
    assert s["elasticity_se"] == pytest.approx(m.bse["x_lag1"], abs=1e-8)
    assert s["elasticity_p"] == pytest.approx(m.pvalues["x_lag1"], abs=1e-8)
    assert s["elasticity_ci"] == pytest.approx(list(m.conf_int().loc["x_lag1"]), abs=1e-8)

    d2 = panel.dropna(subset=["log_y", "x_lag1", "x_lead1"])
    m2 = _sm("log_y ~ x_lag1 + x_lead1 + C(area_code) + C(pidx)", d2)
    assert s["placebo_lead_estimate"] == pytest.approx(m2.params["x_lead1"], abs=1e-8)
    assert s["placebo_lead_p"] == pytest.approx(m2.pvalues["x_lead1"], abs=1e-8)

    mp = _sm("log_yp ~ x_lag1 + C(area_code) + C(pidx)", d)
    assert s["placebo_outcome_estimate"] == pytest.approx(mp.params["x_lag1"], abs=1e-8)
    assert s["placebo_outcome_p"] == pytest.approx(mp.pvalues["x_lag1"], abs=1e-8)

    # MDE: (t_.975 + t_.80) on G-1 df, times the clustered standard error
    from scipy import stats

    q = stats.t.ppf(0.975, 42) + stats.t.ppf(0.8, 42)
    assert s["mde"] == pytest.approx(q * m.bse["x_lag1"], abs=1e-8)


def test_first_differences_and_distributed_lag_match_statsmodels(sim, res):
    panel = _panel(sim).set_index(["area_code", "pidx"]).sort_index()
    prev = panel.groupby(level=0).shift(1)  # pidx is consecutive within each simulated area
    d = (
        pd.DataFrame({"dy": panel.log_y - prev.log_y, "dx": panel.x_lag1 - prev.x_lag1})
        .dropna()
        .reset_index()
    )
    m = _sm("dy ~ dx + C(pidx)", d)
    assert res.summary["elasticity_fd"] == pytest.approx(m.params["dx"], abs=1e-8)
    assert res.summary["elasticity_fd_ci"] == pytest.approx(list(m.conf_int().loc["dx"]), abs=1e-8)

    dl = panel.reset_index().dropna(subset=["log_y", "x_lag0", "x_lag1", "x_lag2"])
    m3 = _sm("log_y ~ x_lag0 + x_lag1 + x_lag2 + C(area_code) + C(pidx)", dl)
    total = m3.t_test("x_lag0 + x_lag1 + x_lag2 = 0")
    assert res.summary["cumulative_elasticity"] == pytest.approx(
        float(np.squeeze(total.effect)), abs=1e-8
    )
    assert res.summary["cumulative_elasticity_ci"] == pytest.approx(
        np.squeeze(total.conf_int()).tolist(), abs=1e-8
    )


def test_planted_elasticity_recovered_at_the_nominal_rate_and_null_near_5pct():
    # 30 planted and 30 null panels, 43 areas x 15 years; seeded, so the same every run
    r = recovery(30, seed=2026, elasticity=-0.2)
    assert r["coverage"] >= 26 / 30, r  # nominal 95%; 1,000 runs in benchmarks/validate_drivers.py
    assert r["null_rate"] <= 4 / 30, r  # nominal 5%
    assert r["mean_estimate"] == pytest.approx(-0.2, abs=0.05)
    assert abs(r["mean_null_estimate"]) < 0.05


def test_lead_placebo_catches_reverse_direction():
    """Forces that add officers *because* violence rose: the covariate follows the outcome.
    The lead test must flag it and the verdict must say not to rely on the estimate."""
    sim = simulate_panel(seed=5, elasticity=0.0)
    out = sim.outcome[sim.outcome.offence == "violence"].set_index(["area_code", "period_start"])
    cov = sim.covariate.copy()
    rng = np.random.default_rng(5)
    rate = np.log(out["count"] / out.population)
    prior = cov.apply(
        lambda r: rate.get((r.area_code, r.period_start - pd.DateOffset(years=1)), np.nan), axis=1
    )
    pop = out.population.groupby(level=0).first()
    # next year's officers per head respond to this year's violence per head (elasticity 1)
    cov["value"] = np.exp(
        np.log(200e-5) + 1.0 * (prior - prior.mean()) + rng.normal(0, 0.01, len(cov))
    ) * cov.area_code.map(pop)
    cov = cov.dropna()
    res = drivers(cov, sim.outcome, covariate_name="officers_fte", placebo="placebo", charts=False)
    assert res.summary["placebo_lead_p"] < 0.01
    assert not res.summary["credible"]
    assert "Do not rely on this estimate" in res.summary["verdict"]


def test_verdict_and_method_never_claim_cause(res):
    for text in (res.summary["verdict"], res.method):
        assert "causes" not in text.lower() and "caused" not in text.lower()
    assert "association" in res.summary["verdict"]
    assert "reverse" in res.method.lower() and "confound" in res.method.lower()
    assert "SYNTHETIC" in res.method


def test_charts_are_vega_lite_with_each_area_and_the_fitted_slope(res):
    ch = res.charts
    assert set(ch) == {"area_paths", "fitted_association"}
    for spec in ch.values():
        assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite")
        json.dumps(spec)
    pts = ch["fitted_association"]["layer"][0]["data"]["values"]
    assert len({p["area_name"] for p in pts}) == 43
    line = ch["fitted_association"]["layer"][1]["data"]["values"]
    slope = (line[1]["y"] - line[0]["y"]) / (line[1]["x"] - line[0]["x"])
    assert slope == pytest.approx(res.summary["elasticity"], abs=1e-9)
    # the within-transformed points give the same slope (Frisch-Waugh)
    x, y = np.array([p["x"] for p in pts]), np.array([p["y"] for p in pts])
    assert (x @ y) / (x @ x) == pytest.approx(res.summary["elasticity"], abs=1e-8)


def test_cli_json_contract_on_the_example(tmp_path, capsys):
    db = str(tmp_path / "d.duckdb")
    assert main(["covariates", "example", "--out", str(tmp_path)]) in (0, None)
    capsys.readouterr()
    assert main(
        [
            "covariates",
            "add",
            str(tmp_path / "officers_fte.csv"),
            "--name",
            "officers_fte",
            "--unit",
            "FTE",
            "--source",
            "Home Office police workforce tables (OGL v3.0)",
            "--db",
            db,
            "--json",
        ]
    ) in (0, None)
    rep = json.loads(capsys.readouterr().out)
    assert rep["rows_read"] == rep["rows_loaded"] == 215 and rep["areas"] == 43
    code = main(
        [
            "drivers",
            "--covariate",
            "officers_fte",
            "--outcome",
            "violence",
            "--outcome-file",
            str(tmp_path / "recorded_crime_SYNTHETIC.csv"),
            "--db",
            db,
            "--json",
            "--audience",
            "public",
        ]
    )
    assert code in (0, None)
    doc = json.loads(capsys.readouterr().out)
    s = doc["summary"]
    for key in ("elasticity", "elasticity_ci", "placebo_outcome_p", "placebo_lead_p", "mde"):
        assert s[key] is not None, key
    assert (
        len(s["elasticity_ci"]) == 2
        and s["elasticity_ci"][0] < s["elasticity"] < s["elasticity_ci"][1]
    )
    assert s["synthetic"] is True and doc["audience"] == "public"
    assert not [k for k in s if k.startswith("chart_")]  # transformed values: internal only
    assert any(w.startswith("chart_fitted_association") for w in doc["withheld"])
    pub = publish.last("drivers")
    assert pub is not None and pub.document() == doc  # printed what the publication holds


def test_store_outcome_by_district_and_month(kent_store_path, tmp_path):
    """The store path: Kent street crime by district and month against a monthly covariate."""
    import shutil

    from harmscope.analysis.drivers import drivers_from_store
    from harmscope.sources.covariates import add_covariate
    from harmscope.store import Store

    db = tmp_path / "k.duckdb"
    shutil.copy(kent_store_path, db)
    with Store.open(db) as store:
        months = store.query(
            "SELECT DISTINCT strftime(month, '%Y-%m') AS m FROM street_crimes ORDER BY 1"
        ).m
        lads = store.query(
            "SELECT DISTINCT lad_code FROM street_crimes WHERE lad_code IS NOT NULL "
            "AND NOT out_of_area ORDER BY 1"
        ).lad_code
        rng = np.random.default_rng(3)
        rows = [f"{lad},{m},{rng.uniform(50, 80):.1f}" for lad in lads for m in months]
        f = tmp_path / "cov.csv"
        f.write_text(
            "# SYNTHETIC youth-service hours\narea,period,value\n" + "\n".join(rows) + "\n"
        )
        add_covariate(
            store, f, name="youth_hours", unit="hours", source="SYNTHETIC", synthetic=True
        )
        res = drivers_from_store(store, "youth_hours", outcome="violence", lags=0)
        harm = drivers_from_store(store, "youth_hours", outcome="harm", lags=0, charts=False)
        truth = store.query(
            "SELECT count(*) AS n FROM street_crimes WHERE crime_type = 'Violence and sexual offences' "
            "AND lad_code IN (SELECT DISTINCT area_code FROM covariate_values WHERE name = 'youth_hours')"
        ).n[0]
    s = res.summary
    assert s["synthetic"] and s["per_capita"]
    assert res.tables["panel"].outcome_count.sum() == truth  # every violent crime counted once
    assert s["n_areas"] >= 12 and -1 < s["elasticity"] < 1
    # harm: the CSS-weighted sum of every crime type, and never published beyond analysts
    from harmscope.analysis.harm import resolve_weights
    from harmscope.privacy.publishers import publish_drivers

    w = resolve_weights("css")[0].set_index("category").weight
    with Store.open(db, read_only=True) as store:
        by_type = store.query(
            "SELECT crime_type, count(*) AS n FROM street_crimes WHERE lad_code IN "
            "(SELECT DISTINCT area_code FROM covariate_values) GROUP BY 1"
        )
    assert harm.tables["panel"].outcome_harm.sum() == pytest.approx(
        (by_type.n * by_type.crime_type.map(w)).sum()
    )
    doc = publish_drivers(harm, "public").document()
    assert "panel" not in doc and any("harm" in x for x in doc["withheld"])
    assert doc["summary"]["elasticity"] == harm.summary["elasticity"]


def test_bad_options_are_clean_errors(tmp_path, capsys):
    from harmscope.store import Store

    db = str(tmp_path / "e.duckdb")
    Store.open(db).close()
    assert main(["drivers", "--covariate", "nothing_here", "--db", db]) == 2
    assert "no covariate called 'nothing_here'" in capsys.readouterr().err
    assert main(["drivers", "--covariate", "x", "--lag", "7", "--db", db]) == 2
    assert main(["drivers", "--covariate", "x", "--audience", "world", "--db", db]) == 2


def test_demo_hook_adds_the_real_covariate_and_labels_the_outcome_synthetic(tmp_path):
    from harmscope.commands.drivers import demo
    from harmscope.store import Store

    with Store.open(tmp_path / "d.duckdb") as store:
        lines = demo(store, tmp_path)
        held = store.query("SELECT name, rows, synthetic FROM covariates")
    assert held.to_dict("records") == [{"name": "officers_fte", "rows": 215, "synthetic": False}]
    doc = json.loads((tmp_path / "drivers_SYNTHETIC_outcome.json").read_text())
    assert doc["audience"] == "public" and doc["summary"]["synthetic"] is True
    assert "SYNTHETIC" in lines[0] and "SYNTHETIC" in doc["method"]
