"""Weight sensitivity: which harm conclusions survive every plausible choice of weights.

Harm = Σ weight × count, and the weights are uncertain in two ways the Poisson interval does
not cover: the scheme (ONS Crime Severity Score or Cambridge Crime Harm Index) and, within a
scheme, each category weight's own plausible range (``weight_low``..``weight_high`` in the
weights file; how each was set is in ``reference/data/offences/SOURCES.md``). This module
recomputes the share of harm by category and the ranking of categories and districts under
every scenario and lists the conclusions that hold under all of them.

Scenarios, per scheme (CSS and CHI): central; low (every category at its low bound); high
(every category at its high bound); and the two mixed extremes for the focus category
(Violence and sexual offences by default): "for" (focus at its high bound, every other
category at its low bound: the largest share the focus can take) and "against" (the
reverse). The mixed extremes bound the focus share over *every* combination of bounds,
because the share w_f n_f / (w_f n_f + Σ w_i n_i) rises in w_f and falls in each w_i.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harmscope.analysis.harm._data import months_covered, prepare, weighted_cube
from harmscope.analysis.harm.populations import LEVEL_KEYS, populations
from harmscope.analysis.harm.rates import coverage_note
from harmscope.analysis.intervals import weighted_poisson_ci
from harmscope.analysis.result import Result
from harmscope.reference.offences import ASB, load_weights
from harmscope.store import Store
from harmscope.store.queries.scope import CUBE_KEYS

FOCUS = "Violence and sexual offences"
SCHEMES = {"css": "ONS Crime Severity Score", "chi": "Cambridge Crime Harm Index"}
# (suffix, label, which bound each category takes: focus, others)
_VARIANTS = (
    ("central", "central weights", "weight", "weight"),
    ("low", "every category at its low bound", "weight_low", "weight_low"),
    ("high", "every category at its high bound", "weight_high", "weight_high"),
    ("for", "{focus} high, every other category low", "weight_high", "weight_low"),
    ("against", "{focus} low, every other category high", "weight_low", "weight_high"),
)
TOP_N = 3

METHOD = (
    "Weight sensitivity. Harm is recomputed from the same counts under each weighting "
    "scenario: for each scheme (ONS Crime Severity Score, Cambridge Crime Harm Index) the "
    "central weights, every category at the low end of its plausible range, every category at "
    "the high end, and the two mixed extremes that give the focus category its largest and "
    "smallest possible share (focus high and the rest low, and the reverse). The plausible "
    "ranges are the weight_low/weight_high columns of each weights table; how each was set is "
    "in reference/data/offences/SOURCES.md (they are judgements from published secondary "
    "sources, not confidence intervals). A conclusion is said to survive only if it holds "
    "under every scenario. The 95% harm interval of each scenario (Fay-Feuer gamma interval "
    "for a weighted sum of Poisson counts) covers counting noise only; the spread across "
    "scenarios is a separate and much wider uncertainty, from the choice of weights. Rows "
    "not placed in a district count in the category shares but not in the district ranking."
)


def scenario_weights(tables: dict[str, pd.DataFrame], focus: str = FOCUS) -> pd.DataFrame:
    """One column of category weights per scenario (index: category).

    ``tables`` maps a scheme key to a category weights table (columns category, weight and,
    optionally, weight_low/weight_high; a missing or blank bound counts as the weight, so a
    table without bounds gives low = high = central)."""
    cols = {}
    for scheme, wt in tables.items():
        t = wt.set_index("category")
        base = t["weight"].astype(float)
        bound = {
            "weight": base,
            "weight_low": _bound(t, "weight_low", base),
            "weight_high": _bound(t, "weight_high", base),
        }
        for suffix, _label, f_col, o_col in _VARIANTS:
            w = bound[o_col].copy()
            if focus in w.index:
                w[focus] = bound[f_col][focus]
            cols[f"{scheme}_{suffix}"] = w
    return pd.DataFrame(cols)


def _bound(t: pd.DataFrame, col: str, base: pd.Series) -> pd.Series:
    if col not in t.columns:
        return base.copy()
    return pd.to_numeric(t[col], errors="coerce").astype(float).fillna(base)


def scenario_labels(tables: dict[str, pd.DataFrame], focus: str = FOCUS) -> pd.DataFrame:
    """scenario, scheme, variant and a plain label for each scenario column."""
    rows = []
    for scheme in tables:
        for suffix, label, _f, _o in _VARIANTS:
            rows.append(
                {
                    "scenario": f"{scheme}_{suffix}",
                    "scheme": scheme,
                    "variant": suffix,
                    "label": f"{SCHEMES.get(scheme, scheme)}: {label.format(focus=focus)}",
                }
            )
    return pd.DataFrame(rows)


def shares_by_scenario(counts: pd.Series, weights: pd.DataFrame) -> pd.DataFrame:
    """Share of harm by category (rows) under each scenario (columns): count × weight over
    the scenario's total. ``counts`` is indexed by category."""
    w = weights.reindex(counts.index).fillna(0.0)
    harm = w.mul(counts.astype(float), axis=0)
    total = harm.sum(axis=0)
    return harm.div(total.where(total > 0), axis=1)


