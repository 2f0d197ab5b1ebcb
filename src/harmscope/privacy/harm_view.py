"""Harm by area as an audience may see it: one protected universe per force, sliced.

The command line (``harmscope harm``) and the report's headline, category and district figures
all take their public numbers from here, so that every output shows the same suppression
pattern and no harm figure acts as a checksum (policy: :mod:`harmscope.privacy.weighted`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from harmscope.analysis.harm import harm_by_area, resolve_scope, weighted_poisson_ci
from harmscope.analysis.result import Result
from harmscope.privacy.audience import Audience
from harmscope.privacy.weighted import UNPLACED, BlockSum, Universe
from harmscope.reference import load_lad, load_lsoa11
from harmscope.store import Store

# per-process cache of universes: (store path, force, level, months, by_month, weights, threshold)
_CACHE: dict = {}
_CACHE_MAX = 32

ESTIMATE_NOTE = (
    "Where a harm figure includes suppressed counts, those counts are replaced by their "
    "least-squares estimate from the published totals, the figure is marked as estimated, and "
    "its interval is widened by the most the suppressed counts could change it; a harm figure "
    "published exactly beside suppressed counts would let them be worked out."
)


@dataclass
class HarmView:
    """The harm tables for an audience: ``table`` (area × category cells), ``totals`` (per
    area), ``by_category``, ``weights`` and ``summary``, with ``notes`` and ``method``."""

    table: pd.DataFrame
    totals: pd.DataFrame
    by_category: pd.DataFrame
    weights: pd.DataFrame
    summary: dict
    notes: list[str]
    method: str
    result: Result  # the unprotected analysis, for internal use only


def _universe_level(level: str) -> str:
    return "lsoa" if level == "lsoa" else "district"


def universe(
    store: Store,
    force: str,
    *,
    level: str,
    date_from,
    date_to,
    scheme,
    weights,
    by_month: bool,
    audience: Audience,
) -> Universe:
    """The force's areas × categories (× months), protected once for ``audience``."""
    ulevel = _universe_level(level)
    key = (
        str(getattr(store, "path", id(store))),
        force,
        ulevel,
        date_from,
        date_to,
        str(scheme),
        str(weights),
        by_month,
        audience.suppress,
        audience.threshold,
    )
    if key in _CACHE:
        return _CACHE[key]
    args = dict(
        area=force,
        date_from=date_from,
        date_to=date_to,
        scheme=scheme,
        weights=weights,
        by_month=by_month,
    )
    placed = harm_by_area(store, level=ulevel, **args)
    whole = harm_by_area(store, level="county", **args)
    by = ["month"] if by_month else []
    cells = placed.table[[*by, "area_code", "category", "count"]]
    sums = cells.groupby([*by, "category"], as_index=False)["count"].sum()
    unplaced = whole.table[[*by, "category", "count"]].merge(
        sums, on=[*by, "category"], how="left", suffixes=("", "_placed")
    )
    unplaced["count"] = unplaced["count"] - unplaced["count_placed"].fillna(0)
    unplaced["area_code"] = UNPLACED
    long = pd.concat([cells, unplaced[[*by, "area_code", "category", "count"]]], ignore_index=True)
    long = long[long["count"] > 0] if len(long) else long
    wt = placed.tables["weights"]
    u = Universe(
        long,
        row="area_code",
        col="category",
        by=by,
        weights=dict(zip(wt["category"], wt["weight"], strict=True)),
        threshold=audience.threshold,
        suppress=audience.suppress,
    )
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = u
    return u


def _forces_of(table: pd.DataFrame, level: str) -> dict[str, str]:
    """area_code -> force, for the areas of a harm table."""
    codes = table["area_code"].astype(str).unique()
    if level == "county":
        return {c: c for c in codes}
    lad = load_lad().set_index("lad_code")["force"]
    if level == "district":
        return {c: str(lad.get(c)) for c in codes}
    lsoa = load_lsoa11().set_index("lsoa11_code")["lad_code"]
    return {c: str(lad.get(lsoa.get(c))) for c in codes}


