"""The cost of crime in pounds: Home Office unit costs per police.uk category, inflated to a
chosen year, and harm in pounds by district, category and month beside harm in sentence-days.

Unit costs. Heeks, Reed, Tafsiri and Prince (2018), *The economic and social costs of crime*,
second edition, Home Office Research Report 99, Table 1: the average cost of one crime
against an individual in England and Wales, 2015/16 prices (anticipation, consequence and
response together). A police.uk category that pools several Home Office offence types
(Violence and sexual offences: homicide to harassment) gets the volume-weighted mean of its
components, the volumes being the England and Wales sub-group volumes of
``reference/data/offences/subgroups.csv`` (the same mix the harm weights use); a component
with no published cost counts at 0 in that mix. Low and high bounds are the cheapest and
dearest costed component. Categories with no published unit cost (drugs, public order,
possession of weapons, shoplifting, anti-social behaviour...) carry 0 with ``costed`` False:
never an invented figure. Every number and its source: ``reference/data/costs/SOURCES.md``.

Prices. A price year is a financial year, named by the calendar year it starts in (2015 =
2015/16). Costs move between price years by the ratio of the GDP deflator at market prices
(ONS YBGB, quarterly, 2022=100) averaged over each financial year's four quarters; years the
packaged series does not cover are refused, naming the years it does.

Intervals. Counts are Poisson: the cost of one category's count n at unit cost c has the exact
(Garwood) interval of n times c; a sum over categories, Σ cᵢnᵢ, has the Fay-Feuer gamma
interval for a weighted sum of Poisson counts (:func:`analysis.intervals.weighted_poisson_ci`,
which is Garwood x c for a single category). This covers the year-to-year chance in the count,
not the error in the unit costs, which is stated separately as the range from every crime
costed at its category's low to its high bound.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError

SOURCE_PRICE_YEAR = 2015  # Research Report 99 prices: 2015/16
SOURCE_NAME = (
    "Home Office, The economic and social costs of crime, second edition (Heeks, Reed, "
    "Tafsiri and Prince, Research Report 99, July 2018), Table 1, 2015/16 prices"
)
DEFLATOR_NAME = (
    "GDP deflator at market prices (ONS YBGB, 2022=100, release 30 June 2025), averaged over "
    "the four quarters of each financial year"
)
UNIT_COST_COLUMNS = (
    "category",
    "unit_cost_gbp",
    "unit_cost_low",
    "unit_cost_high",
    "price_year",
    "costed",
    "source",
)
BY_KEYS = ("district", "category", "month")
_COSTS = "costs/unit_costs_ho2018.csv"
_MAP = "costs/category_map.csv"
_DEFLATOR = "costs/gdp_deflator_quarters.csv"


# -- price years --------------------------------------------------------------------------
def price_year_label(year: int) -> str:
    """2015 -> '2015/16' (a financial year named by the year it starts in)."""
    return f"{int(year)}/{(int(year) + 1) % 100:02d}"


def _parse_price_year(value, where: str) -> int:
    """An int (2015), '2015', '2015/16' or '2015-16' -> 2015."""
    text = str(value).strip()
    head = text.replace("-", "/").split("/")[0]
    try:
        year = int(float(head))
    except ValueError:
        raise HarmscopeError(
            f"price year {text!r} is not a year",
            where=where,
            fix="give the financial year as YYYY (its first year, e.g. 2024 for 2024/25) "
            "or 'YYYY/YY'",
        ) from None
    if "/" in text.replace("-", "/"):
        tail = text.replace("-", "/").split("/")[1]
        if tail and int(tail) % 100 != (year + 1) % 100:
            raise HarmscopeError(
                f"price year {text!r} is not a financial year",
                where=where,
                fix="write it as 'YYYY/YY' with consecutive years, e.g. '2024/25'",
            )
    return year


@lru_cache(maxsize=1)
def _deflators_cached() -> pd.DataFrame:
    from harmscope.reference._files import read_table

    q = read_table(_DEFLATOR, {"quarter": "string", "index": "float64", "source": "string"})
    parts = q["quarter"].str.extract(r"^(\d{4}) Q([1-4])$")
    q["year"], q["q"] = parts[0].astype(int), parts[1].astype(int)
    # a financial year y runs April y to March y+1: quarters 2-4 of y and quarter 1 of y+1
    q["fy"] = np.where(q["q"] == 1, q["year"] - 1, q["year"])
    fy = q.groupby("fy").agg(index=("index", "mean"), quarters=("index", "size")).reset_index()
    fy = fy[fy.quarters == 4].rename(columns={"fy": "year"})
    fy["financial_year"] = fy["year"].map(price_year_label)
    fy["source"] = q["source"].iloc[0]
    return fy[["year", "financial_year", "index", "quarters", "source"]].reset_index(drop=True)


def deflators() -> pd.DataFrame:
    """The financial-year deflator: year, financial_year, index (mean of its 4 quarters),
    quarters, source. Only complete financial years are listed."""
    return _deflators_cached().copy()


def latest_price_year() -> int:
    """The latest financial year the packaged deflator covers in full."""
    return int(_deflators_cached()["year"].max())


def deflator_ratio(from_year: int, to_year: int) -> float:
    """Index(to_year) / Index(from_year): multiply a cost in ``from_year`` prices by this."""
    d = _deflators_cached().set_index("year")["index"]
    for y, name in ((from_year, "the costs' price year"), (to_year, "--price-year")):
        if int(y) not in d.index:
            years = ", ".join(price_year_label(v) for v in d.index)
            raise HarmscopeError(
                f"no deflator for {price_year_label(y)} ({name}); the packaged GDP deflator "
                f"covers {years}",
                where="--price-year",
                fix=f"choose one of {int(d.index.min())}..{int(d.index.max())}, or give costs "
                "already in the year you want with --costs FILE and no --price-year",
            )
    return float(d[int(to_year)] / d[int(from_year)])


# -- the packaged Home Office table -------------------------------------------------------
def ho_unit_costs() -> pd.DataFrame:
    """The Home Office unit costs as packaged (one row per Home Office offence type), with
    each value's status and source."""
    from harmscope.reference._files import read_table

    return read_table(
        _COSTS,
        {
            "ho_offence": "string",
            "unit_cost": "float64",
            "police_cost": "float64",
            "cjs_cost": "float64",
            "price_year": "Int64",
            "status": "string",
            "source": "string",
            "note": "string",
        },
        unique="ho_offence",
    )


