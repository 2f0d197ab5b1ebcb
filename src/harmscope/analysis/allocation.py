"""How to split a budget between Community Safety Partnerships by a needs formula anyone can
check (`harmscope allocate`).

The formula. For each CSP *i* and need component *k* (harm, population, young people,
deprivation, rurality), ``s[i,k]`` is the CSP's share of the area's total of that component.
With weights ``w[k]`` rescaled to sum to 1, the CSP's need share is ``n[i] = Σ_k w[k] s[i,k]``
and its unconstrained amount is ``budget × n[i]``.

Floors and damping. Every CSP gets at least ``floor_pct`` % of an equal split
(``budget / CSPs``); with a current allocation, no CSP's share moves by more than
``damping_pct`` % of its current share (current amounts rescaled to this budget). The
constrained amounts are ``a[i] = clip(λ × budget × n[i], lower[i], upper[i])`` with the one λ
that makes them add up to the budget (found by bisection: the sum is increasing in λ), so a
CSP held at a floor or a cap gives or takes the difference from all the others in proportion
to their need. Amounts are rounded to the penny by the largest-remainder method, so they add
up to the budget exactly.

Sensitivity. The allocation is run again with each weight 25% higher and 25% lower (one at a
time, weights rescaled) and with the Cambridge Crime Harm Index instead of the ONS Crime
Severity Score; ``amount_low``/``amount_high`` are the smallest and largest amount over these
runs and the central one. They are the range that choices of the formula make, not a
statistical interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from harmscope.analysis.result import Result
from harmscope.errors import HarmscopeError
from harmscope.reference._files import read_table
from harmscope.reference.tables import csp_key

COMPONENTS = ("harm", "population", "young_people", "deprivation", "rurality")
# the raw column of the components table each component's share is taken of
RAW_COLUMN = {
    "harm": "harm",
    "population": "population",
    "young_people": "young_people",
    "deprivation": "deprived_population",
    "rurality": "rural_population",
}
WEIGHTS_FILE = "allocation/weights.csv"
AGE_FILE = "population/lad_age_2019.csv.gz"
SENSITIVITY_STEP = 0.25
DEPRIVED_DECILES = (1, 2)
DEFAULT_FLOOR_PCT = 50.0
DEFAULT_DAMPING_PCT = 10.0
DEFAULT_YOUNG_AGES = (10, 24)


# -- inputs ---------------------------------------------------------------------------------
def load_component_weights(path: str | Path | None = None, **overrides: float) -> pd.DataFrame:
    """The component weights: the packaged defaults (reference/data/allocation/weights.csv),
    or a user's CSV with ``component,weight[,why,source]``; ``overrides`` (component=weight)
    replace single weights. Returns component, weight (as given), share (rescaled to sum to
    1), why, source, one row per component."""
    if path is None:
        table = read_table(WEIGHTS_FILE, {"component": "string", "weight": "float64"})
    else:
        table = _user_csv(path, ["component", "weight"], "--weights")
        table["weight"] = pd.to_numeric(table["weight"], errors="coerce")
    table["component"] = table["component"].astype(str).str.strip().str.lower()
    unknown = sorted(set(table.component) - set(COMPONENTS))
    if unknown:
        raise HarmscopeError(
            f"unknown component(s) {', '.join(unknown)}",
            where=str(path or WEIGHTS_FILE),
            fix="use " + ", ".join(COMPONENTS),
        )
    table = table.set_index("component").reindex(list(COMPONENTS))
    table["weight"] = table["weight"].fillna(0.0).astype(float)
    for col in ("why", "source"):
        if col not in table:
            table[col] = ""
        table[col] = table[col].fillna("").astype(str)
    for comp, value in overrides.items():
        if value is not None:
            table.loc[comp, "weight"] = float(value)
            table.loc[comp, "source"] = "given on the command line (policy choice)"
    bad = table[~np.isfinite(table.weight) | (table.weight < 0)]
    if len(bad) or table.weight.sum() <= 0:
        raise HarmscopeError(
            "weights must be numbers of 0 or more, and not all 0",
            where=str(path or "weights"),
            fix="give each component a weight such as 0.4 (they are rescaled to sum to 1)",
        )
    table["share"] = table.weight / table.weight.sum()
    return table.reset_index()[["component", "weight", "share", "why", "source"]]


def _user_csv(path: str | Path, required: Sequence[str], where: str) -> pd.DataFrame:
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as e:
        raise HarmscopeError(
            f"cannot be read as a CSV ({type(e).__name__})",
            where=f"{where} {p}",
            fix=f"give a UTF-8 CSV with the columns {', '.join(required)}",
        ) from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing or df.empty:
        raise HarmscopeError(
            f"lacks the column(s) {', '.join(missing)}" if missing else "has no rows",
            where=f"{where} {p}",
            fix=f"give a CSV with the columns {', '.join(required)} and one row per CSP",
        )
    return df


def area_districts(area: str) -> tuple[str, list[str]]:
    """(label, GSS codes of the districts) of a force, county, district(s) or named CSP."""
    from harmscope.analysis.harm.scope import resolve_scope
    from harmscope.reference import lad_codes_for_force

    scope = resolve_scope(area)
    codes = scope.lad_codes if scope.lad_codes is not None else []
    if scope.lad_codes is None and scope.force:
        codes = sorted(lad_codes_for_force(scope.force))
    if not codes:
        raise HarmscopeError(
            f"no districts are known for {area!r}",
            where="--area",
            fix="give a force whose districts geography/lad.csv lists, a county or districts",
        )
    return scope.label, list(codes)


def csp_units(
    lad_codes: Sequence[str], csps: str | Path | None = None
) -> tuple[pd.DataFrame, list[str]]:
    """The funding units: csp, lad_codes (list). From a user's CSV (csp,lad_codes with
    ``|``-separated GSS codes), else the current CSPs of reference/data/geography/csp.csv that
    lie inside the area (a county-wide CSP that contains district CSPs is left out: it is an
    umbrella, not a unit funded beside them), else one unit per district (announced).
    Every district of the area must fall in exactly one unit."""
    from harmscope.reference import load_csps, load_lad

    lad = load_lad().set_index("lad_code")
    area = set(lad_codes)
    notes: list[str] = []
    if csps is not None:
        df = _user_csv(csps, ["csp", "lad_codes"], "--csps")
        units = [(str(r.csp), _codes(r.lad_codes)) for r in df.itertuples()]
        notes.append(f"CSPs and their districts from {csps}.")
    else:
        ref = load_csps()
        ref = ref[ref.status.fillna("").str.lower() == "current"]
        cand = [(str(r.csp_name), _codes(r.lad_codes)) for r in ref.itertuples()]
        cand = [(n, c) for n, c in cand if c and set(c) <= area]
        umbrella = [n for n, c in cand if any(m != n and set(o) < set(c) for m, o in cand)]
        units = [(n, c) for n, c in cand if n not in umbrella]
        if umbrella:
            notes.append(f"Left out as umbrellas over the district CSPs: {', '.join(umbrella)}.")
        covered = {c for _, cs in units for c in cs}
        rest = sorted(area - covered)
        if rest:
            units += [(f"{lad.loc[c, 'lad_name']} (district)", [c]) for c in rest]
            notes.append(
                f"{len(rest)} district(s) have no named CSP in the packaged list; each is "
                "treated as its own unit (give --csps FILE to group them as they are funded)."
            )
        if units and not rest:
            notes.append("CSPs: the current partnerships in reference/data/geography/csp.csv.")
    _check_units(units, area, lad)
    frame = pd.DataFrame({"csp": [n for n, _ in units], "lad_codes": [c for _, c in units]})
    return frame, notes


def _codes(value) -> list[str]:
    return [c.strip() for c in str(value or "").split("|") if c.strip() and c.strip() != "<NA>"]


def _check_units(units, area: set[str], lad: pd.DataFrame) -> None:
    seen: dict[str, str] = {}
    for name, codes in units:
        for c in codes:
            if c not in area:
                raise HarmscopeError(
                    f"CSP {name!r} names district {c}, which is not in the area",
                    where="--csps",
                    fix="list only the GSS codes of the area's districts",
                )
            if c in seen:
                raise HarmscopeError(
                    f"district {c} is in both {seen[c]!r} and {name!r}",
                    where="--csps",
                    fix="put each district in one CSP",
                )
            seen[c] = name
    missing = sorted(area - set(seen))
    if missing:
        names = ", ".join(f"{c} {lad.loc[c, 'lad_name']}" for c in missing)
        raise HarmscopeError(
            f"district(s) {names} are in no CSP",
            where="--csps",
            fix="give every district of the area to one CSP",
        )


def district_needs(
    lad_codes: Sequence[str], young_ages: tuple[int, int] = DEFAULT_YOUNG_AGES
) -> pd.DataFrame:
    """Per district: population (mid-2019, summed over its 2011 LSOAs), young_people (mid-2019,
    ages ``young_ages`` inclusive), deprived_population (residents of LSOAs in IMD 2019
    deciles 1-2), rural_population (residents of rural LSOAs, RUC 2011) and imd_known (the
    share of residents in LSOAs with an IMD decile: 0 in Wales)."""
    from harmscope.reference import load_lsoa11

    lo, hi = int(young_ages[0]), int(young_ages[1])
    if not 0 <= lo <= hi <= 90:
        raise HarmscopeError(
            f"young ages {lo}-{hi} are not a range of ages 0 to 90",
            where="--young-ages",
            fix="give two ages such as 10-24",
        )
    lsoa = load_lsoa11()
    lsoa = lsoa[lsoa.lad_code.isin(list(lad_codes))].copy()
    pop = lsoa.population_2019.astype(float)
    lsoa["population"] = pop
    lsoa["deprived_population"] = pop.where(lsoa.imd_decile.isin(DEPRIVED_DECILES), 0.0)
    lsoa["rural_population"] = pop.where(lsoa.urban_rural == "rural", 0.0)
    lsoa["imd_known"] = pop.where(lsoa.imd_decile.notna(), 0.0)
    out = lsoa.groupby("lad_code")[
        ["population", "deprived_population", "rural_population", "imd_known"]
    ].sum()
    out["imd_known"] = out.imd_known / out.population
    ages = read_table(AGE_FILE, {"lad_code": "string", "all_ages": "Int64"}, unique="lad_code")
    cols = [f"age_{a}" if a < 90 else "age_90_plus" for a in range(lo, hi + 1)]
    young = ages.set_index("lad_code")[cols].apply(pd.to_numeric).sum(axis=1)
    out["young_people"] = young.reindex(out.index)
    if out.young_people.isna().any():
        gone = ", ".join(out.index[out.young_people.isna()])
        raise HarmscopeError(
            f"no population by age for district(s) {gone}",
            where=AGE_FILE,
            fix="add their rows to the age table (HARMSCOPE_REFERENCE_DIR) or set the "
            "young_people weight to 0",
        )
    return out.reset_index()


# -- the formula on a frame (no store) ------------------------------------------------------
def component_shares(components: pd.DataFrame) -> pd.DataFrame:
    """Each CSP's share of each component's total (columns ``share_<component>``)."""
    out = pd.DataFrame(index=components.index)
    for comp in COMPONENTS:
        col = components[RAW_COLUMN[comp]].astype(float)
        total = col.sum()
        out[f"share_{comp}"] = col / total if total > 0 else 0.0
    return out


def need_share(components: pd.DataFrame, weights: dict[str, float]) -> pd.Series:
    """Σ_k w[k] × share[i,k] with the weights rescaled to sum to 1."""
    shares = component_shares(components)
    total = sum(weights.values())
    return sum((weights.get(c, 0.0) / total) * shares[f"share_{c}"] for c in COMPONENTS)


def bounds(
    n: int,
    budget: float,
    floor_pct: float,
    damping_pct: float | None,
    current_share: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) amounts: the floor, and with a current allocation its damping band."""
    floor = np.full(n, budget / n * floor_pct / 100.0)
    lower, upper = floor.copy(), np.full(n, np.inf)
    if current_share is not None and damping_pct is not None:
        cur = budget * np.asarray(current_share, float)
        d = damping_pct / 100.0
        lower = np.maximum(floor, cur * (1 - d))
        upper = np.maximum(cur * (1 + d), floor)  # a floor above the cap wins
    if lower.sum() > budget * (1 + 1e-12):
        raise HarmscopeError(
            f"the floors and damping together need {lower.sum():,.2f}, more than the budget",
            where="--floor/--damping",
            fix="lower --floor or widen --damping",
        )
    return lower, upper


