"""Concentration of harm and of counts across places: top-k% shares, Lorenz curve, Gini.

Units are 2011 LSOAs (every LSOA of the area, zeros included) or street locations (the
police.uk snap point text plus its LSOA; only locations with a recorded crime exist, so the
location shares describe where crime was recorded, as in Weisburd's street-segment work).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from harmscope.analysis.harm._data import (
    lsoa_frame,
    lsoa_placement_note,
    months_covered,
    prepare,
    weighted_cube,
)
from harmscope.analysis.harm.rates import MIXED_NOTE, coverage_note
from harmscope.analysis.harm.scope import area_or_only_force, require_area, scheme_name
from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.store import Store
from harmscope.store.queries.catalog import forces_held
from harmscope.store.queries.scope import CUBE_KEYS

TOP_PCTS = (1, 5, 10)


def top_share(values, pct: float) -> float:
    """Share of the total held by the top ``pct``% of units (ceil(pct% × n) units)."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    total = x.sum()
    if len(x) == 0 or total <= 0:
        return math.nan
    k = max(1, math.ceil(len(x) * pct / 100))
    return float(x[:k].sum() / total)


def units_for_share(values, share: float) -> float:
    """Smallest fraction of units that together hold ``share`` of the total."""
    x = np.sort(np.asarray(values, dtype=float))[::-1]
    total = x.sum()
    if len(x) == 0 or total <= 0:
        return math.nan
    k = int(np.searchsorted(np.cumsum(x) / total, share - 1e-12) + 1)
    return k / len(x)


def gini(values) -> float:
    """Gini coefficient of non-negative values: (2 Σ i·x₍ᵢ₎)/(n Σx) − (n+1)/n, ascending order.

    Equals 1 − 2 × (area under the Lorenz curve drawn through (i/n, Lᵢ) with straight
    segments) and the mean absolute difference over twice the mean.
    """
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    if n == 0 or x.sum() <= 0:
        return math.nan
    if np.any(x < 0):
        raise ValueError("Gini needs non-negative values")
    i = np.arange(1, n + 1)
    return float(2 * (i * x).sum() / (n * x.sum()) - (n + 1) / n)


def lorenz(values, max_points: int = 201) -> pd.DataFrame:
    """Lorenz curve points (share of units, share of total), ascending, from (0, 0) to (1, 1)."""
    x = np.sort(np.asarray(values, dtype=float))
    n = len(x)
    total = x.sum()
    pu = np.concatenate([[0.0], np.arange(1, n + 1) / n])
    pv = np.concatenate([[0.0], np.cumsum(x) / total]) if total > 0 else np.full(n + 1, np.nan)
    if n + 1 > max_points:
        idx = np.unique(np.round(np.linspace(0, n, max_points)).astype(int))
        pu, pv = pu[idx], pv[idx]
    return pd.DataFrame({"unit_share": pu, "value_share": pv})


# Bootstrap replicates drawn and sorted together, at most this many values at a time (about
# 16 MB of float64 per array), so a store with many street locations keeps its memory flat.
_BOOT_CHUNK = 2_000_000


def _sorted_stats(x: np.ndarray, ranks: np.ndarray) -> list[float]:
    """Gini and the top shares of one replicate from its values sorted ascending: the same
    arithmetic, in the same order, as :func:`gini` and :func:`top_share` (which sort the
    values again each), so the figures are bit-for-bit theirs."""
    n = len(x)
    total = x.sum()
    if n == 0 or total <= 0:
        return [math.nan] * (1 + len(TOP_PCTS))
    if x[0] < 0:
        raise ValueError("Gini needs non-negative values")
    out = [float(2 * (ranks * x).sum() / (n * total) - (n + 1) / n)]
    desc = x[::-1]
    total_desc = desc.sum()  # summed in descending order, as top_share does
    for p in TOP_PCTS:
        k = max(1, math.ceil(n * p / 100))
        out.append(float(desc[:k].sum() / total_desc))
    return out


