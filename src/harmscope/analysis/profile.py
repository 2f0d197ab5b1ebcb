"""The problem profile's own figures, computed from the harm analyses' tables.

The report's sections present; they do not compute (issue 11). What a section used to work
out for itself from a harm result (the headline measures, the category shares, the seasonal
index, the change on the same months a year before, the front page's month-on-month ratio)
lives here, as functions of frames, so each can be tested against an independent answer
(tests/test_profile.py). They take the tables that ``harm_by_area`` and ``harm_trend``
return (columns ``count``, ``harm``, ``harm_w2`` = Σw²n, ``w_max``) and plain arguments.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from harmscope.analysis.harm import HARM_SUMS, add_rates, log_ratio_ci, shift_year

MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

HEADLINE_COLUMNS = [
    "measure",
    "count",
    "harm",
    "harm_ci_low",
    "harm_ci_high",
    "share_of_harm",
    "rate_per_1000",
    "rate_ci_low",
    "rate_ci_high",
    "harm_rate_per_1000",
    "harm_rate_ci_low",
    "harm_rate_ci_high",
]


def area_population(totals: pd.DataFrame) -> float:
    """Residents of the areas in a ``harm_by_area`` totals table (each area once)."""
    return float(totals.drop_duplicates("area_code")["population"].sum())


def _pooled(part: pd.DataFrame) -> dict:
    """One group's sums (HARM_SUMS); an empty group has no weight that could contribute."""
    return {
        "count": int(part["count"].sum()),
        "harm": float(part["harm"].sum()),
        "harm_w2": float(part["harm_w2"].sum()),
        "w_max": float(part["w_max"].max()) if len(part) else 0.0,
    }


def headline_measures(
    cube: pd.DataFrame,
    own_weights: dict[str, float],
    population: float,
    groups: Sequence[tuple[str, Iterable[str] | None]],
) -> pd.DataFrame:
    """One row per headline measure: count, harm, share of all harm and rates per 1,000
    residents with 95% intervals (``add_rates``: Garwood for counts, Fay-Feuer for harm).

    ``cube`` holds one row per category (``count``, ``harm``, ``harm_w2``, ``w_max``, as
    harm_by_area weighted them). ``groups`` are (label, categories); categories None means
    every row of the cube with its own harm (for the public audience that harm uses the
    published weights, which only an all-crime total may). A group of named categories is
    re-weighted with each category's own weight from ``own_weights``: a per-category sum over
    districts of published weights would mix weights merged differently in each district.
    """
    by_cat = cube.groupby("category", as_index=False).agg(**HARM_SUMS)
    own = by_cat.copy()
    wc = own["category"].map(own_weights).astype(float)
    own["harm"] = own["count"] * wc
    own["harm_w2"] = own["count"] * wc * wc
    own["w_max"] = wc.where(own["count"] > 0, 0.0)
    rows = []
    for label, cats in groups:
        part = by_cat if cats is None else own[own["category"].isin(list(cats))]
        rows.append({"measure": label, **_pooled(part)})
    out = pd.DataFrame(rows)
    out["population"] = float(population)
    out = add_rates(out)
    harm_all = float(by_cat["harm"].sum())
    out["share_of_harm"] = out["harm"] / harm_all if harm_all else np.nan
    return out[HEADLINE_COLUMNS]


