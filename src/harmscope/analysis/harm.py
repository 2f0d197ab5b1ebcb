"""Harm-weighted counts and rates by area and month (police.uk street data).

Harm = Σ weight(category) × count, with the weights of :mod:`harmscope.reference.offences`
(ONS Crime Severity Score or Cambridge Crime Harm Index, or a user's table). Counts are
aggregated in DuckDB and only the area × month × category cube comes back.

Intervals. Counts are treated as Poisson and populations as fixed. A count rate gets the
exact (Garwood) interval; a harm total Σ wᵢnᵢ gets the gamma interval of Fay & Feuer (1997,
Stat Med 16:791), the standard interval for a weighted sum of Poisson counts (it reduces to
Garwood when all weights are 1). Neither covers error in the weights or in the population.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd
from scipy import stats

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.reference import csp_districts, load_csps, load_forces, load_lad, load_lsoa11
from harmscope.reference.offences import POLICE_CATEGORIES, SCHEME_LABELS, load_weights
from harmscope.store import Store

LEVELS = ("county", "district", "lsoa")
_LEVEL_ALIASES = {"force": "county", "csp": "district", "lad": "district"}
_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")

MIXED_NOTE = (
    "'Violence and sexual offences' pools homicide, violence with and without injury, stalking "
    "and harassment, rape and other sexual offences, so its weight is a volume-weighted mix of "
    "sub-group weights: a district with more serious violence inside the category is "
    "under-weighted and one with more harassment over-weighted. Burglary, Criminal damage and "
    "arson, Drugs and Robbery are mixes too."
)


# --------------------------------------------------------------------------------------------
# intervals
# --------------------------------------------------------------------------------------------
def garwood(count, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Exact Poisson interval for a count (arrays)."""
    n = np.asarray(count, dtype=float)
    low = np.where(n > 0, stats.chi2.ppf(alpha / 2, 2 * np.maximum(n, 1e-300)) / 2, 0.0)
    high = stats.chi2.ppf(1 - alpha / 2, 2 * n + 2) / 2
    return low, high


