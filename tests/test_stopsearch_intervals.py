"""Interval and test helpers pinned against statsmodels, scipy and sklearn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)

from harmscope.analysis.intervals import (
    holm,
    newcombe_diff,
    poisson_rate_ci,
    rate_ratio_ci,
    rate_with_ci,
    two_proportion_z,
    wilson,
)
from harmscope.analysis.stopsearch import cohens_kappa


@pytest.mark.parametrize("alpha", [0.05, 0.1, 0.01])
def test_wilson_matches_statsmodels(alpha):
    rng = np.random.default_rng(5)
    n = np.concatenate([[1, 1, 2, 5, 10, 10], rng.integers(1, 6000, 200)])
    k = np.concatenate([[0, 1, 1, 0, 10, 3], rng.integers(0, 6000, 200) % (n[6:] + 1)])
    low, high = wilson(k, n, alpha)
    ref_low, ref_high = proportion_confint(k, n, alpha=alpha, method="wilson")
    np.testing.assert_allclose(low, ref_low, rtol=0, atol=1e-12)
    np.testing.assert_allclose(high, ref_high, rtol=0, atol=1e-12)


def test_wilson_scalar_and_empty_group():
    value, ci = rate_with_ci(1373, 6217)
    ref = proportion_confint(1373, 6217, method="wilson")
    assert value == pytest.approx(1373 / 6217)
    assert ci == pytest.approx(list(ref), abs=1e-12)
    assert rate_with_ci(0, 0) == (None, [None, None])
    low, high = wilson(np.array([0, 2]), np.array([0, 4]))
    assert np.isnan(low[0]) and np.isnan(high[0]) and 0 < low[1] < 0.5 < high[1] < 1
    with pytest.raises(ValueError):
        wilson(5, 4)


def test_two_proportion_z_matches_statsmodels():
    rng = np.random.default_rng(7)
    for _ in range(50):
        n1, n2 = rng.integers(20, 3000, 2)
        k1, k2 = rng.integers(1, n1), rng.integers(1, n2)
        z, p = two_proportion_z(k1, n1, k2, n2)
        ref_z, ref_p = proportions_ztest([k1, k2], [n1, n2])
        assert float(z) == pytest.approx(ref_z, rel=1e-10)
        assert float(p) == pytest.approx(ref_p, rel=1e-8, abs=1e-15)


def test_newcombe_matches_statsmodels():
    rng = np.random.default_rng(11)
    for _ in range(50):
        n1, n2 = rng.integers(5, 3000, 2)
        k1, k2 = rng.integers(0, n1 + 1), rng.integers(0, n2 + 1)
        low, high = newcombe_diff(k1, n1, k2, n2)
        ref = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
        assert float(low) == pytest.approx(ref[0], abs=1e-10)
        assert float(high) == pytest.approx(ref[1], abs=1e-10)


def test_holm_matches_statsmodels():
    p = np.array([0.01, 0.04, 0.03, 0.2, 0.0001, np.nan])
    ours = holm(p)
    ref = multipletests(p[:-1], method="holm")[1]
    np.testing.assert_allclose(ours[:-1], ref)
    assert np.isnan(ours[-1])


def test_poisson_rate_ci_is_exact_garwood():
    low, high = poisson_rate_ci(10, 2.0)
    assert low == pytest.approx(stats.chi2.ppf(0.025, 20) / 2 / 2)
    assert high == pytest.approx(stats.chi2.ppf(0.975, 22) / 2 / 2)
    assert poisson_rate_ci(0, 1.0)[0] == 0.0


def test_rate_ratio_interval_covers_planted_ratio():
    """Seeded simulation: the log-scale interval covers a planted ratio about 95% of the time."""
    rng = np.random.default_rng(2024)
    pop_a, pop_b, rate_b, planted = 40_000, 1_200_000, 0.004, 3.0
    a = rng.poisson(pop_a * rate_b * planted, 2000)
    b = rng.poisson(pop_b * rate_b, 2000)
    ratio, low, high = rate_ratio_ci(a, pop_a, b, pop_b)
    coverage = np.mean((low <= planted) & (planted <= high))
    assert 0.93 <= coverage <= 0.97
    assert np.median(ratio) == pytest.approx(planted, rel=0.05)


def test_kappa_matches_statsmodels_and_sklearn():
    rng = np.random.default_rng(3)
    truth = rng.integers(0, 6, 3000)
    noisy = np.where(rng.random(3000) < 0.7, truth, rng.integers(0, 6, 3000))
    table = np.zeros((6, 6))
    np.add.at(table, (truth, noisy), 1)
    ours = cohens_kappa(table)
    ref = sm_kappa(table)
    assert ours["kappa"] == pytest.approx(ref.kappa, abs=1e-12)
    assert ours["kappa"] == pytest.approx(cohen_kappa_score(truth, noisy), abs=1e-12)
    assert ours["se"] == pytest.approx(ref.std_kappa, rel=1e-9)
    assert ours["low"] == pytest.approx(ref.kappa_low, rel=1e-9)
    assert ours["high"] == pytest.approx(ref.kappa_upp, rel=1e-9)


def test_seeded_simulation_outcome_test_size_power_and_wilson_coverage():
    """Small seeded version of the validation: under equal find rates the z test rejects about
    5% of the time; a planted 10-point gap is found; Wilson covers the planted rate ~95%."""
    rng = np.random.default_rng(20260401)
    sims, n1, n2 = 4000, 300, 2000
    k1 = rng.binomial(n1, 0.2, sims)
    k2 = rng.binomial(n2, 0.2, sims)
    _, p = two_proportion_z(k1, n1, k2, n2)
    assert 0.04 <= np.mean(p < 0.05) <= 0.06
    k1_gap = rng.binomial(n1, 0.1, sims)
    _, p_gap = two_proportion_z(k1_gap, n1, k2, n2)
    assert np.mean(p_gap < 0.05) > 0.9
    low, high = wilson(k1, np.full(sims, n1))
    assert 0.935 <= np.mean((low <= 0.2) & (0.2 <= high)) <= 0.965