def solve_lambda(raw: np.ndarray, budget: float, lower: np.ndarray, upper: np.ndarray) -> float:
    """The λ with ``Σ clip(λ × raw, lower, upper) = budget`` (bisection; the sum is
    non-decreasing in λ)."""
    raw = np.asarray(raw, float)

    def total(lam: float) -> float:
        return float(np.clip(lam * raw, lower, upper).sum())

    lo, hi = 0.0, 1.0
    while total(hi) < budget and hi < 1e12:
        hi *= 2.0
    for _ in range(200):
        mid = (lo + hi) / 2.0
        if total(mid) < budget:
            lo = mid
        else:
            hi = mid
    return hi


def constrained_amounts(
    raw: np.ndarray, budget: float, lower: np.ndarray, upper: np.ndarray
) -> np.ndarray:
    """``clip(λ × raw, lower, upper)`` with the λ that makes the amounts sum to ``budget``."""
    return np.clip(solve_lambda(raw, budget, lower, upper) * np.asarray(raw, float), lower, upper)


def round_pennies(amounts: np.ndarray, budget: float) -> np.ndarray:
    """Amounts to the penny, adding up to ``budget`` exactly (largest-remainder method)."""
    target = int(round(budget * 100))
    pence = np.asarray(amounts, float) * 100.0
    base = np.floor(pence + 1e-9).astype(np.int64)
    rest = target - int(base.sum())
    frac = pence - base
    order = np.argsort(-frac, kind="stable") if rest >= 0 else np.argsort(frac, kind="stable")
    step = 1 if rest >= 0 else -1
    for k in range(abs(rest)):
        base[order[k % len(base)]] += step
    return base / 100.0


