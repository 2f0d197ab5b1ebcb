"""Gi* pinned to esda's G_Local(star=True) and to the esda test values in METHODS.md."""

from __future__ import annotations

import warnings
from datetime import date

import numpy as np
import pytest
from scipy import sparse

from conftest import GISTAR_CLASSES
from harmscope.analysis import grid as g
from harmscope.analysis.gistar import adjust, classify, gi_star, gi_star_z, permutation_p
from harmscope.errors import HarmscopeError

esda = pytest.importorskip("esda")
libpysal = pytest.importorskip("libpysal")

POINTS = np.array([(10, 10), (20, 10), (40, 10), (15, 20), (30, 20), (30, 30)], dtype=float)
Y = np.array([2, 3, 3.2, 5, 8, 7])


def _esda_w(w: sparse.spmatrix):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return libpysal.weights.WSP(sparse.csr_matrix(w)).to_W(silence_warnings=True)


def _esda_z(y, w):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return esda.G_Local(y, _esda_w(w), transform="B", star=True, permutations=0).Zs


def test_reference_points_match_methods_and_esda():
    w = g.distance_band(POINTS[:, 0], POINTS[:, 1], 15)
    z = gi_star_z(Y, w)
    assert z[0] == pytest.approx(-1.39727626, abs=1e-8)  # METHODS.md / esda test_getisord.py
    ref = esda.G_Local(
        Y,
        libpysal.weights.DistanceBand(POINTS, threshold=15),
        transform="B",
        star=True,
        permutations=0,
    )
    np.testing.assert_allclose(z, ref.Zs, atol=1e-9)


def test_all_three_methods_reference_values():
    from harmscope.analysis.gistar import local_g_z

    w = g.distance_band(POINTS[:, 0], POINTS[:, 1], 15)
    # METHODS.md, from esda tests/test_getisord.py
    assert local_g_z(Y, w, star=True, transform="B")[0] == pytest.approx(-1.39727626, abs=1e-8)
    assert local_g_z(Y, w, star=True, transform="R")[0] == pytest.approx(-0.62488094, abs=1e-8)
    assert local_g_z(Y, w, star=False, transform="B")[0] == pytest.approx(-1.0136729, abs=1e-7)
    np.testing.assert_allclose(local_g_z(Y, w), gi_star_z(Y, w), atol=1e-12)
    for star in (True, False):
        for tr in ("B", "R"):
            # a fresh W each time: G_Local changes the transform of the W it is given
            dw = libpysal.weights.DistanceBand(POINTS, threshold=15)
            with warnings.catch_warnings():
                warnings.simplefilter(
                    "ignore"
                )  # esda's note on how it infers the self-weight for 'R'
                ref = esda.G_Local(Y, dw, transform=tr, star=star, permutations=0).Zs
            np.testing.assert_allclose(local_g_z(Y, w, star=star, transform=tr), ref, atol=1e-9)


def test_distance_band_equals_libpysal():
    ours = g.distance_band(POINTS[:, 0], POINTS[:, 1], 15).toarray()
    theirs, _ = libpysal.weights.DistanceBand(POINTS, threshold=15).full()
    np.testing.assert_array_equal(ours, theirs)


@pytest.fixture(scope="module")
def kent_violence(kent_store):
    violence = g.EventFilter(["Violence and sexual offences"], date(2025, 1, 1), date(2025, 12, 1))
    pts = violence.points(kent_store)
    grid = g.make_grid(pts.x.to_numpy(), pts.y.to_numpy(), cell_size=1000)
    counts, _, _ = grid.count(pts)
    return grid, counts


@pytest.mark.parametrize("rule", ["queen", "knn:8", "distance:1500"])
def test_real_kent_grid_equals_esda(kent_violence, rule):
    grid, counts = kent_violence
    w, _ = g.neighbours(rule, x=grid.cells.x.to_numpy(), y=grid.cells.y.to_numpy(), grid=grid)
    ours = gi_star_z(counts, w)
    theirs = _esda_z(counts, w)
    assert counts.sum() > 60_000
    assert np.max(np.abs(ours - theirs)) < 1e-9