def district_harm(district_counts: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    """Harm by district (rows, index area_name) under each scenario (columns).

    ``district_counts``: area_name × category counts (wide)."""
    w = weights.reindex(district_counts.columns).fillna(0.0)
    return district_counts.astype(float) @ w


def _top(series: pd.Series, n: int) -> list[str]:
    return list(series.sort_values(ascending=False, kind="mergesort").index[:n])


def conclusions(
    shares: pd.DataFrame, districts: pd.DataFrame | None = None, focus: str = FOCUS
) -> pd.DataFrame:
    """The plain-words conclusions checked under every scenario: claim, holds (True only if
    it is true in every scenario column), detail.

    ``shares``: category × scenario shares of harm (``shares_by_scenario``); ``districts``:
    district × scenario harm (``district_harm``), or None."""
    rows = []
    shares = shares.drop(index=[ASB], errors="ignore").dropna(axis=1, how="all")
    if shares.shape[1] == 0:
        return pd.DataFrame(columns=["claim", "holds", "detail"])
    tops = shares.idxmax(axis=0)
    lead = tops.mode().iloc[0]
    lo, hi = float(shares.loc[lead].min()), float(shares.loc[lead].max())
    others = sorted(set(tops) - {lead})
    rows.append(
        {
            "claim": f"{lead} is the largest share of harm under every weighting "
            f"({lo:.0%} to {hi:.0%}).",
            "holds": not others,
            "detail": ""
            if not others
            else f"under some weightings the largest is {', '.join(others)}",
        }
    )
    if focus in shares.index:
        f = shares.loc[focus]
        rows.append(
            {
                "claim": f"{focus} is more than half of all harm under every weighting "
                f"({f.min():.0%} to {f.max():.0%}).",
                "holds": bool((f > 0.5).all()),
                "detail": "" if (f > 0.5).all() else f"its share falls to {f.min():.0%}",
            }
        )
    rows.append(_same_top("categories by harm", {c: _top(shares[c], TOP_N) for c in shares}))
    if districts is not None and len(districts) >= 2 and districts.shape[1]:
        # a claim about districts only where there is a choice (more than the top N, or two)
        tops_d = {c: _top(districts[c], TOP_N) for c in districts}
        if len(districts) > TOP_N:
            rows.append(_same_top("districts by harm", tops_d))
        first = {c: t[0] for c, t in tops_d.items()}
        lead_d = pd.Series(first).mode().iloc[0]
        rows.append(
            {
                "claim": f"{lead_d} has the most harm of any district under every weighting.",
                "holds": len(set(first.values())) == 1,
                "detail": ""
                if len(set(first.values())) == 1
                else "under some weightings it is "
                + ", ".join(sorted(set(first.values()) - {lead_d})),
            }
        )
    return pd.DataFrame(rows)


def _same_top(what: str, tops: dict[str, list[str]]) -> dict:
    sets = {frozenset(t) for t in tops.values()}
    first = next(iter(tops.values()))
    if len(sets) == 1:
        return {
            "claim": f"The top {len(first)} {what} are the same under every weighting "
            f"({', '.join(first)}).",
            "holds": True,
            "detail": "",
        }
    seen = sorted(set().union(*sets))
    return {
        "claim": f"The top {len(first)} {what} are the same under every weighting.",
        "holds": False,
        "detail": f"{len(seen)} different ones appear in the top {len(first)}: {', '.join(seen)}",
    }


def _rank_ranges(values: pd.DataFrame, central: str, key: str) -> pd.DataFrame:
    """Per row of ``values`` (rows × scenarios): rank under the central scenario and the
    smallest and largest rank over all scenarios (1 = most harm)."""
    ranks = values.rank(axis=0, ascending=False, method="min")
    return pd.DataFrame(
        {
            key: values.index,
            "rank_central": ranks[central].to_numpy(),
            "rank_best": ranks.min(axis=1).to_numpy(),
            "rank_worst": ranks.max(axis=1).to_numpy(),
        }
    )


def _harm_by_scenario(
    counts: pd.Series, weights: pd.DataFrame, labels: pd.DataFrame, alpha: float
) -> pd.DataFrame:
    """Total harm with its Poisson (Fay-Feuer) interval under each scenario."""
    n = counts.astype(float)
    rows = []
    for _, lab in labels.iterrows():
        w = weights[lab.scenario].reindex(n.index).fillna(0.0)
        harm, w2 = float((w * n).sum()), float((w * w * n).sum())
        w_max = float(w[n > 0].max()) if (n > 0).any() else 0.0
        lo, hi = weighted_poisson_ci(harm, w2, w_max, alpha)
        rows.append(
            {**lab.to_dict(), "harm": harm, "harm_ci_low": float(lo), "harm_ci_high": float(hi)}
        )
    return pd.DataFrame(rows)


def weight_sensitivity(
    store: Store,
    *,
    area: str,
    date_from: str | None = None,
    date_to: str | None = None,
    focus: str = FOCUS,
    tables: dict[str, pd.DataFrame] | None = None,
    alpha: float = 0.05,
) -> Result:
    """Shares of harm by category and rankings of categories and districts under every
    weighting scenario, with the conclusions that survive all of them.

    ``area`` is required (a force, county, district or CSP; no default). ``tables`` maps a
    scheme key to a category weights table (default: the packaged CSS and CHI tables).

    ``table``: per category, count, the central CSS and CHI shares, the smallest and largest
    share over all scenarios and the scenarios that give them, and the rank range.
    ``tables``: ``shares`` (category × scenario), ``scenarios`` (each scenario's weights label,
    total harm with its 95% Poisson interval and focus share), ``districts`` (district harm
    rank range and harm by scenario), ``conclusions`` (claim, holds, detail), ``weights``
    (category × scenario weights).
    """
    if tables is None:
        tables = {s: load_weights(s) for s in SCHEMES}
    first = next(iter(tables.values()))
    scope, _wt, _ = prepare(
        store,
        area,
        date_from,
        date_to,
        weights=first,
        need_area="weight sensitivity needs an area (a force, county, district or CSP)",
    )
    keys = {**LEVEL_KEYS["district"], "category": CUBE_KEYS["category"]}
    cube = weighted_cube(store, scope, first, keys)
    months = months_covered(store, scope)
    counts = cube.groupby("category")["count"].sum().astype("int64")
    weights = scenario_weights(tables, focus)
    labels = scenario_labels(tables, focus)
    shares = shares_by_scenario(counts, weights)
    placed = cube.dropna(subset=["area_code"])
    names = populations("district").set_index("area_code")["area_name"]
    placed = placed.assign(area_name=placed.area_code.map(names).fillna(placed.area_code))
    wide = placed.pivot_table(
        index="area_name", columns="category", values="count", aggfunc="sum", fill_value=0
    )
    dist = district_harm(wide, weights) if len(wide) else pd.DataFrame(columns=weights.columns)
    concl = conclusions(shares, dist, focus)
    central = labels.scenario.iloc[0]
    table = _category_table(counts, shares, central, labels)
    dist_table = (
        _rank_ranges(dist, central, "district").merge(
            dist.reset_index(names="district"), on="district"
        )
        if len(dist)
        else pd.DataFrame()
    )
    if len(dist_table):
        dist_table = dist_table.sort_values("rank_central").reset_index(drop=True)
    scen = _harm_by_scenario(counts, weights, labels, alpha)
    scen["focus_share"] = scen.scenario.map(shares.loc[focus]) if focus in shares.index else np.nan
    summary = _summary(scope.label, months, focus, shares, scen, concl, central)
    notes = [coverage_note(months)]
    notes += [
        f"Does not hold under every weighting: {r.claim} ({r.detail})."
        for r in concl.itertuples()
        if not r.holds
    ]
    return Result(
        table=table,
        summary=summary,
        method=METHOD,
        tables={
            "shares": shares.reset_index(names="category"),
            "scenarios": scen,
            "districts": dist_table,
            "conclusions": concl,
            "weights": weights.reset_index(names="category"),
        },
        notes=notes,
        title=f"Harm under every weighting: {scope.label}",
    )


def _category_table(
    counts: pd.Series, shares: pd.DataFrame, central: str, labels: pd.DataFrame
) -> pd.DataFrame:
    by_scheme = labels[labels.variant == "central"].scenario.tolist()
    out = pd.DataFrame({"category": counts.index, "count": counts.to_numpy()})
    for sc in by_scheme:
        out[f"share_{sc}"] = shares[sc].reindex(counts.index).to_numpy()
    out["share_min"] = shares.min(axis=1).reindex(counts.index).to_numpy()
    out["share_max"] = shares.max(axis=1).reindex(counts.index).to_numpy()
    filled = shares.fillna(-1.0)
    out["share_min_under"] = filled.idxmin(axis=1).reindex(counts.index).to_numpy()
    out["share_max_under"] = filled.idxmax(axis=1).reindex(counts.index).to_numpy()
    ranks = _rank_ranges(shares, central, "category")
    out = out.merge(ranks, on="category")
    return out.sort_values(["rank_central", "category"]).reset_index(drop=True)


def _summary(label, months, focus, shares, scen, concl, central) -> dict:
    summary = {
        "area": label,
        "months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "focus": focus,
        "scenarios": len(scen),
    }
    if focus in shares.index:
        f = shares.loc[focus]
        summary["focus_share_central"] = float(f[central])
        summary["focus_share_min"] = float(f.min())
        summary["focus_share_max"] = float(f.max())
        summary["focus_share_by_scenario"] = {k: float(v) for k, v in f.items()}
    by_scheme = {}
    for scheme, part in scen.groupby("scheme", sort=False):
        mid = part[part.variant == "central"].iloc[0]
        by_scheme[scheme] = {
            "harm_central": float(mid.harm),
            "harm_central_ci": [float(mid.harm_ci_low), float(mid.harm_ci_high)],
            "harm_min": float(part.harm.min()),
            "harm_max": float(part.harm.max()),
        }
    summary["harm_by_scheme"] = by_scheme
    summary["conclusions_surviving"] = concl.loc[concl.holds, "claim"].tolist()
    summary["conclusions_not_surviving"] = concl.loc[~concl.holds, "claim"].tolist()
    summary["uncertainty"] = uncertainty_sentence(by_scheme)
    return summary


def uncertainty_sentence(by_scheme: dict) -> str:
    """The combined statement, per scheme: the central harm total with its Poisson interval
    (counting noise only) beside the range over that scheme's weightings."""
    parts = []
    for scheme, s in by_scheme.items():
        h, (lo, hi) = s["harm_central"], s["harm_central_ci"]
        pm = (hi - lo) / 2 / h if h else 0.0
        parts.append(
            f"{SCHEMES.get(scheme, scheme)}: harm {h:,.0f} with a 95% Poisson interval of "
            f"{lo:,.0f} to {hi:,.0f} (about ±{pm:.1%}), but {s['harm_min']:,.0f} to "
            f"{s['harm_max']:,.0f} across its plausible weights"
        )
    return (
        "; ".join(parts)
        + ". The Poisson interval covers counting noise only; the range across weights is a "
        "separate, wider uncertainty. The two schemes use different scales, so compare their "
        "shares, not their totals."
    )
