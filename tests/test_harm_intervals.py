"""Intervals used by the harm analyses, pinned against statsmodels/scipy and a seeded simulation."""

from __future__ import annotations

import numpy as np
import pytest
from statsmodels.stats.proportion import proportion_confint
from statsmodels.stats.rates import confint_poisson

from harmscope.analysis.harm import garwood, log_ratio_ci, weighted_poisson_ci
from harmscope.analysis.harm.compare import _exact_rate_ratio


@pytest.mark.parametrize("n", [0, 1, 4, 17, 250, 10_000])
def test_garwood_matches_statsmodels_exact(n):
    lo, hi = garwood(np.array([n]))
    ref = confint_poisson(n, 1.0, method="exact-c")
    assert lo[0] == pytest.approx(ref[0], abs=1e-9) and hi[0] == pytest.approx(ref[1], rel=1e-9)


@pytest.mark.parametrize("n", [0, 3, 40, 900])
def test_fay_feuer_reduces_to_garwood_for_one_weight(n):
    for w in (1.0, 203.07):
        lo, hi = weighted_poisson_ci(w * n, w * w * n, w)
        glo, ghi = garwood(np.array([n]))
        assert lo == pytest.approx(w * glo[0], abs=1e-9) and hi == pytest.approx(
            w * ghi[0], rel=1e-9
        )


def test_fay_feuer_covers_a_planted_weighted_sum():
    """Seeded simulation: weights like CSS categories, small expected counts; coverage >= 95%."""
    rng = np.random.default_rng(7)
    w = np.array([0.0, 13, 33, 186.6, 347.2, 993.55])
    mu = np.array([4.0, 3.0, 2.0, 6.0, 0.7, 0.3])
    truth = (w * mu).sum()
    n = rng.poisson(mu, size=(4000, len(mu)))
    y = n @ w
    v = n @ (w * w)
    lo, hi = weighted_poisson_ci(y, v, np.full(len(y), w.max()))
    coverage = np.mean((lo <= truth) & (truth <= hi))
    assert 0.95 <= coverage <= 0.995  # Fay-Feuer is known to be conservative


def test_log_ratio_ci_by_hand():
    r, lo, hi = log_ratio_ci(200.0, 200.0, 100.0, 100.0)
    se = np.sqrt(1 / 200 + 1 / 100)
    assert r == 2.0
    assert lo == pytest.approx(2 * np.exp(-1.959963985 * se)) and hi == pytest.approx(
        2 * np.exp(1.959963985 * se)
    )


def test_exact_rate_ratio_is_clopper_pearson_transformed():
    a, b, pa, pb = 30, 45, 1000.0, 2000.0
    ratio, lo, hi = _exact_rate_ratio(a, b, pa, pb, 0.05)
    plo, phi = proportion_confint(a, a + b, method="beta")
    assert ratio == pytest.approx((30 / 1000) / (45 / 2000))
    assert lo == pytest.approx(plo / (1 - plo) * pb / pa) and hi == pytest.approx(
        phi / (1 - phi) * pb / pa
    )
    assert lo < ratio < hi


def test_precision_recall_is_two_wilson_rates():
    from harmscope.analysis.intervals import precision_recall

    got = precision_recall(3, 4, 6)
    p_lo, p_hi = proportion_confint(3, 4, alpha=0.05, method="wilson")
    r_lo, r_hi = proportion_confint(3, 6, alpha=0.05, method="wilson")
    assert list(got) == [
        "precision",
        "precision_low",
        "precision_high",
        "recall",
        "recall_low",
        "recall_high",
    ]
    assert got["precision"] == 0.75 and got["recall"] == 0.5
    assert [got["precision_low"], got["precision_high"]] == pytest.approx([p_lo, p_hi])
    assert [got["recall_low"], got["recall_high"]] == pytest.approx([r_lo, r_hi])
    # nothing flagged: no precision to speak of, rather than 0/0
    assert precision_recall(0, 0, 2)["precision"] is None