def weighted_poisson_ci(total, sum_w2, w_max, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Fay-Feuer gamma interval for y = Σ wᵢnᵢ with nᵢ ~ Poisson.

    ``total`` = y, ``sum_w2`` = Σ wᵢ²nᵢ (its variance estimate), ``w_max`` = the largest
    weight that could contribute. With every weight 1 this is the Garwood interval.
    """
    y = np.asarray(total, dtype=float)
    v = np.asarray(sum_w2, dtype=float)
    wm = np.asarray(w_max, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        shape_lo = np.where(v > 0, 2 * y * y / v, np.nan)
        low = np.where(y > 0, v / (2 * y) * stats.chi2.ppf(alpha / 2, shape_lo), 0.0)
        v2, y2 = v + wm * wm, y + wm
        high = np.where(
            wm > 0, v2 / (2 * y2) * stats.chi2.ppf(1 - alpha / 2, 2 * y2 * y2 / v2), 0.0
        )
    return low, high


def log_ratio_ci(y1, v1, y2, v2, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio y1/y2 of two independent weighted Poisson totals, delta-method log interval."""
    y1, v1, y2, v2 = (np.asarray(a, dtype=float) for a in (y1, v1, y2, v2))
    z = stats.norm.ppf(1 - alpha / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where((y1 > 0) & (y2 > 0), y1 / y2, np.nan)
        se = np.sqrt(v1 / y1**2 + v2 / y2**2)
        return ratio, ratio * np.exp(-z * se), ratio * np.exp(z * se)


# --------------------------------------------------------------------------------------------
# query scaffolding shared by the harm analyses
# --------------------------------------------------------------------------------------------
@dataclass
class Scope:
    """What rows an analysis reads: the SQL predicate and its parameters, plus labels."""

    where: str
    params: list
    label: str
    force: str | None
    lad_codes: list[str] | None


def parse_month(value: str | None, where: str) -> date | None:
    if value is None or value == "":
        return None
    text = str(value).strip()
    if not _MONTH.match(text):
        raise HarmscopeError(
            f"{text!r} is not a month", where=where, fix="write it as YYYY-MM, e.g. 2025-01"
        )
    return date(int(text[:4]), int(text[5:7]), 1)


def shift_year(month: str, years: int) -> str:
    """The same month ``years`` later ('2025-03', -1 -> '2024-03')."""
    return f"{int(month[:4]) + years}-{month[5:]}"


def check_level(level: str) -> str:
    lv = _LEVEL_ALIASES.get(str(level).strip().lower(), str(level).strip().lower())
    if lv not in LEVELS:
        raise HarmscopeError(
            f"unknown area level {level!r}", where="--level", fix="use county, district or lsoa"
        )
    return lv


def resolve_scope(area: str | None, date_from=None, date_to=None, categories=None) -> Scope:
    """Turn an area name (force, county, district name or GSS code), months and an optional
    list of police.uk categories into SQL."""
    clauses = ["coalesce(s.out_of_area, false) = false"]
    params: list = []
    label, force, lad_codes = "all areas in the store", None, None
    csp_label = None
    if area is not None and str(area).strip():
        key = str(area).strip().lower()
        forces = load_forces()
        lad = load_lad()
        # A force's full name first, then districts, then counties, then a force's slug:
        # "Kent" is the county (12 districts, no Medway); "Kent Police", or a slug that names
        # no district or county ("essex" is a county, so it stays one), is the force area.
        alt = lad.alt_names.fillna("").str.lower().str.split("|")

        def districts(k: str) -> pd.DataFrame:
            # a named CSP (reference/data/geography/csp.csv) is its districts, one or several
            csp = csp_districts(k)
            return lad[
                (lad.lad_code.str.lower() == k)
                | (lad.lad_name.str.lower() == k)
                | (lad.csp.fillna("").str.lower() == k)
                | alt.map(lambda names: k in names)
                | (lad.lad_code.isin(csp[1]) if csp else False)
            ]

        parts = [p.strip() for p in key.split(",") if p.strip()]
        if len(parts) > 1:
            # Several districts as one area (a CSP made of two councils: "Dartford,Gravesham"):
            # each part must be a district on its own; an unknown one is named with its near
            # misses.
            found = [districts(p) for p in parts]
            bad = [p for p, f in zip(parts, found, strict=True) if not len(f)]
            if bad:
                close = _close_areas(bad[0], forces, lad)
                raise HarmscopeError(
                    f"unknown district {bad[0]!r} in {area!r}",
                    where="--area",
                    fix=(f"did you mean {' or '.join(close)}? Otherwise give" if close else "give")
                    + " district names or GSS codes separated by commas (Dartford,Gravesham)",
                )
            by_lad = pd.concat(found).drop_duplicates("lad_code")
        else:
            by_lad = districts(key)
            csp = csp_districts(key)
            csp_label = csp[0] if csp and len(by_lad) else None
        by_county = lad[lad.county.fillna("").str.lower() == key]
        hit = forces[forces.force_name.str.lower() == key]
        if not len(hit) and not len(by_lad) and not len(by_county):
            hit = forces[forces.force_slug.str.lower() == key]
        if len(hit):
            force = str(hit.force_name.iloc[0])
            clauses.append("s.falls_within = ?")
            params.append(force)
            label = force
        else:
            chosen = by_lad if len(by_lad) else by_county
            if not len(chosen):
                close = _close_areas(key, forces, lad)
                raise HarmscopeError(
                    f"unknown area {area!r}",
                    where="--area",
                    fix=(f"did you mean {' or '.join(close)}? Otherwise give" if close else "give")
                    + " a police force (Kent Police), a county (Kent), a district name or its "
                    "GSS code (Maidstone, E07000110), or a community safety partnership "
                    "(Safer Maidstone Partnership)",
                )
            lad_codes = sorted(chosen.lad_code.astype(str))
            clauses.append(f"s.lad_code IN ({', '.join('?' * len(lad_codes))})")
            params.extend(lad_codes)
            label = (
                csp_label or (" and ".join(sorted(chosen.lad_name.astype(str).unique())))
                if len(by_lad)
                else f"{chosen.county.iloc[0]} (county)"
            )
            forces_of = chosen.force.dropna().unique()
            force = str(forces_of[0]) if len(forces_of) == 1 else None
    start = parse_month(date_from, "--from")
    end = parse_month(date_to, "--to")
    if start and end and start > end:
        raise HarmscopeError("--from is after --to", where="--from/--to", fix="swap the two months")
    if start:
        clauses.append("s.month >= ?")
        params.append(start)
    if end:
        clauses.append("s.month <= ?")
        params.append(end)
    if categories:
        cats = check_category_names(categories)
        clauses.append(f"s.crime_type IN ({', '.join('?' * len(cats))})")
        params.extend(cats)
        label += " (" + ", ".join(cats) + ")"
    return Scope(" AND ".join(clauses), params, label, force, lad_codes)


def _close_areas(key: str, forces: pd.DataFrame, lad: pd.DataFrame) -> list[str]:
    """Up to three known area names (force, district, county, GSS code) closest to ``key``."""
    import difflib

    names = [*forces.force_name, *lad.lad_name, *lad.county.dropna(), *lad.lad_code]
    names += list(load_csps().csp_name)
    by_lower = {str(n).lower(): str(n) for n in names}
    return [by_lower[m] for m in difflib.get_close_matches(key, list(by_lower), n=3, cutoff=0.6)]


def check_category_names(categories) -> list[str]:
    """Police.uk category names, matched case-insensitively; a user error names the bad ones."""
    if isinstance(categories, str):
        categories = [c.strip() for c in categories.split(",")]
    known = {c.lower(): c for c in POLICE_CATEGORIES}
    bad = [c for c in categories if str(c).strip().lower() not in known]
    if bad:
        raise HarmscopeError(
            f"unknown police.uk categor{'y' if len(bad) == 1 else 'ies'}: {', '.join(map(str, bad))}",
            where="--category",
            fix="use the police.uk names: " + ", ".join(POLICE_CATEGORIES),
        )
    return [known[str(c).strip().lower()] for c in categories]


def resolve_weights(scheme: str = "css", weights=None) -> tuple[pd.DataFrame, str]:
    """Category weights (DataFrame) and a label naming where they came from."""
    if weights is None:
        table = load_weights(scheme)
        return table, SCHEME_LABELS[str(scheme).strip().lower()] + ", packaged table"
    if isinstance(weights, pd.DataFrame):
        if not {"category", "weight"} <= set(weights.columns):
            raise HarmscopeError(
                "weights frame needs 'category' and 'weight' columns",
                where="weights",
                fix="pass load_weights(...) or a frame with those columns",
            )
        return weights, "weights supplied by the caller"
    return load_weights(scheme, path=weights), f"user table {weights}"


def weights_cte(weights: pd.DataFrame) -> tuple[str, list]:
    """A VALUES list so the weight join runs in the engine."""
    rows = list(zip(weights["category"].astype(str), weights["weight"].astype(float), strict=True))
    sql = "w(category, weight) AS (VALUES " + ", ".join("(?, ?)" for _ in rows) + ")"
    params = [x for pair in rows for x in pair]
    return sql, params


def check_categories(store: Store, scope: Scope, weights: pd.DataFrame) -> None:
    """Fail loudly when the data hold a crime type the weights table does not know."""
    seen = store.query(
        f"SELECT DISTINCT crime_type FROM street_crimes s WHERE {scope.where}", scope.params
    ).crime_type.tolist()
    unknown = sorted(set(seen) - set(weights.category))
    if unknown:
        raise HarmscopeError(
            f"the store holds crime type(s) with no weight: {', '.join(unknown)}",
            where="weights table",
            fix="add a row for each (weight 0 leaves it out of harm)",
        )


def require_area(scope: Scope, problem: str) -> None:
    """Raise when the scope names no force or district (an analysis over LSOAs needs one)."""
    if scope.lad_codes is None and scope.force is None:
        raise HarmscopeError(problem, where="--area", fix="pass e.g. area='Kent Police'")


def prepare(
    store: Store,
    area: str | None,
    date_from=None,
    date_to=None,
    scheme: str = "css",
    weights=None,
    categories=None,
    *,
    need_area: str | None = None,
) -> tuple[Scope, pd.DataFrame, str]:
    """The scope, weights and weights label every harm analysis starts from, checked.

    ``need_area``: the problem to report when the analysis needs an area and none is given
    (checked before the weights, so that error comes first).
    """
    scope = resolve_scope(area, date_from, date_to, categories)
    if need_area is not None:
        require_area(scope, need_area)
    wt, wlabel = resolve_weights(scheme, weights)
    check_categories(store, scope, wt)
    return scope, wt, wlabel


def scheme_name(scheme: str, weights) -> str:
    """The scheme as reported in a summary: the packaged scheme's key, or 'custom'."""
    return str(scheme).strip().lower() if weights is None else "custom"


# Sums that keep a group's harm interval computable (weighted_poisson_ci needs Σw²n and max w).
HARM_SUMS = {
    "count": ("count", "sum"),
    "harm": ("harm", "sum"),
    "harm_w2": ("harm_w2", "sum"),
    "w_max": ("w_max", "max"),
}


def weighted_cube(
    store: Store, scope: Scope, weights: pd.DataFrame, keys: dict[str, str]
) -> pd.DataFrame:
    """count, harm, harm_w2 (Σ w²n) and w_max grouped by ``keys`` (alias -> SQL expression)."""
    cte, wparams = weights_cte(weights)
    select = ", ".join(f"{expr} AS {alias}" for alias, expr in keys.items())
    group = ", ".join(str(i + 1) for i in range(len(keys)))
    # Published weights (privacy.harm_view.published_weights): per district, month and
    # category overrides for a public output, so no harm figure mixes suppressed categories'
    # own weights. Absent for internal work.
    overrides = weights.attrs.get("overrides")
    weight, join, oparams = "w.weight", "", []
    if overrides is not None and len(overrides):
        rows = list(
            zip(
                overrides["lad_code"],
                overrides["month"].astype(str),
                overrides["category"].astype(str),
                overrides["weight"].astype(float),
                strict=True,
            )
        )
        cte += ", o(lad_code, month, category, weight) AS (VALUES " + ", ".join(
            "(CAST(? AS VARCHAR), CAST(? AS DATE), ?, ?)" for _ in rows
        ) + ")"
        oparams = [None if (v is None or v != v) else v for r in rows for v in r]
        join = (
            " LEFT JOIN o ON o.category = s.crime_type AND o.month = s.month"
            " AND o.lad_code IS NOT DISTINCT FROM s.lad_code"
        )
        weight = "coalesce(o.weight, w.weight)"
    sql = (
        f"WITH {cte} SELECT {select}{', ' if keys else ''}count(*) AS count, "
        f"sum({weight}) AS harm, sum({weight} * {weight}) AS harm_w2, max({weight}) AS w_max "
        f"FROM street_crimes s JOIN w ON s.crime_type = w.category{join} WHERE {scope.where}"
        + (f" GROUP BY {group} ORDER BY {group}" if keys else "")
    )
    df = store.query(sql, wparams + oparams + scope.params)
    df["count"] = df["count"].astype("int64")
    for col in ("harm", "harm_w2", "w_max"):
        df[col] = df[col].astype(float).fillna(0.0)
    return df


def populations(level: str) -> pd.DataFrame:
    """area_code, area_name, population (2019 mid-year) for a level."""
    if level == "lsoa":
        ref = load_lsoa11()
        out = ref[["lsoa11_code", "lsoa11_name", "population_2019"]]
        out.columns = ["area_code", "area_name", "population"]
    else:
        lad = load_lad()
        if level == "district":
            out = lad[["lad_code", "lad_name", "population_2019"]].copy()
            out.columns = ["area_code", "area_name", "population"]
        else:
            sub = lad.dropna(subset=["force"])
            out = (
                sub.groupby("force", as_index=False)["population_2019"]
                .sum()
                .rename(columns={"force": "area_code", "population_2019": "population"})
            )
            out["area_name"] = out["area_code"]
    out = out.astype({"area_code": str, "area_name": str})
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype(float)
    return out


LEVEL_KEYS = {
    "county": {"area_code": "s.falls_within"},
    "district": {"area_code": "s.lad_code"},
    "lsoa": {"area_code": "s.lsoa11_code"},
}


# the rate columns add_rates writes (per 1,000 residents, with 95% interval bounds)
COUNT_RATE_COLS = ("rate_per_1000", "rate_ci_low", "rate_ci_high")
HARM_RATE_COLS = ("harm_rate_per_1000", "harm_rate_ci_low", "harm_rate_ci_high")


def add_rates(df: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """Count and harm rates per 1,000 residents with their intervals."""
    pop = df["population"].to_numpy(dtype=float)
    per = np.where(pop > 0, 1000.0 / pop, np.nan)
    lo, hi = garwood(df["count"].to_numpy(), alpha)
    df["rate_per_1000"] = df["count"] * per
    df["rate_ci_low"] = lo * per
    df["rate_ci_high"] = hi * per
    hlo, hhi = weighted_poisson_ci(df["harm"], df["harm_w2"], df["w_max"], alpha)
    df["harm_ci_low"] = hlo
    df["harm_ci_high"] = hhi
    df["harm_rate_per_1000"] = df["harm"] * per
    df["harm_rate_ci_low"] = hlo * per
    df["harm_rate_ci_high"] = hhi * per
    return df


def months_covered(store: Store, scope: Scope) -> list[str]:
    m = store.query(
        f"SELECT DISTINCT strftime(s.month, '%Y-%m') AS m FROM street_crimes s WHERE {scope.where} ORDER BY 1",
        scope.params,
    )
    return m.m.tolist()


def coverage_note(months: list[str]) -> str:
    if not months:
        return "No rows match the area and months asked for."
    ym = [int(m[:4]) * 12 + int(m[5:]) - 1 for m in months]
    gaps = []
    for a, b in zip(ym, ym[1:], strict=False):
        if b - a > 1:
            gaps.append(
                f"{(a + 1) // 12}-{(a + 1) % 12 + 1:02d} to {(b - 1) // 12}-{(b - 1) % 12 + 1:02d}"
            )
    text = f"{len(months)} month(s) of data, {months[0]} to {months[-1]}"
    return text + (f"; missing: {', '.join(gaps)}" if gaps else "; no gaps")


def _method(weights_label: str, level: str, extra: str = "") -> str:
    return (
        f"Harm = Σ weight × count over police.uk categories, weights from the {weights_label}. "
        "Rates are per 1,000 residents (ONS mid-2019 population estimates, the latest in the "
        f"packaged reference data) over the whole period, not annualised; level: {level}. "
        "Counts are treated as Poisson with a fixed population: 95% intervals are exact "
        "(Garwood) for counts and Fay-Feuer gamma intervals for harm. They do not include "
        "uncertainty in the weights or the population, nor under-recording. "
        + MIXED_NOTE
        + " Anti-social behaviour carries weight 0. Rows flagged out of area are left out; "
        "rows without a placed LSOA/district count only in force totals. " + extra
    ).strip()


def _bar_chart(df: pd.DataFrame, x: str, y: str, title: str, color: str | None = None) -> dict:
    import altair as alt

    enc = {
        "x": alt.X(f"{x}:Q", title=x.replace("_", " ")),
        "y": alt.Y(f"{y}:N", sort="-x", title=None),
    }
    if color:
        enc["color"] = alt.Color(f"{color}:N")
    chart = alt.Chart(df).mark_bar().encode(**enc, tooltip=list(df.columns)).properties(title=title)
    return chart.to_dict()


# --------------------------------------------------------------------------------------------
# public analyses
# --------------------------------------------------------------------------------------------
def harm_by_area(
    store: Store,
    *,
    level: str = "district",
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    by_month: bool = False,
    categories=None,
    alpha: float = 0.05,
) -> Result:
    """Harm-weighted counts and rates per 1,000 residents by area (and month) and category.

    ``table``: area_code, area_name, [month], category, count, harm, population,
    rate_per_1000 (+ CI), harm_rate_per_1000 (+ CI), and harm_w2 (Σ w²n) and w_max, which a
    caller needs to put an interval on a sum of rows (:func:`weighted_poisson_ci`).
    ``tables['totals']``: the same over all categories per area (and month).
    ``tables['by_category']``: count and harm shares by category. ``tables['weights']``: the
    weights used, with their sources. Rows that could not be placed at the level asked for
    are left out (a note gives their number); at county level every in-area row counts.
    """
    level = check_level(level)
    scope, wt, wlabel = prepare(store, area, date_from, date_to, scheme, weights, categories)
    keys = dict(LEVEL_KEYS[level])
    if by_month:
        keys["month"] = "strftime(s.month, '%Y-%m')"
    keys["category"] = "s.crime_type"
    cube = weighted_cube(store, scope, wt, keys)
    months = months_covered(store, scope)
    notes = [coverage_note(months)]
    unplaced = int(cube.loc[cube.area_code.isna(), "count"].sum())
    if unplaced and level != "county":
        notes.append(
            f"{unplaced:,} rows could not be placed in a {'district' if level == 'district' else '2011 LSOA'}"
            " and are left out of this table (they are in the force totals)."
        )
    cube = cube.dropna(subset=["area_code"])
    if level == "county" and scope.lad_codes is not None:
        # a county or district asked for at county level: one area, its own population
        cube["area_code"] = scope.label
        cube = cube.groupby([c for c in cube.columns if c in keys], as_index=False).agg(**HARM_SUMS)
        pop = pd.DataFrame(
            {
                "area_code": [scope.label],
                "area_name": [scope.label],
                "population": [_scope_population(scope)],
            }
        )
    else:
        pop = populations(level)
    table = cube.merge(pop, on="area_code", how="left")
    table["area_name"] = table["area_name"].fillna(table["area_code"])
    totals_keys = ["area_code", "area_name"] + (["month"] if by_month else [])
    totals = table.groupby(totals_keys, as_index=False, dropna=False).agg(
        **HARM_SUMS, population=("population", "first")
    )
    table = add_rates(table, alpha)
    totals = add_rates(totals, alpha)
    lead = ["area_code", "area_name"] + (["month"] if by_month else []) + ["category"]
    cols = lead + [c for c in table.columns if c not in lead]
    table = table[cols].sort_values(lead).reset_index(drop=True)
    totals = totals.sort_values("harm", ascending=False).reset_index(drop=True)
    by_cat = table.groupby("category", as_index=False)[["count", "harm"]].sum()
    total_count, total_harm = int(by_cat["count"].sum()), float(by_cat["harm"].sum())
    by_cat["count_share"] = by_cat["count"] / max(total_count, 1)
    by_cat["harm_share"] = by_cat["harm"] / total_harm if total_harm else np.nan
    by_cat = by_cat.sort_values("harm", ascending=False).reset_index(drop=True)
    lo, hi = weighted_poisson_ci(
        total_harm, float(table.harm_w2.sum()), float(table.w_max.max()), alpha
    )
    summary = {
        "area": scope.label,
        "level": level,
        "scheme": scheme_name(scheme, weights),
        "months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "count": total_count,
        "harm": total_harm,
        "harm_ci": [float(lo), float(hi)],
        "areas": int(totals.area_code.nunique()),
    }
    if len(by_cat):
        top = by_cat.iloc[0]
        summary["top_harm_category"] = top.category
        summary["top_harm_category_share"] = float(top.harm_share)
    charts = {}
    if len(by_cat):
        long = by_cat.melt(
            id_vars="category", value_vars=["count_share", "harm_share"], var_name="measure"
        )
        charts["harm_vs_count"] = _bar_chart(
            long, "value", "category", "Share of count and of harm", "measure"
        )
    if len(totals) and not by_month:
        charts["areas_by_harm_rate"] = _bar_chart(
            totals.head(40), "harm_rate_per_1000", "area_name", "Harm per 1,000 residents"
        )
    return Result(
        table=table,
        summary=summary,
        charts=charts,
        method=_method(wlabel, level),
        tables={"totals": totals, "by_category": by_cat, "weights": wt},
        notes=notes,
    )


def harm_trend(
    store: Store,
    *,
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    scheme: str = "css",
    weights=None,
    categories=None,
    alpha: float = 0.05,
) -> Result:
    """Monthly harm and count for one area, with the change on the same month a year before.

    ``tables['same_period']`` compares the months present in both years (e.g. Jan-Apr 2025
    against Jan-Apr 2024), with a log-scale interval for the ratio.
    """
    scope, wt, wlabel = prepare(store, area, date_from, date_to, scheme, weights, categories)
    df = weighted_cube(store, scope, wt, {"month": "strftime(s.month, '%Y-%m')"})
    pop = _scope_population(scope)
    df["population"] = pop
    df = add_rates(df, alpha)
    months = df.month.tolist()
    idx = {m: i for i, m in enumerate(months)}
    prev_rows = [idx.get(shift_year(m, -1)) for m in months]
    has_prev = np.array([p is not None for p in prev_rows])
    p_idx = np.array([p if p is not None else 0 for p in prev_rows])
    for col in ("harm", "count"):
        var_col = "harm_w2" if col == "harm" else "count"
        y1, v1 = df[col].to_numpy(float), df[var_col].to_numpy(float)
        y0, v0 = y1[p_idx], v1[p_idx]
        r, lo, hi = log_ratio_ci(y1, v1, y0, v0, alpha)
        df[f"{col}_last_year"] = np.where(has_prev, y0, np.nan)
        df[f"{col}_yoy_ratio"] = np.where(has_prev, r, np.nan)
        df[f"{col}_yoy_ci_low"] = np.where(has_prev, lo, np.nan)
        df[f"{col}_yoy_ci_high"] = np.where(has_prev, hi, np.nan)
    cur = df[has_prev]
    base = df.iloc[p_idx[has_prev]] if has_prev.any() else df.iloc[[]]
    same = pd.DataFrame()
    summary = {
        "area": scope.label,
        "months": len(months),
        "scheme": scheme_name(scheme, weights),
    }
    if len(cur):
        same_rows = []
        for col, var_col in (("harm", "harm_w2"), ("count", "count")):
            y1, v1 = cur[col].sum(), cur[var_col].sum()
            y0, v0 = base[col].sum(), base[var_col].sum()
            r, lo, hi = log_ratio_ci(y1, v1, y0, v0, alpha)
            same_rows.append(
                {
                    "measure": col,
                    "period": f"{cur.month.iloc[0]}..{cur.month.iloc[-1]} ({len(cur)} months)",
                    "previous": f"{base.month.iloc[0]}..{base.month.iloc[-1]}",
                    "value": y1,
                    "previous_value": y0,
                    "ratio": float(r),
                    "ci_low": float(lo),
                    "ci_high": float(hi),
                    "change_pct": float((r - 1) * 100),
                }
            )
            summary[f"{col}_same_period_change_pct"] = float((r - 1) * 100)
            summary[f"{col}_same_period_change_pct_ci"] = [
                float((lo - 1) * 100),
                float((hi - 1) * 100),
            ]
        same = pd.DataFrame(same_rows)
        summary["same_period_months"] = [str(m) for m in cur.month]
    notes = [coverage_note(months)]
    if not len(cur):
        notes.append(
            "No month has the same month of the previous year in the store: no change is given."
        )
    charts = {}
    if len(df):
        import altair as alt

        base_chart = alt.Chart(df).encode(x=alt.X("month:T", title="month"))
        band = base_chart.mark_area(opacity=0.25).encode(y="harm_ci_low:Q", y2="harm_ci_high:Q")
        line = base_chart.mark_line(point=True).encode(
            y=alt.Y("harm:Q", title="harm"), tooltip=list(df.columns[:6])
        )
        charts["harm_trend"] = (
            (band + line).properties(title=f"Monthly harm, {scope.label}").to_dict()
        )
    method = _method(
        wlabel,
        "one area, by month",
        "Change against the same month a year before: ratio of the two harm totals with a "
        "delta-method (log-scale) 95% interval from the Poisson variances; month-to-month "
        "extra variation (weather, events, recording practice) is not in the interval, so it is "
        "narrower than a model with overdispersion would give. Months missing in either year "
        "are left out of the same-period comparison.",
    )
    return Result(
        table=df,
        summary=summary,
        charts=charts,
        method=method,
        tables={"same_period": same},
        notes=notes,
    )


def _scope_population(scope: Scope) -> float:
    lad = load_lad()
    if scope.lad_codes:
        sel = lad[lad.lad_code.isin(scope.lad_codes)]
    elif scope.force:
        sel = lad[lad.force.fillna("") == scope.force]
    else:
        return float("nan")
    return float(pd.to_numeric(sel.population_2019, errors="coerce").sum())


def lsoa_frame(
    store: Store,
    scope: Scope,
    weights: pd.DataFrame,
    *,
    extra_keys: dict[str, str] | None = None,
) -> pd.DataFrame:
    """One row per 2011 LSOA of the area (zeros included), with count, harm and reference data.

    LSOAs come from the reference table, so an LSOA with no recorded crime is a true zero,
    not a missing row; that matters for smoothing, concentration and regressions.
    """
    keys = {"area_code": "s.lsoa11_code"}
    if extra_keys:
        keys.update(extra_keys)
    cube = weighted_cube(store, scope, weights, keys).dropna(subset=["area_code"])
    ref = load_lsoa11()
    if scope.lad_codes:
        ref = ref[ref.lad_code.isin(scope.lad_codes)]
    elif scope.force:
        lad = load_lad()
        ref = ref[ref.lad_code.isin(lad.loc[lad.force.fillna("") == scope.force, "lad_code"])]
    else:
        ref = ref[ref.lsoa11_code.isin(cube.area_code)]
    ref = ref.rename(
        columns={
            "lsoa11_code": "area_code",
            "lsoa11_name": "area_name",
            "population_2019": "population",
        }
    )
    ref = ref[
        [
            "area_code",
            "area_name",
            "lad_code",
            "lad_name",
            "urban_rural",
            "ruc11_class",
            "imd_decile",
            "population",
        ]
    ]
    out = ref.merge(cube, on="area_code", how="left")
    for col in ("count", "harm", "harm_w2"):
        out[col] = out[col].fillna(0)
    out["count"] = out["count"].astype("int64")
    out["w_max"] = out["w_max"].fillna(float(weights.weight.max()))
    out["population"] = pd.to_numeric(out["population"], errors="coerce").astype(float)
    return out.reset_index(drop=True)


def harm_from_codes(
    counts: pd.DataFrame,
    *,
    scheme: str = "css",
    weights=None,
    by: list[str] | None = None,
    alpha: float = 0.05,
) -> Result:
    """Harm from Home Office offence-code counts (a force extract, aggregated by the partner).

    ``counts`` has columns ``code`` and ``count`` plus any grouping columns named in ``by``
    (e.g. area, month). Weights are the code-level table (``load_weights(level='code')``) or a
    user's code-level file. Returns harm per group with Fay-Feuer intervals, and per ONS
    sub-group and flag (injury, serious violence, sexual) in ``tables``.
    """
    from harmscope.reference.offences import load_taxonomy

    by = list(by or [])
    missing = [c for c in ["code", "count", *by] if c not in counts.columns]
    if missing:
        raise HarmscopeError(
            f"missing column(s) {', '.join(missing)}",
            where="counts",
            fix="give a frame with 'code' and 'count' (and the columns named in by=)",
        )
    if weights is None:
        wt = load_weights(scheme, level="code")
        wlabel = SCHEME_LABELS[str(scheme).strip().lower()] + ", packaged code-level table"
    elif isinstance(weights, pd.DataFrame):
        wt, wlabel = weights.rename(columns={"code": "key"}), "weights supplied by the caller"
    else:
        wt, wlabel = load_weights(scheme, path=weights, level="code"), f"user table {weights}"
    df = counts.copy()
    df["code"] = df["code"].astype(str).str.strip()
    unknown = sorted(set(df.code) - set(wt.key))
    if unknown:
        raise HarmscopeError(
            f"no weight for offence code(s) {', '.join(unknown[:10])}",
            where="counts.code",
            fix="use codes from load_taxonomy(), or give a code-level --weights file that covers them",
        )
    cnt = pd.to_numeric(df["count"], errors="coerce")
    if cnt.isna().any() or (cnt < 0).any():
        raise HarmscopeError(
            "counts must be numbers >= 0", where="counts.count", fix="check the extract"
        )
    w = df.code.map(dict(zip(wt.key, wt.weight.astype(float), strict=True)))
    df["count"] = cnt
    df["harm"] = cnt * w
    df["harm_w2"] = cnt * w * w
    df["w_max"] = np.where(cnt > 0, w, 0.0)
    tax = load_taxonomy().set_index("code")
    df = df.join(tax[["ons_subgroup", "injury", "serious_violence", "sexual"]], on="code")

    def agg(keys: list[str]) -> pd.DataFrame:
        grouped = (
            df.groupby(keys, as_index=False, dropna=False)
            if keys
            else df.assign(_all=1).groupby("_all", as_index=False)
        )
        out = grouped.agg(**HARM_SUMS)
        lo, hi = weighted_poisson_ci(out.harm, out.harm_w2, out.w_max, alpha)
        out["harm_ci_low"], out["harm_ci_high"] = lo, hi
        return out.drop(columns=["_all"], errors="ignore")

    table = agg(by)
    tables = {"by_subgroup": agg([*by, "ons_subgroup"])}
    for flag in ("injury", "serious_violence", "sexual"):
        tables[f"by_{flag}"] = agg([*by, flag])
    total = agg([])
    summary = {
        "scheme": scheme_name(scheme, weights),
        "count": float(total["count"].iloc[0]),
        "harm": float(total.harm.iloc[0]),
        "harm_ci": [float(total.harm_ci_low.iloc[0]), float(total.harm_ci_high.iloc[0])],
        "serious_violence_harm_share": (
            float(
                df.loc[df.serious_violence.fillna(False).astype(bool), "harm"].sum() / df.harm.sum()
            )
            if df.harm.sum() > 0
            else None
        ),
    }
    method = (
        f"Harm = Σ weight × count over Home Office offence codes, weights from the {wlabel} "
        "(see each weight's status: most packaged code weights are sub-group values, marked "
        "estimates). Intervals are Fay-Feuer gamma intervals for a weighted sum of Poisson "
        "counts; they leave out uncertainty in the weights. Flags follow the packaged "
        "taxonomy (serious violence per the Serious Violence Strategy, with knife and firearm "
        "possession codes standing in for the knife/gun crime marker)."
    )
    return Result(table=table, summary=summary, method=method, tables=tables)


# --------------------------------------------------------------------------------------------
# the rest of the harm API lives in its own modules; these wrappers give callers one import
# --------------------------------------------------------------------------------------------
def smoothed_lsoa_rates(store: Store, **kwargs) -> Result:
    """See :func:`harmscope.analysis.smoothing.smoothed_lsoa_rates`."""
    from harmscope.analysis.smoothing import smoothed_lsoa_rates as run

    return run(store, **kwargs)


def concentration(store: Store, **kwargs) -> Result:
    """See :func:`harmscope.analysis.concentration.concentration`."""
    from harmscope.analysis.concentration import concentration as run

    return run(store, **kwargs)


def rural_urban(store: Store, **kwargs) -> Result:
    """See :func:`harmscope.analysis.compare.rural_urban`."""
    from harmscope.analysis.compare import rural_urban as run

    return run(store, **kwargs)


def deprivation_gradient(store: Store, **kwargs) -> Result:
    """See :func:`harmscope.analysis.compare.deprivation_gradient`."""
    from harmscope.analysis.compare import deprivation_gradient as run

    return run(store, **kwargs)


def compare_forces(
    store: Store, forces=("Kent Police", "Essex Police", "Sussex Police"), **kwargs
) -> Result:
    """See :func:`harmscope.analysis.compare.compare_forces`."""
    from harmscope.analysis.compare import compare_forces as run

    return run(store, forces, **kwargs)