def allocate_frame(
    components: pd.DataFrame,
    weights: dict[str, float],
    budget: float,
    *,
    floor_pct: float = DEFAULT_FLOOR_PCT,
    damping_pct: float | None = DEFAULT_DAMPING_PCT,
    current_share: np.ndarray | None = None,
) -> pd.DataFrame:
    """The formula on a components frame (one row per CSP with the raw columns of
    ``RAW_COLUMN``): need_share, unconstrained, lower, upper, amount (pennies), share."""
    need = need_share(components, weights).to_numpy(float)
    lower, upper = bounds(len(need), budget, floor_pct, damping_pct, current_share)
    scaled = solve_lambda(need * budget, budget, lower, upper) * need * budget
    exact = np.clip(scaled, lower, upper)
    amount = round_pennies(exact, budget)
    out = pd.DataFrame(
        {
            "need_share": need,
            "unconstrained": need * budget,
            "lower": lower,
            "upper": upper,
            "amount": amount,
        },
        index=components.index,
    )
    out["share"] = out.amount / budget
    out["floor_binding"] = scaled < lower  # held up at its floor (or damping's lower edge)
    out["cap_binding"] = scaled > upper  # held down by damping
    return out


def scenario_weights(
    weights: dict[str, float], step: float = SENSITIVITY_STEP
) -> dict[str, dict[str, float]]:
    """The weight scenarios: central, then each non-zero weight up and down by ``step``."""
    out = {"central": dict(weights)}
    for comp in COMPONENTS:
        if weights.get(comp, 0.0) <= 0:
            continue
        for sign, label in ((1, "+"), (-1, "-")):
            w = dict(weights)
            w[comp] = weights[comp] * (1 + sign * step)
            out[f"{comp} {label}{step:.0%}"] = w
    return out