def _add(a: BlockSum, b: BlockSum) -> BlockSum:
    if a.count is None or b.count is None:
        return BlockSum(None, None, None, None, 0.0)
    if a.harm is None or b.harm is None:
        return BlockSum(a.count + b.count, None, None, None, 0.0)
    return BlockSum(
        a.count + b.count,
        a.harm + b.harm,
        a.harm_w2 + b.harm_w2,
        max(a.w_max, b.w_max),
        a.harm_error + b.harm_error,
    )


def _harm_columns(s: BlockSum, population: float, alpha: float) -> dict:
    """count, harm, intervals and rates for one published sum."""
    per = 1000.0 / population if population and population > 0 else np.nan
    out = {
        "count": s.count,
        "harm": s.harm,
        "harm_ci_low": None,
        "harm_ci_high": None,
        "harm_estimated": s.harm_estimated,
        "harm_error": s.harm_error if s.harm is not None else None,
    }
    if s.count is not None:
        from harmscope.analysis.harm import garwood

        lo, hi = garwood(np.array([s.count]), alpha)
        out["rate_per_1000"] = s.count * per
        out["rate_ci_low"] = float(lo[0]) * per
        out["rate_ci_high"] = float(hi[0]) * per
    if s.harm is not None:
        hlo, hhi = weighted_poisson_ci(s.harm, s.harm_w2, s.w_max or 0.0, alpha)
        hlo = max(float(hlo) - s.harm_error, 0.0)
        hhi = float(hhi) + s.harm_error
        out.update(
            harm_ci_low=hlo,
            harm_ci_high=hhi,
            harm_rate_per_1000=s.harm * per,
            harm_rate_ci_low=hlo * per,
            harm_rate_ci_high=hhi * per,
        )
    return out


_NO_SUM = BlockSum(None, None, None, None, 0.0)


@dataclass
class _Slices:
    """The protected universes an output is cut from, and how each of its areas maps onto
    them: an area's sum, and a sum over every universe row the output covers, once."""

    level: str
    scope: Any
    force_of: dict[str, str]
    universes: dict[str, Universe]

    def rows_of(self, code: str) -> tuple[Universe | None, list[str]]:
        u = self.universes.get(self.force_of.get(code))
        if u is None:
            return None, []
        if self.level != "county":
            return u, [code]
        if self.scope.lad_codes is not None:
            return u, list(self.scope.lad_codes)
        all_rows = set()
        for b in u.blocks.values():
            all_rows |= set(b.rows)
        return u, sorted(all_rows)

    def block(self, code: str, cols, keys) -> BlockSum:
        u, rows = self.rows_of(code)
        if u is None:
            return _NO_SUM
        return u.total(rows, cols, keys)

    def over_areas(self, codes: list[str]):
        """A function cols -> the published sum over all ``codes`` (each universe row once)."""
        covered: dict[int, tuple[Universe, set[str]]] = {}
        for code in codes:
            u, rws = self.rows_of(code)
            if u is not None:
                covered.setdefault(id(u), (u, set()))[1].update(rws)
        missing = any(self.rows_of(code)[0] is None for code in codes)

        def total_of(cols) -> BlockSum:
            if missing:
                return _NO_SUM
            total = BlockSum(0, 0.0, 0.0, 0.0, 0.0)
            for u, rws in covered.values():
                total = _add(total, u.total(sorted(rws), cols))
            return total

        return total_of