def category_map() -> pd.DataFrame:
    """How each police.uk category is costed: its sub-groups, the Home Office offence type
    each takes the cost of (blank: none published) and its role (mix, bound or none)."""
    from harmscope.reference._files import read_table

    return read_table(
        _MAP,
        {
            "category": "string",
            "subgroup": "string",
            "ho_offence": "string",
            "role": "string",
            "note": "string",
        },
    )


def _mixed_row(cat: str, part: pd.DataFrame, costs: pd.Series, vol: pd.Series) -> dict:
    """Central, low and high cost of one category from its mapping rows."""
    mix = part[part.role == "mix"]
    c = mix.ho_offence.map(lambda o: costs.get(o, 0.0) if isinstance(o, str) else 0.0)
    v = mix.subgroup.map(lambda s: float(vol.get(s, np.nan)))
    if v.isna().any() or float(v.sum()) <= 0:
        raise HarmscopeError(
            f"category {cat!r}: a mix sub-group has no volume in offences/subgroups.csv",
            where=_MAP,
            fix="name sub-groups exactly as in offences/subgroups.csv",
        )
    central = float((c * v).sum() / v.sum())
    # the range of the components: a mix component with no published cost counts at 0
    costed = list(c) + [costs[o] for o in part.ho_offence.dropna() if o in costs.index]
    shares = ", ".join(
        f"{s} {vi / v.sum():.1%} x £{ci:,.0f}" for s, vi, ci in zip(mix.subgroup, v, c, strict=True)
    )
    derivation = (
        f"volume-weighted mean of its components ({shares})"
        if len(mix) > 1
        else f"the unit cost of {mix.ho_offence.iloc[0]}"
    )
    return {
        "category": cat,
        "unit_cost_gbp": central,
        "unit_cost_low": float(min(costed)),
        "unit_cost_high": float(max(costed)),
        "costed": True,
        "derivation": derivation,
    }