# -- the analysis over the store ------------------------------------------------------------
def read_current(path: str | Path, names: Sequence[str]) -> np.ndarray:
    """A user's current allocation (CSV csp,amount) as amounts in the order of ``names``."""
    df = _user_csv(path, ["csp", "amount"], "--current")
    amounts = pd.to_numeric(df.amount.str.replace(r"[£,\s]", "", regex=True), errors="coerce")
    if amounts.isna().any() or (amounts < 0).any() or amounts.sum() <= 0:
        raise HarmscopeError(
            "every amount must be a number of 0 or more, and not all 0",
            where=f"--current {path}",
            fix="write amounts as plain numbers, e.g. 125000",
        )
    given = dict(zip(df.csp.map(csp_key), amounts, strict=True))
    missing = [n for n in names if csp_key(n) not in given]
    extra = sorted(set(given) - {csp_key(n) for n in names})
    if missing or extra:
        raise HarmscopeError(
            f"the CSPs do not match the allocation's: missing {missing or 'none'}, unknown "
            f"{extra or 'none'}",
            where=f"--current {path}",
            fix="name each CSP of the allocation once (names as in the allocation table)",
        )
    return np.array([given[csp_key(n)] for n in names], float)


def _harm_by_district(store, area, date_from, date_to, scheme) -> tuple[pd.Series, dict, list[str]]:
    from harmscope.analysis.harm import harm_by_area

    res = harm_by_area(
        store, level="district", area=area, date_from=date_from, date_to=date_to, scheme=scheme
    )
    totals = res.tables["totals"]
    harm = totals.groupby("area_code")["harm"].sum()
    harm.attrs["harm_w2"] = totals.groupby("area_code")["harm_w2"].sum()
    return harm, dict(res.summary), list(res.notes)