def _slices(store: Store, audience: Audience, res: Result, level: str, args: dict) -> _Slices:
    """One protected universe per force the output's areas fall in."""
    scope = resolve_scope(args["area"], args["date_from"], args["date_to"])
    force_of = _forces_of(res.table, level)
    if level == "county" and scope.lad_codes is not None:
        force_of = {scope.label: scope.force}
    universes = {
        force: universe(
            store,
            force,
            level=level,
            **{k: args[k] for k in ("date_from", "date_to", "scheme", "weights", "by_month")},
            audience=audience,
        )
        for force in sorted({f for f in force_of.values() if f and f != "None"})
    }
    return _Slices(level, scope, force_of, universes)


def _month_key(r, by_month: bool):
    return [(r.month,)] if by_month else None


def _public_cells(table: pd.DataFrame, sl: _Slices, by_month: bool) -> pd.DataFrame:
    """area x category (x month) cells: a cell whose count is not published is blanked."""
    hidden = []
    for r in table.itertuples(index=False):
        s = sl.block(str(r.area_code), [r.category], _month_key(r, by_month))
        hidden.append(s.count is None or s.count != int(r.count))
    hidden = np.array(hidden, bool)
    derived = [
        c
        for c in table.columns
        if c not in ("area_code", "area_name", "month", "category", "population")
    ]
    table = table.copy()
    table["count"] = pd.array(np.where(hidden, None, table["count"]), dtype="Int64")
    for c in derived:
        if c != "count":
            table[c] = pd.to_numeric(table[c], errors="coerce").astype("Float64").mask(hidden)
    return table


def _public_totals(
    totals: pd.DataFrame, sl: _Slices, cats: list[str], by_month: bool, alpha: float
) -> pd.DataFrame:
    """Area totals, each a published sum over the area's cells."""
    rows = []
    for r in totals.itertuples(index=False):
        s = sl.block(str(r.area_code), cats, _month_key(r, by_month))
        row = {"area_code": r.area_code, "area_name": r.area_name}
        if by_month:
            row["month"] = r.month
        row["population"] = r.population
        row.update(_harm_columns(s, float(r.population), alpha))
        rows.append(row)
    pub_totals = pd.DataFrame(rows)
    return pub_totals[
        [c for c in [*totals.columns, "harm_estimated", "harm_error"] if c in pub_totals.columns]
    ]


def _public_categories(cats: list[str], over_areas, whole: BlockSum) -> pd.DataFrame:
    """Per category over the whole slice, with shares of the published whole."""
    cat_rows = []
    for c in cats:
        s = over_areas([c])
        cat_rows.append({"category": c, "count": s.count, "harm": s.harm})
    pub_cat = pd.DataFrame(cat_rows)
    pub_cat["count"] = pd.array(pub_cat["count"], dtype="Int64")
    pub_cat["harm"] = pd.to_numeric(pub_cat["harm"], errors="coerce").astype("Float64")
    n_all = whole.count
    pub_cat["count_share"] = pub_cat["count"].astype("Float64") / n_all if n_all else pd.NA
    pub_cat["harm_share"] = pub_cat["harm"] / whole.harm if whole.harm else pd.NA
    return pub_cat.sort_values("harm", ascending=False, na_position="last").reset_index(drop=True)


def _public_summary(
    summary: dict, whole: BlockSum, pub_cat: pd.DataFrame, audience: Audience, alpha: float
) -> None:
    """The headline figures from the published whole (in place)."""
    summary["count"] = whole.count
    summary["harm"] = whole.harm
    if whole.harm is not None:
        lo, hi = weighted_poisson_ci(whole.harm, whole.harm_w2, whole.w_max or 0.0, alpha)
        summary["harm_ci"] = [max(float(lo) - whole.harm_error, 0.0), float(hi) + whole.harm_error]
    else:
        summary["harm_ci"] = [None, None]
    summary["harm_estimated"] = whole.harm_estimated
    summary["harm_error"] = whole.harm_error
    visible = pub_cat.dropna(subset=["harm_share"])
    if len(visible):
        summary["top_harm_category"] = visible.iloc[0]["category"]
        summary["top_harm_category_share"] = float(visible.iloc[0]["harm_share"])
    else:
        summary.pop("top_harm_category", None)
        summary.pop("top_harm_category_share", None)
    summary["audience"] = audience.name


