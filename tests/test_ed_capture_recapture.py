"""Chapman estimator: formula against a worked example, and interval coverage on seeded
closed populations (a small version of benchmarks/validate_ed.py)."""

from __future__ import annotations

import math

import pytest

from harmscope.analysis.capture_recapture import chapman
from harmscope.simulate.ed import simulate_population_only


def test_worked_example():
    # Lincoln-Petersen textbook example: 10 marked, 15 caught, 5 recaptured. Petersen gives
    # 30; Chapman's bias-corrected form gives 11 * 16 / 6 - 1 = 28.33.
    est = chapman(10, 15, 5)
    assert est.N == pytest.approx(11 * 16 / 6 - 1)
    assert est.var == pytest.approx(11 * 16 * 5 * 10 / (36 * 7))
    assert est.observed == 20
    assert est.ci[0] > est.observed and est.ci[1] > est.N  # Chao's interval is skewed upwards
    lo, hi = est.ci_wald
    assert hi - est.N == pytest.approx(1.959964 * math.sqrt(est.var), rel=1e-5)
    assert lo == est.observed  # the Wald lower limit is cut at the number actually seen


def test_complete_overlap_has_no_unseen():
    est = chapman(40, 40, 40)
    assert est.N == pytest.approx(40) and est.var == 0 and est.ci == (40.0, 40.0)


def test_rejects_impossible_counts():
    with pytest.raises(ValueError):
        chapman(10, 5, 6)


@pytest.mark.parametrize(("N", "p1", "p2"), [(3000, 0.4, 0.25), (400, 0.3, 0.2)])
def test_interval_covers_the_truth_in_seeded_repetitions(N, p1, p2):
    reps = 60
    covered = sum(
        chapman(*simulate_population_only(N, p1, p2, seed)).ci[0]
        <= N
        <= chapman(*simulate_population_only(N, p1, p2, seed)).ci[1]
        for seed in range(reps)
    )
    assert covered / reps >= 0.88  # nominal 95%; 60 runs leave some sampling slack


def test_dependence_breaks_it():
    """Positive dependence between sources (the assumption failing) biases N down: say so."""
    import numpy as np

    rng = np.random.default_rng(1)
    n = 5000
    frail = rng.random(n) < 0.3  # a third of victims are likely to be seen by both
    a = rng.random(n) < np.where(frail, 0.8, 0.2)
    b = rng.random(n) < np.where(frail, 0.8, 0.2)
    est = chapman(a.sum(), b.sum(), (a & b).sum())
    assert est.ci[1] < n
