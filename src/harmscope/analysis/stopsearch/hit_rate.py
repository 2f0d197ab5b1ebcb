"""The outcome (hit-rate) test: find rates by group compared with a reference group."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.intervals import add_rate, holm, newcombe_diff, two_proportion_z, wilson
from harmscope.analysis.result import Result
from harmscope.analysis.stopsearch.charts import group_rate_chart
from harmscope.analysis.stopsearch.searches import (
    DIMENSIONS,
    NOT_RECORDED,
    NOT_STATED,
    _select_searches,
)
from harmscope.errors import HarmscopeError

if TYPE_CHECKING:
    from harmscope.store import Store

HIT_RATE_METHOD = (
    "Outcome test (Knowles, Persico & Todd 2001; Ayres 2002): if officers search a group on "
    "weaker grounds, searches of that group find what was searched for less often. Find rate = "
    "share of searches whose outcome is linked to the object of search ({base}). Each group's "
    "rate has a 95% Wilson interval; the difference from the reference group has a Newcombe "
    "hybrid-score interval and a pooled two-proportion z test, with Holm-adjusted p-values "
    "across groups; a chi-square test of independence (groups x found) tests whether any group "
    "differs. Assumptions: searches are independent, and the linked flag is recorded the same "
    "way for every group. A lower find rate is consistent with a lower threshold for searching "
    "but does not prove it (groups can differ in what they carry; the test is an infra-marginal "
    "average). Groups 'not recorded'/'Not stated' are shown but not tested."
)


def hit_rate_test(
    store: Store,
    date_from: str | date | None = None,
    date_to: str | date | None = None,
    *,
    by: str = "officer_defined_ethnicity",
    reference: str | None = None,
    base: str = "all",
    force: str | None = None,
    min_searches: int = 1,
    outcome_mapping: str | Path | pd.DataFrame | None = None,
    alpha: float = 0.05,
) -> Result:
    """Find rates by group (ethnicity, age...) compared with a reference group.

    ``base='all'`` uses every search as the denominator; ``base='action'`` only those with
    an action outcome. ``reference`` defaults to White for ethnicity and the largest group
    otherwise.
    """
    if by not in DIMENSIONS or by == "month":
        raise HarmscopeError(
            f"cannot compare find rates by '{by}'",
            where="by",
            fix=f"use one of {[d for d in DIMENSIONS if d != 'month']}",
        )
    if base not in ("all", "action"):
        raise HarmscopeError(f"unknown base '{base}'", where="base", fix="use 'all' or 'action'")
    period, sql, params = _select_searches(
        store, date_from, date_to, force=force, outcome_mapping=outcome_mapping
    )
    where = "WHERE action" if base == "action" else ""
    frame = store.query(
        f"""{sql}
        SELECT {DIMENSIONS[by]} AS "group", count(*) AS searches, count(*) FILTER (WHERE found) AS finds
        FROM s {where} GROUP BY ALL ORDER BY searches DESC, "group" """,
        params,
    )
    missing_labels = {NOT_RECORDED, NOT_STATED}
    frame["tested"] = ~frame["group"].isin(missing_labels) & (frame.searches >= min_searches)
    if reference is None:
        reference = _default_reference(frame[frame.tested], by)
    if reference not in set(frame.loc[frame.tested, "group"]):
        raise HarmscopeError(
            f"reference group '{reference}' has no searches in {period.label}",
            where="reference",
            fix=f"choose one of {frame.loc[frame.tested, 'group'].tolist()}",
        )
    add_rate(frame, "finds", "searches", "find_rate", alpha)
    ref = frame[frame["group"] == reference].iloc[0]
    k, n = frame.finds.to_numpy(float), frame.searches.to_numpy(float)
    z, p = two_proportion_z(k, n, ref.finds, ref.searches)
    low, high = newcombe_diff(k, n, ref.finds, ref.searches, alpha)
    frame["difference"] = k / n - ref.finds / ref.searches
    frame["difference_low"], frame["difference_high"] = low, high
    frame["z"], frame["p_value"] = z, p
    compare = frame.tested & (frame["group"] != reference)
    frame.loc[~compare, ["difference_low", "difference_high", "z", "p_value"]] = np.nan
    frame["p_holm"] = np.nan
    frame.loc[compare, "p_holm"] = holm(frame.loc[compare, "p_value"])
    frame["ratio_to_reference"] = (k / n) / (ref.finds / ref.searches) if ref.finds else np.nan

    tested = frame[frame.tested]
    chi2 = dof = chi_p = None
    if len(tested) >= 2 and tested.finds.sum() > 0 and (tested.searches - tested.finds).sum() > 0:
        table = np.column_stack([tested.finds, tested.searches - tested.finds])
        keep = table.sum(axis=1) > 0
        chi2, chi_p, dof, _ = stats.chi2_contingency(table[keep], correction=False)
    notes = []
    small = tested[(tested.finds < 5) | (tested.searches - tested.finds < 5)]
    if len(small):
        notes.append(
            "Groups with fewer than 5 finds or non-finds have unreliable z and chi-square "
            f"approximations: {small['group'].tolist()}."
        )
    summary = {
        "period": period.label,
        "by": by,
        "base": base,
        "reference": reference,
        "groups_tested": int(len(tested)),
        "chi2": None if chi2 is None else float(chi2),
        "chi2_dof": None if dof is None else int(dof),
        "chi2_p_value": None if chi_p is None else float(chi_p),
        "reference_find_rate": float(ref.finds / ref.searches),
        "reference_find_rate_ci": list(wilson(int(ref.finds), int(ref.searches), alpha)),
    }
    label = "all searches" if base == "all" else "searches with an action outcome"
    return Result(
        table=frame,
        summary=summary,
        charts={"find_rates": group_rate_chart(frame, "find_rate", f"Find rate by {by}")},
        method=HIT_RATE_METHOD.format(base=label),
        notes=notes,
        title=f"Stop and search: find rates by {by}",
    )


def _default_reference(tested: pd.DataFrame, by: str) -> str | None:
    """White for ethnicity (White - English... for the 18 self-defined groups), else the
    group searched most; None when no group is tested."""
    is_eth = "ethnic" in by or by == "self_defined_broad"
    if is_eth and (tested["group"] == "White").any():
        return "White"
    if is_eth and tested["group"].str.startswith("White - English").any():
        return tested.loc[tested["group"].str.startswith("White - English"), "group"].iloc[0]
    if len(tested):
        return str(tested["group"].iloc[0])
    return None
