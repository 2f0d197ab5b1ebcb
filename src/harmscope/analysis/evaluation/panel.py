"""Area x month count panels: shapes of the panels the query layer reads.

The panels themselves (counts per area and month, zero-filled over the months each force
published, and the area covariates) are aggregated in the engine by
``harmscope.store.queries.evaluation`` (the only event-level work of an evaluation)."""

from __future__ import annotations

import pandas as pd

from harmscope.store.queries.evaluation import UNITS, VIOLENCE

__all__ = ["UNITS", "VIOLENCE", "wide"]


def wide(panel: pd.DataFrame) -> pd.DataFrame:
    """Months x areas matrix of counts."""
    return panel.pivot_table(index="month", columns="area", values="count", aggfunc="sum").fillna(
        0.0
    )