def _components(
    units: pd.DataFrame, needs: pd.DataFrame, harm: dict[str, pd.Series]
) -> pd.DataFrame:
    """One row per CSP: raw component values summed over its districts."""
    by_lad = needs.set_index("lad_code")
    rows = []
    for r in units.itertuples():
        sub = by_lad.loc[list(r.lad_codes)]
        row = {"csp": r.csp, "lad_codes": "|".join(r.lad_codes)}
        for col in ("population", "young_people", "deprived_population", "rural_population"):
            row[col] = float(sub[col].sum())
        for scheme, series in harm.items():
            row["harm" if scheme == "css" else f"harm_{scheme}"] = float(
                series.reindex(list(r.lad_codes)).fillna(0.0).sum()
            )
        rows.append(row)
    return pd.DataFrame(rows)


def allocate(
    store,
    *,
    budget: float,
    area: str | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    weights: str | Path | pd.DataFrame | None = None,
    harm_scheme: str = "css",
    csps: str | Path | None = None,
    current: str | Path | None = None,
    floor_pct: float = DEFAULT_FLOOR_PCT,
    damping_pct: float = DEFAULT_DAMPING_PCT,
    young_ages: tuple[int, int] = DEFAULT_YOUNG_AGES,
    harm: dict[str, pd.Series] | None = None,
) -> Result:
    """Split ``budget`` between the CSPs of ``area`` by the needs formula (module docstring).

    ``weights``: a CSV path or a frame from :func:`load_component_weights` (default: the
    packaged weights). ``harm``: district harm by scheme ({'css': Series lad_code -> harm,
    'chi': ...}) to use instead of the store's exact figures (the publishing path passes the
    figures an audience may see). ``table``: one row per CSP with its components, share,
    amount, range over the sensitivity runs and the comparisons; ``tables``: components,
    scenarios (long), weights.
    """
    from harmscope.analysis.harm.scope import area_or_only_force
    from harmscope.store.queries.catalog import forces_held

    _check_budget(budget, floor_pct, damping_pct)
    area, area_note = area_or_only_force(area, lambda: forces_held(store), where="--area")
    if area is None:
        raise HarmscopeError(
            "the store holds no street crimes", where="store", fix="run `harmscope ingest` first"
        )
    label, lad_codes = area_districts(area)
    units, notes = csp_units(lad_codes, csps)
    notes = [*([area_note] if area_note else []), *notes]
    wt = weights if isinstance(weights, pd.DataFrame) else load_component_weights(weights)
    w = dict(zip(wt.component, wt.weight.astype(float), strict=True))
    other = "chi" if harm_scheme == "css" else "css"
    harm_in, summary_h = _district_harm(
        store, area, date_from, date_to, harm_scheme, other, harm, notes
    )
    needs = district_needs(lad_codes, young_ages)
    if w["deprivation"] > 0 and (needs.imd_known < 1).any():
        raise HarmscopeError(
            "IMD 2019 (England only) does not cover every district of the area",
            where="deprivation component",
            fix="set the deprivation weight to 0 (--weight-deprivation 0) for Welsh districts",
        )
    comp = _components(units, needs, {"css": harm_in[harm_scheme], "chi": harm_in[other]})
    if harm_scheme == "chi":  # the central harm is CHI: keep 'harm' the central one
        comp = comp.rename(columns={"harm": "harm_css", "harm_chi": "harm"})
    cur = read_current(current, list(comp.csp)) if current is not None else None
    cur_share = cur / cur.sum() if cur is not None else None
    damp = damping_pct if cur is not None else None
    central = allocate_frame(
        comp, w, budget, floor_pct=floor_pct, damping_pct=damp, current_share=cur_share
    )
    scen = _scenarios(comp, w, budget, floor_pct, damp, cur_share, harm_scheme, other)
    table = _table(comp, central, scen, budget, cur)
    summary = _summary(
        table, scen, wt, budget, label, summary_h, floor_pct, damp, harm_scheme, young_ages
    )
    return Result(
        table=table,
        summary=summary,
        charts={"allocation": allocation_chart(table)},
        method=method_text(harm_scheme, floor_pct, damp, young_ages),
        tables={
            "components": pd.concat([comp, component_shares(comp)], axis=1),
            "scenarios": scen,
            "weights": wt,
        },
        notes=notes,
        title=f"CSP funding allocation, {label}",
    )


