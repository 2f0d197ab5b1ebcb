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

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.privacy.disclosure import protect_counts

# The tests' attacker, so that the small seeded test and this run attack the same way.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from disclosure_attack import attack, published_table  # noqa: E402

TABLES = 1000
SEED = 20251121
THRESHOLD = 5


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
        pub = published_table(values, prot)
        shown = pub[~np.isnan(pub)]
        small_published += int(((shown >= 1) & (shown < THRESHOLD)).sum())
        intervals = attack(pub, two_way=True).values()
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