def _packaged_unit_costs() -> pd.DataFrame:
    """The 14 police.uk categories costed from the packaged tables, in 2015/16 prices."""
    from harmscope.reference.offences import POLICE_CATEGORIES, load_subgroups

    ho = ho_unit_costs()
    costs = ho.set_index("ho_offence")["unit_cost"]
    status = ho.set_index("ho_offence")["status"]
    vol = load_subgroups().set_index("subgroup")["volume_ew"]
    cmap = category_map()
    rows = []
    for cat in POLICE_CATEGORIES:
        part = cmap[cmap.category == cat]
        if part.empty or (part.role == "none").all():
            note = part.note.dropna().iloc[0] if len(part) and part.note.notna().any() else ""
            rows.append(
                {
                    "category": cat,
                    "unit_cost_gbp": 0.0,
                    "unit_cost_low": 0.0,
                    "unit_cost_high": 0.0,
                    "costed": False,
                    "derivation": f"no published unit cost: {note}".rstrip(": "),
                    "status": "no published unit cost",
                }
            )
            continue
        row = _mixed_row(cat, part, costs, vol)
        used = [o for o in part.ho_offence.dropna() if o in status.index]
        unverified = [o for o in used if status[o] == "unverified"]
        row["status"] = (
            "uses unverified value(s): " + ", ".join(unverified)
            if unverified
            else "published-secondary"
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    out["price_year"] = SOURCE_PRICE_YEAR
    out["source"] = SOURCE_NAME + "; mapping and volumes in reference/data/costs/category_map.csv"
    return out


# -- a user's replacement table -----------------------------------------------------------
def _bool_cell(value, line: int, where: str) -> bool:
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y"):
        return True
    if text in ("false", "0", "no", "n"):
        return False
    raise HarmscopeError(
        f"line {line}, column costed: {value!r} is not true or false",
        where=where,
        fix="write true (a published cost) or false (no published cost, unit cost 0)",
    )


def _number_cell(value, line: int, col: str, where: str) -> float:
    try:
        x = float(str(value).replace(",", "").replace("£", "").strip())
    except ValueError:
        x = float("nan")
    if not np.isfinite(x) or x < 0:
        raise HarmscopeError(
            f"line {line}, column {col}: {value!r} is not a non-negative number of pounds",
            where=where,
            fix=f"write {col} as a number such as 14050 (0 where there is no published cost)",
        )
    return x


def _read_costs_file(path: str | Path) -> pd.DataFrame:
    """A user's unit-cost table (the columns of :data:`UNIT_COST_COLUMNS`), checked: every
    error names the file, line and column and says how to fix it."""
    from harmscope.reference.offences import POLICE_CATEGORIES

    where = str(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as e:
        raise HarmscopeError(
            f"cannot be read as a CSV table ({type(e).__name__})",
            where=where,
            fix="give a UTF-8 CSV with the header " + ",".join(UNIT_COST_COLUMNS),
        ) from None
    missing = [c for c in UNIT_COST_COLUMNS if c not in raw.columns]
    if missing:
        raise HarmscopeError(
            f"lacks column(s) {', '.join(missing)}",
            where=where,
            fix="the header must hold "
            + ",".join(UNIT_COST_COLUMNS)
            + " (harmscope harm --pounds --json shows the packaged table)",
        )
    rows, years = [], set()
    for i, r in raw.iterrows():
        line = int(i) + 2
        cat = r["category"].strip()
        if cat not in POLICE_CATEGORIES:
            raise HarmscopeError(
                f"line {line}, column category: {cat!r} is not a police.uk category",
                where=where,
                fix="use one of: " + "; ".join(POLICE_CATEGORIES),
            )
        vals = {c: _number_cell(r[c], line, c, where) for c in UNIT_COST_COLUMNS[1:4]}
        if not vals["unit_cost_low"] <= vals["unit_cost_gbp"] <= vals["unit_cost_high"]:
            raise HarmscopeError(
                f"line {line}: unit_cost_low <= unit_cost_gbp <= unit_cost_high does not hold",
                where=where,
                fix="put the central cost between its low and high bounds",
            )
        years.add(_parse_price_year(r["price_year"], f"{where}, line {line}, column price_year"))
        if not r["source"].strip():
            raise HarmscopeError(
                f"line {line}, column source: empty",
                where=where,
                fix="name the publication, table and page each cost comes from",
            )
        costed = _bool_cell(r["costed"], line, where)
        rows.append({"category": cat, **vals, "costed": costed, "source": r["source"].strip()})
    out = pd.DataFrame(rows)
    dup = out.category[out.category.duplicated()].tolist()
    absent = [c for c in POLICE_CATEGORIES if c not in set(out.category)]
    if dup or absent:
        raise HarmscopeError(
            (f"repeats {', '.join(sorted(set(dup)))}" if dup else "")
            + ("; " if dup and absent else "")
            + (f"has no row for {', '.join(absent)}" if absent else ""),
            where=where,
            fix="give exactly one row per police.uk category (costed=false, 0, where none is "
            "published)",
        )
    if len(years) != 1:
        raise HarmscopeError(
            f"holds several price years ({', '.join(map(price_year_label, sorted(years)))})",
            where=where,
            fix="give every cost in one price year",
        )
    out["price_year"] = years.pop()
    out["derivation"] = "user-supplied"
    out["status"] = "user-supplied"
    return out


def unit_costs(price_year: int | None = None, costs_file: str | Path | None = None) -> pd.DataFrame:
    """One row per police.uk category: category, unit_cost_gbp, unit_cost_low,
    unit_cost_high, price_year (label, e.g. '2015/16'), costed, source; and derivation,
    status, price_year_start and deflator_ratio.

    ``price_year``: the financial year to express costs in (its first calendar year, 2024 =
    2024/25); None keeps the table's own year (2015/16 for the packaged Home Office table).
    ``costs_file``: a CSV with the same columns replacing the packaged table.
    """
    table = _read_costs_file(costs_file) if costs_file is not None else _packaged_unit_costs()
    base = int(table["price_year"].iloc[0])
    target = base if price_year is None else _parse_price_year(price_year, "--price-year")
    ratio = 1.0 if target == base else deflator_ratio(base, target)
    for col in ("unit_cost_gbp", "unit_cost_low", "unit_cost_high"):
        table[col] = table[col].astype(float) * ratio
    table["price_year"] = price_year_label(target)
    table["price_year_start"] = target
    table["deflator_ratio"] = ratio
    cols = list(UNIT_COST_COLUMNS) + ["derivation", "status", "price_year_start", "deflator_ratio"]
    return table[cols].reset_index(drop=True)


# -- harm in pounds -----------------------------------------------------------------------
def _check_by(by) -> list[str]:
    keys = [by] if isinstance(by, str) else list(by or [])
    keys = ["district" if k == "area" else k for k in keys]
    bad = [k for k in keys if k not in BY_KEYS]
    if bad or not keys:
        raise HarmscopeError(
            f"cannot group by {', '.join(bad) or '(nothing)'}",
            where="by",
            fix="give one or more of district (or area), category, month",
        )
    return [k for k in BY_KEYS if k in keys]


def _intervals(df: pd.DataFrame, alpha: float) -> pd.DataFrame:
    """cost_ci_low/high (Fay-Feuer over the categories pooled; Garwood x c for one) and the
    harm interval the same way."""
    from harmscope.analysis.intervals import weighted_poisson_ci

    lo, hi = weighted_poisson_ci(df["cost_gbp"], df["cost_w2"], df["cost_w_max"], alpha)
    df["cost_ci_low"], df["cost_ci_high"] = lo, hi
    lo, hi = weighted_poisson_ci(df["harm"], df["harm_w2"], df["w_max"], alpha)
    df["harm_ci_low"], df["harm_ci_high"] = lo, hi
    return df


_SUMS = {
    "count": ("count", "sum"),
    "costed_count": ("costed_count", "sum"),
    "harm": ("harm", "sum"),
    "harm_w2": ("harm_w2", "sum"),
    "w_max": ("w_max", "max"),
    "cost_gbp": ("cost_gbp", "sum"),
    "cost_w2": ("cost_w2", "sum"),
    "cost_w_max": ("cost_w_max", "max"),
    "cost_low": ("cost_low", "sum"),
    "cost_high": ("cost_high", "sum"),
}
# The columns of every harm-in-pounds table (privacy/costs.py protects each as a count-derived
# column, all but `count` itself).
OUTPUT_COLUMNS = [
    "count",
    "costed_count",
    "cost_gbp",
    "cost_ci_low",
    "cost_ci_high",
    "cost_low",
    "cost_high",
    "harm",
    "harm_ci_low",
    "harm_ci_high",
]


def _rollup(cube: pd.DataFrame, keys: list[str], alpha: float) -> pd.DataFrame:
    if keys:
        out = cube.groupby(keys, as_index=False, dropna=False).agg(**_SUMS)
    else:
        out = pd.DataFrame([{k: cube[c].agg(f) for k, (c, f) in _SUMS.items()}])
    out = _intervals(out, alpha)
    return out[keys + OUTPUT_COLUMNS].reset_index(drop=True)


def _cube(store, scope, weights, costs: pd.DataFrame, months: bool) -> pd.DataFrame:
    """count and harm by district (x month) x category from the query layer, costed."""
    from harmscope.store.queries import scope as q

    keys = {"district": q.CUBE_KEYS["district"]}
    if months:
        keys["month"] = q.CUBE_KEYS["month"]
    keys["category"] = q.CUBE_KEYS["category"]
    cube = q.weighted_cube(store, scope.where, scope.params, weights, keys)
    c = costs.set_index("category")
    cube["unit_cost_gbp"] = cube.category.map(c.unit_cost_gbp).fillna(0.0)
    cube["costed"] = cube.category.map(c.costed).fillna(False).astype(bool)
    cube["costed_count"] = np.where(cube.costed, cube["count"], 0)
    cube["cost_gbp"] = cube["count"] * cube.unit_cost_gbp
    cube["cost_w2"] = cube["count"] * cube.unit_cost_gbp**2
    cube["cost_w_max"] = cube.unit_cost_gbp
    cube["cost_low"] = cube["count"] * cube.category.map(c.unit_cost_low).fillna(0.0)
    cube["cost_high"] = cube["count"] * cube.category.map(c.unit_cost_high).fillna(0.0)
    return cube


def _district_names(df: pd.DataFrame) -> pd.DataFrame:
    from harmscope.reference import load_lad

    names = load_lad().set_index("lad_code")["lad_name"]
    df.insert(1, "district_name", df["district"].map(names).fillna(df["district"]))
    return df


def _method(costs: pd.DataFrame, wlabel: str, costs_file) -> str:
    year = costs["price_year"].iloc[0]
    ratio = float(costs["deflator_ratio"].iloc[0])
    source = f"the user's unit-cost table {costs_file}" if costs_file is not None else SOURCE_NAME
    infl = (
        f"Costs are inflated from their price year to {year} prices by the ratio of the "
        f"{DEFLATOR_NAME} (x{ratio:.4f})."
        if ratio != 1.0
        else f"Costs are in {year} prices, the year of the source table (not inflated)."
    )
    return (
        f"Harm in pounds = recorded crimes x the average cost of one crime of that kind, from "
        f"{source}. A police.uk category that pools several offence types takes the "
        "volume-weighted mean of their costs (England and Wales volumes); offence types with "
        "no published cost count at 0. "
        f"{infl} Intervals (95%) treat each count as Poisson: Garwood's exact interval times "
        "the unit cost for one category, the Fay-Feuer gamma interval for a sum over "
        "categories; they cover chance variation in the counts only. The unit costs' own "
        "uncertainty is shown apart as a range: every crime costed at its category's cheapest "
        "component (low) or dearest (high). Harm in sentence-days beside it uses "
        f"{wlabel}. Police-recorded crime only: unreported crime, and crime police.uk does not "
        "show, are not costed."
    )


def harm_in_pounds(
    store,
    *,
    area: str,
    date_from=None,
    date_to=None,
    by=("category",),
    price_year: int | None = None,
    costs_file: str | Path | None = None,
    scheme: str = "css",
    weights=None,
    alpha: float = 0.05,
) -> Result:
    """The cost of recorded crime in pounds by district, category and/or month, beside harm
    in sentence-days (``scheme`` css or chi, or ``weights``: a weights file or frame as
    :func:`analysis.harm.resolve_weights` takes).

    ``table``: one row per ``by`` group with count, costed_count, cost_gbp (+ cost_ci_low/
    high), cost_low/cost_high (the unit-cost range), harm (+ harm_ci_low/high).
    ``tables``: by_category and by_district (always), unit_costs (the costs used), uncosted
    (categories with no published cost and their counts).
    """
    from harmscope.analysis.harm import require_area, resolve_scope, resolve_weights
    from harmscope.analysis.harm.scope import scheme_name
    from harmscope.store.queries import scope as q

    keys = _check_by(by)
    weights_given = weights
    scope = resolve_scope(area, date_from, date_to)
    require_area(scope, "harm in pounds needs an area")
    weights, wlabel = resolve_weights(scheme, weights)
    costs = unit_costs(price_year, costs_file)
    held = q.crime_types_held(store, scope.where, scope.params)
    unknown = sorted(set(held) - set(costs.category))
    if unknown:
        raise HarmscopeError(
            f"the store holds crime type(s) with no unit-cost row: {', '.join(unknown)}",
            where=str(costs_file or _COSTS),
            fix="add a row for each (costed=false, 0, where no cost is published)",
        )
    cube = _cube(store, scope, weights, costs, "month" in keys)
    months = q.months_held(store, scope.where, scope.params)
    table = _rollup(cube, keys, alpha)
    by_cat = _rollup(cube, ["category"], alpha).sort_values("cost_gbp", ascending=False)
    by_cat = by_cat.merge(
        costs[["category", "unit_cost_gbp", "unit_cost_low", "unit_cost_high", "costed"]],
        on="category",
        how="left",
    )
    placed = cube.dropna(subset=["district"])
    by_district = _district_names(_rollup(placed, ["district"], alpha))
    if "district" in keys:
        table = _district_names(table)
    total = _rollup(cube, [], alpha).iloc[0]
    uncosted = by_cat.loc[~by_cat.costed.astype(bool), ["category", "count"]]
    notes = _notes(cube, uncosted, costs, months)
    summary = {
        "area": scope.label,
        "months": len(months),
        "first_month": months[0] if months else None,
        "last_month": months[-1] if months else None,
        "price_year": costs["price_year"].iloc[0],
        "deflator_ratio": float(costs["deflator_ratio"].iloc[0]),
        "count": int(total["count"]),
        "costed_count": int(total["costed_count"]),
        "cost_gbp": float(total["cost_gbp"]),
        "cost_gbp_ci": [float(total["cost_ci_low"]), float(total["cost_ci_high"])],
        "cost_gbp_range": [float(total["cost_low"]), float(total["cost_high"])],
        "harm": float(total["harm"]),
        "harm_ci": [float(total["harm_ci_low"]), float(total["harm_ci_high"])],
        "scheme": scheme_name(scheme, weights_given),
        "uncosted_categories": uncosted.category.tolist(),
    }
    return Result(
        table=table,
        summary=summary,
        method=_method(costs, wlabel, costs_file),
        tables={
            "by_category": by_cat.reset_index(drop=True),
            "by_district": by_district.sort_values("cost_gbp", ascending=False).reset_index(
                drop=True
            ),
            "unit_costs": costs,
            "uncosted": uncosted.reset_index(drop=True),
        },
        notes=notes,
        title=f"Harm in pounds: {scope.label}",
    )


def _notes(cube: pd.DataFrame, uncosted: pd.DataFrame, costs: pd.DataFrame, months) -> list[str]:
    notes = []
    if len(uncosted):
        listed = "; ".join(f"{r.category} {int(r.count):,}" for r in uncosted.itertuples())
        notes.append(
            f"No published unit cost, so not in the pounds (costed at 0): {listed} crimes."
        )
    flagged = costs[costs.status.str.startswith("uses unverified")]
    if len(flagged):
        notes.append(
            "Some unit costs could not be checked against the report's own text and are "
            "marked unverified in reference/data/costs: "
            + "; ".join(
                f"{r.category} ({r.status[len('uses unverified value(s): ') :]})"
                for r in flagged.itertuples()
            )
            + ". Replace them with --costs FILE if you hold the report."
        )
    unplaced = int(cube.loc[cube.district.isna(), "count"].sum())
    if unplaced:
        notes.append(
            f"{unplaced:,} crimes could not be placed in a district: they are in the totals "
            "and category figures but not in the district table."
        )
    if len(months) and len(months) < 12:
        notes.append(f"Only {len(months)} months are held: the totals are not a full year.")
    return notes