def _check_budget(budget: float, floor_pct: float, damping_pct: float) -> None:
    if not (isinstance(budget, (int, float)) and math.isfinite(budget) and budget > 0):
        raise HarmscopeError(
            f"budget {budget!r} is not a positive amount", where="--budget", fix="e.g. 1000000"
        )
    if not 0 <= floor_pct <= 100:
        raise HarmscopeError(
            f"floor {floor_pct}% is outside 0-100", where="--floor", fix="e.g. 50 (per cent)"
        )
    if damping_pct is not None and damping_pct < 0:
        raise HarmscopeError(
            f"damping {damping_pct}% is negative", where="--damping", fix="e.g. 10 (per cent)"
        )


def _district_harm(store, area, date_from, date_to, central, other, given, notes):
    """District harm under both weightings (the store's, or ``given``), and the harm
    summary of the central one (months covered)."""
    out: dict[str, pd.Series] = {}
    summary: dict = {}
    for scheme in (central, other):
        series, s, n = _harm_by_district(store, area, date_from, date_to, scheme)
        if scheme == central:
            summary = s
            summary["harm_share_se_max"] = _share_se_max(series)
            notes.extend(x for x in n if x not in notes)
        out[scheme] = series
        if given and scheme in given:
            out[scheme] = given[scheme]
    if not summary.get("count"):
        raise HarmscopeError(
            "no street crimes in the area and months asked for",
            where="--from/--to",
            fix="choose months the store holds (harmscope status)",
        )
    return out, summary


def _share_se_max(harm: pd.Series) -> float:
    """The largest Poisson standard error of a district's share of harm (delta method:
    var(H_i/H) = ((1-p)^2 var H_i + p^2 var(H-H_i)) / H^2, var H = Σ w² n)."""
    v = harm.attrs.get("harm_w2")
    total = float(harm.sum())
    if v is None or total <= 0:
        return float("nan")
    p = harm / total
    var_i = v.reindex(harm.index).astype(float)
    var = ((1 - p) ** 2 * var_i + p**2 * (float(var_i.sum()) - var_i)) / total**2
    return float(np.sqrt(var).max())


