"""The concentration curve: cells ranked by offences, cumulative shares of offences and of
searches, and its concentration index."""

from __future__ import annotations

import numpy as np
import pandas as pd


def concentration_curve(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells ranked by offences: cumulative share of cells, offences and searches."""
    n = len(cells)
    off_total = max(int(cells.offences.sum()), 1)
    s_total = max(int(cells.searches.sum()), 1)
    return pd.DataFrame(
        {
            "rank": np.arange(1, n + 1),
            "cell_share": np.arange(1, n + 1) / n,
            "offence_share": cells.offences.cumsum().to_numpy() / off_total,
            "search_share": cells.searches.cumsum().to_numpy() / s_total,
        }
    )


def concentration_index(curve: pd.DataFrame) -> dict[str, float]:
    """2 x area under each cumulative curve (trapezoids from the origin) - 1."""
    x = np.concatenate([[0.0], curve.cell_share.to_numpy()])
    out = {}
    for col, key in (("search_share", "searches"), ("offence_share", "offences")):
        y = np.concatenate([[0.0], curve[col].to_numpy()])
        out[key] = float(2 * np.trapezoid(y, x) - 1)
    return out


def curve_percentiles(curve: pd.DataFrame) -> pd.DataFrame:
    """The concentration curve at each whole percent of cells (what is charted and published).

    Steps of 1% of cells aggregate many cells each, so no single cell's count can be read
    off the published curve.
    """
    if curve.empty:
        return curve
    targets = np.arange(1, 101) / 100
    idx = np.searchsorted(curve.cell_share.to_numpy(), targets - 1e-12)
    idx = np.unique(np.clip(idx, 0, len(curve) - 1))
    return curve.iloc[idx].reset_index(drop=True)