def harm_view(
    store: Store,
    audience: Audience,
    *,
    level: str = "district",
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    by_month: bool = False,
    categories: list[str] | None = None,
    alpha: float = 0.05,
) -> HarmView:
    """``harm_by_area`` for ``audience``: exact for internal and partner; for the public, every
    count from the force's protected universe and every harm figure from published counts."""
    args = dict(
        area=area,
        date_from=date_from,
        date_to=date_to,
        scheme=scheme,
        weights=weights,
        by_month=by_month,
        categories=categories,
        alpha=alpha,
    )
    res = harm_by_area(store, level=level, **args)
    drop = ["harm_w2", "w_max"]
    table = res.table.drop(columns=drop)
    totals = res.tables["totals"].drop(columns=drop)
    summary = dict(res.summary)
    notes = list(res.notes)
    if not audience.suppress or res.table.empty:
        by_cat = res.tables["by_category"]
        return HarmView(
            table, totals, by_cat, res.tables["weights"], summary, notes, res.method, res
        )

    level = res.summary["level"]
    if level == "lsoa":
        return _lsoa_view(store, audience, res, table, totals, notes, args)
    sl = _slices(store, audience, res, level, args)
    cats = sorted(res.table["category"].astype(str).unique())
    table = _public_cells(table, sl, by_month)
    pub_totals = _public_totals(totals, sl, cats, by_month, alpha)
    over_areas = sl.over_areas(list(dict.fromkeys(totals["area_code"].astype(str))))
    whole = over_areas(cats)
    pub_cat = _public_categories(cats, over_areas, whole)
    _public_summary(summary, whole, pub_cat, audience, alpha)
    notes.append(
        f"Public audience: counts from 1 to {audience.threshold - 1} are suppressed, with "
        "further counts suppressed so that none can be worked out from the totals; the "
        "suppression is decided once for the whole force, so district and force outputs agree. "
        + ESTIMATE_NOTE
    )
    return HarmView(
        table, pub_totals, pub_cat, res.tables["weights"], summary, notes, res.method, res
    )


LSOA_NOTE = (
    "Public audience at LSOA level: LSOA counts are shown as totals only, protected together "
    "with their district totals; the LSOA x category cells and LSOA harm figures are withheld, "
    "because an exact harm score for each LSOA adds up to its district's and would let the "
    "district's suppressed category counts be worked out. The category table and the headline "
    "figures are the district-level ones (they include crimes placed in a district but not in an "
    "LSOA). Use --level district, or the internal or partner audience, for LSOA harm."
)


def _lsoa_view(store, audience, res, table, totals, notes, args) -> HarmView:
    """Public LSOA level: LSOA totals protected with their districts; no LSOA harm."""
    from harmscope.privacy.disclosure import protect_linked

    district = harm_view(store, audience, level="district", **args)
    lsoa = load_lsoa11().set_index("lsoa11_code")["lad_code"]
    keep = [
        "area_code",
        "area_name",
        *(["month"] if args["by_month"] else []),
        "count",
        "population",
    ]
    # protected once for each force (the same pattern whichever area asked), then sliced
    forces = sorted({f for f in _forces_of(totals, "lsoa").values() if f and f != "None"})
    same = {k: v for k, v in args.items() if k not in ("area", "alpha")}
    wide = [
        harm_by_area(store, level="lsoa", area=f, **same).tables["totals"][keep] for f in forces
    ]
    out = pd.concat(wide, ignore_index=True) if wide else totals[keep].copy()
    out["district"] = out["area_code"].map(lsoa).fillna("(none)").astype(str)
    groups = ["district"]
    parts = []
    for _, part in out.groupby("month", sort=True) if args["by_month"] else [((), out)]:
        prot = protect_linked(
            part.reset_index(drop=True), "count", groups, threshold=audience.threshold
        )
        parts.append(prot.frame)
    pub = pd.concat(parts, ignore_index=True) if parts else out.iloc[0:0]
    pub = pub.drop(columns=["district"])
    mine = set(totals["area_code"].astype(str))
    pub = pub[pub["area_code"].astype(str).isin(mine)].reset_index(drop=True)
    per = 1000.0 / pd.to_numeric(pub["population"], errors="coerce")
    pub["rate_per_1000"] = pub["count"].astype("Float64") * per
    empty = table.iloc[0:0][
        [c for c in table.columns if c in ("area_code", "area_name", "month", "category", "count")]
    ]
    summary = dict(res.summary)
    for key in (
        "count",
        "harm",
        "harm_ci",
        "harm_estimated",
        "harm_error",
        "top_harm_category",
        "top_harm_category_share",
    ):
        if key in district.summary:
            summary[key] = district.summary[key]
    summary["audience"] = audience.name
    return HarmView(
        empty,
        pub,
        district.by_category,
        res.tables["weights"],
        summary,
        [*notes, district.notes[-1], LSOA_NOTE],
        res.method,
        res,
    )