def _bootstrap(counts: np.ndarray, weights_per_unit: np.ndarray, reps: int, seed: int):
    """Poisson parametric bootstrap of Gini and top shares (count noise only).

    Replicates are drawn a block at a time (the generator gives the same numbers as one draw
    per replicate) and each is sorted once; the figures equal the loop of ``gini`` and
    ``top_share`` calls this replaced (``tests/test_report_speed.py`` keeps that loop and
    checks it)."""
    rng = np.random.default_rng(seed)
    n = len(counts)
    ranks = np.arange(1, n + 1)
    block = max(1, _BOOT_CHUNK // max(n, 1))
    # Unit weights (the count bootstrap): the draws are whole numbers, exact as floats, so
    # sorting the integers and converting gives the very array sorting the floats gives, at
    # about a third of the cost (issue 18).
    unit_weights = bool(np.all(np.asarray(weights_per_unit) == 1.0))
    out: list[list[float]] = []
    for start in range(0, reps, block):
        size = min(block, reps - start)
        draws = rng.poisson(counts, size=(size, n))
        if unit_weights:
            vals = np.sort(draws, axis=1).astype(float)
        else:
            vals = np.sort(draws * weights_per_unit, axis=1)
        out.extend(_sorted_stats(row, ranks) for row in vals)
    return np.array(out)


def _bootstraps(counts: np.ndarray, per_unit_w: np.ndarray, reps: int, seed: int):
    """The harm bootstrap (seed) and the count bootstrap (seed + 1), side by side: they share
    nothing, and numpy's Poisson draws and sorts release the GIL, so on two cores the pair
    costs about one. Each has its own generator, so the figures are those drawn one after
    the other."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=2) as pool:
        harm = pool.submit(_bootstrap, counts, per_unit_w, reps, seed)
        count = pool.submit(_bootstrap, counts, np.ones_like(counts), reps, seed + 1)
        return harm.result(), count.result()


def concentration(
    store: Store,
    *,
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    categories=None,
    unit: str = "lsoa",
    reps: int = 200,
    seed: int = 20240101,
    alpha: float = 0.05,
) -> Result:
    """Share of harm and of counts in the top 1/5/10% of LSOAs or street locations.

    ``table``: one row per unit with count and harm, sorted by harm. ``tables['lorenz']``:
    Lorenz points for harm and count. ``summary``: gini_harm, gini_count, top{1,5,10}_harm_share,
    top{1,5,10}_count_share (each also as *_expected with *_expected_ci: the concentration
    of expected crime, with recording noise removed by a Poisson bootstrap), and the share of units
    holding 50% and 25% of harm and of counts (Weisburd's law of crime concentration).
    """
    # no area: the one force the store holds, announced in the notes
    area, area_note = area_or_only_force(area, lambda: forces_held(store))
    if unit not in ("lsoa", "location"):
        raise HarmscopeError(f"unknown unit {unit!r}", where="unit", fix="use 'lsoa' or 'location'")
    scope, wt, wlabel = prepare(store, area, date_from, date_to, scheme, weights, categories)
    if unit == "lsoa":
        require_area(scope, "LSOA concentration needs an area so that LSOAs with no crime count")
        df = lsoa_frame(store, scope, wt)[["area_code", "area_name", "count", "harm"]]
        df = df.rename(columns={"area_code": "unit_id", "area_name": "unit_name"})
        unit_text = "2011 LSOAs (all in the area, including those with no crime)"
    else:
        cube = weighted_cube(
            store,
            scope,
            wt,
            {"unit_name": CUBE_KEYS["location"], "lsoa": CUBE_KEYS["any_lsoa"]},
        )
        cube = cube[cube.unit_name.notna() & ~cube.unit_name.str.lower().eq("no location")]
        cube["unit_id"] = cube.unit_name + " | " + cube.lsoa.fillna("")
        df = cube[["unit_id", "unit_name", "count", "harm"]]
        unit_text = (
            "street locations (police.uk snap-point text within an LSOA) with at least one crime"
        )
    # Ties broken by unit, harm rounded past float noise: the seeded bootstrap then draws the
    # same numbers whichever engine added the harm up (DuckDB and PostgreSQL sum in other orders).
    key = df.assign(_h=df.harm.round(6))
    df = df.loc[key.sort_values(["_h", "count", "unit_id"], ascending=[False, False, True], kind="stable").index].reset_index(drop=True)  # fmt: skip
    counts = df["count"].to_numpy(float)
    harm = df["harm"].to_numpy(float)
    if len(df) == 0 or counts.sum() == 0:
        raise HarmscopeError(
            f"no crimes in {scope.label} for these months",
            where="--area/--from/--to",
            fix="widen the period or check the area",
        )
    per_unit_w = np.where(counts > 0, harm / np.maximum(counts, 1), 0.0)
    summary: dict = {
        "area": scope.label,
        "unit": unit,
        "units": int(len(df)),
        "scheme": scheme_name(scheme, weights),
    }
    summary["gini_harm"] = gini(harm)
    summary["gini_count"] = gini(counts)
    for p in TOP_PCTS:
        summary[f"top{p}_harm_share"] = top_share(harm, p)
        summary[f"top{p}_count_share"] = top_share(counts, p)
    for s in (0.5, 0.25):
        tag = int(s * 100)
        summary[f"units_for_{tag}pct_harm"] = units_for_share(harm, s)
        summary[f"units_for_{tag}pct_count"] = units_for_share(counts, s)
    if reps > 0:
        # the harm of a unit is resampled as Poisson(count) x its mean weight (keeps the mix)
        boot_h, boot_c = _bootstraps(counts, per_unit_w, reps, seed)
        q = [100 * alpha / 2, 100 * (1 - alpha / 2)]
        names = ["gini"] + [f"top{p}" for p in TOP_PCTS]
        for j, name in enumerate(names):
            for tag, boot in (("harm", boot_h), ("count", boot_c)):
                key = f"gini_{tag}" if name == "gini" else f"{name}_{tag}_share"
                obs = summary[key]
                lo, hi = np.nanpercentile(boot[:, j], q)
                # Poisson noise makes recorded crime look more concentrated than the risk
                # behind it; the basic bootstrap (2θ - θ*) takes out part of that shift.
                summary[f"{key}_expected"] = float(2 * obs - np.nanmean(boot[:, j]))
                summary[f"{key}_expected_ci"] = [float(2 * obs - hi), float(2 * obs - lo)]
    lz = pd.concat(
        [lorenz(harm).assign(measure="harm"), lorenz(counts).assign(measure="count")],
        ignore_index=True,
    )
    shares = pd.DataFrame(
        [
            {"top_pct": p, "measure": m, "share": summary[f"top{p}_{m}_share"]}
            for p in TOP_PCTS
            for m in ("harm", "count")
        ]
    )
    months = months_covered(store, scope)
    method = (
        f"Units: {unit_text}. Harm weights: {wlabel}. Units are ranked by harm (and separately "
        "by count); the top k% is the ceil(k% × n) highest units. Gini = (2Σi·x₍ᵢ₎)/(nΣx) − (n+1)/n "
        "over units in ascending order (0 = even, 1 = all in one unit); the Lorenz curve plots "
        "cumulative share of units against cumulative share of harm. The shares and Gini are "
        "facts about the recorded crimes. But where crimes per unit are few, chance alone makes "
        "them look concentrated (one crime in one of many quiet places), so we also give the "
        "concentration of expected crime (*_expected, with *_expected_ci): a Poisson "
        f"parametric bootstrap ({reps} replicates, seed {seed}) redraws each unit's count, "
        "keeping its mean weight, and the basic bootstrap (2θ̂ − θ*) removes part of the "
        "noise-driven shift: in seeded simulations (benchmarks/validate_harm.py) it removed "
        "about a third of the inflation at 0.5 crimes per place, two thirds at 2 and nearly "
        "all at 10 or more, so with few crimes per unit even *_expected overstates "
        "concentration. With tens of crimes per unit (LSOAs over a year) the shift is "
        "small. The interval covers count noise only. police.uk snaps locations to anonymised points, so 'locations' are snap "
        "points, not street segments. " + MIXED_NOTE
    )
    return Result(
        table=df,
        summary=summary,
        charts=_lazy_charts(lz.copy(), shares.copy(), unit, scope.label),
        method=method,
        tables={"lorenz": lz, "top_shares": shares},
        notes=[
            *([area_note] if area_note else []),
            coverage_note(months),
            *([lsoa_placement_note(store, scope)] if unit == "lsoa" else []),
        ],
    )


def _charts(lz: pd.DataFrame, shares: pd.DataFrame, unit: str, label: str) -> dict:
    """The Lorenz curve and top-shares bar specs (built only when a reader asks: Result's
    charts are lazy, issue 18)."""
    import altair as alt

    diag = pd.DataFrame({"unit_share": [0.0, 1.0], "value_share": [0.0, 1.0]})
    chart = (
        alt.Chart(lz)
        .mark_line()
        .encode(
            x=alt.X("unit_share:Q", title=f"share of {unit}s (least to most)"),
            y=alt.Y("value_share:Q", title="cumulative share"),
            color="measure:N",
        )
        + alt.Chart(diag)
        .mark_line(strokeDash=[4, 4], color="grey")
        .encode(x="unit_share:Q", y="value_share:Q")
    ).properties(title=f"Lorenz curve, {label}")
    bars = (
        alt.Chart(shares)
        .mark_bar()
        .encode(
            x=alt.X("top_pct:O", title=f"top % of {unit}s"),
            y=alt.Y("share:Q"),
            xOffset="measure:N",
            color="measure:N",
        )
        .properties(title="Share held by the top places")
    )
    return {"lorenz": chart.to_dict(), "top_shares": bars.to_dict()}


def _lazy_charts(lz: pd.DataFrame, shares: pd.DataFrame, unit: str, label: str) -> dict:
    """Both charts as callables sharing one build (a reader of either gets both built)."""
    built: dict = {}

    def one(name: str):
        def make() -> dict:
            if not built:
                built.update(_charts(lz, shares, unit, label))
            return built[name]

        return make

    return {"lorenz": one("lorenz"), "top_shares": one("top_shares")}