def category_shares(cube: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Count and harm by category with each one's share of the area's crimes and harm,
    most harm first: category, weight, count, count_share, harm, harm_share.

    ``cube`` has a row per category (or per area and category: they are summed); ``weights``
    has category and weight."""
    out = cube.groupby("category", as_index=False).agg(count=("count", "sum"), harm=("harm", "sum"))
    out = out.merge(weights[["category", "weight"]], on="category", how="left")
    out["count_share"] = out["count"] / max(int(out["count"].sum()), 1)
    total_harm = out["harm"].sum()
    out["harm_share"] = out["harm"] / total_harm if total_harm else float("nan")
    out = out.sort_values("harm", ascending=False).reset_index(drop=True)
    return out[["category", "weight", "count", "count_share", "harm", "harm_share"]]


def published_category_shares(
    categories: pd.DataFrame, counts: pd.DataFrame, total_count: float, total_harm: float
) -> pd.DataFrame:
    """Category shares rebuilt from published counts (missing where a count is suppressed):
    a category's harm is its weight times its published count; its shares are of the area's
    total count and (published-weights) total harm. Most harm first, suppressed rows last.

    ``categories`` has category and weight; ``counts`` has category and count (nullable)."""
    pub = categories[["category", "weight"]].merge(counts, on="category", how="left")
    published = pub["count"].astype("Float64")
    pub["count_share"] = published / total_count if total_count else pd.NA
    pub["harm"] = published * pub["weight"].astype("Float64")
    pub["harm_share"] = pub["harm"] / total_harm if total_harm else pd.NA
    pub = pub[["category", "weight", "count", "count_share", "harm", "harm_share"]]
    return pub.sort_values("harm", ascending=False, na_position="last").reset_index(drop=True)


def seasonal_index(monthly: pd.DataFrame) -> pd.DataFrame:
    """Each month's harm over the mean monthly harm of its calendar year (complete years only).

    ``monthly`` has ``month`` (YYYY-MM), ``count`` and ``harm``. Returns year, month_of_year
    (Jan..Dec), month, count, harm, seasonal_index; the index is missing in a year with fewer
    than 12 months held, where the mean would be of a part of the year.
    """
    seas = monthly[["month", "count", "harm"]].copy()
    seas["year"] = seas["month"].str[:4]
    seas["month_of_year"] = seas["month"].str[5:].astype(int).map(lambda m: MONTH_NAMES[m - 1])
    months_in_year = seas.groupby("year")["month"].transform("count")
    seas["seasonal_index"] = np.where(
        months_in_year == 12, seas["harm"] / seas.groupby("year")["harm"].transform("mean"), np.nan
    )
    return seas[["year", "month_of_year", "month", "count", "harm", "seasonal_index"]]


def same_period_change(monthly: pd.DataFrame, month_from: str, month_to: str) -> pd.DataFrame:
    """The months from ``month_from`` to ``month_to`` that also have the same month a year
    before, pooled: counts and harm now and then, and their ratios with delta-method log
    intervals (``log_ratio_ci``; a count's variance is itself, harm's is Σw²n). One row, or
    an empty frame when no month pairs.

    ``monthly`` has month (YYYY-MM), count, harm and harm_w2 (harm_trend's table)."""
    idx = monthly.set_index("month")
    cur = [m for m in idx.index if month_from <= m <= month_to]
    pairs = [(m, shift_year(m, -1)) for m in cur]
    pairs = [(m, p) for m, p in pairs if p in idx.index]
    if not pairs:
        return pd.DataFrame()
    now = idx.loc[[m for m, _ in pairs]]
    before = idx.loc[[p for _, p in pairs]]
    c1, c0 = float(now["count"].sum()), float(before["count"].sum())
    h1, h0 = float(now["harm"].sum()), float(before["harm"].sum())
    v1, v0 = float(now["harm_w2"].sum()), float(before["harm_w2"].sum())
    cr, clo, chi = log_ratio_ci(c1, c1, c0, c0)
    hr, hlo, hhi = log_ratio_ci(h1, v1, h0, v0)
    return pd.DataFrame(
        [
            {
                "months": f"{pairs[0][0]} to {pairs[-1][0]}",
                "previous_months": f"{pairs[0][1]} to {pairs[-1][1]}",
                "n_months": len(pairs),
                "count": int(c1),
                "count_previous": int(c0),
                "count_ratio": float(cr),
                "count_ratio_ci_low": float(clo),
                "count_ratio_ci_high": float(chi),
                "harm": h1,
                "harm_previous": h0,
                "harm_ratio": float(hr),
                "harm_ratio_ci_low": float(hlo),
                "harm_ratio_ci_high": float(hhi),
            }
        ]
    )


def coverage_figures(
    placement: pd.DataFrame, outcomes: pd.DataFrame, pending: Iterable[str]
) -> dict:
    """The data-coverage caveats' numbers: rows not placed in a district, rows placed by their
    point (a 2021-only LSOA code), and the share of rows whose outcome was still ``pending``
    when the file was published (None when there is no such row).

    ``placement`` has placement (text) and rows; ``outcomes`` has outcome_status and rows."""
    rows = outcomes["rows"].sum()
    pending_rows = outcomes.loc[outcomes["outcome_status"].isin(list(pending)), "rows"].sum()
    return {
        "unplaced": placement.loc[placement["placement"].str.contains("not placed"), "rows"].sum(),
        "placed_by_point": placement.loc[
            placement["placement"].str.contains("point"), "rows"
        ].sum(),
        "pending_share": pending_rows / rows if pending_rows and rows else None,
    }


def count_ratio_ci(a: float, b: float) -> tuple[float, float] | None:
    """95% interval of a/b for two Poisson counts (log scale, delta method, z = 1.96); None
    when either count is zero (the log ratio has no interval)."""
    if a <= 0 or b <= 0:
        return None
    se = math.sqrt(1 / a + 1 / b)
    r = a / b
    return r * math.exp(-1.96 * se), r * math.exp(1.96 * se)


def overlapping_neighbours(ranked: pd.DataFrame) -> int:
    """How many pairs of neighbouring ranks have overlapping intervals (``harm_rate_ci_low``
    of one at or below ``harm_rate_ci_high`` of the next): orders another period could swap."""
    lo = ranked["harm_rate_ci_low"].astype(float).to_numpy()
    hi = ranked["harm_rate_ci_high"].astype(float).to_numpy()
    return int(sum(1 for k in range(len(ranked) - 1) if lo[k] <= hi[k + 1]))


def weight_range_figures(
    focus_shares: dict[str, float], central: dict[str, str], conclusions: pd.DataFrame
) -> dict:
    """The front page's weight-sensitivity figures, from a ``weight_sensitivity`` result.

    ``focus_shares``: scenario -> the focus category's share of harm; ``central``: scheme
    label -> its central scenario key; ``conclusions``: claim, holds (every scenario), detail.
    Returns ``range_text`` ("35% to 88%"), ``central_text`` ("72% with ...; 86% with ..."),
    ``surviving`` and ``not_surviving`` (lists of claims)."""
    values = [v for v in focus_shares.values() if v == v]
    if not values:
        return {"range_text": "", "central_text": "", "surviving": [], "not_surviving": []}
    lo, hi = min(values), max(values)
    return {
        "range_text": f"{lo:.0%} to {hi:.0%}",
        "central_text": "; ".join(
            f"{focus_shares[key]:.0%} with the {label}"
            for label, key in central.items()
            if key in focus_shares
        ),
        "surviving": conclusions.loc[conclusions["holds"].astype(bool), "claim"].tolist(),
        "not_surviving": conclusions.loc[~conclusions["holds"].astype(bool), "claim"].tolist(),
    }
