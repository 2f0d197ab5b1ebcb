"""Empirical-Bayes smoothing: pinned against esda and a hand-computed example."""

from __future__ import annotations

import numpy as np
import pytest
from esda.smoothing import Empirical_Bayes

from harmscope.analysis.harm.smoothing import eb_global, smoothed_lsoa_rates


def test_hand_computed_example():
    y = np.array([0.0, 2.0, 10.0, 40.0])
    p = np.array([100.0, 100.0, 400.0, 1000.0])
    out = eb_global(y, p)
    m = 52 / 1600
    raw = y / p
    s2 = (p * (raw - m) ** 2).sum() / 1600
    a = s2 - m / 400
    assert out["mean"] == pytest.approx(m) and out["A"] == pytest.approx(a) and a > 0
    w = a / (a + m / p)
    np.testing.assert_allclose(out["rate"], w * raw + (1 - w) * m)
    # worked by hand: m = 0.0325; Σ P(r − m)² = 0.105625 + 0.015625 + 0.0225 + 0.05625 = 0.2,
    # s2 = 0.2 / 1600 = 0.000125; m / P̄ = 0.0325 / 400 = 0.00008125; A = 0.00004375
    assert out["A"] == pytest.approx(4.375e-05)
    assert out["weight"][0] == pytest.approx(4.375e-05 / (4.375e-05 + 0.0325 / 100))


def test_no_between_area_variance_shrinks_fully_to_the_mean():
    out = eb_global([5, 4, 6], [100, 100, 100])  # raw spread below Poisson noise
    assert out["A_unfloored"] < 0 and out["A"] == 0
    np.testing.assert_allclose(out["rate"], 15 / 300)


def test_matches_esda_on_real_kent_lsoas(kent_store):
    res = smoothed_lsoa_rates(
        kent_store, area="Kent Police", measure="count", date_from="2025-03", date_to="2025-03"
    )
    t = res.table
    assert len(t) == 1065  # every Kent and Medway 2011 LSOA, zeros included
    ref = Empirical_Bayes(t["count"].to_numpy(float), t.population.to_numpy(float)).r.ravel() * 1000
    np.testing.assert_allclose(t.eb_rate_per_1000, ref, rtol=1e-10)
    assert res.summary["between_area_variance_A"] > 0
    assert (t.shrinkage_weight < 1).all() and (t.shrinkage_weight > 0).all()
    # shrinkage pulls more in small populations
    small, big = (
        t.population <= t.population.quantile(0.1),
        t.population >= t.population.quantile(0.9),
    )
    assert t[small].shrinkage_weight.mean() < t[big].shrinkage_weight.mean()


def test_harm_smoothing_is_scaled_poisson_esda(kent_store):
    res = smoothed_lsoa_rates(kent_store, area="Maidstone", date_from="2025-01", date_to="2025-02")
    t = res.table
    phi = res.summary["variance_factor_phi"]
    assert phi == pytest.approx(t.harm_w2.sum() / t.harm.sum()) and phi > 1
    ref = (
        Empirical_Bayes(t.harm.to_numpy(float) / phi, t.population.to_numpy(float)).r.ravel()
        * phi
        * 1000
    )
    np.testing.assert_allclose(t.eb_rate_per_1000, ref, rtol=1e-10)
    assert "phi" in res.method and "raw_vs_smoothed" in res.charts
