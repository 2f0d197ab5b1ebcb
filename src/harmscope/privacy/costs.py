"""Harm in pounds (analysis.costs.harm_in_pounds) for an audience.

Every pound figure is a count times a unit cost, so it is protected with its count: where a
count is suppressed, its cost, cost interval, unit-cost range and harm go with it. The unit
costs themselves are reference data. Headline totals are published only when no category
count is hidden (a total minus the published categories would give a hidden one back).
"""

from __future__ import annotations

import pandas as pd

from harmscope.analysis.costs import OUTPUT_COLUMNS
from harmscope.analysis.result import Result
from harmscope.privacy.audience import Audience
from harmscope.privacy.publish import Publication

# columns derived from the count of the same row: every output column but the count itself
DERIVED = tuple(c for c in OUTPUT_COLUMNS if c != "count")
_FIGURES = (
    "count",
    "costed_count",
    "cost_gbp",
    "cost_gbp_ci",
    "cost_gbp_range",
    "harm",
    "harm_ci",
)
_WORDS = (
    "area",
    "months",
    "first_month",
    "last_month",
    "price_year",
    "deflator_ratio",
    "scheme",
    "uncosted_categories",
)


def _cross(df) -> dict:
    """A long table's two dimensions (and the third as ``by``), so its cells are protected
    jointly with the margins published beside it (by district, by category)."""
    dims = [c for c in ("district", "month", "category") if c in df.columns]
    if len(dims) < 2:
        return {}
    out = {"row": dims[0], "col": dims[-1]}
    if len(dims) == 3:
        out = {"row": "district", "col": "category", "by": "month"}
    return out


def publish_harm_in_pounds(
    res: Result, audience: str | Audience, threshold: int = 5
) -> Publication:
    """The cost-of-crime result for an audience: its tables with counts protected, the unit
    costs as reference, the totals only when nothing in the category table is hidden."""
    pub = Publication.for_audience(audience, "harm-pounds", threshold)
    for key, df in (
        ("table", res.table),
        ("by_category", res.tables["by_category"]),
        ("by_district", res.tables["by_district"]),
        ("uncosted", res.tables["uncosted"]),
    ):
        derived = {c: "count" for c in DERIVED if c in df.columns}
        pub.table(key, df, counts=["count"], derived=derived, **_cross(df))
    pub.table("unit_costs", res.tables["unit_costs"], reference=True)
    by_cat = pub.tables.get("by_category")
    hidden = by_cat is None or bool(by_cat["count"].isna().any())
    if pub.closed and hidden:
        pub.dropped.append("totals: withheld because a category count is suppressed")
    else:
        for key in _FIGURES:
            pub.figure(key, res.summary.get(key), source="by_category")
    for key in _WORDS:
        pub.figure(key, res.summary.get(key), source="reference")
    pub.text("method", res.method)
    pub.text("notes", _notes(res.notes, pub))
    return pub.finish()


def _notes(notes: list[str], pub: Publication) -> list[str]:
    """The analysis's notes; for a closed audience the two that carry counts are rebuilt from
    the protected tables (a hidden count shows as [c]), never copied."""
    if not pub.closed:
        return list(notes)
    out = [n for n in notes if not n.startswith("No published unit cost")]
    out = [n for n in out if "could not be placed in a district" not in n]
    uncosted = pub.tables.get("uncosted")
    if uncosted is not None and len(uncosted):
        listed = "; ".join(
            f"{cat} {'[c]' if pd.isna(n) else f'{int(n):,}'}"
            for cat, n in zip(uncosted["category"], uncosted["count"], strict=True)
        )
        out.insert(
            0, f"No published unit cost, so not in the pounds (costed at 0): {listed} crimes."
        )
    if any("could not be placed in a district" in n for n in notes):
        out.append(
            "Some crimes could not be placed in a district: they are in the totals and category "
            "figures but not in the district table."
        )
    return out
