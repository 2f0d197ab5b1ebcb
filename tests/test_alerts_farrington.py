"""Early warning: the quasi-Poisson baseline against statsmodels, calibration and planted steps."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from harmscope.analysis.trends import (
    AlertSettings,
    alerts,
    baseline_positions,
    judge_matrix,
    judge_series,
    quasi_poisson_mean,
    upper_limit,
)
from harmscope.analysis.trends import _monthly_cube as monthly_cube
from harmscope.cli import main
from harmscope.errors import HarmscopeError

MONTHS = [date(2024 + m // 12, m % 12 + 1, 1) for m in range(24)]


def nb(n, mean, size, rng, shape=24):
    mu = np.full((n, shape), float(mean))
    return rng.negative_binomial(size, size / (size + mu)), mu


def test_quasi_poisson_matches_statsmodels():
    sm = pytest.importorskip("statsmodels.api")
    y = np.array([40, 52, 47, 61, 38, 55, 49, 90, 44, 51, 46, 58], dtype=float)
    # without reweighting: a Poisson GLM on a constant with Pearson scale
    mu, phi, var_mu = quasi_poisson_mean(y, reweight=False)
    fit = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Poisson()).fit(scale="X2")
    assert mu == pytest.approx(np.exp(fit.params[0]), rel=1e-9)
    assert phi == pytest.approx(max(fit.scale, 1), rel=1e-9)
    assert var_mu == pytest.approx(phi * mu / len(y), rel=1e-9)
    # with Farrington's reweighting: the same GLM with the reweighting as var_weights
    mu_w, phi_w, _ = quasi_poisson_mean(y, reweight=True)
    r = 1.5 * (y ** (2 / 3) - y.mean() ** (2 / 3)) / (np.sqrt(fit.scale) * y.mean() ** (1 / 6))
    w = np.where(r > 1, r**-2.0, 1.0)
    w = w * len(y) / w.sum()
    fit_w = sm.GLM(y, np.ones((len(y), 1)), family=sm.families.Poisson(), var_weights=w).fit(
        scale="X2"
    )
    assert mu_w == pytest.approx(np.exp(fit_w.params[0]), rel=1e-9)
    assert phi_w == pytest.approx(max(fit_w.scale, 1), rel=1e-9)
    assert mu_w < mu  # the outbreak month (90) is down-weighted


def test_upper_limit_formula_and_t_quantile():
    from scipy import stats

    u = upper_limit(50.0, 2.0, 5.0, 0.05)
    z = stats.norm.ppf(0.95)
    assert u == pytest.approx(50 * (1 + (2 / 3) * z * np.sqrt(2 * 50 + 5) / 50) ** 1.5)
    assert upper_limit(50.0, 2.0, 5.0, 0.05, df=5) > u
    assert upper_limit(0.0, 1.0, 0.0, 0.05) == 0.0


def test_baselines_on_the_real_gap():
    s = AlertSettings()
    real = [date(2024, m, 1) for m in range(1, 5)] + [date(2025, m, 1) for m in range(1, 13)]
    midx = np.array([d.year * 12 + d.month - 1 for d in real])
    modes = [baseline_positions(midx, t, s)[1] for t in range(len(real))]
    assert modes[:6] == ["too short"] * 6  # 2024-01..04, 2025-01 (4 earlier months), 2025-02 (5)
    assert set(modes[6:]) == {"recent"}  # never 3 years of history: no seasonal baseline
    pos, _ = baseline_positions(midx, real.index(date(2025, 3, 1)), s)
    assert [real[p] for p in pos] == [date(2024, m, 1) for m in range(1, 5)] + [
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]


def test_seasonal_baseline_when_history_allows():
    s = AlertSettings()
    months = [date(2019 + m // 12, m % 12 + 1, 1) for m in range(72)]
    midx = np.array([d.year * 12 + d.month - 1 for d in months])
    pos, mode = baseline_positions(midx, 71, s)
    assert mode == "seasonal" and len(pos) == 5 * 3  # b=5 years x (2w+1) months
    assert {months[p].month for p in pos} <= {11, 12, 1}


def test_null_false_alert_rate_close_to_alpha():
    rng = np.random.default_rng(2026)
    y, _ = nb(600, 50, 20.0, rng)
    m = judge_matrix(y, MONTHS, AlertSettings())
    judged = m["baseline"][0] != "too short"
    rate = m["alarm"][:, judged].mean()
    assert 0.03 < rate < 0.07


def test_planted_step_flagged_within_two_months():
    rng = np.random.default_rng(7)
    y, _ = nb(300, 60, 30.0, rng)
    step, _ = nb(300, 60, 30.0, rng, shape=6)
    y[:, 18:] = rng.negative_binomial(
        30.0, 30.0 / (30.0 + 120.0), size=(300, 6)
    )  # mean doubles from month 19
    m = judge_matrix(y, MONTHS, AlertSettings())
    flagged = (m["alarm"] | m["cusum_alarm"])[:, 18:20].any(axis=1)
    assert flagged.mean() > 0.95
    before = m["alarm"][:, 6:18].mean()
    assert before < 0.08


def test_cusum_catches_a_sustained_shift_below_the_limit():
    # +24%: under the 95% limit (63.8) every month, so only the CUSUM flags it (5th month);
    # the rolling baseline absorbs a smaller shift (+16% never reaches h=4)
    y = np.r_[np.full(12, 50.0), np.full(12, 62.0)]
    out = judge_series(y, MONTHS)
    assert not out["alarm"].any()
    assert not out["cusum_alarm"][:12].any()
    assert out["cusum_alarm"][12:18].any()
    small = judge_series(np.r_[np.full(12, 50.0), np.full(12, 58.0)], MONTHS)
    assert not small["cusum_alarm"].any()


def test_real_kent_alerts(kent_store):
    res = alerts(kent_store, level="district", weight="css")
    s = res.summary
    assert s["series"] == 13 * 14
    assert s["baseline_modes"].get("seasonal", 0) == 0
    assert any("impossible on this history" in n for n in res.notes)
    # unaltered real series: the alarm rate is near alpha (real changes make it an upper bound)
    assert 0.02 < s["alarm_rate"] < 0.09
    alarms = res.tables["alarms"]
    latest = alarms[alarms["month"] == s["latest_month"]]
    assert (latest["harm_excess"].diff().dropna() <= 1e-9).all()  # ranked by harm
    assert {"observed", "expected", "upper", "score", "cusum"} <= set(res.table.columns)
    judged = res.table[res.table["baseline"] != "too short"]
    assert (judged["upper"] >= judged["expected"]).all()


def test_planted_step_on_real_district_series(kent_store):
    cube, months = monthly_cube(kent_store, "district", ["Violence and sexual offences"])
    wide = cube.pivot_table(index="area", columns="month", values="count").reindex(columns=months)
    y = wide.to_numpy().astype(float)
    s = AlertSettings()
    base = judge_matrix(y, months, s)
    t0 = months.index(date(2025, 8, 1))
    y[:, t0:] += np.random.default_rng(3).poisson(0.5 * base["expected"][:, t0:])
    m = judge_matrix(y, months, s)
    flagged = (m["alarm"] | m["cusum_alarm"])[:, t0 : t0 + 2].any(axis=1)
    assert flagged.sum() >= 12  # of 13 districts


def test_lsoa_clusters_and_cli(kent_store_path, tmp_path, capsys):
    out = tmp_path / "a.csv"
    code = main(
        [
            "alerts",
            "--db",
            str(kent_store_path),
            "--level",
            "lsoa_cluster",
            "--crime-type",
            "Robbery",
            "--audience",
            "public",
            "--out",
            str(out),
            "--json",
        ]
    )
    assert code == 0
    import pandas as pd

    df = pd.read_csv(out)
    shown = df["observed"].dropna()
    assert not ((shown > 0) & (shown < 5)).any()
    assert df["area"].str.match(r".+ \d{3}$").all()  # MSOA-style cluster names
    assert main(["alerts", "--db", str(kent_store_path), "--level", "ward"]) == 2
    with pytest.raises(HarmscopeError):
        monthly_cube(None, "ward")
