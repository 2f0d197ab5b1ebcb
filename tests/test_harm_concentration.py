"""Concentration: Gini, Lorenz and top shares on a hand-computed example, a planted simulation
and the real Kent data."""

from __future__ import annotations

import numpy as np
import pytest

from harmscope.analysis.harm.concentration import (
    concentration,
    gini,
    lorenz,
    top_share,
    units_for_share,
)


def test_hand_computed_example():
    x = [0, 0, 1, 2, 7]  # total 10
    # ascending: Σ i·x = 3·1 + 4·2 + 5·7 = 46; G = 2·46/(5·10) − 6/5 = 1.84 − 1.2 = 0.64
    assert gini(x) == pytest.approx(0.64)
    # mean absolute difference / (2 · mean): Σ|xi−xj| over ordered pairs = 64, /25 = 2.56, /(2·2) = 0.64
    xs = np.array(x, float)
    assert gini(x) == pytest.approx(np.abs(xs[:, None] - xs[None, :]).mean() / (2 * xs.mean()))
    lz = lorenz(x)
    np.testing.assert_allclose(lz.unit_share, [0, 0.2, 0.4, 0.6, 0.8, 1.0])
    np.testing.assert_allclose(lz.value_share, [0, 0, 0, 0.1, 0.3, 1.0])
    area = np.trapezoid(lz.value_share, lz.unit_share)
    assert 1 - 2 * area == pytest.approx(0.64)
    assert top_share(x, 1) == pytest.approx(0.7)  # ceil(5 × 1%) = 1 unit
    assert top_share(x, 20) == pytest.approx(0.7)
    assert top_share(x, 40) == pytest.approx(0.9)
    assert units_for_share(x, 0.5) == pytest.approx(0.2)
    assert units_for_share(x, 0.8) == pytest.approx(0.4)
    assert gini([3, 3, 3]) == pytest.approx(0.0)
    assert gini([0, 0, 0, 9]) == pytest.approx(0.75)  # (n−1)/n when one unit holds all


def test_expected_concentration_recovers_planted_truth():
    """Seeded: 2,000 places with lognormal risk; recorded counts are Poisson around it."""
    from harmscope.analysis.harm.concentration import _bootstrap

    rng = np.random.default_rng(11)
    mu = rng.lognormal(0.0, 1.0, 2000)
    truth = gini(mu)
    counts = rng.poisson(mu).astype(float)
    observed = gini(counts)
    assert observed > truth + 0.05  # chance makes recorded crime look more concentrated
    boot = _bootstrap(counts, np.ones_like(counts), 300, 5)[:, 0]
    expected = 2 * observed - boot.mean()
    lo, hi = 2 * observed - np.percentile(boot, 97.5), 2 * observed - np.percentile(boot, 2.5)
    # the basic bootstrap removes part of the noise inflation (about half here, with about
    # 1.6 crimes per place); the method text says so rather than promising coverage
    assert truth < expected < observed
    assert abs(expected - truth) < 0.6 * abs(observed - truth)
    assert lo < expected < hi


def test_real_kent_concentration(kent_store):
    res = concentration(
        kent_store, area="Kent Police", unit="lsoa", date_from="2025-01", date_to="2025-06", reps=50
    )
    s = res.summary
    assert s["units"] == 1065
    assert 0 < s["top1_harm_share"] < s["top5_harm_share"] < s["top10_harm_share"] < 1
    assert 0 < s["gini_harm"] < 1 and 0 < s["gini_count"] < 1
    t = res.table
    assert s["top10_harm_share"] == pytest.approx(t.harm.nlargest(107).sum() / t.harm.sum())
    assert s["gini_harm"] == pytest.approx(gini(t.harm))
    lo, hi = s["gini_harm_expected_ci"]
    assert lo <= s["gini_harm_expected"] <= hi
    lz = res.tables["lorenz"]
    assert set(lz.measure) == {"harm", "count"}
    assert (lz.groupby("measure").value_share.apply(lambda v: v.is_monotonic_increasing)).all()
    loc = concentration(
        kent_store,
        area="Maidstone",
        unit="location",
        date_from="2025-01",
        date_to="2025-06",
        reps=20,
    )
    assert loc.summary["units"] > 500
    assert not loc.table.unit_name.str.lower().eq("no location").any()
    # street locations are more concentrated than LSOAs (Weisburd); a real-data fact, not a given
    assert loc.summary["units_for_50pct_count"] < 0.5
    assert "lorenz" in res.charts and "top_shares" in res.charts
