"""What every placebo scheme of one run shares, built once from the panels.

A placebo run evaluates hundreds of random LSOA schemes on the same panels. Per scheme the
old path rebuilt, by ``pivot_table``, the months x LSOA matrix of the comparison pool and the
months x district matrix of donors, re-estimated the noise model of the same force and
recomputed every area's pre-period features. Here those are built once and each scheme takes
what it needs out of them, with the same figures (counts are whole numbers held as floats, so
sums and differences of them are exact whatever their order).

A planted effect (:func:`harmscope.analysis.evaluation.placebo.plant`) changes only the
treated LSOAs' outcome counts, which none of the pool, donor or feature matrices contain; the
noise model does contain them, so it is reused only for the very panels it came from.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.evaluation.design import _districts
from harmscope.store.queries.evaluation import Panels


class Shared:
    """Matrices of the LSOA panel built once; ``noise``, ``features``: memos for one panel."""

    def __init__(self, panels: Panels):
        self.panels = panels
        p = panels.lsoa
        month, self.months = pd.factorize(p["month"], sort=True)
        area, area_names = pd.factorize(p["area"], sort=True)
        district, self.districts = pd.factorize(p["district"], sort=True)
        self.areas = set(area_names)
        self._area_code = {a: i for i, a in enumerate(area_names)}
        n_m, n_a, n_d = len(self.months), len(area_names), len(self.districts)
        y = p["count"].to_numpy(dtype=float)
        # months x LSOAs: summed counts (0 where no row) and whether a row exists
        cell = month * n_a + area
        self.lsoa_counts = np.bincount(cell, weights=y, minlength=n_m * n_a).reshape(n_m, n_a)
        self.lsoa_rows = np.bincount(cell, minlength=n_m * n_a).reshape(n_m, n_a) > 0
        # months x districts: summed counts and row counts; each row's cell, to take rows out
        self._row_area, self._row_cell, self._y = area, month * n_d + district, y
        self.district_counts = self._by_district(np.ones(len(y), dtype=bool))
        self.big_districts = _districts(panels.district).index
        self.noise: dict[str, tuple[float, float]] = {}
        self.features: dict[pd.Timestamp, pd.DataFrame] = {}

    def _by_district(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        size = len(self.months) * len(self.districts)
        shape = (len(self.months), len(self.districts))
        cells = self._row_cell[rows]
        total = np.bincount(cells, weights=self._y[rows], minlength=size).reshape(shape)
        return total, np.bincount(cells, minlength=size).reshape(shape)

    def pool_matrix(self, pool) -> pd.DataFrame:
        """Months x pool LSOAs: what ``pivot_table(...).fillna(0)`` of the pool's rows gives."""
        names = sorted(set(pool))
        cols = np.array([self._area_code[a] for a in names], dtype=np.int64)
        rows = self.lsoa_rows[:, cols].any(axis=1)
        return pd.DataFrame(
            self.lsoa_counts[np.ix_(rows, cols)], index=self.months[rows], columns=names
        ).rename_axis(index="month", columns="area")

    def donor_matrix(self, treated) -> pd.DataFrame:
        """Months x districts of every LSOA row but the ``treated`` LSOAs' (NaN where none is
        left): what ``pivot_table`` of the other rows by district gives. The treated rows
        are taken from the panels the matrix came from: a planted copy differs only there."""
        codes = [self._area_code[a] for a in set(treated) if a in self._area_code]
        tr_total, tr_rows = self._by_district(np.isin(self._row_area, codes))
        total, rows = self.district_counts
        left = rows - tr_rows > 0
        don = np.where(left, total - tr_total, np.nan)
        # pivot_table keeps only the months and districts that have rows
        keep_m, keep_d = left.any(axis=1), left.any(axis=0)
        return pd.DataFrame(
            don[np.ix_(keep_m, keep_d)], index=self.months[keep_m], columns=self.districts[keep_d]
        ).rename_axis(index="month", columns="district")


def placebo_sets(by_area: pd.DataFrame, n_sets: int, size: int, rng) -> pd.DataFrame:
    """Months x ``n_sets`` sums of ``size`` random columns of ``by_area`` (``rng`` drawn as
    the per-set ``rng.choice`` it replaces)."""
    mat = by_area.to_numpy(dtype=float)
    sums = [
        mat[:, rng.choice(mat.shape[1], size, replace=False)].sum(axis=1) for _ in range(n_sets)
    ]
    return pd.DataFrame(
        np.column_stack(sums) if sums else np.empty((len(mat), 0)),
        index=by_area.index,
        columns=[f"placebo set {i + 1}" for i in range(n_sets)],
    )