def published_weights(
    store: Store,
    audience: Audience,
    *,
    area: str | None,
    date_from: str,
    date_to: str,
    months_from: str | None = None,
    scheme: str = "css",
    weights=None,
) -> pd.DataFrame:
    """The weights table a public output computes harm with, carrying per-cell overrides.

    Every (district, month, category) cell that is suppressed in the force's district ×
    category table (of the month, or of the period ``date_from``..``date_to``) is weighted at
    the mean weight of its district-month's suppressed set; the force's unplaced rows at the
    mean of all weights. So a harm figure over any group (a month, an LSOA, a decile) can never
    tell the suppressed categories apart: their crimes all carry one public weight. The
    overrides are in ``.attrs['overrides']`` (lad_code, month, category, weight), read by
    :func:`harmscope.store.queries.scope.weighted_cube`. For other audiences: the weights unchanged.
    """
    from harmscope.analysis.harm import resolve_weights

    base, _ = resolve_weights(scheme, weights)
    base = base.copy()
    if not audience.suppress:
        return base
    scope = resolve_scope(area, months_from or date_from, date_to)
    from harmscope.store.queries.scope import forces_held

    forces = forces_held(store, scope.where, scope.params)
    w = dict(zip(base["category"].astype(str), base["weight"].astype(float), strict=True))
    all_mean = float(np.mean(list(w.values()))) if w else 0.0
    rows = []
    same = dict(level="district", date_to=date_to, scheme=scheme, weights=weights)
    for force in forces:
        period = universe(
            store, force, date_from=date_from, by_month=False, audience=audience, **same
        )
        monthly = universe(
            store,
            force,
            date_from=months_from or date_from,
            by_month=True,
            audience=audience,
            **same,
        )
        pblock = period.blocks.get(())
        for (month,), b in monthly.blocks.items():
            in_period = date_from <= month <= date_to
            for area_code, i in b.rows.items():
                if area_code == UNPLACED:
                    hidden = set(w)
                else:
                    hidden = {c for c, j in b.cols.items() if b.hidden[i, j]}
                    if in_period and pblock is not None and area_code in pblock.rows:
                        pi = pblock.rows[area_code]
                        hidden |= {c for c, j in pblock.cols.items() if pblock.hidden[pi, j]}
                if not hidden:
                    continue
                mean = (
                    all_mean
                    if area_code == UNPLACED
                    else float(np.mean([w.get(c, 0.0) for c in hidden]))
                )
                lad = None if area_code == UNPLACED else area_code
                rows += [(lad, f"{month}-01", c, mean) for c in sorted(hidden)]
    base.attrs["overrides"] = pd.DataFrame(
        rows, columns=["lad_code", "month", "category", "weight"]
    )
    base.attrs["published"] = True
    return base