def _scenarios(comp, w, budget, floor_pct, damp, cur_share, central, other) -> pd.DataFrame:
    """Every sensitivity run, long: scenario, csp, need_share, amount, share."""
    runs = []
    for name, ws in scenario_weights(w).items():
        runs.append((name, comp, ws))
    swapped = comp.rename(columns={"harm": f"harm_{central}", f"harm_{other}": "harm"})
    runs.append((f"harm weighted by {other.upper()}", swapped, w))
    rows = []
    for name, frame, ws in runs:
        res = allocate_frame(
            frame, ws, budget, floor_pct=floor_pct, damping_pct=damp, current_share=cur_share
        )
        rows.append(
            pd.DataFrame(
                {
                    "scenario": name,
                    "csp": frame.csp,
                    "need_share": res.need_share,
                    "amount": res.amount,
                    "share": res.share,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def _table(comp, central, scen, budget, cur) -> pd.DataFrame:
    rng = scen.groupby("csp", sort=False)["amount"].agg(["min", "max"])
    table = pd.concat([comp[["csp", "lad_codes"]], component_shares(comp), central], axis=1)
    table["amount_low"] = table.csp.map(rng["min"]).to_numpy()
    table["amount_high"] = table.csp.map(rng["max"]).to_numpy()
    pop_share = comp.population / comp.population.sum()
    table["per_head_amount"] = round_pennies((pop_share * budget).to_numpy(), budget)
    table["difference_from_per_head"] = (table.amount - table.per_head_amount).round(2)
    if cur is not None:
        table["current_amount"] = cur
        table["current_share"] = cur / cur.sum()
        table["change_from_current"] = (table.amount - cur).round(2)
        table["change_pct"] = (table.share / table.current_share - 1) * 100
    table["amount_per_head"] = table.amount / comp.population
    return (
        table.drop(columns=["lower", "upper"])
        .sort_values("amount", ascending=False)
        .reset_index(drop=True)
    )


def _summary(table, scen, wt, budget, label, hs, floor_pct, damp, scheme, young_ages) -> dict:
    widest = table.assign(width=table.amount_high - table.amount_low).sort_values("width").iloc[-1]
    moved = table.loc[(table.amount - table.per_head_amount).abs().idxmax()]
    return {
        "area": label,
        "budget": float(budget),
        "total_allocated": float(round(table.amount.sum(), 2)),
        "csps": int(len(table)),
        "first_month": hs.get("first_month"),
        "last_month": hs.get("last_month"),
        "months": hs.get("months"),
        "harm_scheme": scheme,
        "weights": {r.component: round(float(r.share), 6) for r in wt.itertuples()},
        "floor_pct": float(floor_pct),
        "damping_pct": damp,
        "young_ages": f"{young_ages[0]}-{young_ages[1]}",
        "scenarios": int(scen.scenario.nunique()),
        "harm_share_se_max": hs.get("harm_share_se_max"),
        "largest_amount_csp": str(table.iloc[0].csp),
        "largest_amount": float(table.iloc[0].amount),
        "widest_range_csp": str(widest.csp),
        "widest_range": [float(widest.amount_low), float(widest.amount_high)],
        "floors_binding": int(table.floor_binding.sum()),
        "caps_binding": int(table.cap_binding.sum()),
        "furthest_from_per_head_csp": str(moved.csp),
        "furthest_from_per_head": float(moved.amount - moved.per_head_amount),
    }


def allocation_chart(table: pd.DataFrame) -> dict:
    """A Vega-Lite bar of each CSP's amount with its sensitivity range as an error bar."""
    data = table[["csp", "amount", "amount_low", "amount_high"]].to_dict(orient="records")
    y = {"field": "csp", "type": "nominal", "sort": "-x", "title": None}
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": "Allocation by CSP, with the range over the sensitivity runs",
        "data": {"values": data},
        "layer": [
            {
                "mark": "bar",
                "encoding": {
                    "y": y,
                    "x": {"field": "amount", "type": "quantitative", "title": "amount (£)"},
                    "tooltip": [
                        {"field": "csp", "type": "nominal"},
                        {"field": "amount", "type": "quantitative", "format": ",.2f"},
                        {"field": "amount_low", "type": "quantitative", "format": ",.2f"},
                        {"field": "amount_high", "type": "quantitative", "format": ",.2f"},
                    ],
                },
            },
            {
                "mark": {"type": "rule", "color": "black"},
                "encoding": {
                    "y": y,
                    "x": {"field": "amount_low", "type": "quantitative"},
                    "x2": {"field": "amount_high"},
                },
            },
        ],
    }


def method_text(scheme: str, floor_pct: float, damping_pct: float | None, young_ages) -> str:
    damp = (
        f"with the current allocation given, no CSP's share moves by more than {damping_pct:g}% "
        "of its current share (current amounts rescaled to this budget)"
        if damping_pct is not None
        else "no damping (no current allocation was given)"
    )
    return (
        "Needs formula: each CSP's share of five components (harm: severity-weighted "
        f"police.uk street crime and ASB, {scheme.upper()}, in the months shown; residents, "
        f"ONS mid-2019; young people aged {young_ages[0]} to {young_ages[1]}, ONS mid-2019 by "
        "single year of age; residents of LSOAs in the two most deprived IMD 2019 deciles; "
        "residents of rural LSOAs, RUC 2011, as a sparsity cost uplift), combined with the "
        "stated weights rescaled to sum to 1. Floors and damping: every CSP gets at least "
        f"{floor_pct:g}% of an equal split; {damp}. The amounts are clip(λ × need, floor, cap) "
        "with the λ that spends the budget exactly, so a CSP held at its floor or cap takes "
        "from or gives to the others in proportion to their need; rounded to the penny by the "
        "largest-remainder method. Ranges (amount_low to amount_high): the allocation rerun "
        "with each weight 25% higher and 25% lower, one at a time, and with the other harm "
        "weighting (CSS or CHI); they show how much the formula's choices matter and are not "
        "a statistical interval. Not in the ranges: chance variation in the crime counts "
        "(harm_share_se_max is the largest Poisson standard error of a district's share of "
        "harm), population change since 2019, and crime that was not recorded or not placed in a district. "
        "Compared with an equal amount per resident and, if given, the current allocation."
    )
