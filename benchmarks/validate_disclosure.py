"""Disclosure control against a linear-programming attacker, at scale (the tests run a small
seeded version: tests/test_disclosure_control.py).

Run: .venv/bin/python benchmarks/validate_disclosure.py   (or `make validate`)
Draws TABLES random two-way tables (2-9 rows x 2-6 columns, a mix of small and large counts,
seeded) and protects each with totals published. For every hidden cell the attacker solves
min and max of the cell subject to every published row, column and grand total and to
non-negativity (scipy linprog). A cell whose min equals its max is recovered. It prints the
number of tables, hidden cells, cells recovered (must be 0), small counts published (must be
0), and how much was suppressed beyond the primary cells (the cost of secondary suppression).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from harmscope.privacy.disclosure import protect_counts

TABLES = 1000
SEED = 20251121
THRESHOLD = 5


def _attack(pub: np.ndarray) -> list[tuple[float, float]]:
    n1, m1 = pub.shape
    unknown = [(i, j) for i in range(n1) for j in range(m1) if np.isnan(pub[i, j])]
    if not unknown:
        return []
    idx = {c: k for k, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    lines = [[(i, j) for j in range(m1)] for i in range(n1)] + [
        [(i, j) for i in range(n1)] for j in range(m1)
    ]
    for line in lines:
        total = line[-1]
        row, rhs = np.zeros(len(unknown)), 0.0
        for c in line:
            sign = -1.0 if c == total else 1.0
            if c in idx:
                row[idx[c]] += sign
            else:
                rhs -= sign * pub[c]
        if row.any():
            a_eq.append(row)
            b_eq.append(rhs)
    out = []
    for k in range(len(unknown)):
        obj = np.zeros(len(unknown))
        obj[k] = 1
        kw = {"A_eq": np.array(a_eq), "b_eq": b_eq} if a_eq else {}
        lo = linprog(obj, bounds=[(0, None)] * len(unknown), **kw)
        hi = linprog(-obj, bounds=[(0, None)] * len(unknown), **kw)
        out.append((lo.fun, -hi.fun if hi.status == 0 else np.inf))
    return out


def main() -> None:
    rng = np.random.default_rng(SEED)
    t0 = time.perf_counter()
    hidden_total = primary_total = recovered = small_published = 0
    cells_total = 0
    for _ in range(TABLES):
        n, m = int(rng.integers(2, 10)), int(rng.integers(2, 7))
        small = rng.random((n, m)) < 0.25
        values = np.where(small, rng.integers(0, 5, (n, m)), rng.integers(0, 80, (n, m)))
        cols = [f"c{j}" for j in range(m)]
        prot = protect_counts(pd.DataFrame(values, columns=cols), cols, threshold=THRESHOLD)
        margins = prot.totals[None]
        pub = np.full((n + 1, m + 1), np.nan)
        pub[:n, :m] = prot.frame[cols].astype("Float64").to_numpy(float, na_value=np.nan)
        pub[:n, m] = margins["total"].iloc[:n].astype("Float64").to_numpy(float, na_value=np.nan)
        pub[n, :] = margins.iloc[n].astype("Float64").to_numpy(float, na_value=np.nan)
        shown = pub[~np.isnan(pub)]
        small_published += int(((shown >= 1) & (shown < THRESHOLD)).sum())
        intervals = _attack(pub)
        recovered += sum(1 for lo, hi in intervals if hi - lo <= 1e-6)
        hidden_total += int(prot.mask[cols].to_numpy().sum())
        primary_total += prot.primary
        cells_total += n * m
    dt = time.perf_counter() - t0
    print(f"tables: {TABLES} (seed {SEED}), threshold {THRESHOLD}, {cells_total:,} interior cells")
    print(
        f"hidden cells: {hidden_total:,} ({hidden_total / cells_total:.1%} of cells); "
        f"primary {primary_total:,}, secondary {hidden_total - primary_total:,} "
        f"({(hidden_total - primary_total) / max(primary_total, 1):.2f} per primary)"
    )
    print(f"cells recovered by the LP attacker: {recovered} (must be 0)")
    print(f"small counts published: {small_published} (must be 0)")
    print(f"time: {dt:.1f} s")


if __name__ == "__main__":
    main()
