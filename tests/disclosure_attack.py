"""An attacker for published tables, independent of harmscope's own solver: a linear programme
(scipy linprog) whose unknowns are every hidden cell and hidden margin, whose equations are every
row/column/grand-total relation, and whose counts are non-negative. A hidden cell whose minimum
equals its maximum is recovered.

Shared by tests/test_disclosure_control.py and benchmarks/validate_disclosure.py (the same
attack at scale); it deliberately does not reuse harmscope.privacy.disclosure.pinned_cells, the
code it checks.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import linprog


def published_table(values: np.ndarray, prot) -> np.ndarray:
    """The augmented table as published: interior, row totals, column totals, grand total."""
    n, m = values.shape
    margins = prot.totals[None]
    two_way = m > 1
    shape = (n + 1, m + 1) if two_way else (n + 1, 1)
    pub = np.full(shape, np.nan)
    pub[:n, :m] = (
        prot.frame[[f"c{j}" for j in range(m)]]
        .astype("Float64")
        .to_numpy(dtype=float, na_value=np.nan)
    )
    if two_way:
        pub[:n, m] = margins["total"].iloc[:n].astype("Float64").to_numpy(float, na_value=np.nan)
        pub[n, :] = margins.iloc[n].astype("Float64").to_numpy(float, na_value=np.nan)
    else:
        pub[n, 0] = float(margins.iloc[n, 0]) if pd.notna(margins.iloc[n, 0]) else np.nan
    return pub


def attack(pub: np.ndarray, two_way: bool) -> dict[tuple[int, int], tuple[float, float]]:
    """Feasible [min, max] of every hidden cell given the published cells and totals."""
    n1, m1 = pub.shape
    unknown = [(i, j) for i in range(n1) for j in range(m1) if np.isnan(pub[i, j])]
    if not unknown:
        return {}
    idx = {c: k for k, c in enumerate(unknown)}
    a_eq, b_eq = [], []

    def add_line(cells, total):
        row = np.zeros(len(unknown))
        rhs = 0.0
        for c in cells:
            sign = -1.0 if c == total else 1.0
            if c in idx:
                row[idx[c]] += sign
            else:
                rhs -= sign * pub[c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)

    if two_way:
        for i in range(n1):
            add_line([(i, j) for j in range(m1)], (i, m1 - 1))
        for j in range(m1):
            add_line([(i, j) for i in range(n1)], (n1 - 1, j))
    else:
        add_line([(i, 0) for i in range(n1)], (n1 - 1, 0))
    kw = {"A_eq": np.array(a_eq), "b_eq": b_eq} if a_eq else {}
    bounds = [(0, None)] * len(unknown)
    out = {}
    for c, k in idx.items():
        obj = np.zeros(len(unknown))
        obj[k] = 1.0
        lo = linprog(obj, bounds=bounds, **kw)
        hi = linprog(-obj, bounds=bounds, **kw)
        assert lo.status == 0, "the published table must be consistent with the true one"
        out[c] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out