def test_queen_is_sfhotspot_distance_rule(kent_violence):
    grid, _ = kent_violence
    queen = g.grid_queen(grid)
    band = g.distance_band(
        grid.cells.x.to_numpy(), grid.cells.y.to_numpy(), grid.cell_size * np.sqrt(2)
    )
    assert (queen != band).nnz == 0
    assert np.asarray(queen.sum(axis=1)).max() == 8


def test_corrections_match_statsmodels():
    from statsmodels.stats.multitest import multipletests

    p = np.random.default_rng(3).uniform(0, 0.2, 500) ** 2
    np.testing.assert_allclose(adjust(p, "holm"), multipletests(p, method="holm")[1], atol=1e-12)
    np.testing.assert_allclose(adjust(p, "fdr"), multipletests(p, method="fdr_bh")[1], atol=1e-12)
    with pytest.raises(HarmscopeError):
        adjust(p, "bonferonni")


def test_classes():
    z = np.array([3.0, 2.0, 1.7, 0.1, -1.7, -2.0, -3.0])
    p = np.array([0.005, 0.04, 0.09, 0.9, 0.09, 0.04, 0.005])
    assert list(classify(z, p)) == GISTAR_CLASSES


def test_permutation_p_is_calibrated_and_seeded():
    rng = np.random.default_rng(11)
    grid = g.make_grid(np.array([0.0, 29_000]), np.array([0.0, 29_000]), cell_size=1000)
    w = g.grid_queen(grid)
    y = rng.gamma(2.0, 1.0, grid.n)  # spatially random: about 5% of p under 0.05
    p1 = permutation_p(y, w, permutations=199, seed=5)
    p2 = permutation_p(y, w, permutations=199, seed=5)
    np.testing.assert_array_equal(p1, p2)
    share = (p1 < 0.05).mean()
    assert 0.02 < share < 0.09
    # a planted cluster of high values is found with the smallest attainable p
    y2 = y.copy()
    hot = (grid.cells.ix.between(10, 12) & grid.cells.iy.between(10, 12)).to_numpy()
    y2[hot] += 20
    centre = np.nonzero((grid.cells.ix == 11).to_numpy() & (grid.cells.iy == 11).to_numpy())[0][0]
    p3 = permutation_p(y2, w, permutations=199, seed=5)
    assert p3[centre] == pytest.approx(2 / 200)


def test_permutation_p_agrees_with_esda(kent_violence):
    grid, counts = kent_violence
    w = g.grid_queen(grid)
    y = counts + np.random.default_rng(1).uniform(
        0, 0.01, len(counts)
    )  # break ties (esda counts ties one way)
    ours = permutation_p(y, w, permutations=999, seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = esda.G_Local(
            y, _esda_w(w), transform="B", star=True, permutations=999, seed=2, n_jobs=1
        )
    # esda's p_sim is one-sided (folded); ours is two-sided, so compare q = p/2. Two independent
    # Monte Carlo estimates of q differ with sd sqrt(2 q (1 - q) / 999). (Both share one set of
    # random draws across cells, so their errors are correlated and a mean over cells is no test.)
    q_ours, q_ref = ours / 2, ref.p_sim
    q = (q_ours + q_ref) / 2
    sd = np.sqrt(2 * q * (1 - q) / 999) + 1 / 1000
    assert np.mean(np.abs(q_ours - q_ref) < 3 * sd) > 0.99
    assert np.corrcoef(q_ours, q_ref)[0, 1] > 0.98


def test_gi_star_frame_and_errors():
    w = g.distance_band(POINTS[:, 0], POINTS[:, 1], 15)
    out = gi_star(Y, w, correction="fdr")
    assert list(out.columns) == ["gi_z", "gi_p", "gi_p_adjusted", "class"]
    with pytest.raises(HarmscopeError, match="same value"):
        gi_star_z(np.ones(6), w)
